//! Step kinds, one file each: the body a kind deserializes into (its schema), its meaning
//! checks, its summary, the objects it names and its time limit.
//!
//! The registry [`step_kinds!`](crate::step_kinds) lists every kind once, as `module: Marker(Body)`.
//! Generated from it: the `mod` line of each kind's file, the re-export of its types, its marker
//! type with its [`StepKind`] (name and body), the [`Step`] enum, [`Step::KIND_NAMES`] and the
//! dispatch to each kind's [`KindRules`]; a crate that runs steps generates its own modules and
//! dispatch from the same list. Adding a kind is its file here, its file where it runs, and one
//! line in the registry.
//!
//! [`Step`]: crate::model::Step
//! [`Step::KIND_NAMES`]: crate::model::Step::KIND_NAMES

mod output;

use crate::model::Target;
use crate::validate::StepCheck;

/// A step kind's identity, generated from the registry for its marker type (`kinds::Scale`):
/// two kinds may share a body (`cordon` and `uncordon`), and a crate that runs steps implements
/// its own trait for the same markers.
pub trait StepKind {
    /// What the kind's key holds in a scenario file, e.g. [`ScaleStep`].
    type Body;

    /// The kind's key as written in files, e.g. `scale`: the name of its module.
    const NAME: &'static str;
}

/// The objects a step names, each with the path of its field in the step's body.
pub type Named<'a> = Vec<(&'a Target, &'static [&'static str])>;

/// The language side of a step kind, written in the kind's file.
pub trait KindRules: StepKind {
    /// A short description, e.g. `scale sts/web to 5`.
    fn summary(body: &Self::Body) -> String;

    /// Every object the step names, with the path of its field in the step's body.
    fn targets(_body: &Self::Body) -> Named<'_> {
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
/// `/// description` `module: Variant(Body),`, in the order the schema lists them. The module is
/// the kind's file and its key in scenario files; the variant names the kind's marker type in
/// [`kinds`](crate::kinds) and its [`Step`](crate::model::Step) variant (serde's camelCase of it
/// is the module's name, which a unit test checks).
#[macro_export]
macro_rules! step_kinds {
    ($callback:ident) => {
        $callback! {
            /// Create or update objects from fixture files or inline manifests (server-side apply).
            apply: Apply(ApplyStep),
            /// Delete objects by name or selector, waiting until they are gone unless told otherwise.
            delete: Delete(DeleteStep),
            /// Change `spec.replicas` through the `/scale` subresource, like `kubectl scale`.
            scale: Scale(ScaleStep),
            /// Patch an object (strategic, merge or JSON patch), or set container images.
            patch: Patch(PatchStep),
            /// Roll a Deployment or StatefulSet back, like `kubectl rollout undo`.
            rollout: Rollout(RolloutStep),
            /// Wait until a condition holds, like `kubectl wait`.
            wait: Wait(WaitStep),
            /// Run a command in a container and check its output and exit code.
            exec: Exec(ExecStep),
            /// Run a program on the machine running petset (helm, kubectl, a script in the suite)
            /// against the scenario's cluster, and check its output and exit code.
            command: Command(CommandStep),
            /// Run SQL against a database pod and check rows or the error it returns.
            sql: Sql(SqlStep),
            /// Resolve a name from inside the cluster and compare it with live pod and service IPs.
            dns: Dns(DnsStep),
            /// Send an HTTP GET to a pod's port through a port-forward.
            http: Http(HttpStep),
            /// Check live objects against a partial object, a count, or absence.
            assert: Assert(AssertStep),
            /// Check the order and counts of what happened, from the recorded timeline.
            timeline: Timeline(TimelineStep),
            /// Save a field of an object (a volumeName, a uid) under a name, for `${name}` later.
            capture: Capture(CaptureStep),
            /// Put a named mark on the timeline, for `timeline: {since: <mark>}`.
            mark: Mark(MarkStep),
            /// Mark a node unschedulable.
            cordon: Cordon(NodeStep),
            /// Mark a node schedulable again.
            uncordon: Uncordon(NodeStep),
            /// Cordon a node and evict its pods through the Eviction API, respecting PodDisruptionBudgets.
            drain: Drain(DrainStep),
            /// Check that something does not change for a while (e.g. scaling halts).
            observe: Observe(ObserveStep),
        }
    };
}

macro_rules! declare_kinds {
    ($( $(#[$doc:meta])* $module:ident: $variant:ident($body:ident), )*) => {
        $( mod $module; )*

        /// The types step bodies are written in, every kind's file's public items.
        pub mod bodies {
            // A kind may have no types of its own (`uncordon` reads `cordon`'s body).
            $(
                #[allow(unused_imports)]
                pub use super::$module::*;
            )*
        }

        pub use bodies::*;

        $(
            $(#[$doc])*
            pub struct $variant;

            impl StepKind for $variant {
                type Body = $body;
                const NAME: &'static str = stringify!($module);
            }
        )*
    };
}

step_kinds!(declare_kinds);

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
