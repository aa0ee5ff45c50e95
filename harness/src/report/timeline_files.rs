//! What the bounded failure reports leave out, kept where a failure names it: the whole
//! timeline of each scenario under `reports/timelines/`, and the whole of each failed one's
//! failures (every object as last observed, uncut) under `reports/failures/`.

use std::path::{Path, PathBuf};

use super::error::ReportError;
use super::record::{Finished, RunRecord};
use crate::events::{ScenarioId, ScenarioOutcome};

/// The folder under `reports/` the timeline files go to.
pub const TIMELINES_DIR: &str = "timelines";

/// The folder under `reports/` the failure files go to.
pub const FAILURES_DIR: &str = "failures";

/// Where the whole timeline of `id` goes, relative to `reports/`:
/// `timelines/<area>--<name>.txt`.
pub fn timeline_file(id: &ScenarioId) -> String {
    format!("{TIMELINES_DIR}/{}", file_name(id))
}

/// Where the whole failures of `id` go, relative to `reports/`: `failures/<area>--<name>.txt`.
pub fn failure_file(id: &ScenarioId) -> String {
    format!("{FAILURES_DIR}/{}", file_name(id))
}

/// `<area>--<name>.txt`, with what a file name should not hold replaced.
fn file_name(id: &ScenarioId) -> String {
    let safe = |text: &str| -> String {
        text.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    format!("{}--{}.txt", safe(&id.area), safe(&id.name))
}

/// Writes one file per scenario of `record` that recorded a timeline into `reports_dir`, each
/// attempt under a header naming its namespace; returns the paths written.
pub(crate) fn write(record: &RunRecord, reports_dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let mut written = Vec::new();
    for (id, scenario) in &record.scenarios {
        if scenario.attempts.iter().all(|a| a.timeline.is_empty()) {
            continue;
        }
        let mut text = String::new();
        for attempt in &scenario.attempts {
            // An attempt that never got a namespace has no header; what it streamed (if
            // anything) follows the attempt before it.
            if !attempt.namespace.is_empty() {
                text.push_str(&format!(
                    "== attempt {}, namespace {} ==\n",
                    attempt.attempt, attempt.namespace
                ));
            }
            for line in &attempt.timeline {
                text.push_str(line);
                text.push('\n');
            }
        }
        let path = reports_dir.join(timeline_file(id));
        super::write_file(&path, &text)?;
        written.push(path);
    }
    Ok(written)
}

/// Writes one file per scenario of `record` with a failed attempt into `reports_dir`: each
/// failure whole, under a header naming its attempt; returns the paths written.
pub(crate) fn write_failures(
    record: &RunRecord,
    reports_dir: &Path,
) -> Result<Vec<PathBuf>, ReportError> {
    let mut written = Vec::new();
    for (id, scenario) in &record.scenarios {
        let mut text = String::new();
        for attempt in &scenario.attempts {
            let Some(Finished {
                outcome: ScenarioOutcome::Failed(failure),
                ..
            }) = &attempt.finished
            else {
                continue;
            };
            text.push_str(&format!(
                "== attempt {}, namespace {} ==\n{}\n{}\n",
                attempt.attempt,
                attempt.namespace,
                failure.message.lines().next().unwrap_or_default(),
                attempt.whole_failure(failure)
            ));
        }
        if text.is_empty() {
            continue;
        }
        let path = reports_dir.join(failure_file(id));
        super::write_file(&path, &text)?;
        written.push(path);
    }
    Ok(written)
}
