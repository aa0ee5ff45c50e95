//! One attempt at a scenario under its deadline: the executor runs as its own task, so a panic
//! in it is a failure of this scenario only, and a deadline or Ctrl-C cancels it and then gives
//! its cleanup a bounded time.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinError;

use super::backend::{Executed, Job, ScenarioExecutor};
use super::interrupt::Interrupt;
use crate::events::{Failure, FailureKind, ScenarioOutcome};

/// Why the runner stopped an attempt before it ended on its own.
enum Stop {
    Deadline(Duration),
    Interrupted(String),
}

impl Stop {
    fn describe(&self) -> String {
        match self {
            Stop::Deadline(limit) => format!(
                "the scenario's deadline of {} passed (raise `timeout:` if it needs longer)",
                human(*limit)
            ),
            Stop::Interrupted(why) => why.clone(),
        }
    }

    fn kind(&self) -> FailureKind {
        match self {
            Stop::Deadline(_) => FailureKind::Deadline,
            Stop::Interrupted(_) => FailureKind::Interrupted,
        }
    }
}

/// How long an attempt may take.
pub(crate) struct Limits {
    /// The scenario's `timeout:`, as reported.
    pub deadline: Duration,
    /// Added to `deadline` before the runner cancels.
    pub margin: Duration,
    /// For cleanup after the cancel.
    pub grace: Duration,
}

/// Runs `job` on `executor`, cancelling it past its deadline or when the run is interrupted.
pub(crate) async fn run_attempt(
    executor: Arc<dyn ScenarioExecutor>,
    job: Job,
    limits: Limits,
    interrupt: &Interrupt,
) -> Executed {
    let Limits {
        deadline,
        margin,
        grace,
    } = limits;
    let cancel = job.cancel.clone();
    let mut task = tokio::spawn(async move { executor.execute(job).await });
    let stop = tokio::select! {
        biased;
        joined = &mut task => return joined_result(joined),
        () = tokio::time::sleep(deadline + margin) => Stop::Deadline(deadline),
        () = interrupt.triggered() => Stop::Interrupted(
            interrupt.reason().unwrap_or_else(|| "interrupted".to_string()),
        ),
    };
    cancel.cancel();
    // The executor now stops its steps and cleans up; wait for that, but not forever.
    let joined = tokio::select! {
        biased;
        joined = tokio::time::timeout(grace, &mut task) => joined.ok(),
        () = interrupt.abandoned() => None,
    };
    match joined {
        Some(joined) => stopped(&stop, joined_result(joined)),
        None => {
            task.abort();
            let why = if interrupt.abandoned_now() {
                "cleanup was abandoned by a second Ctrl-C".to_string()
            } else {
                format!("its cleanup did not finish within {}", human(grace))
            };
            Executed::outcome(ScenarioOutcome::Failed(Failure {
                kind: stop.kind(),
                message: format!("{}; {why}", stop.describe()),
                actual: "the scenario's namespace may be left behind; the next run removes it \
                         once its heartbeat is stale"
                    .to_string(),
                ..Failure::default()
            }))
        }
    }
}

/// The result of an attempt that was stopped, from what the executor returned after the stop.
fn stopped(stop: &Stop, executed: Executed) -> Executed {
    let why = stop.describe();
    let failure = match executed.outcome {
        ScenarioOutcome::Failed(mut failure) => {
            let mut lines = failure.message.lines();
            let first = lines.next().unwrap_or("").to_string();
            let rest: Vec<&str> = lines.collect();
            let headline = if first.is_empty() {
                why
            } else if first.starts_with("step ") {
                format!("{first} — {why}")
            } else {
                format!("{why}: {first}")
            };
            failure.message = std::iter::once(headline.as_str())
                .chain(rest)
                .collect::<Vec<_>>()
                .join("\n");
            // An API error the executor met before the stop stays what it was.
            if !failure.kind.is_error() {
                failure.kind = stop.kind();
            }
            failure
        }
        ScenarioOutcome::Passed | ScenarioOutcome::Ignored { .. } => Failure {
            kind: stop.kind(),
            message: why,
            actual: "the scenario only finished after it was cancelled".to_string(),
            ..Failure::default()
        },
    };
    Executed {
        outcome: ScenarioOutcome::Failed(failure),
        ..executed
    }
}

fn joined_result(joined: Result<Executed, JoinError>) -> Executed {
    match joined {
        Ok(executed) => executed,
        Err(err) if err.is_panic() => Executed::outcome(ScenarioOutcome::Failed(Failure {
            kind: FailureKind::Internal,
            message: format!("the scenario panicked: {}", panic_text(err.into_panic())),
            actual: "a bug in petset: the scenario's cleanup may not have run".to_string(),
            ..Failure::default()
        })),
        Err(_) => Executed::outcome(ScenarioOutcome::Failed(Failure {
            kind: FailureKind::Internal,
            message: "the scenario's task was cancelled before it returned".to_string(),
            ..Failure::default()
        })),
    }
}

/// The text of a panic payload (`panic!` gives a `&str` or a `String`).
pub(crate) fn panic_text(payload: Box<dyn Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(text) => *text,
        Err(payload) => match payload.downcast::<&'static str>() {
            Ok(text) => (*text).to_string(),
            Err(_) => "(no message)".to_string(),
        },
    }
}

/// `90s`, `5m`, `1h30m`, `250ms`: the way scenario files write durations.
pub(crate) fn human(duration: Duration) -> String {
    let millis = duration.as_millis();
    if !millis.is_multiple_of(1000) {
        return format!("{millis}ms");
    }
    let secs = duration.as_secs();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut text = String::new();
    if h > 0 {
        text.push_str(&format!("{h}h"));
    }
    if m > 0 {
        text.push_str(&format!("{m}m"));
    }
    if s > 0 || text.is_empty() {
        text.push_str(&format!("{s}s"));
    }
    text
}
