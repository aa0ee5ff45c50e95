//! The conformance runner: one libtest-mimic trial per scenario under `scenarios/`.

fn main() {}
