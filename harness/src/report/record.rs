//! A fold of the event stream into what happened to each scenario, attempt by attempt.
//!
//! The run's one [`RunAggregator`](super::RunAggregator) keeps the record; the JUnit, coverage,
//! terminal and timeline-file reporters and the runner's failure text all render from it, so
//! every report is derived from the same stream and from nothing else.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use super::sections::{self, SECTION_CAP, Whole, cut};
use super::timeline_files::{failure_file, timeline_file};
use crate::events::{
    ClusterInfo, Event, Failure, Figure, ScenarioId, ScenarioOutcome, StepOutcome,
};
use crate::timeline::{EXCERPT_MAX_LINES, excerpt, latest};

/// The most a failure body (expected, actual, timeline, diagnostics) holds in a report: 32 KiB.
pub const FAILURE_BODY_CAP: usize = 32 * 1024;
/// The most an attempt's output (step log and timeline; JUnit `system-out`) holds: 32 KiB.
pub const OUTPUT_CAP: usize = 32 * 1024;
/// How many (folded) timeline lines an attempt's output shows, the newest.
pub const OUTPUT_TIMELINE_LINES: usize = 100;

/// Everything the events said about one run.
#[derive(Debug, Clone, Default)]
pub struct RunRecord {
    pub run_id: String,
    pub cluster: Option<ClusterInfo>,
    /// When the `RunStarted` event arrived.
    pub started_at: Option<SystemTime>,
    /// Set by `RunFinished`; `None` means the run stopped before it finished.
    pub elapsed: Option<Duration>,
    pub scenarios: BTreeMap<ScenarioId, ScenarioRecord>,
}

/// One scenario: where it came from and each attempt at it.
#[derive(Debug, Clone)]
pub struct ScenarioRecord {
    pub id: ScenarioId,
    pub file: PathBuf,
    pub covers: Vec<String>,
    pub attempts: Vec<AttemptRecord>,
}

/// One attempt at a scenario (there are several when retries are on).
#[derive(Debug, Clone, Default)]
pub struct AttemptRecord {
    pub attempt: u32,
    /// Empty when the attempt never got a namespace (ignored, invalid, cancelled early).
    pub namespace: String,
    /// One line per step event, in order: the attempt's step log.
    pub log: Vec<String>,
    /// Timeline entries the executor streamed, one line each (reports show a bounded part).
    pub timeline: Vec<String>,
    /// Where the whole timeline is written, as a failure names it: `reports/timelines/...`.
    pub timeline_file: String,
    /// Where the whole failure is written, as a cut failure body names it:
    /// `reports/failures/...`.
    pub failure_file: String,
    /// `step N (summary)` of the last step that failed.
    pub failed_step: Option<String>,
    pub steps: BTreeMap<usize, StepHead>,
    pub finished: Option<Finished>,
}

/// What a `StepStarted` said, kept to describe the step when it finishes.
#[derive(Debug, Clone)]
pub struct StepHead {
    pub kind: &'static str,
    pub summary: String,
    pub line: u64,
}

/// How an attempt ended.
#[derive(Debug, Clone)]
pub struct Finished {
    pub outcome: ScenarioOutcome,
    pub elapsed: Duration,
    pub figures: Vec<Figure>,
    pub properties: BTreeMap<String, String>,
}

