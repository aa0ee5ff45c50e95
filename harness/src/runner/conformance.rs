//! The conformance binary's wiring: the scenario loader, cluster selection and the step engine
//! behind the runner's traits.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use futures::FutureExt;
use futures::future::BoxFuture;
use libtest_mimic::Arguments;

use super::backend::{Availability, ClusterSource};
use super::discover::discover;
use super::run::{RunInput, run};
use super::settings::RunSettings;
use crate::cluster::{self, Selection};

/// `cargo test --test conformance`: every scenario under `scenarios/` against the cluster
/// `PETSET_CLUSTER` and the kubeconfig select.
pub fn conformance_main(args: &Arguments) -> ExitCode {
    let root = repository_root();
    let settings = RunSettings::from_env(&root).map_err(|e| (e, RunSettings::defaults(&root)));
    let input = RunInput {
        suite: discover(&root),
        catalogue: Vec::new(),
        settings,
    };
    run(args, input, &SelectedCluster).exit_code
}

fn repository_root() -> PathBuf {
    cluster::repo_root().unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
}

/// The cluster `PETSET_CLUSTER` asks for, or the first one this machine offers.
#[derive(Debug, Default)]
pub struct SelectedCluster;

impl ClusterSource for SelectedCluster {
    fn acquire(&self) -> BoxFuture<'_, Availability> {
        async {
            match cluster::select().await {
                Ok(Selection::Unavailable(unavailable)) => Availability::Unavailable {
                    reason: unavailable.short().to_string(),
                    detail: unavailable.reason(),
                },
                Ok(Selection::Connected(cluster)) => {
                    let summary = cluster.summary();
                    // Scenarios cannot be executed by this build yet; leave no cluster behind.
                    let _ = cluster.teardown().await;
                    Availability::Unavailable {
                        reason: "scenario execution is not part of this build yet".to_string(),
                        detail: format!("cluster found but not used: {summary}"),
                    }
                }
                Err(err) => Availability::Failed {
                    message: err.describe(),
                },
            }
        }
        .boxed()
    }
}
