//! petset: a declarative test harness and conformance suite for Kubernetes stateful workloads.
//!
//! The scenario language (model, loading, validation, schema, matching) is the
//! `petset-scenario` crate, re-exported here as [`scenario`] and [`expect`]; this crate runs
//! scenarios against a cluster.

pub mod api;
mod clock;
pub mod cluster;
pub mod diagnostics;
pub mod engine;
pub mod error_chain;
pub mod events;
pub mod net;
pub mod redact;
pub mod report;
pub mod runner;
pub mod sql;
pub mod steps;
pub mod timeline;
pub mod wait;

pub use petset_scenario as scenario;
pub use petset_scenario::expect;

/// Runs the suite at `suite_dir` (`scenarios/<area>/<name>.yaml`, `fixtures/`, an optional
/// `catalogue.yaml`) as a test binary: one libtest trial per scenario, the command line's
/// filters, the reports under `<suite_dir>/reports/`, the cluster `PETSET_CLUSTER` selects.
/// Call it from the `main` of a `[[test]]` with `harness = false`:
///
/// ```no_run
/// fn main() -> std::process::ExitCode {
///     petset::test_main(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/suite"))
/// }
/// ```
pub fn test_main(suite_dir: impl AsRef<std::path::Path>) -> std::process::ExitCode {
    runner::suite_main(suite_dir.as_ref(), &libtest_mimic::Arguments::from_args())
}
