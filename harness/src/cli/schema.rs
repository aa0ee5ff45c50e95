//! `petset schema`: prints the JSON Schema of the scenario format (see [`schema`]).

use petset::scenario::schema::schema;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {}

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
