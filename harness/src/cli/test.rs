//! `petset test [DIR] [-- libtest flags]`: runs the suite at DIR as `cargo test --test
//! conformance` runs petset's own: the same trials, filters (`--exact`, `--skip`, `--list`,
//! `--test-threads`, ...) and reports, from an installed binary with no Rust project around.

use std::path::PathBuf;
use std::process::ExitCode;

use libtest_mimic::Arguments;

use petset::runner::{LabelFilter, RunSettings, SettingsError, run_suite};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The suite directory: scenarios/<area>/<name>.yaml, fixtures/ and an optional
    /// catalogue.yaml (default: the current directory).
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Run only scenarios with these labels and without the `!`-prefixed ones, e.g.
    /// `statefulset,!slow` (PETSET_LABELS).
    #[arg(long, value_name = "LABELS")]
    pub labels: Option<String>,
    /// Start no scenario after the first failure (PETSET_FAIL_FAST=1).
    #[arg(long)]
    pub fail_fast: bool,
    /// Run each selected scenario N times, to hunt flakes; the reports count the passes
    /// (PETSET_REPEAT).
    #[arg(long, value_name = "N")]
    pub repeat: Option<String>,
    /// Where the reports go (default: DIR/reports; PETSET_REPORTS).
    #[arg(long, value_name = "PATH")]
    pub reports: Option<PathBuf>,
    /// libtest flags after `--`: a filter, `--exact`, `--skip`, `--list`, `--test-threads`, ...
    #[arg(last = true, value_name = "LIBTEST")]
    pub libtest: Vec<String>,
}

/// Runs `petset test`.
pub fn run(args: Args) -> ExitCode {
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let dir = match std::path::absolute(&dir) {
        Ok(dir) => dir,
        Err(err) => {
            eprintln!("error: failed to resolve {}: {err}", dir.display());
            return ExitCode::from(2);
        }
    };
    if !dir.join("scenarios").is_dir() {
        eprintln!(
            "error: {} is not a suite: it has no scenarios/ folder\n  a suite is a directory \
             with scenarios/<area>/<name>.yaml, fixtures/ and an optional catalogue.yaml; \
             `petset init {}` writes a starter one",
            dir.display(),
            dir.display()
        );
        return ExitCode::from(2);
    }
    let libtest = std::iter::once("petset test".to_string()).chain(args.libtest.clone());
    let libtest = Arguments::from_iter(libtest);
    // A bad flag stops here; a bad variable fails every scenario with its reason, in the
    // reports too, as under `cargo test`.
    let from_env = RunSettings::from_env(&dir);
    let (base, env_error) = match from_env {
        Ok(settings) => (settings, None),
        Err(error) => (RunSettings::defaults(&dir), Some(error)),
    };
    let settings = match overrides(base, &args) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let settings = match env_error {
        None => Ok(settings),
        Some(error) => Err((error, settings)),
    };
    run_suite(&libtest, settings).exit_code
}

/// The command line over the environment.
fn overrides(mut settings: RunSettings, args: &Args) -> Result<RunSettings, SettingsError> {
    if let Some(labels) = &args.labels {
        settings.labels = LabelFilter::parse(labels).map_err(|expected| SettingsError {
            name: "--labels",
            value: labels.clone(),
            expected,
        })?;
    }
    if args.fail_fast {
        settings.fail_fast = true;
    }
    if let Some(repeat) = &args.repeat {
        settings.repeat = petset::runner::parse_repeat(repeat).map_err(|mut error| {
            error.name = "--repeat";
            error
        })?;
    }
    if let Some(reports) = &args.reports {
        let reports = std::path::absolute(reports).unwrap_or_else(|_| reports.clone());
        settings.set_reports_dir(reports);
    }
    Ok(settings)
}
