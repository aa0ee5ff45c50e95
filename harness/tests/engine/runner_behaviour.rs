//! How the runner runs trials: in parallel, serial scenarios alone, under their deadlines,
//! surviving panics, stopping cleanly when interrupted, and honouring cargo's filters.

use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::runner_support::{
    StandIn, StandInCluster, args, catalogue, entry, input, scenario_yaml, settings,
};
use petset::runner::{Content, RunInput, RunSettings, SettingsError};
use quick_junit::{NonSuccessKind, Report, TestCaseStatus};
use std::sync::Arc;

fn report(dir: &std::path::Path) -> Report {
    let xml = std::fs::read_to_string(dir.join("reports/junit.xml")).expect("report written");
    Report::deserialize_from_str(&xml).expect("report parses")
}

fn status<'a>(report: &'a Report, name: &str) -> &'a TestCaseStatus {
    report
        .test_suites
        .iter()
        .flat_map(|s| s.test_cases.iter())
        .find(|c| c.name.as_str() == name)
        .map(|c| &c.status)
        .unwrap_or_else(|| panic!("no testcase {name}"))
}

fn message(status: &TestCaseStatus) -> &str {
    match status {
        TestCaseStatus::NonSuccess { message, .. } | TestCaseStatus::Skipped { message, .. } => {
            message.as_ref().map(|m| m.as_str()).unwrap_or("")
        }
        TestCaseStatus::Success { .. } => "",
    }
}

#[test]
fn serial_scenarios_run_alone_and_others_in_parallel() {
    let dir = tempfile::tempdir().unwrap();
    let mut suite: Vec<_> = (0..4)
        .map(|n| {
            entry(
                "parallel",
                &format!("p{n}"),
                &scenario_yaml(&["STS-NAME-1"], &["delay-60"], 2, ""),
            )
        })
        .collect();
    suite.insert(
        2,
        entry(
            "parallel",
            "drains-a-node",
            &scenario_yaml(&["FAULT-DRAIN-1"], &["delay-60"], 2, "serial: true\n"),
        ),
    );
    let standin = StandIn::new();
    let outcome = petset::runner::run(
        &args(dir.path(), &["--test-threads", "4"]),
        input(suite, settings(dir.path(), 0)),
        &StandInCluster(standin.clone()),
    );
    assert_eq!(outcome.exit_code, ExitCode::SUCCESS);
    let observed = &standin.observed;
    assert!(
        !observed.serial_overlap.load(Ordering::SeqCst),
        "the serial scenario overlapped another"
    );
    assert!(
        observed.max_running.load(Ordering::SeqCst) >= 2,
        "non-serial scenarios should overlap with --test-threads=4"
    );
    assert_eq!(observed.started.lock().unwrap().len(), 5);
}

#[test]
fn one_thread_runs_one_scenario_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let suite: Vec<_> = (0..3)
        .map(|n| {
            entry(
                "seq",
                &format!("s{n}"),
                &scenario_yaml(&[], &["delay-20"], 1, ""),
            )
        })
        .collect();
    let standin = StandIn::new();
    let outcome = petset::runner::run(
        &args(dir.path(), &["--test-threads", "1"]),
        input(suite, settings(dir.path(), 0)),
        &StandInCluster(standin.clone()),
    );
    assert_eq!(outcome.exit_code, ExitCode::SUCCESS);
    assert_eq!(standin.observed.max_running.load(Ordering::SeqCst), 1);
}

#[test]
fn a_scenario_past_its_deadline_is_cancelled_cleaned_up_and_failed() {
    let dir = tempfile::tempdir().unwrap();
    let suite = vec![
        entry(
            "slow",
            "hangs",
            &scenario_yaml(&[], &["hangs"], 2, "timeout: 200ms\n"),
        ),
        entry("slow", "quick", &scenario_yaml(&[], &[], 1, "")),
    ];
    let standin = StandIn::new();
    let started = Instant::now();
    let outcome = petset::runner::run(
        &args(dir.path(), &[]),
        input(suite, settings(dir.path(), 0)),
        &StandInCluster(standin.clone()),
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the deadline held"
    );
    assert_eq!(outcome.exit_code, ExitCode::from(101));
    let cleaned = standin.observed.cleaned.lock().unwrap().clone();
    assert!(cleaned.contains(&"slow::hangs".to_string()), "{cleaned:?}");
    let report = report(dir.path());
    let hung = message(status(&report, "hangs"));
    assert!(
        hung.contains("the steps did not finish within the scenario's timeout of 200ms"),
        "{hung}"
    );
    assert!(matches!(
        status(&report, "quick"),
        TestCaseStatus::Success { .. }
    ));
}

