//! Removing namespaces left behind by runs that were killed before they could clean up.
//!
//! Every running scenario refreshes a heartbeat annotation on its namespace. A namespace labelled
//! as petset's whose heartbeat is older than [`STALE_AFTER`] belongs to a run that is gone, and is
//! deleted (with the PVs it owns); one with a fresh heartbeat belongs to a live run, possibly on
//! another machine, and is left alone. So are namespaces kept on purpose (`PETSET_KEEP`).

use super::cleanup::owned_cluster_objects;
use super::naming::{
    HEARTBEAT_ANNOTATION, KEPT_ANNOTATION, MANAGED_BY_LABEL, MANAGED_BY_VALUE, RUN_LABEL,
    label_value, unix_now,
};
use crate::api::{ApiError, dynamic_api, with_retry};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DeleteParams, ListParams};
use std::time::Duration;
use tokio::time::Instant;

/// A heartbeat older than this means the run that owned the namespace is gone.
pub const STALE_AFTER: Duration = Duration::from_secs(120);

/// What a sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Namespaces deleted as stale.
    pub deleted: Vec<String>,
    /// Namespaces left alone, with why (live run, kept, this run).
    pub kept: Vec<(String, String)>,
    /// Problems met while sweeping (a delete that failed); the sweep goes on past them.
    pub problems: Vec<String>,
}

/// Deletes petset namespaces whose heartbeat is stale; leaves those of live runs (and of
/// `run_id`) alone. Does not wait for the deletions to finish.
pub async fn sweep_stale(client: &kube::Client, run_id: &str) -> Result<SweepReport, ApiError> {
    sweep_stale_older_than(client, run_id, STALE_AFTER).await
}

/// [`sweep_stale`] with a chosen staleness threshold.
pub async fn sweep_stale_older_than(
    client: &kube::Client,
    run_id: &str,
    stale_after: Duration,
) -> Result<SweepReport, ApiError> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let api: Api<Namespace> = Api::all(client.clone());
    let params = ListParams::default().labels(&format!("{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}"));
    let list = with_retry("list petset namespaces", deadline, || api.list(&params)).await?;
    let now = unix_now();
    let this_run = label_value(run_id);
    let mut report = SweepReport::default();
    for namespace in list.items {
        let name = namespace.metadata.name.clone().unwrap_or_default();
        let labels = namespace.metadata.labels.clone().unwrap_or_default();
        let annotations = namespace.metadata.annotations.clone().unwrap_or_default();
        if labels.get(RUN_LABEL) == Some(&this_run) {
            report.kept.push((name, "belongs to this run".to_owned()));
            continue;
        }
        if let Some(why) = annotations.get(KEPT_ANNOTATION) {
            report.kept.push((name, format!("kept on purpose: {why}")));
            continue;
        }
        let beat = annotations
            .get(HEARTBEAT_ANNOTATION)
            .and_then(|beat| beat.parse::<u64>().ok());
        if let Some(beat) = beat
            && now.saturating_sub(beat) < stale_after.as_secs()
        {
            report.kept.push((
                name,
                format!("live: heartbeat {}s ago", now.saturating_sub(beat)),
            ));
            continue;
        }
        if namespace.metadata.deletion_timestamp.is_some() {
            report.kept.push((name, "already being deleted".to_owned()));
            continue;
        }
        // Retain PVs bound to its claims outlive the namespace unless deleted with it.
        if let Ok(owned) = owned_cluster_objects(client, &name, deadline).await {
            for (kind, object) in owned {
                let api = dynamic_api(client, kind, "");
                let params = DeleteParams::default();
                if let Err(error) = with_retry(&format!("delete {kind}/{object}"), deadline, || {
                    api.delete(&object, &params)
                })
                .await
                    && !error.is_not_found()
                {
                    report.problems.push(error.to_string());
                }
            }
        }
        let params = DeleteParams::default();
        match with_retry(&format!("delete namespace {name}"), deadline, || {
            api.delete(&name, &params)
        })
        .await
        {
            Ok(_) => report.deleted.push(name),
            Err(error) if error.is_not_found() => {}
            Err(error) => report.problems.push(error.to_string()),
        }
    }
    Ok(report)
}
