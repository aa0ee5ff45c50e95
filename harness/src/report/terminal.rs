//! The terminal reporter: one line per step while scenarios run when verbose, and a closing
//! summary (failures and errors by kind, flaky scenarios, ignore reasons, a setup failure once)
//! either way.
//!
//! libtest-mimic prints the `test <name> ... ok` lines and the failure bodies; this reporter
//! adds what those lines cannot say.

use std::io::Write;
use std::sync::Mutex;

use super::live_timeline::LiveTimeline;
use super::record::{RunRecord, TrialVerdict, first_line, seconds, step_ending, step_name};
use super::setup::setup_failure;
use super::timeline_files::timeline_file;
use crate::events::{Event, FailureKind, ScenarioId, ScenarioOutcome};

/// Prints step lines while scenarios run (when verbose), and any text it is given.
#[derive(Debug)]
pub struct TerminalReporter {
    verbose: bool,
    timeline: Mutex<LiveTimeline>,
    out: Mutex<Box<dyn WriteDebug>>,
}

/// A `Write` that can sit in a `Debug` struct.
pub trait WriteDebug: Write + Send + std::fmt::Debug {}
impl<T: Write + Send + std::fmt::Debug> WriteDebug for T {}

impl TerminalReporter {
    /// A reporter printing to standard output (through `print!`, so a test harness that
    /// captures output captures it).
    pub fn stdout(verbose: bool) -> Self {
        Self::to(verbose, Box::new(PrintStdout))
    }

    pub fn to(verbose: bool, out: Box<dyn WriteDebug>) -> Self {
        Self {
            verbose,
            timeline: Mutex::default(),
            out: Mutex::new(out),
        }
    }

    /// Prints what a verbose terminal shows for `event` (nothing when quiet): the timeline
    /// lines before it, then its own line. `record` already holds the event.
    pub(crate) fn show(&self, event: &Event, record: &RunRecord) {
        if !self.verbose {
            return;
        }
        let mut lines = self.timeline_lines(event);
        lines.extend(live_line(event, record));
        if !lines.is_empty() {
            self.print(&lines.join("\n"));
        }
    }

    /// Prints a block of text as is (headers, the coverage table).
    pub fn print(&self, text: &str) {
        let mut out = self
            .out
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // A closed terminal must not fail the run; the files are the record.
        let _ = writeln!(out, "{}", text.trim_end_matches('\n'));
        let _ = out.flush();
    }

    /// Timeline lines to print before `event`'s own line: bounded and folded, see
    /// [`LiveTimeline`].
    fn timeline_lines(&self, event: &Event) -> Vec<String> {
        let mut live = self
            .timeline
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let whole = |id: &ScenarioId| format!("reports/{}", timeline_file(id));
        let (id, lines) = match event {
            Event::ScenarioStarted { id, .. } => {
                live.start(id);
                return Vec::new();
            }
            Event::Timeline { id, line } => (id, live.line(id, line, &whole(id))),
            Event::StepFinished { id, .. } | Event::ScenarioFinished { id, .. } => {
                (id, live.flush(id, &whole(id)))
            }
            _ => return Vec::new(),
        };
        lines
            .into_iter()
            .map(|line| format!("[{id}]   | {line}"))
            .collect()
    }
}

/// The line a verbose terminal prints for `event` itself.
fn live_line(event: &Event, record: &RunRecord) -> Option<String> {
    match event {
        Event::ScenarioStarted {
            id,
            namespace,
            attempt,
            ..
        } if !namespace.is_empty() => Some(if *attempt > 1 {
            format!("[{id}] attempt {attempt}, namespace {namespace}")
        } else {
            format!("[{id}] namespace {namespace}")
        }),
        Event::StepStarted {
            id,
            index,
            kind,
            summary,
            line,
        } => Some(format!(
            "[{id}] step {index} {} (line {line}) ...",
            if summary.is_empty() {
                kind
            } else {
                summary.as_str()
            },
        )),
        Event::StepFinished {
            id,
            index,
            outcome,
            elapsed,
        } => {
            let head = record
                .scenarios
                .get(id)
                .and_then(|s| s.last())
                .and_then(|a| a.steps.get(index));
            let name = step_name(*index, head);
            Some(format!(
                "[{id}] {name} {}",
                step_ending(*index, outcome, *elapsed, "ok")
            ))
        }
        Event::ScenarioFinished {
            id,
            attempt,
            outcome,
            elapsed,
            ..
        } => Some(match outcome {
            ScenarioOutcome::Passed => {
                format!("[{id}] passed in {} (attempt {attempt})", seconds(*elapsed))
            }
            ScenarioOutcome::Failed(failure) => format!(
                "[{id}] failed [{}] in {} (attempt {attempt}): {}",
                failure.kind,
                seconds(*elapsed),
                first_line(&failure.message)
            ),
            ScenarioOutcome::Ignored { reason } => format!("[{id}] ignored: {reason}"),
        }),
        _ => None,
    }
}

