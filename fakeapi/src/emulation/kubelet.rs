//! The kubelet: schedules pods onto the emulated nodes, starts them after a short delay (running
//! the start-up effects the fixtures' init containers have, and the backend's hook), publishes
//! Running and then, in a later update, Ready as the probes say (see [`super::probes`]), and
//! finishes terminating pods after their grace period on the scaled clock.

use std::collections::HashSet;
use std::sync::{Arc, Weak};
use std::time::Instant;

use serde_json::{Value, json};

use super::config::{Fault, PodInfo};
use super::exec::{CLIENT_BINARY, script};
use super::files::{StoreKey, locate};
use super::objects::{arr, deleting, int, label, name, s, uid};
use super::state::{Runtime, Shared};
use crate::handle::lock;

/// The finalizer that keeps a deleted emulated pod terminating for its grace period.
pub(crate) const FINALIZER: &str = "emulation.petset.dev/termination";
/// The label StatefulSet pods carry with their ordinal.
pub(crate) const POD_INDEX: &str = "apps.kubernetes.io/pod-index";

pub(crate) fn pod_info(shared: &Shared, pod: &Value) -> PodInfo {
    let namespace = s(pod, "/metadata/namespace").to_string();
    let claim_uids = arr(pod, "/spec/volumes")
        .iter()
        .map(|v| s(v, "/persistentVolumeClaim/claimName"))
        .filter(|c| !c.is_empty())
        .filter_map(|c| {
            shared
                .handle
                .get("v1", "PersistentVolumeClaim", Some(&namespace), c)
        })
        .map(|c| uid(&c).to_string())
        .collect();
    PodInfo {
        namespace,
        name: name(pod).to_string(),
        uid: uid(pod).to_string(),
        ordinal: label(pod, POD_INDEX).and_then(|i| i.parse().ok()),
        claim_uids,
        images: arr(pod, "/spec/containers")
            .iter()
            .map(|c| s(c, "/image").to_string())
            .collect(),
    }
}

pub(crate) fn reconcile(
    shared: &Arc<Shared>,
    namespace: &str,
    pods: &[Value],
    live: &mut HashSet<String>,
) {
    for pod in pods {
        live.insert(uid(pod).to_string());
        if deleting(pod) {
            terminate(shared, namespace, pod);
            continue;
        }
        if s(pod, "/spec/nodeName").is_empty() {
            if let Some(node) = super::nodes::pick(shared, pods) {
                let _ = shared.handle.patch(
                    "v1",
                    "Pod",
                    Some(namespace),
                    name(pod),
                    json!({"spec": {"nodeName": node}, "status": {"conditions": [{"type": "PodScheduled", "status": "True"}]}}),
                );
            }
            continue;
        }
        run(shared, namespace, pod);
    }
}

/// A deleted pod stays terminating for its whole grace period (the deletion's own, else the
/// spec's, else 30 s): what a container that ignores SIGTERM, or a preStop hook as long as the
/// grace period, makes a real kubelet do. So every window between "deletion started" and
/// "gone" that a real cluster can show, the emulation shows too.
fn terminate(shared: &Arc<Shared>, namespace: &str, pod: &Value) {
    // The store writes a grace period of 0 once its own clock for it has run out; only a
    // positive one is a grace period someone asked for.
    let seconds = int(pod, "/metadata/deletionGracePeriodSeconds")
        .filter(|s| *s > 0)
        .or_else(|| int(pod, "/spec/terminationGracePeriodSeconds"))
        .unwrap_or(30);
    let grace = shared.config.spec_seconds(seconds);
    // The end is fixed when the kubelet first sees the deletion, as a real one starts its
    // countdown then.
    let (ends, first) = {
        let mut pods = lock(&shared.pods);
        let rt = pods
            .entry(uid(pod).to_string())
            .or_insert_with(|| fresh(shared));
        let first = rt.terminating.is_none();
        (
            *rt.terminating.get_or_insert_with(|| Instant::now() + grace),
            first,
        )
    };
    if first
        && let Some(stop) = shared
            .backend
            .as_ref()
            .and_then(|b| b.pod_stopped(pod_info(shared, pod)))
    {
        tokio::spawn(stop);
    }
    if Instant::now() >= ends {
        let finalizers: Vec<Value> = arr(pod, "/metadata/finalizers")
            .iter()
            .filter(|f| f.as_str() != Some(FINALIZER))
            .cloned()
            .collect();
        let _ = shared.handle.patch(
            "v1",
            "Pod",
            Some(namespace),
            name(pod),
            json!({"metadata": {"finalizers": finalizers}}),
        );
        // Containers stopped: the kubelet's last delete, with grace 0, ends the pod.
        let _ = shared.handle.delete_pod_now(namespace, name(pod));
    }
}

