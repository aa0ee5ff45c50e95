//! What a write's schema check answers, worded as the real API server words it, and the
//! `dryRun` switch.
//!
//! - Values outside a field's allowed set fail validation on every write: `422 Invalid`, a
//!   message `StatefulSet.apps "web" is invalid: spec.podManagementPolicy: Unsupported value:
//!   "Paralel": supported values: "OrderedReady", "Parallel"` and one `FieldValueNotSupported`
//!   cause per value with its `field` (apimachinery `field.NotSupported`, aggregated by
//!   `errors.NewInvalid`).
//! - Unknown fields in a server-side apply fail the typed conversion of the patch, whatever
//!   `fieldValidation` says: `failed to create typed patch object (ns/web; apps/v1,
//!   Kind=StatefulSet): .spec.replicass: field not declared in schema`. Servers since
//!   kubernetes/kubernetes#119178 answer it `400 BadRequest` (earlier ones answered 500, see
//!   kubernetes/kubernetes#122480); the fake answers 400.
//! - Unknown fields in a create or a replace (PUT) with `fieldValidation=Strict` are
//!   `400 BadRequest` with `strict decoding error: unknown field "spec.replicass"`.

use serde_json::{Value, json};

use crate::path::Params;
use crate::resources::ResourceType;
use crate::status::ApiError;
use crate::validation::{self, Findings};

/// How the write reached the server: the unknown-field wording differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    Apply,
    Create,
}

/// Whether the request asks for a dry run (`dryRun=All`, the only value the API accepts).
pub(crate) fn dry_run(params: &Params) -> Result<bool, ApiError> {
    match params.get("dryRun") {
        None | Some("") => Ok(false),
        Some("All") => Ok(true),
        Some(other) => Err(ApiError::bad_request(format!(
            "Invalid dry run value: {other:?}: valid values are \"All\""
        ))),
    }
}

/// Checks `object` (about to be written as `namespace`/`name` of `rt`), failing as the API
/// server would.
pub(crate) fn check(
    rt: &ResourceType,
    namespace: Option<&str>,
    name: &str,
    object: &Value,
    via: Via,
    params: &Params,
) -> Result<(), ApiError> {
    let Findings {
        unknown,
        unsupported,
    } = validation::check(&rt.api_version(), rt.kind, object);
    let strict = params.get("fieldValidation") == Some("Strict");
    if !unknown.is_empty() && (via == Via::Apply || strict) {
        let message = match via {
            Via::Apply => {
                let paths: Vec<String> = unknown.iter().map(|u| format!(".{}", u.path)).collect();
                let at = match namespace {
                    Some(ns) => format!("{ns}/{name}"),
                    None => name.to_owned(),
                };
                format!(
                    "failed to create typed patch object ({at}; {}, Kind={}): {}: field not declared in schema",
                    rt.api_version(),
                    rt.kind,
                    paths.join(", ")
                )
            }
            Via::Create => {
                let fields: Vec<String> = unknown
                    .iter()
                    .map(|u| format!("unknown field {:?}", u.path))
                    .collect();
                format!("strict decoding error: {}", fields.join(", "))
            }
        };
        return Err(ApiError::bad_request(message));
    }
    if unsupported.is_empty() {
        return Ok(());
    }
    let causes: Vec<Value> = unsupported
        .iter()
        .map(|u| {
            let supported: Vec<String> = u.allowed.iter().map(|a| format!("{a:?}")).collect();
            json!({
                "reason": "FieldValueNotSupported",
                "message": format!("Unsupported value: {:?}: supported values: {}", u.value, supported.join(", ")),
                "field": u.path,
            })
        })
        .collect();
    let each: Vec<String> = causes
        .iter()
        .map(|c| {
            format!(
                "{}: {}",
                c["field"].as_str().unwrap_or(""),
                c["message"].as_str().unwrap_or("")
            )
        })
        .collect();
    let listed = match each.as_slice() {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    };
    let group = if rt.group.is_empty() {
        rt.kind.to_owned()
    } else {
        format!("{}.{}", rt.kind, rt.group)
    };
    Err(ApiError::new(
        422,
        "Invalid",
        format!("{group} {name:?} is invalid: {listed}"),
    )
    .with_details(json!({"name": name, "group": rt.group, "kind": rt.kind, "causes": causes})))
}
