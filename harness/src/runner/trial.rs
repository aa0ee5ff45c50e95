//! One libtest-mimic trial per scenario: decide whether it can run here, take the serial gate,
//! run its attempts (retries), and turn the result into events and a libtest outcome.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use libtest_mimic::{Completion, Failed, Trial};
use tokio::sync::RwLock;

use super::attempt::{Limits, panic_text, run_attempt};
use super::backend::{Executed, Job, ScenarioExecutor};
use super::entries::{Content, SuiteEntry};
use super::interrupt::Interrupt;
use super::settings::RunSettings;
use crate::events::{Event, EventSink, Failure, FailureKind, ScenarioId, ScenarioOutcome};
use crate::report::{AttemptRecord, Reporters, RunRecord};
use crate::scenario::model::Scenario;

/// What every trial of a run shares.
pub(crate) struct RunContext {
    pub handle: tokio::runtime::Handle,
    /// Where the trials' events go; its record names the failed step in a trial's failure.
    pub reports: Arc<Reporters>,
    /// Serial scenarios take it for writing, all others for reading.
    pub gate: RwLock<()>,
    pub interrupt: Interrupt,
    pub settings: RunSettings,
    pub backend: Backend,
    /// Set at the first failure when the run fails fast: no trial starts after it.
    pub fail_fast_stop: OnceLock<String>,
}

/// Where cluster trials go: the availability of a cluster, without its teardown (which the
/// run keeps for the end).
pub(crate) enum Backend {
    Ready(Arc<dyn ScenarioExecutor>),
    Unavailable(String),
    Failed(String),
}

/// A trial's own text when the run could not get its cluster.
const SETUP_FAILED: &str = "not run: setup failed (the reason is printed once, at the start \
                            and in the summary at the end)";

/// How a trial ended, for libtest-mimic.
enum TrialEnd {
    Passed,
    Ignored(String),
    Failed(String),
}

/// The libtest-mimic trial for `entry`.
pub(crate) fn trial(context: Arc<RunContext>, entry: SuiteEntry) -> Trial {
    Trial::ignorable_test(entry.trial_name(), move || {
        // A bug in the runner itself must fail this trial, not end the whole run.
        let ended = catch_unwind(AssertUnwindSafe(|| {
            context.handle.block_on(run_trial(&context, &entry))
        }));
        let ended = ended.unwrap_or_else(|payload| {
            let failure = Failure {
                kind: FailureKind::Internal,
                message: format!("the runner panicked: {}", panic_text(payload)),
                ..Failure::default()
            };
            finish_unrun(&context, &entry, ScenarioOutcome::Failed(failure.clone()));
            TrialEnd::Failed(failure.message)
        });
        if context.settings.fail_fast && matches!(ended, TrialEnd::Failed(_)) {
            let _ = context.fail_fast_stop.set(format!(
                "not run: {} failed and the run fails fast (--fail-fast)",
                entry.trial_name()
            ));
        }
        match ended {
            TrialEnd::Passed => Ok(Completion::Completed),
            // nextest reads only the exit status: a trial that cannot run must fail there.
            TrialEnd::Ignored(reason) if context.settings.nextest.is_some() => Err(Failed::from(
                format!("not run: {reason}\n{}", super::nextest::NOT_RUN_FAILS),
            )),
            TrialEnd::Ignored(reason) => Ok(Completion::ignored_with(reason)),
            TrialEnd::Failed(text) => Err(Failed::from(text)),
        }
    })
}

