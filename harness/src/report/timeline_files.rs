//! The whole timeline of each scenario, one file per scenario under `reports/timelines/`: what
//! the bounded failure reports leave out, kept where a failure names it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::error::ReportError;
use crate::events::{Event, EventSink, ScenarioId};

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

/// Collects each scenario's streamed timeline, attempt by attempt.
#[derive(Debug, Default)]
pub struct TimelineFiles {
    scenarios: Mutex<BTreeMap<ScenarioId, Vec<AttemptTimeline>>>,
}

#[derive(Debug, Default)]
struct AttemptTimeline {
    header: String,
    lines: Vec<String>,
}

impl EventSink for TimelineFiles {
    fn emit(&self, event: Event) {
        let mut scenarios = self
            .scenarios
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match event {
            Event::ScenarioStarted {
                id,
                namespace,
                attempt,
                ..
            } if !namespace.is_empty() => {
                scenarios.entry(id).or_default().push(AttemptTimeline {
                    header: format!("== attempt {attempt}, namespace {namespace} =="),
                    lines: Vec::new(),
                });
            }
            Event::Timeline { id, line } => {
                let attempts = scenarios.entry(id).or_default();
                if attempts.is_empty() {
                    attempts.push(AttemptTimeline::default());
                }
                if let Some(current) = attempts.last_mut() {
                    current.lines.push(line);
                }
            }
            _ => {}
        }
    }
}

impl TimelineFiles {
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes one file per scenario that recorded a timeline into `reports_dir`; returns the
    /// paths written.
    pub fn write(&self, reports_dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
        let scenarios = self
            .scenarios
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut written = Vec::new();
        for (id, attempts) in scenarios.iter() {
            if attempts.iter().all(|a| a.lines.is_empty()) {
                continue;
            }
            let mut text = String::new();
            for attempt in attempts {
                if !attempt.header.is_empty() {
                    text.push_str(&attempt.header);
                    text.push('\n');
                }
                for line in &attempt.lines {
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
}
