//! `capture`: read one field of one object (a field path the loader parsed) into a variable.

use super::dispatch::Execute;
use super::{StepContext, StepReport, StepResult};
use crate::api::{list_target, render_objects, to_value};
use crate::events::Failure;
use crate::redact::REDACTED;
use crate::scenario::kinds;
use crate::scenario::model::{CaptureStep, Kind, Segment};
use serde_json::Value;

impl Execute for kinds::Capture {
    async fn run(step: &CaptureStep, ctx: &mut StepContext) -> StepResult {
        run(step, ctx).await
    }
}

async fn run(step: &CaptureStep, ctx: &mut StepContext) -> StepResult {
    let target = ctx.resolve(&step.target)?;
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
    let found = step.field.lookup(&value).map_err(|missing| {
        Failure::new(format!(
            "failed to capture {} of {target}: {missing}",
            step.field
        ))
        .with_expected(format!("{target} has {}", step.field))
        .with_actual(render_objects(std::slice::from_ref(object)))
    })?;
    let text = as_text(found);
    let secret_field = match step.field.segments().first() {
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
    fn captured_values_become_text() {
        assert_eq!(as_text(&json!("pv-1")), "pv-1");
        assert_eq!(as_text(&json!(3)), "3");
    }
}
