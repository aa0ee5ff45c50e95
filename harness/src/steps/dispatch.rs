//! Runs one step of a scenario by handing it to the module for its kind.

use super::{StepContext, StepResult};
use crate::api::Retried;
use crate::scenario::model::Step;

/// Runs `step` in `ctx`. The API retries it needed are added to its report or failure
/// ("retried 2 times: 429, 503"), so a verdict reached through retries says so.
pub async fn run_step(step: &Step, ctx: &mut StepContext) -> StepResult {
    // Boxed: the step's future is large, and moving it into the counting scope on the stack
    // would overflow a test thread's stack in debug builds.
    let (result, retried) = crate::api::counting(Box::pin(run_kind(step, ctx))).await;
    if retried.is_empty() {
        return result;
    }
    match result {
        Ok(mut report) => {
            report.detail = with_note(&report.detail, &retried);
            Ok(report)
        }
        Err(mut failure) => {
            failure.message = with_note(&failure.message, &retried);
            Err(failure)
        }
    }
}

fn with_note(text: &str, retried: &Retried) -> String {
    if text.is_empty() {
        retried.to_string()
    } else {
        format!("{text} ({retried})")
    }
}

async fn run_kind(step: &Step, ctx: &mut StepContext) -> StepResult {
    match step {
        Step::Mark(name) => super::mark::run(name, ctx).await,
        Step::Apply(step) => super::apply::run(step, ctx).await,
        Step::Delete(step) => super::delete::run(step, ctx).await,
        Step::Scale(step) => super::scale::run(step, ctx).await,
        Step::Patch(step) => super::patch::run(step, ctx).await,
        Step::Rollout(step) => super::rollout::run(step, ctx).await,
        Step::Wait(step) => super::wait::run(step, ctx).await,
        Step::Capture(step) => super::capture::run(step, ctx).await,
        Step::Cordon(step) => super::cordon::cordon(step, ctx).await,
        Step::Uncordon(step) => super::cordon::uncordon(step, ctx).await,
        Step::Drain(step) => super::drain::run(step, ctx).await,
        Step::Sql(sql) => crate::sql::run_sql_step(sql, ctx).await,
        Step::Exec(step) => super::exec::run(step, ctx).await,
        Step::Assert(step) => super::assert::run(step, ctx).await,
        Step::Observe(step) => super::observe::run(step, ctx).await,
        Step::Timeline(step) => super::timeline::run(step, ctx).await,
        Step::Dns(step) => super::dns::run(step, ctx).await,
        Step::Http(step) => super::http::run(step, ctx).await,
    }
}
