//! One attempt at a scenario in two phases, each under its own deadline: the steps under the
//! scenario's `timeout:`, then cleanup under a budget of its own that a slow or failing step
//! cannot use up. The executor runs as its own task, so a panic in it is a failure of this
//! scenario only; a deadline or Ctrl-C cancels it and then gives its cleanup the same bounded
//! time.

use std::any::Any;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinError;
use tokio_util::sync::CancellationToken;

use super::backend::{Executed, Job, ScenarioExecutor};
use super::interrupt::Interrupt;
use crate::clock;
use crate::events::{Event, EventSink, Failure, FailureKind, ScenarioOutcome, StepOutcome};

/// Why the runner stopped an attempt before it ended on its own.
enum Stop {
    Deadline(Duration),
    Interrupted(String),
}

impl Stop {
    fn describe(&self) -> String {
        match self {
            Stop::Deadline(limit) => format!(
                "the steps did not finish within the scenario's timeout of {} (raise `timeout:` \
                 if it needs longer)",
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
    /// The scenario's `timeout:`, for its steps, as reported.
    pub deadline: Duration,
    /// Added to `deadline` before the runner cancels.
    pub margin: Duration,
    /// For cleanup, counted from when the steps ended or were cancelled.
    pub grace: Duration,
}

/// Runs `job` on `executor`: its steps until they end, the scenario's deadline passes or the
/// run is interrupted (then it is cancelled), and its cleanup within `limits.grace` after that.
pub(crate) async fn run_attempt(
    executor: Arc<dyn ScenarioExecutor>,
    mut job: Job,
    limits: Limits,
    interrupt: &Interrupt,
) -> Executed {
    let Limits {
        deadline,
        margin,
        grace,
    } = limits;
    let steps_limit = clock::from_now(deadline.saturating_add(margin));
    let phase = Arc::new(PhaseSink::new(job.sink.clone(), job.scenario.steps.len()));
    job.sink = phase.clone();
    let cancel = job.cancel.clone();
    let mut task = tokio::spawn(async move { executor.execute(job).await });
    let stop = tokio::select! {
        biased;
        joined = &mut task => return joined_result(joined),
        // The steps ended in time: the scenario's deadline no longer applies; cleanup has its own.
        () = phase.steps_over.cancelled() => None,
        () = tokio::time::sleep_until(steps_limit) => Some(Stop::Deadline(deadline)),
        () = interrupt.triggered() => Some(Stop::Interrupted(
            interrupt.reason().unwrap_or_else(|| "interrupted".to_string()),
        )),
    };
    if stop.is_some() {
        cancel.cancel();
    }
    // The executor now cleans up (after stopping its steps, if cancelled); wait for that, but
    // not forever.
    let joined = tokio::select! {
        biased;
        joined = tokio::time::timeout(grace, &mut task) => joined.ok(),
        () = interrupt.abandoned() => None,
    };
    match (joined, stop) {
        (Some(joined), Some(stop)) => stopped(&stop, joined_result(joined)),
        (Some(joined), None) => joined_result(joined),
        (None, stop) => {
            task.abort();
            let why = if interrupt.abandoned_now() {
                "cleanup was abandoned by a second Ctrl-C".to_string()
            } else {
                format!(
                    "cleanup did not finish within its own budget of {}",
                    human(grace)
                )
            };
            let mut failure = match (&stop, phase.step_failure()) {
                (Some(stop), _) => {
                    Failure::new(format!("{}; then {why}", stop.describe())).with_kind(stop.kind())
                }
                (None, Some(mut failure)) => {
                    failure.message =
                        append_to_headline(&failure.message, &format!("; then {why}"));
                    failure
                }
                (None, None) => Failure::new(format!("the steps passed; then {why}"))
                    .with_kind(FailureKind::Cleanup),
            };
            failure.actual = "the scenario's namespace may be left behind; the next run removes \
                              it once its heartbeat is stale"
                .to_string();
            Executed::outcome(ScenarioOutcome::Failed(failure))
        }
    }
}

/// The sink an executor gets: passes every event on and notes when the steps are over (a step
/// failed, or the last one finished), which is when cleanup starts.
struct PhaseSink {
    inner: Arc<dyn EventSink>,
    steps: usize,
    steps_over: CancellationToken,
    /// The failure of the step that ended the steps, for a report that outlives the executor.
    failed: Mutex<Option<Failure>>,
}

impl PhaseSink {
    fn new(inner: Arc<dyn EventSink>, steps: usize) -> Self {
        Self {
            inner,
            steps,
            steps_over: CancellationToken::new(),
            failed: Mutex::new(None),
        }
    }

    fn step_failure(&self) -> Option<Failure> {
        self.failed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

impl EventSink for PhaseSink {
    fn emit(&self, event: Event) {
        if let Event::StepFinished { index, outcome, .. } = &event {
            match outcome {
                StepOutcome::Failed(failure) => {
                    *self
                        .failed
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(failure.clone());
                    self.steps_over.cancel();
                }
                StepOutcome::Passed { .. } if *index >= self.steps => self.steps_over.cancel(),
                StepOutcome::Passed { .. } => {}
            }
        }
        self.inner.emit(event);
    }
}

/// `message` with `suffix` added to its first line.
fn append_to_headline(message: &str, suffix: &str) -> String {
    let mut lines = message.splitn(2, '\n');
    let first = lines.next().unwrap_or("");
    match lines.next() {
        Some(rest) => format!("{first}{suffix}\n{rest}"),
        None => format!("{first}{suffix}"),
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

#[cfg(test)]
mod tests {
    //! In simulated time: each test's minutes pass at once, and no clock is read.
    use super::*;
    use crate::events::{Event, NoEvents, ScenarioId, StepOutcome};
    use crate::scenario::model::Scenario;
    use futures::FutureExt;
    use futures::future::BoxFuture;
    use tokio_util::sync::CancellationToken;

    /// An executor with one step that takes `step` and then passes or fails, and a cleanup that
    /// takes `cleanup` (`None`: never ends). Cancellation stops the step, never the cleanup.
    struct Scripted {
        step: Duration,
        fails: bool,
        cleanup: Option<Duration>,
    }

    const STEP_FAILURE: &str = "step 1 (wait pod/web-0 for ready): timed out after 3m26s";

    impl ScenarioExecutor for Scripted {
        fn unmet(&self, _: &Scenario) -> Option<String> {
            None
        }

        fn execute(&self, job: Job) -> BoxFuture<'_, Executed> {
            async move {
                let id = job.id.clone();
                let outcome = tokio::select! {
                    () = tokio::time::sleep(self.step) => if self.fails {
                        StepOutcome::Failed(Failure::new(STEP_FAILURE))
                    } else {
                        StepOutcome::Passed { detail: String::new(), figures: Vec::new() }
                    },
                    () = job.cancel.cancelled() => StepOutcome::Failed(Failure::new(
                        "step 1 (wait pod/web-0 for ready): cancelled before it finished",
                    )),
                };
                job.sink.emit(Event::StepFinished {
                    id,
                    index: 1,
                    outcome: outcome.clone(),
                    elapsed: self.step,
                });
                match self.cleanup {
                    Some(cleanup) => tokio::time::sleep(cleanup).await,
                    None => std::future::pending::<()>().await,
                }
                Executed::outcome(match outcome {
                    StepOutcome::Failed(failure) => ScenarioOutcome::Failed(failure),
                    StepOutcome::Passed { .. } => ScenarioOutcome::Passed,
                })
            }
            .boxed()
        }
    }

    fn job() -> Job {
        let scenario: Scenario = serde_saphyr::from_str(
            "description: one step\ncovers: []\nsteps:\n  - wait: {target: pod/web-0, for: ready}\n",
        )
        .expect("the scenario parses");
        Job {
            id: ScenarioId {
                area: "storage".into(),
                name: "slow-cleanup".into(),
            },
            file: "scenarios/storage/slow-cleanup.yaml".into(),
            scenario: Arc::new(scenario),
            attempt: 1,
            run_id: "r1".into(),
            cancel: CancellationToken::new(),
            sink: Arc::new(NoEvents),
        }
    }

    /// The scenario's timeout of 5m plus the runner's margin; cleanup gets 3m.
    fn limits() -> Limits {
        Limits {
            deadline: Duration::from_secs(300),
            margin: Duration::from_secs(10),
            grace: Duration::from_secs(180),
        }
    }

    async fn attempt(executor: Scripted, limits: Limits) -> Failure {
        let executed = run_attempt(Arc::new(executor), job(), limits, &Interrupt::new()).await;
        match executed.outcome {
            ScenarioOutcome::Failed(failure) => failure,
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_step_that_fails_late_leaves_cleanup_its_own_budget() {
        // Fails at 3m26s; cleanup then takes 2m, past the scenario's 5m.
        let failure = attempt(
            Scripted {
                step: Duration::from_secs(206),
                fails: true,
                cleanup: Some(Duration::from_secs(120)),
            },
            limits(),
        )
        .await;
        assert_eq!(failure.message, STEP_FAILURE);
    }

    #[tokio::test(start_paused = true)]
    async fn cleanup_past_its_budget_is_blamed_on_cleanup_not_the_timeout() {
        let failure = attempt(
            Scripted {
                step: Duration::from_secs(206),
                fails: true,
                cleanup: None,
            },
            limits(),
        )
        .await;
        assert_eq!(
            failure.message,
            format!("{STEP_FAILURE}; then cleanup did not finish within its own budget of 3m")
        );
        assert!(failure.actual.contains("namespace may be left behind"));
    }

    #[tokio::test(start_paused = true)]
    async fn steps_past_the_timeout_are_blamed_on_the_steps() {
        let failure = attempt(
            Scripted {
                step: Duration::from_secs(3600),
                fails: false,
                cleanup: Some(Duration::from_secs(30)),
            },
            limits(),
        )
        .await;
        assert_eq!(
            failure.message,
            "step 1 (wait pod/web-0 for ready): cancelled before it finished — the steps did not \
             finish within the scenario's timeout of 5m (raise `timeout:` if it needs longer)"
        );
        let failure = attempt(
            Scripted {
                step: Duration::from_secs(3600),
                fails: false,
                cleanup: None,
            },
            limits(),
        )
        .await;
        assert_eq!(
            failure.message,
            "the steps did not finish within the scenario's timeout of 5m (raise `timeout:` if \
             it needs longer); then cleanup did not finish within its own budget of 3m"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_timeout_too_long_for_the_clock_does_not_panic() {
        let executed = run_attempt(
            Arc::new(Scripted {
                step: Duration::from_secs(1),
                fails: false,
                cleanup: Some(Duration::from_secs(1)),
            }),
            job(),
            Limits {
                deadline: Duration::MAX,
                margin: Duration::from_secs(10),
                grace: Duration::MAX,
            },
            &Interrupt::new(),
        )
        .await;
        assert_eq!(executed.outcome, ScenarioOutcome::Passed);
    }
}
