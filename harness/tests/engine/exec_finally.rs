//! `finally:` steps and `onFailure:` collectors through the engine against the fake API server:
//! finally steps run after a failure, after the scenario's deadline and after a pass, their
//! failure fails a passing scenario, and after a failure it is reported beside the original
//! cause, never in its place; collectors add bounded sections to a failure's diagnostics, and
//! run only when the scenario fails.

use crate::support::test_cluster::{TestCluster, within};
use petset::engine::{EngineConfig, ScenarioRun, run_scenario};
use petset::events::{Event, EventSink, ScenarioId, ScenarioOutcome};
use petset::scenario::model::Scenario;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Default)]
struct Events(Mutex<Vec<Event>>);

impl EventSink for Events {
    fn emit(&self, event: Event) {
        self.0.lock().expect("events").push(event);
    }
}

impl Events {
    /// The summaries of the steps that started, by index.
    fn started(&self) -> Vec<(usize, String)> {
        self.0
            .lock()
            .expect("events")
            .iter()
            .filter_map(|event| match event {
                Event::StepStarted { index, summary, .. } => Some((*index, summary.clone())),
                _ => None,
            })
            .collect()
    }
}

/// Runs `yaml` with a suite folder for its programs; returns the outcome, the events and the
/// suite folder.
async fn run(yaml: &str) -> (ScenarioOutcome, Events, tempfile::TempDir) {
    let cluster = TestCluster::start().await;
    let suite = tempfile::tempdir().expect("a suite folder");
    std::fs::create_dir_all(suite.path().join("fixtures")).expect("fixtures folder");
    let mut config = EngineConfig::new(
        cluster.client.clone(),
        suite.path().join("fixtures"),
        "run-1",
    );
    config.cleanup_timeout = Duration::from_secs(5);
    config.default_timeout = Duration::from_secs(5);
    config.cluster_config = Some(Arc::new(cluster.config.clone()));
    let scenario: Scenario =
        serde_saphyr::from_str(yaml).unwrap_or_else(|error| panic!("scenario parses: {error}"));
    let id = ScenarioId {
        area: "engine".into(),
        name: "finally".into(),
    };
    let events = Events::default();
    let run = ScenarioRun {
        id: &id,
        file: Path::new("scenarios/engine/finally.yaml"),
        scenario: &scenario,
        attempt: 1,
    };
    let result = within(30, run_scenario(&config, run, &events)).await;
    (result.outcome, events, suite)
}

fn written(suite: &tempfile::TempDir, name: &str) -> String {
    std::fs::read_to_string(suite.path().join(name)).unwrap_or_default()
}

