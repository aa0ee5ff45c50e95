//! `mark`: names a point in the recorded timeline that later `timeline` checks count from.
//!
//! The recorder's watches trail the API server, so a change made before the mark could still be
//! on its way and would then land after it, inside the window. The mark therefore waits until
//! the recorder has caught up with the kinds that order checks are about, and only then is
//! written.

use super::dispatch::Execute;
use crate::scenario::kinds;
use futures::future::try_join_all;

use super::{StepContext, StepReport, StepResult};
use crate::events::{Failure, FailureKind};
use crate::scenario::model::{Kind, MarkStep};
use crate::timeline::recorder_caught_up;

/// The kinds whose history order checks read; events and endpoints are left out, since
/// nothing is ordered by them and they change all the time.
const ORDERED_KINDS: &[Kind] = &[
    Kind::Pod,
    Kind::PersistentVolumeClaim,
    Kind::StatefulSet,
    Kind::Deployment,
    Kind::ReplicaSet,
];

impl Execute for kinds::Mark {
    async fn run(step: &MarkStep, ctx: &mut StepContext) -> StepResult {
        run(step, ctx).await
    }
}

async fn run(name: &str, ctx: &StepContext) -> StepResult {
    let deadline = ctx.deadline_after(None);
    try_join_all(ORDERED_KINDS.iter().map(|&kind| {
        recorder_caught_up(&ctx.client, &ctx.namespace, &ctx.timeline, kind, deadline)
    }))
    .await
    .map_err(|why| Failure::new(format!("mark {name}: {why}")).with_kind(FailureKind::Api))?;
    ctx.timeline.mark(name);
    Ok(StepReport::detail(format!("mark {name}")))
}