async fn run_trial(context: &RunContext, entry: &SuiteEntry) -> TrialEnd {
    if let Some(why) = context.fail_fast_stop.get() {
        return ignore(context, entry, why.clone());
    }
    let scenario = match &entry.content {
        Content::Invalid { diagnostics } => {
            let failure = entry.invalid_failure().unwrap_or_default();
            finish_unrun(context, entry, ScenarioOutcome::Failed(failure));
            return TrialEnd::Failed(format!(
                "{} is not a valid scenario:\n{diagnostics}",
                entry.file.display()
            ));
        }
        Content::Valid(scenario) => scenario.clone(),
    };
    if let Some(why) = context.interrupt.reason() {
        return ignore(context, entry, format!("not run: {why}"));
    }
    let executor = match &context.backend {
        Backend::Unavailable(reason) => return ignore(context, entry, reason.clone()),
        Backend::Failed(message) => {
            // One run-level problem: the reports and the closing summary state the reason
            // once, so each trial's own text only points there.
            finish_unrun(
                context,
                entry,
                ScenarioOutcome::Failed(setup_failure(message)),
            );
            return TrialEnd::Failed(SETUP_FAILED.to_string());
        }
        Backend::Ready(executor) => executor,
    };
    if let Some(why) = executor.unmet(&scenario) {
        return ignore(context, entry, why);
    }

    let _gate = tokio::select! {
        biased;
        () = context.interrupt.triggered() => {
            let why = context.interrupt.reason().unwrap_or_default();
            return ignore(context, entry, format!("not run: {why}"));
        }
        gate = lock(&context.gate, scenario.serial) => gate,
    };
    // A failure may have come while this trial waited for the serial gate.
    if let Some(why) = context.fail_fast_stop.get() {
        return ignore(context, entry, why.clone());
    }

    let runs = context.settings.repeat.max(1);
    if runs == 1 {
        let once = Round {
            first_attempt: 1,
            retries: context.settings.retries,
            repeat: None,
        };
        return run_attempts(context, entry, &scenario, executor, once).await;
    }
    // Repeating hunts flakes: every run is one attempt (a retry would hide the flake), all
    // runs are made, and the trial passes only if every run passed.
    let mut passed = 0;
    let mut first_failure = None;
    for run in 1..=runs {
        if context.interrupt.is_triggered() {
            break;
        }
        let round = Round {
            first_attempt: run,
            retries: 0,
            repeat: Some((runs, passed)),
        };
        match run_attempts(context, entry, &scenario, executor, round).await {
            TrialEnd::Passed => passed += 1,
            TrialEnd::Ignored(reason) => return TrialEnd::Ignored(reason),
            TrialEnd::Failed(text) => {
                first_failure.get_or_insert((run, text));
            }
        }
    }
    match first_failure {
        Some((run, text)) => TrialEnd::Failed(format!(
            "{text}\n\n(passed {passed} of {runs} runs; the failure above is run {run})"
        )),
        None if passed == runs => TrialEnd::Passed,
        None => TrialEnd::Ignored(format!(
            "not run: {} after {passed} of {runs} runs passed",
            context.interrupt.reason().unwrap_or_default()
        )),
    }
}

/// One run of a scenario: its attempts, and where it stands in a repeated trial.
struct Round {
    /// The number of its first attempt.
    first_attempt: u32,
    /// Reruns of a failed attempt.
    retries: u32,
    /// Under `--repeat`: how many runs, and how many passed before this one.
    repeat: Option<(u32, u32)>,
}

