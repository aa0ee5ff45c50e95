//! What the engine needs to run scenarios, and what it hands back for each.

use crate::events::{Figure, ScenarioId, ScenarioOutcome};
use crate::scenario::model::Scenario;
use crate::steps::DEFAULT_CLUSTER_DOMAIN;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Whether a scenario's namespace is kept after it ran.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum KeepPolicy {
    /// Always delete it (the default).
    #[default]
    Never,
    /// Keep the namespaces of failed scenarios for inspection (`PETSET_KEEP=on-failure`).
    OnFailure,
}

/// The environment variable that sets [`KeepPolicy`].
pub const KEEP_ENV: &str = "PETSET_KEEP";

impl KeepPolicy {
    /// Reads a `PETSET_KEEP` value: empty or `never` -> `Never`; `on-failure` -> `OnFailure`.
    pub fn parse(value: &str) -> Result<Self, String> {
        match value.trim() {
            "" | "never" => Ok(Self::Never),
            "on-failure" => Ok(Self::OnFailure),
            other => Err(format!(
                "{KEEP_ENV}={other} is not understood; use `on-failure` (or leave it unset)"
            )),
        }
    }
}

/// Shared by every scenario of a run.
#[derive(Clone)]
pub struct EngineConfig {
    pub client: kube::Client,
    /// The repository's `fixtures/` folder; `apply` files are relative to it.
    pub fixtures_dir: PathBuf,
    /// Identifies this run on the cluster (namespace label `petset.dev/run`).
    pub run_id: String,
    pub keep: KeepPolicy,
    /// Cancelled on Ctrl-C (or when the run must stop): the running step stops, cleanup runs.
    pub cancel: CancellationToken,
    /// The limit of a step that gives no timeout of its own (default 2 min).
    pub default_timeout: Duration,
    /// How long cleanup may wait for the namespace to go (default 2 min).
    pub cleanup_timeout: Duration,
    /// How often the namespace heartbeat is refreshed (default 10 s).
    pub heartbeat_every: Duration,
    /// The cluster DNS domain (default `cluster.local`; the runner sets `PETSET_CLUSTER_DOMAIN`).
    pub cluster_domain: String,
    /// How `client` was configured, for the kubeconfig a `command` step's program gets.
    pub cluster_config: Option<std::sync::Arc<kube::Config>>,
}

impl EngineConfig {
    /// A configuration with the defaults above, keeping nothing and a fresh cancellation token.
    pub fn new(client: kube::Client, fixtures_dir: PathBuf, run_id: impl Into<String>) -> Self {
        Self {
            client,
            fixtures_dir,
            run_id: run_id.into(),
            keep: KeepPolicy::Never,
            cancel: CancellationToken::new(),
            default_timeout: Duration::from_secs(120),
            cleanup_timeout: Duration::from_secs(120),
            heartbeat_every: Duration::from_secs(10),
            cluster_domain: DEFAULT_CLUSTER_DOMAIN.to_owned(),
            cluster_config: None,
        }
    }
}

impl std::fmt::Debug for EngineConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineConfig")
            .field("fixtures_dir", &self.fixtures_dir)
            .field("run_id", &self.run_id)
            .field("keep", &self.keep)
            .field("default_timeout", &self.default_timeout)
            .field("cleanup_timeout", &self.cleanup_timeout)
            .finish_non_exhaustive()
    }
}

/// One scenario to run.
#[derive(Debug, Clone, Copy)]
pub struct ScenarioRun<'a> {
    pub id: &'a ScenarioId,
    /// The scenario file, for reports.
    pub file: &'a Path,
    pub scenario: &'a Scenario,
    /// 1 for the first attempt, 2 for the first retry, ...
    pub attempt: u32,
}

/// How one attempt at a scenario ended, cleanup included.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioResult {
    /// Passed only if every step passed and cleanup succeeded.
    pub outcome: ScenarioOutcome,
    /// Figures the steps measured (e.g. replication lag).
    pub figures: Vec<Figure>,
    /// Report properties: `namespace`, `attempt`, `cleanup`, and `kept` when the namespace was
    /// kept.
    pub properties: BTreeMap<String, String>,
    pub namespace: String,
    /// Whether the namespace was kept for inspection.
    pub kept: bool,
    /// From start to the end of cleanup.
    pub elapsed: Duration,
}