/// The verdict on a scenario over all its attempts.
#[derive(Debug, Clone, PartialEq)]
pub enum TrialVerdict<'a> {
    Passed,
    /// Passed after failing: the earlier failures, oldest first.
    Flaky(Vec<&'a Failure>),
    Failed(&'a Failure),
    Ignored(&'a str),
    /// Started but never finished: the run stopped under it.
    Unfinished,
}

impl RunRecord {
    /// Folds one event in. Events may come in any interleaving across scenarios; within one
    /// scenario they arrive in the order they happened.
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::RunStarted { run_id, cluster } => {
                self.run_id.clone_from(run_id);
                self.cluster.clone_from(cluster);
                self.started_at = Some(SystemTime::now());
            }
            Event::ScenarioStarted {
                id,
                file,
                covers,
                namespace,
                attempt,
            } => {
                let record = self.scenario(id);
                record.file.clone_from(file);
                record.covers.clone_from(covers);
                let current = record.attempt(*attempt);
                current.namespace.clone_from(namespace);
            }
            Event::StepStarted {
                id,
                index,
                kind,
                summary,
                line,
            } => {
                let attempt = self.scenario(id).latest();
                attempt.steps.insert(
                    *index,
                    StepHead {
                        kind,
                        summary: summary.clone(),
                        line: *line,
                    },
                );
            }
            Event::StepFinished {
                id,
                index,
                outcome,
                elapsed,
            } => {
                let attempt = self.scenario(id).latest();
                let head = attempt.steps.get(index).cloned();
                let name = step_name(*index, head.as_ref());
                // The first failure is the scenario's; a `finally` step failing after it is
                // reported beside it, not in its place.
                if matches!(outcome, StepOutcome::Failed(_)) && attempt.failed_step.is_none() {
                    attempt.failed_step = Some(name.clone());
                }
                let line = format!(
                    "{name}: {}",
                    step_ending(*index, outcome, *elapsed, "passed")
                );
                attempt.log.push(line);
            }
            Event::Timeline { id, line } => {
                self.scenario(id).latest().timeline.push(line.clone());
            }
            Event::ScenarioFinished {
                id,
                attempt,
                outcome,
                elapsed,
                figures,
                properties,
            } => {
                let current = self.scenario(id).attempt(*attempt);
                current.finished = Some(Finished {
                    outcome: outcome.clone(),
                    elapsed: *elapsed,
                    figures: figures.clone(),
                    properties: properties.clone(),
                });
            }
            Event::RunFinished { elapsed } => self.elapsed = Some(*elapsed),
        }
    }

    /// Attempt `number` of scenario `id`, once its start or one of its events arrived.
    pub fn attempt(&self, id: &ScenarioId, number: u32) -> Option<&AttemptRecord> {
        self.scenarios
            .get(id)?
            .attempts
            .iter()
            .find(|attempt| attempt.attempt == number)
    }

    fn scenario(&mut self, id: &ScenarioId) -> &mut ScenarioRecord {
        self.scenarios
            .entry(id.clone())
            .or_insert_with(|| ScenarioRecord {
                id: id.clone(),
                file: PathBuf::new(),
                covers: Vec::new(),
                attempts: Vec::new(),
            })
    }
}

impl ScenarioRecord {
    fn attempt(&mut self, number: u32) -> &mut AttemptRecord {
        let at = match self.attempts.iter().position(|a| a.attempt == number) {
            Some(at) => at,
            None => {
                self.attempts.push(AttemptRecord {
                    attempt: number,
                    timeline_file: format!("reports/{}", timeline_file(&self.id)),
                    failure_file: format!("reports/{}", failure_file(&self.id)),
                    ..AttemptRecord::default()
                });
                self.attempts.len() - 1
            }
        };
        &mut self.attempts[at]
    }

    /// The attempt step and timeline events belong to: the newest one (events carry no attempt
    /// number, and attempts of one scenario never overlap).
    fn latest(&mut self) -> &mut AttemptRecord {
        if self.attempts.is_empty() {
            self.attempts.push(AttemptRecord {
                attempt: 1,
                timeline_file: format!("reports/{}", timeline_file(&self.id)),
                failure_file: format!("reports/{}", failure_file(&self.id)),
                ..AttemptRecord::default()
            });
        }
        let last = self.attempts.len() - 1;
        &mut self.attempts[last]
    }

    /// The attempt the verdict is about: the last one.
    pub fn last(&self) -> Option<&AttemptRecord> {
        self.attempts.last()
    }

    pub fn verdict(&self) -> TrialVerdict<'_> {
        let Some(last) = self.attempts.last() else {
            return TrialVerdict::Unfinished;
        };
        match last.finished.as_ref().map(|f| &f.outcome) {
            None => TrialVerdict::Unfinished,
            Some(ScenarioOutcome::Ignored { reason }) => TrialVerdict::Ignored(reason),
            Some(ScenarioOutcome::Failed(failure)) => TrialVerdict::Failed(failure),
            Some(ScenarioOutcome::Passed) => {
                let earlier: Vec<&Failure> = self
                    .attempts
                    .iter()
                    .filter_map(|a| match a.finished.as_ref().map(|f| &f.outcome) {
                        Some(ScenarioOutcome::Failed(failure)) => Some(failure),
                        _ => None,
                    })
                    .collect();
                // Under `--repeat` every attempt is a run of its own, not a retry: one failed
                // run fails the scenario, as the trial's exit status says.
                let repeated = last
                    .finished
                    .as_ref()
                    .is_some_and(|f| f.properties.contains_key("runs"));
                match earlier.first() {
                    None => TrialVerdict::Passed,
                    Some(first) if repeated => TrialVerdict::Failed(first),
                    Some(_) => TrialVerdict::Flaky(earlier),
                }
            }
        }
    }

    /// Total time over all attempts.
    pub fn total_time(&self) -> Duration {
        self.attempts
            .iter()
            .filter_map(|a| a.finished.as_ref().map(|f| f.elapsed))
            .sum()
    }
}

impl AttemptRecord {
    /// The one-line failure message, naming the failed step when the message itself does not.
    pub fn headline(&self, failure: &Failure) -> String {
        let line = first_line(&failure.message);
        match &self.failed_step {
            Some(step) if !line.starts_with("step ") => format!("{step}: {line}"),
            _ => line.to_string(),
        }
    }

