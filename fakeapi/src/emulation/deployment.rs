//! The Deployment controller: one ReplicaSet per pod template (`<deployment>-<hash>`), revision
//! numbers and change-cause carried onto it (a template seen before, as after a rollback, takes
//! the next revision), rolling updates within maxSurge and maxUnavailable, Recreate, and status
//! with availability after minReadySeconds.

use serde_json::{Value, json};

use super::config::Fault;
use super::objects::{
    annotation, deleting, int, int_or_percent, name, owned_by, owner_ref, s, template_hash, uid,
};
use super::replicaset::available;
use super::state::Shared;

const REVISION: &str = "deployment.kubernetes.io/revision";
const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";
const HASH: &str = "pod-template-hash";

pub(crate) fn reconcile(shared: &Shared, namespace: &str, pods: &[Value]) {
    for d in shared.handle.list("apps/v1", "Deployment", Some(namespace)) {
        if !deleting(&d) {
            one(shared, namespace, &d, pods);
        }
    }
}

fn revision(v: &Value) -> i64 {
    annotation(v, REVISION)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

fn one(shared: &Shared, namespace: &str, d: &Value, pods: &[Value]) {
    let h = &shared.handle;
    let d_name = name(d);
    let replicas = int(d, "/spec/replicas").unwrap_or(1);
    let min_ready = if shared.config.has(Fault::MinReadySecondsIgnored) {
        0
    } else {
        int(d, "/spec/minReadySeconds").unwrap_or(0)
    };
    let template = d.pointer("/spec/template").cloned().unwrap_or_default();
    let hash = template_hash(&template);
    let sets: Vec<Value> = h
        .list("apps/v1", "ReplicaSet", Some(namespace))
        .into_iter()
        .filter(|rs| owned_by(rs, uid(d)) && !deleting(rs))
        .collect();
    let max_revision = sets.iter().map(revision).max().unwrap_or(0);
    let cause =
        annotation(d, CHANGE_CAUSE).filter(|_| !shared.config.has(Fault::ChangeCauseNotRecorded));
    let Some(new) = sets
        .iter()
        .find(|rs| s(rs, &format!("/metadata/labels/{HASH}")) == hash)
    else {
        let mut labels = template
            .pointer("/metadata/labels")
            .cloned()
            .unwrap_or(json!({}));
        labels[HASH] = json!(hash);
        let mut rs_template = template.clone();
        rs_template["metadata"]["labels"] = labels.clone();
        let mut selector = d.pointer("/spec/selector").cloned().unwrap_or(json!({}));
        selector["matchLabels"][HASH] = json!(hash);
        let mut annotations = json!({REVISION: (max_revision + 1).to_string()});
        if let Some(c) = cause {
            annotations[CHANGE_CAUSE] = json!(c);
        }
        let initial = if s(d, "/spec/strategy/type") == "Recreate" && !sets.is_empty() {
            0
        } else if sets.is_empty() {
            replicas
        } else {
            0
        };
        let _ = h.create(json!({
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": format!("{d_name}-{hash}"),
                "namespace": namespace,
                "labels": labels,
                "annotations": annotations,
                "ownerReferences": [owner_ref(d)],
            },
            "spec": {"replicas": initial, "minReadySeconds": min_ready, "selector": selector, "template": rs_template},
        }));
        return;
    };
    // The template in use is the newest revision, with the Deployment's change-cause.
    let mut annotations = serde_json::Map::new();
    if revision(new) < max_revision || revision(new) == 0 {
        annotations.insert(REVISION.into(), json!((max_revision + 1).to_string()));
    }
    if let Some(c) = cause
        && annotation(new, CHANGE_CAUSE) != Some(c)
    {
        annotations.insert(CHANGE_CAUSE.into(), json!(c));
    }
    if !annotations.is_empty() {
        let _ = h.patch(
            "apps/v1",
            "ReplicaSet",
            Some(namespace),
            name(new),
            json!({"metadata": {"annotations": annotations}}),
        );
        return;
    }
    let new_revision = revision(new).to_string();
    if annotation(d, REVISION) != Some(new_revision.as_str()) {
        let _ = h.patch(
            "apps/v1",
            "Deployment",
            Some(namespace),
            d_name,
            json!({"metadata": {"annotations": {REVISION: new_revision}}}),
        );
    }

    let pods_of = |rs: &Value| -> Vec<&Value> {
        pods.iter()
            .filter(|p| owned_by(p, uid(rs)) && !deleting(p))
            .collect()
    };
    let spec_of = |rs: &Value| int(rs, "/spec/replicas").unwrap_or(0);
    let old: Vec<&Value> = sets.iter().filter(|rs| uid(rs) != uid(new)).collect();
    let new_pods = pods_of(new);
    let old_pods: Vec<&Value> = old.iter().flat_map(|rs| pods_of(rs)).collect();
    let count = |v: &[&Value]| i64::try_from(v.len()).unwrap_or(0);
    let avail = |v: &[&Value]| {
        i64::try_from(v.iter().filter(|p| available(shared, p, min_ready)).count()).unwrap_or(0)
    };

    if s(d, "/spec/strategy/type") == "Recreate" {
        let old_running = pods
            .iter()
            .any(|p| old.iter().any(|rs| owned_by(p, uid(rs))));
        if let Some(rs) = old.iter().find(|rs| spec_of(rs) > 0) {
            scale(shared, namespace, rs, 0);
        } else if (!old_running || shared.config.has(Fault::RecreateOverlaps))
            && spec_of(new) != replicas
        {
            scale(shared, namespace, new, replicas);
        }
    } else {
        let surge = int_or_percent(
            d.pointer("/spec/strategy/rollingUpdate/maxSurge"),
            replicas,
            true,
            1,
        ) + if shared.config.has(Fault::RolloutExceedsMaxSurge) {
            2
        } else {
            0
        };
        let mut unavailable = int_or_percent(
            d.pointer("/spec/strategy/rollingUpdate/maxUnavailable"),
            replicas,
            false,
            0,
        );
        if unavailable == 0 && surge == 0 {
            unavailable = 1;
        }
        if shared.config.has(Fault::RolloutBelowMinAvailable) {
            unavailable += 1;
        }
        let total_spec = spec_of(new) + old.iter().map(|rs| spec_of(rs)).sum::<i64>();
        let total = total_spec.max(count(&new_pods) + count(&old_pods));
        if spec_of(new) < replicas && total < replicas + surge {
            let up = (replicas + surge - total).min(replicas - spec_of(new));
            scale(shared, namespace, new, spec_of(new) + up);
        } else if spec_of(new) > replicas {
            scale(shared, namespace, new, replicas);
        } else {
            let min_available = replicas - unavailable;
            let all_available = avail(&new_pods) + avail(&old_pods);
            let mut budget = (all_available - min_available).max(0);
            for rs in &old {
                let spec = spec_of(rs);
                let unhealthy = count(&pods_of(rs)) - avail(&pods_of(rs));
                let cut = (budget + unhealthy.max(0)).min(spec);
                if cut > 0 {
                    scale(shared, namespace, rs, spec - cut);
                    budget = (budget - (cut - unhealthy.max(0)).max(0)).max(0);
                }
            }
        }
    }

    let all: Vec<&Value> = new_pods.iter().chain(old_pods.iter()).copied().collect();
    let available_now = avail(&all);
    let unavailable_max = if s(d, "/spec/strategy/type") == "Recreate" {
        0
    } else {
        int_or_percent(
            d.pointer("/spec/strategy/rollingUpdate/maxUnavailable"),
            replicas,
            false,
            0,
        )
    };
    let is_available = available_now >= replicas - unavailable_max;
    let status = json!({
        "observedGeneration": int(d, "/metadata/generation").unwrap_or(1),
        "replicas": count(&all),
        "updatedReplicas": count(&new_pods),
        "readyReplicas": all.iter().filter(|p| super::objects::pod_running_ready(p)).count(),
        "availableReplicas": available_now,
        "unavailableReplicas": (replicas - available_now).max(0),
        "conditions": [
            {"type": "Available", "status": if is_available { "True" } else { "False" }, "reason": if is_available { "MinimumReplicasAvailable" } else { "MinimumReplicasUnavailable" }},
            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
        ],
    });
    let fields = [
        "observedGeneration",
        "replicas",
        "updatedReplicas",
        "readyReplicas",
        "availableReplicas",
        "unavailableReplicas",
    ];
    super::objects::publish_status(h, "Deployment", namespace, d, status, &fields);
}

fn scale(shared: &Shared, namespace: &str, rs: &Value, replicas: i64) {
    let _ = shared.handle.patch(
        "apps/v1",
        "ReplicaSet",
        Some(namespace),
        name(rs),
        json!({"spec": {"replicas": replicas}}),
    );
}
