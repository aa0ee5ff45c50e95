//! `scale`: set `spec.replicas` through the `/scale` subresource, like `kubectl scale`.

use super::dispatch::Execute;
use super::{StepContext, StepReport, StepResult};
use crate::api::{dynamic_api, with_retry, with_retry_on_conflict};
use crate::events::Failure;
use crate::scenario::kinds;
use crate::scenario::model::{Kind, ScaleStep};
use kube::api::{Patch, PatchParams};
use serde_json::json;

impl Execute for kinds::Scale {
    async fn run(step: &ScaleStep, ctx: &mut StepContext) -> StepResult {
        run(step, ctx).await
    }
}

async fn run(step: &ScaleStep, ctx: &StepContext) -> StepResult {
    let target = ctx.resolve(&step.target)?;
    let Some(name) = target.name.as_deref() else {
        return Err(Failure::new(format!(
            "scale needs one object (e.g. sts/web), not {target}"
        )));
    };
    if !matches!(
        target.kind,
        Kind::StatefulSet | Kind::Deployment | Kind::ReplicaSet
    ) {
        return Err(Failure::new(format!(
            "failed to scale {target}: only StatefulSets, Deployments and ReplicaSets have a /scale subresource"
        )));
    }
    if step.replicas < 0 {
        return Err(Failure::new(format!(
            "failed to scale {target}: replicas must not be negative (got {})",
            step.replicas
        )));
    }
    let deadline = ctx.deadline_after(None);
    let api = dynamic_api(&ctx.client, target.kind, &ctx.namespace);
    let before = with_retry(&format!("read the scale of {target}"), deadline, || {
        api.get_scale(name)
    })
    .await
    .map_err(Failure::from)?;
    let patch = Patch::Merge(json!({"spec": {"replicas": step.replicas}}));
    let params = PatchParams::default();
    let after = with_retry_on_conflict(&format!("scale {target}"), deadline, || {
        api.patch_scale(name, &params, &patch)
    })
    .await
    .map_err(Failure::from)?;
    let from = before.spec.and_then(|spec| spec.replicas).unwrap_or(0);
    let to = after.spec.and_then(|spec| spec.replicas).unwrap_or(0);
    if to != step.replicas {
        return Err(
            Failure::new(format!("scaled {target} but the scale reads {to} replicas"))
                .with_expected(format!("spec.replicas: {}", step.replicas))
                .with_actual(format!("spec.replicas: {to}")),
        );
    }
    Ok(StepReport::detail(format!(
        "scaled {target} from {from} to {to}"
    )))
}
