//! The JUnit XML reporter: what a CI reviewer reads instead of the run's output.
//!
//! One testsuite per area, one testcase per scenario with a classname (`petset.<area>`) and
//! name (`<scenario>`) that stay the same between versions, so CI history lines up. A failure
//! carries a one-line message naming the failed step and a body with expected vs actual, the
//! timeline and diagnostics; system-out carries the step log. Scenarios that failed and then
//! passed under `PETSET_RETRIES` are successes with `flakyFailure` elements, never silent.
//!
//! The failure's kind decides the element: the cluster's behaviour was judged and found wrong
//! (`assertion`, `deadline`) is a `<failure>`; petset could not run or judge the scenario (`api`,
//! `cleanup`, `setup`, `invalid-scenario`, `interrupted`, `internal`) is an `<error>`. The kind
//! is the element's `type`. A run that could not get its cluster also says so once, as the
//! `run.error` property of every testsuite.

use std::collections::BTreeMap;
use std::path::Path;

use quick_junit::{
    NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestRerun, TestSuite,
};

use super::error::ReportError;
use super::record::{
    AttemptRecord, RunRecord, ScenarioRecord, TrialVerdict, first_line, value_text,
};
use super::setup::setup_failure;
use crate::events::{FailureKind, ScenarioOutcome};

/// The report as XML: complete after `RunFinished`, and still a valid report of what happened
/// when the run stopped early.
pub(crate) fn to_xml(record: &RunRecord) -> Result<String, ReportError> {
    render(record)
        .to_string()
        .map_err(|source| ReportError::Junit { source })
}

/// Writes the report to `path`, creating its folder.
pub(crate) fn write(record: &RunRecord, path: &Path) -> Result<(), ReportError> {
    super::write_file(path, &to_xml(record)?)
}

/// Renders a run record as a JUnit report.
pub fn render(record: &RunRecord) -> Report {
    let mut report = Report::new("petset");
    if let Some(elapsed) = record.elapsed {
        report.set_time(elapsed);
    }
    let mut areas: BTreeMap<&str, Vec<&ScenarioRecord>> = BTreeMap::new();
    for scenario in record.scenarios.values() {
        areas.entry(&scenario.id.area).or_default().push(scenario);
    }
    for (area, scenarios) in areas {
        let mut suite = TestSuite::new(area);
        if let Some(started) = record.started_at {
            let at: chrono::DateTime<chrono::Utc> = started.into();
            suite.set_timestamp(at);
        }
        suite.set_time(scenarios.iter().map(|s| s.total_time()).sum());
        suite.add_properties(run_properties(record));
        for scenario in scenarios {
            suite.add_test_case(test_case(record, scenario));
        }
        report.add_test_suite(suite);
    }
    report
}

/// `<failure>` when the cluster's behaviour was judged wrong, `<error>` when it could not be.
fn element(kind: FailureKind) -> NonSuccessKind {
    if kind.is_error() {
        NonSuccessKind::Error
    } else {
        NonSuccessKind::Failure
    }
}

fn run_properties(record: &RunRecord) -> Vec<Property> {
    let mut properties = vec![Property::new("run.id", record.run_id.as_str())];
    if let Some((setup, _)) = setup_failure(record) {
        properties.push(Property::new("run.error", first_line(&setup.message)));
    }
    match &record.cluster {
        Some(cluster) => {
            properties.push(Property::new("cluster.context", cluster.context.as_str()));
            properties.push(Property::new(
                "cluster.serverVersion",
                cluster.server_version.as_str(),
            ));
            if cluster.emulated {
                properties.push(Property::new("cluster.kind", "emulated"));
            }
        }
        None => properties.push(Property::new("cluster.context", "none")),
    }
    if record.elapsed.is_none() {
        properties.push(Property::new(
            "run.complete",
            "false: the run stopped before it finished",
        ));
    }
    properties
}

fn test_case(record: &RunRecord, scenario: &ScenarioRecord) -> TestCase {
    let last = scenario.last();
    let status = match scenario.verdict() {
        TrialVerdict::Passed => TestCaseStatus::success(),
        TrialVerdict::Flaky(_) => {
            let mut status = TestCaseStatus::success();
            status.add_reruns(reruns(scenario));
            status
        }
        TrialVerdict::Failed(failure) => {
            let mut status = TestCaseStatus::non_success(element(failure.kind));
            if let Some(last) = last {
                status.set_message(last.headline(failure));
                status.set_description(last.failure_body(failure));
            }
            status.set_type(failure.kind.as_str());
            status.add_reruns(reruns(scenario));
            status
        }
        TrialVerdict::Ignored(reason) => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(reason);
            status.set_type("ignored");
            status
        }
        TrialVerdict::Unfinished => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status.set_message("did not finish: the run stopped before this scenario ended");
            status.set_type("aborted");
            status.add_reruns(reruns(scenario));
            status
        }
    };
    let mut case = TestCase::new(scenario.id.name.as_str(), status);
    case.set_classname(format!("petset.{}", scenario.id.area));
    if let Some(finished) = last.and_then(|a| a.finished.as_ref()) {
        case.set_time(finished.elapsed);
    }
    case.add_properties(case_properties(record, scenario));
    if let Some(last) = last {
        let output = last.output();
        if !output.is_empty() {
            case.set_system_out(output);
        }
    }
    case
}

