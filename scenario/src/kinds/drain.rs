//! `drain`: cordon a node and evict its pods, like `kubectl drain --ignore-daemonsets`.

use super::{KindRules, Named};
use super::cordon::{node_choice, node_name, node_of};
use crate::model::{Duration, Target};
use crate::validate::StepCheck;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `drain`: cordon a node and evict its pods, like `kubectl drain --ignore-daemonsets`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DrainStep {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_of: Option<Target>,
    /// How long evictions may keep being refused by PodDisruptionBudgets (default 2m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
}

impl KindRules for super::Drain {
    fn summary(drain: &DrainStep) -> String {
        format!("drain {}", node_name(&drain.node, &drain.node_of))
    }

    fn targets(drain: &DrainStep) -> Named<'_> {
        node_of(&drain.node_of)
    }

    fn time_limit(drain: &DrainStep, default: std::time::Duration) -> std::time::Duration {
        drain.timeout.map_or(default, |timeout| timeout.as_std())
    }

    fn check(drain: &DrainStep, check: &mut StepCheck<'_, '_>) {
        node_choice(check, drain.node.as_ref(), drain.node_of.as_ref());
    }
}