#[tokio::test]
async fn finally_runs_after_a_failure_and_the_failure_stays_the_cause() {
    let (outcome, events, suite) = run(r#"description: finally after a failure
covers: []
steps:
- mark: started
- command: {run: [sh, -c, "echo broken >&2; exit 4"]}
- mark: never
finally:
- command: {run: [sh, -c, 'echo "$PETSET_NAMESPACE" > finally.out']}
"#)
    .await;
    let ScenarioOutcome::Failed(failure) = outcome else {
        panic!("the scenario failed: {outcome:?}");
    };
    assert!(
        failure.message.starts_with("step 2 (command sh -c"),
        "{}",
        failure.message
    );
    assert!(!failure.message.contains("finally"), "{}", failure.message);
    assert!(written(&suite, "finally.out").starts_with("petset-engine-finally-"));
    let started = events.started();
    assert_eq!(
        started.iter().map(|(index, _)| *index).collect::<Vec<_>>(),
        [1, 2, 4],
        "step 3 never started; the finally step is step 4: {started:?}"
    );
    assert!(
        started[2].1.starts_with("finally: command sh -c"),
        "{started:?}"
    );
}

#[tokio::test]
async fn finally_runs_after_the_scenario_deadline() {
    let (outcome, _events, suite) = run(r#"description: finally after the deadline
covers: []
timeout: 2s
steps:
- command: {run: [sleep, "30"], timeout: 20s}
finally:
- command: {run: [sh, -c, 'echo ran > finally.out']}
"#)
    .await;
    let ScenarioOutcome::Failed(failure) = outcome else {
        panic!("the scenario failed: {outcome:?}");
    };
    assert!(
        failure.message.contains("timeout of 2s ran out"),
        "{}",
        failure.message
    );
    assert_eq!(written(&suite, "finally.out"), "ran\n");
}

#[tokio::test]
async fn a_failing_finally_step_is_reported_beside_the_original_failure() {
    let (outcome, _events, _suite) = run(r#"description: both fail
covers: []
steps:
- command: {run: [sh, -c, "exit 4"]}
finally:
- command: {run: [sh, -c, "echo could not uninstall; exit 9"]}
"#)
    .await;
    let ScenarioOutcome::Failed(failure) = outcome else {
        panic!("the scenario failed: {outcome:?}");
    };
    assert!(
        failure.message.starts_with("step 1 (command sh -c exit 4)"),
        "{}",
        failure.message
    );
    assert!(
        failure.message.ends_with("; a finally step also failed"),
        "{}",
        failure.message
    );
    assert!(
        failure.actual.contains("exit code: 4"),
        "{}",
        failure.actual
    );
    let finally = failure
        .diagnostics
        .split_once("== finally failed ==")
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("no finally section: {}", failure.diagnostics));
    assert!(
        finally.contains("step 2 (finally: command sh -c"),
        "{finally}"
    );
    assert!(finally.contains("could not uninstall"), "{finally}");
}

#[tokio::test]
async fn a_failing_finally_step_fails_a_passing_scenario() {
    let (outcome, _events, _suite) = run(r#"description: finally fails
covers: []
steps:
- mark: fine
finally:
- command: {run: [sh, -c, "exit 2"]}
- mark: not-reached
"#)
    .await;
    let ScenarioOutcome::Failed(failure) = outcome else {
        panic!("the scenario failed: {outcome:?}");
    };
    assert!(
        failure
            .message
            .starts_with("step 2 (finally: command sh -c exit 2)"),
        "{}",
        failure.message
    );
}

const COLLECTING: &str = r#"description: collectors
covers: []
steps:
- apply: {manifests: [{apiVersion: v1, kind: ConfigMap, metadata: {name: settings}, data: {mode: primary}}]}
- command: {run: [sh, -c, "exit 1"]}
onFailure:
- object: {target: configmap/settings}
- events: {target: configmap/settings}
- logs: {target: pod/missing, previous: true}
- command: {run: [sh, -c, 'echo "ns=$PETSET_NAMESPACE"; head -c 100000 /dev/zero | tr "\0" y; echo; echo last line']}
finally:
- command: {run: [sh, -c, 'echo ran > finally.out']}
"#;

#[tokio::test]
async fn on_failure_collectors_add_bounded_sections_to_the_failure() {
    let (outcome, _events, suite) = run(COLLECTING).await;
    let ScenarioOutcome::Failed(failure) = outcome else {
        panic!("the scenario failed: {outcome:?}");
    };
    let diagnostics = &failure.diagnostics;
    let section = |title: &str| {
        let start = diagnostics
            .find(&format!("== onFailure: {title}"))
            .unwrap_or_else(|| panic!("no section {title}:\n{diagnostics}"));
        let rest = &diagnostics[start..];
        let end = rest[3..].find("\n== ").map_or(rest.len(), |at| at + 3);
        rest[..end].to_owned()
    };
    assert!(
        section("object configmap/settings").contains("mode: primary"),
        "{diagnostics}"
    );
    assert!(
        section("events of configmap/settings").contains("(none)"),
        "{diagnostics}"
    );
    assert!(
        section("logs pod/missing (previous)").contains("(could not read"),
        "{diagnostics}"
    );
    let command = section("command sh -c");
    // The program's stream keeps its first 64 KiB, of which the collector keeps the end.
    assert!(command.contains("more bytes not kept"), "{command}");
    assert!(command.contains("bytes before left out"), "the cut is said");
    assert!(
        !command.contains("ns=petset-"),
        "the start of 100 kB is cut: {command}"
    );
    assert!(command.len() < 9 * 1024, "{} bytes", command.len());
    // Collected first, then finally ran.
    assert_eq!(written(&suite, "finally.out"), "ran\n");
}

#[tokio::test]
async fn on_failure_collectors_do_not_run_when_the_scenario_passes() {
    let (outcome, _events, suite) = run(r#"description: passes
covers: []
steps:
- mark: fine
onFailure:
- command: {run: [sh, -c, 'echo collected > collected.out']}
"#)
    .await;
    assert_eq!(outcome, ScenarioOutcome::Passed);
    assert!(!suite.path().join("collected.out").exists());
}
