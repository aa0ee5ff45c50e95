//! `cordon`: mark a node (named, or the one a pod runs on) unschedulable. Cordoned nodes are
//! remembered so cleanup uncordons them.

use super::dispatch::Execute;
use super::{StepContext, StepReport, StepResult};
use crate::api::{dynamic_api, get_opt, with_retry_on_conflict};
use crate::events::Failure;
use crate::scenario::kinds;
use crate::scenario::model::{Kind, NodeStep, Target};
use kube::api::{Patch, PatchParams};
use serde_json::json;
use tokio::time::Instant;

impl Execute for kinds::Cordon {
    async fn run(step: &NodeStep, ctx: &mut StepContext) -> StepResult {
        cordon(step, ctx).await
    }
}

async fn cordon(step: &NodeStep, ctx: &StepContext) -> StepResult {
    let deadline = ctx.deadline_after(None);
    let node = resolve_node(ctx, step.node.as_deref(), step.node_of.as_ref(), deadline).await?;
    // Remembered before the call: if it lands but its answer is lost, cleanup still uncordons.
    ctx.cordoned.add(&node);
    set_unschedulable(ctx, &node, true, deadline).await?;
    Ok(StepReport::detail(format!("cordoned node/{node}")))
}

pub(crate) async fn set_unschedulable(
    ctx: &StepContext,
    node: &str,
    unschedulable: bool,
    deadline: Instant,
) -> Result<(), Failure> {
    let api = dynamic_api(&ctx.client, Kind::Node, "");
    let patch = Patch::Merge(json!({"spec": {"unschedulable": unschedulable}}));
    let params = PatchParams::default();
    let verb = if unschedulable { "cordon" } else { "uncordon" };
    with_retry_on_conflict(&format!("{verb} node/{node}"), deadline, || {
        api.patch(node, &params, &patch)
    })
    .await
    .map(|_| ())
    .map_err(Failure::from)
}

/// The node a step names: directly, or as the node its pod is scheduled on.
pub(crate) async fn resolve_node(
    ctx: &StepContext,
    node: Option<&str>,
    node_of: Option<&Target>,
    deadline: Instant,
) -> Result<String, Failure> {
    if let Some(node) = node {
        return ctx
            .vars
            .substitute(node)
            .map_err(|error| Failure::new(format!("node: {error}")));
    }
    let Some(target) = node_of else {
        return Err(Failure::new("give `node` or `nodeOf`"));
    };
    let target = ctx.resolve(target)?;
    let (Kind::Pod, Some(name)) = (target.kind, target.name.as_deref()) else {
        return Err(Failure::new(format!(
            "nodeOf must name one pod (e.g. pod/web-0), not {target}"
        )));
    };
    let api = dynamic_api(&ctx.client, Kind::Pod, &ctx.namespace);
    let pod = get_opt(&api, Kind::Pod, name, deadline)
        .await
        .map_err(Failure::from)?
        .ok_or_else(|| Failure::new(format!("{target} not found, so its node is unknown")))?;
    pod.data
        .pointer("/spec/nodeName")
        .and_then(|node| node.as_str())
        .filter(|node| !node.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| Failure::new(format!("{target} is not scheduled on any node yet")))
}
