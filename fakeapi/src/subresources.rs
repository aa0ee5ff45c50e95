//! Subresources other than `status`: `scale` (autoscaling/v1 Scale over `spec.replicas`),
//! pod `eviction` (honouring PodDisruptionBudgets), `log`, and the websocket ones.

use axum::Json;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::events::Verb;
use crate::handle::{Handle, lock};
use crate::meta;
use crate::patch::{self, PatchType};
use crate::path::{Params, RequestTarget};
use crate::resources;
use crate::rest::read_json;
use crate::selectors::{FieldSelector, LabelSelector};
use crate::status::{self, ApiError};
use crate::store::{DeleteOpts, Part, Store, WriteCtx};

pub(crate) async fn serve(
    h: &Handle,
    req: Request,
    target: RequestTarget,
    params: Params,
    verb: Verb,
) -> Result<Response, ApiError> {
    let rt = target.rt();
    let name = target.name.clone().unwrap_or_default();
    match (target.sub.as_deref(), verb) {
        (Some("scale"), _) if rt.scale => scale(h, req, &target, &name, verb).await,
        (Some("eviction"), Verb::Create) if rt.is_pod() => {
            let _body = read_json(req.into_body()).await?;
            h.write(|s| evict(s, target.ns_key(), &name))
                .map(|st| (StatusCode::CREATED, Json(st)).into_response())
        }
        (Some("log"), Verb::Get) if rt.is_pod() => {
            let (ns, pod) = h.existing_object(&target)?;
            let text = h.pod_log(&ns, &pod, params.get("container"));
            Ok(([(header::CONTENT_TYPE, "text/plain")], text).into_response())
        }
        (Some("exec"), _) if rt.is_pod() => {
            crate::exec::serve(h, req, h.existing_object(&target)?, &params).await
        }
        (Some("portforward"), _) if rt.is_pod() => {
            let pod = h.existing_object(&target)?;
            crate::portforward::serve(h, req, pod, &params).await
        }
        _ => Err(ApiError::no_such_resource()),
    }
}

async fn scale(
    h: &Handle,
    req: Request,
    target: &RequestTarget,
    name: &str,
    verb: Verb,
) -> Result<Response, ApiError> {
    let rt = target.rt();
    let ctx = WriteCtx::api(verb).sub("scale");
    let (parts, body) = req.into_parts();
    let out = match verb {
        Verb::Get => {
            let store = lock(&h.shared.store);
            let obj = store
                .get(target.res, target.ns_key(), name)
                .ok_or_else(|| ApiError::not_found(rt, name))?;
            to_scale(obj)
        }
        Verb::Update | Verb::Patch => {
            let body = read_json(body).await?;
            let ptype = match verb {
                Verb::Patch => {
                    let ct = parts
                        .headers
                        .get(header::CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    Some(PatchType::from_content_type(ct).ok_or_else(|| {
                        ApiError::new(
                            415,
                            "UnsupportedMediaType",
                            format!("the patch content type {ct:?} is not supported"),
                        )
                    })?)
                }
                _ => None,
            };
            h.write(|s| {
                let obj = s
                    .get(target.res, target.ns_key(), name)
                    .cloned()
                    .ok_or_else(|| ApiError::not_found(rt, name))?;
                let current = to_scale(&obj);
                let wanted = match ptype {
                    None => body.clone(),
                    Some(p) => {
                        let mut doc = current.clone();
                        patch::apply_patch(&mut doc, p, &body)?;
                        doc
                    }
                };
                let rv = meta::resource_version(&wanted);
                if !rv.is_empty() && rv != meta::resource_version(&obj) {
                    return Err(ApiError::conflict(rt, name));
                }
                let replicas = wanted
                    .pointer("/spec/replicas")
                    .and_then(Value::as_i64)
                    .ok_or_else(|| ApiError::invalid(rt, name, "spec.replicas: Required value"))?;
                if replicas < 0 {
                    return Err(ApiError::invalid(
                        rt,
                        name,
                        "spec.replicas: must be greater than or equal to 0",
                    ));
                }
                let mut updated = obj.clone();
                crate::defaults::set_path(&mut updated, "/spec/replicas", json!(replicas));
                s.update(target.res, target.ns_key(), name, updated, Part::Main, ctx)
                    .map(|o| to_scale(&o))
            })?
        }
        _ => {
            return Err(ApiError::method_not_allowed(
                "scale supports get, update and patch",
            ));
        }
    };
    Ok(Json(out).into_response())
}

/// The autoscaling/v1 Scale view of an object with `spec.replicas`.
fn to_scale(obj: &Value) -> Value {
    let selector = obj
        .pointer("/spec/selector")
        .map(LabelSelector::from_object)
        .map(|s| s.to_query())
        .unwrap_or_default();
    let m = |f: &str| {
        obj.pointer(&format!("/metadata/{f}"))
            .cloned()
            .unwrap_or(Value::Null)
    };
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": m("name"),
            "namespace": m("namespace"),
            "uid": m("uid"),
            "resourceVersion": m("resourceVersion"),
            "creationTimestamp": m("creationTimestamp"),
        },
        "spec": {"replicas": obj.pointer("/spec/replicas").cloned().unwrap_or(json!(0))},
        "status": {
            "replicas": obj.pointer("/status/replicas").cloned().unwrap_or(json!(0)),
            "selector": selector,
        },
    })
}

