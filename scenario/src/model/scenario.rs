//! The top level of a scenario file.

use super::{Duration, Step};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

/// One scenario: what it proves, which catalogue behaviours it covers, and its steps.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Scenario {
    /// What the scenario shows, for someone new to it.
    pub description: String,
    /// Behaviour ids from the catalogue, e.g. `STS-ORDER-1`.
    #[schemars(with = "Vec<String>")]
    pub covers: Vec<Spanned<String>>,
    /// Free-form tags, e.g. `mysql`, `slow`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// The deadline for the whole scenario, cleanup excluded.
    #[serde(default = "default_timeout")]
    pub timeout: Duration,
    /// Run alone, with no other scenario in parallel (e.g. it drains a node).
    #[serde(default)]
    pub serial: bool,
    /// What the cluster must offer; if it does not, the scenario is ignored with the reason.
    #[serde(default)]
    pub requires: Requires,
    /// Run the scenario once per combination of these values, each a trial of its own with the
    /// values as variables, e.g. `{image: [mariadb:11.4, mariadb:10.11]}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matrix: Option<super::Matrix>,
    #[schemars(with = "Vec<Step>")]
    pub steps: Vec<Spanned<Step>>,
    /// Steps that run after `steps` whatever happened (a failure, the timeout, Ctrl-C), before
    /// petset's own cleanup; their failures are reported apart from the steps' own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(with = "Vec<Step>")]
    pub finally: Vec<Spanned<Step>>,
    /// What to add to the diagnostics when the scenario fails: logs, objects, events, a
    /// program's output. Collected right after the failure, before `finally`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub on_failure: Vec<super::Collector>,
    /// The one combination of the matrix this copy runs with (set by [`Scenario::expand`]).
    #[serde(skip)]
    #[schemars(skip)]
    pub parameters: super::Parameters,
}

fn default_timeout() -> Duration {
    Duration::from_secs(300)
}

/// Cluster capabilities a scenario needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Requires {
    /// At least this many schedulable nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<u32>,
    /// A default StorageClass, so claims without a class get bound.
    #[serde(default)]
    pub default_storage_class: bool,
    /// Cluster DNS (CoreDNS or kube-dns) answering inside pods.
    #[serde(default)]
    pub cluster_dns: bool,
    /// The lowest Kubernetes minor version the scenario works on, e.g. `"1.27"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_server_version: Option<String>,
}
