//! The conformance binary's wiring: the scenario loader, cluster selection and the step engine
//! behind the runner's traits.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use libtest_mimic::Arguments;

use super::backend::{Availability, ClusterSource, ClusterTarget};
use super::collect::load;
use super::executor::EngineExecutor;
use super::nextest::Nextest;
use super::run::{RunInput, RunOutcome, run};
use super::settings::{RunSettings, SettingsError};
use crate::cluster::{
    self, Capabilities, Cluster, ClusterChoice, Selection, TeardownOutcome, ToolRunner,
};
use crate::engine::{EngineConfig, sweep_stale};
use crate::events::ClusterInfo;

/// How long the capability probe may take.
const PROBE_DEADLINE: Duration = Duration::from_secs(30);

/// The one-line skip reason under cargo-nextest, which never creates a cluster.
const NEXTEST_NO_CLUSTER: &str = "no Kubernetes cluster (under cargo-nextest petset only \
     connects to an existing one: create it first, e.g. kind create cluster --name petset \
     --config fixtures/clusters/kind.yaml, and set PETSET_CLUSTER=kind:petset; or run cargo test)";

/// `cargo test --test conformance`: petset's own suite (the repository root) against the
/// cluster `PETSET_CLUSTER` and the kubeconfig select.
pub fn conformance_main(args: &Arguments) -> ExitCode {
    suite_main(&repository_root(), args)
}

/// The runner for the suite at `suite_dir` (scenarios/, fixtures/, an optional
/// catalogue.yaml), with settings from the environment: the library entry point a Rust
/// repository calls from a `harness = false` test of its own.
pub fn suite_main(suite_dir: &Path, args: &Arguments) -> ExitCode {
    let settings = RunSettings::from_env(suite_dir).map_err(|e| {
        let mut defaults = RunSettings::defaults(suite_dir);
        defaults.nextest = Nextest::from_env();
        (e, defaults)
    });
    run_suite(args, settings).exit_code
}

/// Runs the suite the settings name: loads it, selects by label, finds the cluster.
pub fn run_suite(
    args: &Arguments,
    settings: Result<RunSettings, (SettingsError, RunSettings)>,
) -> RunOutcome {
    let chosen = match &settings {
        Ok(settings) | Err((_, settings)) => settings.clone(),
    };
    let source = SelectedCluster {
        nextest: chosen.nextest.as_ref().map(|nextest| SharedProbe {
            path: chosen.reports_dir.join("nextest").join("cluster.json"),
            nextest_run_id: nextest.run_id.clone(),
            listing: args.list,
        }),
        settings: chosen.clone(),
    };
    let (suite, catalogue) = load(&chosen.suite_dir);
    let input = RunInput {
        suite,
        catalogue,
        settings,
    };
    run(args, input, &source)
}

fn repository_root() -> PathBuf {
    cluster::repo_root().unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
}

/// The cluster the settings ask for (or the first one this machine offers), probed for its
/// capabilities and swept of namespaces left by killed runs, driven by the step engine; or,
/// for `PETSET_CLUSTER=emulated`, the in-process emulation.
#[derive(Debug)]
pub struct SelectedCluster {
    pub settings: RunSettings,
    /// Set under cargo-nextest: only connect to a cluster that exists (never create one per
    /// process), and probe it once per nextest run.
    pub nextest: Option<SharedProbe>,
}

/// Under cargo-nextest the listing probes the cluster and writes what it found to `path`
/// (with nextest's run id and the context); the trial processes of the same run read it back
/// instead of probing again, and leave sweeping stale namespaces to the listing.
#[derive(Debug, Clone)]
pub struct SharedProbe {
    pub path: PathBuf,
    pub nextest_run_id: Option<String>,
    /// This process lists the suite (it probes and writes); else it runs one trial (it reads).
    pub listing: bool,
}

/// The content of [`SharedProbe::path`].
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Probed {
    run_id: String,
    context: String,
    capabilities: Capabilities,
}

impl SharedProbe {
    /// What the listing of this run found on `context`, if it wrote it.
    fn read(&self, context: &str) -> Option<Capabilities> {
        let run_id = self.nextest_run_id.as_deref()?;
        let text = std::fs::read_to_string(&self.path).ok()?;
        let probed: Probed = serde_json::from_str(&text).ok()?;
        (probed.run_id == run_id && probed.context == context).then_some(probed.capabilities)
    }