fn fresh(shared: &Shared) -> Runtime {
    Runtime {
        started: None,
        scheduled: Instant::now(),
        restarts: 0,
        ready_since: None,
        readiness: Default::default(),
        liveness: Default::default(),
        starting: false,
        start_error: None,
        ip: shared.pod_ip(),
        terminating: None,
        http: None,
        readiness_exec: Default::default(),
        liveness_exec: Default::default(),
    }
}

fn run(shared: &Arc<Shared>, namespace: &str, pod: &Value) {
    let pod_uid = uid(pod).to_string();
    let key = (namespace.to_string(), name(pod).to_string());
    if lock(&shared.exec_registered).insert(key) {
        let weak: Weak<Shared> = Arc::downgrade(shared);
        shared
            .handle
            .on_exec_streaming(namespace, name(pod), None, move |request, stdin| {
                let weak = weak.clone();
                async move {
                    match weak.upgrade() {
                        Some(shared) => super::exec::run(shared, request, stdin).await,
                        None => crate::exec::ExecOutput::default()
                            .with_stderr("the emulation has stopped\n")
                            .with_exit_code(1),
                    }
                }
            });
    }
    let begin = {
        let mut pods = lock(&shared.pods);
        let rt = pods.entry(pod_uid.clone()).or_insert_with(|| fresh(shared));
        if !rt.starting && rt.scheduled.elapsed() >= shared.config.start_delay {
            rt.starting = true;
            true
        } else {
            false
        }
    };
    if begin {
        let shared = shared.clone();
        let pod = pod.clone();
        tokio::spawn(async move { start(shared, pod).await });
    }
    if let super::probes::Verdict::Restart = super::probes::probe(shared, pod) {
        super::probes::fresh_container(shared, pod);
        seed(shared, pod);
    }
    publish(shared, namespace, pod);
}

/// Start-up: the init containers' effects, the container filesystem, the backend, then the
/// HTTP server for pods that serve port 8080.
async fn start(shared: Arc<Shared>, pod: Value) {
    let info = pod_info(&shared, &pod);
    for claim in &info.claim_uids {
        let mounted_before = !lock(&shared.mounted).insert(claim.clone());
        if mounted_before && shared.config.has(Fault::VolumeWipedOnRecreate) {
            lock(&shared.files).drop_store(&StoreKey::Volume(claim.clone()));
        }
    }
    for c in arr(&pod, "/spec/initContainers")
        .iter()
        .chain(arr(&pod, "/spec/containers"))
    {
        run_command(&shared, &pod, c);
    }
    seed(&shared, &pod);
    let mut error = None;
    let hook = shared.backend.as_ref().and_then(|b| b.pod_started(info));
    if let Some(future) = hook {
        match future.await {
            Ok(files) => {
                for (path, text) in files {
                    let (key, p) = locate(&shared.handle, &pod, &path);
                    lock(&shared.files).write(&key, &p, &text, false);
                }
            }
            Err(e) => error = Some(e),
        }
    }
    let serves_http = arr(&pod, "/spec/containers").iter().any(|c| {
        arr(c, "/ports")
            .iter()
            .any(|p| int(p, "/containerPort") == Some(8080))
    });
    let mut http = None;
    if serves_http
        && let Some((addr, task)) = super::http::serve(super::probes::hostname(&shared, &pod)).await
    {
        shared
            .handle
            .forward_port(s(&pod, "/metadata/namespace"), name(&pod), 8080, addr);
        http = Some(task);
    }
    let mut pods = lock(&shared.pods);
    if let Some(rt) = pods.get_mut(uid(&pod)) {
        rt.start_error = error;
        rt.started = Some(Instant::now());
        rt.http = http;
    } else if let Some(task) = http {
        task.abort();
    }
}

