//! `petset schema`: the JSON Schema of the scenario format, for editors and CI checks.
//!
//! Generated from the serde model with schemars, so it cannot drift from what the loader
//! accepts. yaml-language-server uses it for completion and checking (see the README); a copy
//! is kept in `harness/scenario.schema.json` for editors, and a test keeps it current.

use crate::scenario::model::Scenario;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {}

/// The schema as a JSON value.
pub fn schema() -> serde_json::Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(Scenario)).unwrap_or_default();
    if let Some(object) = schema.as_object_mut() {
        object.insert(
            "$id".into(),
            "https://petset.dev/scenario.schema.json".into(),
        );
        object.insert("title".into(), "petset scenario".into());
    }
    schema
}

/// Runs `petset schema`.
pub fn run(_: Args) -> ExitCode {
    match serde_json::to_string_pretty(&schema()) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: failed to serialize the schema: {error}");
            ExitCode::FAILURE
        }
    }
}
