//! The result of a failed match: field-level differences, each at a path into the live object.
//!
//! A difference reads as one line (`status.phase: expected "Running", got "Pending"`). When a
//! side names a whole object or list, the value is kept: the one-line form shows it in compact
//! YAML, and [`Difference::write_entry`] (the `differences:` section of a report) in block YAML.

use super::diff::{yaml_block, yaml_flow};
use super::scalar::show;
use serde_json::Value;
use std::fmt;

/// One field that did not match: `status.readyReplicas: expected 3, got 1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// Where in the live object, e.g. `status.containerStatuses[0].restartCount`; empty for the
    /// object itself.
    pub path: String,
    /// What was expected, as a reader would say it (`3`, `> 0`, `matching /^web-/`, `an object
    /// matching`).
    pub expected: String,
    /// What was there (`1`, `nothing`).
    pub actual: String,
    /// The object or list `expected` ends with, when it names one.
    pub expected_value: Option<Value>,
    /// The object or list `actual` ends with, when it names one.
    pub actual_value: Option<Value>,
}

/// One side of a difference: a phrase, and the object or list it ends with, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Side {
    text: String,
    value: Option<Value>,
}

impl From<String> for Side {
    fn from(text: String) -> Self {
        Side { text, value: None }
    }
}

impl From<&str> for Side {
    fn from(text: &str) -> Self {
        Side::from(text.to_owned())
    }
}

/// `phrase` followed by `value`: a scalar joins the phrase (`"Running"`), an object or a list is
/// kept whole to be shown as YAML.
pub(crate) fn naming(phrase: &str, value: &Value) -> Side {
    match value {
        Value::Object(_) | Value::Array(_) => Side {
            text: phrase.to_owned(),
            value: Some(value.clone()),
        },
        scalar if phrase.is_empty() => Side::from(show(scalar)),
        scalar => Side::from(format!("{phrase} {}", show(scalar))),
    }
}

/// A side in one line: the phrase, then the value in compact YAML.
fn one_line(text: &str, value: Option<&Value>) -> String {
    match (text.is_empty(), value) {
        (_, None) => text.to_owned(),
        (true, Some(value)) => yaml_flow(value),
        (false, Some(value)) => format!("{text} {}", yaml_flow(value)),
    }
}

impl Difference {
    fn new(path: &str, expected: Side, actual: Side) -> Self {
        Self {
            path: path.to_owned(),
            expected: expected.text,
            actual: actual.text,
            expected_value: expected.value,
            actual_value: actual.value,
        }
    }

    /// Appends this difference as an entry of a `differences:` list: one line when both sides
    /// are plain, else each side on its own line with its object or list as block YAML.
    pub fn write_entry(&self, out: &mut String) {
        if self.expected_value.is_none() && self.actual_value.is_none() {
            out.push_str(&format!("  - {self}\n"));
            return;
        }
        let mut lead = "  - ".to_owned();
        if !self.path.is_empty() {
            out.push_str(&format!("  - {}:\n", self.path));
            lead = "    ".to_owned();
        }
        for (word, text, value) in [
            ("expected", &self.expected, &self.expected_value),
            ("got", &self.actual, &self.actual_value),
        ] {
            out.push_str(&lead);
            out.push_str(word);
            if !text.is_empty() {
                out.push(' ');
                out.push_str(text);
            }
            match value {
                Some(value) => {
                    out.push_str(":\n");
                    for line in yaml_block(value).lines() {
                        out.push_str("      ");
                        out.push_str(line);
                        out.push('\n');
                    }
                }
                None => out.push('\n'),
            }
            lead = "    ".to_owned();
        }
    }
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        write!(
            f,
            "expected {}, got {}",
            one_line(&self.expected, self.expected_value.as_ref()),
            one_line(&self.actual, self.actual_value.as_ref())
        )
    }
}

/// Why an expectation did not hold: every difference found, in the order the fields were visited.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mismatch {
    pub differences: Vec<Difference>,
}

impl Mismatch {
    pub fn one(path: &str, expected: impl Into<String>, actual: impl Into<String>) -> Self {
        let mut mismatch = Self::default();
        mismatch.push(path, expected.into(), actual.into());
        mismatch
    }

    pub fn is_empty(&self) -> bool {
        self.differences.is_empty()
    }

    pub fn push(&mut self, path: &str, expected: impl Into<Side>, actual: impl Into<Side>) {
        self.differences
            .push(Difference::new(path, expected.into(), actual.into()));
    }

