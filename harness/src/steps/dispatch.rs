//! Runs one step of a scenario by handing it to the file of its kind.
//!
//! The `match` over kinds is generated from the registry of step kinds in `petset_scenario`, so
//! a new kind is dispatched once its file implements [`Execute`].

use super::{StepContext, StepResult};
use crate::api::Retried;
use crate::scenario::kinds::{self, StepKind};
use crate::scenario::model::Step;

/// The cluster side of a step kind: how a step of the kind runs. Its language side (name,
/// schema, checks, summary, targets, time limit) is the kind's [`StepKind`] and
/// [`KindRules`](crate::scenario::kinds::KindRules).
pub(crate) trait Execute: StepKind {
    async fn run(body: &Self::Body, ctx: &mut StepContext) -> StepResult;
}

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

macro_rules! run_kinds {
    ($( $(#[$doc:meta])* $module:ident: $variant:ident($body:ident), )*) => {
        async fn run_kind(step: &Step, ctx: &mut StepContext) -> StepResult {
            match step {
                $( Step::$variant(body) => <kinds::$variant as Execute>::run(body, ctx).await, )*
            }
        }
    };
}

petset_scenario::step_kinds!(run_kinds);
