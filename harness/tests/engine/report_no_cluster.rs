//! With no cluster, every cluster trial is ignored with the reason and the ways to get one, an
//! invalid scenario still fails, and the JUnit report lists them as skipped and failed. A
//! cluster that was asked for and cannot be had is one setup error of the run, not a behaviour
//! failure of each scenario.

use std::process::ExitCode;

use crate::cluster_support::StandIns;
use crate::runner_support::{
    FailedCluster, NoCluster, StandIn, StandInCluster, args, check_with_junitparser, entry, input,
    mixed_suite, scenario_yaml, settings, validate_with_xmllint,
};
use petset::cluster::Unavailable;
use quick_junit::{NonSuccessKind, Report, TestCaseStatus};
use serde_json::json;

fn no_cluster() -> NoCluster {
    let unavailable = Unavailable {
        tried: vec!["no kubeconfig (/nonexistent/config does not exist)".to_string()],
        ..Unavailable::default()
    };
    NoCluster {
        reason: unavailable.short().to_string(),
    }
}

#[test]
fn cluster_trials_are_skipped_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let outcome = petset::runner::run(
        &args(dir.path(), &[]),
        input(mixed_suite(), settings(dir.path(), 0)),
        &no_cluster(),
    );
    let conclusion = outcome.conclusion.expect("trials ran");
    assert_eq!(
        (
            conclusion.num_passed,
            conclusion.num_failed,
            conclusion.num_ignored
        ),
        (0, 0, 5)
    );
    assert_eq!(
        outcome.exit_code,
        ExitCode::SUCCESS,
        "ignored is not failed"
    );

    let path = dir.path().join("reports/junit.xml");
    let xml = std::fs::read_to_string(&path).expect("the report is written");
    let report = Report::deserialize_from_str(&xml).unwrap();
    assert_eq!((report.tests, report.skipped, report.failures), (5, 5, 0));
    let reason = no_cluster().reason;
    assert!(reason.contains("PETSET_CLUSTER=kind"), "{reason}");
    for suite in &report.test_suites {
        for case in &suite.test_cases {
            match &case.status {
                TestCaseStatus::Skipped { message, .. } => {
                    assert_eq!(message.as_ref().map(|m| m.as_str()), Some(reason.as_str()))
                }
                other => panic!("{} should be skipped: {other:?}", case.name.as_str()),
            }
        }
    }
    check_with_junitparser(
        &path,
        &json!({
            "tests": 5, "failures": 0, "skipped": 5,
            "cases": {
                "petset.statefulset/ordered-scale-up": {
                    "status": "skipped",
                    "message_contains": ["no Kubernetes cluster", "PETSET_CLUSTER=kind"],
                    "properties": {"covers": "STS-NAME-1,STS-ORDER-1"}
                }
            }
        }),
    );
}

#[test]
fn an_invalid_scenario_fails_even_without_a_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let suite = vec![
        entry("demo", "fine", &scenario_yaml(&["STS-NAME-1"], &[], 1, "")),
        entry(
            "demo",
            "typo",
            "description: x\ncovers: []\nsteps:\n  - scael: {}\n",
        ),
    ];
    let outcome = petset::runner::run(
        &args(dir.path(), &[]),
        input(suite, settings(dir.path(), 0)),
        &no_cluster(),
    );
    let conclusion = outcome.conclusion.expect("trials ran");
    assert_eq!((conclusion.num_failed, conclusion.num_ignored), (1, 1));
    assert_eq!(outcome.exit_code, ExitCode::from(101));
    let xml = std::fs::read_to_string(dir.path().join("reports/junit.xml")).unwrap();
    let report = Report::deserialize_from_str(&xml).unwrap();
    let typo = &report.test_suites[0]
        .test_cases
        .iter()
        .find(|c| c.name.as_str() == "typo")
        .unwrap();
    let TestCaseStatus::NonSuccess {
        message,
        description,
        ..
    } = &typo.status
    else {
        panic!("typo should fail: {:?}", typo.status);
    };
    assert_eq!(
        message.as_ref().unwrap().as_str(),
        "scenarios/demo/typo.yaml is not a valid scenario"
    );
    assert!(
        description.as_ref().unwrap().as_str().contains("scael"),
        "the body carries the diagnostics"
    );
}

#[test]
fn a_cluster_is_not_looked_for_when_no_selected_trial_needs_one() {
    let dir = tempfile::tempdir().unwrap();
    let standin = StandIn::new();
    let outcome = petset::runner::run(
        &args(dir.path(), &["no-such-scenario"]),
        input(mixed_suite(), settings(dir.path(), 0)),
        &StandInCluster(standin.clone()),
    );
    assert_eq!(outcome.exit_code, ExitCode::SUCCESS);
    assert_eq!(
        standin
            .observed
            .torn_down
            .load(std::sync::atomic::Ordering::SeqCst),
        0,
        "no cluster was acquired, so none is torn down"
    );
    assert!(standin.observed.started.lock().unwrap().is_empty());
}

/// What selection says for `PETSET_CLUSTER=kind` on a machine without kind, as the conformance
/// binary passes it on.
fn kind_is_missing() -> FailedCluster {
    let bin = StandIns::new(); // an empty PATH: no kind
    let settings = crate::cluster_support::settings(&[("PETSET_CLUSTER", "kind")]);
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let error = runtime
        .block_on(petset::cluster::connect(&settings, &bin.runner()))
        .expect_err("kind is not installed");
    FailedCluster {
        message: error.describe(),
    }
}

