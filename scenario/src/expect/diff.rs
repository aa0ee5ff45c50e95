//! Readable expected-versus-actual text for failure reports.
//!
//! The actual side shows only the fields the expectation names (a live Pod has hundreds), in
//! YAML-like text, followed by the field-level differences.

use super::mismatch::Mismatch;
use super::operators;
use serde_json::{Map, Value};

/// The two sides of a failed match, ready for a failure report's expected and actual text.
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
        difference.write_entry(text);
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

/// Several objects cut to the fields any of the `expected` partial objects names, each keeping
/// its `metadata.name` so the reader can tell them apart.
pub fn project_all(objects: &[Value], expected: &[&Value]) -> Value {
    let mut shapes: Vec<Value> = vec![serde_json::json!({"metadata": {"name": null}})];
    shapes.extend(
        expected
            .iter()
            .filter(|value| value.is_object())
            .map(|value| (*value).clone()),
    );
    let shape = merged_shape(&shapes).unwrap_or(Value::Null);
    Value::Array(
        objects
            .iter()
            .map(|object| project(object, &shape))
            .collect(),
    )
}

/// One plain map naming every key the expected list elements name, if they are all plain maps.
fn merged_shape(wanted: &[Value]) -> Option<Value> {
    let mut merged = Value::Object(Map::new());
    for item in wanted {
        match item {
            Value::Object(map) if operators::parse(map).is_none() => merge_into(&mut merged, item),
            _ => return None,
        }
    }
    Some(merged)
}

/// Adds the keys of `new` to `shape`, recursing where both name a plain map.
fn merge_into(shape: &mut Value, new: &Value) {
    let (Value::Object(old), Value::Object(added)) = (shape, new) else {
        return;
    };
    for (key, value) in added {
        match old.get_mut(key) {
            Some(existing @ Value::Object(_)) => match value {
                Value::Object(inner) if operators::parse(inner).is_none() => {
                    merge_into(existing, value);
                }
                _ => {}
            },
            Some(existing) => {
                // A scalar or operator placeholder gives way to a map, which names more fields.
                if matches!(value, Value::Object(inner) if operators::parse(inner).is_none()) {
                    *existing = value.clone();
                }
            }
            None => {
                old.insert(key.clone(), value.clone());
            }
        }
    }
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

/// The most lines of one object or list shown inside a difference; the report as a whole is
/// capped again when it is written.
const BLOCK_LINES: usize = 40;
/// The most characters of an object or list shown inside a one-line message.
const FLOW_CHARS: usize = 160;

/// [`yamlish`], cut after [`BLOCK_LINES`] lines with a note of how many were left out.
pub(crate) fn yaml_block(value: &Value) -> String {
    let text = yamlish(value);
    let total = text.lines().count();
    if total <= BLOCK_LINES {
        return text;
    }
    let mut out: String = text
        .lines()
        .take(BLOCK_LINES)
        .flat_map(|line| [line, "\n"])
        .collect();
    out.push_str(&format!("# ... {} more lines\n", total - BLOCK_LINES));
    out
}

/// A value as YAML on one line (`{metadata: {name: web-0}, ports: [80, 443]}`), cut after
/// [`FLOW_CHARS`] characters with `...`.
pub(crate) fn yaml_flow(value: &Value) -> String {
    let mut out = String::new();
    write_flow(value, &mut out);
    if out.chars().count() <= FLOW_CHARS {
        return out;
    }
    let mut cut: String = out.chars().take(FLOW_CHARS).collect();
    cut.push_str("...");
    cut
}

fn write_flow(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            out.push('{');
            for (index, (key, item)) in map.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                out.push_str(&flow_scalar(key));
                out.push_str(": ");
                write_flow(item, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                write_flow(item, out);
            }
            out.push(']');
        }
        Value::String(text) => out.push_str(&flow_scalar(text)),
        scalar => out.push_str(&scalar_text(scalar)),
    }
}

/// A string inside flow YAML, where `,`, brackets and braces also end a plain scalar.
fn flow_scalar(text: &str) -> String {
    if needs_quotes(text) || text.contains([',', '[', ']', '{', '}']) {
        Value::from(text).to_string()
    } else {
        text.to_owned()
    }
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

    #[test]
    fn project_all_keeps_names_and_every_named_field() {
        let pods = vec![
            json!({"metadata": {"name": "web-0", "uid": "1"}, "status": {"phase": "Running", "podIP": "10.0.0.1"}}),
            json!({"metadata": {"name": "web-1", "uid": "2"}, "status": {"phase": "Pending"}, "spec": {"nodeName": "n1"}}),
        ];
        let each = json!({"status": {"phase": "Running"}});
        let item = json!({"spec": {"nodeName": {"$exists": true}}});
        assert_eq!(
            project_all(&pods, &[&each, &item]),
            json!([
                {"metadata": {"name": "web-0"}, "status": {"phase": "Running"}},
                {"metadata": {"name": "web-1"}, "status": {"phase": "Pending"}, "spec": {"nodeName": "n1"}},
            ])
        );
    }
}