#[test]
fn a_deadline_is_a_failure_of_kind_deadline_and_a_panic_an_internal_error() {
    let dir = tempfile::tempdir().unwrap();
    let suite = vec![
        entry(
            "kinds",
            "hangs",
            &scenario_yaml(&[], &["hangs"], 1, "timeout: 200ms\n"),
        ),
        entry("kinds", "panics", &scenario_yaml(&[], &["panics"], 1, "")),
        entry("kinds", "fails", &scenario_yaml(&[], &["fails"], 1, "")),
    ];
    let outcome = petset::runner::run(
        &args(dir.path(), &["--test-threads", "3"]),
        input(suite, settings(dir.path(), 0)),
        &StandInCluster(StandIn::new()),
    );
    assert_eq!(outcome.exit_code, ExitCode::from(101));
    let report = report(dir.path());
    let kind_of = |name: &str| match status(&report, name) {
        TestCaseStatus::NonSuccess { kind, ty, .. } => {
            (*kind, ty.as_ref().map(|t| t.as_str().to_string()))
        }
        other => panic!("{name} should not pass: {other:?}"),
    };
    assert_eq!(
        kind_of("hangs"),
        (NonSuccessKind::Failure, Some("deadline".to_string()))
    );
    assert_eq!(
        kind_of("panics"),
        (NonSuccessKind::Error, Some("internal".to_string()))
    );
    assert_eq!(
        kind_of("fails"),
        (NonSuccessKind::Failure, Some("assertion".to_string()))
    );
}

#[test]
fn an_api_error_on_an_earlier_attempt_is_reported_as_a_flaky_error() {
    let dir = tempfile::tempdir().unwrap();
    let suite = vec![entry(
        "kinds",
        "retried",
        &scenario_yaml(&[], &["flaky", "api-error"], 1, ""),
    )];
    let outcome = petset::runner::run(
        &args(dir.path(), &[]),
        input(suite, settings(dir.path(), 1)),
        &StandInCluster(StandIn::new()),
    );
    assert_eq!(outcome.exit_code, ExitCode::SUCCESS);
    let xml = std::fs::read_to_string(dir.path().join("reports/junit.xml")).unwrap();
    assert!(
        xml.contains("<flakyError ") && xml.contains("type=\"api\""),
        "{xml}"
    );
    let report = report(dir.path());
    let TestCaseStatus::Success { flaky_runs } = status(&report, "retried") else {
        panic!("retried should pass on its retry");
    };
    assert_eq!(flaky_runs.len(), 1);
    assert_eq!(flaky_runs[0].kind, NonSuccessKind::Error);
    crate::runner_support::validate_with_xmllint(&xml, dir.path());
}

#[test]
fn a_panicking_scenario_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    let suite = vec![
        entry("bugs", "panics", &scenario_yaml(&[], &["panics"], 1, "")),
        entry("bugs", "fine", &scenario_yaml(&[], &[], 1, "")),
    ];
    let outcome = petset::runner::run(
        &args(dir.path(), &["--test-threads", "2"]),
        input(suite, settings(dir.path(), 0)),
        &StandInCluster(StandIn::new()),
    );
    let conclusion = outcome.conclusion.unwrap();
    assert_eq!((conclusion.num_passed, conclusion.num_failed), (1, 1));
    let report = report(dir.path());
    assert_eq!(
        message(status(&report, "panics")),
        "the scenario panicked: the stand-in was told to panic"
    );
}

#[test]
fn a_timeout_too_long_for_the_clock_neither_panics_the_runner_nor_skips_cleanup() {
    let dir = tempfile::tempdir().unwrap();
    let mut huge = entry("bugs", "huge-timeout", &scenario_yaml(&[], &[], 2, ""));
    // Parsing bounds every duration a file can write; a scenario built in code is not parsed.
    if let Content::Valid(scenario) = &mut huge.content {
        Arc::make_mut(scenario).timeout = petset::scenario::model::Duration(Duration::MAX);
    }
    let standin = StandIn::new();
    let mut settings = settings(dir.path(), 0);
    settings.deadline_margin = Duration::from_secs(10);
    let outcome = petset::runner::run(
        &args(dir.path(), &[]),
        input(vec![huge], settings),
        &StandInCluster(standin.clone()),
    );
    let report = report(dir.path());
    let status = status(&report, "huge-timeout");
    assert!(
        matches!(status, TestCaseStatus::Success { .. }),
        "{}",
        message(status)
    );
    assert_eq!(outcome.exit_code, ExitCode::SUCCESS);
    let cleaned = standin.observed.cleaned.lock().unwrap().clone();
    assert_eq!(cleaned, ["bugs::huge-timeout"]);
}

