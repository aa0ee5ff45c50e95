//! What the runner needs from the rest of petset, as small traits: something that executes a
//! scenario ([`ScenarioExecutor`]) and something that finds a cluster ([`ClusterSource`]).
//!
//! The conformance binary plugs in the real engine and cluster selection; the harness's own
//! tests and the benchmark plug in stand-ins, so the runner and its reports are tested without
//! a cluster.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use crate::events::{ClusterInfo, EventSink, Figure, ScenarioId, ScenarioOutcome};
use crate::scenario::model::Scenario;

/// One attempt at one scenario, handed to the executor.
#[derive(Clone)]
pub struct Job {
    pub id: ScenarioId,
    /// The scenario file, relative to the repository root.
    pub file: PathBuf,
    pub scenario: Arc<Scenario>,
    /// 1 for the first attempt, 2 for the first retry, ...
    pub attempt: u32,
    pub run_id: String,
    /// Cancelled at the scenario's deadline or on Ctrl-C: the executor stops its steps, runs
    /// its cleanup and returns.
    pub cancel: CancellationToken,
    /// Where the executor sends `ScenarioStarted`, step and timeline events. `ScenarioFinished`
    /// is the runner's to send.
    pub sink: Arc<dyn EventSink>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("id", &self.id)
            .field("file", &self.file)
            .field("attempt", &self.attempt)
            .field("run_id", &self.run_id)
            .finish_non_exhaustive()
    }
}

/// What an attempt came to.
#[derive(Debug, Clone, PartialEq)]
pub struct Executed {
    pub outcome: ScenarioOutcome,
    pub figures: Vec<Figure>,
    /// Extra report properties, e.g. `namespace`.
    pub properties: BTreeMap<String, String>,
}

impl Executed {
    pub fn outcome(outcome: ScenarioOutcome) -> Self {
        Self {
            outcome,
            figures: Vec::new(),
            properties: BTreeMap::new(),
        }
    }
}

/// Runs scenarios against one cluster.
pub trait ScenarioExecutor: Send + Sync {
    /// Why `scenario` cannot run on this cluster (an unmet `requires`), if it cannot.
    fn unmet(&self, scenario: &Scenario) -> Option<String>;

    /// Runs one attempt, cleanup included. Must return soon after `job.cancel` fires.
    ///
    /// The scenario's `timeout:` bounds the steps; the runner takes them to be over at the
    /// `StepFinished` of a failed step or of the last step, and from then on gives cleanup a
    /// budget of its own (`RunSettings::cleanup_grace`).
    fn execute(&self, job: Job) -> BoxFuture<'_, Executed>;
}

/// Undoes what acquiring the cluster did (e.g. deletes a cluster petset created); the text
/// says what was done, for the closing lines.
pub type Teardown = Box<dyn FnOnce() -> BoxFuture<'static, Result<String, String>> + Send>;

/// A cluster the run can use.
pub struct ClusterTarget {
    pub info: ClusterInfo,
    /// One line for the run's header, e.g. which cluster and how it was found.
    pub summary: String,
    pub executor: Arc<dyn ScenarioExecutor>,
    pub teardown: Option<Teardown>,
}

impl std::fmt::Debug for ClusterTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterTarget")
            .field("info", &self.info)
            .field("summary", &self.summary)
            .finish_non_exhaustive()
    }
}

/// Whether there is a cluster to run against.
#[derive(Debug)]
pub enum Availability {
    Ready(ClusterTarget),
    /// No cluster here: cluster trials are ignored with `reason` (one line); `detail` says what
    /// was tried and the ways to get a cluster, printed once at the start.
    Unavailable {
        reason: String,
        detail: String,
    },
    /// The user asked for a cluster that could not be had (or the harness itself failed):
    /// cluster trials fail with this message, so a CI gate cannot pass by accident.
    Failed {
        message: String,
    },
}

/// Finds the cluster for a run; called once, and only when some selected trial needs one.
pub trait ClusterSource: Send + Sync {
    fn acquire(&self) -> BoxFuture<'_, Availability>;
}
