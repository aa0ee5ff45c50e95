//! The meaning pass: what a scenario that parsed says, checked before anything touches a cluster.
//!
//! Fixture files exist and their manifests fit their Kubernetes types; `covers` ids are in the
//! catalogue; steps refer to objects the scenario creates, to variables defined earlier and to
//! marks set earlier; fields that only make sense together are given together.

mod check;
mod combinations;
mod enums_table;
mod kinds;
mod manifests;
mod matrix;
mod references;
mod steps;
mod typed;
mod variables;

pub use check::Checker;
pub(crate) use check::Parts;
pub use manifests::is_empty_document;
pub use steps::{BUILTIN_VARIABLES, StepCheck};
pub use typed::{BadValue, Findings, JsonPath, UnknownField, check_object};
