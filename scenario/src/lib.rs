//! The scenario language: the YAML model, loading with spans, validation, diagnostics, the JSON
//! Schema, the suite on disk and the pure matching of live state against expectations.
//!
//! Checking runs in passes, each only on what the previous one accepted: YAML syntax, then shape
//! (the serde model: unknown fields and step kinds), then meaning (fixtures, manifests, catalogue
//! ids, references, variables). Every problem is a [`Diagnostic`] with file, line and column.
//!
//! Nothing here talks to a cluster or a database: no Kubernetes client, no async runtime, no
//! SQL driver. Manifests are checked against the k8s-openapi types (data types only). An editor
//! plugin or another tool can embed the crate as it is.

pub mod catalogue;
pub mod diagnostic;
pub mod discover;
pub mod expect;
mod id;
pub mod kinds;
pub mod load;
pub mod model;
pub mod schema;
mod shape;
mod similar;
pub mod suite;
pub mod validate;
pub mod yaml;

pub use catalogue::Catalogue;
pub use diagnostic::{Diagnostic, Severity, SourceFile, render_fancy, render_plain};
pub use discover::{Discovered, discover, find_repo_root, repo_root};
pub use id::ScenarioId;
pub use load::load_source;
pub use suite::{
    Checked, FileProblems, LoadedScenario, Suite, SuiteError, check_file, check_source,
    load_catalogue, load_suite,
};
pub use validate::Checker;
pub use yaml::read_manifests;
