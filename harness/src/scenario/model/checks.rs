//! The step kinds that check the cluster: waits, commands, SQL, DNS, HTTP, assertions,
//! timeline assertions and observations.

use super::{Duration, ItemsMatch, RowsMatch, Target, TextMatch};
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

/// `exec`: run a command in a container, like `kubectl exec`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExecStep {
    /// A pod (`pod/web-0`), or a pod selector: then the command runs in each matching pod,
    /// with `${pod}` set to that pod's name.
    pub target: Target,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// The command and its arguments; use `[sh, -c, "..."]` for a shell line.
    pub command: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout: Option<TextMatch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr: Option<TextMatch>,
    /// The expected exit code (default 0).
    #[serde(default)]
    pub exit_code: i32,
    /// Retry until the expectations hold or this long has passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eventually: Option<Duration>,
    /// Save stdout (trimmed) under this name for `${name}` later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture_stdout: Option<String>,
}

/// Where a Secret holds a value.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SecretKeyRef {
    pub secret: String,
    pub key: String,
}

/// How a `sql` step reaches the server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum SqlVia {
    /// From the test machine through a port-forward to the pod.
    #[default]
    PortForward,
    /// With the `mariadb`/`mysql` client inside the target pod (in-cluster names and Services).
    Exec,
}

/// `sql`: run statements or a query against a MySQL/MariaDB pod.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SqlStep {
    /// The database pod, e.g. `pod/mysql-0` (with `via: exec`, the pod the client runs in).
    pub target: Target,
    /// The container to exec into (with `via: exec`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    #[serde(default)]
    pub via: SqlVia,
    /// With `via: exec`, the server host the client connects to, e.g. `mysql-read`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default = "mysql_port")]
    pub port: u16,
    pub user: String,
    /// Inline password; prefer `passwordFrom`. A redacting type, so that printing or
    /// serializing the step never shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<crate::sql::Password>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_from: Option<SecretKeyRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// Statements run in order before the query.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statements: Vec<String>,
    /// A query whose rows are checked against `expect`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<RowsExpect>,
    /// The server error code the statements (or query) must fail with, e.g. 1290 (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_error: Option<u16>,
    /// Re-run the query until it matches or this long has passed; the time taken is reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eventually: Option<Duration>,
    /// The name under which the time `eventually` took is reported, e.g. `replication_lag`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_as: Option<String>,
    /// Run the query over this many separate connections and check the union of their rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat: Option<u32>,
}

fn mysql_port() -> u16 {
    3306
}

/// Expected rows of a query.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RowsExpect {
    /// Rows as lists of values (compared as text; `null` is SQL NULL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<Vec<Vec<Value>>>,
    #[serde(default, rename = "match")]
    pub mode: RowsMatch,
    /// At least this many distinct rows (over all `repeat` connections).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distinct_at_least: Option<usize>,
}

/// The DNS record type a `dns` step asks for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum RecordType {
    #[default]
    A,
    #[serde(rename = "SRV")]
    Srv,
}

/// `dns`: resolve a name from inside the cluster, like `host web-0.nginx` in a throw-away pod.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DnsStep {
    /// The name to resolve, e.g. `web-0.nginx` or `nginx.${namespace}.svc.cluster.local`.
    pub name: String,
    #[serde(default, rename = "type")]
    pub record: RecordType,
    /// Resolve from this pod (exec); by default from a small probe pod petset starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Target>,
    /// Repeat for every pod matching this selector, with `${pod}` set to its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub for_each: Option<Target>,
    pub expect: DnsExpect,
    /// Retry until the answer matches or this long has passed (DNS caches lag).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eventually: Option<Duration>,
}

/// What a DNS answer must be.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub enum DnsExpect {
    /// Exactly the current IPs of these pods (ready ones, for a selector).
    PodIps(Target),
    /// Exactly the cluster IP of this Service.
    ServiceIp(Target),
    /// SRV: one target per pod, named `<pod>.<service>.<namespace>.svc.<domain>`.
    SrvTargets(Target),
    /// The name does not resolve.
    NotFound,
}

/// `http`: GET a path on a pod's port through a port-forward.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HttpStep {
    pub target: Target,
    pub port: u16,
    #[serde(default = "root_path")]
    pub path: String,
    #[serde(default = "http_ok")]
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<TextMatch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eventually: Option<Duration>,
}

fn root_path() -> String {
    "/".to_owned()
}

fn http_ok() -> u16 {
    200
}

/// `assert`: compare live objects with what is expected.
///
/// Partial objects match when every key they name matches; lists inside them match when each
/// expected element matches a distinct live element. A value may be an operator map:
/// `{$ne: X}`, `{$gt: N}`, `{$gte: N}`, `{$lt: N}`, `{$lte: N}`, `{$regex: "..."}`,
/// `{$exists: true|false}`, `{$in: [a, b]}`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AssertStep {
    pub target: Target,
    /// The target must not exist (no object matches).
    #[serde(default)]
    pub absent: bool,
    /// A partial object the single target must contain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matches: Option<Value>,
    /// Exactly this many objects match the selector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// A partial object every matching object must contain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub each: Option<Value>,
    /// Partial objects matched against the list, as `itemsMatch` says.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Value>,
    #[serde(default)]
    pub items_match: ItemsMatch,
    /// Retry until the assertion holds or this long has passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eventually: Option<Duration>,
}

/// `timeline`: assertions over everything recorded in the namespace since the start or a mark.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TimelineStep {
    /// The objects the assertions speak of, usually `{kind: pod, selector: app=web}`.
    pub target: Target,
    /// Only consider what happened after this `mark`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    pub expect: Vec<TimelineExpect>,
}

/// The state of a pod that a timeline count speaks of.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum PodState {
    /// The object exists (not yet deleted).
    #[default]
    Exists,
    /// Phase Running.
    Running,
    /// Ready condition True.
    Ready,
}

/// A bound on how many target objects were in a state at any moment.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CountBound {
    pub count: u32,
    #[serde(default)]
    pub state: PodState,
}

/// One assertion over the timeline.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub enum TimelineExpect {
    /// These objects were first created in this order.
    CreatedInOrder(Vec<String>),
    /// These objects were deleted (deletion started) in this order.
    DeletedInOrder(Vec<String>),
    /// Each pod was Ready before the next one was created (OrderedReady).
    ReadyBeforeNextCreated(Vec<String>),
    /// Each object was gone before deletion of the next one started (one at a time).
    GoneBeforeNextDeleted(Vec<String>),
    /// All these pods were created before any of them became Ready (Parallel).
    CreatedWithoutWaiting(Vec<String>),
    /// At no moment were more target objects in the state than this.
    AtMost(CountBound),
    /// At no moment (after the first time it was reached) were fewer in the state than this.
    AtLeast(CountBound),
    /// At no moment were pods with different values of this label in the state together
    /// (e.g. `pod-template-hash` for a Recreate Deployment).
    NeverOverlap(NeverOverlap),
}

/// Groups of pods, by a label's value, that must never be in a state at the same time.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NeverOverlap {
    pub label: String,
    #[serde(default)]
    pub state: PodState,
}

/// `observe`: watch the target for a while and fail if it changes in a way it must not.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ObserveStep {
    pub target: Target,
    /// How long to watch.
    pub during: Duration,
    /// The target must stay absent the whole time.
    #[serde(default)]
    pub absent: bool,
    /// The number of matching objects must stay exactly this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// Every matching object must keep containing this partial object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keeps: Option<Value>,
}
