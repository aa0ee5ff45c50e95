//! `patch`: change objects with a strategic, merge or JSON patch; `image` sets container images
//! on the pod template (like `kubectl set image`); `changeCause` records the
//! `kubernetes.io/change-cause` annotation that rollout history shows.

use super::dispatch::Execute;
use super::{StepContext, StepReport, StepResult};
use crate::api::{OnConflict, dynamic_api, list_target, object_ref, render_value, retry_call};
use crate::events::Failure;
use crate::redact::{REDACTED, redact_secret};
use crate::scenario::kinds;
use crate::scenario::model::{Kind, PatchStep, PatchType};
use kube::api::{Patch, PatchParams};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The annotation `kubectl rollout history` shows as CHANGE-CAUSE.
pub const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";

impl Execute for kinds::Patch {
    async fn run(step: &PatchStep, ctx: &mut StepContext) -> StepResult {
        run(step, ctx).await
    }
}

async fn run(step: &PatchStep, ctx: &StepContext) -> StepResult {
    let target = ctx.resolve(&step.target)?;
    let fail = |error: String| Failure::new(format!("failed to patch {target}: {error}"));
    let body = step
        .patch
        .as_ref()
        .map(|body| ctx.vars.substitute_value(body))
        .transpose()
        .map_err(fail)?;
    let mut images = BTreeMap::new();
    for (container, image) in &step.image {
        images.insert(container.clone(), ctx.vars.substitute(image).map_err(fail)?);
    }
    let change_cause = step
        .change_cause
        .as_deref()
        .map(|cause| ctx.vars.substitute(cause))
        .transpose()
        .map_err(fail)?;
    let plan = plan(
        target.kind,
        step.patch_type,
        body,
        &images,
        change_cause.as_deref(),
    )
    .map_err(fail)?;

    let deadline = ctx.deadline_after(None);
    let objects = list_target(&ctx.client, &ctx.namespace, &target, deadline)
        .await
        .map_err(Failure::from)?;
    if objects.is_empty() {
        return Err(fail("not found".to_owned()).with_expected(format!("{target} exists")));
    }
    let api = dynamic_api(&ctx.client, target.kind, &ctx.namespace);
    let params = PatchParams::default();
    let mut patched = Vec::new();
    for object in &objects {
        let name = object.metadata.name.clone().unwrap_or_default();
        let what = format!("patch {}", object_ref(target.kind, &name));
        for request in &plan {
            // A 409 is a lost race to retry, unless the patch itself names a resourceVersion
            // (a precondition the server's answer settles).
            let on_conflict = if request.shown.contains("resourceVersion") {
                OnConflict::Answer
            } else {
                OnConflict::Retry
            };
            retry_call(&what, deadline, on_conflict, || {
                api.patch(&name, &params, &request.patch)
            })
            .await
            .map_err(|error| {
                let kind = error.failure_kind();
                Failure::new(error.to_string())
                    .with_kind(kind)
                    .with_expected(request.shown.clone())
            })?;
        }
        patched.push(object_ref(target.kind, &name));
    }
    let kinds: Vec<&str> = plan.iter().map(|request| request.kind).collect();
    Ok(StepReport::detail(format!(
        "patched {} ({})",
        patched.join(", "),
        kinds.join(" + ")
    )))
}

/// One patch request.
pub(crate) struct PatchRequest {
    pub kind: &'static str,
    pub patch: Patch<Value>,
    /// The patch as report text.
    pub shown: String,
}

/// The requests a patch step sends, in order. The images and the change cause join the given
/// patch where the formats allow, so a Deployment gets one new revision carrying its cause; a
/// JSON patch is sent first, with them following as a strategic patch. A patch to a Secret is
/// shown with its values hidden.
pub(crate) fn plan(
    kind: Kind,
    patch_type: PatchType,
    body: Option<Value>,
    images: &BTreeMap<String, String>,
    change_cause: Option<&str>,
) -> Result<Vec<PatchRequest>, String> {
    let mut requests = plan_requests(kind, patch_type, body, images, change_cause)?;
    if kind == Kind::Secret {
        for request in &mut requests {
            request.shown = with_values_hidden(&request.patch);
        }
    }
    Ok(requests)
}

