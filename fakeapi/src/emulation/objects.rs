//! Small readers for the JSON objects the emulated controllers look at, and the helpers they
//! share (owner references, template hashes, pod readiness).

use serde_json::{Value, json};

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
