//! The resource endpoint: classifies each request into a verb, applies injected faults, and
//! serves get, list, watch, create, update, patch and delete on objects and subresources.

use axum::Json;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::events::Verb;
use crate::handle::Handle;
use crate::patch::{self, PatchType};
use crate::path::{self, Params, RequestTarget};
use crate::selectors::{FieldSelector, LabelSelector};
use crate::status::ApiError;
use crate::store::{DeleteOpts, Part, WriteCtx};
use crate::{subresources, watch};

const MAX_BODY: usize = 16 * 1024 * 1024;

/// Entry point for every request below `/api/v1/` and `/apis/{group}/{version}/`.
pub(crate) async fn dispatch(State(h): State<Handle>, req: Request) -> Response {
    match serve(&h, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn serve(h: &Handle, req: Request) -> Result<Response, ApiError> {
    let target = path::parse(req.uri().path())?;
    let params = Params::from_uri(req.uri())?;
    let verb = classify(req.method(), &target, &params)?;
    let (delay, failure) = h.faults().on_request(verb, target.rt().plural);
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    if let Some(e) = failure {
        return Err(e);
    }
    let transient = h.faults().take_transient(verb, target.rt().plural);
    if let Some(t) = transient {
        return Ok(t.answer(target.rt(), target.name.as_deref().unwrap_or_default()));
    }
    match target.sub.as_deref() {
        None => {}
        Some("exec" | "portforward" | "log" | "scale" | "eviction") => {
            return subresources::serve(h, req, target, params, verb).await;
        }
        Some("status") if target.rt().status => {}
        Some(_) => {
            return Err(ApiError::no_such_resource());
        }
    }
    let part = if target.sub.is_some() {
        Part::Status
    } else {
        Part::Main
    };
    let (parts, body) = req.into_parts();
    match verb {
        Verb::Get => get(h, &target),
        Verb::List => list(h, &target, &params),
        Verb::Watch => watch::serve(h, &target, &params),
        Verb::Create => {
            let obj = read_json(body).await?;
            let ns = target.ns.clone();
            let name = crate::meta::name(&obj).to_owned();
            let via = crate::strict::Via::Decode;
            crate::strict::check(target.rt(), ns.as_deref(), &name, &obj, via, &params)?;
            if crate::strict::dry_run(&params)? {
                // A dry run answers what would be stored, and stores nothing.
                return Ok((StatusCode::CREATED, Json(obj)).into_response());
            }
            let out = h.write(|s| s.create(target.res, ns.as_deref(), obj, WriteCtx::api(verb)))?;
            Ok((StatusCode::CREATED, Json(out)).into_response())
        }
        Verb::Update => {
            let mut obj = read_json(body).await?;
            let ctx = ctx(verb, &target).dry_run(crate::strict::dry_run(&params)?);
            let name = target.name.clone().unwrap_or_default();
            if part == Part::Main {
                // A replace decodes its body as a create does: strictly when asked.
                let via = crate::strict::Via::Decode;
                crate::strict::check(target.rt(), target.ns.as_deref(), &name, &obj, via, &params)?;
            }
            let manager = update_manager(&params, &parts.headers);
            let out = h.write(|s| {
                if let Some(old) = s.get(target.res, target.ns_key(), &name) {
                    record(old, &mut obj, &manager, &target);
                }
                s.update(target.res, target.ns_key(), &name, obj, part, ctx)
            })?;
            Ok(Json(out).into_response())
        }
        Verb::Patch => {
            let ptype = patch_type(&parts.headers)?;
            let body = read_json(body).await?;
            if ptype == PatchType::Apply {
                return crate::apply::serve(h, &target, &params, body, part);
            }
            let ctx = ctx(verb, &target).dry_run(crate::strict::dry_run(&params)?);
            let name = target.name.clone().unwrap_or_default();
            let manager = update_manager(&params, &parts.headers);
            let out = h.write(|s| {
                let old = s
                    .get(target.res, target.ns_key(), &name)
                    .cloned()
                    .ok_or_else(|| ApiError::not_found(target.rt(), &name))?;
                let mut doc = old.clone();
                patch::apply_patch(&mut doc, ptype, &body)?;
                if part == Part::Main {
                    // The patched object is decoded as a replace's body is (strictly when
                    // asked); only what the patch brought in counts.
                    let ns = target.ns.as_deref();
                    crate::strict::check_patched(target.rt(), ns, &name, &old, &doc, &params)?;
                }
                record(&old, &mut doc, &manager, &target);
                s.update(target.res, target.ns_key(), &name, doc, part, ctx)
            })?;
            Ok(Json(out).into_response())
        }
        Verb::Delete => {
            let opts = delete_opts(&params, body).await;
            let name = target.name.clone().unwrap_or_default();
            let out = h.write(|s| {
                s.delete(
                    target.res,
                    target.ns_key(),
                    &name,
                    opts,
                    WriteCtx::api(verb),
                )
            })?;
            Ok(Json(out).into_response())
        }
        Verb::DeleteCollection => {
            let opts = delete_opts(&params, body).await;
            let (labels, fields) = selectors(&params)?;
            let deleted = h.write(|s| {
                let items = s.list(target.res, target.ns.as_deref(), &labels, &fields);
                items
                    .iter()
                    .filter_map(|o| {
                        let (ns, name) = (crate::meta::namespace(o), crate::meta::name(o));
                        s.delete(target.res, ns, name, opts, WriteCtx::api(Verb::Delete))
                            .ok()
                    })
                    .collect::<Vec<_>>()
            });
            Ok(Json(list_doc(h, &target, deleted)).into_response())
        }
        Verb::Connect => Err(ApiError::method_not_allowed(
            "this resource cannot be connected to",
        )),
    }
}

/// The field manager of an ordinary write: `fieldManager`, or else the User-Agent up to its
/// first `/`, as the API server derives it (`prefixFromUserAgent`).
fn update_manager(params: &Params, headers: &HeaderMap) -> String {
    if let Some(m) = params.get("fieldManager").filter(|m| !m.is_empty()) {
        return m.to_string();
    }
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("unknown");
    agent
        .split('/')
        .next()
        .unwrap_or(agent)
        .chars()
        .take(128)
        .collect()
}

/// Records an ordinary write's changed fields under its manager (operation `Update`).
fn record(old: &Value, new: &mut Value, manager: &str, target: &RequestTarget) {
    let me = crate::managed::Manager {
        name: manager,
        operation: "Update",
        subresource: target.sub.as_deref().filter(|s| *s == "status"),
    };
    crate::managed::record_update(old, new, &me, &target.rt().api_version());
}

fn ctx(verb: Verb, target: &RequestTarget) -> WriteCtx {
    let c = WriteCtx::api(verb);
    match target.sub.as_deref() {
        Some("status") => c.sub("status"),
        _ => c,
    }
}

/// Maps method + URL shape to the API verb, as the real server's request info does.
fn classify(method: &Method, target: &RequestTarget, params: &Params) -> Result<Verb, ApiError> {
    let item = target.name.is_some();
    if matches!(target.sub.as_deref(), Some("exec" | "portforward")) {
        return Ok(Verb::Connect);
    }
    let verb = match (method.as_str(), item) {
        ("GET", false) if params.flag("watch") => Verb::Watch,
        ("GET", false) => Verb::List,
        ("GET", true) => Verb::Get,
        ("POST", false) => Verb::Create,
        ("POST", true) if target.sub.is_some() => Verb::Create,
        ("PUT", true) => Verb::Update,
        ("PATCH", true) => Verb::Patch,
        ("DELETE", true) => Verb::Delete,
        ("DELETE", false) => Verb::DeleteCollection,
        (m, _) => {
            return Err(ApiError::method_not_allowed(format!(
                "method {m} is not allowed here"
            )));
        }
    };
    if !item && target.rt().namespaced && target.ns.is_none() && verb == Verb::Create {
        return Err(ApiError::method_not_allowed(
            "create needs a namespace in the URL",
        ));
    }
    Ok(verb)
}

fn get(h: &Handle, target: &RequestTarget) -> Result<Response, ApiError> {
    let name = target.name.as_deref().unwrap_or("");
    let store = crate::handle::lock(&h.shared.store);
    let obj = store
        .get(target.res, target.ns_key(), name)
        .ok_or_else(|| ApiError::not_found(target.rt(), name))?;
    Ok(Json(obj.clone()).into_response())
}

fn list(h: &Handle, target: &RequestTarget, params: &Params) -> Result<Response, ApiError> {
    let (labels, fields) = selectors(params)?;
    let items = crate::handle::lock(&h.shared.store).list(
        target.res,
        target.ns.as_deref(),
        &labels,
        &fields,
    );
    Ok(Json(list_doc(h, target, items)).into_response())
}

pub(crate) fn selectors(params: &Params) -> Result<(LabelSelector, FieldSelector), ApiError> {
    Ok((
        LabelSelector::parse(params.get("labelSelector").unwrap_or(""))?,
        FieldSelector::parse(params.get("fieldSelector").unwrap_or(""))?,
    ))
}

fn list_doc(h: &Handle, target: &RequestTarget, items: Vec<Value>) -> Value {
    let rt = target.rt();
    json!({
        "kind": format!("{}List", rt.kind),
        "apiVersion": rt.api_version(),
        "metadata": {"resourceVersion": h.resource_version()},
        "items": items,
    })
}

pub(crate) async fn read_json(body: Body) -> Result<Value, ApiError> {
    let bytes = to_bytes(body, MAX_BODY)
        .await
        .map_err(|e| ApiError::bad_request(format!("failed to read the request body: {e}")))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))
}

fn patch_type(headers: &HeaderMap) -> Result<PatchType, ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    PatchType::from_content_type(ct).ok_or_else(|| {
        ApiError::new(
            415,
            "UnsupportedMediaType",
            format!("the patch content type {ct:?} is not supported"),
        )
    })
}

/// `propagationPolicy` and `gracePeriodSeconds` from the query or a `DeleteOptions` body.
async fn delete_opts(params: &Params, body: Body) -> DeleteOpts {
    let body = read_json(body).await.ok();
    let policy = params
        .get("propagationPolicy")
        .map(str::to_string)
        .or_else(|| {
            body.as_ref()?
                .get("propagationPolicy")?
                .as_str()
                .map(str::to_string)
        });
    let grace = params
        .get("gracePeriodSeconds")
        .and_then(|g| g.parse::<i64>().ok())
        .or_else(|| body.as_ref()?.get("gracePeriodSeconds")?.as_i64());
    DeleteOpts {
        orphan: policy.as_deref() == Some("Orphan"),
        grace,
    }
}
