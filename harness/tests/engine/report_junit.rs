//! The JUnit report of a run where scenarios pass, fail, flake and are ignored: parsed back by
//! quick-junit, read by Python's junitparser, and validated against a published JUnit schema.

use std::process::ExitCode;

use crate::runner_support::{
    StandIn, StandInCluster, args, check_with_junitparser, input, mixed_suite, settings,
    validate_with_xmllint,
};
use quick_junit::{NonSuccessKind, Report, TestCaseStatus};
use serde_json::json;

fn property<'a>(case: &'a quick_junit::TestCase, name: &str) -> Option<&'a str> {
    case.properties
        .iter()
        .find(|p| p.name.as_str() == name)
        .map(|p| p.value.as_str())
}

#[test]
fn mixed_run_report_is_complete_and_readable_by_others() {
    let dir = tempfile::tempdir().unwrap();
    let standin = StandIn::new();
    let outcome = petset::runner::run(
        &args(dir.path(), &["--test-threads", "4"]),
        input(mixed_suite(), settings(dir.path(), 1)),
        &StandInCluster(standin.clone()),
    );
    let conclusion = outcome.conclusion.expect("trials ran");
    assert_eq!(
        (
            conclusion.num_passed,
            conclusion.num_failed,
            conclusion.num_ignored
        ),
        (3, 1, 1)
    );
    assert_eq!(outcome.exit_code, ExitCode::from(101));
    assert_eq!(
        standin
            .observed
            .torn_down
            .load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the cluster is torn down once"
    );

    let path = dir.path().join("reports/junit.xml");
    let xml = std::fs::read_to_string(&path).expect("the JUnit report is written");
    let report = Report::deserialize_from_str(&xml).expect("quick-junit parses it back");
    assert_eq!(
        (report.tests, report.failures, report.skipped, report.errors),
        (5, 1, 1, 0)
    );
    let suites: Vec<&str> = report.test_suites.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(suites, ["dns", "faults", "mysql", "statefulset"]);

    let case = |area: &str, name: &str| {
        report
            .test_suites
            .iter()
            .find(|s| s.name.as_str() == area)
            .and_then(|s| s.test_cases.iter().find(|c| c.name.as_str() == name))
            .unwrap_or_else(|| panic!("no testcase {area}/{name}"))
    };

    // A pass: stable names, properties, the step log as system-out.
    let passed = case("statefulset", "ordered-scale-up");
    assert_eq!(
        passed.classname.as_ref().map(|c| c.as_str()),
        Some("petset.statefulset")
    );
    assert!(
        matches!(&passed.status, TestCaseStatus::Success { flaky_runs } if flaky_runs.is_empty())
    );
    assert!(passed.time.is_some());
    assert_eq!(property(passed, "cluster.context"), Some("kind-petset"));
    assert_eq!(
        property(passed, "cluster.serverVersion"),
        Some("1.33 (v1.33.1)")
    );
    assert_eq!(
        property(passed, "namespace"),
        Some("petset-statefulset-ordered-scale-up-a1")
    );
    assert_eq!(
        property(passed, "file"),
        Some("scenarios/statefulset/ordered-scale-up.yaml")
    );
    assert_eq!(property(passed, "covers"), Some("STS-NAME-1,STS-ORDER-1"));
    let out = passed.system_out.as_ref().expect("system-out").as_str();
    assert!(out.contains("step 1 (mark #1, line 5): passed in"), "{out}");
    assert!(out.contains("step 3 (mark #3, line 7): passed in"), "{out}");

    // The failure: one line naming the step; expected vs actual, timeline, diagnostics; the
    // earlier attempt as a rerun.
    let failed = case("statefulset", "pvc-per-pod");
    let TestCaseStatus::NonSuccess {
        kind,
        message,
        description,
        reruns,
        ..
    } = &failed.status
    else {
        panic!("pvc-per-pod should fail: {:?}", failed.status);
    };
    assert_eq!(*kind, NonSuccessKind::Failure);
    let message = message.as_ref().expect("a failure message").as_str();
    assert_eq!(message, "step 2 (mark #2): expected 3 ready pods, saw 2");
    let body = description.as_ref().expect("a failure body").as_str();
    for part in [
        "expected:\n  readyReplicas: 3",
        "actual:\n  readyReplicas: 2\n  web-2: ContainersNotReady",
        "timeline:\n  +0.002s pod/web-2 MODIFIED ready=false",
        "diagnostics:\n  event Warning Unhealthy pod/web-2: Readiness probe failed",
    ] {
        assert!(body.contains(part), "body lacks {part:?}:\n{body}");
    }
    assert_eq!(reruns.runs.len(), 1, "one earlier failed attempt");
    assert_eq!(property(failed, "attempts"), Some("2"));

    // The flaky pass: a success with the failed attempt as flakyFailure, and a figure.
    let flaky = case("mysql", "replication");
    let TestCaseStatus::Success { flaky_runs } = &flaky.status else {
        panic!("replication should pass: {:?}", flaky.status);
    };
    assert_eq!(flaky_runs.len(), 1);
    assert!(
        flaky_runs[0]
            .message
            .as_ref()
            .unwrap()
            .as_str()
            .starts_with("attempt 1: step 2")
    );
    assert_eq!(property(flaky, "flaky"), Some("true"));
    assert_eq!(property(flaky, "figure.replication_lag"), Some("0.25 s"));
    assert_eq!(
        property(flaky, "namespace"),
        Some("petset-mysql-replication-a2")
    );

    // The ignored one: skipped with its reason.
    let ignored = case("faults", "drain");
    let TestCaseStatus::Skipped { message, .. } = &ignored.status else {
        panic!("drain should be skipped: {:?}", ignored.status);
    };
    assert_eq!(
        message.as_ref().map(|m| m.as_str()),
        Some("needs 2 schedulable nodes, cluster has 1")
    );

    check_with_junitparser(
        &path,
        &json!({
            "tests": 5, "failures": 1, "skipped": 1,
            "cases": {
                "petset.statefulset/ordered-scale-up": {
                    "status": "passed",
                    "properties": {
                        "cluster.context": "kind-petset",
                        "file": "scenarios/statefulset/ordered-scale-up.yaml",
                        "covers": "STS-NAME-1,STS-ORDER-1",
                        "namespace": "*"
                    },
                    "system_out_contains": ["step 2 (mark #2, line 6): passed in"]
                },
                "petset.statefulset/pvc-per-pod": {
                    "status": "failed",
                    "message_contains": ["step 2 (mark #2): expected 3 ready pods, saw 2"],
                    "message_is_one_line": true,
                    "body_contains": ["expected:", "readyReplicas: 3", "actual:",
                                      "timeline:", "diagnostics:", "Readiness probe failed"],
                    "rerun_failures": 1
                },
                "petset.mysql/replication": {
                    "status": "passed",
                    "flaky_failures": 1,
                    "properties": {"flaky": "true", "figure.replication_lag": "0.25 s"}
                },
                "petset.faults/drain": {
                    "status": "skipped",
                    "message_contains": ["needs 2 schedulable nodes"]
                },
                "petset.dns/srv-records": {"status": "passed"}
            }
        }),
    );
    validate_with_xmllint(&xml, dir.path());
}
