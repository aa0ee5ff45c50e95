//! Graceful deletion and the finalizers the API server and its controllers keep, as rules the
//! store applies: which grace period a pod gets, the protection finalizers put on claims and
//! volumes at creation, when those finalizers may go, and the conditions a Terminating
//! namespace reports.
//!
//! What the API server does, and the fake with it:
//! - Pods: a delete sets `deletionTimestamp` (now plus the grace period) and
//!   `deletionGracePeriodSeconds`, and the pod stays until its kubelet has stopped it and
//!   deletes it with grace 0. The grace period is the request's `gracePeriodSeconds`, else the
//!   pod's `terminationGracePeriodSeconds` (default 30). A pod not bound to a node, or already
//!   Succeeded or Failed, goes at once: no kubelet has anything to stop (pod strategy
//!   `CheckGracefulDelete`, "Termination of Pods" in kubernetes.io/docs/concepts/workloads/pods/
//!   pod-lifecycle/). A later delete may shorten the period, never lengthen it. The fake plays
//!   the kubelet's part when the period ends (one second of it lasts [`Timing::grace_second`]).
//! - Claims and volumes: the `StorageObjectInUseProtection` admission plugin adds
//!   `kubernetes.io/pvc-protection` to every new claim and `kubernetes.io/pv-protection` to every
//!   new volume; the pvc-protection controller removes the first once no pod uses the claim, the
//!   pv-protection controller the second once the volume is no longer `Bound`
//!   ("Storage Object in Use Protection", kubernetes.io/docs/concepts/storage/persistent-volumes/).
//! - Namespaces: created with `spec.finalizers: [kubernetes]`; a delete makes them Terminating,
//!   and the namespace controller deletes their content, reports progress in the
//!   `NamespaceDeletion*`, `NamespaceContentRemaining` and `NamespaceFinalizersRemaining`
//!   conditions, and removes the `kubernetes` finalizer once nothing is left, after which the
//!   namespace goes ("Namespaces", kubernetes.io/docs/tasks/administer-cluster/namespaces/ and
//!   the API reference's NamespaceCondition). The fake's controller starts
//!   [`Timing::namespace_cleanup`] after the delete.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

use crate::meta;
use crate::resources::ResourceType;

pub(crate) const PVC_PROTECTION: &str = "kubernetes.io/pvc-protection";
pub(crate) const PV_PROTECTION: &str = "kubernetes.io/pv-protection";
/// The namespace finalizer (in `spec.finalizers`) the namespace controller removes last.
pub(crate) const NAMESPACE_FINALIZER: &str = "kubernetes";
/// A pod's grace period when neither the delete nor the pod names one.
const DEFAULT_GRACE_SECONDS: i64 = 30;

/// How fast deletions progress here; short by default so tests stay fast.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timing {
    /// How long one second of a pod's grace period lasts (default 10 ms: 30 s take 0.3 s).
    pub grace_second: Duration,
    /// From a namespace's delete to its controller deleting the content (default 100 ms).
    pub namespace_cleanup: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            grace_second: Duration::from_millis(10),
            namespace_cleanup: Duration::from_millis(100),
        }
    }
}

/// Adds what admission and defaulting put on a new object: protection finalizers on claims
/// and volumes, the `kubernetes` finalizer on namespaces.
pub(crate) fn on_create(rt: &ResourceType, obj: &mut Value) {
    let finalizer = match (rt.group, rt.kind) {
        ("", "PersistentVolumeClaim") => PVC_PROTECTION,
        ("", "PersistentVolume") => PV_PROTECTION,
        ("", "Namespace") => {
            crate::defaults::set_if_missing(obj, "/spec/finalizers", json!([NAMESPACE_FINALIZER]));
            return;
        }
        _ => return,
    };
    let m = meta::metadata_mut(obj);
    let list = m.entry("finalizers").or_insert_with(|| json!([]));
    if let Some(items) = list.as_array_mut()
        && !items.iter().any(|f| f.as_str() == Some(finalizer))
    {
        items.push(json!(finalizer));
    }
}

/// The grace period a delete gives a pod: 0 for one no kubelet runs.
pub(crate) fn pod_grace(pod: &Value, requested: Option<i64>) -> i64 {
    let bound = !pod
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .unwrap_or("")
        .is_empty();
    let phase = pod.pointer("/status/phase").and_then(Value::as_str);
    if !bound || matches!(phase, Some("Succeeded" | "Failed")) {
        return 0;
    }
    requested
        .or_else(|| {
            pod.pointer("/spec/terminationGracePeriodSeconds")
                .and_then(Value::as_i64)
        })
        .unwrap_or(DEFAULT_GRACE_SECONDS)
        .max(0)
}

