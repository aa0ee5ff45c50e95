//! With no cluster, every cluster trial is ignored with the reason and the ways to get one, an
//! invalid scenario still fails, and the JUnit report lists them as skipped and failed.

mod runner_support;

use std::process::ExitCode;

use petset::cluster::Unavailable;
use quick_junit::{Report, TestCaseStatus};
use runner_support::{
    NoCluster, StandIn, StandInCluster, args, check_with_junitparser, entry, input, mixed_suite,
    scenario_yaml, settings,
};
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
