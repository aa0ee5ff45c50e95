//! Snapshot tests of the exact diagnostics for every file of the broken corpus.
//!
//! Each `tests/corpus/broken/<name>.yaml` has its expected rendering (plain text: location,
//! snippet, hint) in `<name>.snap`. Run with `UPDATE_SNAPSHOTS=1` to rewrite the snapshots after
//! an intended change, then review the diff.

use petset::scenario::{Checker, Diagnostic, check_file, load_catalogue, render_plain};
use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn broken_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus().join("broken"))
        .expect("corpus folder")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

/// Everything `petset lint` would print for one file, fixture problems included.
fn diagnose(path: &Path) -> Vec<Diagnostic> {
    let root = corpus();
    let checker = Checker::new(&root, load_catalogue(&root).expect("catalogue"));
    let display = Path::new("broken").join(path.file_name().expect("name"));
    let scenario = check_file(&checker, path, &display).diagnostics;
    // As `petset lint` prints them: broken fixtures (the cause) first.
    let mut all: Vec<Diagnostic> = Vec::new();
    for (_, problems) in checker.fixture_problems() {
        all.extend(problems);
    }
    all.extend(scenario);
    all
}

#[test]
fn every_broken_file_matches_its_snapshot() {
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    let files = broken_files();
    assert!(files.len() >= 20, "the corpus has {} files", files.len());
    let mut failures = Vec::new();
    for path in &files {
        let diagnostics = diagnose(path);
        let rendered = render_plain(&diagnostics);
        let snap = path.with_extension("snap");
        if !diagnostics.iter().any(Diagnostic::is_error) {
            failures.push(format!("{}: no error reported", path.display()));
        }
        if update {
            std::fs::write(&snap, &rendered).expect("write snapshot");
            continue;
        }
        match std::fs::read_to_string(&snap) {
            Ok(expected) if expected == rendered => {}
            Ok(expected) => failures.push(format!(
                "{} differs from its snapshot\n--- expected\n{expected}\n--- actual\n{rendered}",
                path.display()
            )),
            Err(_) => failures.push(format!(
                "{} has no snapshot; run with UPDATE_SNAPSHOTS=1\n{rendered}",
                path.display()
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_corpus_covers_at_least_twenty_kinds_of_mistake() {
    let mut codes = std::collections::BTreeSet::new();
    for path in broken_files() {
        for diagnostic in diagnose(&path) {
            codes.insert(diagnostic.code);
        }
    }
    assert!(codes.len() >= 20, "only {} kinds: {codes:?}", codes.len());
}

#[test]
fn every_diagnostic_points_into_its_file() {
    for path in broken_files() {
        for diagnostic in diagnose(&path) {
            assert!(
                diagnostic.line >= 1 && diagnostic.column >= 1,
                "{}",
                diagnostic.one_line()
            );
            assert!(
                diagnostic.help.is_some(),
                "no hint: {}",
                diagnostic.one_line()
            );
        }
    }
}

#[test]
fn the_clean_corpus_has_no_problems() {
    let root = corpus();
    let checker = Checker::new(&root, load_catalogue(&root).expect("catalogue"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("clean"))
        .expect("clean corpus")
        .map(|entry| entry.expect("entry").path())
        .collect();
    files.sort();
    assert!(files.len() >= 3);
    for path in files {
        let checked = check_file(&checker, &path, &path);
        assert!(
            checked.scenario.is_some(),
            "{}",
            render_plain(&checked.diagnostics)
        );
        assert!(
            checked.diagnostics.is_empty(),
            "{}",
            render_plain(&checked.diagnostics)
        );
    }
    let fixtures: Vec<_> = checker.fixture_problems();
    assert!(fixtures.is_empty(), "{fixtures:?}");
}
