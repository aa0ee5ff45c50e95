//! The `petset` command line: run a suite, start one, and the authoring tools for scenarios.

mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Declarative test harness and conformance suite for Kubernetes stateful workloads.
#[derive(Parser)]
#[command(name = "petset", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the suite in DIR (default: here) against a cluster, as `cargo test` runs petset's.
    Test(cli::test::Args),
    /// Write a starter suite (one scenario, one fixture, a catalogue) into DIR.
    Init(cli::init::Args),
    /// Check scenario files: YAML, shape and meaning, with file:line:column and hints.
    Lint(cli::lint::Args),
    /// Print the JSON Schema of the scenario format (for yaml-language-server and editors).
    Schema(cli::schema::Args),
    /// Show which scenarios cover each behaviour of the catalogue, and what nothing covers.
    Coverage(cli::coverage::Args),
    /// List the container images the fixtures use (PETSET_PRELOAD=1: load them into kind/k3d).
    Images(cli::images::Args),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Test(args) => cli::test::run(args),
        Command::Init(args) => cli::init::run(args),
        Command::Lint(args) => cli::lint::run(args),
        Command::Schema(args) => cli::schema::run(args),
        Command::Coverage(args) => cli::coverage::run(args),
        Command::Images(args) => cli::images::run(args),
    }
}
