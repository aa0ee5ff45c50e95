//! `wait`: block until the target satisfies a condition, like `kubectl wait`.

use super::{KindRules, Named};
use crate::model::{Duration, Kind, Target};
use crate::validate::StepCheck;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `wait`: block until the target satisfies a condition, like `kubectl wait`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WaitStep {
    pub target: Target,
    #[serde(rename = "for")]
    pub until: WaitFor,
    /// With a selector target: exactly this many objects must match, as well as satisfy `for`
    /// (required for `ready`, `rolledOut`, `bound`, `phase`, `condition` and `matches`, so that
    /// a wait cannot pass on whatever few objects are left).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// Deadline for this wait (default 2m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
}

/// A condition to wait for.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub enum WaitFor {
    /// Pods: Running with condition Ready. StatefulSets, Deployments, ReplicaSets: every desired
    /// replica ready. A selector target: every matching object ready (and at least one exists).
    Ready,
    /// StatefulSets and Deployments: the rollout is complete (all replicas updated and ready,
    /// StatefulSet currentRevision equals updateRevision).
    RolledOut,
    /// PersistentVolumeClaims: phase Bound.
    Bound,
    /// The target exists.
    Exists,
    /// The target no longer exists (all matching objects are gone).
    Deleted,
    /// `status.phase` equals this value, e.g. `Running`, `Pending`, `Released`.
    Phase(String),
    /// A status condition has this status, e.g. `{type: Available, status: "True"}`.
    Condition(ConditionMatch),
    /// Every matching object contains this partial object (see `assert`).
    Matches(Value),
    /// Exactly this many objects match the selector.
    Count(u32),
    /// At least this many matching pods are Ready (or objects are ready, as for `ready`).
    ReadyCount(u32),
}

/// A status condition, by type and status.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConditionMatch {
    #[serde(rename = "type")]
    pub condition_type: String,
    #[serde(default = "condition_true")]
    pub status: String,
}

fn condition_true() -> String {
    "True".to_owned()
}

impl WaitFor {
    /// The condition as words: `ready`, `in phase Released`, `with condition Available=True`.
    pub fn describe(&self) -> String {
        match self {
            WaitFor::Ready => "ready".to_owned(),
            WaitFor::RolledOut => "rolled out".to_owned(),
            WaitFor::Bound => "bound".to_owned(),
            WaitFor::Exists => "existing".to_owned(),
            WaitFor::Deleted => "deleted".to_owned(),
            WaitFor::Phase(phase) => format!("in phase {phase}"),
            WaitFor::Condition(c) => format!("with condition {}={}", c.condition_type, c.status),
            WaitFor::Matches(_) => "matching the partial object".to_owned(),
            WaitFor::Count(n) => format!("counting {n}"),
            WaitFor::ReadyCount(n) => format!("with at least {n} ready"),
        }
    }
}

impl KindRules for super::Wait {
    fn summary(wait: &WaitStep) -> String {
        format!("wait {} for {}", wait.target, wait.until.describe())
    }

    fn targets(wait: &WaitStep) -> Named<'_> {
        vec![(&wait.target, &["target"])]
    }

    fn time_limit(wait: &WaitStep, default: std::time::Duration) -> std::time::Duration {
        wait.timeout.map_or(default, |timeout| timeout.as_std())
    }

    fn check(wait: &WaitStep, check: &mut StepCheck<'_, '_>) {
        let kind = wait.target.kind;
        match &wait.until {
            WaitFor::RolledOut if !matches!(kind, Kind::StatefulSet | Kind::Deployment) => check
                .error(
                    &["for"],
                    format!("a {} has no rollout to wait for", kind.name()),
                    "wait for `rolledOut` on sts or deploy; use `ready` for pods",
                ),
            WaitFor::Bound if kind != Kind::PersistentVolumeClaim => check.error(
                &["for"],
                format!("a {} is never `bound`", kind.name()),
                "wait for `bound` on pvc; use `{phase: Bound}` for a pv",
            ),
            WaitFor::Count(_) | WaitFor::ReadyCount(_) if wait.target.is_single() => check.error(
                &["for"],
                "counting needs a set of objects, not one named object",
                "target `{kind: pod, selector: app=web}`",
            ),
            _ => {}
        }
        if let WaitFor::Matches(partial) = &wait.until {
            check.operators(&["for", "matches"], partial);
        }
        check_count(wait, check);
    }
}

/// A selector wait that checks every object must also say how many it expects: without a count
/// it passes on whatever few objects are left; a single named target has nothing to count.
fn check_count(wait: &WaitStep, check: &mut StepCheck<'_, '_>) {
    let every_object = matches!(
        wait.until,
        WaitFor::Ready
            | WaitFor::RolledOut
            | WaitFor::Bound
            | WaitFor::Phase(_)
            | WaitFor::Condition(_)
            | WaitFor::Matches(_)
    );
    if wait.target.is_single() && wait.count.is_some() {
        check.error(
            &["count"],
            "`count` needs a set of objects, not one named object",
            "drop `count`, or target `{kind: pod, selector: app=web}`",
        );
    } else if !wait.target.is_single() && every_object && wait.count.is_none() {
        check.error(
            &["target"],
            "a wait over a selector must say how many objects it expects",
            "add `count: N` beside `for`: the wait then also needs exactly N matching objects",
        );
    }
}
