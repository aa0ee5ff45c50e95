//! Small readers for the JSON objects the emulated controllers look at, and the helpers they
//! share (owner references, template hashes, pod readiness).

use serde_json::{Value, json};

use crate::handle::Handle;

pub(crate) fn s<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

pub(crate) fn int(v: &Value, pointer: &str) -> Option<i64> {
    v.pointer(pointer).and_then(Value::as_i64)
}

pub(crate) fn arr<'a>(v: &'a Value, pointer: &str) -> &'a [Value] {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

pub(crate) fn name(v: &Value) -> &str {
    s(v, "/metadata/name")
}

pub(crate) fn uid(v: &Value) -> &str {
    s(v, "/metadata/uid")
}

pub(crate) fn deleting(v: &Value) -> bool {
    v.pointer("/metadata/deletionTimestamp")
        .is_some_and(|t| !t.is_null())
}

pub(crate) fn label<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.pointer("/metadata/labels")
        .and_then(|l| l.get(key))
        .and_then(Value::as_str)
}

pub(crate) fn annotation<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.pointer("/metadata/annotations")
        .and_then(|l| l.get(key))
        .and_then(Value::as_str)
}

/// Whether `v` is controlled by the object with `owner_uid`.
pub(crate) fn owned_by(v: &Value, owner_uid: &str) -> bool {
    arr(v, "/metadata/ownerReferences")
        .iter()
        .any(|r| s(r, "/uid") == owner_uid)
}

/// An owner reference naming `owner` as the controller.
pub(crate) fn owner_ref(owner: &Value) -> Value {
    json!({
        "apiVersion": s(owner, "/apiVersion"),
        "kind": s(owner, "/kind"),
        "name": name(owner),
        "uid": uid(owner),
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

/// Whether every `matchLabels` pair of a selector is among the labels of `v`.
pub(crate) fn selects(selector: &Value, v: &Value) -> bool {
    let Some(wanted) = selector.as_object() else {
        return false;
    };
    !wanted.is_empty() && wanted.iter().all(|(k, want)| label(v, k) == want.as_str())
}

/// A stable short hash of a pod template (labels the controllers add are left out), in the
/// lowercase alphanumerics of real template hashes.
pub(crate) fn template_hash(template: &Value) -> String {
    let mut t = template.clone();
    if let Some(labels) = t
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove("pod-template-hash");
        labels.remove("controller-revision-hash");
    }
    // FNV-1a over the canonical (sorted-key) JSON text.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in t.to_string().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..9)
        .map(|_| {
            let c = ALPHABET[(h % ALPHABET.len() as u64) as usize] as char;
            h /= ALPHABET.len() as u64;
            c
        })
        .collect()
}

pub(crate) fn pod_ready(pod: &Value) -> bool {
    arr(pod, "/status/conditions")
        .iter()
        .any(|c| s(c, "/type") == "Ready" && s(c, "/status") == "True")
}

pub(crate) fn pod_running_ready(pod: &Value) -> bool {
    !deleting(pod) && s(pod, "/status/phase") == "Running" && pod_ready(pod)
}

/// An int-or-percent field (`maxSurge: 1`, `"25%"`) of `total`, rounded up or down.
pub(crate) fn int_or_percent(v: Option<&Value>, total: i64, round_up: bool, default: i64) -> i64 {
    match v {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(default),
        Some(Value::String(text)) => {
            match text.strip_suffix('%').and_then(|p| p.parse::<i64>().ok()) {
                Some(p) if round_up => (p * total + 99) / 100,
                Some(p) => p * total / 100,
                None => text.parse().unwrap_or(default),
            }
        }
        _ => default,
    }
}

/// Writes a workload's computed `status` (apps/v1 `kind`) when one of `fields`, or the first
/// condition's status if it has conditions, differs from what the object shows: an unchanged
/// status makes no write, so no watch event and no reconcile loop.
pub(crate) fn publish_status(
    h: &Handle,
    kind: &str,
    namespace: &str,
    obj: &Value,
    status: Value,
    fields: &[&str],
) {
    let shown = |f: &str| obj.pointer(&format!("/status/{f}"));
    let differs = fields.iter().any(|f| shown(f) != status.get(*f))
        || status.get("conditions").is_some()
            && obj.pointer("/status/conditions/0/status") != status.pointer("/conditions/0/status");
    if differs {
        let _ = h.set_status("apps/v1", kind, Some(namespace), name(obj), status);
    }
}

/// A pod a workload controller creates from a pod `template` of `owner`: the template's
/// annotations, the given `labels` and `spec`, owned by `owner` and carrying the kubelet
/// emulation's finalizer.
pub(crate) fn pod_from_template(
    owner: &Value,
    template: &Value,
    (namespace, pod_name): (&str, &str),
    labels: Value,
    spec: Value,
) -> Value {
    let annotations = template
        .pointer("/metadata/annotations")
        .cloned()
        .unwrap_or(json!({}));
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": pod_name,
            "namespace": namespace,
            "labels": labels,
            "annotations": annotations,
            "ownerReferences": [owner_ref(owner)],
            "finalizers": [super::kubelet::FINALIZER],
        },
        "spec": spec,
    })
}

/// Creates `object` through the handle unless an object of its kind and name exists: what the
/// emulation finds in place at start, as a cluster's installer would have left it.
pub(crate) fn create_missing(h: &Handle, object: Value) {
    let (api_version, kind) = (s(&object, "/apiVersion"), s(&object, "/kind"));
    let namespace = object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str);
    if h.get(api_version, kind, namespace, name(&object)).is_none() {
        // Only a concurrent create of the same object can fail here, which leaves it in place.
        let _ = h.create(object);
    }
}
