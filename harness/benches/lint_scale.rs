//! `petset lint` on large broken files: the time grows linearly with the number of broken steps,
//! and a file over the YAML node limit is turned away in well under a second.
//!
//! `cargo bench -p petset --bench lint_scale` (PETSET_BENCH_RUNS changes the run count per size,
//! default 3). Runs the real `petset lint` binary on scenarios of 1,000 and 10,000 broken steps
//! and on two files over the node limit (100,000 broken steps; a million-item list), prints the
//! median of each, and exits non-zero when 10x the steps costs more than 12x the time or an
//! over-limit file takes a second or more.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

const MAX_GROWTH: f64 = 12.0;
const OVER_LIMIT_BUDGET: Duration = Duration::from_secs(1);

/// A scenario that applies a StatefulSet, then `steps` scale steps whose replica count is a word.
fn broken_steps(steps: usize) -> String {
    let mut text = String::from(
        "description: Many broken steps.\ncovers: [STS-NAME-1]\nsteps:\n  - apply: {files: [web/statefulset.yaml]}\n",
    );
    for _ in 0..steps {
        text.push_str("  - scale: {target: sts/web, replicas: three}\n");
    }
    text
}

/// A scenario with no mistake but a label list far over the node limit.
fn huge_list(items: usize) -> String {
    let mut text = String::from("description: Too many labels.\ncovers: [STS-NAME-1]\nlabels:\n");
    for _ in 0..items {
        text.push_str("  - a\n");
    }
    text.push_str("steps: []\n");
    text
}

/// Runs `petset lint` on `file` and returns how long it took and how many errors it counted.
fn lint(root: &Path, file: &Path) -> Result<(Duration, String), String> {
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_petset"))
        .args(["lint", "--format", "plain", "--root"])
        .arg(root)
        .arg(file)
        .stdin(Stdio::null())
        .output()
        .map_err(|error| format!("failed to run petset lint: {error}"))?;
    let elapsed = started.elapsed();
    let summary = String::from_utf8_lossy(&output.stderr)
        .lines()
        .last()
        .unwrap_or_default()
        .to_owned();
    if output.status.code() != Some(1) {
        return Err(format!(
            "petset lint {} should fail with exit code 1, got {:?}: {summary}",
            file.display(),
            output.status.code()
        ));
    }
    Ok((elapsed, summary))
}

fn median(root: &Path, file: &Path, runs: usize) -> Result<(Duration, String), String> {
    let mut times = Vec::with_capacity(runs);
    let mut summary = String::new();
    for _ in 0..runs {
        let (elapsed, said) = lint(root, file)?;
        times.push(elapsed);
        summary = said;
    }
    times.sort();
    Ok((times[times.len() / 2], summary))
}

fn setup() -> Result<(tempfile::TempDir, PathBuf), String> {
    let dir = tempfile::tempdir().map_err(|error| format!("failed to make a folder: {error}"))?;
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/fixtures/web/statefulset.yaml");
    let web = dir.path().join("fixtures/web");
    std::fs::create_dir_all(&web).map_err(|error| format!("failed to make {web:?}: {error}"))?;
    std::fs::copy(&fixture, web.join("statefulset.yaml"))
        .map_err(|error| format!("failed to copy {fixture:?}: {error}"))?;
    let root = dir.path().to_path_buf();
    Ok((dir, root))
}

fn run() -> Result<bool, String> {
    let runs: usize = std::env::var("PETSET_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(3);
    let (_dir, root) = setup()?;
    let cases = [
        ("1,000 broken steps", broken_steps(1_000)),
        ("10,000 broken steps", broken_steps(10_000)),
        (
            "100,000 broken steps (over the node limit)",
            broken_steps(100_000),
        ),
        (
            "a 1,000,000-item list (over the node limit)",
            huge_list(1_000_000),
        ),
    ];
    let mut times = Vec::new();
    for (index, (name, text)) in cases.iter().enumerate() {
        let file = root.join(format!("case-{index}.yaml"));
        std::fs::write(&file, text)
            .map_err(|error| format!("failed to write {file:?}: {error}"))?;
        let (time, summary) = median(&root, &file, runs)?;
        println!(
            "lint_scale: {name}: median {:.0} ms of {runs} runs ({} KiB; {summary})",
            time.as_secs_f64() * 1000.0,
            text.len() / 1024
        );
        times.push(time);
    }
    let growth = times[1].as_secs_f64() / times[0].as_secs_f64();
    println!("lint_scale: 10x the broken steps costs {growth:.1}x the time (limit {MAX_GROWTH}x)");
    let mut ok = true;
    if growth > MAX_GROWTH {
        eprintln!("error: lint time grows faster than linearly: {growth:.1}x for 10x the steps");
        ok = false;
    }
    for over in &times[2..] {
        if *over >= OVER_LIMIT_BUDGET {
            eprintln!(
                "error: a file over the node limit took {:.0} ms to turn away",
                over.as_secs_f64() * 1000.0
            );
            ok = false;
        }
    }
    Ok(ok)
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
