//! Expectations shared by several step kinds: text, SQL rows and object lists.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a piece of text (stdout, stderr, an HTTP body) must look like. All given parts must hold.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TextMatch {
    /// The whole text, ignoring one trailing newline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<String>,
    /// Substrings that must all appear.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contains: Vec<String>,
    /// Substrings that must not appear.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_contains: Vec<String>,
    /// A regular expression that must match somewhere in the text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    /// The number of non-empty lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_count: Option<usize>,
}

/// How rows returned by a query are compared with the expected rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum RowsMatch {
    /// Same rows in the same order.
    #[default]
    Exact,
    /// Same rows in any order.
    Unordered,
    /// Every expected row is among the returned rows.
    Contains,
}

/// How the expected `items` of a list assertion are matched with the live objects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ItemsMatch {
    /// Each expected item matches a distinct live object; extra live objects are allowed.
    #[default]
    Subset,
    /// As `subset`, and there are no other live objects.
    Exact,
    /// As `exact`, in the order the objects are listed by name.
    Ordered,
}
