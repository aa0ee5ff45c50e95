//! Why a cluster could not be selected, created, reached or torn down.

use super::guard::GuardError;
use super::settings::SettingsError;
use super::tools::RunError;

/// A failure to deliver the cluster the user asked for.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Guard(#[from] GuardError),
    #[error("failed to read the kubeconfig ({origin})")]
    Kubeconfig {
        origin: String,
        #[source]
        source: Box<kube::config::KubeconfigError>,
    },
    #[error(
        "failed to find a kubeconfig ({origin}); create a cluster with kind or k3d, \
         or point KUBECONFIG at one"
    )]
    NoKubeconfig { origin: String },
    #[error(
        "failed to pick a context: the kubeconfig has no current-context; set PETSET_CONTEXT=<name>"
    )]
    NoCurrentContext,
    #[error("failed to find context `{context}` in the kubeconfig (it has: {available})")]
    UnknownContext { context: String, available: String },
    #[error("failed to reach the cluster of context `{context}` at {server}: {cause}")]
    Unreachable {
        context: String,
        server: String,
        cause: String,
    },
    #[error("failed to {action}")]
    Command {
        action: String,
        #[source]
        source: RunError,
    },
    #[error(
        "failed to reach the Docker engine, which {needs} needs: {detail}\n  \
         start it (for example `sudo systemctl start docker`) or choose another cluster \
         with PETSET_CLUSTER"
    )]
    DockerDown { needs: String, detail: String },
    #[error("failed to read what `{command}` printed: {detail}")]
    UnexpectedOutput { command: String, detail: String },
    #[error(
        "failed to find the repository root (a directory holding fixtures/ and Cargo.toml); \
         run from the petset checkout"
    )]
    NoRepoRoot,
    #[error(
        "failed to start k3s: petset was built without the `k3s` feature; build it with \
         `--features k3s` or choose PETSET_CLUSTER=kind, k3d or current"
    )]
    K3sDisabled,
    #[error("failed to start the k3s container ({step})")]
    K3s {
        step: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error(
        "failed to find {what}: under cargo-nextest petset only connects to a cluster that \
         already exists (each scenario is its own process, so creating one there would make one \
         per scenario); {hint}"
    )]
    WillNotCreate { what: String, hint: String },
    #[error(
        "failed to use PETSET_CLUSTER=emulated here: the emulated cluster exists only inside a \
         run of the scenarios (petset test, cargo test --test conformance); choose a real \
         cluster for this command"
    )]
    EmulatedOutsideRun,
    #[error("failed to load fixture images into the cluster")]
    Preload(#[source] Box<super::images::ImagesError>),
}

impl ClusterError {
    /// The message with every underlying cause, one per line, for terminals and reports.
    pub fn describe(&self) -> String {
        format!("{:#}", crate::error_chain::ErrorChain(self))
    }

    pub(crate) fn command(action: impl Into<String>, source: RunError) -> Self {
        ClusterError::Command {
            action: action.into(),
            source,
        }
    }
}

/// An error and its causes on one line (repeated inner messages dropped).
pub use crate::error_chain::chain;
