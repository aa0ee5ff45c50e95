//! A stand-in cluster for the runner's tests and benchmark: an executor that plays each
//! scenario's steps with simulated cluster delays and ends it as the scenario's labels say.
//!
//! Labels: `fails` (the last step fails every time), `flaky` (the last step fails on the first
//! attempt only), `panics` (the executor panics), `hangs` (never finishes until cancelled),
//! `lag` (reports a replication-lag figure), `api-error` (a failure is an API error rather than
//! an unmet expectation). `requires: {nodes: N}` with N > 1 is unmet on this
//! one-node stand-in. Each step takes the scenario's `delay-<ms>` label, default 5 ms.

#![allow(dead_code)]
// Test support: a failure here is a failure of the test that called it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use petset::cluster::{Capabilities, ServerVersion};
use petset::engine::EngineConfig;
use petset::events::{
    ClusterInfo, Event, Failure, FailureKind, Figure, ScenarioId, ScenarioOutcome, StepOutcome,
};
use petset::runner::{
    Availability, ClusterSource, ClusterTarget, Content, EngineExecutor, Executed, Job, RunInput,
    RunSettings, ScenarioExecutor, SuiteEntry,
};
use petset::scenario::model::Scenario;

/// What the stand-in saw, for assertions.
#[derive(Debug, Default)]
pub struct Observed {
    pub running: AtomicUsize,
    pub max_running: AtomicUsize,
    /// Scenario ids in the order their attempts started.
    pub started: Mutex<Vec<String>>,
    /// Scenario ids whose cleanup ran, after a pass, a failure or a cancellation.
    pub cleaned: Mutex<Vec<String>>,
    pub torn_down: AtomicUsize,
    /// Set when a serial scenario ran alongside another one.
    pub serial_overlap: std::sync::atomic::AtomicBool,
    serial_running: std::sync::atomic::AtomicBool,
}

/// The stand-in executor.
#[derive(Debug, Default)]
pub struct StandIn {
    pub observed: Arc<Observed>,
    /// Attempts made per scenario, to make `flaky` fail once.
    attempts: Mutex<BTreeMap<String, u32>>,
}

impl StandIn {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }
}

fn delay(scenario: &Scenario) -> Duration {
    scenario
        .labels
        .iter()
        .find_map(|l| l.strip_prefix("delay-"))
        .and_then(|ms| ms.parse().ok())
        .map(Duration::from_millis)
        .unwrap_or(Duration::from_millis(5))
}

fn has(scenario: &Scenario, label: &str) -> bool {
    scenario.labels.iter().any(|l| l == label)
}

impl ScenarioExecutor for StandIn {
    fn unmet(&self, scenario: &Scenario) -> Option<String> {
        match scenario.requires.nodes {
            Some(nodes) if nodes > 1 => {
                Some(format!("needs {nodes} schedulable nodes, cluster has 1"))
            }
            _ => None,
        }
    }

    fn execute(&self, job: Job) -> BoxFuture<'_, Executed> {
        async move {
            let observed = self.observed.clone();
            let id = job.id.to_string();
            let attempt_no = {
                let mut attempts = self.attempts.lock().unwrap();
                let n = attempts.entry(id.clone()).or_insert(0);
                *n += 1;
                *n
            };
            let now = observed.running.fetch_add(1, Ordering::SeqCst) + 1;
            observed.max_running.fetch_max(now, Ordering::SeqCst);
            if (job.scenario.serial && now > 1) || observed.serial_running.load(Ordering::SeqCst) {
                observed.serial_overlap.store(true, Ordering::SeqCst);
            }
            if job.scenario.serial {
                observed.serial_running.store(true, Ordering::SeqCst);
            }
            observed.started.lock().unwrap().push(id.clone());
            let namespace = format!("petset-{}-{}-a{}", job.id.area, job.id.name, job.attempt);
            job.sink.emit(Event::ScenarioStarted {
                id: job.id.clone(),
                file: job.file.clone(),
                covers: job
                    .scenario
                    .covers
                    .iter()
                    .map(|c| c.value.clone())
                    .collect(),
                namespace: namespace.clone(),
                attempt: job.attempt,
            });
            let scenario = job.scenario.clone();
            let outcome = tokio::select! {
                outcome = play(&job, &scenario, attempt_no) => outcome,
                () = job.cancel.cancelled() => ScenarioOutcome::Failed(Failure {
                    message: "cancelled".to_string(),
                    ..Failure::default()
                }),
            };
            // Cleanup always runs, as the engine's does.
            tokio::time::sleep(Duration::from_millis(20)).await;
            observed.cleaned.lock().unwrap().push(id);
            if job.scenario.serial {
                observed.serial_running.store(false, Ordering::SeqCst);
            }
            observed.running.fetch_sub(1, Ordering::SeqCst);
            let figures = if has(&scenario, "lag") {
                vec![Figure {
                    name: "replication_lag".to_string(),
                    value: 0.25,
                    unit: "s",
                }]
            } else {
                Vec::new()
            };
            Executed {
                outcome,
                figures,
                properties: BTreeMap::from([("namespace".to_string(), namespace)]),
            }
        }
        .boxed()
    }
}