/// Standard output through `print!`.
#[derive(Debug)]
struct PrintStdout;

impl Write for PrintStdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        print!("{}", String::from_utf8_lossy(buf));
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stdout().flush()
    }
}

/// Renders the summary of a record. Failures whose kind says the cluster was judged wrong are
/// listed apart from errors that kept petset from judging it, each line tagged with its kind;
/// a setup failure shared by every cluster scenario is one line.
pub(crate) fn summary(record: &RunRecord) -> String {
    let mut flaky = Vec::new();
    let mut failed = Vec::new();
    let mut errors = Vec::new();
    let mut invalid = Vec::new();
    let mut ignored: Vec<(String, usize)> = Vec::new();
    let mut unfinished = Vec::new();
    for scenario in record.scenarios.values() {
        let id = scenario.id.to_string();
        match scenario.verdict() {
            TrialVerdict::Passed => {}
            TrialVerdict::Flaky(failures) => {
                let attempts = scenario.attempts.len();
                let first = failures
                    .first()
                    .map(|f| first_line(&f.message).to_string())
                    .unwrap_or_default();
                let kind = failures.first().map(|f| f.kind).unwrap_or_default();
                flaky.push(format!(
                    "  {id}: passed on attempt {attempts} after failing [{kind}]: {first}"
                ));
            }
            TrialVerdict::Failed(failure) => {
                let headline = scenario
                    .last()
                    .map(|a| a.headline(failure))
                    .unwrap_or_default();
                match failure.kind {
                    // Stated once below.
                    FailureKind::Setup => {}
                    FailureKind::InvalidScenario => invalid.push(format!("  {id}: {headline}")),
                    kind if kind.is_error() => errors.push(format!("  {id} [{kind}]: {headline}")),
                    kind => failed.push(format!("  {id} [{kind}]: {headline}")),
                }
            }
            TrialVerdict::Ignored(reason) => match ignored.iter_mut().find(|(r, _)| r == reason) {
                Some((_, count)) => *count += 1,
                None => ignored.push((reason.to_string(), 1)),
            },
            TrialVerdict::Unfinished => unfinished.push(format!("  {id}")),
        }
    }
    let mut out = String::new();
    if let Some((setup, count)) = setup_failure(record) {
        out.push_str(&format!(
            "{} — {count} cluster scenario{}\n",
            first_line(&setup.message),
            if count == 1 { "" } else { "s" }
        ));
    }
    if !invalid.is_empty() {
        out.push_str(&format!("invalid scenario files ({}):\n", invalid.len()));
        out.push_str(&(invalid.join("\n") + "\n"));
    }
    if !failed.is_empty() {
        out.push_str(&format!(
            "failed scenarios ({}), the cluster did not behave as expected:\n",
            failed.len()
        ));
        out.push_str(&(failed.join("\n") + "\n"));
    }
    if !errors.is_empty() {
        out.push_str(&format!(
            "scenarios with errors ({}), petset could not run or judge them:\n",
            errors.len()
        ));
        out.push_str(&(errors.join("\n") + "\n"));
    }
    if !flaky.is_empty() {
        out.push_str(&format!(
            "flaky scenarios ({}), reported as passed and flaky:\n",
            flaky.len()
        ));
        out.push_str(&(flaky.join("\n") + "\n"));
    }
    if !unfinished.is_empty() {
        out.push_str(&format!(
            "scenarios that did not finish ({}):\n",
            unfinished.len()
        ));
        out.push_str(&(unfinished.join("\n") + "\n"));
    }
    // Each ignored trial's line above already names it; the reasons are listed once here.
    for (reason, count) in ignored {
        out.push_str(&format!("ignored ({count}): {reason}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Failure, FailureKind, ScenarioId, StepOutcome};
    use crate::report::RunAggregator;
    use std::sync::Arc;
    use std::time::Duration;

    #[derive(Debug, Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("buffer").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A terminal fed as a run feeds it: each event folded into the record, then shown.
    struct Fed {
        terminal: TerminalReporter,
        record: RunAggregator,
    }

    impl Fed {
        fn new(verbose: bool, buffer: &Buffer) -> Self {
            Self {
                terminal: TerminalReporter::to(verbose, Box::new(buffer.clone())),
                record: RunAggregator::new(),
            }
        }

        fn emit(&self, event: Event) {
            self.record
                .fold(&event, |record| self.terminal.show(&event, record));
        }

        fn summary(&self) -> String {
            self.record.read(summary)
        }
    }

    fn feed(verbose: bool) -> (Fed, Buffer) {
        let buffer = Buffer::default();
        let reporter = Fed::new(verbose, &buffer);
        let id = ScenarioId {
            area: "statefulset".into(),
            name: "scale".into(),
        };
        let failure = Failure {
            message: "step 2 (scale sts/web to 3): timed out after 1s".into(),
            ..Failure::default()
        };
        for event in [
            Event::ScenarioStarted {
                id: id.clone(),
                file: "scenarios/statefulset/scale.yaml".into(),
                covers: vec!["STS-ORDER-1".into()],
                namespace: "petset-statefulset-scale-x1".into(),
                attempt: 1,
            },
            Event::StepStarted {
                id: id.clone(),
                index: 2,
                kind: "scale",
                summary: "scale sts/web to 3".into(),
                line: 9,
            },
            Event::Timeline {
                id: id.clone(),
                line: "+0.1s pod/web-1 ADDED".into(),
            },
            Event::StepFinished {
                id: id.clone(),
                index: 2,
                outcome: StepOutcome::Failed(failure.clone()),
                elapsed: Duration::from_millis(1000),
            },
            Event::ScenarioFinished {
                id,
                attempt: 1,
                outcome: ScenarioOutcome::Failed(failure),
                elapsed: Duration::from_secs(2),
                figures: Vec::new(),
                properties: Default::default(),
            },
        ] {
            reporter.emit(event);
        }
        (reporter, buffer)
    }

    fn text(buffer: &Buffer) -> String {
        String::from_utf8(buffer.0.lock().expect("buffer").clone()).expect("utf-8")
    }

    #[test]
    fn verbose_prints_a_line_per_step() {
        let (_, buffer) = feed(true);
        let lines: Vec<String> = text(&buffer).lines().map(str::to_string).collect();
        assert_eq!(
            lines,
            [
                "[statefulset::scale] namespace petset-statefulset-scale-x1",
                "[statefulset::scale] step 2 scale sts/web to 3 (line 9) ...",
                "[statefulset::scale]   | +0.1s pod/web-1 ADDED",
                "[statefulset::scale] step 2 (scale sts/web to 3, line 9) FAILED after 1.00s: timed out after 1s",
                "[statefulset::scale] failed [assertion] in 2.00s (attempt 1): step 2 (scale sts/web to 3): timed out after 1s",
            ]
        );
    }

    fn finished(reporter: &Fed, name: &str, failure: Failure) {
        let id = ScenarioId {
            area: "kinds".into(),
            name: name.into(),
        };
        reporter.emit(Event::ScenarioStarted {
            id: id.clone(),
            file: format!("scenarios/kinds/{name}.yaml").into(),
            covers: Vec::new(),
            namespace: String::new(),
            attempt: 1,
        });
        reporter.emit(Event::ScenarioFinished {
            id,
            attempt: 1,
            outcome: ScenarioOutcome::Failed(failure),
            elapsed: Duration::ZERO,
            figures: Vec::new(),
            properties: Default::default(),
        });
    }

    #[test]
    fn the_summary_tells_failures_from_errors_and_states_a_setup_failure_once() {
        let reporter = Fed::new(false, &Buffer::default());
        let setup = Failure::new("not run: setup failed (failed to run kind: not found)")
            .with_kind(FailureKind::Setup);
        for name in ["a", "b", "c"] {
            finished(&reporter, name, setup.clone());
        }
        finished(
            &reporter,
            "forbidden",
            Failure::new("step 1 (assert): failed to get configmap/x: 403 Forbidden")
                .with_kind(FailureKind::Api),
        );
        finished(
            &reporter,
            "slow",
            Failure::new("step 1 (wait): timed out").with_kind(FailureKind::Deadline),
        );
        finished(
            &reporter,
            "typo",
            Failure::new("scenarios/kinds/typo.yaml is not a valid scenario")
                .with_kind(FailureKind::InvalidScenario),
        );
        assert_eq!(
            reporter.summary(),
            "not run: setup failed (failed to run kind: not found) — 3 cluster scenarios\n\
             invalid scenario files (1):\n  \
             kinds::typo: scenarios/kinds/typo.yaml is not a valid scenario\n\
             failed scenarios (1), the cluster did not behave as expected:\n  \
             kinds::slow [deadline]: step 1 (wait): timed out\n\
             scenarios with errors (1), petset could not run or judge them:\n  \
             kinds::forbidden [api]: step 1 (assert): failed to get configmap/x: 403 Forbidden\n"
        );
    }

    #[test]
    fn quiet_prints_nothing_until_the_summary() {
        let (reporter, buffer) = feed(false);
        assert_eq!(text(&buffer), "");
        assert_eq!(
            reporter.summary(),
            "failed scenarios (1), the cluster did not behave as expected:\n  statefulset::scale [assertion]: step 2 (scale sts/web to 3): timed out after 1s\n"
        );
    }
}
