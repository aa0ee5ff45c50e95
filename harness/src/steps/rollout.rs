//! `rollout`: roll a Deployment or StatefulSet back to an earlier revision, as
//! `kubectl rollout undo [--to-revision=N]` does: find the revision's pod template (a
//! Deployment's ReplicaSet, a StatefulSet's ControllerRevision) and put it back in the spec.

use super::dispatch::Execute;
use super::patch::CHANGE_CAUSE;
use super::{StepContext, StepReport, StepResult};
use crate::api::{dynamic_api, get_opt, object_ref, to_value, with_retry, with_retry_on_conflict};
use crate::events::Failure;
use crate::scenario::kinds;
use crate::scenario::model::{Kind, RolloutStep};
use kube::api::{ListParams, Patch, PatchParams};
use serde_json::{Value, json};

/// The annotation holding a Deployment's (and its ReplicaSets') revision number.
const REVISION: &str = "deployment.kubernetes.io/revision";

/// One earlier state of a workload's pod template.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Revision {
    pub number: i64,
    /// The ReplicaSet or ControllerRevision holding it.
    pub source: String,
    pub template: Value,
    pub change_cause: Option<String>,
}

impl Execute for kinds::Rollout {
    async fn run(step: &RolloutStep, ctx: &mut StepContext) -> StepResult {
        run(step, ctx).await
    }
}

async fn run(step: &RolloutStep, ctx: &StepContext) -> StepResult {
    let target = ctx.resolve(&step.undo)?;
    let Some(name) = target.name.as_deref() else {
        return Err(Failure::new(format!(
            "rollout undo needs one object (e.g. deploy/web), not {target}"
        )));
    };
    if !matches!(target.kind, Kind::Deployment | Kind::StatefulSet) {
        return Err(Failure::new(format!(
            "failed to roll back {target}: only Deployments and StatefulSets have revisions"
        )));
    }
    let fail = |error: String| Failure::new(format!("failed to roll back {target}: {error}"));
    let deadline = ctx.deadline_after(None);
    let api = dynamic_api(&ctx.client, target.kind, &ctx.namespace);
    let workload = get_opt(&api, target.kind, name, deadline)
        .await
        .map_err(Failure::from)?
        .ok_or_else(|| fail("not found".to_owned()))?;
    let uid = workload.metadata.uid.clone().unwrap_or_default();
    let workload = to_value(&workload);

    let history_kind = if target.kind == Kind::Deployment {
        Kind::ReplicaSet
    } else {
        Kind::ControllerRevision
    };
    let history = dynamic_api(&ctx.client, history_kind, &ctx.namespace);
    let params = ListParams::default();
    let listed = with_retry(
        &format!("list {} of {target}", history_kind.plural()),
        deadline,
        || history.list(&params),
    )
    .await
    .map_err(Failure::from)?;
    let owned: Vec<Value> = listed
        .items
        .iter()
        .filter(|item| {
            item.metadata
                .owner_references
                .iter()
                .flatten()
                .any(|owner| owner.uid == uid)
        })
        .map(to_value)
        .collect();
    let revisions: Vec<Revision> = owned
        .iter()
        .filter_map(|item| {
            if target.kind == Kind::Deployment {
                replica_set_revision(item)
            } else {
                controller_revision(item)
            }
        })
        .collect();
    let current = current_revision(target.kind, &workload, &revisions);
    let chosen = choose(&revisions, current, step.to_revision).map_err(fail)?;

    let live_template = workload
        .pointer("/spec/template")
        .cloned()
        .unwrap_or(Value::Null);
    if without_hash(live_template) == chosen.template {
        return Ok(StepReport::detail(format!(
            "{target} already runs the template of revision {} (skipped, as kubectl does)",
            chosen.number
        )));
    }
    let operations: json_patch::Patch = serde_json::from_value(json!([
        {"op": "replace", "path": "/spec/template", "value": chosen.template}
    ]))
    .map_err(|error| fail(error.to_string()))?;
    let what = format!("roll back {}", object_ref(target.kind, name));
    let patch = Patch::Json::<Value>(operations);
    let params = PatchParams::default();
    with_retry_on_conflict(&what, deadline, || api.patch(name, &params, &patch))
        .await
        .map_err(Failure::from)?;
    if target.kind == Kind::Deployment {
        // kubectl carries the revision's annotations over, so history shows its cause again.
        let cause =
            Patch::Merge(json!({"metadata": {"annotations": {CHANGE_CAUSE: chosen.change_cause}}}));
        with_retry_on_conflict(&what, deadline, || api.patch(name, &params, &cause))
            .await
            .map_err(Failure::from)?;
    }
    Ok(StepReport::detail(format!(
        "rolled {target} back from revision {current} to revision {} (from {})",
        chosen.number, chosen.source
    )))
}