/// A patch to a Secret as report text: the keys it sets, each with a `<redacted>` value.
fn with_values_hidden(patch: &Patch<Value>) -> String {
    let mut body = match patch {
        Patch::Json(operations) => serde_json::to_value(operations).unwrap_or_default(),
        Patch::Merge(body) | Patch::Strategic(body) | Patch::Apply(body) => body.clone(),
        // A kind of patch petset does not send: shown as nothing but the marker.
        _ => json!(REDACTED),
    };
    match &mut body {
        Value::Array(operations) => {
            for value in operations.iter_mut().filter_map(|op| op.get_mut("value")) {
                *value = json!(REDACTED);
            }
        }
        object => redact_secret(object),
    }
    render_value(&body)
}

fn plan_requests(
    kind: Kind,
    patch_type: PatchType,
    body: Option<Value>,
    images: &BTreeMap<String, String>,
    change_cause: Option<&str>,
) -> Result<Vec<PatchRequest>, String> {
    if body.is_none() && images.is_empty() && change_cause.is_none() {
        return Err("nothing to change: give `patch`, `image` or `changeCause`".to_owned());
    }
    let extra = extra_patch(kind, images, change_cause)?;
    let mut requests = Vec::new();
    match (patch_type, body) {
        (PatchType::Json, Some(body)) => {
            let operations: json_patch::Patch = serde_json::from_value(body.clone())
                .map_err(|error| format!("a JSON patch must be a list of operations: {error}"))?;
            requests.push(PatchRequest {
                kind: "json",
                patch: Patch::Json(operations),
                shown: render_value(&body),
            });
            if let Some(extra) = extra {
                requests.push(strategic(extra));
            }
        }
        (PatchType::Merge, Some(mut body)) => {
            if let Some(extra) = extra {
                if !images.is_empty() {
                    // A merge patch would replace the whole containers list: send images apart.
                    requests.push(merge(body));
                    requests.push(strategic(extra));
                    return Ok(requests);
                }
                deep_merge(&mut body, extra);
            }
            requests.push(merge(body));
        }
        (_, Some(mut body)) => {
            if let Some(extra) = extra {
                deep_merge(&mut body, extra);
            }
            requests.push(strategic(body));
        }
        (_, None) => {
            if let Some(extra) = extra {
                requests.push(strategic(extra));
            }
        }
    }
    Ok(requests)
}

fn strategic(body: Value) -> PatchRequest {
    PatchRequest {
        kind: "strategic",
        shown: render_value(&body),
        patch: Patch::Strategic(body),
    }
}

fn merge(body: Value) -> PatchRequest {
    PatchRequest {
        kind: "merge",
        shown: render_value(&body),
        patch: Patch::Merge(body),
    }
}

/// The strategic patch for `image` and `changeCause`, if either is given.
fn extra_patch(
    kind: Kind,
    images: &BTreeMap<String, String>,
    change_cause: Option<&str>,
) -> Result<Option<Value>, String> {
    let mut patch = Map::new();
    if !images.is_empty() {
        let containers: Vec<Value> = images
            .iter()
            .map(|(name, image)| json!({"name": name, "image": image}))
            .collect();
        let spec = match kind {
            Kind::Pod => json!({"containers": containers}),
            Kind::StatefulSet | Kind::Deployment | Kind::ReplicaSet => {
                json!({"template": {"spec": {"containers": containers}}})
            }
            other => {
                return Err(format!(
                    "`image` applies to pods and workloads, not {}",
                    other.plural()
                ));
            }
        };
        patch.insert("spec".to_owned(), spec);
    }
    if let Some(cause) = change_cause {
        patch.insert(
            "metadata".to_owned(),
            json!({"annotations": {CHANGE_CAUSE: cause}}),
        );
    }
    Ok((!patch.is_empty()).then_some(Value::Object(patch)))
}

