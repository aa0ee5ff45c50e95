//! `uncordon`: mark a node (named, or the one a pod runs on) schedulable again, and forget it
//! among the nodes cleanup uncordons.

use super::cordon::{resolve_node, set_unschedulable};
use super::dispatch::Execute;
use super::{StepContext, StepReport, StepResult};
use crate::scenario::kinds;
use crate::scenario::model::NodeStep;

impl Execute for kinds::Uncordon {
    async fn run(step: &NodeStep, ctx: &mut StepContext) -> StepResult {
        uncordon(step, ctx).await
    }
}

async fn uncordon(step: &NodeStep, ctx: &StepContext) -> StepResult {
    let deadline = ctx.deadline_after(None);
    let node = resolve_node(ctx, step.node.as_deref(), step.node_of.as_ref(), deadline).await?;
    set_unschedulable(ctx, &node, false, deadline).await?;
    ctx.cordoned.remove(&node);
    Ok(StepReport::detail(format!("uncordoned node/{node}")))
}
