//! `apply`: create or update objects from fixture files or inline manifests.

use super::KindRules;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_saphyr::Spanned;

/// `apply`: fixture files (paths relative to `fixtures/`) and/or inline manifests.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ApplyStep {
    /// Manifest files under `fixtures/`, e.g. `web/statefulset.yaml`; multi-document files allowed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(with = "Vec<String>")]
    pub files: Vec<Spanned<String>>,
    /// Manifests written in the scenario itself.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(with = "Vec<Value>")]
    pub manifests: Vec<Spanned<Value>>,
}

impl KindRules for super::Apply {
    fn summary(apply: &ApplyStep) -> String {
        let mut parts: Vec<String> = apply.files.iter().map(|f| f.value.clone()).collect();
        if !apply.manifests.is_empty() {
            parts.push(format!("{} inline manifest(s)", apply.manifests.len()));
        }
        format!("apply {}", parts.join(", "))
    }
}