async fn play(job: &Job, scenario: &Scenario, attempt_no: u32) -> ScenarioOutcome {
    if has(scenario, "panics") {
        panic!("the stand-in was told to panic");
    }
    let count = scenario.steps.len();
    for (at, step) in scenario.steps.iter().enumerate() {
        let index = at + 1;
        job.sink.emit(Event::StepStarted {
            id: job.id.clone(),
            index,
            kind: step.value.kind_name(),
            summary: format!("{} #{index}", step.value.kind_name()),
            line: step.referenced.line(),
        });
        tokio::time::sleep(delay(scenario)).await;
        if has(scenario, "hangs") {
            std::future::pending::<()>().await;
        }
        job.sink.emit(Event::Timeline {
            id: job.id.clone(),
            line: format!("+0.{index:03}s pod/web-{at} ADDED phase=Pending"),
        });
        let last = index == count;
        let fail = last && (has(scenario, "fails") || (has(scenario, "flaky") && attempt_no == 1));
        if fail {
            let failure = Failure {
                kind: if has(scenario, "api-error") {
                    FailureKind::Api
                } else {
                    FailureKind::Assertion
                },
                message: format!("step {index} (mark #{index}): expected 3 ready pods, saw 2"),
                expected: "readyReplicas: 3".to_string(),
                actual: "readyReplicas: 2\nweb-2: ContainersNotReady".to_string(),
                timeline: format!("+0.{index:03}s pod/web-2 MODIFIED ready=false"),
                diagnostics: "event Warning Unhealthy pod/web-2: Readiness probe failed"
                    .to_string(),
            };
            job.sink.emit(Event::StepFinished {
                id: job.id.clone(),
                index,
                outcome: StepOutcome::Failed(failure.clone()),
                elapsed: Duration::from_millis(5),
            });
            return ScenarioOutcome::Failed(failure);
        }
        job.sink.emit(Event::StepFinished {
            id: job.id.clone(),
            index,
            outcome: StepOutcome::Passed {
                detail: "done".to_string(),
                figures: Vec::new(),
            },
            elapsed: Duration::from_millis(5),
        });
    }
    ScenarioOutcome::Passed
}

/// A cluster source that always offers the stand-in.
pub struct StandInCluster(pub Arc<StandIn>);

impl ClusterSource for StandInCluster {
    fn acquire(&self) -> BoxFuture<'_, Availability> {
        let executor = self.0.clone();
        async move {
            let observed = executor.observed.clone();
            Availability::Ready(ClusterTarget {
                info: ClusterInfo {
                    context: "kind-petset".to_string(),
                    server_version: "1.33 (v1.33.1)".to_string(),
                    emulated: false,
                },
                summary: "stand-in cluster".to_string(),
                executor,
                teardown: Some(Box::new(move || {
                    async move {
                        observed.torn_down.fetch_add(1, Ordering::SeqCst);
                        Ok("stand-in torn down".to_string())
                    }
                    .boxed()
                })),
            })
        }
        .boxed()
    }
}

/// A cluster source with no cluster.
pub struct NoCluster {
    pub reason: String,
}

impl ClusterSource for NoCluster {
    fn acquire(&self) -> BoxFuture<'_, Availability> {
        let reason = self.reason.clone();
        async move {
            Availability::Unavailable {
                detail: format!("{reason}\n(test detail)"),
                reason,
            }
        }
        .boxed()
    }
}

/// A cluster source for a cluster that was asked for and cannot be had (`PETSET_CLUSTER=kind`
/// with no kind installed, say): `message` is the selection error as the conformance binary
/// words it.
pub struct FailedCluster {
    pub message: String,
}

