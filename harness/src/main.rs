//! The `petset` command line: authoring tools for scenarios.

fn main() {}
