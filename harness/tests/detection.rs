//! The detection run: the shipped suite against the fake API server's controller emulation.
//! With no fault switch on, every scenario the emulation supports must pass; with each switch
//! on, at least one of the scenarios relevant to it must fail. Writes `reports/detection.md`.

// Test setup: a failure here is a failure of the run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use petset::engine::{EngineConfig, ScenarioRun, run_scenario};
use petset::events::{Event, EventSink, ScenarioOutcome};
use petset::scenario::{LoadedScenario, load_suite};
use petset_fakeapi::FakeApiServer;
use petset_fakeapi::emulation::{Backend, Emulation, EmulationConfig, Fault};

mod detection_support;
mod support;

use detection_support::mariadb_backend::MariaDbBackend;

/// Scenarios the emulation cannot run, with the reason.
const UNSUPPORTED: &[(&str, &str)] = &[];

/// Per switch: the scenarios that exercise the broken behaviour, and words the failure message
/// of at least one of them must all mention, specific enough that an unrelated failure (a
/// refused login, a timeout elsewhere) does not count as catching the switch.
fn relevant(fault: Fault) -> (&'static [&'static str], &'static [&'static str]) {
    match fault {
        Fault::PodsCreatedOutOfOrder => (
            &["statefulset/ordered-scaling"],
            &["was created at", "expected creation order"],
        ),
        Fault::ScaleDownForwardOrder => (
            &["statefulset/ordered-scaling"],
            &["was deleted at", "expected deletion order"],
        ),
        Fault::NewClaimOnRecreate => (
            &[
                "storage/data-survives-pod-deletion",
                "storage/claims-survive-scaling",
            ],
            &["www-web-"],
        ),
        Fault::ClaimsDeletedOnScaleDown => (
            &["storage/claims-survive-scaling"],
            &["persistentvolumeclaims"],
        ),
        Fault::PodRenamedOnRecreate => (&["storage/data-survives-pod-deletion"], &["web-1"]),
        Fault::HeadlessGetsClusterIp => (&["dns/headless-and-clusterip"], &["clusterIP"]),
        Fault::PodDnsNameMissing => (&["dns/pod-names"], &["web-1.web"]),
        Fault::RolloutExceedsMaxSurge => (
            &["deployment/rolling-update-bounds"],
            &["expected at most 4"],
        ),
        Fault::ReplicaWritable => (
            &["mysql/replication"],
            &["failed to match the rows", "@@read_only", "mysql-1"],
        ),
        Fault::ReplicationStopped => (
            &["mysql/replication"],
            &["failed to see matching rows", "SELECT body FROM messages"],
        ),
        Fault::PodNeverReady => (&["statefulset/ordered-scaling"], &["1/3 ready"]),
    }
}

struct Quiet;

impl EventSink for Quiet {
    fn emit(&self, _event: Event) {}
}

#[derive(Debug, Clone)]
struct Outcome {
    id: String,
    passed: bool,
    message: String,
    elapsed: Duration,
}

