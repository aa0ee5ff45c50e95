//! Readable expected-versus-actual text for failure reports.
//!
//! The actual side shows only the fields the expectation names (a live Pod has hundreds), in
//! YAML-like text, followed by the field-level differences.

use super::mismatch::Mismatch;
use super::operators;
use serde_json::{Map, Value};

/// The two sides of a failed match, ready for [`crate::events::Failure`]'s `expected`/`actual`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub expected: String,
    pub actual: String,
}

/// Renders `expected`, the matching part of `actual`, and the differences between them.
pub fn report(actual: &Value, expected: &Value, mismatch: &Mismatch) -> Report {
    let mut actual_text = yamlish(&project(actual, expected));
    append_differences(&mut actual_text, mismatch);
    Report {
        expected: yamlish(expected),
        actual: actual_text,
    }
}

/// Appends a `differences:` section (nothing when there are none).
pub fn append_differences(text: &mut String, mismatch: &Mismatch) {
    if mismatch.is_empty() {
        return;
    }
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("differences:\n");
    for difference in &mismatch.differences {
        text.push_str("  - ");
        text.push_str(&difference.to_string());
        text.push('\n');
    }
}

/// The part of `actual` that `expected` speaks of: the same keys, recursively; list elements
/// cut to the keys any expected element names; values under operators or scalars kept whole.
pub fn project(actual: &Value, expected: &Value) -> Value {
    match (actual, expected) {
        (Value::Object(live), Value::Object(wanted)) if operators::parse(wanted).is_none() => {
            let mut out = Map::new();
            for (key, item) in wanted {
                if let Some(value) = live.get(key) {
                    out.insert(key.clone(), project(value, item));
                }
            }
            Value::Object(out)
        }
        (Value::Array(live), Value::Array(wanted)) => {
            let shape = merged_shape(wanted);
            Value::Array(
                live.iter()
                    .map(|item| match &shape {
                        Some(shape) => project(item, shape),
                        None => item.clone(),
                    })
                    .collect(),
            )
        }
        (actual, _) => actual.clone(),
    }
}

/// One plain map naming every key the expected list elements name, if they are all plain maps.
fn merged_shape(wanted: &[Value]) -> Option<Value> {
    let mut merged = Map::new();
    for item in wanted {
        let Value::Object(map) = item else {
            return None;
        };
        if operators::parse(map).is_some() {
            return None;
        }
        for (key, value) in map {
            let combined = match (merged.remove(key), value) {
                (Some(Value::Object(mut old)), Value::Object(new))
                    if operators::parse(new).is_none() =>
                {
                    for (inner_key, inner) in new {
                        old.entry(inner_key.clone())
                            .or_insert_with(|| inner.clone());
                    }
                    Value::Object(old)
                }
                (Some(old), _) => old,
                (None, value) => value.clone(),
            };
            merged.insert(key.clone(), combined);
        }
    }
    Some(Value::Object(merged))
}

/// A value as YAML-like text (block style, two-space indent), for people, not parsers.
pub fn yamlish(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_map(map, 0, &mut out),
        Value::Array(items) if !items.is_empty() => write_list(items, 0, &mut out),
        scalar => {
            out.push_str(&scalar_text(scalar));
            out.push('\n');
        }
    }
    out
}

fn write_map(map: &Map<String, Value>, indent: usize, out: &mut String) {
    for (key, value) in map {
        out.push_str(&" ".repeat(indent));
        out.push_str(&key_text(key));
        out.push(':');
        write_nested(value, indent, out);
    }
}

fn write_list(items: &[Value], indent: usize, out: &mut String) {
    for item in items {
        out.push_str(&" ".repeat(indent));
        out.push('-');
        match item {
            Value::Object(map) if !map.is_empty() => {
                // The first key shares the dash's line, as kubectl prints lists of objects.
                let mut nested = String::new();
                write_map(map, indent + 2, &mut nested);
                out.push(' ');
                out.push_str(nested.trim_start());
            }
            Value::Array(inner) if !inner.is_empty() => {
                out.push('\n');
                write_list(inner, indent + 2, out);
            }
            scalar => {
                out.push(' ');
                out.push_str(&scalar_text(scalar));
                out.push('\n');
            }
        }
    }
}