/// Runs `scenario` once, with the round's reruns of a failed attempt.
async fn run_attempts(
    context: &RunContext,
    entry: &SuiteEntry,
    scenario: &Arc<Scenario>,
    executor: &Arc<dyn ScenarioExecutor>,
    round: Round,
) -> TrialEnd {
    let mut failures = 0;
    let last_attempt = round.first_attempt.saturating_add(round.retries);
    for attempt in round.first_attempt..=last_attempt {
        let sink = Arc::new(AttemptSink::new(entry.id.clone(), context.reports.clone()));
        let job = Job {
            id: entry.id.clone(),
            file: entry.file.clone(),
            scenario: scenario.clone(),
            attempt,
            run_id: context.settings.run_id.clone(),
            cancel: context.interrupt.child_token(),
            sink: sink.clone(),
        };
        let started = Instant::now();
        let executed = run_attempt(
            executor.clone(),
            job,
            Limits {
                deadline: scenario.timeout.as_std(),
                margin: context.settings.deadline_margin,
                grace: context.settings.cleanup_grace,
            },
            &context.interrupt,
        )
        .await;
        if !sink.started.load(Ordering::SeqCst) {
            context.reports.emit(started_event(entry, attempt));
        }
        let Executed {
            outcome,
            figures,
            mut properties,
        } = executed;
        if let Some((runs, passed_before)) = round.repeat {
            // The pass count so far, so the last run's report carries the scenario's total.
            let passed = passed_before + u32::from(outcome == ScenarioOutcome::Passed);
            properties.insert("runs".to_string(), runs.to_string());
            properties.insert("runs.passed".to_string(), passed.to_string());
        }
        context.reports.emit(Event::ScenarioFinished {
            id: entry.id.clone(),
            attempt,
            outcome: outcome.clone(),
            elapsed: started.elapsed(),
            figures,
            properties,
        });
        match outcome {
            ScenarioOutcome::Passed => return TrialEnd::Passed,
            ScenarioOutcome::Ignored { reason } => return TrialEnd::Ignored(reason),
            ScenarioOutcome::Failed(failure) => {
                failures += 1;
                let last = attempt >= last_attempt || context.interrupt.is_triggered();
                if last {
                    let mut text = context
                        .reports
                        .record()
                        .read(|record| trial_failure_text(record, &entry.id, attempt, &failure));
                    if failures > 1 {
                        text.push_str(&format!("\n\n(failed all {failures} attempts)"));
                    }
                    return TrialEnd::Failed(text);
                }
            }
        }
    }
    // The loop always returns on its last attempt.
    TrialEnd::Failed("no attempt was made".to_string())
}

/// The serial gate, held (never read) for as long as the scenario runs.
enum Gate<'a> {
    Shared(#[allow(dead_code)] tokio::sync::RwLockReadGuard<'a, ()>),
    Alone(#[allow(dead_code)] tokio::sync::RwLockWriteGuard<'a, ()>),
}

async fn lock(gate: &RwLock<()>, serial: bool) -> Gate<'_> {
    if serial {
        Gate::Alone(gate.write().await)
    } else {
        Gate::Shared(gate.read().await)
    }
}

fn ignore(context: &RunContext, entry: &SuiteEntry, reason: String) -> TrialEnd {
    finish_unrun(
        context,
        entry,
        ScenarioOutcome::Ignored {
            reason: reason.clone(),
        },
    );
    TrialEnd::Ignored(reason)
}

/// Reports a scenario that never reached an executor: started (without a namespace) and
/// finished at once, so every report lists it.
fn finish_unrun(context: &RunContext, entry: &SuiteEntry, outcome: ScenarioOutcome) {
    report_unrun(context.reports.as_ref(), entry, outcome);
}

/// [`finish_unrun`] into any sink (the nextest listing reports what it decided).
pub(super) fn report_unrun(sink: &dyn EventSink, entry: &SuiteEntry, outcome: ScenarioOutcome) {
    sink.emit(started_event(entry, 1));
    sink.emit(Event::ScenarioFinished {
        id: entry.id.clone(),
        attempt: 1,
        outcome,
        elapsed: std::time::Duration::ZERO,
        figures: Vec::new(),
        properties: Default::default(),
    });
}

fn started_event(entry: &SuiteEntry, attempt: u32) -> Event {
    Event::ScenarioStarted {
        id: entry.id.clone(),
        file: entry.file.clone(),
        covers: entry.covers(),
        namespace: String::new(),
        attempt,
    }
}

/// Lines of the setup error a scenario's failure keeps; the run's start prints them all.
const SETUP_LINES: usize = 30;
/// Bytes of the one-line reason in the failure's headline (the summary, JUnit's message and
/// `run.error` show that line).
const SETUP_REASON_BYTES: usize = 240;