/// The grace period an object being deleted still waits for (0 once it may go).
pub(crate) fn pending_grace(obj: &Value) -> i64 {
    obj.pointer("/metadata/deletionGracePeriodSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

/// Marks `obj` deleted now with `grace` seconds to go.
pub(crate) fn mark(obj: &mut Value, grace: i64) {
    let now = meta::unix_now();
    let m = meta::metadata_mut(obj);
    m.insert(
        "deletionTimestamp".into(),
        json!(meta::format_rfc3339(now + grace.max(0) as u64)),
    );
    m.insert("deletionGracePeriodSeconds".into(), json!(grace));
}

/// Removes one finalizer from `obj`; whether it had it.
pub(crate) fn drop_finalizer(obj: &mut Value, finalizer: &str) -> bool {
    let Some(list) = obj
        .pointer_mut("/metadata/finalizers")
        .and_then(Value::as_array_mut)
    else {
        return false;
    };
    let before = list.len();
    list.retain(|f| f.as_str() != Some(finalizer));
    before != list.len()
}

pub(crate) fn has_finalizer(obj: &Value, finalizer: &str) -> bool {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|l| l.iter().any(|f| f.as_str() == Some(finalizer)))
}

/// Whether `pod` uses claim `claim` (the pvc-protection controller's test: a pod that has not
/// terminated and mounts the claim).
pub(crate) fn pod_uses_claim(pod: &Value, claim: &str) -> bool {
    let phase = pod.pointer("/status/phase").and_then(Value::as_str);
    if matches!(phase, Some("Succeeded" | "Failed")) {
        return false;
    }
    pod.pointer("/spec/volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|v| {
            v.pointer("/persistentVolumeClaim/claimName")
                .and_then(Value::as_str)
                == Some(claim)
        })
}

/// The content left in a Terminating namespace: (plural resource, objects) and
/// (finalizer, objects holding it).
#[derive(Debug, Default)]
pub(crate) struct Remaining {
    pub resources: BTreeMap<&'static str, usize>,
    pub finalizers: BTreeMap<String, usize>,
}

impl Remaining {
    pub(crate) fn add(&mut self, plural: &'static str, obj: &Value) {
        *self.resources.entry(plural).or_default() += 1;
        for f in obj
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            *self.finalizers.entry(f.to_string()).or_default() += 1;
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }
}

/// The namespace controller's conditions for what is left, worded as it words them.
pub(crate) fn namespace_conditions(left: &Remaining, previous: Option<&Value>) -> Value {
    let content = left
        .resources
        .iter()
        .map(|(r, n)| format!("{r}. has {n} resource instances"))
        .collect::<Vec<_>>()
        .join(", ");
    let finalizers = left
        .finalizers
        .iter()
        .map(|(f, n)| format!("{f} in {n} resource instances"))
        .collect::<Vec<_>>()
        .join(", ");
    let condition = |kind: &str, status: bool, reason: &str, message: String| {
        let status = if status { "True" } else { "False" };
        // The transition time only moves when the status does.
        let since = previous
            .and_then(Value::as_array)
            .and_then(|l| {
                l.iter()
                    .find(|c| c["type"] == kind && c["status"] == status)
            })
            .and_then(|c| c.get("lastTransitionTime").cloned())
            .unwrap_or_else(|| json!(meta::now_rfc3339()));
        json!({"type": kind, "status": status, "reason": reason, "message": message,
               "lastTransitionTime": since})
    };
    json!([
        condition(
            "NamespaceDeletionDiscoveryFailure",
            false,
            "ResourcesDiscovered",
            "All resources successfully discovered".into()
        ),
        condition(
            "NamespaceDeletionGroupVersionParsingFailure",
            false,
            "ParsedGroupVersions",
            "All legacy kube types successfully parsed".into()
        ),
        condition(
            "NamespaceDeletionContentFailure",
            false,
            "ContentDeleted",
            "All content successfully deleted, may be waiting on finalization".into()
        ),
        if content.is_empty() {
            condition(
                "NamespaceContentRemaining",
                false,
                "ContentRemoved",
                "All content successfully removed".into(),
            )
        } else {
            condition(
                "NamespaceContentRemaining",
                true,
                "SomeResourcesRemain",
                format!("Some resources are remaining: {content}"),
            )
        },
        if finalizers.is_empty() {
            condition(
                "NamespaceFinalizersRemaining",
                false,
                "ContentHasNoFinalizers",
                "All content-preserving finalizers finished".into(),
            )
        } else {
            condition(
                "NamespaceFinalizersRemaining",
                true,
                "SomeFinalizersRemain",
                format!("Some content in the namespace has finalizers remaining: {finalizers}"),
            )
        },
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pods_on_a_node_and_still_running_get_a_grace_period() {
        let unbound = json!({"spec": {}});
        assert_eq!(pod_grace(&unbound, None), 0);
        let bound = json!({"spec": {"nodeName": "n1", "terminationGracePeriodSeconds": 5}});
        assert_eq!(pod_grace(&bound, None), 5);
        assert_eq!(pod_grace(&bound, Some(0)), 0);
        let default = json!({"spec": {"nodeName": "n1"}, "status": {"phase": "Running"}});
        assert_eq!(pod_grace(&default, None), 30);
        let done = json!({"spec": {"nodeName": "n1"}, "status": {"phase": "Succeeded"}});
        assert_eq!(pod_grace(&done, None), 0);
    }
}
