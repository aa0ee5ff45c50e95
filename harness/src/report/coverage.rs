//! The coverage reporter: catalogue behaviour -> scenarios -> passed/failed/ignored.
//!
//! The mapping from behaviours to scenarios comes from what the scenario files declare
//! (`covers:`), so scenarios that were filtered out still show, as "not run"; the results come
//! from the run record the event stream was folded into. Printed at the end of a run and written as Markdown and JSON.
//!
//! A scenario that failed is `failed` when the cluster's behaviour was judged wrong and `error`
//! when petset could not run or judge it (an API error, a failed cleanup, an invalid file), with
//! the failure's kind. Scenarios that never ran because the run could not get its cluster are
//! `not run`, and the setup failure is stated once. Invalid scenario files are listed and
//! counted on their own, since what they cover may be unknown.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use super::error::ReportError;
use super::record::{RunRecord, TrialVerdict, first_line};
use super::setup::setup_failure;
use crate::events::{FailureKind, ScenarioId};

/// One behaviour of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Behaviour {
    pub id: String,
    pub title: String,
}

/// What became of one scenario, as coverage counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Failed,
    /// petset could not run or judge the scenario (see [`FailureKind::is_error`]).
    Error,
    /// Passed after failing (see `PETSET_RETRIES`); counts as passed, and is shown.
    Flaky,
    Passed,
    Ignored,
    NotRun,
    Uncovered,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Failed => "failed",
            Status::Error => "error",
            Status::Flaky => "flaky",
            Status::Passed => "passed",
            Status::Ignored => "ignored",
            Status::NotRun => "not run",
            Status::Uncovered => "uncovered",
        }
    }
}

/// The coverage of one behaviour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BehaviourCoverage {
    pub id: String,
    pub title: String,
    pub status: Status,
    pub scenarios: Vec<ScenarioCoverage>,
}

/// One scenario's part in a behaviour's coverage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScenarioCoverage {
    pub scenario: String,
    pub status: Status,
    /// The kind of failure, for `failed` and `error` (`assertion`, `api`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A scenario file that is not valid, so never ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvalidScenario {
    pub scenario: String,
    pub file: String,
    pub reason: String,
}

/// The whole table, as written to `coverage.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coverage {
    pub summary: BTreeMap<&'static str, usize>,
    pub behaviours: Vec<BehaviourCoverage>,
    /// Ids that scenarios cover but the catalogue does not list.
    pub unknown_ids: Vec<String>,
    /// Why the cluster scenarios did not run, when the run could not get its cluster.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setup_failed: Option<String>,
    pub invalid_scenarios: Vec<InvalidScenario>,
    /// The suite has no catalogue: the rows are the ids its scenarios declare.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub no_catalogue: bool,
    /// The run used petset's in-process emulation, not a Kubernetes cluster.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub emulated: bool,
}

/// Renders the coverage table of a run record against the catalogue and what the scenario
/// files declare.
#[derive(Debug)]
pub struct CoverageReporter {
    /// `None` when the suite has no catalogue.
    catalogue: Option<Vec<Behaviour>>,
    declared: BTreeMap<ScenarioId, Vec<String>>,
}

impl CoverageReporter {
    /// `declared`: every discovered scenario with the ids its file says it covers.
    pub fn new(
        catalogue: Vec<Behaviour>,
        declared: impl IntoIterator<Item = (ScenarioId, Vec<String>)>,
    ) -> Self {
        Self::for_catalogue(Some(catalogue), declared)
    }

    /// Like [`Self::new`]; without a catalogue, one row per id the scenarios declare.
    pub fn for_catalogue(
        catalogue: Option<Vec<Behaviour>>,
        declared: impl IntoIterator<Item = (ScenarioId, Vec<String>)>,
    ) -> Self {
        Self {
            catalogue,
            declared: declared.into_iter().collect(),
        }
    }

