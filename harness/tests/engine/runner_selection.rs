//! Choosing what a run does: `--labels` (broken files are never left out), `--fail-fast`
//! (no scenario starts after the first failure) and `--repeat` (every run counted, the trial
//! failing on any failed run).

// Test setup: a failure here is a failure of the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::runner_support::{StandIn, StandInCluster, args, entry, input, scenario_yaml, settings};
use petset::runner::{Content, LabelFilter, SuiteEntry};
use quick_junit::{Report, TestCaseStatus};

fn report(dir: &std::path::Path) -> Report {
    let xml = std::fs::read_to_string(dir.join("reports/junit.xml")).expect("report written");
    Report::deserialize_from_str(&xml).expect("report parses")
}

fn case<'a>(report: &'a Report, name: &str) -> &'a quick_junit::TestCase {
    report
        .test_suites
        .iter()
        .flat_map(|s| s.test_cases.iter())
        .find(|c| c.name.as_str() == name)
        .unwrap_or_else(|| panic!("no testcase {name}"))
}

fn property<'a>(case: &'a quick_junit::TestCase, name: &str) -> Option<&'a str> {
    case.properties
        .iter()
        .find(|p| p.name.as_str() == name)
        .map(|p| p.value.as_str())
}

fn names(report: &Report) -> Vec<String> {
    report
        .test_suites
        .iter()
        .flat_map(|s| s.test_cases.iter())
        .map(|c| c.name.to_string())
        .collect()
}

#[test]
fn labels_leave_out_unmatched_scenarios_but_never_a_broken_file() {
    let dir = tempfile::tempdir().unwrap();
    let suite = vec![
        entry("sts", "fast", &scenario_yaml(&[], &["statefulset"], 1, "")),
        entry(
            "sts",
            "slow",
            &scenario_yaml(&[], &["statefulset", "slow"], 1, ""),
        ),
        entry("db", "other", &scenario_yaml(&[], &["mysql"], 1, "")),
        entry("sts", "broken", "description: [unclosed"),
    ];
    assert!(matches!(suite[3].content, Content::Invalid { .. }));
    let mut run_settings = settings(dir.path(), 0);
    run_settings.labels = LabelFilter::parse("statefulset,!slow").unwrap();
    let standin = StandIn::new();
    let outcome = petset::runner::run(
        &args(dir.path(), &[]),
        input(suite, run_settings),
        &StandInCluster(standin.clone()),
    );
    let conclusion = outcome.conclusion.unwrap();
    assert_eq!((conclusion.num_passed, conclusion.num_failed), (1, 1));
    assert_eq!(*standin.observed.started.lock().unwrap(), ["sts::fast"]);
    let mut reported = names(&report(dir.path()));
    reported.sort();
    assert_eq!(reported, ["broken", "fast"]);
}

fn three_in_a_row(first_labels: &[&str]) -> Vec<SuiteEntry> {
    vec![
        entry("a", "first", &scenario_yaml(&[], first_labels, 1, "")),
        entry("a", "second", &scenario_yaml(&[], &[], 1, "")),
        entry("a", "third", &scenario_yaml(&[], &[], 1, "")),
    ]
}

#[test]
fn fail_fast_starts_no_scenario_after_the_first_failure() {
    let dir = tempfile::tempdir().unwrap();
    let mut run_settings = settings(dir.path(), 0);
    run_settings.fail_fast = true;
    let standin = StandIn::new();
    let outcome = petset::runner::run(
        &args(dir.path(), &["--test-threads", "1"]),
        input(three_in_a_row(&["fails"]), run_settings),
        &StandInCluster(standin.clone()),
    );
    let conclusion = outcome.conclusion.unwrap();
    assert_eq!(
        (conclusion.num_failed, conclusion.num_ignored),
        (1, 2),
        "{conclusion:?}"
    );
    assert_eq!(*standin.observed.started.lock().unwrap(), ["a::first"]);
    let report = report(dir.path());
    for name in ["second", "third"] {
        match &case(&report, name).status {
            TestCaseStatus::Skipped { message, .. } => assert_eq!(
                message.as_ref().map(|m| m.as_str()),
                Some("not run: a::first failed and the run fails fast (--fail-fast)")
            ),
            other => panic!("{name}: {other:?}"),
        }
    }

    // Without it, the others run.
    let dir = tempfile::tempdir().unwrap();
    let standin = StandIn::new();
    let outcome = petset::runner::run(
        &args(dir.path(), &["--test-threads", "1"]),
        input(three_in_a_row(&["fails"]), settings(dir.path(), 0)),
        &StandInCluster(standin.clone()),
    );
    assert_eq!(outcome.conclusion.unwrap().num_passed, 2);
}

#[test]
fn repeat_runs_every_scenario_n_times_and_counts_the_passes() {
    let dir = tempfile::tempdir().unwrap();
    let mut run_settings = settings(dir.path(), 2);
    run_settings.repeat = 3;
    let standin = StandIn::new();
    // `flaky` fails on its first attempt only; the retries asked for are not used to hide it.
    let outcome = petset::runner::run(
        &args(dir.path(), &[]),
        input(three_in_a_row(&["flaky"]), run_settings),
        &StandInCluster(standin.clone()),
    );
    let conclusion = outcome.conclusion.unwrap();
    assert_eq!(
        (conclusion.num_passed, conclusion.num_failed),
        (2, 1),
        "{conclusion:?}"
    );
    let mut started = standin.observed.started.lock().unwrap().clone();
    started.sort();
    assert_eq!(
        started,
        [
            "a::first",
            "a::first",
            "a::first",
            "a::second",
            "a::second",
            "a::second",
            "a::third",
            "a::third",
            "a::third"
        ]
    );
    let report = report(dir.path());
    let flaky = case(&report, "first");
    assert_eq!(property(flaky, "runs"), Some("3"));
    assert_eq!(property(flaky, "runs.passed"), Some("2"));
    assert_eq!(property(flaky, "attempts"), Some("3"));
    // A failed run fails the scenario under `--repeat`: the report says so, as the trial and
    // the run's exit status do (not a flaky pass, which is what a retry that passed would be).
    assert!(
        matches!(
            &flaky.status,
            TestCaseStatus::NonSuccess {
                kind: quick_junit::NonSuccessKind::Failure,
                ..
            }
        ),
        "{:?}",
        flaky.status
    );
    assert_ne!(outcome.exit_code, std::process::ExitCode::SUCCESS);
    let steady = case(&report, "second");
    assert_eq!(property(steady, "runs.passed"), Some("3"));
}
