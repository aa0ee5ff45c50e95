//! `petset lint [PATHS]`: checks scenario files before anything touches a cluster.
//!
//! Prints every diagnostic (file:line:column, the snippet, a hint) and exits non-zero when any
//! file has an error. Paths may be files, folders of scenarios, or a suite directory (one
//! holding `scenarios/`: its scenarios are checked, with it as the root); the default is
//! `scenarios/`. With
//! `--server`, the cluster judges the manifests too (see [`super::lint_server`]).

use super::lint_server::{ScenarioToJudge, lint_on_server, merge};
use petset::error_chain::ErrorChain;
use petset::scenario::diagnostic::{Diagnostic, render_fancy, render_plain};
use petset::scenario::discover::{find_repo_root, is_scenario_file};
use petset::scenario::suite::{check_file, load_catalogue};
use petset::scenario::validate::Checker;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario files or folders, or a suite directory, to check (default: `scenarios/`).
    pub paths: Vec<PathBuf>,
    /// The repository root holding `scenarios/` and `fixtures/` (default: found from the paths).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Output style: `fancy` (colour, for terminals), `plain` (no colour), `short` (one line each).
    #[arg(long, value_name = "STYLE", default_value = "auto")]
    pub format: String,
    /// Also send every manifest the scenarios apply to the cluster (selected as the runner
    /// selects one) as a server-side-apply dry run with strict field validation.
    #[arg(long)]
    pub server: bool,
}

/// Runs `petset lint`.
pub fn run(args: Args) -> ExitCode {
    match lint(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn lint(args: &Args) -> Result<bool, String> {
    let cwd = std::env::current_dir()
        .map_err(|e| format!("failed to read the current directory: {e}"))?;
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from("scenarios")]
    } else {
        args.paths.clone()
    };
    // A suite directory stands for its scenarios, and is the root they are checked against.
    let mut suite_dir = None;
    let paths: Vec<PathBuf> = paths
        .into_iter()
        .map(|path| {
            if path.join("scenarios").is_dir() {
                suite_dir.get_or_insert_with(|| path.clone());
                path.join("scenarios")
            } else {
                path
            }
        })
        .collect();
    let root = match args.root.as_ref().or(suite_dir.as_ref()) {
        Some(root) => root.clone(),
        None => {
            let start = cwd.join(&paths[0]);
            find_repo_root(&start)
                .or_else(|| find_repo_root(&cwd))
                .unwrap_or_else(|| cwd.clone())
        }
    };
    // The cause (the I/O error) is a `#[source]`, not part of the message.
    let catalogue = load_catalogue(&root).map_err(|e| ErrorChain(&e).to_string())?;
    let checker = Checker::new(&root, catalogue);

    let mut files = Vec::new();
    for path in &paths {
        collect(path, &mut files)?;
    }
    files.sort();
    files.dedup();

    let style = match args.format.as_str() {
        "auto" if std::io::stdout().is_terminal() => "fancy",
        "auto" => "plain",
        other => other,
    };
    let mut scenarios: Vec<Diagnostic> = Vec::new();
    let mut loaded = Vec::new();
    for file in &files {
        let display = file.strip_prefix(&cwd).unwrap_or(file);
        let checked = check_file(&checker, file, display);
        if let Some(scenario) = checked.scenario {
            loaded.push(ScenarioToJudge {
                scenario,
                source: checked.source,
            });
        }
        scenarios.extend(checked.diagnostics);
    }
    // Broken fixtures first: they are the cause of the scenarios' "fixture has problems".
    let mut all: Vec<Diagnostic> = Vec::new();
    for (path, diagnostics) in checker.fixture_problems() {
        let shown = root.join(&path);
        let shown = shown.strip_prefix(&cwd).unwrap_or(&shown).to_path_buf();
        all.extend(diagnostics.into_iter().map(|mut d| {
            d.path = shown.clone();
            d
        }));
    }
    all.extend(scenarios);
    if args.server {
        let rejected = lint_on_server(&root, &cwd, &loaded)?;
        all = merge(all, rejected);
    }
    for (shown, hidden) in per_file(&all) {
        print(style, shown)?;
        if hidden > 0 {
            println!(
                "{}: {hidden} more problem{} not shown (at most {SHOWN_PER_FILE} are shown per file; fix these first)\n",
                shown[0].location_path(),
                plural(hidden),
            );
        }
    }
    let errors = all.iter().filter(|d| d.is_error()).count();
    let warnings = all.len() - errors;
    eprintln!(
        "checked {} scenario file{}: {errors} error{}, {warnings} warning{}",
        files.len(),
        plural(files.len()),
        plural(errors),
        plural(warnings)
    );
    Ok(errors == 0)
}

fn print(style: &str, diagnostics: &[Diagnostic]) -> Result<(), String> {
    match style {
        "fancy" => print!("{}", render_fancy(diagnostics)),
        "plain" => print!("{}", render_plain(diagnostics)),
        "short" => {
            for diagnostic in diagnostics {
                println!("{}", diagnostic.one_line());
            }
        }
        other => {
            return Err(format!(
                "unknown format `{other}` (use auto, fancy, plain or short)"
            ));
        }
    }
    Ok(())
}

/// How many diagnostics are printed for one file; the rest are counted. Past a few dozen, more
/// of them help nobody, and printing each with its snippet costs time in the file's size.
pub const SHOWN_PER_FILE: usize = 50;

/// The diagnostics of each file (they come grouped by file), cut to [`SHOWN_PER_FILE`], with the
/// number left out.
fn per_file(all: &[Diagnostic]) -> Vec<(&[Diagnostic], usize)> {
    all.chunk_by(|a, b| a.path == b.path)
        .map(|group| {
            let shown = group.len().min(SHOWN_PER_FILE);
            (&group[..shown], group.len() - shown)
        })
        .collect()
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

/// The scenario files at `path`: the file itself, or every YAML file under a folder.
fn collect(path: &Path, files: &mut Vec<PathBuf>) -> Result<(), String> {
    let absolute = std::path::absolute(path)
        .map_err(|e| format!("failed to resolve {}: {e}", path.display()))?;
    if absolute.is_file() {
        files.push(absolute);
        return Ok(());
    }
    if !absolute.is_dir() {
        return Err(format!("{} does not exist", path.display()));
    }
    let mut pending = vec![absolute];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| format!("failed to list {}: {e}", dir.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("failed to list {}: {e}", dir.display()))?;
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if is_scenario_file(&path) {
                files.push(path);
            }
        }
    }
    Ok(())
}
