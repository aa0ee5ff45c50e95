//! What every step gets to work with, and what it returns.

use crate::events::{Failure, FailureKind, Figure};
use crate::redact::SecretValues;
pub use crate::scenario::model::Variables;
use crate::scenario::model::{ResolvedTarget, Target, TemplateError};
use crate::timeline::Timeline;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::time::Instant;

/// The DNS domain of kind, k3d and most clusters; `PETSET_CLUSTER_DOMAIN` overrides it.
pub const DEFAULT_CLUSTER_DOMAIN: &str = "cluster.local";

/// Everything a step needs: the cluster, the scenario's namespace, its variables and timeline.
#[derive(Clone)]
pub struct StepContext {
    pub client: kube::Client,
    /// The scenario's own namespace; every namespaced object goes here.
    pub namespace: String,
    pub vars: Variables,
    pub timeline: Timeline,
    /// The repository's `fixtures/` folder.
    pub fixtures_dir: PathBuf,
    /// Labels put on every object the scenario creates (`app.kubernetes.io/managed-by=petset`, run id).
    pub labels: BTreeMap<String, String>,
    /// The timeout of a wait that does not give one.
    pub default_timeout: Duration,
    /// The cluster domain for DNS names (`cluster.local` unless discovered otherwise).
    pub cluster_domain: String,
    /// The scenario's deadline: no step may run past it, whatever its own timeout says.
    pub deadline: Option<Instant>,
    /// Nodes the scenario cordoned, which cleanup uncordons.
    pub cordoned: CordonedNodes,
    /// Values read from Secrets, masked in everything the scenario reports.
    pub secrets: SecretValues,
    /// How the client reaches the cluster, for the kubeconfig a `command` step's program gets;
    /// `None` where the client was built some other way (such a step then fails, saying so).
    pub cluster_config: Option<Arc<kube::Config>>,
}

impl StepContext {
    /// A context for `namespace` with no variables but `namespace`, a fresh timeline, no labels,
    /// a 2-minute default timeout, `cluster.local` and no scenario deadline.
    pub fn new(client: kube::Client, namespace: impl Into<String>, fixtures_dir: PathBuf) -> Self {
        let namespace = namespace.into();
        let mut vars = Variables::default();
        vars.set("namespace", namespace.clone());
        vars.set("clusterDomain", DEFAULT_CLUSTER_DOMAIN);
        Self {
            client,
            namespace,
            vars,
            timeline: Timeline::new(),
            fixtures_dir,
            labels: BTreeMap::new(),
            default_timeout: Duration::from_secs(120),
            cluster_domain: DEFAULT_CLUSTER_DOMAIN.to_owned(),
            deadline: None,
            cordoned: CordonedNodes::default(),
            secrets: SecretValues::default(),
            cluster_config: None,
        }
    }

    /// Sets the cluster DNS domain, both for DNS steps and as the `${clusterDomain}` variable.
    pub fn set_cluster_domain(&mut self, domain: &str) {
        self.cluster_domain = domain.to_owned();
        self.vars.set("clusterDomain", domain);
    }

    /// When a step allowed `timeout` (or the default) must be done: that long from now, but
    /// never after the scenario's deadline.
    pub fn deadline_after(&self, timeout: Option<Duration>) -> Instant {
        let own = crate::clock::from_now(timeout.unwrap_or(self.default_timeout));
        match self.deadline {
            Some(scenario) => own.min(scenario),
            None => own,
        }
    }

    /// `target` with `${...}` variables in its name and selector replaced, the selector parsed.
    /// A value that breaks the selector's grammar is a mistake in the scenario.
    pub fn resolve(&self, target: &Target) -> Result<ResolvedTarget, Failure> {
        target
            .resolve(&self.vars)
            .map_err(|error| template_failure(&target.to_string(), &error))
    }
}

/// A step's failure to fill in a template with the run's values, said about `what`: a value
/// that breaks the template's grammar is a mistake in the scenario.
pub(crate) fn template_failure(what: &str, error: &TemplateError) -> Failure {
    let failure = Failure::new(format!("{what}: {error}"));
    match error {
        TemplateError::Grammar(_) => failure.with_kind(FailureKind::InvalidScenario),
        TemplateError::Substitution(_) => failure,
    }
}

/// The nodes a scenario has cordoned, shared between its steps and its cleanup.
#[derive(Debug, Clone, Default)]
pub struct CordonedNodes(Arc<Mutex<BTreeSet<String>>>);

impl CordonedNodes {
    pub fn add(&self, node: &str) {
        self.lock().insert(node.to_owned());
    }

    pub fn remove(&self, node: &str) {
        self.lock().remove(node);
    }

    pub fn names(&self) -> Vec<String> {
        self.lock().iter().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        // A poisoned lock only means a holder panicked; the set itself is intact.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl std::fmt::Debug for StepContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StepContext")
            .field("namespace", &self.namespace)
            .field("vars", &self.vars)
            .finish_non_exhaustive()
    }
}

/// What a passed step reports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepReport {
    /// A short account of what happened, e.g. `3 pods ready after 4.2s`.
    pub detail: String,
    /// Measured figures, e.g. replication lag.
    pub figures: Vec<Figure>,
}

impl StepReport {
    pub fn detail(detail: impl Into<String>) -> Self {
        Self {
            detail: detail.into(),
            figures: Vec::new(),
        }
    }
}

/// A step either passes with a report or fails with a diagnosable failure.
pub type StepResult = Result<StepReport, Failure>;
