//! Running under cargo-nextest. nextest lists the suite (`--list --format terse`, once without
//! and once with `--ignored`), then starts one process per trial (`--exact NAME`) and reads only
//! its exit status, so a trial ignored at run time would exit 0 and count as passed.
//!
//! So under nextest petset decides while listing what cannot run here (no cluster, an unmet
//! `requires`) and lists those trials as ignored, which nextest shows as skipped. The listing
//! records that decision in `reports/nextest/plan.json`, keyed by nextest's run id, for the
//! trial processes of the same run: they do not look for the cluster again when the listing
//! found none, and a trial process that cannot run its scenario fails with the reason.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use libtest_mimic::{Arguments, Trial};
use serde::{Deserialize, Serialize};

use super::backend::{Availability, ClusterSource};
use super::entries::{Content, SuiteEntry};
use super::interrupt::Interrupt;
use super::run::{RunInput, RunOutcome, acquire, finish_reports, needs_cluster};
use super::trial::report_unrun;
use crate::events::{Event, EventSink, ScenarioOutcome};
use crate::report::{CoverageReporter, Reporters, TerminalReporter};

/// Why a trial process fails instead of being ignored, for its failure text.
pub(crate) const NOT_RUN_FAILS: &str = "(under cargo-nextest a scenario that cannot run fails \
     instead of being ignored: nextest reads only the exit status, and an ignored trial exits 0 \
     like a passed one; the trials known not to run here when nextest lists the suite are \
     listed as ignored, and nextest skips them)";

/// cargo-nextest started this process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nextest {
    /// `NEXTEST_RUN_ID`: the same for the listing and every trial process of one
    /// `cargo nextest run` (nextest sets it while listing since 0.9.138).
    pub run_id: Option<String>,
}

impl Nextest {
    /// Whether nextest's variables are set, read through `get`.
    pub(crate) fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Option<Self> {
        let value = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let detected = value("NEXTEST").is_some_and(|v| v.trim() == "1")
            || value("NEXTEST_RUN_ID").is_some()
            || value("NEXTEST_EXECUTION_MODE").is_some();
        detected.then(|| Nextest {
            run_id: value("NEXTEST_RUN_ID").map(|v| v.trim().to_string()),
        })
    }

    /// Reads this process's environment.
    pub fn from_env() -> Option<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }
}

/// What the listing decided, for the trial processes of the same nextest run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Plan {
    pub run_id: String,
    pub cluster: PlannedCluster,
    /// The trials listed as ignored, by name, with the reason.
    pub ignored: BTreeMap<String, String>,
}

/// The cluster as the listing found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub(crate) enum PlannedCluster {
    Ready { summary: String },
    Unavailable { reason: String },
    Failed { message: String },
    NotNeeded,
}

impl Plan {
    /// `reports/nextest/plan.json` under the run's reports folder.
    pub(crate) fn path(reports_dir: &Path) -> PathBuf {
        reports_dir.join("nextest").join("plan.json")
    }

