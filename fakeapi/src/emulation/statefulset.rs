//! The StatefulSet controller: pods `<set>-<ordinal>` created and deleted in order
//! (OrderedReady) or all at once (Parallel), claims from volumeClaimTemplates reused by name,
//! ControllerRevisions, rolling updates from the highest ordinal down to the partition, OnDelete,
//! the claim retention policy, and status.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::config::Fault;
use super::kubelet::POD_INDEX;
use super::objects::{
    arr, deleting, int, label, name, owned_by, owner_ref, pod_from_template, pod_running_ready, s,
    template_hash, uid,
};
use super::state::Shared;
use crate::handle::lock;

const REVISION_LABEL: &str = "controller-revision-hash";

pub(crate) fn reconcile(shared: &Shared, namespace: &str, pods: &[Value]) {
    for set in shared
        .handle
        .list("apps/v1", "StatefulSet", Some(namespace))
    {
        if !deleting(&set) {
            one(shared, namespace, &set, pods);
        }
    }
}

fn one(shared: &Shared, namespace: &str, set: &Value, pods: &[Value]) {
    let h = &shared.handle;
    let set_name = name(set);
    let set_uid = uid(set);
    let replicas = int(set, "/spec/replicas").unwrap_or(1);
    let f = |fault| shared.config.has(fault);
    let parallel = s(set, "/spec/podManagementPolicy") == "Parallel";
    let on_delete =
        s(set, "/spec/updateStrategy/type") == "OnDelete" && !f(Fault::OnDeleteRollsPods);
    let partition = if f(Fault::PartitionIgnored) {
        0
    } else {
        int(set, "/spec/updateStrategy/rollingUpdate/partition").unwrap_or(0)
    };
    let template = set.pointer("/spec/template").cloned().unwrap_or_default();
    let update_revision = format!("{set_name}-{}", template_hash(&template));
    ensure_revision(shared, namespace, set, &update_revision, &template);
    let current_revision = match s(set, "/status/currentRevision") {
        "" => update_revision.clone(),
        r => r.to_string(),
    };

    let mut by_ordinal: BTreeMap<i64, &Value> = BTreeMap::new();
    for p in pods.iter().filter(|p| owned_by(p, set_uid)) {
        if let Some(i) = label(p, POD_INDEX).and_then(|i| i.parse().ok()) {
            by_ordinal.insert(i, p);
        }
    }
    let any_terminating = by_ordinal.values().any(|p| deleting(p));

    // Scale-down: condemned ordinals, highest first.
    let mut condemned: Vec<i64> = by_ordinal
        .keys()
        .copied()
        .filter(|i| *i >= replicas)
        .collect();
    condemned.sort_unstable_by(|a, b| b.cmp(a));
    if shared.config.has(Fault::ScaleDownForwardOrder) {
        condemned.reverse();
    }
    // Creation: missing ordinals, lowest first.
    let mut missing: Vec<i64> = (0..replicas)
        .filter(|i| !by_ordinal.contains_key(i))
        .collect();
    if shared.config.has(Fault::PodsCreatedOutOfOrder) {
        missing.reverse();
    }
    // What the controller takes as ready (the faults make it look at less than it should).
    let counts_ready = |p: &Value| {
        pod_running_ready(p)
            || f(Fault::ScalingIgnoresLostReadiness) && lock(&shared.ever_ready).contains(uid(p))
    };
    for p in by_ordinal.values().filter(|p| pod_running_ready(p)) {
        lock(&shared.ever_ready).insert(uid(p).to_string());
    }
    let all_ready = |except: &[i64]| {
        by_ordinal
            .iter()
            .filter(|(i, _)| !except.contains(i))
            .all(|(_, p)| counts_ready(p))
    };
    let all_running = |except: &[i64]| {
        by_ordinal
            .iter()
            .filter(|(i, _)| !except.contains(i))
            .all(|(_, p)| !deleting(p) && s(p, "/status/phase") == "Running")
    };
    let revision =
        |i: i64| revision_for(i, on_delete, partition, &current_revision, &update_revision);
    let delete_pod = |p: &Value| {
        let _ = h.delete("v1", "Pod", Some(namespace), name(p));
    };

    if parallel && f(Fault::ParallelWaitsForReady) {
        // Creation waits for readiness one pod at a time; deletion stays parallel.
        if let Some(i) = missing.first()
            && all_ready(&condemned)
        {
            create_pod(shared, namespace, set, *i, &revision(*i));
        }
        for i in &condemned {
            if let Some(p) = by_ordinal.get(i).filter(|p| !deleting(p)) {
                delete_pod(p);
            }
        }
    } else if parallel && f(Fault::ParallelDeletesOneAtATime) {
        for i in &missing {
            create_pod(shared, namespace, set, *i, &revision(*i));
        }
        if !any_terminating && let Some(p) = condemned.first().and_then(|i| by_ordinal.get(i)) {
            delete_pod(p);
        }
    } else if parallel {
        for i in &missing {
            create_pod(shared, namespace, set, *i, &revision(*i));
        }
        for i in &condemned {
            if let Some(p) = by_ordinal.get(i).filter(|p| !deleting(p)) {
                delete_pod(p);
            }
        }
    } else if f(Fault::ScaleDownNotOneAtATime) && missing.is_empty() && !condemned.is_empty() {
        let next = condemned
            .iter()
            .filter_map(|i| by_ordinal.get(i))
            .find(|p| !deleting(p));
        if let Some(p) = next {
            delete_pod(p);
        }
    } else if !any_terminating {
        if let Some(i) = missing.first() {
            // Ordered: every pod there must be Running and Ready first.
            let previous_done = if f(Fault::CreatedBeforePreviousReady) {
                all_running(&condemned)
            } else {
                all_ready(&condemned)
            };
            if previous_done {
                create_pod(shared, namespace, set, *i, &revision(*i));
            }
        } else if let Some(i) = condemned.first() {
            if (all_ready(&[]) || shared.config.has(Fault::ScaleDownForwardOrder))
                && let Some(p) = by_ordinal.get(i)
            {
                let _ = h.delete("v1", "Pod", Some(namespace), name(p));
            }
        } else if !on_delete && (all_ready(&[]) || f(Fault::RollingUpdateSkipsReadiness)) {
            // Rolling update: the highest ordinal at or above the partition not yet updated.
            let is_stale = |(i, p): &(&i64, &&Value)| {
                **i >= partition && label(p, REVISION_LABEL) != Some(update_revision.as_str())
            };
            let stale = if f(Fault::RollingUpdateForwardOrder) {
                by_ordinal.iter().find(is_stale)
            } else {
                by_ordinal.iter().rev().find(is_stale)
            };
            if let Some((_, p)) = stale {
                let _ = h.delete("v1", "Pod", Some(namespace), name(p));
            }
        }
    }

    // Claims of ordinals that are gone for good.
    let scaled_delete = (s(set, "/spec/persistentVolumeClaimRetentionPolicy/whenScaled")
        == "Delete"
        && !f(Fault::RetentionPolicyIgnored))
        || f(Fault::ClaimsDeletedOnScaleDown);
    if scaled_delete {
        for tpl in arr(set, "/spec/volumeClaimTemplates") {
            for pvc in h.list("v1", "PersistentVolumeClaim", Some(namespace)) {
                let prefix = format!("{}-{set_name}-", name(tpl));
                let Some(i) = name(&pvc)
                    .strip_prefix(&prefix)
                    .and_then(|i| i.parse::<i64>().ok())
                else {
                    continue;
                };
                if i >= replicas && !by_ordinal.contains_key(&i) && !deleting(&pvc) {
                    let _ = h.delete("v1", "PersistentVolumeClaim", Some(namespace), name(&pvc));
                }
            }
        }
    }

    // Status.
    let live: Vec<&&Value> = by_ordinal.values().filter(|p| !deleting(p)).collect();
    let ready = live
        .iter()
        .filter(|p| {
            pod_running_ready(p)
                || f(Fault::ReadyReplicasCountsUnready) && s(p, "/status/phase") == "Running"
        })
        .count();
    let updated = live
        .iter()
        .filter(|p| label(p, REVISION_LABEL) == Some(update_revision.as_str()))
        .count();
    let current_count = live
        .iter()
        .filter(|p| label(p, REVISION_LABEL) == Some(current_revision.as_str()))
        .count();
    let done = i64::try_from(updated).unwrap_or(0) == replicas
        && i64::try_from(ready).unwrap_or(0) == replicas;
    let current = if done || current_count == 0 && updated == live.len() {
        update_revision.clone()
    } else {
        current_revision
    };
    let status = json!({
        "observedGeneration": int(set, "/metadata/generation").unwrap_or(1),
        "replicas": live.len(),
        "readyReplicas": ready,
        "availableReplicas": ready,
        "currentReplicas": if current == update_revision { updated } else { current_count },
        "updatedReplicas": updated,
        "currentRevision": current,
        "updateRevision": update_revision,
        "collisionCount": 0,
    });
    let fields = [
        "observedGeneration",
        "replicas",
        "readyReplicas",
        "currentReplicas",
        "updatedReplicas",
        "currentRevision",
        "updateRevision",
    ];
    super::objects::publish_status(h, "StatefulSet", namespace, set, status, &fields);
}