fn write_nested(value: &Value, indent: usize, out: &mut String) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_map(map, indent + 2, out);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_list(items, indent, out);
        }
        scalar => {
            out.push(' ');
            out.push_str(&scalar_text(scalar));
            out.push('\n');
        }
    }
}

fn key_text(key: &str) -> String {
    if needs_quotes(key) {
        Value::from(key).to_string()
    } else {
        key.to_owned()
    }
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(text) if !needs_quotes(text) => text.clone(),
        Value::Object(_) => "{}".to_owned(),
        Value::Array(_) => "[]".to_owned(),
        other => other.to_string(),
    }
}

/// Strings that YAML would read as something else, or that would not fit on one plain line.
fn needs_quotes(text: &str) -> bool {
    const WORDS: &[&str] = &["true", "false", "null", "yes", "no", "on", "off", "~"];
    text.is_empty()
        || WORDS.iter().any(|word| text.eq_ignore_ascii_case(word))
        || text.parse::<f64>().is_ok()
        || text.starts_with(|c: char| c.is_whitespace() || "-?:,[]{}#&*!|>'\"%@`".contains(c))
        || text.ends_with(char::is_whitespace)
        || text.contains(": ")
        || text.contains(" #")
        || text.contains(|c: char| c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_nested_maps_and_lists_like_kubectl() {
        let value = json!({
            "metadata": {"name": "web-0", "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "nginx", "ports": [{"containerPort": 80}]}], "volumes": []},
            "status": {"phase": "Running", "ready": "true", "message": "a: b", "empty": ""},
        });
        let expected = "\
metadata:
  labels:
    app: web
  name: web-0
spec:
  containers:
  - name: nginx
    ports:
    - containerPort: 80
  volumes: []
status:
  empty: \"\"
  message: \"a: b\"
  phase: Running
  ready: \"true\"
";
        assert_eq!(yamlish(&value), expected);
        assert_eq!(yamlish(&json!(3)), "3\n");
        assert_eq!(yamlish(&json!([[1, 2], "x"])), "-\n  - 1\n  - 2\n- x\n");
    }

    #[test]
    fn projection_keeps_only_the_named_fields() {
        let live = json!({
            "metadata": {"name": "web-0", "uid": "u1", "labels": {"app": "web"}},
            "status": {
                "phase": "Running",
                "podIP": "10.0.0.5",
                "containerStatuses": [
                    {"name": "nginx", "restartCount": 0, "image": "nginx:1.27"},
                    {"name": "sidecar", "restartCount": 2, "image": "busybox"},
                ],
            },
        });
        let expected = json!({
            "metadata": {"name": "web-0"},
            "status": {"containerStatuses": [{"restartCount": {"$gt": 0}}, {"name": "nginx"}]},
        });
        assert_eq!(
            project(&live, &expected),
            json!({
                "metadata": {"name": "web-0"},
                "status": {"containerStatuses": [
                    {"restartCount": 0, "name": "nginx"},
                    {"restartCount": 2, "name": "sidecar"},
                ]},
            })
        );
    }

    #[test]
    fn report_has_both_sides_and_the_differences() {
        let live = json!({"status": {"readyReplicas": 1, "replicas": 3}});
        let expected = json!({"status": {"readyReplicas": 3}});
        let mismatch = super::super::partial::contains(&live, &expected).expect_err("differs");
        let report = report(&live, &expected, &mismatch);
        assert_eq!(report.expected, "status:\n  readyReplicas: 3\n");
        assert_eq!(
            report.actual,
            "status:\n  readyReplicas: 1\ndifferences:\n  - status.readyReplicas: expected 3, got 1\n"
        );
    }
}
