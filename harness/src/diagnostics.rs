//! Failure diagnostics gathered through the API: the last state of the objects the failed step
//! was about, the namespace's events, the statuses of pods that are not ready, and the last lines
//! of their containers' logs. Gathering never fails: what cannot be read is said so in the text.

use crate::api::{list_target, render_objects, render_value, with_retry};
use crate::scenario::model::{Kind, ResolvedTarget};
use crate::wait::conditions::ready;
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, ListParams, LogParams};
use serde_json::Value;
use std::fmt::Write;
use std::time::Duration;
use tokio::time::Instant;

/// How many of the latest events, pods and log lines a report shows.
const MAX_EVENTS: usize = 40;
const MAX_PODS_WITH_LOGS: usize = 6;
const LOG_LINES: i64 = 20;

/// Everything worth knowing about `namespace` after a step about `targets` failed, as report
/// text. Bounded by `budget` overall.
pub async fn gather(
    client: &kube::Client,
    namespace: &str,
    targets: &[ResolvedTarget],
    budget: Duration,
) -> String {
    let deadline = crate::clock::from_now(budget);
    let mut out = String::new();
    for target in targets {
        let _ = writeln!(out, "== {target} (last observed) ==");
        match list_target(client, namespace, target, deadline).await {
            Ok(objects) => out.push_str(&render_objects(&objects)),
            Err(error) => out.push_str(&format!("(could not read: {error})")),
        }
        out.push('\n');
    }
    out.push_str(&events(client, namespace, deadline).await);
    out.push_str(&unready_pods(client, namespace, deadline).await);
    out
}

async fn events(client: &kube::Client, namespace: &str, deadline: Instant) -> String {
    let title = format!("events in {namespace}");
    events_where(client, namespace, &title, |_| true, deadline).await
}

/// The latest events of `namespace` for which `about` holds, as report text under `title`.
pub(crate) async fn events_where(
    client: &kube::Client,
    namespace: &str,
    title: &str,
    about: impl Fn(&Event) -> bool,
    deadline: Instant,
) -> String {
    let api: Api<Event> = Api::namespaced(client.clone(), namespace);
    let mut out = format!("== {title} ==\n");
    let params = ListParams::default();
    let list = match with_retry("list events", deadline, || api.list(&params)).await {
        Ok(list) => list.items,
        Err(error) => return format!("{out}(could not read: {error})\n"),
    };
    let mut rows: Vec<(String, String)> = list
        .iter()
        .filter(|event| about(event))
        .map(|event| {
            let when = event
                .last_timestamp
                .as_ref()
                .map(|t| t.0.to_string())
                .or_else(|| event.event_time.as_ref().map(|t| t.0.to_string()))
                .or_else(|| {
                    event
                        .metadata
                        .creation_timestamp
                        .as_ref()
                        .map(|t| t.0.to_string())
                })
                .unwrap_or_default();
            let object = format!(
                "{}/{}",
                event
                    .involved_object
                    .kind
                    .as_deref()
                    .unwrap_or("?")
                    .to_ascii_lowercase(),
                event.involved_object.name.as_deref().unwrap_or("?")
            );
            let count = event
                .count
                .filter(|c| *c > 1)
                .map_or(String::new(), |c| format!(" (x{c})"));
            let line = format!(
                "{when} {} {} {object}: {}{count}",
                event.type_.as_deref().unwrap_or(""),
                event.reason.as_deref().unwrap_or(""),
                event.message.as_deref().unwrap_or("").trim()
            );
            (when, line)
        })
        .collect();
    rows.sort();
    if rows.is_empty() {
        out.push_str("(none)\n");
    }
    let skip = rows.len().saturating_sub(MAX_EVENTS);
    if skip > 0 {
        let _ = writeln!(out, "({skip} earlier events not shown)");
    }
    for (_, line) in rows.into_iter().skip(skip) {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

async fn unready_pods(client: &kube::Client, namespace: &str, deadline: Instant) -> String {
    let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let params = ListParams::default();
    let pods = match with_retry("list pods", deadline, || api.list(&params)).await {
        Ok(list) => list.items,
        Err(error) => return format!("== pods not ready ==\n(could not read: {error})\n"),
    };
    let unready: Vec<&Pod> = pods
        .iter()
        .filter(|pod| {
            serde_json::to_value(pod)
                .map(|value| ready(Kind::Pod, &value).is_err())
                .unwrap_or(true)
        })
        .collect();
    let mut out = String::from("== pods not ready ==\n");
    if unready.is_empty() {
        out.push_str("(none)\n");
        return out;
    }
    for pod in &unready {
        out.push_str(&pod_status(pod));
    }
    for pod in unready.iter().take(MAX_PODS_WITH_LOGS) {
        out.push_str(&logs(&api, pod, deadline).await);
    }
    out
}

/// A pod's phase, conditions and container states, one line each.
fn pod_status(pod: &Pod) -> String {
    let name = pod.metadata.name.as_deref().unwrap_or("?");
    let value = serde_json::to_value(pod).unwrap_or(Value::Null);
    let mut out = format!(
        "pod/{name}: phase={} node={}\n",
        value
            .pointer("/status/phase")
            .and_then(Value::as_str)
            .unwrap_or("?"),
        value
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .unwrap_or("-"),
    );
    for condition in value
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let field = |key: &str| condition.get(key).and_then(Value::as_str).unwrap_or("");
        let _ = writeln!(
            out,
            "  condition {}={} {} {}",
            field("type"),
            field("status"),
            field("reason"),
            field("message")
        );
    }
    for status in value
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let container = status.get("name").and_then(Value::as_str).unwrap_or("?");
        let restarts = status
            .get("restartCount")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let state = status
            .get("state")
            .map(|state| render_value(state).replace('\n', " "))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  container {container}: ready={} restarts={restarts} state: {}",
            status
                .get("ready")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            state.trim()
        );
    }
    out
}

async fn logs(api: &Api<Pod>, pod: &Pod, deadline: Instant) -> String {
    let name = pod.metadata.name.clone().unwrap_or_default();
    let containers: Vec<String> = pod
        .spec
        .as_ref()
        .map(|spec| spec.containers.iter().map(|c| c.name.clone()).collect())
        .unwrap_or_default();
    let mut out = String::new();
    for container in containers {
        let params = LogParams {
            container: Some(container.clone()),
            tail_lines: Some(LOG_LINES),
            ..LogParams::default()
        };
        let _ = writeln!(
            out,
            "== logs of pod/{name} container {container} (last {LOG_LINES} lines) =="
        );
        match with_retry(&format!("read logs of pod/{name}"), deadline, || {
            api.logs(&name, &params)
        })
        .await
        {
            Ok(text) if text.trim().is_empty() => out.push_str("(empty)\n"),
            Ok(text) => {
                out.push_str(text.trim_end());
                out.push('\n');
            }
            Err(error) => {
                let _ = writeln!(out, "(could not read: {error})");
            }
        }
    }
    out
}