impl ClusterSource for FailedCluster {
    fn acquire(&self) -> BoxFuture<'_, Availability> {
        let message = self.message.clone();
        async move { Availability::Failed { message } }.boxed()
    }
}

/// A suite entry from YAML text, as `scenarios/<area>/<name>.yaml`.
pub fn entry(area: &str, name: &str, yaml: &str) -> SuiteEntry {
    let content = match serde_saphyr::from_str::<Scenario>(yaml) {
        Ok(scenario) => Content::Valid(Arc::new(scenario)),
        Err(err) => Content::Invalid {
            diagnostics: err.to_string(),
        },
    };
    SuiteEntry {
        id: ScenarioId {
            area: area.to_string(),
            name: name.to_string(),
        },
        file: PathBuf::from(format!("scenarios/{area}/{name}.yaml")),
        content,
    }
}

/// A scenario with `steps` mark steps and the given labels and extra top-level YAML.
pub fn scenario_yaml(covers: &[&str], labels: &[&str], steps: usize, extra: &str) -> String {
    let mut yaml = format!(
        "description: a stand-in scenario\ncovers: [{}]\nlabels: [{}]\n{extra}steps:\n",
        covers.join(", "),
        labels.join(", ")
    );
    for n in 0..steps {
        yaml.push_str(&format!("  - mark: m{n}\n"));
    }
    yaml
}

/// Settings writing reports under `dir`, with `retries`.
pub fn settings(dir: &std::path::Path, retries: u32) -> RunSettings {
    let mut settings = RunSettings::defaults(dir);
    settings.retries = retries;
    settings.run_id = "testrun".to_string();
    settings.cleanup_grace = Duration::from_secs(5);
    // The stand-in does not enforce `timeout:` itself; the runner's cut is the deadline.
    settings.deadline_margin = Duration::ZERO;
    settings
}

pub fn input(suite: Vec<SuiteEntry>, settings: RunSettings) -> RunInput {
    RunInput {
        suite,
        catalogue: Some(catalogue()),
        settings: Ok(settings),
    }
}

/// A small catalogue for the tests' coverage tables.
pub fn catalogue() -> Vec<petset::report::Behaviour> {
    [
        ("STS-NAME-1", "Pods are named <set>-0 .. <set>-(N-1)"),
        (
            "STS-ORDER-1",
            "OrderedReady: pod i+1 only after pod i is Ready",
        ),
        ("STS-PVC-1", "One PVC per pod, Bound"),
        (
            "DB-REPL-1",
            "A row written on the primary is read on every replica",
        ),
        (
            "FAULT-DRAIN-1",
            "Draining a node moves a StatefulSet pod off it",
        ),
        ("DNS-SRV-1", "SRV records list one target per pod"),
    ]
    .into_iter()
    .map(|(id, title)| petset::report::Behaviour {
        id: id.to_string(),
        title: title.to_string(),
    })
    .collect()
}

/// Command-line arguments as cargo would pass them, plus `--logfile` into `dir`: the inner
/// run's libtest lines go there rather than into this test binary's own output.
pub fn args(dir: &std::path::Path, extra: &[&str]) -> libtest_mimic::Arguments {
    let log = dir.join("libtest.log");
    let mut all = vec!["conformance".to_string()];
    all.extend(extra.iter().map(|a| a.to_string()));
    all.extend(["--logfile".to_string(), log.display().to_string()]);
    libtest_mimic::Arguments::from_iter(all)
}

/// The suite the report tests run: two pass, one fails (twice, with one retry), one is flaky
/// (fails once, then passes), one is ignored (needs two nodes).
pub fn mixed_suite() -> Vec<SuiteEntry> {
    vec![
        entry(
            "statefulset",
            "ordered-scale-up",
            &scenario_yaml(&["STS-NAME-1", "STS-ORDER-1"], &[], 3, ""),
        ),
        entry(
            "statefulset",
            "pvc-per-pod",
            &scenario_yaml(&["STS-PVC-1"], &["fails"], 2, ""),
        ),
        entry(
            "mysql",
            "replication",
            &scenario_yaml(&["DB-REPL-1"], &["flaky", "lag"], 2, ""),
        ),
        entry(
            "faults",
            "drain",
            &scenario_yaml(&["FAULT-DRAIN-1"], &[], 1, "requires: {nodes: 2}\n"),
        ),
        entry(
            "dns",
            "srv-records",
            &scenario_yaml(&["DNS-SRV-1"], &[], 1, ""),
        ),
    ]
}

