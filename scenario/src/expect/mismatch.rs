//! The result of a failed match: field-level differences, each at a path into the live object.

use std::fmt;

/// One field that did not match: `status.readyReplicas: expected 3, got 1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// Where in the live object, e.g. `status.containerStatuses[0].restartCount`; empty for the
    /// object itself.
    pub path: String,
    /// What was expected, as a reader would say it (`3`, `> 0`, `matching /^web-/`).
    pub expected: String,
    /// What was there (`1`, `nothing`).
    pub actual: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        write!(f, "expected {}, got {}", self.expected, self.actual)
    }
}

/// Why an expectation did not hold: every difference found, in the order the fields were visited.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mismatch {
    pub differences: Vec<Difference>,
}

impl Mismatch {
    pub fn one(path: &str, expected: impl Into<String>, actual: impl Into<String>) -> Self {
        Self {
            differences: vec![Difference {
                path: path.to_owned(),
                expected: expected.into(),
                actual: actual.into(),
            }],
        }
    }

    pub fn is_empty(&self) -> bool {
        self.differences.is_empty()
    }

    pub fn push(&mut self, path: &str, expected: impl Into<String>, actual: impl Into<String>) {
        self.differences.push(Difference {
            path: path.to_owned(),
            expected: expected.into(),
            actual: actual.into(),
        });
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
}
