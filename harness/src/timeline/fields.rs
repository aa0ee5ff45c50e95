//! What the timeline records of each kind: the fields ordering assertions and readers need.

use super::{Change, TimelineEntry};
use crate::scenario::model::Kind;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

fn at<'a>(object: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(object, |value, key| value.get(key))
}

fn text(object: &Value, path: &[&str]) -> Option<String> {
    at(object, path).and_then(Value::as_str).map(str::to_owned)
}

fn int(object: &Value, path: &[&str]) -> Option<i64> {
    at(object, path).and_then(Value::as_i64)
}

fn condition(object: &Value, kind: &str) -> Option<bool> {
    at(object, &["status", "conditions"])?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
        .and_then(|c| c.get("status").and_then(Value::as_str))
        .map(|status| status == "True")
}

/// A timeline entry for `object` (a JSON object of `kind`) at `at`.
pub fn entry_for(kind: Kind, change: Change, object: &Value, when: Duration) -> TimelineEntry {
    let labels: BTreeMap<String, String> = at_labels(object);
    let mut entry = TimelineEntry {
        at: when,
        change,
        kind: Some(kind),
        name: text(object, &["metadata", "name"]).unwrap_or_default(),
        uid: text(object, &["metadata", "uid"]).unwrap_or_default(),
        labels,
        phase: None,
        ready: None,
        deleting: at(object, &["metadata", "deletionTimestamp"]).is_some_and(|v| !v.is_null()),
        revision: None,
        node: None,
        volume_name: None,
        detail: String::new(),
    };
    let mut detail = Vec::new();
    match kind {
        Kind::Pod => {
            entry.phase = text(object, &["status", "phase"]);
            entry.ready = Some(condition(object, "Ready").unwrap_or(false));
            entry.revision = entry
                .labels
                .get("controller-revision-hash")
                .or_else(|| entry.labels.get("pod-template-hash"))
                .cloned();
            entry.node = text(object, &["spec", "nodeName"]);
            if let Some(ordinal) = entry.labels.get("apps.kubernetes.io/pod-index") {
                detail.push(format!("ordinal={ordinal}"));
            }
            let restarts: i64 = at(object, &["status", "containerStatuses"])
                .and_then(Value::as_array)
                .map(|statuses| {
                    statuses
                        .iter()
                        .filter_map(|s| s.get("restartCount").and_then(Value::as_i64))
                        .sum()
                })
                .unwrap_or(0);
            if restarts > 0 {
                detail.push(format!("restarts={restarts}"));
            }
            if let Some(ip) = text(object, &["status", "podIP"]) {
                detail.push(format!("ip={ip}"));
            }
        }
        Kind::PersistentVolumeClaim => {
            entry.phase = text(object, &["status", "phase"]);
            entry.volume_name = text(object, &["spec", "volumeName"]);
        }
        Kind::PersistentVolume => {
            entry.phase = text(object, &["status", "phase"]);
            if let (Some(ns), Some(name)) = (
                text(object, &["spec", "claimRef", "namespace"]),
                text(object, &["spec", "claimRef", "name"]),
            ) {
                detail.push(format!("claim={ns}/{name}"));
            }
            if let Some(policy) = text(object, &["spec", "persistentVolumeReclaimPolicy"]) {
                detail.push(format!("reclaim={policy}"));
            }
        }
        Kind::StatefulSet | Kind::Deployment | Kind::ReplicaSet => {
            let desired = int(object, &["spec", "replicas"]).unwrap_or(1);
            let ready = int(object, &["status", "readyReplicas"]).unwrap_or(0);
            entry.ready = Some(ready >= desired);
            entry.revision = if kind == Kind::StatefulSet {
                text(object, &["status", "updateRevision"])
            } else {
                text(
                    object,
                    &[
                        "metadata",
                        "annotations",
                        "deployment.kubernetes.io/revision",
                    ],
                )
            };
            detail.push(format!(
                "replicas={desired} status.replicas={} ready={ready}",
                int(object, &["status", "replicas"]).unwrap_or(0)
            ));
            for (key, path) in [
                ("updated", ["status", "updatedReplicas"]),
                ("available", ["status", "availableReplicas"]),
            ] {
                if let Some(value) = int(object, &path) {
                    detail.push(format!("{key}={value}"));
                }
            }
            if kind == Kind::StatefulSet
                && let Some(current) = text(object, &["status", "currentRevision"])
            {
                detail.push(format!("currentRevision={current}"));
            }
        }
        Kind::Service => {
            if let Some(ip) = text(object, &["spec", "clusterIP"]) {
                detail.push(format!("clusterIP={ip}"));
            }
        }
        Kind::EndpointSlice => {
            let endpoints = at(object, &["endpoints"])
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let listed: Vec<String> = endpoints
                .iter()
                .map(|endpoint| {
                    let address = endpoint
                        .get("addresses")
                        .and_then(Value::as_array)
                        .and_then(|a| a.first())
                        .and_then(Value::as_str)
                        .unwrap_or("?");
                    let pod = text(endpoint, &["targetRef", "name"]).unwrap_or_default();
                    let ready = at(endpoint, &["conditions", "ready"]).and_then(Value::as_bool)
                        != Some(false);
                    format!("{pod}@{address}{}", if ready { "" } else { "(not ready)" })
                })
                .collect();
            detail.push(format!("endpoints=[{}]", listed.join(" ")));
        }
        Kind::Event => {
            let involved = format!(
                "{}/{}",
                text(object, &["involvedObject", "kind"])
                    .unwrap_or_default()
                    .to_ascii_lowercase(),
                text(object, &["involvedObject", "name"]).unwrap_or_default()
            );
            let count = int(object, &["count"]).unwrap_or(1);
            detail.push(format!(
                "{} {} {involved}: {}{}",
                text(object, &["type"]).unwrap_or_default(),
                text(object, &["reason"]).unwrap_or_default(),
                text(object, &["message"]).unwrap_or_default(),
                if count > 1 {
                    format!(" (x{count})")
                } else {
                    String::new()
                }
            ));
        }
        _ => {}
    }
    entry.detail = detail.join(" ");
    entry
}

