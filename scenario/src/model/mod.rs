//! The scenario model: the serde types a scenario file deserializes into.
//!
//! Every user-facing type is externally tagged (`- apply: ...`), denies unknown fields and uses
//! camelCase keys, so a typo is an error with a precise location rather than a silent default.

mod collect;
mod duration;
mod expect;
mod field_path;
mod kind;
mod matrix;
mod password;
mod scenario;
mod steps;
mod target;

pub use collect::{Collector, CommandCollector, LogsCollector, ObjectCollector};
pub use duration::Duration;
pub use expect::{ItemsMatch, RowsMatch, TextMatch};
pub use field_path::{FieldPath, FieldPathError, Segment};
pub use kind::Kind;
pub use matrix::{MAX_COMBINATIONS, Matrix, Parameters, combination_count, combinations, label};
pub use password::{Password, REDACTED};
pub use scenario::{Requires, Scenario};
pub use steps::*;
pub use target::Target;

#[cfg(test)]
mod tests;
