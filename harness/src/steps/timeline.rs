//! `timeline`: ordering and counting assertions over what the recorder saw in the namespace,
//! since the start or since a `mark` (see [`crate::timeline::assertions`]).

use super::pods::more;
use super::{StepContext, StepReport, StepResult};
use crate::events::Failure;
use crate::expect::Selector;
use crate::scenario::model::{TimelineExpect, TimelineStep};
use crate::timeline::assertions::{Subjects, Violation, Window, describe, evaluate};
use std::time::Duration;
use tokio::time::Instant;

/// The recorder follows the API a little behind the steps; before calling a violation final,
/// wait until it has been quiet this long ...
const SETTLE_QUIET: Duration = Duration::from_millis(500);
/// ... but no longer than this.
const SETTLE_MAX: Duration = Duration::from_secs(3);

pub(crate) async fn run(step: &TimelineStep, ctx: &StepContext) -> StepResult {
    let target = ctx.resolve(&step.target)?;
    let selector = target
        .selector
        .as_deref()
        .map(Selector::parse)
        .transpose()
        .map_err(|error| Failure::new(format!("timeline: {error}")))?;
    let subjects = Subjects {
        kind: target.kind,
        name: target.name.clone(),
        selector,
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

    let mut outcome = check_all(ctx, since.as_deref(), &subjects, &expects)?;
    if outcome.iter().any(Result::is_err) {
        settle(ctx).await;
        outcome = check_all(ctx, since.as_deref(), &subjects, &expects)?;
    }
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

/// Waits until no new entry has arrived for [`SETTLE_QUIET`], at most [`SETTLE_MAX`].
async fn settle(ctx: &StepContext) {
    let mut live = ctx.timeline.subscribe();
    let limit = Instant::now() + SETTLE_MAX;
    loop {
        let quiet_until = (Instant::now() + SETTLE_QUIET).min(limit);
        match tokio::time::timeout_at(quiet_until, live.recv()).await {
            Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {
                if Instant::now() >= limit {
                    return;
                }
            }
            Ok(Err(tokio::sync::broadcast::error::RecvError::Closed)) | Err(_) => return,
        }
    }
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