    /// Writes the plan under a name of this process's own, then renames it into place, so the
    /// two listings nextest runs at once never leave half a file.
    fn write(&self, path: &Path) -> Result<(), String> {
        let text = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let mut partial = path.as_os_str().to_owned();
        partial.push(format!(".{}.partial", std::process::id()));
        let partial = PathBuf::from(partial);
        std::fs::write(&partial, text).map_err(|e| format!("{}: {e}", partial.display()))?;
        std::fs::rename(&partial, path).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The plan at `path` if it is `run_id`'s; `None` when there is none, it is another run's,
    /// or it cannot be read (the trial process then finds the cluster itself).
    pub(crate) fn read(path: &Path, run_id: &str) -> Option<Self> {
        let text = std::fs::read_to_string(path).ok()?;
        match serde_json::from_str::<Plan>(&text) {
            Ok(plan) if plan.run_id == run_id => Some(plan),
            Ok(_) => None,
            Err(err) => {
                eprintln!("petset: ignoring {}: {err}", path.display());
                None
            }
        }
    }

    /// What a trial process of this run starts from instead of looking for a cluster: the
    /// listing's verdict when it found none (or the wrong one), `None` when it found one.
    pub(crate) fn availability(&self) -> Option<Availability> {
        match &self.cluster {
            PlannedCluster::Unavailable { reason } => Some(Availability::Unavailable {
                reason: reason.clone(),
                detail: String::new(),
            }),
            PlannedCluster::Failed { message } => Some(Availability::Failed {
                message: message.clone(),
            }),
            PlannedCluster::Ready { .. } | PlannedCluster::NotNeeded => None,
        }
    }
}

/// Where one trial process writes its reports: `reports/nextest/<trial>/`, the trial's name
/// with `::` as `__` and anything but letters, digits, `-`, `_` and `.` as `_`, so trial
/// processes running side by side never write the same file.
pub(crate) fn trial_reports_dir(reports_dir: &Path, trial: &str) -> PathBuf {
    let name: String = trial
        .replace("::", "__")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let name = if name.is_empty() || name.chars().all(|c| c == '.') {
        "all".to_string()
    } else {
        name
    };
    reports_dir.join("nextest").join(name)
}

/// The trial a nextest process was started for (`--exact NAME`, else `NEXTEST_TEST_NAME`).
pub(crate) fn trial_of(args: &Arguments) -> String {
    args.filter
        .clone()
        .or_else(|| std::env::var("NEXTEST_TEST_NAME").ok())
        .unwrap_or_default()
}

/// `--list` under nextest: finds the cluster once (connecting only; the cluster source knows
/// not to create one), lists the trials that cannot run here as ignored, records the plan for
/// the trial processes, and writes the reports for what is decided now: skipped trials with
/// their reason, invalid files as failures. Only the listing without `--ignored` writes the
/// reports, so the two listings nextest runs side by side never write the same files.
pub(crate) fn list(
    args: &Arguments,
    input: RunInput,
    source: &dyn ClusterSource,
    nextest: &Nextest,
) -> RunOutcome {
    let (settings, settings_error) = match input.settings {
        Ok(settings) => (settings, None),
        Err((error, defaults)) => (defaults, Some(error)),
    };
    let suite = input.suite;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("petset-list")
        .build();
    let mut availability = match (settings_error, &runtime) {
        (Some(error), _) => Some(Availability::Failed {
            message: error.to_string(),
        }),
        // Both listings decide about every trial, `--ignored` or not.
        (None, _) if !needs_cluster(&without_ignored(args), &suite, &BTreeMap::new()) => None,
        (None, Ok(runtime)) => Some(runtime.block_on(acquire(
            source,
            settings.acquire_deadline,
            &Interrupt::new(),
        ))),
        (None, Err(err)) => Some(Availability::Failed {
            message: format!("failed to start the async runtime: {err}"),
        }),
    };
    // Under nextest the source only connects to a cluster that exists, so this undoes nothing
    // but the connection; it is still the source's to say.
    let teardown = match &mut availability {
        Some(Availability::Ready(target)) => target.teardown.take(),
        _ => None,
    };
    // Standard output is nextest's list; everything else goes to standard error.
    let terminal = TerminalReporter::to(false, Box::new(std::io::stderr()));
    let (cluster, ignored, info) = decide(&suite, availability, &terminal);
    if let (Some(teardown), Ok(runtime)) = (teardown, &runtime) {
        let bounded = async { tokio::time::timeout(Duration::from_secs(60), teardown()).await };
        if let Ok(Err(err)) = runtime.block_on(bounded) {
            eprintln!("petset: failed to let go of the cluster: {err}");
        }
    }
    if let Ok(runtime) = runtime {
        runtime.shutdown_timeout(Duration::from_secs(5));
    }

    if let Some(run_id) = &nextest.run_id {
        let plan = Plan {
            run_id: run_id.clone(),
            cluster,
            ignored: ignored.clone(),
        };
        let path = Plan::path(&settings.reports_dir);
        if let Err(err) = plan.write(&path) {
            eprintln!("petset: failed to write the nextest plan {err}");
        }
    }

    let mut written = Vec::new();
    if !args.ignored {
        let declared = suite.iter().map(|e| (e.id.clone(), e.covers()));
        let reporters = Arc::new(Reporters::new(
            terminal,
            CoverageReporter::for_catalogue(input.catalogue, declared),
            settings.junit.clone(),
            settings.reports_dir.clone(),
        ));
        reporters.emit(Event::RunStarted {
            run_id: settings.run_id.clone(),
            cluster: info,
        });
        for entry in &suite {
            if args.is_filtered_out(&list_trial(entry, &ignored)) {
                continue;
            }
            match (&entry.content, ignored.get(&entry.trial_name())) {
                (Content::Invalid { .. }, _) => {
                    let failure = entry.invalid_failure().unwrap_or_default();
                    report_unrun(reporters.as_ref(), entry, ScenarioOutcome::Failed(failure));
                }
                (Content::Valid(_), Some(reason)) => {
                    let outcome = ScenarioOutcome::Ignored {
                        reason: reason.clone(),
                    };
                    report_unrun(reporters.as_ref(), entry, outcome);
                }
                (Content::Valid(_), None) => {}
            }
        }
        reporters.emit(Event::RunFinished {
            elapsed: Duration::ZERO,
        });
        written = finish_reports(&reporters);
    }

    let trials = suite.iter().map(|e| list_trial(e, &ignored)).collect();
    let _ = libtest_mimic::run(args, trials);
    RunOutcome {
        conclusion: None,
        exit_code: ExitCode::SUCCESS,
        written,
        interrupted: false,
    }
}

fn without_ignored(args: &Arguments) -> Arguments {
    Arguments {
        ignored: false,
        ..args.clone()
    }
}

/// The trial as listed: ignored when the plan says it cannot run here.
fn list_trial(entry: &SuiteEntry, ignored: &BTreeMap<String, String>) -> Trial {
    let name = entry.trial_name();
    let is_ignored = ignored.contains_key(&name);
    Trial::test(name, || Ok(())).with_ignored_flag(is_ignored)
}

/// Which valid trials cannot run, and why: all of them without a cluster, those whose
/// `requires` the cluster does not meet with one. With a cluster that was asked for and could
/// not be had, none: their processes fail with the message. `None`: no listed trial needs one.
fn decide(
    suite: &[SuiteEntry],
    availability: Option<Availability>,
    terminal: &TerminalReporter,
) -> (
    PlannedCluster,
    BTreeMap<String, String>,
    Option<crate::events::ClusterInfo>,
) {
    let mut ignored = BTreeMap::new();
    let valid = suite.iter().filter_map(|entry| match &entry.content {
        Content::Valid(scenario) => Some((entry.trial_name(), scenario)),
        Content::Invalid { .. } => None,
    });
    let Some(availability) = availability else {
        return (PlannedCluster::NotNeeded, ignored, None);
    };
    match availability {
        Availability::Ready(target) => {
            terminal.print(&format!("cluster: {}", target.summary));
            for (name, scenario) in valid {
                if let Some(why) = target.executor.unmet(scenario) {
                    ignored.insert(name, why);
                }
            }
            let summary = target.summary.clone();
            (
                PlannedCluster::Ready { summary },
                ignored,
                Some(target.info),
            )
        }
        Availability::Unavailable { reason, detail } => {
            if !detail.is_empty() {
                terminal.print(&detail);
            }
            for (name, _) in valid {
                ignored.insert(name, reason.clone());
            }
            (PlannedCluster::Unavailable { reason }, ignored, None)
        }
        Availability::Failed { message } => {
            terminal.print(&format!("petset: cluster scenarios cannot run: {message}"));
            (PlannedCluster::Failed { message }, ignored, None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nextest_is_detected_by_its_variables() {
        let with = |vars: &'static [(&'static str, &'static str)]| {
            Nextest::from_lookup(|name| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            })
        };
        assert_eq!(with(&[]), None);
        assert_eq!(with(&[("NEXTEST", "0")]), None);
        assert_eq!(with(&[("NEXTEST", "1")]), Some(Nextest { run_id: None }));
        assert_eq!(
            with(&[("NEXTEST_RUN_ID", "abc")]),
            Some(Nextest {
                run_id: Some("abc".into())
            })
        );
        assert!(with(&[("NEXTEST_EXECUTION_MODE", "process-per-test")]).is_some());
    }

    #[test]
    fn trial_report_folders_do_not_collide_or_escape() {
        let root = Path::new("reports");
        assert_eq!(
            trial_reports_dir(root, "dns::pod-names"),
            Path::new("reports/nextest/dns__pod-names")
        );
        assert_eq!(
            trial_reports_dir(root, "lint::scenarios/x/../y.yaml"),
            Path::new("reports/nextest/lint__scenarios_x_.._y.yaml")
        );
        assert_eq!(
            trial_reports_dir(root, ".."),
            Path::new("reports/nextest/all")
        );
    }

    #[test]
    fn a_plan_is_only_read_back_by_its_own_run() {
        let dir = tempfile::tempdir().unwrap();
        let path = Plan::path(dir.path());
        let plan = Plan {
            run_id: "run-1".into(),
            cluster: PlannedCluster::Unavailable {
                reason: "no Kubernetes cluster".into(),
            },
            ignored: BTreeMap::from([("dns::pod-names".into(), "no Kubernetes cluster".into())]),
        };
        plan.write(&path).unwrap();
        assert_eq!(Plan::read(&path, "run-1"), Some(plan));
        assert_eq!(Plan::read(&path, "run-2"), None);
        std::fs::write(&path, "{not json").unwrap();
        assert_eq!(Plan::read(&path, "run-1"), None);
    }
}
