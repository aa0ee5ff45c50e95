//! `drain`: cordon a node and evict its pods through the Eviction API, like
//! `kubectl drain --ignore-daemonsets`: DaemonSet and mirror pods are left, evictions a
//! PodDisruptionBudget refuses (429) are retried until the step's timeout, and the step ends when
//! the evicted pods are gone.
//!
//! Only pods in the scenario's own namespace are evicted: petset changes nothing outside it. Other
//! pods on the node stay (the node stays cordoned, so nothing new lands there) and the report
//! says how many.

use super::cordon::{resolve_node, set_unschedulable};
use super::dispatch::Execute;
use super::{StepContext, StepReport, StepResult};
use crate::api::{ApiError, describe_kube_error, with_retry};
use crate::events::{Failure, FailureKind};
use crate::scenario::kinds;
use crate::scenario::model::{DrainStep, Kind, ResolvedTarget};
use crate::wait::{WaitVerdict, Watched, wait_for};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, EvictParams, ListParams};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;
use tokio::time::Instant;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

impl Execute for kinds::Drain {
    async fn run(step: &DrainStep, ctx: &mut StepContext) -> StepResult {
        run(step, ctx).await
    }
}

async fn run(step: &DrainStep, ctx: &StepContext) -> StepResult {
    let deadline = ctx.deadline_after(Some(
        step.timeout
            .map_or(DEFAULT_TIMEOUT, |timeout| timeout.as_std()),
    ));
    let node = resolve_node(ctx, step.node.as_deref(), step.node_of.as_ref(), deadline).await?;
    ctx.cordoned.add(&node);
    set_unschedulable(ctx, &node, true, deadline).await?;

    let all_pods: Api<Pod> = Api::all(ctx.client.clone());
    let params = ListParams::default().fields(&format!("spec.nodeName={node}"));
    let on_node = with_retry(&format!("list pods on node/{node}"), deadline, || {
        all_pods.list(&params)
    })
    .await
    .map_err(Failure::from)?;
    let values: Vec<Value> = on_node
        .items
        .iter()
        .filter_map(|pod| serde_json::to_value(pod).ok())
        // The field selector may be ignored by a server; check the node ourselves too.
        .filter(|pod| pod.pointer("/spec/nodeName").and_then(Value::as_str) == Some(&node))
        .collect();
    let plan = plan_evictions(&values, &ctx.namespace);

    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), &ctx.namespace);
    let mut uids = BTreeSet::new();
    for (name, uid) in &plan.evict {
        evict(&pods, name, deadline).await?;
        uids.insert(uid.clone());
    }
    if !uids.is_empty() {
        let target = ResolvedTarget {
            kind: Kind::Pod,
            name: None,
            selector: None,
        };
        let watched = Watched::new(&ctx.client, &ctx.namespace, &target);
        wait_for(&watched, deadline, |live| {
            let left: Vec<String> = live
                .iter()
                .filter(|pod| {
                    pod.metadata
                        .uid
                        .as_ref()
                        .is_some_and(|uid| uids.contains(uid))
                })
                .map(|pod| pod.metadata.name.clone().unwrap_or_default())
                .collect();
            if left.is_empty() {
                WaitVerdict::Met("evicted pods are gone".to_owned())
            } else {
                WaitVerdict::NotYet(format!("evicted but still present: {}", left.join(", ")))
            }
        })
        .await
        .map_err(|error| {
            Failure::new(format!(
                "drained node/{node} but the evicted pods did not go: {error}"
            ))
            .with_kind(error.failure_kind())
            .with_actual(error.observation().render())
        })?;
    }
    let evicted: Vec<&str> = plan.evict.iter().map(|(name, _)| name.as_str()).collect();
    let mut detail = format!(
        "drained node/{node}: evicted {}",
        if evicted.is_empty() {
            "nothing".to_owned()
        } else {
            evicted
                .iter()
                .map(|n| format!("pod/{n}"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
    if !plan.skipped.is_empty() {
        detail.push_str(&format!("; left {}", plan.skipped.join(", ")));
    }
    if plan.elsewhere > 0 {
        detail.push_str(&format!(
            "; {} pods of other namespaces left in place",
            plan.elsewhere
        ));
    }
    Ok(StepReport::detail(detail))
}

/// Evicts one pod, retrying refusals (429: a PodDisruptionBudget allows no disruption now) and
/// transient errors until `deadline`, as every API call is retried. A pod already gone is fine.
async fn evict(pods: &Api<Pod>, name: &str, deadline: Instant) -> Result<(), Failure> {
    let params = EvictParams::default();
    let evicted = with_retry(&format!("evict pod/{name}"), deadline, || {
        pods.evict(name, &params)
    })
    .await;
    match evicted {
        Ok(_) => Ok(()),
        Err(error) if error.is_not_found() => Ok(()),
        Err(ApiError::GaveUp { attempts, last, .. }) => {
            let refused = matches!(&last, kube::Error::Api(status) if status.code == 429);
            let last = describe_kube_error(&last);
            let why = if refused {
                format!(
                    "refused {attempts} times (a PodDisruptionBudget allows no disruption); last: {last}"
                )
            } else {
                format!("{attempts} attempts; last error: {last}")
            };
            // Refusals are the cluster's disruption budget at work; anything else kept
            // petset from asking.
            let kind = if refused {
                FailureKind::Assertion
            } else {
                FailureKind::Api
            };
            Err(Failure::new(format!(
                "failed to evict pod/{name} before the deadline: {why}"
            ))
            .with_kind(kind)
            .with_expected(format!("pod/{name} evicted"))
            .with_actual(last))
        }
        Err(error) => Err(error.into()),
    }
}

/// Which pods on the node a drain evicts.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct EvictionPlan {
    /// (name, uid) of the scenario's pods to evict.
    pub evict: Vec<(String, String)>,
    /// The scenario's pods left alone, with why.
    pub skipped: Vec<String>,
    /// Pods of other namespaces on the node (never touched).
    pub elsewhere: usize,
}

/// Sorts the pods on a node into those to evict and those to leave: pods outside `namespace`,
/// DaemonSet pods, mirror (static) pods, and pods already being deleted are left.
pub(crate) fn plan_evictions(pods: &[Value], namespace: &str) -> EvictionPlan {
    let mut plan = EvictionPlan::default();
    for pod in pods {
        let name = pod
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_owned();
        if pod.pointer("/metadata/namespace").and_then(Value::as_str) != Some(namespace) {
            plan.elsewhere += 1;
            continue;
        }
        let daemon_set = pod
            .pointer("/metadata/ownerReferences")
            .and_then(Value::as_array)
            .is_some_and(|owners| {
                owners
                    .iter()
                    .any(|o| o.get("kind").and_then(Value::as_str) == Some("DaemonSet"))
            });
        let mirror = pod
            .pointer("/metadata/annotations")
            .and_then(|a| a.get("kubernetes.io/config.mirror"))
            .is_some();
        let deleting = pod
            .pointer("/metadata/deletionTimestamp")
            .is_some_and(|v| !v.is_null());
        if daemon_set {
            plan.skipped.push(format!("pod/{name} (DaemonSet)"));
        } else if mirror {
            plan.skipped.push(format!("pod/{name} (mirror pod)"));
        } else if deleting {
            plan.skipped
                .push(format!("pod/{name} (already terminating)"));
        } else {
            let uid = pod
                .pointer("/metadata/uid")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            plan.evict.push((name, uid));
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn leaves_daemonset_mirror_terminating_and_foreign_pods() {
        let pods = [
            json!({"metadata": {"name": "web-0", "namespace": "ns", "uid": "u0"}}),
            json!({"metadata": {"name": "agent", "namespace": "ns", "uid": "u1",
                "ownerReferences": [{"kind": "DaemonSet", "name": "agent"}]}}),
            json!({"metadata": {"name": "etcd", "namespace": "ns", "uid": "u2",
                "annotations": {"kubernetes.io/config.mirror": "x"}}}),
            json!({"metadata": {"name": "web-1", "namespace": "ns", "uid": "u3",
                "deletionTimestamp": "2024-01-01T00:00:00Z"}}),
            json!({"metadata": {"name": "coredns", "namespace": "kube-system", "uid": "u4"}}),
        ];
        let plan = plan_evictions(&pods, "ns");
        assert_eq!(plan.evict, vec![("web-0".to_owned(), "u0".to_owned())]);
        assert_eq!(plan.skipped.len(), 3);
        assert!(plan.skipped[0].contains("DaemonSet"));
        assert_eq!(plan.elsewhere, 1);
    }
}
