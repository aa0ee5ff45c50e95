//! The DNS probe: a small sleeping pod in the scenario's namespace that `dns` steps exec into
//! when they do not name a `from` pod. Started by the first such step, reused by the rest, and
//! removed with the namespace.
//!
//! It runs agnhost (which the web fixtures use too, so it is usually present already), whose
//! image carries `dig` and `nslookup`. It is labelled as petset's own, never `app=...`, so the
//! scenario's selectors do not pick it up.

use super::StepContext;
use super::apply::FIELD_MANAGER;
use crate::api::{with_retry, with_retry_on_conflict};
use crate::events::Failure;
use crate::scenario::model::{Kind, WaitFor};
use crate::wait::{Watched, evaluate, wait_for};
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde_json::{Value, json};
use tokio::time::Instant;

/// The probe pod's name.
pub const PROBE_POD: &str = "petset-dns-probe";
/// Pinned by tag; multi-arch (amd64, arm64).
pub const PROBE_IMAGE: &str = "registry.k8s.io/e2e-test-images/agnhost:2.53";
/// The label that marks the probe.
pub const PROBE_LABEL: (&str, &str) = ("app.kubernetes.io/component", "petset-dns-probe");

/// The probe's manifest, carrying the scenario's labels.
pub(crate) fn manifest(ctx: &StepContext) -> Value {
    let mut labels: serde_json::Map<String, Value> = ctx
        .labels
        .iter()
        .map(|(key, value)| (key.clone(), Value::from(value.as_str())))
        .collect();
    labels.insert(PROBE_LABEL.0.to_owned(), Value::from(PROBE_LABEL.1));
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": PROBE_POD, "namespace": ctx.namespace, "labels": labels},
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "enableServiceLinks": false,
            "containers": [{
                "name": "probe",
                "image": PROBE_IMAGE,
                "args": ["pause"],
                "resources": {
                    "requests": {"cpu": "10m", "memory": "16Mi"},
                    "limits": {"memory": "64Mi"},
                },
            }],
        },
    })
}

/// Makes sure the probe exists and is ready, starting it if needed; returns its name.
pub(crate) async fn ensure_probe(ctx: &StepContext, deadline: Instant) -> Result<String, Failure> {
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), &ctx.namespace);
    let existing = with_retry(&format!("get pod/{PROBE_POD}"), deadline, || {
        pods.get_opt(PROBE_POD)
    })
    .await
    .map_err(|error| Failure::new(format!("dns probe: {error}")).with_kind(error.failure_kind()))?;
    if existing.is_none() {
        let params = PatchParams::apply(FIELD_MANAGER).force();
        let manifest = manifest(ctx);
        let patch = Patch::Apply(&manifest);
        with_retry_on_conflict(&format!("start pod/{PROBE_POD}"), deadline, || {
            pods.patch(PROBE_POD, &params, &patch)
        })
        .await
        .map_err(|error| {
            Failure::new(format!("dns probe: {error}")).with_kind(error.failure_kind())
        })?;
    }
    let target = crate::scenario::model::ResolvedTarget::object(Kind::Pod, PROBE_POD);
    let watched = Watched::new(&ctx.client, &ctx.namespace, &target);
    wait_for(&watched, deadline, |objects| {
        let values: Vec<Value> = objects.iter().map(crate::api::to_value).collect();
        evaluate(&WaitFor::Ready, Kind::Pod, true, &values)
    })
    .await
    .map_err(|error| {
        Failure::new(format!(
            "dns probe: pod/{PROBE_POD} ({PROBE_IMAGE}) did not become ready: {error}"
        ))
        .with_kind(error.failure_kind())
        .with_actual(error.observation().render())
    })?;
    Ok(PROBE_POD.to_owned())
}
