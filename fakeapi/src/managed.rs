//! Field ownership as server-side apply tracks it in `metadata.managedFields`: which manager
//! owns which leaf field, the conflicts a non-forced apply meets, and the `Update` entries that
//! ordinary writes (PUT, merge/JSON/strategic patches) record.
//!
//! The API server records every write's changed fields under its field manager, for applies
//! and updates alike (operation `Apply` or `Update`); an apply that would change a field another
//! manager owns is refused with `409 Conflict` and one `FieldManagerConflict` cause per field,
//! unless it is forced, which moves the fields to the applier ("Server-Side Apply", sections
//! "Field Management" and "Conflicts", kubernetes.io/docs/reference/using-api/server-side-apply/).
//! A conflict only arises when the values differ: applying the value a field already has makes
//! the applier a co-owner.

use serde_json::{Map, Value, json};

use crate::meta::{self, metadata_mut};
use crate::patch::merge_key;
use crate::resources::ResourceType;
use crate::status::ApiError;

/// One step of a field path in a `FieldsV1` set: `f:<name>` or `k:{<key>:<value>}`.
type FieldPath = Vec<String>;

/// The leaf fields of a `FieldsV1` set (entries with no children but the `.` marker).
pub(crate) fn leaves(set: &Value) -> Vec<FieldPath> {
    let mut out = Vec::new();
    collect_leaves(set, &mut Vec::new(), &mut out);
    out
}

fn collect_leaves(set: &Value, prefix: &mut FieldPath, out: &mut Vec<FieldPath>) {
    let Some(map) = set.as_object() else { return };
    let children: Vec<(&String, &Value)> = map.iter().filter(|(k, _)| *k != ".").collect();
    if children.is_empty() {
        if !prefix.is_empty() {
            out.push(prefix.clone());
        }
        return;
    }
    for (k, child) in children {
        prefix.push(k.clone());
        collect_leaves(child, prefix, out);
        prefix.pop();
    }
}

/// The value a field path addresses in an object, if any.
pub(crate) fn value_at<'a>(doc: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(doc, |cur, step| {
        if let Some(field) = step.strip_prefix("f:") {
            cur.get(field)
        } else {
            let id = step
                .strip_prefix("k:")
                .and_then(|k| serde_json::from_str::<Map<String, Value>>(k).ok())?;
            cur.as_array()?
                .iter()
                .find(|item| id.iter().all(|(k, v)| item.get(k) == Some(v)))
        }
    })
}

/// Removes a leaf path from a `FieldsV1` set, dropping parents it leaves empty.
fn remove(set: &mut Value, path: &[String]) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let Some(map) = set.as_object_mut() else {
        return;
    };
    if rest.is_empty() {
        map.remove(first);
        return;
    }
    if let Some(child) = map.get_mut(first) {
        remove(child, rest);
        let emptied = child
            .as_object()
            .is_some_and(|c| c.keys().all(|k| k == "."));
        if emptied {
            map.remove(first);
        }
    }
}

/// A field path as the API server prints it: `.spec.containers[name="app"].image`.
pub(crate) fn render(path: &[String]) -> String {
    let mut out = String::new();
    for step in path {
        if let Some(field) = step.strip_prefix("f:") {
            out.push('.');
            out.push_str(field);
        } else if let Some(id) = step
            .strip_prefix("k:")
            .and_then(|k| serde_json::from_str::<Map<String, Value>>(k).ok())
        {
            let keys: Vec<String> = id.iter().map(|(k, v)| format!("{k}={v}")).collect();
            out.push_str(&format!("[{}]", keys.join(",")));
        }
    }
    out
}

/// A manager's identity in `managedFields`: name, operation and subresource.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Manager<'a> {
    pub name: &'a str,
    pub operation: &'a str,
    pub subresource: Option<&'a str>,
}

impl Manager<'_> {
    pub(crate) fn owns(&self, entry: &Value) -> bool {
        entry.get("manager").and_then(Value::as_str) == Some(self.name)
            && entry.get("operation").and_then(Value::as_str) == Some(self.operation)
            && entry.get("subresource").and_then(Value::as_str) == self.subresource
    }

    fn entry(&self, api_version: &str, fields: Value) -> Value {
        let mut entry = json!({
            "manager": self.name,
            "operation": self.operation,
            "apiVersion": api_version,
            "time": meta::now_rfc3339(),
            "fieldsType": "FieldsV1",
            "fieldsV1": fields,
        });
        if let Some(s) = self.subresource {
            entry["subresource"] = json!(s);
        }
        entry
    }
}