#[test]
fn an_interrupted_run_cancels_cleans_up_and_still_reports() {
    let dir = tempfile::tempdir().unwrap();
    let suite: Vec<_> = (0..3)
        .map(|n| {
            entry(
                "stuck",
                &format!("s{n}"),
                &scenario_yaml(&["STS-PVC-1"], &["hangs"], 1, ""),
            )
        })
        .collect();
    let standin = StandIn::new();
    let observed = standin.observed.clone();
    let outcome = petset::runner::run_with(
        &args(dir.path(), &["--test-threads", "1"]),
        input(suite, settings(dir.path(), 0)),
        &StandInCluster(standin),
        |interrupt| {
            let interrupt = interrupt.clone();
            let observed = observed.clone();
            std::thread::spawn(move || {
                let deadline = Instant::now() + Duration::from_secs(10);
                // Once s0 has started; it hangs until cancelled, so it is still running.
                while observed.started.lock().unwrap().is_empty() && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(10));
                }
                interrupt.trigger("interrupted by Ctrl-C");
            });
        },
    );
    assert!(outcome.interrupted);
    assert_eq!(outcome.exit_code, ExitCode::from(130));
    assert_eq!(observed.cleaned.lock().unwrap().as_slice(), ["stuck::s0"]);
    assert_eq!(observed.torn_down.load(Ordering::SeqCst), 1);
    let report = report(dir.path());
    assert!(
        message(status(&report, "s0")).contains("interrupted by Ctrl-C"),
        "{:?}",
        status(&report, "s0")
    );
    for later in ["s1", "s2"] {
        assert_eq!(
            message(status(&report, later)),
            "not run: interrupted by Ctrl-C"
        );
    }
    let coverage = std::fs::read_to_string(dir.path().join("reports/coverage.json")).unwrap();
    assert!(coverage.contains("\"STS-PVC-1\""), "{coverage}");
}

#[test]
fn list_and_filters_behave_like_cargo() {
    let dir = tempfile::tempdir().unwrap();
    let suite = || {
        vec![
            entry("statefulset", "scale", &scenario_yaml(&[], &[], 1, "")),
            entry("statefulset", "scale-down", &scenario_yaml(&[], &[], 1, "")),
            entry("mysql", "replication", &scenario_yaml(&[], &[], 1, "")),
        ]
    };
    // --list names every trial and runs nothing, not even the cluster search.
    let standin = StandIn::new();
    let listed = petset::runner::run(
        &args(dir.path(), &["--list"]),
        input(suite(), settings(dir.path(), 0)),
        &StandInCluster(standin.clone()),
    );
    assert!(listed.conclusion.is_none());
    assert!(standin.observed.started.lock().unwrap().is_empty());
    assert!(!dir.path().join("reports/junit.xml").exists());

    // A substring filter, then --exact, then --skip.
    for (filter, expected) in [
        (
            vec!["statefulset::scale"],
            vec!["statefulset::scale", "statefulset::scale-down"],
        ),
        (
            vec!["--exact", "statefulset::scale"],
            vec!["statefulset::scale"],
        ),
        (vec!["--skip", "statefulset"], vec!["mysql::replication"]),
    ] {
        let standin = StandIn::new();
        let outcome = petset::runner::run(
            &args(dir.path(), &filter),
            input(suite(), settings(dir.path(), 0)),
            &StandInCluster(standin.clone()),
        );
        let mut started = standin.observed.started.lock().unwrap().clone();
        started.sort();
        assert_eq!(started, expected, "{filter:?}");
        assert_eq!(
            outcome.conclusion.unwrap().num_filtered_out as usize,
            3 - expected.len()
        );
    }
}

#[test]
fn retries_come_from_petset_retries_and_bad_settings_fail_every_scenario() {
    let root = std::path::Path::new("/repo");
    let read = |value: &str| {
        let value = value.to_string();
        RunSettings::from_lookup(root, move |name| {
            (name == "PETSET_RETRIES").then(|| value.clone())
        })
    };
    assert_eq!(read("2").unwrap().retries, 2);
    let err = read("two").unwrap_err();
    assert_eq!(err.name, "PETSET_RETRIES");
    let junit = RunSettings::from_lookup(root, |name| {
        (name == "PETSET_JUNIT").then(|| "out/j.xml".to_string())
    })
    .unwrap();
    assert_eq!(junit.junit, root.join("out/j.xml"));

    let dir = tempfile::tempdir().unwrap();
    let error = SettingsError {
        name: "PETSET_RETRIES",
        value: "two".to_string(),
        expected: "expected a whole number of reruns, e.g. 2",
    };
    let outcome = petset::runner::run(
        &args(dir.path(), &[]),
        RunInput {
            suite: vec![entry("a", "b", &scenario_yaml(&[], &[], 1, ""))],
            catalogue: Some(catalogue()),
            settings: Err((error, settings(dir.path(), 0))),
        },
        &StandInCluster(StandIn::new()),
    );
    assert_eq!(outcome.exit_code, ExitCode::from(101));
    let report = report(dir.path());
    assert!(message(status(&report, "b")).contains("PETSET_RETRIES"));
}
