//! Parallel runner benchmark: N independent scenarios whose steps wait on simulated cluster
//! delays, run with `--test-threads=N`, must finish within 1.25x of the slowest one run alone.
//!
//! `cargo bench -p petset --bench parallel_runner` (set PETSET_BENCH_N to change N, default 8).
//! Prints N, the slowest single run, the parallel run and their ratio; exits non-zero when the
//! ratio is above 1.25.

#[path = "../tests/engine/runner_support.rs"]
mod runner_support;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use runner_support::{StandIn, StandInCluster, args, entry, input, scenario_yaml, settings};

const LIMIT: f64 = 1.25;
const STEPS: usize = 4;

fn suite(n: usize) -> Vec<petset::runner::SuiteEntry> {
    (0..n)
        .map(|k| {
            // Different scenarios wait on the cluster for different times: 100..=240 ms a step.
            let delay = format!("delay-{}", 100 + 20 * (k % 8));
            entry(
                "bench",
                &format!("scenario-{k}"),
                &scenario_yaml(&["STS-NAME-1"], &[&delay], STEPS, ""),
            )
        })
        .collect()
}

/// Runs the suite as `extra` selects; returns the wall time of the whole run.
fn timed(n: usize, extra: &[&str]) -> Result<Duration, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("failed to make a temp dir: {e}"))?;
    let started = Instant::now();
    let outcome = petset::runner::run(
        &args(dir.path(), extra),
        input(suite(n), settings(dir.path(), 0)),
        &StandInCluster(StandIn::new()),
    );
    let elapsed = started.elapsed();
    let conclusion = outcome.conclusion.ok_or("the run made no trials")?;
    if conclusion.num_failed > 0 || conclusion.num_passed == 0 {
        return Err(format!("the run did not pass: {conclusion:?}"));
    }
    Ok(elapsed)
}

fn main() -> ExitCode {
    let n: usize = std::env::var("PETSET_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8);
    let mut slowest = Duration::ZERO;
    for k in 0..n {
        let name = format!("bench::scenario-{k}");
        match timed(n, &["--exact", &name, "--test-threads", "1"]) {
            Ok(alone) => slowest = slowest.max(alone),
            Err(err) => {
                eprintln!("parallel_runner: {name} alone: {err}");
                return ExitCode::FAILURE;
            }
        }
    }
    let threads = n.to_string();
    let parallel = match timed(n, &["--test-threads", &threads]) {
        Ok(parallel) => parallel,
        Err(err) => {
            eprintln!("parallel_runner: all {n} in parallel: {err}");
            return ExitCode::FAILURE;
        }
    };
    let ratio = parallel.as_secs_f64() / slowest.as_secs_f64();
    println!(
        "parallel_runner: N = {n}, slowest single = {:.0} ms, all with --test-threads={n} = {:.0} ms, ratio = {ratio:.3} (limit {LIMIT})",
        slowest.as_secs_f64() * 1000.0,
        parallel.as_secs_f64() * 1000.0,
    );
    if ratio <= LIMIT {
        ExitCode::SUCCESS
    } else {
        eprintln!("parallel_runner: ratio {ratio:.3} is above {LIMIT}");
        ExitCode::FAILURE
    }
}
