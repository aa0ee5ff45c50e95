//! `delete`: remove objects by name or selector, like `kubectl delete`.

use super::{KindRules, Named};
use crate::model::{Duration, Target};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `delete`: remove objects, like `kubectl delete`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DeleteStep {
    pub target: Target,
    /// Wait until the objects are gone (kubectl's default). Set `false` to return at once.
    #[serde(default = "yes")]
    pub wait: bool,
    /// Grace period for pods, like `--grace-period`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_period_seconds: Option<i64>,
    /// How long to wait for the objects to go (default 2m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
}

fn yes() -> bool {
    true
}

impl KindRules for super::Delete {
    fn summary(delete: &DeleteStep) -> String {
        format!("delete {}", delete.target)
    }

    fn targets(delete: &DeleteStep) -> Named<'_> {
        vec![(&delete.target, &["target"])]
    }

    fn time_limit(delete: &DeleteStep, default: std::time::Duration) -> std::time::Duration {
        delete.timeout.map_or(default, |timeout| timeout.as_std())
    }
}
