//! Matching live state against expectations: partial objects, object lists, text and label
//! selectors, with field-level differences and readable diffs for reports.

mod diff;
mod items;
mod matching;
mod mismatch;
mod operators;
mod partial;
mod scalar;
mod selector;
mod text;

pub use diff::{Report, append_differences, project, project_all, report, yamlish};
pub use items::{count, each, match_items, natural_cmp, object_name, sort_by_name};
pub use mismatch::{Difference, Mismatch};
pub use operators::{OPERATORS, validate};
pub use partial::{contains, matches};
pub use selector::{Requirement, Selector, SelectorError};
pub use text::{match_text, substitute_text, validate_text};