fn at_labels(object: &Value) -> BTreeMap<String, String> {
    at(object, &["metadata", "labels"])
        .and_then(Value::as_object)
        .map(|labels| {
            labels
                .iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether two entries for the same object record the same state (so the second adds nothing).
pub fn same_state(a: &TimelineEntry, b: &TimelineEntry) -> bool {
    a.phase == b.phase
        && a.ready == b.ready
        && a.deleting == b.deleting
        && a.revision == b.revision
        && a.node == b.node
        && a.volume_name == b.volume_name
        && a.detail == b.detail
        && a.labels == b.labels
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn records_pod_fields() {
        let pod = json!({
            "metadata": {"name": "web-1", "uid": "u1", "labels": {
                "controller-revision-hash": "web-abc", "apps.kubernetes.io/pod-index": "1"}},
            "spec": {"nodeName": "node-a"},
            "status": {"phase": "Running", "podIP": "10.0.0.7",
                "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [{"restartCount": 2}]}
        });
        let entry = entry_for(
            Kind::Pod,
            Change::Modified,
            &pod,
            Duration::from_millis(1500),
        );
        assert_eq!(entry.phase.as_deref(), Some("Running"));
        assert_eq!(entry.ready, Some(true));
        assert_eq!(entry.revision.as_deref(), Some("web-abc"));
        assert_eq!(entry.node.as_deref(), Some("node-a"));
        assert_eq!(entry.detail, "ordinal=1 restarts=2 ip=10.0.0.7");
        assert_eq!(
            entry.to_line(),
            "+1.500s pod/web-1 MODIFIED phase=Running ready=true revision=web-abc node=node-a ordinal=1 restarts=2 ip=10.0.0.7"
        );
    }

    #[test]
    fn records_claims_and_workloads() {
        let pvc = json!({"metadata": {"name": "data-web-0"}, "spec": {"volumeName": "pv-1"},
            "status": {"phase": "Bound"}});
        let entry = entry_for(
            Kind::PersistentVolumeClaim,
            Change::Added,
            &pvc,
            Duration::ZERO,
        );
        assert_eq!(entry.volume_name.as_deref(), Some("pv-1"));
        assert_eq!(entry.phase.as_deref(), Some("Bound"));

        let sts = json!({"metadata": {"name": "web"}, "spec": {"replicas": 3},
            "status": {"replicas": 3, "readyReplicas": 2, "updateRevision": "web-b",
                       "currentRevision": "web-a"}});
        let entry = entry_for(Kind::StatefulSet, Change::Modified, &sts, Duration::ZERO);
        assert_eq!(entry.ready, Some(false));
        assert_eq!(entry.revision.as_deref(), Some("web-b"));
        assert!(
            entry.detail.contains("currentRevision=web-a"),
            "{}",
            entry.detail
        );
    }
}