fn replica_set_revision(rs: &Value) -> Option<Revision> {
    let number = rs
        .pointer("/metadata/annotations")?
        .get(REVISION)?
        .as_str()?
        .parse()
        .ok()?;
    Some(Revision {
        number,
        source: format!("replicaset/{}", rs.pointer("/metadata/name")?.as_str()?),
        template: without_hash(rs.pointer("/spec/template")?.clone()),
        change_cause: rs
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(CHANGE_CAUSE))
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

fn controller_revision(revision: &Value) -> Option<Revision> {
    let mut template = revision.pointer("/data/spec/template")?.clone();
    if let Some(map) = template.as_object_mut() {
        map.remove("$patch");
    }
    Some(Revision {
        number: revision.get("revision")?.as_i64()?,
        source: format!(
            "controllerrevision/{}",
            revision.pointer("/metadata/name")?.as_str()?
        ),
        template,
        change_cause: None,
    })
}

/// A pod template without the `pod-template-hash` label the Deployment controller adds.
fn without_hash(mut template: Value) -> Value {
    if let Some(labels) = template
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove("pod-template-hash");
    }
    template
}

/// The revision the workload runs now: a Deployment's revision annotation; the
/// ControllerRevision named by a StatefulSet's `status.updateRevision`; else the newest.
fn current_revision(kind: Kind, workload: &Value, revisions: &[Revision]) -> i64 {
    let newest = revisions.iter().map(|r| r.number).max().unwrap_or(0);
    let named = match kind {
        Kind::Deployment => workload
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(REVISION))
            .and_then(Value::as_str)
            .and_then(|n| n.parse().ok()),
        _ => workload
            .pointer("/status/updateRevision")
            .and_then(Value::as_str)
            .and_then(|name| {
                revisions
                    .iter()
                    .find(|r| r.source == format!("controllerrevision/{name}"))
            })
            .map(|r| r.number),
    };
    named.unwrap_or(newest)
}

/// The revision to return to: `to` if given, else the newest one before `current`.
pub(crate) fn choose(
    revisions: &[Revision],
    current: i64,
    to: Option<i64>,
) -> Result<&Revision, String> {
    let mut known: Vec<i64> = revisions.iter().map(|r| r.number).collect();
    known.sort_unstable();
    let listed = known
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    match to {
        Some(wanted) => revisions
            .iter()
            .find(|r| r.number == wanted)
            .ok_or_else(|| format!("revision {wanted} not found (revisions: {listed})")),
        None => revisions
            .iter()
            .filter(|r| r.number < current)
            .max_by_key(|r| r.number)
            .ok_or_else(|| {
                format!("no revision before the current one ({current}) to roll back to (revisions: {listed})")
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn revision(number: i64) -> Revision {
        Revision {
            number,
            source: format!("replicaset/web-{number}"),
            template: json!({"spec": {"containers": [{"name": "nginx", "image": format!("nginx:1.{number}")}]}}),
            change_cause: Some(format!("cause {number}")),
        }
    }

    #[test]
    fn chooses_the_previous_or_the_named_revision() {
        let revisions = [revision(1), revision(3), revision(2)];
        assert_eq!(choose(&revisions, 3, None).map(|r| r.number), Ok(2));
        assert_eq!(choose(&revisions, 3, Some(1)).map(|r| r.number), Ok(1));
        assert_eq!(
            choose(&revisions, 3, Some(7)).map(|r| r.number),
            Err("revision 7 not found (revisions: 1, 2, 3)".to_owned())
        );
        assert!(choose(&revisions[..1], 1, None).is_err());
    }

    #[test]
    fn reads_replica_sets_without_their_hash_label() {
        let rs = json!({
            "metadata": {"name": "web-abc", "annotations": {
                "deployment.kubernetes.io/revision": "2", "kubernetes.io/change-cause": "to 1.27"}},
            "spec": {"template": {"metadata": {"labels": {"app": "web", "pod-template-hash": "abc"}},
                                  "spec": {"containers": []}}}
        });
        let revision = replica_set_revision(&rs).expect("a revision");
        assert_eq!(revision.number, 2);
        assert_eq!(revision.change_cause.as_deref(), Some("to 1.27"));
        assert_eq!(
            revision.template["metadata"]["labels"],
            json!({"app": "web"})
        );
    }

    #[test]
    fn reads_controller_revisions() {
        let cr = json!({
            "metadata": {"name": "web-7d9f"},
            "revision": 4,
            "data": {"spec": {"template": {"$patch": "replace", "spec": {"containers": []}}}}
        });
        let revision = controller_revision(&cr).expect("a revision");
        assert_eq!(revision.number, 4);
        assert_eq!(revision.template, json!({"spec": {"containers": []}}));
        let sts = json!({"status": {"updateRevision": "web-7d9f"}});
        assert_eq!(current_revision(Kind::StatefulSet, &sts, &[revision]), 4);
    }
}
