//! The conformance runner: scenarios -> libtest-mimic trials on one shared tokio runtime, each
//! under its deadline, in parallel up to `--test-threads` (serial scenarios alone), with
//! retries, Ctrl-C handling and the event fan-out to the reporters.

mod attempt;
mod backend;
mod collect;
mod conformance;
mod emulated;
mod entries;
mod executor;
mod interrupt;
mod labels;
mod nextest;
mod run;
mod settings;
mod trial;

pub use backend::{
    Availability, ClusterSource, ClusterTarget, Executed, Job, ScenarioExecutor, Teardown,
};
pub use collect::load;
pub use conformance::{SelectedCluster, SharedProbe, conformance_main, run_suite, suite_main};
pub use emulated::EMULATED_CONTEXT;
pub use entries::{Content, SuiteEntry};
pub use executor::EngineExecutor;
pub use interrupt::Interrupt;
pub use labels::LabelFilter;
pub use nextest::Nextest;
pub use run::{RunInput, RunOutcome, run, run_with};
pub use settings::{RunSettings, SettingsError, parse_repeat};