/// Every cluster scenario's failure when the run could not get its cluster: a one-line headline
/// with the reason, then the error printer's own lines (at most [`SETUP_LINES`]), which the
/// JUnit failure body shows as printed.
fn setup_failure(message: &str) -> Failure {
    let mut reason = one_line(message);
    if reason.len() > SETUP_REASON_BYTES {
        let mut cut = SETUP_REASON_BYTES;
        while !reason.is_char_boundary(cut) {
            cut -= 1;
        }
        reason.truncate(cut);
        reason.push_str(" ...");
    }
    let mut text = format!("not run: setup failed ({reason})");
    let lines: Vec<&str> = message.trim_end().lines().collect();
    for line in lines.iter().take(SETUP_LINES) {
        text.push('\n');
        text.push_str(line);
    }
    if lines.len() > SETUP_LINES {
        text.push_str(&format!(
            "\n[{} more lines left out; the run's start printed them all]",
            lines.len() - SETUP_LINES
        ));
    }
    Failure {
        kind: FailureKind::Setup,
        message: text,
        ..Failure::default()
    }
}

/// A multi-line error (`caused by:` lines, hints) as one line, for a one-line reason.
fn one_line(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match line.strip_prefix("caused by: ") {
            Some(cause) if !out.is_empty() => {
                out.push_str(": ");
                out.push_str(cause);
            }
            _ if !out.is_empty() => {
                out.push_str("; ");
                out.push_str(line);
            }
            _ => out.push_str(line),
        }
    }
    out
}

/// A trial's failure text: the one-line headline naming the failed step, then the failure body,
/// both as the reports show them for this attempt.
fn trial_failure_text(
    record: &RunRecord,
    id: &ScenarioId,
    attempt: u32,
    failure: &Failure,
) -> String {
    let unrecorded = AttemptRecord::default();
    let attempt = record.attempt(id, attempt).unwrap_or(&unrecorded);
    let mut text = attempt.headline(failure);
    let body = attempt.failure_body(failure);
    if !body.is_empty() {
        text.push_str("\n\n");
        text.push_str(&body);
    }
    text
}

/// The sink an executor gets for one attempt: passes events on, and notes whether the executor
/// announced the attempt itself.
struct AttemptSink {
    id: ScenarioId,
    inner: Arc<dyn EventSink>,
    started: AtomicBool,
}

impl AttemptSink {
    fn new(id: ScenarioId, inner: Arc<dyn EventSink>) -> Self {
        Self {
            id,
            inner,
            started: AtomicBool::new(false),
        }
    }
}

impl EventSink for AttemptSink {
    fn emit(&self, event: Event) {
        if let Event::ScenarioStarted { id, .. } = &event
            && *id == self.id
        {
            self.started.store(true, Ordering::SeqCst);
        }
        self.inner.emit(event);
    }
}

#[cfg(test)]
mod tests {
    use super::{SETUP_LINES, one_line, setup_failure, trial_failure_text};
    use crate::events::{Event, Failure, ScenarioId, ScenarioOutcome, StepOutcome};
    use crate::report::{RunRecord, render_junit};
    use quick_junit::TestCaseStatus;
    use std::time::Duration;

    fn claims() -> ScenarioId {
        ScenarioId {
            area: "storage".into(),
            name: "claims".into(),
        }
    }

    fn started(id: &ScenarioId, namespace: &str) -> Event {
        Event::ScenarioStarted {
            id: id.clone(),
            file: "scenarios/storage/claims.yaml".into(),
            covers: Vec::new(),
            namespace: namespace.into(),
            attempt: 1,
        }
    }