    pub fn coverage(&self, record: &RunRecord) -> Coverage {
        let declared_ids = || {
            let ids: std::collections::BTreeSet<&String> =
                self.declared.values().flatten().collect();
            ids.into_iter()
                .map(|id| Behaviour {
                    id: id.clone(),
                    title: String::new(),
                })
                .collect::<Vec<_>>()
        };
        let catalogue = self.catalogue.clone().unwrap_or_else(declared_ids);
        let mut coverage = compute(&catalogue, &self.declared, record);
        coverage.no_catalogue = self.catalogue.is_none();
        coverage.emulated = record.cluster.as_ref().is_some_and(|c| c.emulated);
        coverage
    }

    /// Writes `coverage.md` and `coverage.json` into `dir`.
    pub fn write(&self, record: &RunRecord, dir: &Path) -> Result<(), ReportError> {
        let coverage = self.coverage(record);
        super::write_file(&dir.join("coverage.md"), &markdown(&coverage))?;
        let json = serde_json::to_string_pretty(&coverage)
            .map_err(|source| ReportError::Json { source })?;
        super::write_file(&dir.join("coverage.json"), &(json + "\n"))
    }
}

/// Joins the declared mapping with the results.
pub fn compute(
    catalogue: &[Behaviour],
    declared: &BTreeMap<ScenarioId, Vec<String>>,
    record: &RunRecord,
) -> Coverage {
    let mut by_id: BTreeMap<&str, Vec<ScenarioCoverage>> = BTreeMap::new();
    let mut covers_of: BTreeMap<&ScenarioId, Vec<&str>> = BTreeMap::new();
    for (id, covers) in declared {
        covers_of
            .entry(id)
            .or_default()
            .extend(covers.iter().map(String::as_str));
    }
    // A scenario the events know but the declaration does not (e.g. an invalid file whose
    // covers could not be read) still counts for what its events say it covers.
    for (id, scenario) in &record.scenarios {
        let list = covers_of.entry(id).or_default();
        for cover in &scenario.covers {
            if !list.contains(&cover.as_str()) {
                list.push(cover);
            }
        }
    }
    let mut invalid_scenarios = Vec::new();
    for (id, covers) in covers_of {
        let (status, kind, reason) = match record.scenarios.get(id) {
            None => (Status::NotRun, None, None),
            Some(scenario) => match scenario.verdict() {
                TrialVerdict::Passed => (Status::Passed, None, None),
                TrialVerdict::Flaky(_) => (Status::Flaky, None, None),
                // Stated once for the run, not per scenario.
                TrialVerdict::Failed(failure) if failure.kind == FailureKind::Setup => {
                    (Status::NotRun, Some(failure.kind.as_str()), None)
                }
                TrialVerdict::Failed(failure) => {
                    let line = first_line(&failure.message).to_string();
                    if failure.kind == FailureKind::InvalidScenario {
                        // The first diagnostic (file:line:column and what is wrong) says more
                        // than "not a valid scenario".
                        let first = failure.diagnostics.lines().find(|l| !l.trim().is_empty());
                        invalid_scenarios.push(InvalidScenario {
                            scenario: id.to_string(),
                            file: scenario.file.display().to_string(),
                            reason: first.map_or_else(|| line.clone(), |l| l.trim().to_string()),
                        });
                    }
                    let status = if failure.kind.is_error() {
                        Status::Error
                    } else {
                        Status::Failed
                    };
                    (status, Some(failure.kind.as_str()), Some(line))
                }
                TrialVerdict::Ignored(reason) => (Status::Ignored, None, Some(reason.to_string())),
                TrialVerdict::Unfinished => {
                    (Status::Error, None, Some("did not finish".to_string()))
                }
            },
        };
        for cover in covers {
            by_id.entry(cover).or_default().push(ScenarioCoverage {
                scenario: id.to_string(),
                status,
                kind,
                reason: reason.clone(),
            });
        }
    }
    let mut behaviours = Vec::new();
    for behaviour in catalogue {
        let scenarios = by_id.remove(behaviour.id.as_str()).unwrap_or_default();
        behaviours.push(BehaviourCoverage {
            id: behaviour.id.clone(),
            title: behaviour.title.clone(),
            status: overall(&scenarios),
            scenarios,
        });
    }
    let unknown_ids: Vec<String> = by_id.keys().map(|id| id.to_string()).collect();
    let mut summary = BTreeMap::new();
    summary.insert("behaviours", behaviours.len());
    for status in [
        Status::Passed,
        Status::Flaky,
        Status::Failed,
        Status::Error,
        Status::Ignored,
        Status::NotRun,
        Status::Uncovered,
    ] {
        let key = match status {
            Status::NotRun => "not-run",
            other => other.as_str(),
        };
        summary.insert(
            key,
            behaviours.iter().filter(|b| b.status == status).count(),
        );
    }
    summary.insert("invalid-scenarios", invalid_scenarios.len());
    Coverage {
        summary,
        behaviours,
        unknown_ids,
        setup_failed: setup_failure(record)
            .map(|(failure, _)| first_line(&failure.message).to_string()),
        invalid_scenarios,
        no_catalogue: false,
        emulated: false,
    }
}