/// Evicts a pod unless a PodDisruptionBudget covering it would be violated.
fn evict(s: &mut Store, ns: &str, name: &str) -> Result<Value, ApiError> {
    let pods = resources::PODS;
    let pdbs = resources::PODDISRUPTIONBUDGETS;
    let pod = s
        .get(pods, ns, name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(resources::get(pods), name))?;
    let all = |sel: &LabelSelector| s.list(pods, Some(ns), sel, &FieldSelector::default());
    for pdb in s.list(
        pdbs,
        Some(ns),
        &LabelSelector::default(),
        &FieldSelector::default(),
    ) {
        let sel = LabelSelector::from_object(pdb.pointer("/spec/selector").unwrap_or(&Value::Null));
        if !sel.matches(&pod) {
            continue;
        }
        let covered = all(&sel);
        let expected = covered.len() as i64;
        let healthy = covered.iter().filter(|p| is_ready(p)).count() as i64;
        // Evicting a pod that is not Ready takes nothing away from the budget.
        if !is_ready(&pod) {
            continue;
        }
        let spec = pdb.get("spec").cloned().unwrap_or_default();
        let desired_healthy = if let Some(min) = spec.get("minAvailable") {
            resolve(min, expected, true)
        } else if let Some(max) = spec.get("maxUnavailable") {
            expected - resolve(max, expected, true)
        } else {
            0
        };
        if healthy - 1 < desired_healthy {
            let pdb_name = meta::name(&pdb);
            return Err(ApiError::new(429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget.")
                .with_details(json!({"causes": [{
                    "reason": "DisruptionBudget",
                    "message": format!("The disruption budget {pdb_name} needs {desired_healthy} healthy pods and has {healthy} currently"),
                }]})));
        }
    }
    let ctx = WriteCtx::api(Verb::Delete).sub("eviction");
    s.delete(pods, ns, name, DeleteOpts::default(), ctx)?;
    Ok(status::success(None, name, 201))
}

/// An int-or-percent budget against `total` pods (percentages round up).
fn resolve(v: &Value, total: i64, round_up: bool) -> i64 {
    match v {
        Value::Number(n) => n.as_i64().unwrap_or(0),
        Value::String(s) => {
            let pct = s.trim_end_matches('%').parse::<i64>().unwrap_or(0);
            let scaled = pct * total;
            if round_up {
                (scaled + 99) / 100
            } else {
                scaled / 100
            }
        }
        _ => 0,
    }
}

fn is_ready(pod: &Value) -> bool {
    !meta::is_deleting(pod)
        && pod
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .is_some_and(|c| {
                c.iter().any(|c| {
                    c.get("type").and_then(Value::as_str) == Some("Ready")
                        && c.get("status").and_then(Value::as_str) == Some("True")
                })
            })
}
