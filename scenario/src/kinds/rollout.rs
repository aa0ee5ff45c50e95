//! `rollout`: roll back to an earlier revision, like `kubectl rollout undo --to-revision`.

use super::{KindRules, Named};
use crate::model::{Kind, Target};
use crate::validate::StepCheck;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `rollout`: roll back to an earlier revision, like `kubectl rollout undo --to-revision`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RolloutStep {
    /// The Deployment or StatefulSet to roll back, e.g. `deploy/web`.
    pub undo: Target,
    /// The revision to return to; the previous one when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_revision: Option<i64>,
}

impl KindRules for super::Rollout {
    fn summary(rollout: &RolloutStep) -> String {
        match rollout.to_revision {
            Some(revision) => format!("rollout undo {} to revision {revision}", rollout.undo),
            None => format!("rollout undo {}", rollout.undo),
        }
    }

    fn targets(rollout: &RolloutStep) -> Named<'_> {
        vec![(&rollout.undo, &["undo"])]
    }

    fn check(rollout: &RolloutStep, check: &mut StepCheck<'_, '_>) {
        if !matches!(rollout.undo.kind, Kind::Deployment | Kind::StatefulSet) {
            check.error(
                &["undo"],
                format!("cannot roll back a {}", rollout.undo.kind.name()),
                "rollout undo works on deploy and sts",
            );
        }
        if rollout.to_revision.is_some_and(|revision| revision < 1) {
            check.error(
                &["toRevision"],
                "revisions start at 1",
                "omit `toRevision` to go back one revision",
            );
        }
        check.single(&rollout.undo, "undo", "rollout");
    }
}
