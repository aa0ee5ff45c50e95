//! The conformance runner: one libtest-mimic trial per scenario under `scenarios/`, named
//! `<area>::<scenario>`. See the README's "Running the suite".

use std::process::ExitCode;

fn main() -> ExitCode {
    petset::runner::conformance_main(&libtest_mimic::Arguments::from_args())
}
