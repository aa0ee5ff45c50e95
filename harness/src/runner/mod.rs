//! The conformance runner: scenarios -> libtest-mimic trials on one shared tokio runtime, each
//! under its deadline, in parallel up to `--test-threads` (serial scenarios alone), with
//! retries, Ctrl-C handling and the event fan-out to the reporters.

mod attempt;
mod backend;
mod conformance;
mod discover;
mod emulated;
mod engine;
mod interrupt;
mod labels;
mod nextest;
mod run;
mod settings;
mod suite;
mod trial;

pub use backend::{Availability, ClusterSource, Executed, Job, ScenarioExecutor, Target, Teardown};
pub use conformance::{SelectedCluster, SharedProbe, conformance_main, run_suite, suite_main};
pub use discover::load;
pub use emulated::EMULATED_CONTEXT;
pub use engine::EngineExecutor;
pub use interrupt::Interrupt;
pub use labels::LabelFilter;
pub use nextest::Nextest;
pub use run::{RunInput, RunOutcome, run, run_with};
pub use settings::{RunSettings, SettingsError, parse_repeat};
pub use suite::{Content, SuiteEntry};
