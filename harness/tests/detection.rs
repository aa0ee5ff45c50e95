//! The detection run: the shipped suite against the fake API server's controller emulation.
//! With no fault switch on, every scenario the emulation supports must pass; with each switch
//! on, a scenario that checks the behaviour it breaks must fail saying so. Every catalogue
//! behaviour has a switch. Writes `reports/detection.md`, a table by behaviour.
//!
//! `PETSET_DETECTION_ROUNDS=5 cargo test -p petset --test detection -- --nocapture` repeats the
//! whole run (clean pass and every switch) five times and counts the flakes: any clean scenario
//! that fails, or any switch that goes uncaught, in any round.

// Test setup: a failure here is a failure of the run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;

use petset::engine::{EngineConfig, ScenarioRun, run_scenario};
use petset::events::{Event, EventSink, ScenarioOutcome};
use petset::scenario::{LoadedScenario, load_suite};
use petset_fakeapi::FakeApiServer;
use petset_fakeapi::emulation::{Backend, Emulation, EmulationConfig, Fault};

mod detection_support;
mod support;

use detection_support::mariadb_backend::MariaDbBackend;
use detection_support::report::{Report, RowResult};
use detection_support::switches::TABLE;

/// Scenarios run at once: enough to keep two cores busy, few enough that the emulation's
/// scaled clock is not starved (a starved tick would blur the windows the faults open).
const CONCURRENCY: usize = 10;
/// A fault run's scenario is cut short after this long. A caught switch usually fails at once,
/// but some catches are a wait or an `eventually` running out (up to 60 s for DNS); the cap stays
/// well above that, so the scenario's own deadline never cuts such a step short and changes its
/// message.
const FAULT_RUN_CAP: Duration = Duration::from_secs(90);

/// Scenarios the emulation cannot run, with the reason.
const UNSUPPORTED: &[(&str, &str)] = &[];

struct Quiet;

impl EventSink for Quiet {
    fn emit(&self, _event: Event) {}
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub id: String,
    pub passed: bool,
    pub message: String,
    pub elapsed: Duration,
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

fn scenario_id(l: &LoadedScenario) -> String {
    format!("{}/{}", l.id.area, l.id.name)
}

/// What one round ran: the clean pass, when its last scenario finished (from the round's start;
/// the clean runs are queued first), and every (switch, scenario) pair.
struct Round {
    clean: Vec<Outcome>,
    clean_wall: Duration,
    faults: Vec<(Fault, Outcome)>,
}

/// One round: the clean pass and every (switch, scenario) pair, `CONCURRENCY` at a time.
async fn round(supported: &[&LoadedScenario], root: &Path) -> Round {
    let round_started = Instant::now();
    let mut jobs: Vec<(Option<Fault>, &LoadedScenario)> =
        supported.iter().map(|l| (None, *l)).collect();
    for row in TABLE {
        for name in row.scenarios {
            if let Some(l) = supported.iter().find(|l| scenario_id(l) == *name)
                && !jobs
                    .iter()
                    .any(|(f, j)| *f == Some(row.fault) && scenario_id(j) == *name)
            {
                jobs.push((Some(row.fault), *l));
            }
        }
    }
    let outcomes: Vec<(Option<Fault>, Outcome, Duration)> = futures::stream::iter(jobs)
        .map(|(fault, l)| async move {
            let outcome = match fault {
                None => run_one(l, root, EmulationConfig::default(), None, None).await,
                Some(f) => {
                    run_one(
                        l,
                        root,
                        EmulationConfig::with_fault(f),
                        Some(f),
                        Some(FAULT_RUN_CAP),
                    )
                    .await
                }
            };
            (fault, outcome, round_started.elapsed())
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let mut clean = Vec::new();
    let mut clean_wall = Duration::ZERO;
    let mut faults = Vec::new();
    for (fault, outcome, done_at) in outcomes {
        match fault {
            None => {
                clean_wall = clean_wall.max(done_at);
                clean.push(outcome);
            }
            Some(f) => faults.push((f, outcome)),
        }
    }
    clean.sort_by(|a, b| a.id.cmp(&b.id));
    Round {
        clean,
        clean_wall,
        faults,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_catches_every_fault_switch() {
    let started = Instant::now();
    let rounds: usize = std::env::var("PETSET_DETECTION_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1)
        .max(1);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let suite = load_suite(&root).expect("the suite loads");
    assert!(suite.problems.is_empty(), "the shipped suite has problems");
    assert!(
        suite.catalogue.is_some(),
        "the shipped suite has its behaviour catalogue"
    );
    let unsupported: BTreeMap<&str, &str> = UNSUPPORTED.iter().copied().collect();
    let supported: Vec<&LoadedScenario> = suite
        .scenarios
        .iter()
        .filter(|l| !unsupported.contains_key(scenario_id(l).as_str()))
        .collect();

    let mut report = Report::new(&suite, UNSUPPORTED);
    for r in 0..rounds {
        let round_started = Instant::now();
        let Round {
            clean,
            clean_wall,
            faults,
        } = round(&supported, &root).await;
        for row in TABLE {
            let runs: Vec<&Outcome> = faults
                .iter()
                .filter(|(f, o)| *f == row.fault && row.scenarios.contains(&o.id.as_str()))
                .map(|(_, o)| o)
                .collect();
            let result = if runs.is_empty() {
                RowResult::NotExercised
            } else if let Some(catcher) = runs
                .iter()
                .find(|o| !o.passed && row.words.iter().all(|w| o.message.contains(w)))
            {
                RowResult::Caught {
                    by: catcher.id.clone(),
                    message: catcher.message.clone(),
                }
            } else {
                RowResult::Missed {
                    runs: runs.iter().map(|o| (*o).clone()).collect(),
                }
            };
            report.record_row(row, result);
        }
        report.record_clean(clean, clean_wall);
        println!(
            "detection round {} of {rounds} took {:.1}s",
            r + 1,
            round_started.elapsed().as_secs_f64()
        );
    }
    let md = report.render(rounds, started.elapsed());
    std::fs::create_dir_all(root.join("reports")).expect("reports folder");
    std::fs::write(root.join("reports/detection.md"), &md).expect("report written");
    println!("{md}");

    let problems = report.problems();
    assert!(
        problems.is_empty(),
        "detection run failed:\n{}",
        problems.join("\n")
    );
}
