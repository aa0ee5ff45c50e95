//! Step kinds, one file each: the body a kind deserializes into (its schema), its name, its
//! meaning checks, its summary, the objects it names and its time limit.
//!
//! The registry [`step_kinds!`](crate::step_kinds) lists every kind once; the [`Step`] enum,
//! [`Step::KIND_NAMES`] and the dispatch to each kind's [`StepKind`] are generated from it, and
//! a crate that runs steps generates its own dispatch from the same list. Adding a kind is one
//! file here, one file where it runs, and one line in the registry.
//!
//! [`Step`]: crate::model::Step
//! [`Step::KIND_NAMES`]: crate::model::Step::KIND_NAMES

mod apply;
mod assert;
mod capture;
mod command;
mod cordon;
mod delete;
mod dns;
mod drain;
mod exec;
mod http;
mod mark;
mod observe;
mod patch;
mod rollout;
mod scale;
mod sql;
mod timeline;
mod wait;

pub use apply::{Apply, ApplyStep};
pub use assert::{Assert, AssertStep};
pub use capture::{Capture, CaptureStep};
pub use command::{Command, CommandStep, RESERVED_ENV};
pub use cordon::{Cordon, NodeStep, Uncordon};
pub use delete::{Delete, DeleteStep};
pub use dns::{Dns, DnsExpect, DnsStep, RecordType};
pub use drain::{Drain, DrainStep};
pub use exec::{Exec, ExecStep};
pub use http::{Http, HttpStep};
pub use mark::{Mark, MarkStep};
pub use observe::{Observe, ObserveStep};
pub use patch::{Patch, PatchStep, PatchType};
pub use rollout::{Rollout, RolloutStep};
pub use scale::{Scale, ScaleStep};
pub use sql::{RowsExpect, SecretKeyRef, Sql, SqlStep, SqlVia};
pub use timeline::{CountBound, NeverOverlap, PodState, Timeline, TimelineExpect, TimelineStep};
pub use wait::{ConditionMatch, Wait, WaitFor, WaitStep};

use crate::model::Target;
use crate::validate::StepCheck;

/// The language side of a step kind. Implemented by a marker type per kind (`kinds::Scale`),
/// so that two kinds may share a body (`cordon` and `uncordon`) and a crate that runs steps can
/// implement its own trait for the same markers.
pub trait StepKind {
    /// What the kind's key holds in a scenario file, e.g. [`ScaleStep`].
    type Body;

    /// The kind's key as written in files, e.g. `scale`.
    const NAME: &'static str;

    /// A short description, e.g. `scale sts/web to 5`.
    fn summary(body: &Self::Body) -> String;

    /// Every object the step names, with the path of its field in the step's body.
    fn targets(_body: &Self::Body) -> Vec<(&Target, &'static [&'static str])> {
        Vec::new()
    }

    /// The objects whose last state goes into a failure's diagnostics: by default every one the
    /// step names.
    fn about(body: &Self::Body) -> Vec<Target> {
        Self::targets(body)
            .into_iter()
            .map(|(target, _)| target.clone())
            .collect()
    }

    /// The longest the step may take: its own timeout (or retry window, or observation time)
    /// where it has one, else `default`.
    fn time_limit(_body: &Self::Body, default: std::time::Duration) -> std::time::Duration {
        default
    }

    /// The meaning checks of this kind alone (targets, selectors, references and variables are
    /// checked for every kind by the caller).
    fn check(_body: &Self::Body, _check: &mut StepCheck<'_, '_>) {}

    /// The variable the step captures for `${name}` in later steps, if any.
    fn captures(_body: &Self::Body) -> Option<&str> {
        None
    }

    /// The timeline mark the step sets, if any.
    fn mark(_body: &Self::Body) -> Option<&str> {
        None
    }
}

/// The registry of step kinds: calls `$callback!` with every kind as
/// `/// description` `Variant(Body),`, in the order the schema lists them. The variant names the
/// kind's marker type in [`kinds`](crate::kinds) and its serde key (camelCase of the variant).
#[macro_export]
macro_rules! step_kinds {
    ($callback:ident) => {
        $callback! {
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
            /// Run a program on the machine running petset (helm, kubectl, a script in the suite)
            /// against the scenario's cluster, and check its output and exit code.
            Command(CommandStep),
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
            Mark(MarkStep),
            /// Mark a node unschedulable.
            Cordon(NodeStep),
            /// Mark a node schedulable again.
            Uncordon(NodeStep),
            /// Cordon a node and evict its pods through the Eviction API, respecting PodDisruptionBudgets.
            Drain(DrainStep),
            /// Check that something does not change for a while (e.g. scaling halts).
            Observe(ObserveStep),
        }
    };
}

#[cfg(test)]
mod tests {
    use crate::model::{Scenario, Step};
    use serde_json::Value;
    use std::time::Duration;

    /// Each kind's `NAME` is the key serde reads it under (the schema lists serde's keys).
    #[test]
    fn every_kind_name_is_its_key_in_files() {
        let schema = crate::schema::schema();
        let keys: Vec<&str> = schema
            .pointer("/$defs/Step/propertyNames/enum")
            .and_then(Value::as_array)
            .map(|keys| keys.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        assert_eq!(keys, Step::KIND_NAMES);
    }

    fn steps(yaml: &str) -> Vec<Step> {
        let scenario: Scenario = serde_saphyr::from_str(yaml).expect("scenario parses");
        scenario.steps.into_iter().map(|step| step.value).collect()
    }

    #[test]
    fn kinds_answer_summary_targets_and_time_limit() {
        let steps = steps(
            r#"
description: every question a step's kind answers
covers: [STS-NAME-1]
steps:
  - scale: {target: sts/web, replicas: 5}
  - dns: {name: "${pod}.nginx", from: pod/client, forEach: {kind: pod, selector: app=web}, expect: {podIps: "pod/${pod}"}}
  - observe: {target: pod/web-3, during: 10s, absent: true}
  - wait: {target: sts/web, for: rolledOut, timeout: 3m}
  - drain: {nodeOf: pod/web-0}
  - mark: start
"#,
        );
        let default = Duration::from_secs(60);
        let summaries: Vec<String> = steps.iter().map(Step::summary).collect();
        assert_eq!(
            summaries,
            [
                "scale statefulset/web to 5",
                "dns ${pod}.nginx",
                "observe pod/web-3 for 10s",
                "wait statefulset/web for rolled out",
                "drain the node of pod/web-0",
                "mark start",
            ]
        );
        let limits: Vec<u64> = steps
            .iter()
            .map(|step| step.time_limit(default).as_secs())
            .collect();
        assert_eq!(limits, [60, 60, 70, 180, 60, 60]);
        // A dns step names the pods it expects, but its diagnostics are about where it looks up.
        let dns = &steps[1];
        let named: Vec<String> = dns
            .targets()
            .iter()
            .map(|(target, path)| format!("{target} at {}", path.join(".")))
            .collect();
        assert_eq!(
            named,
            [
                "pod/client at from",
                "pods -l app=web at forEach",
                "pod/${pod} at expect.podIps"
            ]
        );
        let about: Vec<String> = dns.about().iter().map(ToString::to_string).collect();
        assert_eq!(about, ["pod/client", "pods -l app=web"]);
        assert_eq!(steps[5].mark(), Some("start"));
        assert_eq!(steps[0].captures(), None);
    }
}
