//! The scenario language and the shipped suite, with no cluster: lint (library, binary and
//! `--server` against the fake API server), the JSON Schema, the loader fuzz run, the README's
//! examples, and the fixtures and scenarios that ship.

#[path = "../support/mod.rs"]
mod support;

mod fixtures_manifests;
mod fixtures_scenarios;
mod fuzz_loader;
mod lint_cli;
mod lint_corpus;
mod lint_limits;
mod lint_server;
mod readme_guide;
mod schema;
mod shipped_suite;