    /// The failure body: expected vs actual, the timeline and the diagnostics, at most
    /// [`FAILURE_BODY_CAP`] bytes, each part under its own budget (see [`sections`]); when the
    /// body is still too long, what petset gathered is cut and the onFailure output kept.
    pub fn failure_body(&self, failure: &Failure) -> String {
        let whole = Whole {
            failure: (!self.failure_file.is_empty()).then_some(self.failure_file.as_str()),
            timeline: self.whole_timeline(),
        };
        let (head, collected) = body_parts(failure, &self.timeline, whole);
        let room = FAILURE_BODY_CAP.saturating_sub(collected.len());
        format!("{}{collected}", cut(&head, room, whole))
    }

    /// The whole failure, no part cut, for the failure file a cut body names.
    pub(crate) fn whole_failure(&self, failure: &Failure) -> String {
        let mut sections = Vec::new();
        message_sections(failure, &mut sections);
        let timeline = if failure.timeline.trim().is_empty() {
            self.timeline.join("\n")
        } else {
            failure.timeline.clone()
        };
        push_section(&mut sections, "timeline", &timeline);
        push_section(&mut sections, "diagnostics", &failure.diagnostics);
        sections.join("\n\n")
    }

    /// The file holding the whole timeline, when one is written.
    fn whole_timeline(&self) -> Option<&str> {
        (!self.timeline.is_empty() && !self.timeline_file.is_empty())
            .then_some(self.timeline_file.as_str())
    }

    /// The step log followed by the latest [`OUTPUT_TIMELINE_LINES`] of the streamed timeline
    /// (folded), for system-out; at most [`OUTPUT_CAP`] bytes.
    pub fn output(&self) -> String {
        let whole = Whole {
            failure: None,
            timeline: self.whole_timeline(),
        };
        cut(&self.full_output(whole.timeline), OUTPUT_CAP, whole)
    }

