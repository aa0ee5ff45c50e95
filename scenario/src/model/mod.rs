//! The scenario model: the serde types a scenario file deserializes into.
//!
//! Every user-facing type is externally tagged (`- apply: ...`), denies unknown fields and uses
//! camelCase keys, so a typo is an error with a precise location rather than a silent default.

mod collect;
mod duration;
mod expect;
mod field_path;
mod kind;
mod label_selector;
mod matrix;
mod password;
mod request_path;
mod scenario;
mod steps;
mod target;
mod variables;

pub use collect::{Collector, CommandCollector, LogsCollector, ObjectCollector};
pub use duration::Duration;
pub use expect::{ItemsMatch, RowsMatch, TextMatch};
pub use field_path::{FieldPath, FieldPathError, Segment};
pub use kind::Kind;
pub(crate) use label_selector::SELECTOR_ERROR;
pub use label_selector::{ParsedSelector, SelectorTemplate};
pub use matrix::{MAX_COMBINATIONS, Matrix, Parameters, combination_count, combinations, label};
pub use password::{Password, REDACTED};
pub(crate) use request_path::PATH_ERROR;
pub use request_path::{PATH_HINT, PathTemplate};
pub use scenario::{Requires, Scenario};
pub use steps::*;
pub use target::{ResolvedTarget, Target};
pub use variables::{TemplateError, Variables};

#[cfg(test)]
mod tests;
