//! `delete`: delete objects by name or selector and, like kubectl, wait until those very objects
//! (by uid: a StatefulSet recreates a pod under the same name) are gone.

use super::dispatch::Execute;
use super::{StepContext, StepReport, StepResult};
use crate::api::{claims, dynamic_api, list_target, object_ref, with_retry};
use crate::events::Failure;
use crate::scenario::kinds;
use crate::scenario::model::DeleteStep;
use crate::wait::{WaitVerdict, Watched, wait_for};
use kube::api::{DeleteParams, PropagationPolicy};
use std::collections::BTreeSet;
use std::time::Duration;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

impl Execute for kinds::Delete {
    async fn run(step: &DeleteStep, ctx: &mut StepContext) -> StepResult {
        run(step, ctx).await
    }
}

async fn run(step: &DeleteStep, ctx: &StepContext) -> StepResult {
    let target = ctx.resolve(&step.target)?;
    let deadline = ctx.deadline_after(Some(
        step.timeout
            .map_or(DEFAULT_TIMEOUT, |timeout| timeout.as_std()),
    ));
    let objects = list_target(&ctx.client, &ctx.namespace, &target, deadline)
        .await
        .map_err(Failure::from)?;
    if objects.is_empty() {
        if target.is_single() {
            return Err(
                Failure::new(format!("failed to delete {target}: not found"))
                    .with_expected(format!("{target} exists"))
                    .with_actual("no such object"),
            );
        }
        return Ok(StepReport::detail(format!("no {target} to delete")));
    }

    let api = dynamic_api(&ctx.client, target.kind, &ctx.namespace);
    let params = DeleteParams {
        grace_period_seconds: step
            .grace_period_seconds
            .and_then(|s| u32::try_from(s).ok()),
        propagation_policy: Some(PropagationPolicy::Background),
        ..DeleteParams::default()
    };
    let mut uids = BTreeSet::new();
    let mut names = Vec::new();
    for object in &objects {
        let name = object.metadata.name.clone().unwrap_or_default();
        let what = format!("delete {}", object_ref(target.kind, &name));
        match with_retry(&what, deadline, || api.delete(&name, &params)).await {
            Ok(_) => {}
            // Gone already (a controller or a previous attempt beat us to it): that is the goal.
            Err(error) if error.is_not_found() => {}
            Err(error) => return Err(Failure::from(error)),
        }
        uids.extend(object.metadata.uid.clone());
        names.push(object_ref(target.kind, &name));
    }
    if !step.wait {
        return Ok(StepReport::detail(format!("deleted {}", names.join(", "))));
    }

    let watched = Watched::new(&ctx.client, &ctx.namespace, &target);
    let waited = wait_for(&watched, deadline, |live| {
        let left: Vec<String> = live
            .iter()
            .filter(|o| {
                o.metadata
                    .uid
                    .as_ref()
                    .is_some_and(|uid| uids.contains(uid))
            })
            .map(|o| o.metadata.name.clone().unwrap_or_default())
            .collect();
        if left.is_empty() {
            WaitVerdict::Met("gone".to_owned())
        } else {
            WaitVerdict::NotYet(format!("still present: {}", left.join(", ")))
        }
    })
    .await;
    match waited {
        Ok(observation) => Ok(StepReport::detail(format!(
            "deleted {} (gone after {:.1}s)",
            names.join(", "),
            observation.waited.as_secs_f64()
        ))),
        Err(error) => {
            let observation = error.observation();
            let mut finalizers = finalizers_of(&observation.objects, &uids);
            finalizers.push_str(&claim_users(ctx, target.kind, &observation.objects, &uids).await);
            Err(Failure::new(format!(
                "deleted {} but they did not go: {error}{finalizers}",
                names.join(", ")
            ))
            .with_kind(error.failure_kind())
            .with_expected(format!("{} gone", names.join(", ")))
            .with_actual(observation.render()))
        }
    }
}

/// `; data is held by kubernetes.io/pvc-protection while pod/db-0 still uses it`, for deleted
/// claims that pods keep. The step's deadline has passed: the pods are listed within a short one.
async fn claim_users(
    ctx: &StepContext,
    kind: crate::scenario::model::Kind,
    objects: &[kube::api::DynamicObject],
    uids: &BTreeSet<String>,
) -> String {
    let held: Vec<&kube::api::DynamicObject> = objects
        .iter()
        .filter(|o| {
            o.metadata
                .uid
                .as_ref()
                .is_some_and(|uid| uids.contains(uid))
        })
        .filter(|o| claims::held_by_protection(kind, o))
        .collect();
    if held.is_empty() {
        return String::new();
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let pods = claims::pods_of(&ctx.client, &ctx.namespace, deadline).await;
    held.iter()
        .filter_map(|claim| {
            let name = claim.metadata.name.as_deref().unwrap_or("?");
            claims::protection_note(name, &pods).map(|note| format!("; {name} is {note}"))
        })
        .collect()
}

/// `; finalizers: pod/web-0 [example.com/hold]`, naming what holds deleted objects back.
fn finalizers_of(objects: &[kube::api::DynamicObject], uids: &BTreeSet<String>) -> String {
    let held: Vec<String> = objects
        .iter()
        .filter(|o| {
            o.metadata
                .uid
                .as_ref()
                .is_some_and(|uid| uids.contains(uid))
        })
        .filter_map(|o| {
            let finalizers = o.metadata.finalizers.as_ref().filter(|f| !f.is_empty())?;
            Some(format!(
                "{} [{}]",
                o.metadata.name.as_deref().unwrap_or("?"),
                finalizers.join(", ")
            ))
        })
        .collect();
    if held.is_empty() {
        String::new()
    } else {
        format!("; held by finalizers: {}", held.join(", "))
    }
}
