//! Server-side defaulting on create: the few defaults the harness's code relies on seeing.

use serde_json::{Value, json};

use crate::meta::object_mut;
use crate::resources::ResourceType;

/// Fills defaults into a newly created object. `cluster_ip` allocates a Service IP.
pub(crate) fn on_create(
    rt: &ResourceType,
    obj: &mut Value,
    mut cluster_ip: impl FnMut() -> String,
) {
    match (rt.group, rt.kind) {
        ("", "Namespace") => set_if_missing(obj, "/status", json!({"phase": "Active"})),
        ("", "Pod") => set_if_missing(obj, "/status", json!({"phase": "Pending"})),
        ("", "PersistentVolumeClaim") | ("", "PersistentVolume") => {
            set_if_missing(obj, "/status", json!({"phase": "Pending"}))
        }
        ("", "Service") => {
            set_if_missing(obj, "/spec/type", json!("ClusterIP"));
            let ip = obj
                .pointer("/spec/clusterIP")
                .and_then(Value::as_str)
                .unwrap_or("");
            let external =
                obj.pointer("/spec/type").and_then(Value::as_str) == Some("ExternalName");
            if ip.is_empty() && !external {
                let ip = cluster_ip();
                set_path(obj, "/spec/clusterIP", json!(ip));
                set_path(obj, "/spec/clusterIPs", json!([ip]));
            } else if !external {
                set_if_missing(obj, "/spec/clusterIPs", json!([ip]));
            }
        }
        ("apps", "StatefulSet") => {
            set_if_missing(obj, "/spec/replicas", json!(1));
            set_if_missing(obj, "/spec/podManagementPolicy", json!("OrderedReady"));
            set_if_missing(
                obj,
                "/spec/updateStrategy",
                json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}),
            );
            set_if_missing(obj, "/spec/revisionHistoryLimit", json!(10));
        }
        ("apps", "Deployment") => {
            set_if_missing(obj, "/spec/replicas", json!(1));
            set_if_missing(
                obj,
                "/spec/strategy",
                json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}),
            );
            set_if_missing(obj, "/spec/revisionHistoryLimit", json!(10));
        }
        ("apps", "ReplicaSet") => set_if_missing(obj, "/spec/replicas", json!(1)),
        _ => {}
    }
}

/// Sets the value at a JSON pointer when nothing is there, creating parent objects.
pub(crate) fn set_if_missing(obj: &mut Value, pointer: &str, value: Value) {
    if obj.pointer(pointer).is_none_or(Value::is_null) {
        set_path(obj, pointer, value);
    }
}

/// Sets the value at a JSON pointer of plain object keys, creating parent objects.
pub(crate) fn set_path(obj: &mut Value, pointer: &str, value: Value) {
    let mut cur = obj;
    let mut segs = pointer.trim_start_matches('/').split('/').peekable();
    while let Some(seg) = segs.next() {
        let map = object_mut(cur);
        if segs.peek().is_none() {
            map.insert(seg.to_string(), value);
            return;
        }
        cur = map.entry(seg.to_string()).or_insert_with(|| json!({}));
    }
}