    #[test]
    fn a_trial_fails_with_the_text_junit_reports_for_it() {
        let id = claims();
        let failure = Failure {
            message: "claim data-web-0 is Pending".into(),
            expected: "phase: Bound".into(),
            actual: "phase: Pending".into(),
            ..Failure::default()
        };
        let mut record = RunRecord::default();
        for event in [
            started(&id, "petset-storage-claims-x1"),
            Event::StepStarted {
                id: id.clone(),
                index: 3,
                kind: "wait",
                summary: "wait pvc/data-web-0 for bound".into(),
                line: 12,
            },
            Event::Timeline {
                id: id.clone(),
                line: "+0.100s pvc/data-web-0 ADDED phase=Pending".into(),
            },
            Event::StepFinished {
                id: id.clone(),
                index: 3,
                outcome: StepOutcome::Failed(failure.clone()),
                elapsed: Duration::from_secs(1),
            },
            Event::ScenarioFinished {
                id: id.clone(),
                attempt: 1,
                outcome: ScenarioOutcome::Failed(failure.clone()),
                elapsed: Duration::from_secs(2),
                figures: Vec::new(),
                properties: Default::default(),
            },
        ] {
            record.apply(&event);
        }
        let text = trial_failure_text(&record, &id, 1, &failure);
        let report = render_junit(&record);
        let TestCaseStatus::NonSuccess {
            message: Some(message),
            description: Some(description),
            ..
        } = &report.test_suites[0].test_cases[0].status
        else {
            panic!("a failed scenario is a JUnit failure");
        };
        assert!(message.starts_with("step 3 (wait pvc/data-web-0 for bound, line 12): "));
        assert_eq!(
            text,
            format!("{}\n\n{}", message.as_str(), description.as_str())
        );
    }

    #[test]
    fn a_setup_error_reads_as_one_line() {
        assert_eq!(
            one_line("failed to run kind\n  caused by: `kind` not found on PATH; install it"),
            "failed to run kind: `kind` not found on PATH; install it"
        );
        assert_eq!(
            one_line("failed to reach Docker: down\n  start it"),
            "failed to reach Docker: down; start it"
        );
    }

    /// The run's setup error as the error printer wrote it: the JUnit failure keeps its lines,
    /// a long one bounded, under a one-line headline the summary and `run.error` can show.
    #[test]
    fn a_setup_failure_keeps_the_printers_lines_bounded() {
        let id = claims();
        let junit = |failure: Failure| {
            let mut record = RunRecord::default();
            for event in [
                started(&id, ""),
                Event::ScenarioFinished {
                    id: id.clone(),
                    attempt: 1,
                    outcome: ScenarioOutcome::Failed(failure),
                    elapsed: Duration::ZERO,
                    figures: Vec::new(),
                    properties: Default::default(),
                },
            ] {
                record.apply(&event);
            }
            match &render_junit(&record).test_suites[0].test_cases[0].status {
                TestCaseStatus::NonSuccess {
                    message,
                    description,
                    ..
                } => (
                    message.as_ref().map(|m| m.to_string()).unwrap_or_default(),
                    description
                        .as_ref()
                        .map(|d| d.to_string())
                        .unwrap_or_default(),
                ),
                other => panic!("a setup failure is a JUnit error: {other:?}"),
            }
        };

        let printed = "failed to run kind\n  caused by: `kind` not found on PATH\n  \
                       hint: install kind, or set PETSET_CLUSTER=current";
        let (message, description) = junit(setup_failure(printed));
        assert_eq!(
            message,
            "not run: setup failed (failed to run kind: `kind` not found on PATH; hint: install \
             kind, or set PETSET_CLUSTER=current)"
        );
        assert_eq!(description, printed);

        // A cause that prints 200 lines (a tool's whole output) is cut, saying how much.
        let mut long =
            "failed to create the kind cluster\n  caused by: kind exited with 1:".to_owned();
        for n in 1..=200 {
            long.push_str(&format!("\n    line {n} of kind's output"));
        }
        let (message, description) = junit(setup_failure(&long));
        assert!(message.len() <= 300, "{} bytes: {message}", message.len());
        assert!(message.starts_with(
            "not run: setup failed (failed to create the kind cluster: kind exited with 1:"
        ));
        let lines: Vec<&str> = description.lines().collect();
        assert_eq!(lines.len(), SETUP_LINES + 1, "{description}");
        assert_eq!(
            lines[..SETUP_LINES],
            long.lines().take(SETUP_LINES).collect::<Vec<_>>()[..]
        );
        assert_eq!(
            lines[SETUP_LINES],
            format!(
                "[{} more lines left out; the run's start printed them all]",
                202 - SETUP_LINES
            )
        );
    }
}
