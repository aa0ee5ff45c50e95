//! `http`: GET a path on a pod's port through a port-forward and check status and body.

use super::{KindRules, Named};
use crate::model::{Duration, PathTemplate, Target, TextMatch};
use crate::validate::StepCheck;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `http`: GET a path on a pod's port through a port-forward.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HttpStep {
    pub target: Target,
    pub port: u16,
    /// The path and query to GET, e.g. `/healthz` or `/whoami?pod=${pod}`.
    #[serde(default)]
    #[schemars(with = "String")]
    pub path: PathTemplate,
    #[serde(default = "http_ok")]
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<TextMatch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eventually: Option<Duration>,
}

fn http_ok() -> u16 {
    200
}

impl KindRules for super::Http {
    fn summary(http: &HttpStep) -> String {
        format!("http {}:{}{}", http.target, http.port, http.path)
    }

    fn targets(http: &HttpStep) -> Named<'_> {
        vec![(&http.target, &["target"])]
    }

    fn time_limit(http: &HttpStep, default: std::time::Duration) -> std::time::Duration {
        http.eventually
            .map_or(default, |eventually| eventually.as_std())
    }

    fn check(http: &HttpStep, check: &mut StepCheck<'_, '_>) {
        check.pods_only(&http.target, "target", "http");
        check.text("body", http.body.as_ref());
    }
}
