//! Readiness and liveness probes on the scaled clock: each probe first runs `initialDelaySeconds`
//! after its container started and then every `periodSeconds`; readiness turns on after
//! `successThreshold` passes in a row and off after `failureThreshold` failures in a row, and
//! `failureThreshold` liveness failures in a row restart the container.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::config::Fault;
use super::exec::{CLIENT_BINARY, script};
use super::exec_probe::ExecProbe;
use super::files::{StoreKey, locate};
use super::objects::{arr, int, name, s, uid};
use super::state::{ProbeRecord, Runtime, Shared};
use crate::handle::lock;

/// What one tick of probing decided for a pod.
pub(crate) enum Verdict {
    /// Nothing beyond the readiness now recorded.
    Keep,
    /// The liveness probe failed often enough: restart the container.
    Restart,
}

/// One probe's spec with the kubelet's defaults.
struct ProbeSpec<'a> {
    probe: &'a Value,
    initial: Duration,
    period: Duration,
    success_threshold: u32,
    failure_threshold: u32,
}

impl<'a> ProbeSpec<'a> {
    fn of(shared: &Shared, probe: &'a Value) -> Self {
        let count = |field: &str, default: i64| {
            u32::try_from(int(probe, field).unwrap_or(default).max(1)).unwrap_or(1)
        };
        Self {
            probe,
            initial: shared
                .config
                .spec_seconds(int(probe, "/initialDelaySeconds").unwrap_or(0)),
            period: shared
                .config
                .spec_seconds(int(probe, "/periodSeconds").unwrap_or(10).max(1)),
            success_threshold: count("/successThreshold", 1),
            failure_threshold: count("/failureThreshold", 3),
        }
    }

    /// Runs the probe (through `check`) if it is due; `Some(passed)` when it ran.
    fn run_if_due(
        &self,
        record: &mut ProbeRecord,
        started: Instant,
        check: impl FnOnce(&Value) -> bool,
    ) -> Option<bool> {
        let now = Instant::now();
        let due = *record.next.get_or_insert(started + self.initial);
        if now < due {
            return None;
        }
        record.next = Some(now + self.period);
        let passed = check(self.probe);
        if passed {
            record.successes += 1;
            record.failures = 0;
        } else {
            record.failures += 1;
            record.successes = 0;
        }
        Some(passed)
    }
}

/// One run of a probe. A database client probe is a process asking the server (see
/// [`super::exec_probe`]), whose last finished verdict counts; `exec` is the pod's record of
/// those runs.
fn probe_passes(
    shared: &Arc<Shared>,
    pod: &Value,
    probe: &Value,
    exec: &mut ExecProbe,
    exec_of: fn(&mut Runtime) -> &mut ExecProbe,
) -> bool {
    let command: Vec<&str> = arr(probe, "/exec/command")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    match command.as_slice() {
        [] => true,
        ["sh", "-c", line] => script(shared, pod, line).is_none_or(|o| o.exit_code == 0),
        ["mariadb", ..] => {
            let ignores_client = shared.config.has(Fault::ReadinessIgnoresClient) && {
                let (key, path) = locate(&shared.handle, pod, CLIENT_BINARY);
                !lock(&shared.files).exists(&key, &path)
            };
            ignores_client || super::exec_probe::passes(shared, pod, probe, exec, exec_of)
        }
        _ => true,
    }
}

/// One tick of probing for a started pod whose Running phase is already published (so Ready
/// always arrives in a later status update than Running).
pub(crate) fn probe(shared: &Arc<Shared>, pod: &Value) -> Verdict {
    let container = arr(pod, "/spec/containers")
        .first()
        .cloned()
        .unwrap_or_default();
    let running = s(pod, "/status/phase") == "Running";
    let mut pods = lock(&shared.pods);
    let Some(rt) = pods.get_mut(uid(pod)) else {
        return Verdict::Keep;
    };
    let Some(started) = rt.started else {
        return Verdict::Keep;
    };
    if rt.start_error.is_some() || !running {
        rt.ready_since = None;
        return Verdict::Keep;
    }
    match container.get("readinessProbe") {
        None => {
            rt.ready_since.get_or_insert_with(Instant::now);
        }
        Some(p) => {
            let spec = ProbeSpec::of(shared, p);
            let exec = &mut rt.readiness_exec;
            let ran = spec.run_if_due(&mut rt.readiness, started, |p| {
                probe_passes(shared, pod, p, exec, |rt| &mut rt.readiness_exec)
            });
            if ran.is_some() {
                if rt.readiness.successes >= spec.success_threshold {
                    rt.ready_since.get_or_insert_with(Instant::now);
                } else if rt.readiness.failures >= spec.failure_threshold {
                    rt.ready_since = None;
                }
            }
        }
    }
    if let Some(p) = container.get("livenessProbe") {
        let spec = ProbeSpec::of(shared, p);
        let exec = &mut rt.liveness_exec;
        let ran = spec.run_if_due(&mut rt.liveness, started, |p| {
            probe_passes(shared, pod, p, exec, |rt| &mut rt.liveness_exec)
        });
        let failed = ran == Some(false);
        if failed && rt.liveness.failures >= spec.failure_threshold {
            if shared.config.has(Fault::LivenessReplacesPod) {
                drop(pods);
                let namespace = s(pod, "/metadata/namespace");
                let _ = shared
                    .handle
                    .delete("v1", "Pod", Some(namespace), name(pod));
                return Verdict::Keep;
            }
            rt.restarts += 1;
            rt.started = Some(Instant::now());
            rt.ready_since = None;
            rt.readiness = ProbeRecord::default();
            rt.liveness = ProbeRecord::default();
            return Verdict::Restart;
        }
    }
    Verdict::Keep
}

/// The hostname a container of `pod` sees: `spec.hostname`, else the pod's name.
pub(crate) fn hostname(shared: &Shared, pod: &Value) -> String {
    let own = match s(pod, "/spec/hostname") {
        "" => name(pod),
        host => host,
    };
    let set = arr(pod, "/metadata/ownerReferences")
        .iter()
        .find(|r| s(r, "/kind") == "StatefulSet")
        .map(|r| s(r, "/name"));
    match set {
        Some(set) if shared.config.has(Fault::HostnameIsSetName) => set.to_string(),
        _ => own.to_string(),
    }
}

/// The restarted container starts from its image: a fresh filesystem.
pub(crate) fn fresh_container(shared: &Shared, pod: &Value) {
    lock(&shared.files).drop_store(&StoreKey::Container(uid(pod).to_string()));
}
