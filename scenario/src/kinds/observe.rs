//! `observe`: watch the target for a while and fail if it changes in a way it must not.

use super::{KindRules, Named};
use crate::model::{Duration, Target};
use crate::validate::StepCheck;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `observe`: watch the target for a while and fail if it changes in a way it must not.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ObserveStep {
    pub target: Target,
    /// How long to watch.
    pub during: Duration,
    /// The target must stay absent the whole time.
    #[serde(default)]
    pub absent: bool,
    /// The number of matching objects must stay exactly this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// Every matching object must keep containing this partial object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keeps: Option<Value>,
}

impl KindRules for super::Observe {
    fn summary(observe: &ObserveStep) -> String {
        format!("observe {} for {}", observe.target, observe.during)
    }

    fn targets(observe: &ObserveStep) -> Named<'_> {
        vec![(&observe.target, &["target"])]
    }

    /// The observation itself, plus the default for reading the state it starts from.
    fn time_limit(observe: &ObserveStep, default: std::time::Duration) -> std::time::Duration {
        observe.during.as_std().saturating_add(default)
    }

    fn check(observe: &ObserveStep, check: &mut StepCheck<'_, '_>) {
        if !observe.absent && observe.count.is_none() && observe.keeps.is_none() {
            check.whole(
                "this `observe` checks nothing",
                "give `absent: true`, `count: N` or `keeps: {...}`",
            );
        }
        if let Some(keeps) = &observe.keeps {
            check.operators(&["keeps"], keeps);
        }
        if observe.absent && (observe.count.is_some() || observe.keeps.is_some()) {
            check.whole(
                "`absent: true` contradicts `count`/`keeps`",
                "an absent object has no count or fields; keep one expectation",
            );
        }
    }
}
