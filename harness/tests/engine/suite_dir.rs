//! A suite is any directory: `petset lint`, `coverage`, `test` and `init` on suites written
//! into temporary directories outside this repository, run against the emulated cluster
//! (`PETSET_CLUSTER=emulated`), and the library entry point from a throw-away crate.

// Test setup: a failure here is a failure of the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const CATALOGUE: &str = "\
groups:
  - name: Shop
    behaviours:
      - {id: SHOP-STS-1, summary: The cart StatefulSet names its pods cart-0 and cart-1.}
      - {id: SHOP-DEP-1, summary: The front Deployment keeps two pods.}
";

const FIXTURE_STS: &str = "\
apiVersion: v1
kind: Service
metadata: {name: cart, labels: {app: cart}}
spec:
  clusterIP: None
  selector: {app: cart}
  ports: [{name: http, port: 80}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: cart, labels: {app: cart}}
spec:
  serviceName: cart
  replicas: 2
  selector: {matchLabels: {app: cart}}
  template:
    metadata: {labels: {app: cart}}
    spec:
      containers:
        - name: cart
          image: busybox:1.36.1
          command: [sh, -c, sleep 3600]
";

const FIXTURE_DEP: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: front, labels: {app: front}}
spec:
  replicas: 2
  selector: {matchLabels: {app: front}}
  template:
    metadata: {labels: {app: front}}
    spec:
      containers:
        - name: front
          image: busybox:1.36.1
          command: [sh, -c, sleep 3600]
";

const SCENARIO_STS: &str = "\
description: The cart StatefulSet comes up as cart-0 and cart-1.
covers: [SHOP-STS-1]
labels: [shop, statefulset]
timeout: 2m
steps:
  - apply: {files: [shop/cart.yaml]}
  - wait: {target: sts/cart, for: rolledOut, timeout: 1m}
  - assert:
      target: {kind: pod, selector: app=cart}
      items: [{metadata: {name: cart-0}}, {metadata: {name: cart-1}}]
      itemsMatch: exact
";

const SCENARIO_DEP: &str = "\
description: The front Deployment keeps two pods.
covers: [SHOP-DEP-1]
labels: [shop, slow]
timeout: 2m
steps:
  - apply: {files: [shop/front.yaml]}
  - wait: {target: deploy/front, for: rolledOut, timeout: 1m}
  - assert: {target: {kind: pod, selector: app=front}, count: 2}
";

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A suite of its own: a catalogue, two fixtures, two scenarios.
fn shop_suite(dir: &Path) {
    write(&dir.join("catalogue.yaml"), CATALOGUE);
    write(&dir.join("fixtures/shop/cart.yaml"), FIXTURE_STS);
    write(&dir.join("fixtures/shop/front.yaml"), FIXTURE_DEP);
    write(&dir.join("scenarios/shop/cart.yaml"), SCENARIO_STS);
    write(&dir.join("scenarios/shop/front.yaml"), SCENARIO_DEP);
}

/// The installed-binary view: `petset` run from `cwd`, with nothing of this repository's
/// environment (no cargo variables, no kubeconfig) and the cluster `cluster` chosen.
fn petset(cwd: &Path, args: &[&str], cluster: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_petset"));
    command.args(args).current_dir(cwd);
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().into_owned();
        if name.starts_with("PETSET_") || name.starts_with("CARGO") || name == "KUBECONFIG" {
            command.env_remove(&name);
        }
    }
    command.env("KUBECONFIG", cwd.join("no-kubeconfig"));
    if let Some(cluster) = cluster {
        command.env("PETSET_CLUSTER", cluster);
    }
    command.output().unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Whether libtest's output has `test <trial> ... ok` (names are padded to one width).
fn passed(stdout: &str, trial: &str) -> bool {
    stdout.lines().any(|line| {
        line.strip_prefix("test ")
            .and_then(|rest| rest.split_once(" ..."))
            .is_some_and(|(name, result)| name.trim() == trial && result.trim() == "ok")
    })
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The `<testcase>` element of `name` in a JUnit report, up to its end.
fn testcase<'a>(junit: &'a str, name: &str) -> &'a str {
    let start = junit
        .find(&format!("<testcase name=\"{name}\""))
        .unwrap_or_else(|| panic!("no testcase {name} in\n{junit}"));
    let rest = &junit[start..];
    let end = rest.find("</testcase>").map_or(rest.len(), |e| e + 11);
    &rest[..end]
}

