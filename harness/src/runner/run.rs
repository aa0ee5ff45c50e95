//! A whole run: find a cluster if a selected trial needs one, run the trials through
//! libtest-mimic on one shared tokio runtime, tear down, and write the reports.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use libtest_mimic::{Arguments, Conclusion, Trial};

use super::backend::{Availability, ClusterSource};
use super::entries::{Content, SuiteEntry};
use super::interrupt::Interrupt;
use super::labels::LabelFilter;
use super::nextest::{self, Nextest, Plan};
use super::settings::{RunSettings, SettingsError};
use super::trial::{Backend, RunContext, trial};
use crate::events::{Event, EventSink};
use crate::report::{Behaviour, CoverageReporter, Reporters, TerminalReporter, Written};

/// Exit code of a run stopped by Ctrl-C (128 + SIGINT, as shells report it).
const INTERRUPTED: u8 = 130;

/// What a run is made of, besides the command line and the cluster.
#[derive(Debug)]
pub struct RunInput {
    pub suite: Vec<SuiteEntry>,
    /// The suite's behaviours; `None` when it has no catalogue.
    pub catalogue: Option<Vec<Behaviour>>,
    /// Settings, or why they could not be read (then every scenario fails with that reason,
    /// and the reports still go to the default paths).
    pub settings: Result<RunSettings, (SettingsError, RunSettings)>,
}

/// What a run did.
#[derive(Debug)]
pub struct RunOutcome {
    /// libtest-mimic's counts; `None` for `--list`.
    pub conclusion: Option<Conclusion>,
    pub exit_code: ExitCode,
    pub written: Vec<Written>,
    pub interrupted: bool,
}

/// Runs the suite as `args` select, against whatever `source` finds.
pub fn run(args: &Arguments, input: RunInput, source: &dyn ClusterSource) -> RunOutcome {
    run_with(args, input, source, |_| {})
}

/// Like [`run`], calling `started` with the run's stop switch once trials are about to run
/// (tests use it to interrupt a run the way Ctrl-C does).
pub fn run_with(
    args: &Arguments,
    input: RunInput,
    source: &dyn ClusterSource,
    started: impl FnOnce(&Interrupt),
) -> RunOutcome {
    let mut input = input;
    let labels = match &input.settings {
        Ok(settings) | Err((_, settings)) => settings.labels.clone(),
    };
    let left_out = select_by_labels(&mut input.suite, &labels);
    if args.list {
        if let Some(nextest) = nextest_of(&input.settings) {
            return super::nextest::list(args, input, source, &nextest);
        }
        let trials = input
            .suite
            .iter()
            .map(|entry| Trial::test(entry.trial_name(), || Ok(())))
            .collect();
        let _ = libtest_mimic::run(args, trials);
        return RunOutcome {
            conclusion: None,
            exit_code: ExitCode::SUCCESS,
            written: Vec::new(),
            interrupted: false,
        };
    }
    let (mut settings, settings_error) = match input.settings {
        Ok(settings) => (settings, None),
        Err((error, defaults)) => (defaults, Some(error)),
    };
    let trial_name = settings.nextest.as_ref().map(|_| nextest::trial_of(args));
    let plan = settings.nextest.as_ref().and_then(|nextest| {
        let run_id = nextest.run_id.as_deref()?;
        Plan::read(&Plan::path(&settings.reports_dir), run_id)
    });
    let no_plan = BTreeMap::new();
    let listed_ignored = plan.as_ref().map_or(&no_plan, |p| &p.ignored);
    if let Some(trial) = &trial_name {
        // One process per trial: each writes its own reports, never another's.
        settings.reports_dir = nextest::trial_reports_dir(&settings.reports_dir, trial);
        settings.junit = settings.reports_dir.join("junit.xml");
    }
    let declared = input.suite.iter().map(|e| (e.id.clone(), e.covers()));
    let reporters = Arc::new(Reporters::new(
        TerminalReporter::stdout(settings.verbose || args.nocapture),
        CoverageReporter::for_catalogue(input.catalogue, declared),
        settings.junit.clone(),
        settings.reports_dir.clone(),
    ));
    if left_out > 0 {
        reporters.terminal.print(&format!(
            "{left_out} scenario(s) left out: their labels do not match {labels}"
        ));
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("petset")
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("petset: failed to start the async runtime: {err}");
            let written = finish_reports(&reporters);
            return RunOutcome {
                conclusion: None,
                exit_code: ExitCode::FAILURE,
                written,
                interrupted: false,
            };
        }
    };
    let handle = runtime.handle().clone();
    let interrupt = Interrupt::new();
    interrupt.listen_for_ctrl_c(&handle);
    let run_started = Instant::now();

    let availability = match settings_error {
        Some(error) => Availability::Failed {
            message: error.to_string(),
        },
        None if needs_cluster(args, &input.suite, listed_ignored) => {
            match plan.as_ref().and_then(Plan::availability) {
                // The nextest listing found no cluster (or not the one asked for): every
                // trial process of the run starts from that instead of looking again.
                Some(decided) => decided,
                None => handle.block_on(acquire(source, settings.acquire_deadline, &interrupt)),
            }
        }
        None => Availability::Unavailable {
            reason: "no cluster needed".to_string(),
            detail: String::new(),
        },
    };
    let (backend, cluster, teardown) = match availability {
        Availability::Ready(target) => {
            reporters
                .terminal
                .print(&format!("cluster: {}", target.summary));
            (
                Backend::Ready(target.executor),
                Some(target.info),
                target.teardown,
            )
        }
        Availability::Unavailable { reason, detail } => {
            if !detail.is_empty() {
                reporters.terminal.print(&detail);
            }
            (Backend::Unavailable(reason), None, None)
        }
        Availability::Failed { message } => {
            reporters
                .terminal
                .print(&format!("petset: cluster scenarios cannot run: {message}"));
            (Backend::Failed(message), None, None)
        }
    };
    reporters.emit(Event::RunStarted {
        run_id: settings.run_id.clone(),
        cluster,
    });

    let context = Arc::new(RunContext {
        handle: handle.clone(),
        reports: reporters.clone(),
        gate: tokio::sync::RwLock::new(()),
        interrupt: interrupt.clone(),
        settings,
        backend,
        fail_fast_stop: std::sync::OnceLock::new(),
    });
    let trials = input
        .suite
        .into_iter()
        .map(|entry| {
            // Under nextest the trials the listing marked ignored stay so, so that nextest's
            // `--ignored` selects the same trials here as in its list.
            let ignored = listed_ignored.contains_key(&entry.trial_name());
            trial(context.clone(), entry).with_ignored_flag(ignored)
        })
        .collect();
    started(&interrupt);
    let conclusion = libtest_mimic::run(args, trials);
    reporters.emit(Event::RunFinished {
        elapsed: run_started.elapsed(),
    });

    drop(context);
    if let Some(teardown) = teardown {
        let bounded = async { tokio::time::timeout(Duration::from_secs(300), teardown()).await };
        match handle.block_on(bounded) {
            Ok(Ok(done)) if !done.is_empty() => reporters.terminal.print(&done),
            Ok(Ok(_)) => {}
            Ok(Err(err)) => eprintln!("petset: failed to tear down the cluster: {err}"),
            Err(_) => eprintln!("petset: failed to tear down the cluster within 5m"),
        }
    }
    let written = finish_reports(&reporters);
    let interrupted = interrupt.is_triggered();
    // Tasks left behind by abandoned cleanup must not keep the process alive.
    runtime.shutdown_timeout(Duration::from_secs(5));

    let exit_code = if interrupted {
        ExitCode::from(INTERRUPTED)
    } else if conclusion.has_failed() {
        conclusion.exit_code()
    } else if let Some(trial) = trial_name.filter(|_| !ran_every_selected(&conclusion)) {
        eprintln!(
            "petset: cargo-nextest started this process for `{trial}`, which did not run \
             ({} ignored, {} filtered out); failing rather than passing\n{}",
            conclusion.num_ignored,
            conclusion.num_filtered_out,
            nextest::NOT_RUN_FAILS
        );
        ExitCode::FAILURE
    } else if written.is_empty() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    };
    RunOutcome {
        conclusion: Some(conclusion),
        exit_code,
        written,
        interrupted,
    }
}