    pub fn extend(&mut self, other: Mismatch) {
        self.differences.extend(other.differences);
    }

    /// The same differences with `prefix` put in front of every path (an object's name, a list
    /// index), so a list-level report says which element each difference belongs to.
    pub fn prefixed(mut self, prefix: &str) -> Self {
        for difference in &mut self.differences {
            difference.path = join_prefix(prefix, &difference.path);
        }
        self
    }

    /// The same differences attributed to one object of a list (`web-1: status.phase: ...`).
    pub fn in_object(mut self, name: &str) -> Self {
        for difference in &mut self.differences {
            difference.path = if difference.path.is_empty() {
                name.to_owned()
            } else {
                format!("{name}: {}", difference.path)
            };
        }
        self
    }

    /// `Ok` when nothing differs.
    pub(crate) fn into_result(self) -> Result<(), Mismatch> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }
}

fn join_prefix(prefix: &str, path: &str) -> String {
    match (prefix.is_empty(), path.is_empty()) {
        (true, _) => path.to_owned(),
        (false, true) => prefix.to_owned(),
        (false, false) if path.starts_with('[') => format!("{prefix}{path}"),
        (false, false) => format!("{prefix}.{path}"),
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, difference) in self.differences.iter().enumerate() {
            if index > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{difference}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Mismatch {}

/// The path of a map key under `parent`: `spec.replicas`, or `metadata.labels["app.kubernetes.io/name"]`
/// for keys that would read ambiguously after a dot.
pub(crate) fn key_path(parent: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match (parent.is_empty(), plain) {
        (true, true) => key.to_owned(),
        (false, true) => format!("{parent}.{key}"),
        (_, false) => format!("{parent}[{}]", serde_json::Value::from(key)),
    }
}

/// The path of list element `index` under `parent`: `spec.containers[0]`.
pub(crate) fn index_path(parent: &str, index: usize) -> String {
    format!("{parent}[{index}]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_like_kubectl_jsonpath() {
        let containers = key_path(&key_path("", "spec"), "containers");
        assert_eq!(index_path(&containers, 1), "spec.containers[1]");
        assert_eq!(
            key_path("metadata.labels", "app.kubernetes.io/name"),
            r#"metadata.labels["app.kubernetes.io/name"]"#
        );
    }

    #[test]
    fn display_lists_every_difference_with_its_path() {
        let mut mismatch = Mismatch::one("status.phase", "\"Running\"", "\"Pending\"");
        mismatch.push("", "an object", "a list");
        let text = mismatch.prefixed("web-0").to_string();
        assert_eq!(
            text,
            "web-0.status.phase: expected \"Running\", got \"Pending\"\nweb-0: expected an object, got a list"
        );
        let indexed = Mismatch::one("[2].name", "\"a\"", "\"b\"").prefixed("items");
        assert_eq!(indexed.differences[0].path, "items[2].name");
    }

    #[test]
    fn objects_and_lists_show_as_yaml_in_one_line_and_in_blocks() {
        let mut mismatch = Mismatch::default();
        let live = serde_json::json!([{"name": "a, b", "port": 80}]);
        mismatch.push("spec.ports", "an empty list", naming("", &live));
        assert_eq!(
            mismatch.to_string(),
            "spec.ports: expected an empty list, got [{name: \"a, b\", port: 80}]"
        );
        let mut text = String::new();
        mismatch.differences[0].write_entry(&mut text);
        assert_eq!(
            text,
            "  - spec.ports:\n    expected an empty list\n    got:\n      - name: a, b\n        port: 80\n"
        );
    }

    #[test]
    fn long_objects_are_cut_in_both_forms() {
        let big: serde_json::Map<String, serde_json::Value> = (0..100)
            .map(|i| (format!("key{i:03}"), serde_json::Value::from(i)))
            .collect();
        let mismatch = Mismatch {
            differences: vec![Difference::new(
                "",
                naming("an object matching", &serde_json::Value::Object(big)),
                Side::from("nothing"),
            )],
        };
        let line = mismatch.to_string();
        assert!(line.contains("..., got nothing"), "{line}");
        assert!(line.len() < 250, "{line}");
        let mut text = String::new();
        mismatch.differences[0].write_entry(&mut text);
        assert!(
            text.contains("key039: 39\n      # ... 60 more lines\n"),
            "{text}"
        );
        assert!(!text.contains("key040"), "{text}");
    }
}
