//! Reporters: one aggregator folds the event stream into the run record, and the terminal,
//! JUnit XML, the coverage table, the timeline files and the failure files render from that
//! record.

mod aggregator;
mod coverage;
mod error;
mod fanout;
mod junit;
mod live_timeline;
mod record;
mod sections;
mod setup;
mod terminal;
mod timeline_files;

pub use aggregator::RunAggregator;
pub use coverage::{
    Behaviour, BehaviourCoverage, Coverage, CoverageReporter, InvalidScenario, ScenarioCoverage,
    Status, markdown as coverage_markdown, text as coverage_text,
};
pub use error::ReportError;
pub use fanout::{Reporters, Written};
pub use junit::render as render_junit;
pub use live_timeline::LIVE_LINES;
pub use record::{
    AttemptRecord, FAILURE_BODY_CAP, Finished, OUTPUT_CAP, OUTPUT_TIMELINE_LINES, RunRecord,
    ScenarioRecord, TrialVerdict, failure_text,
};
pub(crate) use sections::COLLECTOR_HEADER;
pub use terminal::{TerminalReporter, WriteDebug};
pub use timeline_files::{FAILURES_DIR, TIMELINES_DIR, failure_file, timeline_file};

pub(crate) use fanout::write_file;
