//! The conformance binary driven the way cargo-nextest drives it, with no cluster: listed with
//! and without `--ignored`, then one process per trial (`--exact NAME`) with nextest's
//! variables set. Every scenario must be listed as ignored (nextest shows it as skipped), a
//! lint-invalid file must not be, and no trial process may exit 0, since nextest reads only the
//! exit status and would count it as passed. With a cluster (a stand-in), only the scenarios
//! whose `requires` it does not meet are listed as ignored, and the others run and pass.

// Setting up the repository copy is test code outside `#[test]` functions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Output};

use crate::runner_support::{StandIn, StandInCluster, args, entry, input, scenario_yaml, settings};
use petset::runner::Nextest;
use quick_junit::{Report, TestCaseStatus};

/// A file that fails lint, added to the shipped suite.
const BROKEN: &str = "description: a typo\ncovers: []\nsteps:\n  - scael: {}\n";

/// The conformance test binary, built (or found up to date) by cargo, as nextest finds it.
fn conformance_binary() -> PathBuf {
    let mut cargo = Command::new(env!("CARGO"));
    // The variables cargo sets for this test binary, which build scripts may watch (ring's
    // watches CARGO_MANIFEST_DIR): left in, they would make this cargo rebuild everything, and
    // the next cargo outside rebuild it again.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_PKG_")
            || name.starts_with("CARGO_BIN_EXE_")
            || name.starts_with("NEXTEST")
            || [
                "CARGO_MANIFEST_DIR",
                "CARGO_MANIFEST_PATH",
                "CARGO_CRATE_NAME",
                "CARGO_BIN_NAME",
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_TARGET_TMPDIR",
                "CARGO_RUSTC_CURRENT_DIR",
                "OUT_DIR",
            ]
            .contains(&name.as_ref())
        {
            cargo.env_remove(name.as_ref());
        }
    }
    let output = cargo
        .args([
            "test",
            "-p",
            "petset",
            "--test",
            "conformance",
            "--no-run",
            "--message-format=json-render-diagnostics",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "building the conformance binary failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["target"]["name"] == "conformance")
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .expect("cargo names the conformance executable")
}

/// A copy of the repository's suite (scenarios, fixtures, catalogue) plus one broken file,
/// so the run's reports land in a folder of the test's own.
fn repository_copy(dir: &Path) {
    let real = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    copy_tree(&real.join("scenarios"), &dir.join("scenarios"));
    copy_tree(&real.join("fixtures"), &dir.join("fixtures"));
    std::fs::copy(real.join("catalogue.yaml"), dir.join("catalogue.yaml")).unwrap();
    // The binary runs from the crate's folder, as cargo runs it.
    std::fs::create_dir_all(dir.join("harness")).unwrap();
    std::fs::write(dir.join("Cargo.toml"), "").unwrap();
    std::fs::create_dir_all(dir.join("scenarios/demo")).unwrap();
    std::fs::write(dir.join("scenarios/demo/broken.yaml"), BROKEN).unwrap();
    // An empty kubeconfig and a home without one: no cluster to find.
    std::fs::write(dir.join("empty-kubeconfig"), "").unwrap();
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The binary with nextest's variables (as nextest 0.9.143 sets them) and no cluster.
fn as_nextest(binary: &Path, root: &Path, run_id: &str, phase: &str) -> Command {
    let mut command = Command::new(binary);
    command
        .current_dir(root.join("harness"))
        .env("CARGO_MANIFEST_DIR", root)
        .env("NEXTEST", "1")
        .env("NEXTEST_RUN_ID", run_id)
        .env("NEXTEST_EXECUTION_MODE", "process-per-test")
        .env("NEXTEST_TEST_PHASE", phase)
        .env("KUBECONFIG", root.join("empty-kubeconfig"))
        .env("HOME", root);
    for name in [
        "PETSET_CLUSTER",
        "PETSET_CONTEXT",
        "PETSET_JUNIT",
        "PETSET_RETRIES",
        "PETSET_VERBOSE",
        "NEXTEST_TEST_NAME",
    ] {
        command.env_remove(name);
    }
    command
}

fn run(command: &mut Command) -> Output {
    command.output().expect("the conformance binary starts")
}

/// The names `--list --format terse` printed.
fn listed(output: &Output) -> BTreeSet<String> {
    assert!(output.status.success(), "listing failed: {output:?}");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| {
            line.strip_suffix(": test")
                .unwrap_or_else(|| panic!("not nextest's list format: {line:?}"))
                .to_string()
        })
        .collect()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn without_a_cluster_every_scenario_is_listed_ignored_and_no_trial_process_passes() {
    let binary = conformance_binary();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    repository_copy(root);
    let run_id = "0b5e7c1e-0000-4000-8000-000000000001";

    let all = listed(&run(
        as_nextest(&binary, root, run_id, "list").args(["--list", "--format", "terse"])
    ));
    let ignored = listed(&run(as_nextest(&binary, root, run_id, "list").args([
        "--list",
        "--format",
        "terse",
        "--ignored",
    ])));
    let shipped = std::fs::read_dir(root.join("scenarios"))
        .unwrap()
        .flat_map(|area| std::fs::read_dir(area.unwrap().path()).unwrap())
        .count();
    assert_eq!(all.len(), shipped, "one trial per scenario file: {all:?}");
    assert!(all.contains("demo::broken"), "{all:?}");
    let runnable: BTreeSet<String> = all
        .iter()
        .filter(|n| *n != "demo::broken")
        .cloned()
        .collect();
    assert_eq!(
        ignored, runnable,
        "every scenario is listed as ignored without a cluster, the invalid file is not"
    );

    for name in &all {
        // nextest passes `--ignored` for a trial it listed as ignored (`--run-ignored`).
        let mut ways = vec![vec!["--exact", name, "--nocapture"]];
        if ignored.contains(name) {
            ways.push(vec!["--exact", name, "--nocapture", "--ignored"]);
        }
        for way in ways {
            let mut command = as_nextest(&binary, root, run_id, "run");
            let output = run(command.env("NEXTEST_TEST_NAME", name).args(&way));
            assert!(
                !output.status.success(),
                "{way:?} exited 0, which nextest counts as passed:\n{}",
                text(&output)
            );
            let said = text(&output);
            let why = if name == "demo::broken" {
                "scenarios/demo/broken.yaml is not a valid scenario"
            } else if way.contains(&"--ignored") {
                "not run: no Kubernetes cluster"
            } else {
                "which did not run (1 ignored"
            };
            assert!(said.contains(why), "{way:?} should say {why:?}:\n{said}");
        }
    }

    // A trial process of a run whose listing it cannot find looks for the cluster itself,
    // and still fails rather than passing.
    let mut command = as_nextest(&binary, root, "another-run", "run");
    let output = run(command.args(["--exact", "statefulset::parallel", "--nocapture"]));
    assert!(!output.status.success(), "{}", text(&output));
    assert!(
        text(&output).contains("not run: no Kubernetes cluster"),
        "{}",
        text(&output)
    );

    // The listing's report: every scenario skipped with the reason, the broken file failed.
    let xml = std::fs::read_to_string(root.join("reports/junit.xml")).expect("list report");
    let report = Report::deserialize_from_str(&xml).unwrap();
    let mut seen = 0;
    for case in report.test_suites.iter().flat_map(|s| s.test_cases.iter()) {
        seen += 1;
        match (&case.status, case.name.as_str()) {
            (TestCaseStatus::NonSuccess { .. }, "broken") => {}
            (TestCaseStatus::Skipped { message, .. }, name) if name != "broken" => {
                let message = message.as_ref().map(|m| m.as_str()).unwrap_or("");
                assert!(
                    message.contains("no Kubernetes cluster") && message.contains("PETSET_CLUSTER"),
                    "{name}: {message}"
                );
            }
            (status, name) => panic!("{name}: {status:?}"),
        }
    }
    assert_eq!(seen, all.len());
    // Each trial process wrote its own report beside it.
    for name in ["dns__pod-names", "demo__broken"] {
        let own = root.join("reports/nextest").join(name).join("junit.xml");
        assert!(own.is_file(), "{} is missing", own.display());
    }
}

#[test]
fn with_a_cluster_only_unmet_scenarios_are_listed_ignored_and_the_others_pass() {
    let dir = tempfile::tempdir().unwrap();
    let suite = || {
        vec![
            entry("demo", "fine", &scenario_yaml(&["STS-NAME-1"], &[], 1, "")),
            entry(
                "demo",
                "two-nodes",
                &scenario_yaml(&["STS-ORDER-1"], &[], 1, "requires:\n  nodes: 2\n"),
            ),
        ]
    };
    let mut nextest_settings = settings(dir.path(), 0);
    nextest_settings.nextest = Some(Nextest {
        run_id: Some("run-with-a-cluster".into()),
    });
    let standin = StandIn::new();
    // libtest-mimic writes the list to `--logfile`, which `args` points into `dir`.
    let list = |extra: &[&str]| {
        let mut all = vec!["--list", "--format", "terse"];
        all.extend(extra);
        let outcome = petset::runner::run(
            &args(dir.path(), &all),
            input(suite(), nextest_settings.clone()),
            &StandInCluster(standin.clone()),
        );
        assert_eq!(outcome.exit_code, ExitCode::SUCCESS);
        std::fs::read_to_string(dir.path().join("libtest.log")).unwrap()
    };
    assert_eq!(list(&[]), "demo::fine: test\ndemo::two-nodes: test\n");
    assert_eq!(list(&["--ignored"]), "demo::two-nodes: test\n");
    assert!(standin.observed.started.lock().unwrap().is_empty());

    let run_one = |extra: &[&str]| {
        petset::runner::run(
            &args(dir.path(), extra),
            input(suite(), nextest_settings.clone()),
            &StandInCluster(standin.clone()),
        )
    };
    let fine = run_one(&["--exact", "demo::fine"]);
    assert_eq!(
        fine.exit_code,
        ExitCode::SUCCESS,
        "a scenario that runs and passes passes"
    );
    assert_eq!(*standin.observed.started.lock().unwrap(), ["demo::fine"]);
    let own = dir.path().join("reports/nextest/demo__fine/junit.xml");
    let report = Report::deserialize_from_str(&std::fs::read_to_string(own).unwrap()).unwrap();
    assert_eq!((report.tests, report.failures, report.skipped), (1, 0, 0));

    // nextest never starts a trial it listed as ignored unless asked to (`--run-ignored`);
    // either way the process fails, and the scenario is not started.
    for extra in [
        &["--exact", "demo::two-nodes"][..],
        &["--exact", "demo::two-nodes", "--ignored"][..],
    ] {
        let outcome = run_one(extra);
        assert_ne!(outcome.exit_code, ExitCode::SUCCESS, "{extra:?} passed");
    }
    assert_eq!(*standin.observed.started.lock().unwrap(), ["demo::fine"]);
}
