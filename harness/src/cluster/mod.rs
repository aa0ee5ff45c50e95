//! Clusters: finding or making the Kubernetes cluster a run uses (a kubeconfig context, kind,
//! k3d or an embedded k3s), guarding against non-local ones, probing what it offers, and
//! tearing down what petset created.

mod client;
mod docker;
mod error;
mod guard;
mod handle;
mod images;
#[cfg(feature = "k3s")]
mod k3s;
mod kubeconfig;
mod local;
mod probe;
mod repo;
mod requires;
mod select;
mod settings;
mod tools;

pub use client::client_from_config;
pub use error::{ClusterError, chain};
pub use guard::{
    ALLOW_CONTEXT_VAR, FAKE_CONTEXT, GuardError, K3S_CONTEXT, check_context, looks_local,
};
pub use handle::{Cluster, Provider, ServerVersion, TeardownOutcome};
pub use images::{
    FixtureImage, ImagesError, PreloadReport, PreloadTarget, fixture_images, images_in_yaml,
    preload,
};
#[cfg(feature = "k3s")]
pub use k3s::K3S_TAG;
pub use probe::{Capabilities, ProbeError, probe};
pub use repo::{find_root_from, repo_root};
pub use requires::{Unmet, evaluate};
pub use select::{Selection, Unavailable, connect, require_engine, select};
pub(crate) use settings::flag;
pub use settings::{ClusterChoice, DEFAULT_CLUSTER_NAME, Settings, SettingsError};
pub use tools::{CommandOutput, RunError, ToolRunner};
