//! `wait`: block until the target satisfies a condition, following a watch (see [`crate::wait`]).

use super::dispatch::Execute;
use super::{StepContext, StepReport, StepResult};
use crate::api::to_value;
use crate::events::Failure;
use crate::scenario::kinds;
use crate::scenario::model::{WaitFor, WaitStep};
use crate::wait::{WaitVerdict, Watched, evaluate, wait_for};
use serde_json::Value;

impl Execute for kinds::Wait {
    async fn run(step: &WaitStep, ctx: &mut StepContext) -> StepResult {
        run(step, ctx).await
    }
}

async fn run(step: &WaitStep, ctx: &StepContext) -> StepResult {
    let target = ctx.resolve(&step.target)?;
    let until = substitute(&step.until, ctx)?;
    let deadline = ctx.deadline_after(step.timeout.map(|timeout| timeout.as_std()));
    let watched = Watched::new(&ctx.client, &ctx.namespace, &target);
    let (kind, single) = (target.kind, target.is_single());
    let outcome = wait_for(&watched, deadline, |objects| {
        let values: Vec<Value> = objects.iter().map(to_value).collect();
        match step.count {
            Some(want) if values.len() != want as usize => {
                WaitVerdict::NotYet(format!("{} match, want {want}", values.len()))
            }
            _ => evaluate(&until, kind, single, &values),
        }
    })
    .await;
    let wanted = until.describe();
    match outcome {
        Ok(observation) => Ok(StepReport::detail(format!(
            "{target} {wanted} after {:.1}s ({})",
            observation.waited.as_secs_f64(),
            observation.reason
        ))),
        Err(error) => Err(Failure::new(format!("{target} not {wanted}: {error}"))
            .with_kind(error.failure_kind())
            .with_expected(format!("{target} {wanted}"))
            .with_actual(error.observation().render())),
    }
}

/// Variables may appear in a phase name or a partial object.
fn substitute(until: &WaitFor, ctx: &StepContext) -> Result<WaitFor, Failure> {
    let fail = |error: String| Failure::new(format!("wait: {error}"));
    Ok(match until {
        WaitFor::Phase(phase) => WaitFor::Phase(ctx.vars.substitute(phase).map_err(fail)?),
        WaitFor::Matches(partial) => {
            WaitFor::Matches(ctx.vars.substitute_value(partial).map_err(fail)?)
        }
        other => other.clone(),
    })
}
