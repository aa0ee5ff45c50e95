//! `PETSET_CLUSTER=emulated`: the fake API server with its controller emulation, started in
//! this process, as the run's cluster. It is for trying a scenario in seconds and for a first
//! look at petset with nothing installed; it is never chosen automatically, and every output
//! says that it was an emulation, not a cluster.
//!
//! The emulation plays the StatefulSet, Deployment, Service, volume and kubelet behaviour the
//! shipped scenarios need; it runs no database server, so scenarios that need one are ignored
//! with that reason.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use petset_fakeapi::FakeApiServer;
use petset_fakeapi::emulation::{Emulation, EmulationConfig};

use super::backend::{Availability, ClusterTarget, Executed, Job, ScenarioExecutor};
use super::conformance::engine_config;
use super::executor::EngineExecutor;
use super::settings::RunSettings;
use crate::cluster::{self, images_in_yaml};
use crate::events::ClusterInfo;
use crate::scenario::model::{Scenario, Step};

/// The context name reports show for the emulation.
pub const EMULATED_CONTEXT: &str = "emulated";

/// The run header's line: plain about what this is.
const HEADER: &str = "EMULATED: petset's in-process emulation (a fake API server playing the \
     StatefulSet, Deployment, Service, volume and kubelet controllers), not a Kubernetes \
     cluster; a pass here says the scenarios and petset work, not that a real cluster does";

/// How long the capability probe of the emulation may take.
const PROBE_DEADLINE: Duration = Duration::from_secs(10);

/// Images of database servers, which the emulation does not run.
const DATABASE_IMAGES: [&str; 2] = ["mariadb", "mysql"];

/// Starts the fake API server and the emulation on this runtime; the teardown stops both.
pub(super) async fn start(settings: &RunSettings) -> Availability {
    let server = match FakeApiServer::start().await {
        Ok(server) => server,
        Err(err) => {
            return Availability::Failed {
                message: format!("failed to start the emulated cluster: {err}"),
            };
        }
    };
    // The emulation seeds what a cluster comes with (nodes, a default StorageClass, kube-dns).
    let emulation = Emulation::start(&server.handle(), EmulationConfig::default(), None);
    let client = match server
        .url()
        .parse()
        .map_err(|e: http::uri::InvalidUri| e.to_string())
        .and_then(|url| {
            cluster::client_from_config(kube::Config::new(url)).map_err(|e| e.to_string())
        }) {
        Ok(client) => client,
        Err(err) => {
            return Availability::Failed {
                message: format!("failed to connect to the emulated cluster: {err}"),
            };
        }
    };
    let capabilities = match cluster::probe(&client, PROBE_DEADLINE).await {
        Ok(capabilities) => capabilities,
        Err(err) => {
            return Availability::Failed {
                message: format!("the emulated cluster: {}", cluster::chain(&err)),
            };
        }
    };
    let info = ClusterInfo {
        context: EMULATED_CONTEXT.to_string(),
        server_version: capabilities.server_version.to_string(),
        emulated: true,
    };
    let executor = EmulatedExecutor {
        engine: EngineExecutor::new(engine_config(client, settings), capabilities),
        fixtures_dir: settings.fixtures_dir(),
    };
    Availability::Ready(ClusterTarget {
        info,
        summary: HEADER.to_string(),
        executor: Arc::new(executor),
        teardown: Some(Box::new(move || {
            async move {
                drop(emulation);
                server.shutdown();
                Ok("stopped the emulated cluster".to_string())
            }
            .boxed()
        })),
    })
}

/// The step engine against the emulation, refusing what the emulation cannot play.
struct EmulatedExecutor {
    engine: EngineExecutor,
    fixtures_dir: std::path::PathBuf,
}

impl ScenarioExecutor for EmulatedExecutor {
    fn unmet(&self, scenario: &Scenario) -> Option<String> {
        unsupported(scenario, &self.fixtures_dir).or_else(|| self.engine.unmet(scenario))
    }

    fn execute(&self, job: Job) -> BoxFuture<'_, Executed> {
        self.engine.execute(job)
    }
}

/// Why the emulation cannot run `scenario`: it talks SQL to a database, or applies a
/// manifest running a database server image.
pub(crate) fn unsupported(scenario: &Scenario, fixtures_dir: &Path) -> Option<String> {
    const WHY: &str = "the emulated cluster runs no database server (it plays controllers and \
                       the kubelet, not MySQL/MariaDB); run this scenario on a real cluster";
    let mut images = Vec::new();
    for step in &scenario.steps {
        match &step.value {
            Step::Sql(_) => return Some(format!("needs a database: it has `sql` steps; {WHY}")),
            Step::Apply(apply) => {
                for file in &apply.files {
                    // A fixture that cannot be read fails in the step itself, with its reason.
                    let text = std::fs::read_to_string(fixtures_dir.join(&file.value));
                    let found = text.ok().and_then(|text| images_in_yaml(&text).ok());
                    images.extend(found.into_iter().flatten());
                }
                for manifest in &apply.manifests {
                    let text = serde_json::to_string(&manifest.value).unwrap_or_default();
                    images.extend(images_in_yaml(&text).ok().into_iter().flatten());
                }
            }
            _ => {}
        }
    }
    images
        .iter()
        .find(|image| is_database(image))
        .map(|image| format!("needs a database: it runs the image {image}; {WHY}"))
}

/// Whether an image reference names a database server (`mariadb:11.4`, `docker.io/library/mysql`).
fn is_database(image: &str) -> bool {
    let name = image.rsplit('/').next().unwrap_or(image);
    let name = name.split([':', '@']).next().unwrap_or(name);
    DATABASE_IMAGES.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::{is_database, unsupported};
    use crate::scenario::model::Scenario;

    fn scenario(image: &str) -> Scenario {
        let yaml = format!(
            "description: d\ncovers: []\nsteps:\n  - apply:\n      manifests:\n        - \
             {{apiVersion: v1, kind: Pod, metadata: {{name: p}}, spec: {{containers: \
             [{{name: c, image: \"{image}\"}}]}}}}\n"
        );
        serde_saphyr::from_str(&yaml).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn scenarios_running_a_database_are_refused_with_the_reason() {
        let dir = std::path::Path::new("/nonexistent");
        let why = unsupported(&scenario("mariadb:11.4"), dir).unwrap_or_default();
        assert!(
            why.starts_with("needs a database: it runs the image mariadb:11.4;"),
            "{why}"
        );
        assert_eq!(unsupported(&scenario("busybox:1.36.1"), dir), None);
    }

    #[test]
    fn database_images_are_told_by_their_name() {
        for image in [
            "mariadb:11.4",
            "docker.io/library/mysql:8",
            "mysql@sha256:00",
        ] {
            assert!(is_database(image), "{image}");
        }
        for image in [
            "busybox:1.36.1",
            "registry.k8s.io/e2e-test-images/agnhost:2.53",
        ] {
            assert!(!is_database(image), "{image}");
        }
    }
}