/// Writes the reports and prints the closing summary and their paths; an empty list means
/// they could not be written (the error is printed).
pub(super) fn finish_reports(reporters: &Reporters) -> Vec<Written> {
    reporters.terminal.print(&reporters.closing_text());
    match reporters.finish() {
        Ok(written) => {
            let lines: Vec<String> = written
                .iter()
                .map(|w| format!("{}: {}", w.what, display(&w.path)))
                .collect();
            reporters.terminal.print(&lines.join("\n"));
            written
        }
        Err(err) => {
            eprintln!("petset: {}", crate::error_chain::chain(&err));
            Vec::new()
        }
    }
}

fn display(path: &std::path::Path) -> String {
    let here: Option<PathBuf> = std::env::current_dir().ok();
    match here.as_deref().and_then(|h| path.strip_prefix(h).ok()) {
        Some(relative) => relative.display().to_string(),
        None => path.display().to_string(),
    }
}

/// Under nextest a process passes only when it ran its trial and the trial passed: nothing
/// ignored, something run.
fn ran_every_selected(conclusion: &Conclusion) -> bool {
    conclusion.num_ignored == 0 && conclusion.num_passed > 0
}

/// The nextest run this process belongs to, if any.
fn nextest_of(settings: &Result<RunSettings, (SettingsError, RunSettings)>) -> Option<Nextest> {
    match settings {
        Ok(settings) | Err((_, settings)) => settings.nextest.clone(),
    }
}

/// Keeps the scenarios whose labels `filter` selects, and every file that could not be read
/// (a broken file is never left out silently); returns how many were left out.
fn select_by_labels(suite: &mut Vec<SuiteEntry>, filter: &LabelFilter) -> usize {
    let before = suite.len();
    suite.retain(|entry| match &entry.content {
        Content::Valid(scenario) => filter.selects(&scenario.labels),
        Content::Invalid { .. } => true,
    });
    before - suite.len()
}

/// Whether any trial the arguments select to run is one that needs a cluster; `ignored` names
/// the trials marked ignored (which only `--ignored`/`--include-ignored` run).
pub(super) fn needs_cluster(
    args: &Arguments,
    suite: &[SuiteEntry],
    ignored: &BTreeMap<String, String>,
) -> bool {
    suite.iter().any(|entry| {
        let name = entry.trial_name();
        let is_ignored = ignored.contains_key(&name);
        let probe = Trial::test(name, || Ok(())).with_ignored_flag(is_ignored);
        matches!(entry.content, Content::Valid(_))
            && !args.is_filtered_out(&probe)
            && !args.is_ignored(&probe)
    })
}

pub(super) async fn acquire(
    source: &dyn ClusterSource,
    deadline: Duration,
    interrupt: &Interrupt,
) -> Availability {
    tokio::select! {
        found = tokio::time::timeout(deadline, source.acquire()) => match found {
            Ok(availability) => availability,
            Err(_) => Availability::Failed {
                message: format!(
                    "failed to get a cluster within {}",
                    super::attempt::human(deadline)
                ),
            },
        },
        () = interrupt.triggered() => Availability::Unavailable {
            reason: "not run: interrupted while looking for a cluster".to_string(),
            detail: String::new(),
        },
    }
}