/// Runs the `sh -c` lines of a container's command that the emulated shell knows, in order,
/// up to the first it does not (`a && b && exec server`).
fn run_command(shared: &Shared, pod: &Value, container: &Value) {
    let command: Vec<&str> = arr(container, "/command")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let [shell, "-c", line, ..] = command.as_slice() else {
        return;
    };
    if !shell.ends_with("sh") {
        return;
    }
    for part in line.split("&&") {
        match script(shared, pod, part) {
            Some(out) if out.exit_code == 0 => {}
            _ => return,
        }
    }
}

/// What a fresh container filesystem holds: the database client in database images.
fn seed(shared: &Shared, pod: &Value) {
    let mariadb = arr(pod, "/spec/containers")
        .iter()
        .any(|c| s(c, "/image").contains("mariadb"));
    if mariadb {
        let key = StoreKey::Container(uid(pod).to_string());
        lock(&shared.files).write(&key, CLIENT_BINARY, "", false);
    }
}

/// Writes the pod's status when what it says has changed.
fn publish(shared: &Shared, namespace: &str, pod: &Value) {
    let (started, ready, restarts, ip, waiting) = {
        let pods = lock(&shared.pods);
        let Some(rt) = pods.get(uid(pod)) else {
            return;
        };
        (
            rt.started.is_some(),
            rt.ready_since.is_some(),
            rt.restarts,
            rt.ip.clone(),
            rt.start_error.clone(),
        )
    };
    let phase = if started { "Running" } else { "Pending" };
    let current_ready = super::objects::pod_ready(pod);
    let current_restarts = int(pod, "/status/containerStatuses/0/restartCount").unwrap_or(-1);
    let same = s(pod, "/status/phase") == phase
        && current_ready == ready
        && current_restarts == i64::from(restarts)
        && (!started || s(pod, "/status/podIP") == ip);
    if same {
        return;
    }
    let flag = if ready { "True" } else { "False" };
    let now = crate::meta::now_rfc3339();
    let node = s(pod, "/spec/nodeName");
    let host_ip = match node.strip_prefix("emulated-node-") {
        Some(n) => format!("172.18.0.{}", n.parse::<u32>().unwrap_or(0) + 1),
        None => "172.18.0.2".to_string(),
    };
    let statuses: Vec<Value> = arr(pod, "/spec/containers")
        .iter()
        .map(|c| {
            let state = match (&waiting, started) {
                (Some(reason), _) => {
                    json!({"waiting": {"reason": "CreateContainerError", "message": reason}})
                }
                (None, true) => json!({"running": {"startedAt": now}}),
                (None, false) => json!({"waiting": {"reason": "ContainerCreating"}}),
            };
            json!({
                "name": s(c, "/name"),
                "image": s(c, "/image"),
                "imageID": "",
                "ready": ready,
                "started": started,
                "restartCount": restarts,
                "state": state,
            })
        })
        .collect();
    let mut status = json!({
        "phase": phase,
        "hostIP": host_ip,
        "conditions": [
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
            {"type": "Initialized", "status": if started { "True" } else { "False" }, "lastTransitionTime": now},
            {"type": "ContainersReady", "status": flag, "lastTransitionTime": now},
            {"type": "Ready", "status": flag, "lastTransitionTime": now},
        ],
        "containerStatuses": statuses,
        "startTime": s(pod, "/metadata/creationTimestamp"),
    });
    if started {
        status["podIP"] = json!(ip);
        status["podIPs"] = json!([{"ip": ip}]);
    }
    let _ = shared
        .handle
        .set_status("v1", "Pod", Some(namespace), name(pod), status);
}

/// Forgets pods that are gone: their runtime, HTTP server and container filesystem.
pub(crate) fn forget_gone(shared: &Shared, live: &HashSet<String>) {
    let gone: Vec<(String, Runtime)> = {
        let mut pods = lock(&shared.pods);
        let keys: Vec<String> = pods
            .keys()
            .filter(|k| !live.contains(*k))
            .cloned()
            .collect();
        keys.into_iter()
            .filter_map(|k| pods.remove(&k).map(|rt| (k, rt)))
            .collect()
    };
    for (pod_uid, rt) in gone {
        if let Some(task) = rt.http {
            task.abort();
        }
        lock(&shared.files).drop_store(&StoreKey::Container(pod_uid));
    }
}