/// Earlier failed attempts, as `flakyFailure` (the scenario then passed) or `rerunFailure`.
/// They carry no `time`: the Jenkins schema does not allow one there, and the testcase's time
/// is the final attempt's.
fn reruns(scenario: &ScenarioRecord) -> Vec<TestRerun> {
    let count = scenario.attempts.len();
    scenario
        .attempts
        .iter()
        .take(count.saturating_sub(1))
        .filter_map(|attempt| {
            let finished = attempt.finished.as_ref()?;
            let ScenarioOutcome::Failed(failure) = &finished.outcome else {
                return None;
            };
            let mut rerun = TestRerun::new(element(failure.kind));
            rerun
                .set_type(failure.kind.as_str())
                .set_message(format!(
                    "attempt {}: {}",
                    attempt.attempt,
                    attempt.headline(failure)
                ))
                .set_description(attempt.failure_body(failure));
            let output = attempt.output();
            if !output.is_empty() {
                rerun.set_system_out(output);
            }
            Some(rerun)
        })
        .collect()
}

fn case_properties(record: &RunRecord, scenario: &ScenarioRecord) -> Vec<Property> {
    let mut properties = Vec::new();
    if let Some(cluster) = &record.cluster {
        properties.push(Property::new("cluster.context", cluster.context.as_str()));
        properties.push(Property::new(
            "cluster.serverVersion",
            cluster.server_version.as_str(),
        ));
        if cluster.emulated {
            properties.push(Property::new("cluster.kind", "emulated"));
        }
    }
    properties.push(Property::new("file", scenario.file.display().to_string()));
    properties.push(Property::new("covers", scenario.covers.join(",")));
    properties.push(Property::new(
        "attempts",
        scenario.attempts.len().max(1).to_string(),
    ));
    if matches!(scenario.verdict(), TrialVerdict::Flaky(_)) {
        properties.push(Property::new("flaky", "true"));
    }
    if let Some(last) = scenario.last() {
        properties.extend(attempt_properties(last));
    }
    properties
}

fn attempt_properties(attempt: &AttemptRecord) -> Vec<Property> {
    let mut properties = Vec::new();
    if !attempt.namespace.is_empty() {
        properties.push(Property::new("namespace", attempt.namespace.as_str()));
    }
    if let Some(finished) = &attempt.finished {
        for figure in &finished.figures {
            properties.push(Property::new(
                format!("figure.{}", figure.name),
                value_text(figure),
            ));
        }
        for (name, value) in &finished.properties {
            // The executor's own properties never replace the ones above.
            if properties.iter().all(|p| p.name.as_str() != name) {
                properties.push(Property::new(name.as_str(), value.as_str()));
            }
        }
    }
    properties
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Event, ScenarioId};

    #[test]
    fn a_run_that_stopped_midway_still_reports_what_it_had() {
        let mut record = RunRecord::default();
        record.apply(&Event::RunStarted {
            run_id: "r1".into(),
            cluster: None,
        });
        record.apply(&Event::ScenarioStarted {
            id: ScenarioId {
                area: "storage".into(),
                name: "pv-retain".into(),
            },
            file: "scenarios/storage/pv-retain.yaml".into(),
            covers: vec!["PV-RETAIN-1".into()],
            namespace: "petset-storage-pv-retain-ab12".into(),
            attempt: 1,
        });
        // No ScenarioFinished, no RunFinished: the process is going down.
        let report = render(&record);
        assert_eq!((report.tests, report.errors), (1, 1));
        let suite = &report.test_suites[0];
        assert!(
            suite
                .properties
                .iter()
                .any(|p| p.name.as_str() == "run.complete")
        );
        let case = &suite.test_cases[0];
        let TestCaseStatus::NonSuccess { kind, message, .. } = &case.status else {
            panic!("an unfinished scenario is an error: {:?}", case.status);
        };
        assert_eq!(*kind, NonSuccessKind::Error);
        assert!(
            message
                .as_ref()
                .is_some_and(|m| m.as_str().starts_with("did not finish"))
        );
        assert!(to_xml(&record).is_ok());
    }
}