    /// Records what the probe found for the trial processes; a failure only costs each of
    /// them a probe of its own.
    fn write(&self, context: &str, capabilities: &Capabilities) {
        let Some(run_id) = self.nextest_run_id.clone() else {
            return;
        };
        let probed = Probed {
            run_id,
            context: context.to_string(),
            capabilities: capabilities.clone(),
        };
        let written = serde_json::to_string_pretty(&probed)
            .map_err(|e| e.to_string())
            .and_then(|text| {
                let dir = self.path.parent().unwrap_or(Path::new("."));
                std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
                let partial = dir.join(format!("cluster.json.{}.partial", std::process::id()));
                std::fs::write(&partial, text).map_err(|e| e.to_string())?;
                std::fs::rename(&partial, &self.path).map_err(|e| e.to_string())
            });
        if let Err(err) = written {
            eprintln!("petset: failed to write {}: {err}", self.path.display());
        }
    }
}

impl ClusterSource for SelectedCluster {
    fn acquire(&self) -> BoxFuture<'_, Availability> {
        async move {
            if self.settings.cluster.choice == ClusterChoice::Emulated {
                return super::emulated::start(&self.settings).await;
            }
            let mut settings = self.settings.cluster.clone();
            // Under nextest every trial is a process of its own: creating a cluster (or a k3s
            // container) here would make one per scenario.
            settings.may_create = self.nextest.is_none();
            // Nor load images into it from every process: preload before the run instead
            // (`PETSET_PRELOAD=1 cargo run -p petset -- images`).
            settings.preload &= self.nextest.is_none();
            match cluster::connect(&settings, &ToolRunner::from_env()).await {
                Ok(Selection::Unavailable(unavailable)) => Availability::Unavailable {
                    reason: match self.nextest {
                        None => unavailable.short().to_string(),
                        Some(_) => NEXTEST_NO_CLUSTER.to_string(),
                    },
                    detail: unavailable.reason(),
                },
                Ok(Selection::Connected(cluster)) => self.prepare(cluster).await,
                Err(err) => Availability::Failed {
                    message: err.describe(),
                },
            }
        }
        .boxed()
    }
}

impl SelectedCluster {
    async fn prepare(&self, cluster: Cluster) -> Availability {
        let client = cluster.client();
        let trial_process = self.nextest.as_ref().filter(|shared| !shared.listing);
        let shared = trial_process.and_then(|shared| shared.read(cluster.context()));
        let capabilities = match shared {
            Some(capabilities) => capabilities,
            None => match cluster::probe(&client, PROBE_DEADLINE).await {
                Ok(capabilities) => capabilities,
                Err(err) => {
                    let message = format!("{}: {}", cluster.summary(), cluster::chain(&err));
                    release(cluster).await;
                    return Availability::Failed { message };
                }
            },
        };
        if let Some(listing) = self.nextest.as_ref().filter(|shared| shared.listing) {
            listing.write(cluster.context(), &capabilities);
        }
        let mut summary = cluster.summary();
        let sweep = if trial_process.is_some() {
            // The listing of this nextest run swept already.
            Ok(Default::default())
        } else {
            sweep_stale(&client, &self.settings.run_id).await
        };
        match sweep {
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
        let mut config = engine_config(client, &self.settings);
        config.cluster_config = Some(Arc::new(cluster.config().clone()));
        let info = ClusterInfo {
            context: cluster.context().to_string(),
            server_version: cluster.server_version().to_string(),
            emulated: false,
        };
        Availability::Ready(ClusterTarget {
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

/// The engine's configuration for a run with `settings` against `client`.
pub(super) fn engine_config(client: kube::Client, settings: &RunSettings) -> EngineConfig {
    let mut config = EngineConfig::new(client, settings.fixtures_dir(), &settings.run_id);
    config.keep = settings.keep;
    config.cluster_domain.clone_from(&settings.cluster_domain);
    config
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::KeepPolicy;

    #[tokio::test]
    async fn the_engine_gets_the_run_settings_not_the_environment() {
        let settings = RunSettings::from_lookup(Path::new("/suite"), |name| match name {
            "PETSET_CLUSTER_DOMAIN" => Some("corp.example".to_string()),
            "PETSET_KEEP" => Some("on-failure".to_string()),
            _ => None,
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let url = "http://127.0.0.1:9"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        let client =
            cluster::client_from_config(kube::Config::new(url)).unwrap_or_else(|e| panic!("{e}"));
        let config = engine_config(client, &settings);
        assert_eq!(config.cluster_domain, "corp.example");
        assert_eq!(config.keep, KeepPolicy::OnFailure);
        assert_eq!(config.fixtures_dir, Path::new("/suite/fixtures"));
        assert_eq!(config.run_id, settings.run_id);
    }
}