/// Whether an external checker that is missing may be skipped: locally yes, in CI no.
pub fn skip_missing(what: &str) -> bool {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{what} is required in CI (.ci/run installs it)");
    }
    eprintln!("skipping: {what} is not installed here (.ci/run installs it)");
    true
}

/// The folder of the JUnit checkers (`junit-10.xsd`, `check_report.py`).
pub fn junit_tools() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/junit")
}

/// Reads `report` with Python's junitparser (`check_report.py`) and checks `expected`.
/// Returns false when the checker is missing and that is allowed (outside CI).
pub fn check_with_junitparser(report: &std::path::Path, expected: &serde_json::Value) -> bool {
    let probe = std::process::Command::new("python3")
        .args(["-c", "import junitparser"])
        .output();
    match probe {
        Ok(out) if out.status.success() => {}
        _ => return !skip_missing("python3 with junitparser"),
    }
    let out = std::process::Command::new("python3")
        .arg(junit_tools().join("check_report.py"))
        .arg(report)
        .arg(expected.to_string())
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "junitparser check failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{}", String::from_utf8_lossy(&out.stdout).trim());
    true
}

/// Validates a JUnit document against the Jenkins xUnit plugin's published `junit-10.xsd`
/// with `xmllint`. That schema predates two things petset writes on purpose and other
/// consumers read (Jenkins' JUnit plugin, GitLab, junitparser): `<properties>` inside a
/// `<testcase>` and a `skipped` count on `<testsuites>`. Exactly those are removed first, and
/// everything else must validate as written. Returns false when xmllint is missing and that
/// is allowed (outside CI).
pub fn validate_with_xmllint(xml: &str, scratch: &std::path::Path) -> bool {
    if std::process::Command::new("xmllint")
        .arg("--version")
        .output()
        .is_err()
    {
        return !skip_missing("xmllint (Debian's libxml2-utils)");
    }
    let mut report = quick_junit::Report::deserialize_from_str(xml).expect("parse the report");
    let mut removed = 0;
    for suite in &mut report.test_suites {
        for case in &mut suite.test_cases {
            removed += case.properties.len();
            case.properties.clear();
        }
    }
    assert!(removed > 0, "expected testcase properties to remove");
    let mut projected = report.to_string().expect("serialize the report");
    let root = projected.find("<testsuites").expect("a testsuites element");
    let attribute = format!(" skipped=\"{}\"", report.skipped);
    let at = projected[root..]
        .find(&attribute)
        .map(|at| at + root)
        .expect("a skipped count on testsuites");
    projected.replace_range(at..at + attribute.len(), "");
    let file = scratch.join("junit-for-xsd.xml");
    std::fs::write(&file, &projected).expect("write the projected report");
    let out = std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(junit_tools().join("junit-10.xsd"))
        .arg(&file)
        .output()
        .expect("run xmllint");
    assert!(
        out.status.success(),
        "the report does not validate against junit-10.xsd:\n{}\n{projected}",
        String::from_utf8_lossy(&out.stderr)
    );
    true
}

/// The fake API server as the cluster, run by the real step engine (timeouts of seconds).
pub struct EngineCluster {
    pub client: kube::Client,
    pub fixtures: PathBuf,
}

impl ClusterSource for EngineCluster {
    fn acquire(&self) -> BoxFuture<'_, Availability> {
        async move {
            let mut config =
                EngineConfig::new(self.client.clone(), self.fixtures.clone(), "testrun");
            config.cleanup_timeout = Duration::from_secs(5);
            config.heartbeat_every = Duration::from_millis(200);
            config.default_timeout = Duration::from_secs(5);
            let capabilities = Capabilities {
                server_version: ServerVersion {
                    major: 1,
                    minor: 33,
                    git_version: "v1.33.1".to_string(),
                    platform: "linux/amd64".to_string(),
                },
                nodes: 1,
                schedulable_nodes: 1,
                default_storage_class: Some("standard".to_string()),
                cluster_dns: Some("kube-dns".to_string()),
                architectures: vec!["amd64".to_string()],
            };
            Availability::Ready(ClusterTarget {
                info: ClusterInfo {
                    context: "fake".to_string(),
                    server_version: "1.33 (v1.33.1)".to_string(),
                    emulated: false,
                },
                summary: "the fake API server".to_string(),
                executor: Arc::new(EngineExecutor::new(config, capabilities)),
                teardown: None,
            })
        }
        .boxed()
    }
}