/// A behaviour fails if any of its scenarios failed; it is in error if one could not be judged
/// and none failed; it passes if one passed and none failed or erred.
fn overall(scenarios: &[ScenarioCoverage]) -> Status {
    if scenarios.is_empty() {
        return Status::Uncovered;
    }
    let has = |status| scenarios.iter().any(|s| s.status == status);
    if has(Status::Failed) {
        Status::Failed
    } else if has(Status::Error) {
        Status::Error
    } else if has(Status::Passed) {
        Status::Passed
    } else if has(Status::Flaky) {
        Status::Flaky
    } else if has(Status::Ignored) {
        Status::Ignored
    } else {
        Status::NotRun
    }
}

/// The Markdown report.
pub fn markdown(coverage: &Coverage) -> String {
    let mut out = String::from("# petset coverage\n\n");
    if coverage.emulated {
        out = format!("# petset coverage, on an EMULATED cluster\n\n**{EMULATED_NOTE}**\n\n");
    }
    if coverage.no_catalogue {
        let _ = writeln!(out, "{NO_CATALOGUE_NOTE}\n");
    }
    let _ = writeln!(out, "{}\n", summary_line(coverage));
    if let Some(setup) = &coverage.setup_failed {
        let _ = writeln!(out, "**{setup}**\n");
    }
    out.push_str("| Behaviour | Status | Scenarios | What it means |\n");
    out.push_str("| --- | --- | --- | --- |\n");
    for behaviour in &coverage.behaviours {
        let scenarios = if behaviour.scenarios.is_empty() {
            "—".to_string()
        } else {
            behaviour
                .scenarios
                .iter()
                .map(|s| format!("`{}` {}", s.scenario, s.status.as_str()))
                .collect::<Vec<_>>()
                .join("<br>")
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            behaviour.id,
            behaviour.status.as_str(),
            scenarios,
            behaviour.title.replace('|', "\\|")
        );
    }
    if !coverage.unknown_ids.is_empty() {
        let _ = writeln!(
            out,
            "\nCovered by scenarios but not in the catalogue: {}",
            coverage.unknown_ids.join(", ")
        );
    }
    if !coverage.invalid_scenarios.is_empty() {
        out.push_str("\n## Invalid scenarios\n\n");
        out.push_str("Not run: these files are not valid scenarios (`petset lint` says why).\n\n");
        for invalid in &coverage.invalid_scenarios {
            let _ = writeln!(
                out,
                "- `{}` ({}): {}",
                invalid.scenario, invalid.file, invalid.reason
            );
        }
    }
    let reasons: Vec<String> = coverage
        .behaviours
        .iter()
        .flat_map(|b| b.scenarios.iter())
        .filter_map(|s| s.reason.as_ref().map(|r| (s, r)))
        .map(|(s, r)| match s.kind {
            Some(kind) => format!("- `{}` {} ({kind}): {}", s.scenario, s.status.as_str(), r),
            None => format!("- `{}` {}: {}", s.scenario, s.status.as_str(), r),
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if !reasons.is_empty() {
        out.push_str("\n## Why\n\n");
        for line in reasons {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

/// Said wherever coverage from an emulated run is shown.
const EMULATED_NOTE: &str = "This run used petset's in-process emulation, not a Kubernetes \
     cluster: it shows the scenarios and petset work, not that a cluster behaves so.";

/// Said when the suite has no catalogue.yaml.
const NO_CATALOGUE_NOTE: &str = "This suite has no catalogue (catalogue.yaml): the rows are the \
     ids its scenarios name in `covers`.";

/// The table as printed at the end of a run.
pub fn text(coverage: &Coverage) -> String {
    let mut out = String::from("coverage:\n");
    if coverage.emulated {
        out = format!("coverage (EMULATED cluster): {EMULATED_NOTE}\n");
    }
    if coverage.no_catalogue {
        let _ = writeln!(out, "  {NO_CATALOGUE_NOTE}");
    }
    let width = coverage
        .behaviours
        .iter()
        .map(|b| b.id.len())
        .max()
        .unwrap_or(0);
    for behaviour in &coverage.behaviours {
        let scenarios: Vec<String> = behaviour
            .scenarios
            .iter()
            .map(|s| format!("{} ({})", s.scenario, s.status.as_str()))
            .collect();
        let _ = writeln!(
            out,
            "  {:width$}  {:9}  {}",
            behaviour.id,
            behaviour.status.as_str(),
            scenarios.join(", ")
        );
    }
    if !coverage.unknown_ids.is_empty() {
        let _ = writeln!(
            out,
            "  not in the catalogue: {}",
            coverage.unknown_ids.join(", ")
        );
    }
    // The terminal summary above has already named the invalid files and a setup failure.
    let _ = writeln!(out, "{}", summary_line(coverage));
    out
}

fn summary_line(coverage: &Coverage) -> String {
    let get = |key| coverage.summary.get(key).copied().unwrap_or(0);
    let mut line = format!(
        "{} behaviours: {} passed, {} flaky, {} failed, {} in error, {} ignored, {} not run, {} \
         uncovered",
        get("behaviours"),
        get("passed"),
        get("flaky"),
        get("failed"),
        get("error"),
        get("ignored"),
        get("not-run"),
        get("uncovered"),
    );
    match get("invalid-scenarios") {
        0 => {}
        1 => line.push_str("; 1 invalid scenario file"),
        n => line.push_str(&format!("; {n} invalid scenario files")),
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cov(status: Status) -> ScenarioCoverage {
        ScenarioCoverage {
            scenario: "a::b".into(),
            status,
            kind: None,
            reason: None,
        }
    }

    #[test]
    fn a_behaviour_takes_its_worst_scenario_but_passes_over_ignored_ones() {
        assert_eq!(overall(&[]), Status::Uncovered);
        assert_eq!(
            overall(&[cov(Status::Passed), cov(Status::Failed)]),
            Status::Failed
        );
        assert_eq!(
            overall(&[cov(Status::Ignored), cov(Status::Passed)]),
            Status::Passed
        );
        assert_eq!(
            overall(&[cov(Status::Flaky), cov(Status::Ignored)]),
            Status::Flaky
        );
        assert_eq!(
            overall(&[cov(Status::NotRun), cov(Status::Ignored)]),
            Status::Ignored
        );
        assert_eq!(overall(&[cov(Status::NotRun)]), Status::NotRun);
        // A scenario that could not be judged keeps its behaviour from passing, but a failed
        // one says more.
        assert_eq!(
            overall(&[cov(Status::Passed), cov(Status::Error)]),
            Status::Error
        );
        assert_eq!(
            overall(&[cov(Status::Error), cov(Status::Failed)]),
            Status::Failed
        );
    }

    #[test]
    fn filtered_out_scenarios_show_as_not_run_and_unknown_ids_are_listed() {
        let catalogue = vec![Behaviour {
            id: "STS-PVC-1".into(),
            title: "one claim per pod".into(),
        }];
        let declared = BTreeMap::from([(
            ScenarioId {
                area: "storage".into(),
                name: "claims".into(),
            },
            vec!["STS-PVC-1".to_string(), "NOT-IN-CATALOGUE".to_string()],
        )]);
        let coverage = compute(&catalogue, &declared, &RunRecord::default());
        assert_eq!(coverage.behaviours[0].status, Status::NotRun);
        assert_eq!(coverage.unknown_ids, ["NOT-IN-CATALOGUE"]);
        assert!(
            markdown(&coverage).contains("| STS-PVC-1 | not run | `storage::claims` not run |")
        );
    }
}
