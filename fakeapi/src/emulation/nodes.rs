//! Two emulated worker nodes, and the scheduler: a pod goes to the schedulable node with the
//! fewest pods.

use serde_json::{Value, json};

use super::config::Fault;
use super::objects::{create_missing, deleting, s};
use super::state::Shared;
use crate::handle::Handle;

pub(crate) const NODES: [&str; 2] = ["emulated-node-1", "emulated-node-2"];

/// Creates the nodes if they are missing.
pub(crate) fn ensure(h: &Handle) {
    for (i, node) in NODES.iter().enumerate() {
        create_missing(
            h,
            json!({
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": node, "labels": {
                    "kubernetes.io/hostname": node,
                    "kubernetes.io/arch": "amd64",
                    "kubernetes.io/os": "linux",
                }},
                "spec": {},
                "status": {
                    "conditions": [{"type": "Ready", "status": "True"}],
                    "addresses": [{"type": "InternalIP", "address": format!("172.18.0.{}", i + 2)}],
                    "nodeInfo": {"architecture": "amd64", "kubeletVersion": "v1.33.1"},
                    "allocatable": {"cpu": "8", "memory": "16Gi", "pods": "110"},
                },
            }),
        );
    }
}

/// The node a new pod should go to, if any is schedulable.
pub(crate) fn pick(shared: &Shared, pods: &[Value]) -> Option<String> {
    if shared.config.has(Fault::DrainLeavesPodOnNode) {
        return Some(NODES[0].to_string());
    }
    let nodes = shared.handle.list("v1", "Node", None);
    nodes
        .iter()
        .filter(|n| n.pointer("/spec/unschedulable").and_then(Value::as_bool) != Some(true))
        .map(|n| s(n, "/metadata/name").to_string())
        .min_by_key(|node| {
            pods.iter()
                .filter(|p| !deleting(p) && s(p, "/spec/nodeName") == node)
                .count()
        })
}
