//! `petset lint` as a user runs it: the built binary on a scratch repository.

use std::path::Path;
use std::process::{Command, Output};

const FIXTURE: &str = "\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  replica: 3
  serviceName: nginx
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: nginx
          image: nginx:1.27
";

const SCENARIO: &str = "\
description: The issue's four mistakes.
covers: [STS-ORDER-2]
steps:
  - apply: {files: [web/statefulset.yaml, web/missing.yaml]}
  - scale: {target: sts/web, replica: 3}
  - wiat: {target: sts/web, for: rolledOut}
";

const CLEAN: &str = "\
description: Scale down and back.
covers: [STS-ORDER-2]
steps:
  - apply: {files: [web/ok.yaml]}
  - scale: {target: sts/web, replicas: 1}
  - wait: {target: {kind: pod, selector: app=web}, for: {count: 1}}
";

fn write(root: &Path, relative: &str, text: &str) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// A suite whose one scenario is clean.
fn write_clean_suite(root: &Path) {
    write(
        root,
        "fixtures/web/ok.yaml",
        &FIXTURE.replace("replica:", "replicas:"),
    );
    write(root, "scenarios/demo/clean.yaml", CLEAN);
}

fn lint(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_petset"))
        .arg("lint")
        .args(args)
        .current_dir(root)
        .output()
        .expect("run petset")
}

#[test]
fn reports_each_of_the_four_mistakes_and_fails() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    write(root, "fixtures/web/statefulset.yaml", FIXTURE);
    write(root, "scenarios/demo/broken.yaml", SCENARIO);

    let output = lint(root, &["--format", "plain"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "lint must fail:\n{stdout}");
    assert_eq!(output.status.code(), Some(1));
    for (location, hint) in [
        (
            "scenarios/demo/broken.yaml:5:30",
            "did you mean `replicas`?",
        ),
        ("scenarios/demo/broken.yaml:6:5", "did you mean `wait`?"),
        (
            "scenarios/demo/broken.yaml:4:43",
            "there is no fixtures/web/missing.yaml",
        ),
        (
            "fixtures/web/statefulset.yaml:6:3",
            "did you mean `replicas`?",
        ),
    ] {
        let line = stdout
            .lines()
            .find(|line| line.starts_with(location))
            .unwrap_or_else(|| panic!("no diagnostic at {location}:\n{stdout}"));
        assert!(line.contains(hint), "{line}");
        assert!(line.contains("error:"), "{line}");
    }
    // The snippet is printed under each one.
    assert!(
        stdout.contains("  - scale: {target: sts/web, replica: 3}"),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("5 errors"), "{stderr}");
}

#[test]
fn passes_a_clean_suite_and_takes_explicit_paths() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    write(
        root,
        "fixtures/web/ok.yaml",
        &FIXTURE.replace("replica:", "replicas:"),
    );
    write(root, "fixtures/web/statefulset.yaml", FIXTURE);
    write(root, "scenarios/demo/clean.yaml", CLEAN);

    let output = lint(root, &[]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(output.stdout.is_empty());

    write(root, "scenarios/demo/broken.yaml", SCENARIO);
    let only_clean = lint(root, &["scenarios/demo/clean.yaml"]);
    assert!(only_clean.status.success());
    let short = lint(root, &["--format", "short", "scenarios"]);
    assert_eq!(short.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&short.stdout).lines().count(), 5);
}

#[test]
fn a_missing_path_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = lint(dir.path(), &["nowhere"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("nowhere does not exist"));
}

#[test]
fn coverage_lists_covering_scenarios_and_uncovered_ids() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    write_clean_suite(root);
    // The suite's catalogue: petset's own 36 behaviours.
    let catalogue = Path::new(env!("CARGO_MANIFEST_DIR")).join("../catalogue.yaml");
    std::fs::copy(catalogue, root.join("catalogue.yaml")).expect("copy the catalogue");
    let output = Command::new(env!("CARGO_BIN_EXE_petset"))
        .args(["coverage", "--json", "--root"])
        .arg(root)
        .output()
        .expect("run petset coverage");
    assert!(output.status.success());
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let behaviours = report["behaviours"].as_array().expect("behaviours");
    assert_eq!(behaviours.len(), 36);
    let covered: Vec<&serde_json::Value> = behaviours
        .iter()
        .filter(|b| !b["scenarios"].as_array().expect("list").is_empty())
        .collect();
    assert_eq!(covered.len(), 1);
    assert_eq!(covered[0]["id"], "STS-ORDER-2");
    assert_eq!(covered[0]["scenarios"][0], "demo::clean");
    assert_eq!(report["uncovered"].as_array().expect("uncovered").len(), 35);

    let text = Command::new(env!("CARGO_BIN_EXE_petset"))
        .args(["coverage", "--root"])
        .arg(root)
        .output()
        .expect("run petset coverage");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("STS-ORDER-2"), "{text}");
    assert!(text.contains("1 of 36 behaviours covered"), "{text}");
}

#[test]
fn a_catalogue_that_cannot_be_read_is_named_with_the_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    write_clean_suite(root);
    // A directory where the catalogue file should be: reading it fails with EISDIR.
    std::fs::create_dir(root.join("catalogue.yaml")).expect("mkdir");
    let coverage = Command::new(env!("CARGO_BIN_EXE_petset"))
        .args(["coverage", "--root"])
        .arg(root)
        .output()
        .expect("run petset coverage");
    for (what, output) in [("coverage", coverage), ("lint", lint(root, &["scenarios"]))] {
        assert_eq!(output.status.code(), Some(2), "{what}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("error: failed to read the behaviour catalogue")
                && stderr.contains("catalogue.yaml: Is a directory (os error 21)"),
            "{what}: {stderr}"
        );
    }
}
