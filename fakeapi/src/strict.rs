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
//! - Unknown fields in a create, a replace (PUT) or a merge, strategic merge or JSON patch with
//!   `fieldValidation=Strict` are `400 BadRequest` with `strict decoding error: unknown field
//!   "spec.replicass"`. For a patch the apiserver decodes the patched object strictly
//!   (`strategicPatchObject`/`applyJSPatch` in k8s.io/apiserver `handlers/patch.go`), so the
//!   paths are those of the patched object.
//!
//! The walk itself is the scenario crate's ([`petset_scenario::validate::check_object`]); this
//! module only words what it finds.

use petset_scenario::validate::{Findings, check_object};
use serde_json::{Value, json};

use crate::path::Params;
use crate::resources::ResourceType;
use crate::status::ApiError;

/// How the write reached the server: the unknown-field wording differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    /// A server-side apply: its typed conversion fails.
    Apply,
    /// A create, replace or patched object: its strict decoding fails.
    Decode,
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
    let findings = check_object(&rt.api_version(), rt.kind, object).unwrap_or_default();
    answer(rt, namespace, name, findings, via, params)
}

/// Checks an object a patch produced from `old`, as [`check`] checks a replace's body. The
/// fake keeps whatever an earlier non-strict write stored (the real server would have dropped
/// unknown fields then), so only findings `old` does not already have count.
pub(crate) fn check_patched(
    rt: &ResourceType,
    namespace: Option<&str>,
    name: &str,
    old: &Value,
    patched: &Value,
    params: &Params,
) -> Result<(), ApiError> {
    let find = |object| check_object(&rt.api_version(), rt.kind, object).unwrap_or_default();
    let (before, mut findings) = (find(old), find(patched));
    findings
        .unknown
        .retain(|u| !before.unknown.iter().any(|b| b.path == u.path));
    findings.bad_values.retain(|v| {
        !before
            .bad_values
            .iter()
            .any(|b| b.path == v.path && b.value == v.value)
    });
    answer(rt, namespace, name, findings, Via::Decode, params)
}

/// The API server's answer to what the walk found, if it refuses the write.
fn answer(
    rt: &ResourceType,
    namespace: Option<&str>,
    name: &str,
    findings: Findings,
    via: Via,
    params: &Params,
) -> Result<(), ApiError> {
    let Findings {
        unknown,
        bad_values: unsupported,
        ..
    } = findings;
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
            Via::Decode => {
                let fields: Vec<String> = unknown
                    .iter()
                    .map(|u| format!("unknown field {:?}", u.path.to_string()))
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
                "field": u.path.to_string(),
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
