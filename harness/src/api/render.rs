//! Objects as report text: YAML without the noise (managedFields, last-applied annotations),
//! and without a Secret's values (see [`crate::redact`]).

use crate::redact::redact_object;
use kube::api::DynamicObject;
use serde_json::Value;

/// An object as JSON, without `metadata.managedFields` (which no reader of a report wants). A
/// Secret keeps its values here, for matching; [`render_value`] hides them.
pub fn to_value(object: &DynamicObject) -> Value {
    let mut value = serde_json::to_value(object).unwrap_or(Value::Null);
    if let Some(metadata) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("managedFields");
        if let Some(annotations) = metadata
            .get_mut("annotations")
            .and_then(Value::as_object_mut)
        {
            annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
        }
    }
    value
}

/// Objects as a multi-document YAML text, or `(none)` for an empty list.
pub fn render_objects(objects: &[DynamicObject]) -> String {
    if objects.is_empty() {
        return "(none)".to_owned();
    }
    objects
        .iter()
        .map(|object| render_value(&to_value(object)))
        .collect::<Vec<_>>()
        .join("---\n")
}

/// A JSON value as YAML (falling back to JSON if it cannot be written as YAML); a Secret (or a
/// list of them) shows its keys with `<redacted>` values.
pub fn render_value(value: &Value) -> String {
    let mut shown = value.clone();
    redact_object(&mut shown);
    serde_saphyr::to_string(&shown)
        .unwrap_or_else(|_| serde_json::to_string_pretty(&shown).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_listed_secret_renders_with_its_keys_and_without_its_values() {
        // As a list returns it: typed here by `list_target`, since list items carry no kind.
        let secret: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "mysql"},
            "data": {"password": "cGV0c2V0LWFwcC1zZWNyZXQ="},
            "stringData": {"root-password": "petset-root-secret"}
        }))
        .unwrap_or_else(|error| panic!("a Secret: {error}"));
        let text = render_objects(&[secret]);
        assert!(text.contains("password: <redacted>"), "{text}");
        assert!(text.contains("root-password: <redacted>"), "{text}");
        assert!(
            !text.contains("cGV0c2V0") && !text.contains("petset-root"),
            "{text}"
        );
    }
}
