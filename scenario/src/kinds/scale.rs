//! `scale`: set the replica count through the `/scale` subresource, like `kubectl scale`.

use super::{KindRules, Named};
use crate::model::{Kind, Target};
use crate::validate::StepCheck;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `scale`: set the replica count through the `/scale` subresource.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScaleStep {
    /// A StatefulSet, Deployment or ReplicaSet, e.g. `sts/web`.
    pub target: Target,
    pub replicas: i32,
}

impl KindRules for super::Scale {
    fn summary(scale: &ScaleStep) -> String {
        format!("scale {} to {}", scale.target, scale.replicas)
    }

    fn targets(scale: &ScaleStep) -> Named<'_> {
        vec![(&scale.target, &["target"])]
    }

    fn check(scale: &ScaleStep, check: &mut StepCheck<'_, '_>) {
        if !matches!(
            scale.target.kind,
            Kind::StatefulSet | Kind::Deployment | Kind::ReplicaSet
        ) {
            check.error(
                &["target"],
                format!("cannot scale a {}", scale.target.kind.name()),
                "scale works on sts, deploy and rs",
            );
        }
        if scale.replicas < 0 {
            check.error(
                &["replicas"],
                "replicas cannot be negative",
                "use 0 or more",
            );
        }
    }
}