#[test]
fn a_suite_in_any_directory_is_linted_covered_and_run_on_the_emulated_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("shop-tests");
    shop_suite(&suite);

    let lint = petset(dir.path(), &["lint", "shop-tests"], None);
    assert!(lint.status.success(), "{}", text(&lint));
    assert!(
        String::from_utf8_lossy(&lint.stderr).contains("checked 2 scenario files: 0 errors"),
        "{}",
        text(&lint)
    );

    let coverage = petset(dir.path(), &["coverage", "shop-tests"], None);
    assert!(coverage.status.success(), "{}", text(&coverage));
    let table = String::from_utf8_lossy(&coverage.stdout);
    assert!(table.contains("SHOP-STS-1  shop::cart"), "{table}");
    assert!(table.contains("SHOP-DEP-1  shop::front"), "{table}");
    assert!(table.contains("2 of 2 behaviours covered"), "{table}");

    let run = petset(dir.path(), &["test", "shop-tests"], Some("emulated"));
    assert!(run.status.success(), "{}", text(&run));
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(stdout.contains("cluster: EMULATED:"), "{stdout}");
    assert!(stdout.contains("2 passed; 0 failed"), "{stdout}");

    // The reports are the suite's own, in its reports/ folder.
    let junit = read(&suite.join("reports/junit.xml"));
    assert!(
        junit.contains(r#"<property name="cluster.kind" value="emulated"/>"#),
        "{junit}"
    );
    for name in ["cart", "front"] {
        let case = testcase(&junit, name);
        assert!(
            !case.contains("<failure") && !case.contains("<skipped"),
            "{case}"
        );
    }
    let coverage_md = read(&suite.join("reports/coverage.md"));
    assert!(
        coverage_md.starts_with("# petset coverage, on an EMULATED cluster"),
        "{coverage_md}"
    );
    let coverage_json: serde_json::Value =
        serde_json::from_str(&read(&suite.join("reports/coverage.json"))).unwrap();
    assert_eq!(coverage_json["emulated"], true);
    let statuses: Vec<(String, String)> = coverage_json["behaviours"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["id"].as_str().unwrap().into(),
                b["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("SHOP-STS-1".to_string(), "passed".to_string()),
            ("SHOP-DEP-1".to_string(), "passed".to_string())
        ]
    );
    assert!(
        !dir.path().join("reports").exists(),
        "reports went to the working directory"
    );
}

#[test]
fn labels_repeat_and_the_reports_path_come_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("suite");
    shop_suite(&suite);
    let reports = dir.path().join("out");
    let run = petset(
        dir.path(),
        &[
            "test",
            "suite",
            "--labels",
            "shop,!slow",
            "--repeat",
            "2",
            "--reports",
            "out",
        ],
        Some("emulated"),
    );
    assert!(run.status.success(), "{}", text(&run));
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        stdout.contains("1 scenario(s) left out: their labels do not match shop,!slow"),
        "{stdout}"
    );
    assert!(stdout.contains("1 passed; 0 failed"), "{stdout}");
    let junit = read(&reports.join("junit.xml"));
    assert!(!junit.contains("name=\"front\""), "{junit}");
    let case = testcase(&junit, "cart");
    assert!(
        case.contains(r#"<property name="runs" value="2"/>"#),
        "{case}"
    );
    assert!(
        case.contains(r#"<property name="runs.passed" value="2"/>"#),
        "{case}"
    );
    assert!(!suite.join("reports").exists());

    let bad = petset(
        dir.path(),
        &["test", "suite", "--repeat", "0"],
        Some("emulated"),
    );
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("failed to read --repeat=\"0\""),
        "{}",
        text(&bad)
    );
}

#[test]
fn a_suite_without_a_catalogue_needs_no_covers() {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("bare");
    write(&suite.join("fixtures/shop/cart.yaml"), FIXTURE_STS);
    write(
        &suite.join("scenarios/shop/cart.yaml"),
        &SCENARIO_STS.replace("covers: [SHOP-STS-1]", "covers: []"),
    );
    write(&suite.join("scenarios/shop/named.yaml"), SCENARIO_STS);
    let lint = petset(dir.path(), &["lint", "bare"], None);
    assert!(lint.status.success(), "{}", text(&lint));
    assert!(
        String::from_utf8_lossy(&lint.stderr).contains("0 errors, 0 warnings"),
        "{}",
        text(&lint)
    );
    let coverage = petset(dir.path(), &["coverage", "bare"], None);
    let table = String::from_utf8_lossy(&coverage.stdout);
    assert!(table.contains("This suite has no catalogue"), "{table}");
    assert!(table.contains("SHOP-STS-1  shop::named"), "{table}");
}