/// The `managedFields` entries of an object.
pub(crate) fn entries(obj: &Value) -> Vec<Value> {
    obj.pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// One field another manager owns with a different value than the one applied.
#[derive(Debug, Clone)]
pub(crate) struct Conflict {
    pub manager: String,
    pub api_version: String,
    pub path: FieldPath,
}

/// The fields of `applied_set` that other managers own in `current` with a value other than
/// the one `config` applies.
pub(crate) fn conflicts(
    current: &Value,
    config: &Value,
    applied_set: &Value,
    me: &Manager<'_>,
) -> Vec<Conflict> {
    let mut found = Vec::new();
    let applied = leaves(applied_set);
    for entry in entries(current).iter().filter(|e| !me.owns(e)) {
        let name = entry.get("manager").and_then(Value::as_str).unwrap_or("");
        if name == me.name {
            // The same manager writing both ways does not conflict with itself.
            continue;
        }
        let owned = entry.get("fieldsV1").map(leaves).unwrap_or_default();
        for path in applied.iter().filter(|p| owned.contains(p)) {
            if value_at(current, path) != value_at(config, path) {
                found.push(Conflict {
                    manager: name.to_string(),
                    api_version: entry
                        .get("apiVersion")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    path: path.clone(),
                });
            }
        }
    }
    found
}

/// The `409 Conflict` an unforced apply gets, worded as the API server words it.
pub(crate) fn conflict_error(rt: &ResourceType, name: &str, found: &[Conflict]) -> ApiError {
    let n = found.len();
    let mut by_manager: Vec<(&str, &str, Vec<String>)> = Vec::new();
    for c in found {
        let field = render(&c.path);
        match by_manager
            .iter_mut()
            .find(|(m, v, _)| *m == c.manager && *v == c.api_version)
        {
            Some((_, _, fields)) => fields.push(field),
            None => by_manager.push((&c.manager, &c.api_version, vec![field])),
        }
    }
    let parts: Vec<String> = by_manager
        .iter()
        .map(|(m, v, fields)| match fields.as_slice() {
            [one] => format!("conflict with \"{m}\" using {v}: {one}"),
            many => format!("conflicts with \"{m}\" using {v}:\n- {}", many.join("\n- ")),
        })
        .collect();
    let plural = if n == 1 { "conflict" } else { "conflicts" };
    let causes: Vec<Value> = found
        .iter()
        .map(|c| {
            json!({
                "reason": "FieldManagerConflict",
                "message": format!("conflict with \"{}\" using {}", c.manager, c.api_version),
                "field": render(&c.path),
            })
        })
        .collect();
    ApiError::new(
        409,
        "Conflict",
        format!("Apply failed with {n} {plural}: {}", parts.join("\n")),
    )
    .with_details(json!({"name": name, "group": rt.group, "kind": rt.plural, "causes": causes}))
}

/// Takes `paths` away from every manager but `me` (a forced apply, or an update that changed
/// them), dropping entries left owning nothing.
pub(crate) fn take_over(managed: Vec<Value>, paths: &[FieldPath], me: &Manager<'_>) -> Vec<Value> {
    managed
        .into_iter()
        .filter_map(|mut entry| {
            if me.owns(&entry) {
                return Some(entry);
            }
            if let Some(set) = entry.get_mut("fieldsV1") {
                for p in paths {
                    remove(set, p);
                }
                if set.as_object().is_some_and(Map::is_empty) {
                    return None;
                }
            }
            Some(entry)
        })
        .collect()
}

/// Records an ordinary write (operation `Update`) in `new`'s `managedFields`: `me` now owns
/// the leaf fields that differ from `old`, and other managers lose them.
pub(crate) fn record_update(old: &Value, new: &mut Value, me: &Manager<'_>, api_version: &str) {
    let mut changed = Map::new();
    diff_fields(
        old.get("metadata"),
        new.get("metadata"),
        "metadata",
        &mut changed,
        true,
    );
    let mut set = Map::new();
    if !changed.is_empty() {
        set.insert("f:metadata".into(), Value::Object(changed));
    }
    let empty = Map::new();
    let new_map = new.as_object().unwrap_or(&empty);
    for (k, v) in new_map {
        if matches!(k.as_str(), "metadata" | "apiVersion" | "kind") {
            continue;
        }
        if (k == "status") != (me.subresource == Some("status")) {
            continue;
        }
        let mut child = Map::new();
        diff_fields(old.get(k), Some(v), k, &mut child, false);
        if old.get(k) != Some(v) {
            set.insert(format!("f:{k}"), Value::Object(child));
        }
    }
    if set.is_empty() {
        return;
    }
    let set = Value::Object(set);
    let paths = leaves(&set);
    // A write that leaves managedFields out keeps them, as the store does.
    let managed = if new.pointer("/metadata/managedFields").is_some() {
        entries(new)
    } else {
        entries(old)
    };
    let mut merged_set = managed
        .iter()
        .find(|e| me.owns(e))
        .and_then(|e| e.get("fieldsV1").cloned())
        .unwrap_or_else(|| json!({}));
    merge_sets(&mut merged_set, &set);
    let mut kept: Vec<Value> = take_over(managed, &paths, me)
        .into_iter()
        .filter(|e| !me.owns(e))
        .collect();
    kept.push(me.entry(api_version, merged_set));
    metadata_mut(new).insert("managedFields".into(), json!(kept));
}

/// The entry an apply records for itself.
pub(crate) fn apply_entry(me: &Manager<'_>, api_version: &str, fields: Value) -> Value {
    me.entry(api_version, fields)
}

fn merge_sets(into: &mut Value, from: &Value) {
    let (Some(into), Some(from)) = (into.as_object_mut(), from.as_object()) else {
        return;
    };
    for (k, v) in from {
        merge_sets(into.entry(k.clone()).or_insert_with(|| json!({})), v);
    }
}

/// The leaf fields of `new` that differ from `old`, as a `FieldsV1` set into `out`.
/// `meta` leaves out metadata the server owns.
fn diff_fields(
    old: Option<&Value>,
    new: Option<&Value>,
    field: &str,
    out: &mut Map<String, Value>,
    meta: bool,
) {
    let Some(new) = new else { return };
    match new {
        Value::Object(m) => {
            for (k, v) in m {
                if meta
                    && matches!(
                        k.as_str(),
                        "name"
                            | "namespace"
                            | "uid"
                            | "resourceVersion"
                            | "generation"
                            | "creationTimestamp"
                            | "deletionTimestamp"
                            | "deletionGracePeriodSeconds"
                            | "managedFields"
                    )
                {
                    continue;
                }
                let before = old.and_then(|o| o.get(k));
                if before == Some(v) {
                    continue;
                }
                let mut child = Map::new();
                diff_fields(before, Some(v), k, &mut child, false);
                out.insert(format!("f:{k}"), Value::Object(child));
            }
        }
        Value::Array(items) => {
            let existing = old.and_then(Value::as_array).map(Vec::as_slice);
            let Some(key) = merge_key(field, items, existing.unwrap_or(&[])) else {
                return;
            };
            for item in items {
                let id = item.get(key).cloned().unwrap_or(Value::Null);
                let before = existing
                    .into_iter()
                    .flatten()
                    .find(|o| o.get(key) == Some(&id));
                if before == Some(item) {
                    continue;
                }
                let mut child = Map::new();
                diff_fields(before, Some(item), field, &mut child, false);
                child.insert(".".into(), json!({}));
                out.insert(format!("k:{}", json!({ key: id })), Value::Object(child));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn manager(name: &str) -> Manager<'_> {
        Manager {
            name,
            operation: "Update",
            subresource: None,
        }
    }

    #[test]
    fn an_update_owns_what_it_changed_and_takes_it_from_others() {
        let old = json!({"metadata": {"name": "web", "managedFields": [
            {"manager": "applier", "operation": "Apply", "fieldsV1": {"f:spec": {"f:replicas": {}, "f:image": {}}}}
        ]}, "spec": {"replicas": 1, "image": "a"}});
        let mut new = old.clone();
        new["spec"]["replicas"] = json!(3);
        record_update(&old, &mut new, &manager("scaler"), "apps/v1");
        let managed = entries(&new);
        assert_eq!(
            managed[0]["fieldsV1"],
            json!({"f:spec": {"f:image": {}}}),
            "the applier lost spec.replicas"
        );
        assert_eq!(managed[1]["manager"], "scaler");
        assert_eq!(
            managed[1]["fieldsV1"],
            json!({"f:spec": {"f:replicas": {}}})
        );
    }

    #[test]
    fn conflicts_name_differing_fields_only() {
        let current = json!({"metadata": {"managedFields": [
            {"manager": "scaler", "operation": "Update", "apiVersion": "apps/v1", "fieldsV1": {"f:spec": {"f:replicas": {}, "f:paused": {}}}}
        ]}, "spec": {"replicas": 3, "paused": false}});
        let config = json!({"spec": {"replicas": 1, "paused": false}});
        let set = json!({"f:spec": {"f:replicas": {}, "f:paused": {}}});
        let me = Manager {
            name: "petset",
            operation: "Apply",
            subresource: None,
        };
        let found = conflicts(&current, &config, &set, &me);
        assert_eq!(found.len(), 1);
        assert_eq!(render(&found[0].path), ".spec.replicas");
        assert_eq!(
            render(&[
                "f:spec".into(),
                "f:containers".into(),
                "k:{\"name\":\"app\"}".into(),
                "f:image".into()
            ]),
            ".spec.containers[name=\"app\"].image"
        );
    }
}
