//! The event stream between the runner and its reporters.
//!
//! The executor and the runner emit [`Event`]s; one aggregator
//! ([`RunAggregator`](crate::report::RunAggregator)) folds them into the run record, and the
//! terminal, JUnit and coverage reporters render from that. Nothing a reporter needs may be
//! reachable any other way, so that every report says the same thing.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

pub use petset_scenario::ScenarioId;

/// Where the run happens, for report properties.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterInfo {
    pub context: String,
    pub server_version: String,
    /// The run used petset's in-process emulation (`PETSET_CLUSTER=emulated`), not a cluster.
    pub emulated: bool,
}

/// A measured figure, e.g. replication lag, reported as a JUnit property and in the terminal.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub name: String,
    pub value: f64,
    pub unit: &'static str,
}

/// What kind of problem ended a scenario: whether the cluster did something wrong, or petset
/// could not find out. JUnit writes the first two kinds as `<failure>` and the rest as
/// `<error>`, each with the kind as its `type`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FailureKind {
    /// The scenario's expectation did not hold: the cluster behaved wrongly, or did not get
    /// there within the step's own timeout.
    #[default]
    Assertion,
    /// The scenario's `timeout:` (or a step's hard limit) ran out before it finished.
    Deadline,
    /// petset could not use the cluster's API: server errors after retries, no answer, a lost
    /// connection, access forbidden. Says nothing about the behaviour under test.
    Api,
    /// The scenario's cleanup failed: its namespace, nodes or volumes may be left behind.
    Cleanup,
    /// The run could not get the cluster it was asked to use (or its settings were wrong), so
    /// the scenario never ran.
    Setup,
    /// The scenario file is not valid, so it never ran.
    InvalidScenario,
    /// The run was stopped (Ctrl-C) while the scenario ran.
    Interrupted,
    /// A bug in petset itself (a panic).
    Internal,
}

impl FailureKind {
    /// The stable name, used as the JUnit `type` and in coverage: `assertion`, `api`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Assertion => "assertion",
            FailureKind::Deadline => "deadline",
            FailureKind::Api => "api",
            FailureKind::Cleanup => "cleanup",
            FailureKind::Setup => "setup",
            FailureKind::InvalidScenario => "invalid-scenario",
            FailureKind::Interrupted => "interrupted",
            FailureKind::Internal => "internal",
        }
    }

    /// Whether this is an error (petset could not run or judge the scenario) rather than a
    /// failure (the cluster's behaviour was judged, and it was wrong or too slow).
    pub fn is_error(self) -> bool {
        !matches!(self, FailureKind::Assertion | FailureKind::Deadline)
    }
}

impl std::fmt::Display for FailureKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a step failed, with everything needed to diagnose it without rerunning.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Failure {
    /// What kind of problem this is; set where the failure arises.
    pub kind: FailureKind,
    /// One line naming what failed, e.g. `step 4 (wait sts/web for rolledOut): timed out after 2m`.
    pub message: String,
    /// What was expected, as text (YAML or prose).
    pub expected: String,
    /// What was observed, as text; a field-level diff where one exists.
    pub actual: String,
    /// The recorded timeline of the scenario's namespace, one line per entry.
    pub timeline: String,
    /// Namespace events, statuses of non-ready pods, log tails.
    pub diagnostics: String,
}

impl Failure {
    /// A failure with only its one-line message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            ..Self::default()
        }
    }

    /// Sets what kind of problem this is.
    pub fn with_kind(mut self, kind: FailureKind) -> Self {
        self.kind = kind;
        self
    }

    /// Adds what was expected.
    pub fn with_expected(mut self, expected: impl Into<String>) -> Self {
        self.expected = expected.into();
        self
    }

    /// Adds what was observed.
    pub fn with_actual(mut self, actual: impl Into<String>) -> Self {
        self.actual = actual.into();
        self
    }
}

/// How a step ended.
#[derive(Debug, Clone, PartialEq)]
pub enum StepOutcome {
    Passed {
        detail: String,
        figures: Vec<Figure>,
    },
    Failed(Failure),
}

/// How a scenario ended.
#[derive(Debug, Clone, PartialEq)]
pub enum ScenarioOutcome {
    Passed,
    Failed(Failure),
    /// Not run, with the reason (no cluster, unmet `requires`, filtered out).
    Ignored {
        reason: String,
    },
}

/// One thing that happened during a run.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    RunStarted {
        run_id: String,
        cluster: Option<ClusterInfo>,
    },
    ScenarioStarted {
        id: ScenarioId,
        file: PathBuf,
        covers: Vec<String>,
        namespace: String,
        attempt: u32,
    },
    StepStarted {
        id: ScenarioId,
        index: usize,
        kind: &'static str,
        /// A short description, e.g. `scale sts/web to 5`.
        summary: String,
        /// The step's line in the scenario file.
        line: u64,
    },
    StepFinished {
        id: ScenarioId,
        index: usize,
        outcome: StepOutcome,
        elapsed: Duration,
    },
    /// One recorded timeline entry, as a line (for verbose terminals and system-out).
    Timeline {
        id: ScenarioId,
        line: String,
    },
    ScenarioFinished {
        id: ScenarioId,
        attempt: u32,
        outcome: ScenarioOutcome,
        elapsed: Duration,
        figures: Vec<Figure>,
        /// Extra report properties, e.g. `namespace`.
        properties: BTreeMap<String, String>,
    },
    RunFinished {
        elapsed: Duration,
    },
}

/// Something that receives events: a reporter, or a channel to one.
pub trait EventSink: Send + Sync {
    fn emit(&self, event: Event);
}

/// Discards events; for callers that only want the returned result.
#[derive(Debug, Default)]
pub struct NoEvents;

impl EventSink for NoEvents {
    fn emit(&self, _: Event) {}
}
