//! The step kinds that change the cluster, and the `Step` enum that names every kind.

pub use super::checks::*;
use super::{Duration, Target};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;

/// One step of a scenario, written as a one-key map: `- apply: {...}`, `- wait: {...}`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub enum Step {
    /// Create or update objects from fixture files or inline manifests (server-side apply).
    Apply(ApplyStep),
    /// Delete objects by name or selector, waiting until they are gone unless told otherwise.
    Delete(DeleteStep),
    /// Change `spec.replicas` through the `/scale` subresource, like `kubectl scale`.
    Scale(ScaleStep),
    /// Patch an object (strategic, merge or JSON patch), or set container images.
    Patch(PatchStep),
    /// Roll a Deployment or StatefulSet back, like `kubectl rollout undo`.
    Rollout(RolloutStep),
    /// Wait until a condition holds, like `kubectl wait`.
    Wait(WaitStep),
    /// Run a command in a container and check its output and exit code.
    Exec(ExecStep),
    /// Run SQL against a database pod and check rows or the error it returns.
    Sql(SqlStep),
    /// Resolve a name from inside the cluster and compare it with live pod and service IPs.
    Dns(DnsStep),
    /// Send an HTTP GET to a pod's port through a port-forward.
    Http(HttpStep),
    /// Check live objects against a partial object, a count, or absence.
    Assert(AssertStep),
    /// Check the order and counts of what happened, from the recorded timeline.
    Timeline(TimelineStep),
    /// Save a field of an object (a volumeName, a uid) under a name, for `${name}` later.
    Capture(CaptureStep),
    /// Put a named mark on the timeline, for `timeline: {since: <mark>}`.
    Mark(String),
    /// Mark a node unschedulable.
    Cordon(NodeStep),
    /// Mark a node schedulable again.
    Uncordon(NodeStep),
    /// Cordon a node and evict its pods through the Eviction API, respecting PodDisruptionBudgets.
    Drain(DrainStep),
    /// Check that something does not change for a while (e.g. scaling halts).
    Observe(ObserveStep),
}

impl Step {
    /// The step's kind as written in the file, e.g. `apply`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Step::Apply(_) => "apply",
            Step::Delete(_) => "delete",
            Step::Scale(_) => "scale",
            Step::Patch(_) => "patch",
            Step::Rollout(_) => "rollout",
            Step::Wait(_) => "wait",
            Step::Exec(_) => "exec",
            Step::Sql(_) => "sql",
            Step::Dns(_) => "dns",
            Step::Http(_) => "http",
            Step::Assert(_) => "assert",
            Step::Timeline(_) => "timeline",
            Step::Capture(_) => "capture",
            Step::Mark(_) => "mark",
            Step::Cordon(_) => "cordon",
            Step::Uncordon(_) => "uncordon",
            Step::Drain(_) => "drain",
            Step::Observe(_) => "observe",
        }
    }

    /// Every step kind as written in files, for "did you mean" hints and the schema.
    pub const KIND_NAMES: &'static [&'static str] = &[
        "apply", "delete", "scale", "patch", "rollout", "wait", "exec", "sql", "dns", "http",
        "assert", "timeline", "capture", "mark", "cordon", "uncordon", "drain", "observe",
    ];
}

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

pub(super) fn yes() -> bool {
    true
}

/// `scale`: set the replica count through the `/scale` subresource.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScaleStep {
    /// A StatefulSet, Deployment or ReplicaSet, e.g. `sts/web`.
    pub target: Target,
    pub replicas: i32,
}

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

/// Names a node directly or as the node a pod runs on.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeStep {
    /// The node's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The node this pod is scheduled on, e.g. `pod/web-0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_of: Option<Target>,
}

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

/// `capture`: save one field of one object under a name.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CaptureStep {
    /// The object to read, e.g. `pvc/data-web-0`.
    pub target: Target,
    /// A dotted path into the object, e.g. `spec.volumeName`, `status.containerStatuses[0].restartCount`.
    pub field: String,
    /// The variable name; later steps write `${name}`.
    #[serde(rename = "as")]
    pub name: String,
}
