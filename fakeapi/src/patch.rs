//! Patch bodies: JSON merge patch, JSON patch, and an approximate strategic merge patch
//! (lists of containers, ports, volumes, env and the like merged by their key field).

use serde_json::{Map, Value};

use crate::status::ApiError;

/// The patch flavours the API accepts, named by their Content-Type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PatchType {
    Json,
    Merge,
    Strategic,
    Apply,
}

impl PatchType {
    pub(crate) fn from_content_type(ct: &str) -> Option<Self> {
        match ct.split(';').next().unwrap_or("").trim() {
            "application/json-patch+json" => Some(Self::Json),
            "application/merge-patch+json" => Some(Self::Merge),
            "application/strategic-merge-patch+json" => Some(Self::Strategic),
            "application/apply-patch+yaml" | "application/apply-patch+json" => Some(Self::Apply),
            _ => None,
        }
    }
}

/// Applies a JSON, merge or strategic patch to `doc` (apply patches go through `apply.rs`).
pub(crate) fn apply_patch(doc: &mut Value, kind: PatchType, patch: &Value) -> Result<(), ApiError> {
    match kind {
        PatchType::Json => {
            let p: json_patch::Patch = serde_json::from_value(patch.clone())
                .map_err(|e| ApiError::bad_request(format!("invalid JSON patch: {e}")))?;
            json_patch::patch(doc, &p).map_err(|e| {
                ApiError::new(
                    422,
                    "Invalid",
                    format!("the JSON patch could not be applied: {e}"),
                )
            })
        }
        PatchType::Merge => {
            json_patch::merge(doc, patch);
            Ok(())
        }
        PatchType::Strategic | PatchType::Apply => {
            if !patch.is_object() {
                return Err(ApiError::bad_request(
                    "a strategic merge patch must be a JSON object",
                ));
            }
            strategic_merge(doc, patch);
            Ok(())
        }
    }
}

/// Merges `patch` into `target` the way strategic merge patch does, for the common cases.
pub(crate) fn strategic_merge(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if p.get("$patch").and_then(Value::as_str) == Some("replace") {
                *target = strip_directives(patch);
                return;
            }
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            let Value::Object(t) = target else { return };
            for (k, v) in p {
                if k.starts_with("$setElementOrder/") || k == "$retainKeys" || k == "$patch" {
                    continue;
                }
                if let Some(list) = k.strip_prefix("$deleteFromPrimitiveList/") {
                    if let (Some(Value::Array(items)), Value::Array(gone)) = (t.get_mut(list), v) {
                        items.retain(|i| !gone.contains(i));
                    }
                    continue;
                }
                if v.is_null() {
                    t.remove(k);
                    continue;
                }
                match (t.get_mut(k), v) {
                    (Some(tv @ Value::Array(_)), Value::Array(items)) => merge_list(tv, items, k),
                    (Some(tv @ Value::Object(_)), Value::Object(_)) => strategic_merge(tv, v),
                    _ => {
                        t.insert(k.clone(), strip_directives(v));
                    }
                }
            }
        }
        other => *target = strip_directives(other),
    }
}

fn merge_list(target: &mut Value, patch: &[Value], field: &str) {
    let Value::Array(items) = target else { return };
    let Some(key) = merge_key(field, patch, items) else {
        *target = Value::Array(patch.iter().map(strip_directives).collect());
        return;
    };
    for p in patch {
        let id = p.get(key);
        let pos = items.iter().position(|i| i.get(key) == id);
        if p.get("$patch").and_then(Value::as_str) == Some("delete") {
            if let Some(pos) = pos {
                items.remove(pos);
            }
            continue;
        }
        match pos {
            Some(pos) => strategic_merge(&mut items[pos], p),
            None => items.push(strip_directives(p)),
        }
    }
}

/// The field that identifies list elements, by the list's field name (as the Kubernetes
/// schemas declare it), or `name` for other lists whose elements all have one.
pub(crate) fn merge_key(field: &str, patch: &[Value], existing: &[Value]) -> Option<&'static str> {
    let all_have = |k: &str| patch.iter().chain(existing).all(|v| v.get(k).is_some());
    let key = match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets" => "name",
        "volumeMounts" => "mountPath",
        "volumeDevices" => "devicePath",
        "conditions" => "type",
        "hostAliases" => "ip",
        "ports" if all_have("containerPort") => "containerPort",
        "ports" => "port",
        _ if !patch.is_empty() && patch.iter().all(Value::is_object) && all_have("name") => "name",
        _ => return None,
    };
    all_have(key).then_some(key)
}

/// A copy of `v` without `$patch`-style directives or nulls (which mean "delete" in patches).
fn strip_directives(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, v)| !k.starts_with('$') && !v.is_null())
                .map(|(k, v)| (k.clone(), strip_directives(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_directives).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strategic_merges_containers_by_name_and_ports_by_port() {
        let mut doc = json!({"spec": {"containers": [
            {"name": "app", "image": "a:1", "ports": [{"containerPort": 80, "name": "http"}]},
            {"name": "side", "image": "s:1"}
        ], "args": ["x"]}});
        let patch = json!({"spec": {"containers": [
            {"name": "app", "image": "a:2", "ports": [{"containerPort": 443, "name": "https"}]},
            {"name": "side", "$patch": "delete"},
            {"name": "new", "image": "n:1"}
        ], "args": ["y"]}});
        apply_patch(&mut doc, PatchType::Strategic, &patch).unwrap();
        assert_eq!(
            doc,
            json!({"spec": {"containers": [
                {"name": "app", "image": "a:2", "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 443, "name": "https"}]},
                {"name": "new", "image": "n:1"}
            ], "args": ["y"]}})
        );
    }

    #[test]
    fn merge_and_json_patches() {
        let mut doc = json!({"a": {"b": 1, "c": 2}});
        apply_patch(
            &mut doc,
            PatchType::Merge,
            &json!({"a": {"b": null, "d": 3}}),
        )
        .unwrap();
        assert_eq!(doc, json!({"a": {"c": 2, "d": 3}}));
        apply_patch(
            &mut doc,
            PatchType::Json,
            &json!([{"op": "replace", "path": "/a/c", "value": 5}]),
        )
        .unwrap();
        assert_eq!(doc, json!({"a": {"c": 5, "d": 3}}));
        let err = apply_patch(
            &mut doc,
            PatchType::Json,
            &json!([{"op": "test", "path": "/a/c", "value": 6}]),
        );
        assert_eq!(err.map_err(|e| e.code), Err(422));
    }
}
