//! `patch`: change an object, like `kubectl patch` or `kubectl set image`.

use super::{KindRules, Named};
use crate::model::Target;
use crate::validate::StepCheck;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Which patch format a `patch` step sends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum PatchType {
    /// Strategic merge patch (kubectl's default): lists of containers merge by name.
    #[default]
    Strategic,
    /// JSON merge patch (RFC 7386).
    Merge,
    /// JSON patch (RFC 6902): a list of operations.
    Json,
}

/// `patch`: change an object, like `kubectl patch` or `kubectl set image`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PatchStep {
    pub target: Target,
    #[serde(default, rename = "type")]
    pub patch_type: PatchType,
    /// The patch body (for `json`, the list of operations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch: Option<Value>,
    /// Container name -> image, like `kubectl set image sts/web nginx=nginx:1.27`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub image: BTreeMap<String, String>,
    /// Recorded as the `kubernetes.io/change-cause` annotation, shown by rollout history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_cause: Option<String>,
}

impl KindRules for super::Patch {
    fn summary(patch: &PatchStep) -> String {
        format!("patch {}", patch.target)
    }

    fn targets(patch: &PatchStep) -> Named<'_> {
        vec![(&patch.target, &["target"])]
    }

    fn check(patch: &PatchStep, check: &mut StepCheck<'_, '_>) {
        if patch.patch.is_none() && patch.image.is_empty() {
            check.whole(
                "this `patch` changes nothing",
                "give `patch: {...}` or `image: {container: image:tag}`",
            );
        }
        if patch.patch_type == PatchType::Json {
            if patch.patch.as_ref().is_some_and(|p| !p.is_array()) {
                check.error(
                    &["patch"],
                    "a JSON patch is a list of operations",
                    "write `patch: [{op: replace, path: /spec/replicas, value: 3}]`, or use `type: merge`",
                );
            }
            if !patch.image.is_empty() {
                check.error(
                    &["image"],
                    "`image` cannot be combined with `type: json`",
                    "set images with a strategic or merge patch",
                );
            }
        }
        check.single(&patch.target, "target", "patch");
    }
}
