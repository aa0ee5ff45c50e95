//! Server-side apply, approximated: create when missing, strategic-merge the applied config,
//! drop fields the same manager applied before but no longer does, and record `managedFields`.
//! An apply that would change a field another manager owns is a `409 Conflict` naming the
//! fields, unless `force=true` moves them to the applier (see [`crate::managed`]). Unknown fields
//! and unsupported values are refused (see [`crate::strict`]); `dryRun=All` answers without
//! storing.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::events::Verb;
use crate::handle::Handle;
use crate::managed::{self, Manager};
use crate::meta::{self, metadata_mut};
use crate::patch::{merge_key, strategic_merge};
use crate::path::{Params, RequestTarget};
use crate::status::ApiError;
use crate::store::{Part, WriteCtx};

pub(crate) fn serve(
    h: &Handle,
    target: &RequestTarget,
    params: &Params,
    applied: Value,
    part: Part,
) -> Result<Response, ApiError> {
    let rt = target.rt();
    let name = target.name.clone().unwrap_or_default();
    let manager = params.get("fieldManager").filter(|m| !m.is_empty()).ok_or_else(|| {
        ApiError::invalid(
            rt,
            &name,
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
        )
    })?;
    if !applied.is_object() {
        return Err(ApiError::bad_request("an apply patch must be an object"));
    }
    let body_name = meta::name(&applied);
    if !body_name.is_empty() && body_name != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    let mut config = applied;
    if let Some(m) = config.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("managedFields");
    }
    crate::strict::check(
        rt,
        target.ns.as_deref(),
        &name,
        &config,
        crate::strict::Via::Apply,
        params,
    )?;
    let dry_run = crate::strict::dry_run(params)?;
    let fields = field_set(&config, "");
    let sub = (part == Part::Status).then_some("status");
    let mut ctx = WriteCtx::api(Verb::Patch);
    if let Some(s) = sub {
        ctx = ctx.sub(s);
    }
    let me = Manager {
        name: manager,
        operation: "Apply",
        subresource: sub,
    };
    let force = params.flag("force");
    let entry = managed::apply_entry(&me, &rt.api_version(), fields.clone());
    let (out, created) = h.write(|s| {
        let Some(old) = s.get(target.res, target.ns_key(), &name).cloned() else {
            if part == Part::Status {
                return Err(ApiError::not_found(rt, &name));
            }
            let mut obj = config.clone();
            metadata_mut(&mut obj).insert("name".into(), json!(name));
            metadata_mut(&mut obj).insert("managedFields".into(), json!([entry]));
            if dry_run {
                // A dry run answers what would be stored, and stores nothing.
                return Ok((obj, true));
            }
            return s
                .create(target.res, target.ns.as_deref(), obj, ctx)
                .map(|o| (o, true));
        };
        let found = managed::conflicts(&old, &config, &fields, &me);
        let mut managed = managed::entries(&old);
        if !found.is_empty() {
            if !force {
                return Err(managed::conflict_error(rt, &name, &found));
            }
            let taken: Vec<_> = found.into_iter().map(|c| c.path).collect();
            managed = managed::take_over(managed, &taken, &me);
        }
        let mut doc = old.clone();
        let is_mine = |e: &Value| me.owns(e);
        if let Some(before) = managed
            .iter()
            .find(|e| is_mine(e))
            .and_then(|e| e.get("fieldsV1"))
        {
            let others: Vec<&Value> = managed
                .iter()
                .filter(|e| !is_mine(e))
                .filter_map(|e| e.get("fieldsV1"))
                .collect();
            prune(&mut doc, before, &fields, &others);
        }
        strategic_merge(&mut doc, &config);
        let mut entries: Vec<Value> = managed.into_iter().filter(|e| !is_mine(e)).collect();
        entries.push(entry.clone());
        metadata_mut(&mut doc).insert("managedFields".into(), json!(entries));
        if dry_run {
            return Ok((doc, false));
        }
        s.update(target.res, target.ns_key(), &name, doc, part, ctx)
            .map(|o| (o, false))
    })?;
    let code = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((code, Json(out)).into_response())
}