/// Merges `extra` into `base`: maps key by key, everything else replaced.
fn deep_merge(base: &mut Value, extra: Value) {
    match (base, extra) {
        (Value::Object(base), Value::Object(extra)) => {
            for (key, value) in extra {
                match base.get_mut(&key) {
                    Some(existing) => deep_merge(existing, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, extra) => *base = extra,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn images() -> BTreeMap<String, String> {
        BTreeMap::from([("nginx".to_owned(), "nginx:1.27".to_owned())])
    }

    fn body(request: &PatchRequest) -> Value {
        match &request.patch {
            Patch::Strategic(body) | Patch::Merge(body) => body.clone(),
            _ => Value::Null,
        }
    }

    #[test]
    fn set_image_with_change_cause_is_one_strategic_patch() {
        let plan = plan(
            Kind::Deployment,
            PatchType::Strategic,
            None,
            &images(),
            Some("upgrade to 1.27"),
        )
        .expect("valid");
        assert_eq!(plan.len(), 1);
        assert_eq!(
            body(&plan[0]),
            json!({
                "spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}}},
                "metadata": {"annotations": {"kubernetes.io/change-cause": "upgrade to 1.27"}}
            })
        );
    }

    #[test]
    fn a_given_strategic_patch_absorbs_the_change_cause() {
        let given = json!({"spec": {"replicas": 2}});
        let plan = plan(
            Kind::StatefulSet,
            PatchType::Strategic,
            Some(given),
            &BTreeMap::new(),
            Some("why"),
        )
        .expect("valid");
        assert_eq!(
            body(&plan[0]),
            json!({"spec": {"replicas": 2}, "metadata": {"annotations": {"kubernetes.io/change-cause": "why"}}})
        );
    }

    #[test]
    fn json_patches_go_first_and_must_be_operations() {
        let ops = json!([{"op": "replace", "path": "/spec/replicas", "value": 1}]);
        let plan = plan(
            Kind::StatefulSet,
            PatchType::Json,
            Some(ops),
            &images(),
            None,
        )
        .expect("valid");
        assert_eq!(
            plan.iter().map(|r| r.kind).collect::<Vec<_>>(),
            ["json", "strategic"]
        );
        let bad = plan_err(PatchType::Json, json!({"spec": {}}));
        assert!(bad.contains("list of operations"), "{bad}");
    }

    #[test]
    fn a_patch_to_a_secret_shows_its_keys_and_not_its_values() {
        for (patch_type, body) in [
            (
                PatchType::Merge,
                json!({"stringData": {"password": "new-pass-1"}}),
            ),
            (
                PatchType::Json,
                json!([{"op": "replace", "path": "/data/password", "value": "bmV3LXBhc3MtMQ=="}]),
            ),
        ] {
            let plan =
                plan(Kind::Secret, patch_type, Some(body), &BTreeMap::new(), None).expect("valid");
            let shown = &plan[0].shown;
            assert!(
                shown.contains("password") && shown.contains(REDACTED),
                "{shown}"
            );
            assert!(
                !shown.contains("new-pass-1") && !shown.contains("bmV3"),
                "{shown}"
            );
        }
    }

    fn plan_err(patch_type: PatchType, body: Value) -> String {
        match plan(Kind::Pod, patch_type, Some(body), &BTreeMap::new(), None) {
            Ok(_) => String::new(),
            Err(error) => error,
        }
    }

    #[test]
    fn refuses_empty_patches_and_images_on_kinds_without_containers() {
        assert!(
            plan(
                Kind::Pod,
                PatchType::Strategic,
                None,
                &BTreeMap::new(),
                None
            )
            .is_err()
        );
        assert!(plan(Kind::Service, PatchType::Strategic, None, &images(), None).is_err());
    }
}
