//! The scenario model: the serde types a scenario file deserializes into.
//!
//! Every user-facing type is externally tagged (`- apply: ...`), denies unknown fields and uses
//! camelCase keys, so a typo is an error with a precise location rather than a silent default.

/// Display and serde for a type written as one string: read with `$parse` (its error is the
/// message, reported where the string is), shown and written back as the text it was read from
/// (`as_str`).
macro_rules! text_type {
    ($type:ty, $parse:path) => {
        impl std::fmt::Display for $type {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                $parse(&text).map_err(serde::de::Error::custom)
            }
        }

        impl serde::Serialize for $type {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    };
}

use text_type;

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
pub use label_selector::{ParsedSelector, SelectorTemplate};
pub(crate) use label_selector::{SELECTOR_ERROR, SELECTOR_HINT};
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