/// The `FieldsV1` set of an applied config: `f:<field>` for map keys, `k:{...}` for keyed
/// list elements; other lists are owned as a whole.
fn field_set(v: &Value, field: &str) -> Value {
    let mut set = Map::new();
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                if field.is_empty() && matches!(k.as_str(), "apiVersion" | "kind") {
                    continue;
                }
                if field == "metadata"
                    && matches!(k.as_str(), "name" | "namespace" | "resourceVersion" | "uid")
                {
                    continue;
                }
                set.insert(format!("f:{k}"), field_set(child, k));
            }
        }
        Value::Array(items) => {
            if let Some(key) = merge_key(field, items, &[]) {
                for item in items {
                    let id = json!({ key: item.get(key).cloned().unwrap_or(Value::Null) });
                    let mut child = field_set(item, field);
                    if let Some(c) = child.as_object_mut() {
                        c.insert(".".into(), json!({}));
                    }
                    set.insert(format!("k:{id}"), child);
                }
            }
        }
        _ => {}
    }
    Value::Object(set)
}

/// Removes from `doc` what `before` owned and `now` does not, unless another manager owns it.
fn prune(doc: &mut Value, before: &Value, now: &Value, others: &[&Value]) {
    let Some(before) = before.as_object() else {
        return;
    };
    for (entry, old_child) in before {
        if entry == "." {
            continue;
        }
        let new_child = now.get(entry);
        let other_children: Vec<&Value> = others.iter().filter_map(|o| o.get(entry)).collect();
        if let Some(field) = entry.strip_prefix("f:") {
            let Some(map) = doc.as_object_mut() else {
                continue;
            };
            match new_child {
                None if other_children.is_empty() => {
                    map.remove(field);
                }
                _ => {
                    if let Some(child) = map.get_mut(field) {
                        prune(
                            child,
                            old_child,
                            new_child.unwrap_or(&Value::Null),
                            &other_children,
                        );
                    }
                }
            }
        } else if let Some(key) = entry.strip_prefix("k:") {
            let Ok(Value::Object(id)) = serde_json::from_str::<Value>(key) else {
                continue;
            };
            let Some(items) = doc.as_array_mut() else {
                continue;
            };
            let pos = items
                .iter()
                .position(|i| id.iter().all(|(k, v)| i.get(k) == Some(v)));
            let Some(pos) = pos else { continue };
            match new_child {
                None if other_children.is_empty() => {
                    items.remove(pos);
                }
                _ => prune(
                    &mut items[pos],
                    old_child,
                    new_child.unwrap_or(&Value::Null),
                    &other_children,
                ),
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn field_sets_key_containers_by_name() {
        let set = field_set(
            &json!({"apiVersion": "v1", "metadata": {"name": "x", "labels": {"a": "1"}}, "spec": {"containers": [{"name": "app", "image": "i"}]}}),
            "",
        );
        assert_eq!(
            set,
            json!({"f:metadata": {"f:labels": {"f:a": {}}}, "f:spec": {"f:containers": {"k:{\"name\":\"app\"}": {".": {}, "f:image": {}, "f:name": {}}}}})
        );
    }

    #[test]
    fn prune_drops_fields_no_longer_applied() {
        let mut doc = json!({"metadata": {"labels": {"a": "1", "b": "2", "c": "3"}}});
        let before = json!({"f:metadata": {"f:labels": {"f:a": {}, "f:b": {}}}});
        let now = json!({"f:metadata": {"f:labels": {"f:a": {}}}});
        prune(&mut doc, &before, &now, &[]);
        assert_eq!(doc, json!({"metadata": {"labels": {"a": "1", "c": "3"}}}));
    }
}
