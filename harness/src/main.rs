//! The `petset` command line: authoring tools for scenarios.

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
    /// List the container images the fixtures use (PETSET_PRELOAD=1: load them into kind/k3d).
    Images(petset::cli::images::Args),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Images(args) => petset::cli::images::run(args),
    }
}
