//! Loading and validating the whole shipped suite: discovery, YAML, shape, meaning, fixtures.
//!
//! `cargo bench -p petset --bench load_suite` (PETSET_BENCH_RUNS changes the run count,
//! default 50). Prints the median and p99 of a cold `load_suite` (a fresh checker each run, so
//! every fixture file is read and checked again) and exits non-zero when the median is over
//! 100 ms or the suite has errors.

use petset::scenario::load_suite;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_millis(100);

fn main() -> ExitCode {
    let runs: usize = std::env::var("PETSET_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(50);
    let Some(root) = Path::new(env!("CARGO_MANIFEST_DIR")).parent() else {
        eprintln!("error: the harness crate has no parent directory");
        return ExitCode::FAILURE;
    };
    let mut times = Vec::with_capacity(runs);
    let mut counts = (0, 0);
    for _ in 0..runs {
        let started = Instant::now();
        let suite = match load_suite(root) {
            Ok(suite) => suite,
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::FAILURE;
            }
        };
        times.push(started.elapsed());
        if suite.has_errors() {
            eprintln!("error: the suite has errors:\n{}", suite.render_problems());
            return ExitCode::FAILURE;
        }
        counts = (suite.scenarios.len(), suite.problems.len());
    }
    times.sort();
    let median = times[times.len() / 2];
    let p99 = times[((times.len() * 99).div_ceil(100)).saturating_sub(1)];
    println!(
        "load_suite: {} scenarios ({} files with problems), {runs} runs: median {:.2} ms, p99 {:.2} ms, min {:.2} ms (limit {} ms)",
        counts.0,
        counts.1,
        median.as_secs_f64() * 1000.0,
        p99.as_secs_f64() * 1000.0,
        times[0].as_secs_f64() * 1000.0,
        LIMIT.as_millis()
    );
    if median > LIMIT {
        eprintln!("error: the median is over {} ms", LIMIT.as_millis());
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
