//! Objects as report text: YAML without the noise (managedFields, last-applied annotations).

use kube::api::DynamicObject;
use serde_json::Value;

/// An object as JSON, without `metadata.managedFields` (which no reader of a report wants).
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

/// A JSON value as YAML (falling back to JSON if it cannot be written as YAML).
pub fn render_value(value: &Value) -> String {
    serde_saphyr::to_string(value)
        .unwrap_or_else(|_| serde_json::to_string_pretty(value).unwrap_or_default())
}
