//! `capture`: read one field of one object (a dotted path with `[i]` indexes) into a variable.

use super::dispatch::Execute;
use super::{StepContext, StepReport, StepResult};
use crate::api::{list_target, render_objects, to_value};
use crate::events::Failure;
use crate::redact::REDACTED;
use crate::scenario::kinds;
use crate::scenario::model::{CaptureStep, Kind};
use serde_json::Value;

impl Execute for kinds::Capture {
    async fn run(step: &CaptureStep, ctx: &mut StepContext) -> StepResult {
        run(step, ctx).await
    }
}

async fn run(step: &CaptureStep, ctx: &mut StepContext) -> StepResult {
    let target = ctx.resolve(&step.target)?;
    let path = parse_path(&step.field).map_err(|error| {
        Failure::new(format!(
            "capture: invalid field path `{}`: {error}",
            step.field
        ))
    })?;
    let deadline = ctx.deadline_after(None);
    let objects = list_target(&ctx.client, &ctx.namespace, &target, deadline)
        .await
        .map_err(Failure::from)?;
    let object = match objects.as_slice() {
        [one] => one,
        [] => {
            return Err(Failure::new(format!(
                "failed to capture {}: {target} not found",
                step.field
            ))
            .with_expected(format!("{target} exists")));
        }
        many => {
            return Err(Failure::new(format!(
                "failed to capture {}: {target} matches {} objects, capture needs exactly one",
                step.field,
                many.len()
            ))
            .with_actual(render_objects(many)));
        }
    };
    let value = to_value(object);
    let found = lookup(&value, &path).map_err(|missing| {
        Failure::new(format!(
            "failed to capture {} of {target}: {missing}",
            step.field
        ))
        .with_expected(format!("{target} has {}", step.field))
        .with_actual(render_objects(std::slice::from_ref(object)))
    })?;
    let text = as_text(found);
    let secret_field = match path.first() {
        Some(Segment::Key(field)) if target.kind == Kind::Secret => {
            matches!(field.as_str(), "data" | "stringData").then_some(field.as_str())
        }
        _ => None,
    };
    if let Some(field) = secret_field {
        // Masked from here on in everything the scenario reports; `data` holds base64.
        ctx.secrets.register_value(found, field == "data");
        ctx.vars.set(step.name.clone(), text);
        return Ok(StepReport::detail(format!(
            "{} = {REDACTED} (read from {target}, a Secret)",
            step.name
        )));
    }
    ctx.vars.set(step.name.clone(), text.clone());
    Ok(StepReport::detail(format!("{} = {text}", step.name)))
}

/// One step of a field path: a map key or a list index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    Key(String),
    Index(usize),
}

/// Parses `status.containerStatuses[0].restartCount` and
/// `metadata.annotations["deployment.kubernetes.io/revision"]` (quoted keys may hold dots).
pub(crate) fn parse_path(path: &str) -> Result<Vec<Segment>, String> {
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
            segments.push(Segment::Key(rest[..end].to_owned()));
            rest = &rest[end..];
            expect_key = false;
        }
    }
    if expect_key {
        return Err("it ends with `.`".to_owned());
    }
    Ok(segments)
}

/// Follows `path` into `value`; the error says how far it got.
pub(crate) fn lookup<'a>(value: &'a Value, path: &[Segment]) -> Result<&'a Value, String> {
    let mut current = value;
    let mut walked = String::new();
    for segment in path {
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

/// A captured value as variable text: strings as they are, everything else as JSON.
fn as_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_dotted_paths_with_indexes_and_quoted_keys() {
        assert_eq!(
            parse_path("status.containerStatuses[0].restartCount"),
            Ok(vec![
                Segment::Key("status".into()),
                Segment::Key("containerStatuses".into()),
                Segment::Index(0),
                Segment::Key("restartCount".into()),
            ])
        );
        assert_eq!(
            parse_path(r#"metadata.annotations["deployment.kubernetes.io/revision"]"#),
            Ok(vec![
                Segment::Key("metadata".into()),
                Segment::Key("annotations".into()),
                Segment::Key("deployment.kubernetes.io/revision".into()),
            ])
        );
        assert!(parse_path("").is_err());
        assert!(parse_path("a..b").is_err());
        assert!(parse_path("a.").is_err());
        assert!(parse_path("a[x]").is_err());
        assert!(parse_path("a[0").is_err());
    }

    #[test]
    fn looks_values_up_and_says_where_it_stopped() {
        let pod = json!({"spec": {"volumeName": "pv-1"},
            "status": {"containerStatuses": [{"restartCount": 3}]}});
        let path = parse_path("status.containerStatuses[0].restartCount").expect("valid");
        assert_eq!(lookup(&pod, &path), Ok(&json!(3)));
        let path = parse_path("status.containerStatuses[1].restartCount").expect("valid");
        assert_eq!(
            lookup(&pod, &path),
            Err("status.containerStatuses has no [1]".to_owned())
        );
        let path = parse_path("spec.nodeName").expect("valid");
        assert_eq!(lookup(&pod, &path), Err("spec has no nodeName".to_owned()));
        assert_eq!(as_text(&json!("pv-1")), "pv-1");
        assert_eq!(as_text(&json!(3)), "3");
    }
}