    fn full_output(&self, whole: Option<&str>) -> String {
        let mut out = String::new();
        if !self.namespace.is_empty() {
            out.push_str(&format!("namespace {}\n", self.namespace));
        }
        for line in &self.log {
            out.push_str(line);
            out.push('\n');
        }
        if !self.timeline.is_empty() {
            out.push_str("timeline:\n");
            for line in latest(&self.timeline, OUTPUT_TIMELINE_LINES, whole).lines() {
                out.push_str("  ");
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }
}

/// The body of a failure: the rest of its message, expected vs actual, the timeline (the
/// failure's own, or the streamed one when it has none, either bounded) and the diagnostics.
pub fn failure_text(failure: &Failure, streamed_timeline: &[String]) -> String {
    let (head, collected) = body_parts(failure, streamed_timeline, Whole::default());
    head + &collected
}

/// The rest of a failure's message, its expected and its actual.
fn message_sections(failure: &Failure, sections: &mut Vec<String>) {
    let rest: Vec<&str> = failure.message.lines().skip(1).collect();
    if !rest.is_empty() {
        sections.push(rest.join("\n"));
    }
    push_section(sections, "expected", &failure.expected);
    push_section(sections, "actual", &failure.actual);
}

/// The body of a failure in two parts, each part of it under its own budget: everything up to
/// the onFailure collectors' output, and that output (with what separates it from the first).
fn body_parts(
    failure: &Failure,
    streamed_timeline: &[String],
    whole: Whole<'_>,
) -> (String, String) {
    let mut sections = Vec::new();
    let capped = Failure {
        expected: cut(&failure.expected, SECTION_CAP, whole),
        actual: cut(&failure.actual, SECTION_CAP, whole),
        ..Failure::new(cut(&failure.message, SECTION_CAP, whole))
    };
    message_sections(&capped, &mut sections);
    // The engine sends a bounded excerpt already; other executors may not.
    let own: Vec<&str> = failure.timeline.lines().collect();
    let timeline = if failure.timeline.trim().is_empty() {
        excerpt(streamed_timeline, &[], whole.timeline)
    } else if own.len() > EXCERPT_MAX_LINES + 1 {
        excerpt(&own, &[], whole.timeline)
    } else {
        failure.timeline.clone()
    };
    push_section(&mut sections, "timeline", &timeline);
    let (gathered, collected) = sections::diagnostics(&failure.diagnostics, whole);
    push_section(&mut sections, "diagnostics", &gathered);
    let head = sections.join("\n\n");
    let collected = collected.trim_end();
    if collected.trim().is_empty() {
        return (head, String::new());
    }
    let indented: Vec<String> = collected.lines().map(|l| format!("  {l}")).collect();
    let lead = match (gathered.trim().is_empty(), head.is_empty()) {
        (false, _) => "\n",
        (true, true) => "diagnostics:\n",
        (true, false) => "\n\ndiagnostics:\n",
    };
    (head, format!("{lead}{}", indented.join("\n")))
}

fn push_section(sections: &mut Vec<String>, title: &str, text: &str) {
    let text = text.trim_end();
    if text.trim().is_empty() {
        return;
    }
    let indented: Vec<String> = text.lines().map(|l| format!("  {l}")).collect();
    sections.push(format!("{title}:\n{}", indented.join("\n")));
}

/// `step 3 (scale sts/web to 5, line 14)`, or `step 3` when its start was not seen. Step
/// indexes count from 1, as the scenario's author counts them.
pub(crate) fn step_name(index: usize, head: Option<&StepHead>) -> String {
    match head {
        Some(head) if head.summary.is_empty() => {
            format!("step {index} ({}, line {})", head.kind, head.line)
        }
        Some(head) => format!("step {index} ({}, line {})", head.summary, head.line),
        None => format!("step {index}"),
    }
}

/// How a step ended, after its name: `<passed> in 1.00s — detail; figure = 1 s` or
/// `FAILED after 1.00s: why` (the failure's first line, without the step's own name).
pub(crate) fn step_ending(
    index: usize,
    outcome: &StepOutcome,
    elapsed: Duration,
    passed: &str,
) -> String {
    match outcome {
        StepOutcome::Passed { detail, figures } => {
            let mut text = format!("{passed} in {}", seconds(elapsed));
            if !detail.is_empty() {
                text.push_str(" — ");
                text.push_str(detail);
            }
            for figure in figures {
                text.push_str(&format!("; {}", figure_text(figure)));
            }
            text
        }
        StepOutcome::Failed(failure) => format!(
            "FAILED after {}: {}",
            seconds(elapsed),
            without_step(first_line(&failure.message), index)
        ),
    }
}

/// A step's own failure message without its leading `step N (...): `, for lines that already
/// name the step.
fn without_step(message: &str, index: usize) -> &str {
    let bare = format!("step {index}: ");
    if let Some(rest) = message.strip_prefix(&bare) {
        return rest;
    }
    let open = format!("step {index} (");
    match message
        .strip_prefix(&open)
        .and_then(|rest| rest.find("): ").map(|at| (rest, at)))
    {
        Some((rest, at)) => &rest[at + 3..],
        None => message,
    }
}

pub(crate) fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("").trim_end()
}

pub(crate) fn seconds(elapsed: Duration) -> String {
    format!("{:.2}s", elapsed.as_secs_f64())
}

fn figure_text(figure: &Figure) -> String {
    format!("{} = {}", figure.name, value_text(figure))
}

pub(crate) fn value_text(figure: &Figure) -> String {
    if figure.unit.is_empty() {
        format!("{}", figure.value)
    } else {
        format!("{} {}", figure.value, figure.unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_failure_body_and_output_are_cut_at_their_caps() {
        let attempt = AttemptRecord {
            log: vec!["step 1 (exec pod/web-0, line 4): FAILED after 1.00s: exit 1".into(); 2000],
            timeline: vec!["+0.100s pod/web-0 ADDED".into()],
            timeline_file: "reports/timelines/a--b.txt".into(),
            ..AttemptRecord::default()
        };
        // Multi-byte characters, so a cut in the middle of one would be a bug.
        let failure = Failure {
            message: format!("step 1 (exec pod/web-0): exit 1\n{}", "é".repeat(100_000)),
            actual: "é".repeat(100_000),
            diagnostics: format!("== pod/web-0 (last observed) ==\n{}\n", "é".repeat(5_000))
                .repeat(6),
            ..Failure::default()
        };
        let body = attempt.failure_body(&failure);
        assert!(body.len() <= FAILURE_BODY_CAP, "{}", body.len());
        assert!(
            body.contains("more bytes left out: reports keep at most 8 KiB here"),
            "the actual is cut to its own budget"
        );
        assert!(
            body.ends_with(
                "more bytes left out: reports keep at most 32 KiB here; the whole timeline: \
                 reports/timelines/a--b.txt]"
            ),
            "{}",
            &body[body.len() - 200..]
        );
        let output = attempt.output();
        assert!(output.len() <= OUTPUT_CAP, "{}", output.len());
        assert!(output.starts_with("step 1 (exec pod/web-0, line 4)"));
    }

    #[test]
    fn a_step_prefix_is_dropped_only_for_the_same_step() {
        assert_eq!(
            without_step("step 2 (wait pod/a for ready): timed out", 2),
            "timed out"
        );
        assert_eq!(without_step("step 2: timed out", 2), "timed out");
        assert_eq!(
            without_step("step 3 (wait): timed out", 2),
            "step 3 (wait): timed out"
        );
        assert_eq!(without_step("timed out", 2), "timed out");
    }
}