async fn run_one(
    loaded: &LoadedScenario,
    root: &Path,
    config: EmulationConfig,
    fault: Option<Fault>,
    cap: Option<Duration>,
) -> Outcome {
    let server = FakeApiServer::start()
        .await
        .expect("fake API server starts");
    // Real MariaDB servers behind the mysql pods; dropped (and stopped) when the run ends.
    let backend: Option<Arc<dyn Backend>> = (loaded.id.area == "mysql").then(|| {
        let backend = MariaDbBackend::new(server.handle(), fault).expect("the MariaDB backend");
        Arc::new(backend) as Arc<dyn Backend>
    });
    let emulation = Emulation::start(&server.handle(), config, backend);
    let kube_config = kube::Config::new(server.url().parse().expect("the fake's URL parses"));
    let client = petset::cluster::client_from_config(kube_config).expect("a client for the fake");
    let mut engine = EngineConfig::new(client, root.join("fixtures"), "detection");
    engine.cleanup_timeout = Duration::from_secs(30);
    let mut scenario = loaded.scenario.clone();
    if let Some(cap) = cap {
        scenario.timeout.0 = scenario.timeout.0.min(cap);
    }
    let run = ScenarioRun {
        id: &loaded.id,
        file: &loaded.path,
        scenario: &scenario,
        attempt: 1,
    };
    let result = run_scenario(&engine, run, &Quiet).await;
    let id = format!("{}/{}", loaded.id.area, loaded.id.name);
    let (passed, message) = match result.outcome {
        ScenarioOutcome::Passed => (true, String::new()),
        ScenarioOutcome::Failed(f) => (false, format!("{}\n{}", f.message, f.actual)),
        ScenarioOutcome::Ignored { reason } => (false, format!("ignored: {reason}")),
    };
    drop(emulation);
    server.shutdown();
    Outcome {
        id,
        passed,
        message,
        elapsed: result.elapsed,
    }
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or("").replace('|', "\\|")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_catches_every_fault_switch() {
    let started = Instant::now();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let suite = load_suite(&root).expect("the suite loads");
    assert!(suite.problems.is_empty(), "the shipped suite has problems");
    let unsupported: BTreeMap<&str, &str> = UNSUPPORTED.iter().copied().collect();
    let id = |l: &LoadedScenario| format!("{}/{}", l.id.area, l.id.name);
    let supported: Vec<&LoadedScenario> = suite
        .scenarios
        .iter()
        .filter(|l| !unsupported.contains_key(id(l).as_str()))
        .collect();

    // Clean run: everything supported, concurrently.
    let clean: Vec<Outcome> = futures::future::join_all(
        supported
            .iter()
            .map(|l| run_one(l, &root, EmulationConfig::default(), None, None)),
    )
    .await;
    let clean_time = started.elapsed();

    // Fault runs: per switch, the relevant supported scenarios, capped at 2 minutes each.
    let mut jobs = Vec::new();
    for fault in Fault::ALL {
        let (scenarios, _) = relevant(fault);
        for name in scenarios {
            if let Some(l) = supported.iter().find(|l| id(l) == *name) {
                jobs.push((fault, *l));
            }
        }
    }
    let root_ref = &root;
    let fault_outcomes: Vec<(Fault, Outcome)> =
        futures::future::join_all(jobs.iter().map(|(fault, l)| async move {
            (
                *fault,
                run_one(
                    l,
                    root_ref,
                    EmulationConfig::with_fault(*fault),
                    Some(*fault),
                    Some(Duration::from_secs(120)),
                )
                .await,
            )
        }))
        .await;

    // Report.
    let mut md = String::from(
        "# Detection run\n\nThe shipped scenarios against the fake API server's controller emulation (`cargo test -p petset --test detection`).\n\n## Fault switches\n\n| switch | scenarios run | caught by | failure (first line) |\n| --- | --- | --- | --- |\n",
    );
    let mut caught_count = 0;
    let mut missed = Vec::new();
    let mut unexercised = Vec::new();
    for fault in Fault::ALL {
        let (_, must_mention) = relevant(fault);
        let runs: Vec<&Outcome> = fault_outcomes
            .iter()
            .filter(|(f, _)| *f == fault)
            .map(|(_, o)| o)
            .collect();
        let catchers: Vec<&Outcome> = runs
            .iter()
            .copied()
            .filter(|o| !o.passed && must_mention.iter().all(|word| o.message.contains(word)))
            .collect();
        let ran = if runs.is_empty() {
            "none (needs an unsupported scenario)".to_string()
        } else {
            runs.iter()
                .map(|o| o.id.clone())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if runs.is_empty() {
            unexercised.push(fault.name());
            md.push_str(&format!(
                "| {} | {ran} | not exercised | - |\n",
                fault.name()
            ));
        } else if catchers.is_empty() {
            missed.push(fault.name());
            let why = runs
                .iter()
                .map(|o| {
                    if o.passed {
                        format!("{} passed", o.id)
                    } else {
                        format!("{}: {}", o.id, first_line(&o.message))
                    }
                })
                .collect::<Vec<_>>()
                .join("; ");
            md.push_str(&format!(
                "| {} | {ran} | **not caught** | {why} |\n",
                fault.name()
            ));
        } else {
            caught_count += 1;
            let by = catchers
                .iter()
                .map(|o| o.id.clone())
                .collect::<Vec<_>>()
                .join(", ");
            md.push_str(&format!(
                "| {} | {ran} | {by} | {} |\n",
                fault.name(),
                first_line(&catchers[0].message)
            ));
        }
    }
    let exercised = Fault::ALL.len() - unexercised.len();
    let detection = 100.0 * f64::from(caught_count) / exercised.max(1) as f64;
    md.push_str(&format!("\nDetection: {caught_count} of {exercised} exercised switches caught ({detection:.0}%); not exercised (their scenarios are unsupported here): {}.\n\n## Clean run\n\n| scenario | result | time |\n| --- | --- | --- |\n", if unexercised.is_empty() { "none".to_string() } else { unexercised.join(", ") }));
    for o in &clean {
        let result = if o.passed {
            "passed".to_string()
        } else {
            format!("FAILED: {}", first_line(&o.message))
        };
        md.push_str(&format!(
            "| {} | {result} | {:.1}s |\n",
            o.id,
            o.elapsed.as_secs_f64()
        ));
    }
    let total = suite.scenarios.len();
    md.push_str(&format!(
        "\n{} of {total} scenarios run end to end here.\n\n## Not supported by the emulation\n\n",
        clean.len()
    ));
    let unsupported_lines: Vec<String> = UNSUPPORTED
        .iter()
        .map(|(name, why)| format!("- `{name}`: {why}\n"))
        .collect();
    if unsupported_lines.is_empty() {
        md.push_str("None: every shipped scenario runs.\n");
    }
    md.extend(unsupported_lines);
    let elapsed = started.elapsed();
    md.push_str(&format!(
        "\nTotal time: {:.0}s (clean run {:.0}s).\n",
        elapsed.as_secs_f64(),
        clean_time.as_secs_f64()
    ));
    std::fs::create_dir_all(root.join("reports")).expect("reports folder");
    std::fs::write(root.join("reports/detection.md"), &md).expect("report written");
    println!("{md}");
    println!("detection run took {:.1}s", elapsed.as_secs_f64());

    let failed: Vec<String> = clean
        .iter()
        .filter(|o| !o.passed)
        .map(|o| format!("{}: {}", o.id, o.message))
        .collect();
    assert!(
        failed.is_empty(),
        "clean run not green:\n{}",
        failed.join("\n\n")
    );
    assert!(missed.is_empty(), "switches not caught: {missed:?}");
}