#[test]
fn petset_init_writes_a_suite_that_lints_and_passes_on_the_emulated_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let init = petset(dir.path(), &["init", "starter"], None);
    assert!(init.status.success(), "{}", text(&init));
    let suite = dir.path().join("starter");
    let scenario = read(&suite.join("scenarios/web/scale.yaml"));
    assert!(
        scenario.starts_with("# yaml-language-server: $schema=../../scenario.schema.json"),
        "{scenario}"
    );
    assert!(suite.join("scenario.schema.json").is_file());

    let again = petset(dir.path(), &["init", "starter"], None);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    let lint = petset(&suite, &["lint"], None);
    assert!(lint.status.success(), "{}", text(&lint));
    assert!(
        String::from_utf8_lossy(&lint.stderr).contains("0 errors, 0 warnings"),
        "{}",
        text(&lint)
    );
    // `petset test` with no DIR runs the suite it stands in.
    let run = petset(&suite, &["test"], Some("emulated"));
    assert!(run.status.success(), "{}", text(&run));
    assert!(
        passed(&String::from_utf8_lossy(&run.stdout), "web::scale"),
        "{}",
        text(&run)
    );
    let junit = read(&suite.join("reports/junit.xml"));
    assert!(
        junit.contains(r#"tests="1""#) && junit.contains(r#"failures="0""#),
        "{junit}"
    );
}

#[test]
fn petset_test_refuses_a_directory_that_is_not_a_suite() {
    let dir = tempfile::tempdir().unwrap();
    let run = petset(dir.path(), &["test"], Some("emulated"));
    assert_eq!(run.status.code(), Some(2), "{}", text(&run));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("has no scenarios/ folder"), "{stderr}");
    assert!(stderr.contains("petset init"), "{stderr}");
}

/// The workspace root, whose `Cargo.lock`, profiles and target directory the throw-away crate
/// shares, so it reuses the build instead of compiling petset's dependencies again.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `[profile...]` tables of the workspace manifest: the same profiles give the same build
/// fingerprints, so cargo reuses the workspace's compiled dependencies.
fn workspace_profiles() -> String {
    let manifest = read(&workspace().join("Cargo.toml"));
    let start = manifest
        .find("[profile.")
        .expect("the workspace sets profiles");
    manifest[start..].to_string()
}

#[test]
fn a_rust_repository_gates_its_own_suite_through_the_library_entry_point() {
    let dir = tempfile::tempdir().unwrap();
    let krate = dir.path().join("shop");
    let harness = std::fs::canonicalize(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
    write(
        &krate.join("Cargo.toml"),
        &format!(
            "[package]\nname = \"shop\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n\
             [workspace]\n\n\
             [dev-dependencies]\npetset = {{ path = {harness:?} }}\n\n\
             [[test]]\nname = \"conformance\"\nharness = false\n\n{}",
            workspace_profiles()
        ),
    );
    write(&krate.join("src/lib.rs"), "//! The shop.\n");
    write(
        &krate.join("tests/conformance.rs"),
        "fn main() -> std::process::ExitCode {\n    \
         petset::test_main(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/tests/suite\"))\n}\n",
    );
    shop_suite(&krate.join("tests/suite"));
    std::fs::copy(workspace().join("Cargo.lock"), krate.join("Cargo.lock")).unwrap();

    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo
        .args([
            "test",
            "--offline",
            "--test",
            "conformance",
            "--",
            "--test-threads",
            "2",
        ])
        .current_dir(&krate)
        .env("CARGO_TARGET_DIR", workspace().join("target"))
        .env("PETSET_CLUSTER", "emulated")
        .env("KUBECONFIG", krate.join("no-kubeconfig"))
        .env_remove("PETSET_REPORTS")
        .env_remove("PETSET_JUNIT")
        .env_remove("PETSET_LABELS");
    let output = cargo.output().unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    for trial in ["shop::cart", "shop::front"] {
        assert!(passed(&stdout, trial), "{trial} did not pass:\n{stdout}");
    }
    let junit = read(&krate.join("tests/suite/reports/junit.xml"));
    assert!(
        junit.contains(r#"failures="0""#) && junit.contains(r#"tests="2""#),
        "{junit}"
    );
}
