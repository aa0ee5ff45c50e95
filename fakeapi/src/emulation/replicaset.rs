//! The ReplicaSet controller: keeps `spec.replicas` pods named `<set>-<random>` (deleting the
//! not-ready and newest first), and counts ready and available pods (Ready for at least
//! `minReadySeconds`).

use std::time::Duration;

use serde_json::{Value, json};

use super::config::Fault;
use super::objects::{deleting, int, name, owned_by, pod_from_template, pod_running_ready, s, uid};
use super::state::Shared;
use crate::handle::lock;

pub(crate) fn reconcile(shared: &Shared, namespace: &str, pods: &[Value]) {
    for rs in shared.handle.list("apps/v1", "ReplicaSet", Some(namespace)) {
        if !deleting(&rs) {
            one(shared, namespace, &rs, pods);
        }
    }
}

/// Whether a pod has been Ready for at least `min_ready` seconds.
pub(crate) fn available(shared: &Shared, pod: &Value, min_ready: i64) -> bool {
    if !pod_running_ready(pod) {
        return false;
    }
    let wanted = Duration::from_secs(u64::try_from(min_ready).unwrap_or(0));
    lock(&shared.pods)
        .get(uid(pod))
        .and_then(|rt| rt.ready_since)
        .is_some_and(|since| since.elapsed() >= wanted)
}

fn one(shared: &Shared, namespace: &str, rs: &Value, pods: &[Value]) {
    let h = &shared.handle;
    let want = int(rs, "/spec/replicas").unwrap_or(1);
    let min_ready = int(rs, "/spec/minReadySeconds").unwrap_or(0);
    let owned: Vec<&Value> = pods.iter().filter(|p| owned_by(p, uid(rs))).collect();
    let mut mine: Vec<&Value> = owned.iter().copied().filter(|p| !deleting(p)).collect();
    let have = i64::try_from(mine.len()).unwrap_or(0);
    // Names this ReplicaSet gave before whose pods are gone (only reused under the fault, which
    // waits for a deleted pod to be gone so that its name is free).
    let reusable: Vec<String> = {
        let mut given = lock(&shared.pod_names);
        let names = given.entry(uid(rs).to_string()).or_default();
        names.extend(owned.iter().map(|p| name(p).to_string()));
        names
            .iter()
            .filter(|n| !owned.iter().any(|p| name(p) == n.as_str()))
            .cloned()
            .collect()
    };
    let reuse = shared.config.has(Fault::ReplacementReusesPodName);
    let terminating = owned.len() > mine.len();
    if have < want && !(reuse && terminating) {
        let mut names = reusable.into_iter().filter(|_| reuse);
        for _ in have..want {
            let pod_name = names
                .next()
                .unwrap_or_else(|| format!("{}-{}", name(rs), crate::meta::name_suffix()));
            create_pod(shared, namespace, rs, &pod_name);
        }
    } else if have > want {
        // Not-ready first, then the newest.
        mine.sort_by_key(|p| {
            (
                pod_running_ready(p),
                std::cmp::Reverse(s(p, "/metadata/creationTimestamp").to_string()),
            )
        });
        for p in mine.iter().take(usize::try_from(have - want).unwrap_or(0)) {
            let _ = h.delete("v1", "Pod", Some(namespace), name(p));
        }
    }
    let ready = mine.iter().filter(|p| pod_running_ready(p)).count();
    let avail = mine
        .iter()
        .filter(|p| available(shared, p, min_ready))
        .count();
    let status = json!({
        "observedGeneration": int(rs, "/metadata/generation").unwrap_or(1),
        "replicas": mine.len(),
        "fullyLabeledReplicas": mine.len(),
        "readyReplicas": ready,
        "availableReplicas": avail,
    });
    let fields = [
        "observedGeneration",
        "replicas",
        "readyReplicas",
        "availableReplicas",
    ];
    super::objects::publish_status(h, "ReplicaSet", namespace, rs, status, &fields);
}

fn create_pod(shared: &Shared, namespace: &str, rs: &Value, pod_name: &str) {
    let template = rs.pointer("/spec/template").cloned().unwrap_or_default();
    let part = |at: &str| template.pointer(at).cloned().unwrap_or(json!({}));
    let (labels, spec) = (part("/metadata/labels"), part("/spec"));
    let pod = pod_from_template(rs, &template, (namespace, pod_name), labels, spec);
    let _ = shared.handle.create(pod);
}
