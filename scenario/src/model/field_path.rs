//! Field paths into an object, parsed once when the scenario loads: `spec.volumeName`,
//! `status.containerStatuses[0].restartCount`,
//! `metadata.annotations["deployment.kubernetes.io/revision"]` (a quoted key may hold dots).

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::Value;
use std::borrow::Cow;
use std::str::FromStr;

/// A parsed field path, kept with the text it was written as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    text: String,
    segments: Vec<Segment>,
}

/// One step of a field path: a map key or a list index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// Why a field path did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid field path `{input}`: {reason} (write a dotted path such as `spec.volumeName`, \
     `status.containerStatuses[0].restartCount` or `metadata.annotations[\"a.b/c\"]`)"
)]
pub struct FieldPathError {
    pub input: String,
    pub reason: String,
}

impl FieldPath {
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Follows the path into `value`; the error says how far it got.
    pub fn lookup<'a>(&self, value: &'a Value) -> Result<&'a Value, String> {
        let mut current = value;
        let mut walked = String::new();
        for segment in &self.segments {
            let next = match segment {
                Segment::Key(key) => current.get(key.as_str()),
                Segment::Index(index) => current.get(*index),
            };
            let shown = match segment {
                Segment::Key(key) if walked.is_empty() => key.clone(),
                Segment::Key(key) if key.contains('.') => format!("[\"{key}\"]"),
                Segment::Key(key) => format!(".{key}"),
                Segment::Index(index) => format!("[{index}]"),
            };
            match next {
                Some(next) if !next.is_null() => current = next,
                _ => {
                    let at = if walked.is_empty() {
                        "the object"
                    } else {
                        walked.as_str()
                    };
                    return Err(format!("{at} has no {}", shown.trim_start_matches('.')));
                }
            }
            walked.push_str(&shown);
        }
        Ok(current)
    }
}

impl FromStr for FieldPath {
    type Err = FieldPathError;

    fn from_str(path: &str) -> Result<Self, Self::Err> {
        parse_segments(path)
            .map(|segments| FieldPath {
                text: path.to_owned(),
                segments,
            })
            .map_err(|reason| FieldPathError {
                input: path.to_owned(),
                reason,
            })
    }
}

fn parse_segments(path: &str) -> Result<Vec<Segment>, String> {
    let mut segments = Vec::new();
    let mut rest = path.trim();
    if rest.is_empty() {
        return Err("it is empty".to_owned());
    }
    let mut expect_key = true;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[') {
            let close = after.find(']').ok_or("a `[` is not closed")?;
            let inside = after[..close].trim();
            let quoted = inside
                .strip_prefix('"')
                .and_then(|s| s.strip_suffix('"'))
                .or_else(|| inside.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')));
            match quoted {
                Some(key) => segments.push(Segment::Key(key.to_owned())),
                None => {
                    segments.push(Segment::Index(inside.parse().map_err(|_| {
                        format!("`[{inside}]` is neither an index nor a quoted key")
                    })?))
                }
            }
            rest = &after[close + 1..];
            expect_key = false;
        } else if let Some(after) = rest.strip_prefix('.') {
            if expect_key {
                return Err("a key is empty".to_owned());
            }
            rest = after;
            expect_key = true;
        } else {
            if !expect_key {
                return Err(format!("expected `.` or `[` before `{rest}`"));
            }
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            let key = &rest[..end];
            if key.contains([' ', ']', '{', '}']) {
                return Err(format!("`{key}` is not a key; quote it: `[\"{key}\"]`"));
            }
            segments.push(Segment::Key(key.to_owned()));
            rest = &rest[end..];
            expect_key = false;
        }
    }
    if expect_key {
        return Err("it ends with `.`".to_owned());
    }
    Ok(segments)
}

impl JsonSchema for FieldPath {
    fn schema_name() -> Cow<'static, str> {
        "FieldPath".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "minLength": 1,
            "description": "A path into the object: dotted keys, `[i]` indexes and `[\"quoted.keys\"]`, e.g. `spec.volumeName`, `status.containerStatuses[0].restartCount`, `metadata.annotations[\"a.b/c\"]`."
        })
    }
}

super::text_type!(FieldPath, str::parse);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn path(text: &str) -> FieldPath {
        text.parse().expect("a valid field path")
    }

    #[test]
    fn parses_dotted_paths_with_indexes_and_quoted_keys() {
        assert_eq!(
            path("status.containerStatuses[0].restartCount").segments(),
            [
                Segment::Key("status".into()),
                Segment::Key("containerStatuses".into()),
                Segment::Index(0),
                Segment::Key("restartCount".into()),
            ]
        );
        assert_eq!(
            path(r#"metadata.annotations["deployment.kubernetes.io/revision"]"#).segments(),
            [
                Segment::Key("metadata".into()),
                Segment::Key("annotations".into()),
                Segment::Key("deployment.kubernetes.io/revision".into()),
            ]
        );
        for bad in [
            "",
            "a..b",
            "a.",
            "a[x]",
            "a[0",
            "spec..x",
            "status.x[a]",
            "a b",
        ] {
            assert!(bad.parse::<FieldPath>().is_err(), "{bad}");
        }
    }

    #[test]
    fn looks_values_up_and_says_where_it_stopped() {
        let pod = json!({"spec": {"volumeName": "pv-1"},
            "status": {"containerStatuses": [{"restartCount": 3}]}});
        let restarts = path("status.containerStatuses[0].restartCount");
        assert_eq!(restarts.lookup(&pod), Ok(&json!(3)));
        assert_eq!(
            path("status.containerStatuses[1].restartCount").lookup(&pod),
            Err("status.containerStatuses has no [1]".to_owned())
        );
        assert_eq!(
            path("spec.nodeName").lookup(&pod),
            Err("spec has no nodeName".to_owned())
        );
    }

    #[test]
    fn a_path_reads_back_as_written() {
        let written = r#"metadata.annotations["a.b/c"]"#;
        assert_eq!(path(written).to_string(), written);
        let read: FieldPath = serde_json::from_value(json!(written)).expect("deserializes");
        assert_eq!(serde_json::to_value(&read).ok(), Some(json!(written)));
    }
}