fn revision_for(
    ordinal: i64,
    on_delete: bool,
    partition: i64,
    current: &str,
    update: &str,
) -> String {
    if on_delete || ordinal >= partition {
        update.to_string()
    } else {
        current.to_string()
    }
}

fn ensure_revision(
    shared: &Shared,
    namespace: &str,
    set: &Value,
    revision: &str,
    template: &Value,
) {
    let h = &shared.handle;
    if h.get("apps/v1", "ControllerRevision", Some(namespace), revision)
        .is_some()
    {
        return;
    }
    let number = h
        .list("apps/v1", "ControllerRevision", Some(namespace))
        .iter()
        .filter(|r| owned_by(r, uid(set)))
        .filter_map(|r| int(r, "/revision"))
        .max()
        .unwrap_or(0)
        + 1;
    let _ = h.create(json!({
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {
            "name": revision,
            "namespace": namespace,
            "labels": template.pointer("/metadata/labels").cloned().unwrap_or(json!({})),
            "ownerReferences": [owner_ref(set)],
        },
        "data": {"spec": {"template": template}},
        "revision": number,
    }));
}

/// The revision's template: the ControllerRevision's, or the set's own.
fn template_of(shared: &Shared, namespace: &str, set: &Value, revision: &str) -> Value {
    shared
        .handle
        .get("apps/v1", "ControllerRevision", Some(namespace), revision)
        .and_then(|r| r.pointer("/data/spec/template").cloned())
        .or_else(|| set.pointer("/spec/template").cloned())
        .unwrap_or_default()
}

