//! The conformance binary's wiring: the scenario loader, cluster selection and the step engine
//! behind the runner's traits.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use libtest_mimic::Arguments;

use super::backend::{Availability, ClusterSource, Target};
use super::discover::load;
use super::engine::EngineExecutor;
use super::run::{RunInput, run};
use super::settings::RunSettings;
use crate::cluster::{self, Cluster, Selection, TeardownOutcome};
use crate::engine::{EngineConfig, KeepPolicy, sweep_stale};
use crate::events::ClusterInfo;

/// How long the capability probe may take.
const PROBE_DEADLINE: Duration = Duration::from_secs(30);

/// `cargo test --test conformance`: every scenario under `scenarios/` against the cluster
/// `PETSET_CLUSTER` and the kubeconfig select.
pub fn conformance_main(args: &Arguments) -> ExitCode {
    let root = repository_root();
    let settings = RunSettings::from_env(&root).map_err(|e| (e, RunSettings::defaults(&root)));
    let run_id = match &settings {
        Ok(settings) => settings.run_id.clone(),
        Err((_, defaults)) => defaults.run_id.clone(),
    };
    let source = SelectedCluster {
        fixtures_dir: root.join("fixtures"),
        run_id,
    };
    let (suite, catalogue) = load(&root);
    let input = RunInput {
        suite,
        catalogue,
        settings,
    };
    run(args, input, &source).exit_code
}

fn repository_root() -> PathBuf {
    cluster::repo_root().unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
}

/// The cluster `PETSET_CLUSTER` asks for (or the first one this machine offers), probed for
/// its capabilities and swept of namespaces left by killed runs, driven by the step engine.
#[derive(Debug)]
pub struct SelectedCluster {
    pub fixtures_dir: PathBuf,
    pub run_id: String,
}

impl ClusterSource for SelectedCluster {
    fn acquire(&self) -> BoxFuture<'_, Availability> {
        async move {
            let keep = match KeepPolicy::from_env() {
                Ok(keep) => keep,
                Err(message) => return Availability::Failed { message },
            };
            match cluster::select().await {
                Ok(Selection::Unavailable(unavailable)) => Availability::Unavailable {
                    reason: unavailable.short().to_string(),
                    detail: unavailable.reason(),
                },
                Ok(Selection::Connected(cluster)) => self.prepare(cluster, keep).await,
                Err(err) => Availability::Failed {
                    message: err.describe(),
                },
            }
        }
        .boxed()
    }
}

impl SelectedCluster {
    async fn prepare(&self, cluster: Cluster, keep: KeepPolicy) -> Availability {
        let client = cluster.client();
        let capabilities = match cluster::probe(&client, PROBE_DEADLINE).await {
            Ok(capabilities) => capabilities,
            Err(err) => {
                let message = format!("{}: {}", cluster.summary(), cluster::chain(&err));
                release(cluster).await;
                return Availability::Failed { message };
            }
        };
        let mut summary = cluster.summary();
        match sweep_stale(&client, &self.run_id).await {
            Ok(report) if !report.deleted.is_empty() => summary.push_str(&format!(
                "\nremoved {} namespace(s) left by runs that were killed: {}",
                report.deleted.len(),
                report.deleted.join(", ")
            )),
            Ok(_) => {}
            Err(err) => summary.push_str(&format!(
                "\nfailed to sweep namespaces left by killed runs: {err}"
            )),
        }
        let mut config = EngineConfig::new(client, self.fixtures_dir.clone(), &self.run_id);
        config.keep = keep;
        let info = ClusterInfo {
            context: cluster.context().to_string(),
            server_version: cluster.server_version().to_string(),
        };
        Availability::Ready(Target {
            info,
            summary,
            executor: Arc::new(EngineExecutor::new(config, capabilities)),
            teardown: Some(Box::new(move || {
                async move {
                    match cluster.teardown().await {
                        Ok(TeardownOutcome::Deleted) => {
                            Ok("deleted the cluster petset created".into())
                        }
                        Ok(TeardownOutcome::Kept) => {
                            Ok("kept the cluster petset created (PETSET_KEEP_CLUSTER)".into())
                        }
                        Ok(TeardownOutcome::NotOwned) => Ok(String::new()),
                        Err(err) => Err(err.describe()),
                    }
                }
                .boxed()
            })),
        })
    }
}

/// Tears down a cluster that will not be used, reporting a failure to do so.
async fn release(cluster: Cluster) {
    if let Err(err) = cluster.teardown().await {
        eprintln!(
            "petset: failed to tear down the cluster: {}",
            err.describe()
        );
    }
}
