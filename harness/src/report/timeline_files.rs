//! The whole timeline of each scenario, one file per scenario under `reports/timelines/`: what
//! the bounded failure reports leave out, kept where a failure names it.

use std::path::{Path, PathBuf};

use super::error::ReportError;
use super::record::RunRecord;
use crate::events::ScenarioId;

/// The folder under `reports/` the timeline files go to.
pub const TIMELINES_DIR: &str = "timelines";

/// Where the whole timeline of `id` goes, relative to `reports/`:
/// `timelines/<area>--<name>.txt`.
pub fn timeline_file(id: &ScenarioId) -> String {
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
    format!("{TIMELINES_DIR}/{}--{}.txt", safe(&id.area), safe(&id.name))
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
