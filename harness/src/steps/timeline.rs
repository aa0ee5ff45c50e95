//! `timeline`: ordering and counting assertions over what the recorder saw in the namespace,
//! since the start or since a `mark` (see [`crate::timeline::assertions`]).
//!
//! The recorder's watches trail the API server, so no verdict, pass or fail, is read before the
//! recorder is shown to have caught up with the API as of the moment the step runs
//! ([`recorder_caught_up`]).

use super::dispatch::Execute;
use super::pods::more;
use super::{StepContext, StepReport, StepResult};
use crate::events::{Failure, FailureKind};
use crate::scenario::kinds;
use crate::scenario::model::{TimelineExpect, TimelineStep};
use crate::timeline::assertions::{Subjects, Violation, Window, describe, evaluate};
use crate::timeline::{NoEvidence, recorder_caught_up};

impl Execute for kinds::Timeline {
    async fn run(step: &TimelineStep, ctx: &mut StepContext) -> StepResult {
        run(step, ctx).await
    }
}

async fn run(step: &TimelineStep, ctx: &StepContext) -> StepResult {
    let target = ctx.resolve(&step.target)?;
    let subjects = Subjects {
        kind: target.kind,
        name: target.name.clone(),
        selector: target.selector.clone(),
    };
    let since = step
        .since
        .as_deref()
        .map(|mark| ctx.vars.substitute(mark))
        .transpose()
        .map_err(|error| Failure::new(format!("timeline: {error}")))?;
    let expects = step
        .expect
        .iter()
        .map(|expect| substitute(expect, ctx))
        .collect::<Result<Vec<_>, _>>()?;

    recorder_caught_up(
        &ctx.client,
        &ctx.namespace,
        &ctx.timeline,
        target.kind,
        ctx.deadline_after(None),
    )
    .await
    .map_err(|why| {
        let failure = Failure::new(format!("timeline of {target}: {why}"));
        match why {
            NoEvidence::NotRecorded(_) => failure,
            NoEvidence::NotConfirmed(_) => failure.with_kind(FailureKind::Api),
        }
    })?;
    let outcome = check_all(ctx, since.as_deref(), &subjects, &expects)?;
    let expected = expects
        .iter()
        .map(|e| format!("- {}", describe(e)))
        .collect::<Vec<_>>()
        .join("\n");
    let violations: Vec<&Violation> = outcome.iter().filter_map(|r| r.as_ref().err()).collect();
    let Some(first) = violations.first() else {
        let held: Vec<String> = outcome.into_iter().filter_map(Result::ok).collect();
        return Ok(StepReport::detail(held.join("; ")));
    };
    let mut actual = String::new();
    for violation in &violations {
        actual.push_str(&violation.message);
        actual.push('\n');
        for line in violation.render().lines() {
            actual.push_str("  ");
            actual.push_str(line);
            actual.push('\n');
        }
    }
    let more = match violations.len() {
        1 => String::new(),
        n => format!(" (and {} violated)", more(n - 1, "assertion", "assertions")),
    };
    Err(
        Failure::new(format!("timeline of {target}: {}{more}", first.message))
            .with_expected(expected)
            .with_actual(actual),
    )
}

fn check_all(
    ctx: &StepContext,
    since: Option<&str>,
    subjects: &Subjects,
    expects: &[TimelineExpect],
) -> Result<Vec<Result<String, Violation>>, Failure> {
    let entries = ctx.timeline.snapshot();
    let Some(window) = Window::after_mark(&entries, since) else {
        let mark = since.unwrap_or_default();
        return Err(Failure::new(format!(
            "timeline: the mark `{mark}` was never set; add `- mark: {mark}` before the steps to check"
        )));
    };
    Ok(expects
        .iter()
        .map(|expect| evaluate(window, subjects, expect))
        .collect())
}

/// Substitutes variables in the object names an assertion lists.
fn substitute(expect: &TimelineExpect, ctx: &StepContext) -> Result<TimelineExpect, Failure> {
    let names = |list: &[String]| -> Result<Vec<String>, Failure> {
        list.iter()
            .map(|name| {
                ctx.vars
                    .substitute(name)
                    .map_err(|error| Failure::new(format!("timeline: {error}")))
            })
            .collect()
    };
    Ok(match expect {
        TimelineExpect::CreatedInOrder(list) => TimelineExpect::CreatedInOrder(names(list)?),
        TimelineExpect::DeletedInOrder(list) => TimelineExpect::DeletedInOrder(names(list)?),
        TimelineExpect::ReadyBeforeNextCreated(list) => {
            TimelineExpect::ReadyBeforeNextCreated(names(list)?)
        }
        TimelineExpect::GoneBeforeNextDeleted(list) => {
            TimelineExpect::GoneBeforeNextDeleted(names(list)?)
        }
        TimelineExpect::CreatedWithoutWaiting(list) => {
            TimelineExpect::CreatedWithoutWaiting(names(list)?)
        }
        TimelineExpect::NeverOverlap(overlap) => {
            let mut overlap = overlap.clone();
            overlap.label = ctx
                .vars
                .substitute(&overlap.label)
                .map_err(|error| Failure::new(format!("timeline: {error}")))?;
            TimelineExpect::NeverOverlap(overlap)
        }
        other => other.clone(),
    })
}