#[test]
fn a_cluster_that_cannot_be_had_is_one_setup_error_not_a_failure_per_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let source = kind_is_missing();
    assert!(
        source.message.starts_with("failed to run kind"),
        "{}",
        source.message
    );
    let outcome = petset::runner::run(
        &args(dir.path(), &[]),
        input(mixed_suite(), settings(dir.path(), 0)),
        &source,
    );
    // The gate still fails: nothing was checked.
    assert_eq!(outcome.exit_code, ExitCode::from(101));
    let log = std::fs::read_to_string(dir.path().join("libtest.log")).unwrap_or_default();
    assert!(
        !log.contains("`kind` not found on PATH"),
        "each trial points to the one reason rather than repeating it:\n{log}"
    );

    let path = dir.path().join("reports/junit.xml");
    let xml = std::fs::read_to_string(&path).unwrap();
    let report = Report::deserialize_from_str(&xml).unwrap();
    assert_eq!((report.tests, report.failures, report.errors), (5, 0, 5));
    let expected =
        "not run: setup failed (failed to run kind: `kind` not found on PATH; install it";
    for suite in &report.test_suites {
        assert!(
            suite
                .properties
                .iter()
                .any(|p| p.name.as_str() == "run.error" && p.value.as_str().starts_with(expected)),
            "the run-level error is a property of the run: {:?}",
            suite.properties
        );
        for case in &suite.test_cases {
            let TestCaseStatus::NonSuccess {
                kind, message, ty, ..
            } = &case.status
            else {
                panic!(
                    "{} should be an error: {:?}",
                    case.name.as_str(),
                    case.status
                );
            };
            assert_eq!(*kind, NonSuccessKind::Error, "{}", case.name.as_str());
            assert_eq!(ty.as_ref().map(|t| t.as_str()), Some("setup"));
            let message = message.as_ref().map(|m| m.as_str()).unwrap_or("");
            assert!(message.starts_with(expected), "{message}");
        }
    }
    validate_with_xmllint(&xml, dir.path());
    check_with_junitparser(
        &path,
        &json!({
            "tests": 5, "failures": 0, "errors": 5, "skipped": 0,
            "cases": {
                "petset.statefulset/ordered-scale-up": {
                    "status": "error", "type": "setup",
                    "message_contains": ["not run: setup failed (failed to run kind"]
                }
            }
        }),
    );

    let markdown = std::fs::read_to_string(dir.path().join("reports/coverage.md")).unwrap();
    assert!(
        markdown.contains("6 behaviours: 0 passed, 0 flaky, 0 failed, 0 in error, 0 ignored, 6 not run, 0 uncovered"),
        "{markdown}"
    );
    assert_eq!(
        markdown
            .matches("not run: setup failed (failed to run kind")
            .count(),
        1,
        "said once:\n{markdown}"
    );
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("reports/coverage.json")).unwrap(),
    )
    .unwrap();
    assert!(
        json["setup_failed"]
            .as_str()
            .is_some_and(|s| s.starts_with(expected)),
        "{json}"
    );
    assert_eq!(json["summary"]["failed"], 0);
    for behaviour in json["behaviours"].as_array().unwrap() {
        assert_eq!(behaviour["status"], "not-run", "{behaviour}");
    }
}

#[test]
fn an_invalid_scenario_is_listed_and_counted_in_coverage() {
    let dir = tempfile::tempdir().unwrap();
    let suite = vec![
        entry("demo", "fine", &scenario_yaml(&["STS-NAME-1"], &[], 1, "")),
        entry(
            "demo",
            "typo",
            "description: x\ncovers: [STS-PVC-1]\nsteps:\n  - scael: {}\n",
        ),
    ];
    let outcome = petset::runner::run(
        &args(dir.path(), &[]),
        input(suite, settings(dir.path(), 0)),
        &StandInCluster(StandIn::new()),
    );
    assert_eq!(outcome.exit_code, ExitCode::from(101));
    let markdown = std::fs::read_to_string(dir.path().join("reports/coverage.md")).unwrap();
    assert!(
        markdown.contains("; 1 invalid scenario file"),
        "counted in the summary line:\n{markdown}"
    );
    let listed = markdown
        .split_once(
            "## Invalid scenarios\n\nNot run: these files are not valid scenarios (`petset lint` \
             says why).\n\n",
        )
        .and_then(|(_, rest)| rest.lines().next())
        .unwrap_or_else(|| panic!("no list of invalid scenarios:\n{markdown}"));
    assert!(
        listed.starts_with("- `demo::typo` (scenarios/demo/typo.yaml): ")
            && listed.contains("scael"),
        "names the file and its first diagnostic: {listed}"
    );
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("reports/coverage.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(json["summary"]["invalid-scenarios"], 1, "{json}");
    assert_eq!(json["invalid_scenarios"][0]["scenario"], "demo::typo");

    let xml = std::fs::read_to_string(dir.path().join("reports/junit.xml")).unwrap();
    let report = Report::deserialize_from_str(&xml).unwrap();
    let typo = report.test_suites[0]
        .test_cases
        .iter()
        .find(|c| c.name.as_str() == "typo")
        .unwrap();
    let TestCaseStatus::NonSuccess { kind, ty, .. } = &typo.status else {
        panic!("typo should not pass: {:?}", typo.status);
    };
    assert_eq!(*kind, NonSuccessKind::Error);
    assert_eq!(ty.as_ref().map(|t| t.as_str()), Some("invalid-scenario"));
}
