//! Creating a scenario's namespace and keeping its heartbeat fresh while the scenario runs.

use super::naming::{HEARTBEAT_ANNOTATION, SCENARIO_ANNOTATION, unix_now};
use crate::api::{ApiError, with_retry, with_retry_on_conflict};
use crate::events::ScenarioId;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ObjectMeta, Patch, PatchParams, PostParams};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Creates `name` with `labels`, the scenario annotation and a first heartbeat.
pub async fn create(
    client: &kube::Client,
    name: &str,
    id: &ScenarioId,
    labels: &BTreeMap<String, String>,
    deadline: Instant,
) -> Result<(), ApiError> {
    let api: Api<Namespace> = Api::all(client.clone());
    let namespace = Namespace {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            labels: Some(labels.clone()),
            annotations: Some(BTreeMap::from([
                (HEARTBEAT_ANNOTATION.to_owned(), unix_now().to_string()),
                (SCENARIO_ANNOTATION.to_owned(), id.to_string()),
            ])),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    let params = PostParams::default();
    let mut attempt = 0;
    with_retry(&format!("create namespace {name}"), deadline, || {
        attempt += 1;
        let api = api.clone();
        let namespace = namespace.clone();
        let params = params.clone();
        let first = attempt == 1;
        async move {
            match api.create(&params, &namespace).await {
                // A retried create whose first attempt did land: it is ours.
                Err(kube::Error::Api(status)) if status.code == 409 && !first => Ok(()),
                other => other.map(|_| ()),
            }
        }
    })
    .await
}

/// Sets annotations on a namespace (merge patch), once, within `deadline`.
pub(crate) async fn annotate(
    client: &kube::Client,
    name: &str,
    annotations: &BTreeMap<String, String>,
    deadline: Instant,
) -> Result<(), ApiError> {
    let api: Api<Namespace> = Api::all(client.clone());
    let patch = Patch::Merge(json!({"metadata": {"annotations": annotations}}));
    let params = PatchParams::default();
    with_retry_on_conflict(&format!("annotate namespace {name}"), deadline, || {
        api.patch(name, &params, &patch)
    })
    .await
    .map(|_| ())
}

/// Refreshes the heartbeat annotation every `every` until dropped, so a concurrent run's sweep
/// knows this namespace is alive. A failed refresh is retried at the next tick.
#[derive(Debug)]
pub struct Heartbeat {
    task: JoinHandle<()>,
}

impl Heartbeat {
    pub fn start(client: &kube::Client, name: &str, every: Duration) -> Self {
        let client = client.clone();
        let name = name.to_owned();
        let task = tokio::spawn(async move {
            let mut ticks = tokio::time::interval_at(Instant::now() + every, every);
            loop {
                ticks.tick().await;
                let beat =
                    BTreeMap::from([(HEARTBEAT_ANNOTATION.to_owned(), unix_now().to_string())]);
                // A slow answer is still worth waiting for; the next beat is not due sooner.
                let patience = every.max(Duration::from_secs(5));
                let _ = annotate(&client, &name, &beat, Instant::now() + patience).await;
            }
        });
        Self { task }
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.task.abort();
    }
}
