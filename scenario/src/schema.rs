//! The JSON Schema of the scenario format, for editors and CI checks.
//!
//! Generated from the serde model with schemars, so it cannot drift from what the loader
//! accepts. yaml-language-server uses it for completion and checking (see the README); a copy
//! is kept in `harness/scenario.schema.json` for editors, and a test keeps it current.

use crate::model::Scenario;
use serde_json::{Map, Value, json};

/// The schema as a JSON value.
pub fn schema() -> serde_json::Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(Scenario)).unwrap_or_default();
    if let Some(step) = schema.pointer_mut("/$defs/Step") {
        one_key_map(step);
    }
    if let Some(object) = schema.as_object_mut() {
        object.insert(
            "$id".into(),
            "https://petset.dev/scenario.schema.json".into(),
        );
        object.insert("title".into(), "petset scenario".into());
    }
    schema
}

/// Reshapes a step from "one of these one-key maps" into one map whose key must be one of the
/// step kinds. Both accept the same documents, but a misspelt kind against `oneOf` leaves an
/// editor with only "not valid under any of the given schemas"; against `propertyNames` it
/// says the key is not one of the step kinds, and lists them. Each kind keeps its description
/// for completion. Left as it is when a variant is not a one-key map.
fn one_key_map(step: &mut Value) {
    let Some(variants) = step.get("oneOf").and_then(Value::as_array) else {
        return;
    };
    let mut kinds = Vec::new();
    let mut properties = Map::new();
    for variant in variants {
        let Some((kind, body)) = variant
            .get("properties")
            .and_then(Value::as_object)
            .filter(|properties| properties.len() == 1)
            .and_then(|properties| properties.iter().next())
        else {
            return;
        };
        let mut body = body.clone();
        if let (Some(body), Some(description)) = (body.as_object_mut(), variant.get("description"))
        {
            body.entry("description").or_insert(description.clone());
        }
        kinds.push(Value::from(kind.as_str()));
        properties.insert(kind.clone(), body);
    }
    let description = step.get("description").cloned();
    let mut reshaped = Map::new();
    if let Some(description) = description {
        reshaped.insert("description".into(), description);
    }
    reshaped.insert("type".into(), "object".into());
    reshaped.insert("minProperties".into(), 1.into());
    reshaped.insert("maxProperties".into(), 1.into());
    reshaped.insert("propertyNames".into(), json!({ "enum": kinds }));
    reshaped.insert("properties".into(), Value::Object(properties));
    *step = Value::Object(reshaped);
}