fn create_pod(shared: &Shared, namespace: &str, set: &Value, ordinal: i64, revision: &str) {
    let h = &shared.handle;
    let set_name = name(set);
    let ord = u32::try_from(ordinal).unwrap_or(0);
    let key = (namespace.to_string(), uid(set).to_string(), ord);
    let lived_before = lock(&shared.lived).contains(&key);
    let hashed = shared.config.has(Fault::PodNamesHashed)
        || lived_before && shared.config.has(Fault::PodRenamedOnRecreate);
    let pod_name = if hashed {
        format!("{set_name}-{}", crate::meta::name_suffix())
    } else {
        format!("{set_name}-{ordinal}")
    };
    let template = template_of(shared, namespace, set, revision);
    let mut volumes: Vec<Value> = arr(&template, "/spec/volumes").to_vec();
    for tpl in arr(set, "/spec/volumeClaimTemplates") {
        let claim = claim_for(shared, namespace, set, tpl, ord, lived_before);
        volumes.retain(|v| s(v, "/name") != name(tpl));
        volumes.push(json!({"name": name(tpl), "persistentVolumeClaim": {"claimName": claim}}));
    }
    let mut labels = template
        .pointer("/metadata/labels")
        .cloned()
        .unwrap_or(json!({}));
    labels[REVISION_LABEL] = json!(revision);
    labels["statefulset.kubernetes.io/pod-name"] = json!(format!("{set_name}-{ordinal}"));
    labels[POD_INDEX] = json!(ordinal.to_string());
    let mut spec = template.get("spec").cloned().unwrap_or(json!({}));
    spec["hostname"] = json!(format!("{set_name}-{ordinal}"));
    spec["subdomain"] = json!(s(set, "/spec/serviceName"));
    spec["volumes"] = json!(volumes);
    let pod = pod_from_template(set, &template, (namespace, &pod_name), labels, spec);
    if h.create(pod).is_ok() {
        lock(&shared.lived).insert(key);
    }
}

/// The claim for one template and ordinal: `<template>-<set>-<ordinal>`, created if missing.
fn claim_for(
    shared: &Shared,
    namespace: &str,
    set: &Value,
    tpl: &Value,
    ordinal: u32,
    lived_before: bool,
) -> String {
    let h = &shared.handle;
    let base = if shared.config.has(Fault::ClaimNameWithoutTemplate) {
        format!("{}-{ordinal}", name(set))
    } else {
        format!("{}-{}-{ordinal}", name(tpl), name(set))
    };
    let claim = if lived_before && shared.config.has(Fault::NewClaimOnRecreate) {
        let mut generations = lock(&shared.generations);
        let n = generations
            .entry((namespace.to_string(), name(set).to_string(), ordinal))
            .or_insert(0);
        *n += 1;
        format!("{base}-{n}")
    } else {
        base
    };
    if h.get("v1", "PersistentVolumeClaim", Some(namespace), &claim)
        .is_none()
    {
        let mut labels = tpl
            .pointer("/metadata/labels")
            .cloned()
            .unwrap_or(json!({}));
        if let Some(selector) = set
            .pointer("/spec/selector/matchLabels")
            .and_then(Value::as_object)
        {
            for (k, v) in selector {
                labels[k] = v.clone();
            }
        }
        let mut metadata = json!({"name": claim, "namespace": namespace, "labels": labels});
        let when_deleted = s(
            set,
            "/spec/persistentVolumeClaimRetentionPolicy/whenDeleted",
        );
        let owned = when_deleted == "Delete" && !shared.config.has(Fault::RetentionPolicyIgnored)
            || shared.config.has(Fault::ClaimsDeletedWithSet);
        if owned {
            metadata["ownerReferences"] = json!([owner_ref(set)]);
        }
        let _ = h.create(json!({
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": metadata,
            "spec": tpl.get("spec").cloned().unwrap_or(json!({})),
        }));
    }
    claim
}
