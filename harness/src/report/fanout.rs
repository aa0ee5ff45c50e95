//! The reporters of a run around their one aggregator: every event is folded into the run
//! record, the terminal prints what a verbose run shows for it, and the report files are
//! rendered from the record once at the end (or when dropped, so an aborted run still leaves
//! its report).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::aggregator::RunAggregator;
use super::coverage::{CoverageReporter, text as coverage_text};
use super::error::ReportError;
use super::junit;
use super::terminal::{TerminalReporter, summary};
use super::timeline_files::{self, FAILURES_DIR, TIMELINES_DIR};
use crate::events::{Event, EventSink};

/// The run record, the renderers of a run, and where their files go.
#[derive(Debug)]
pub struct Reporters {
    record: RunAggregator,
    pub terminal: TerminalReporter,
    pub coverage: CoverageReporter,
    junit_path: PathBuf,
    coverage_dir: PathBuf,
    written: Mutex<Option<Vec<Written>>>,
}

/// A report file that was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub what: &'static str,
    pub path: PathBuf,
}

impl EventSink for Reporters {
    fn emit(&self, event: Event) {
        // Printed under the record's lock: lines of scenarios running side by side come out in
        // the order the record took their events.
        self.record
            .fold(&event, |record| self.terminal.show(&event, record));
    }
}

impl Reporters {
    pub fn new(
        terminal: TerminalReporter,
        coverage: CoverageReporter,
        junit_path: PathBuf,
        coverage_dir: PathBuf,
    ) -> Self {
        Self {
            record: RunAggregator::new(),
            terminal,
            coverage,
            junit_path,
            coverage_dir,
            written: Mutex::new(None),
        }
    }

    /// The record every report renders from.
    pub fn record(&self) -> &RunAggregator {
        &self.record
    }

    pub fn junit_path(&self) -> &Path {
        &self.junit_path
    }

    pub fn coverage_dir(&self) -> &Path {
        &self.coverage_dir
    }

    /// Writes every report file; later calls do nothing and return the same list. Each file is
    /// attempted even when another fails, and the first error is returned.
    pub fn finish(&self) -> Result<Vec<Written>, ReportError> {
        let mut written = self
            .written
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(done) = written.as_ref() {
            return Ok(done.clone());
        }
        let (junit, coverage, timelines, failures) = self.record.read(|record| {
            (
                junit::write(record, &self.junit_path),
                self.coverage.write(record, &self.coverage_dir),
                timeline_files::write(record, &self.coverage_dir),
                timeline_files::write_failures(record, &self.coverage_dir),
            )
        });
        let mut files = vec![
            Written {
                what: "JUnit report",
                path: self.junit_path.clone(),
            },
            Written {
                what: "coverage",
                path: self.coverage_dir.join("coverage.md"),
            },
            Written {
                what: "coverage (JSON)",
                path: self.coverage_dir.join("coverage.json"),
            },
        ];
        if timelines.as_ref().is_ok_and(|written| !written.is_empty()) {
            files.push(Written {
                what: "timelines",
                path: self.coverage_dir.join(TIMELINES_DIR),
            });
        }
        if failures.as_ref().is_ok_and(|written| !written.is_empty()) {
            files.push(Written {
                what: "failures",
                path: self.coverage_dir.join(FAILURES_DIR),
            });
        }
        junit?;
        coverage?;
        timelines?;
        failures?;
        *written = Some(files.clone());
        Ok(files)
    }

    /// The closing text: the summary of failures and flaky scenarios, then the coverage table.
    pub fn closing_text(&self) -> String {
        self.record.read(|record| {
            let mut out = summary(record);
            out.push_str(&coverage_text(&self.coverage.coverage(record)));
            out
        })
    }
}

impl Drop for Reporters {
    fn drop(&mut self) {
        let pending = self.written.lock().map(|w| w.is_none()).unwrap_or(true);
        if pending && let Err(err) = self.finish() {
            eprintln!("petset: {}", crate::error_chain::chain(&err));
        }
    }
}

/// Writes `text` to `path`, creating the folder; written to a temporary name and renamed so a
/// reader never sees half a report.
pub(crate) fn write_file(path: &Path, text: &str) -> Result<(), ReportError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| ReportError::CreateDir {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    std::fs::write(&partial, text).map_err(|source| ReportError::Write {
        path: partial.clone(),
        source,
    })?;
    std::fs::rename(&partial, path).map_err(|source| ReportError::Write {
        path: path.to_path_buf(),
        source,
    })
}
