//! The capability probe run before the trials: what the cluster offers that scenarios may
//! require (schedulable nodes, a default StorageClass, cluster DNS, its version and
//! architectures).

use std::collections::BTreeSet;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Service};
use k8s_openapi::api::storage::v1::StorageClass;
use kube::Api;
use kube::api::ListParams;

use super::handle::ServerVersion;

/// The annotation that marks a StorageClass as the default.
const DEFAULT_CLASS_ANNOTATION: &str = "storageclass.kubernetes.io/is-default-class";

/// What the cluster offers (serialisable, so one probe can serve every process of a
/// cargo-nextest run).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Capabilities {
    pub server_version: ServerVersion,
    /// All nodes.
    pub nodes: u32,
    /// Nodes a plain pod can land on: not cordoned, no `NoSchedule`/`NoExecute` taint.
    pub schedulable_nodes: u32,
    /// The default StorageClass's name, if there is one.
    pub default_storage_class: Option<String>,
    /// The cluster DNS Service in `kube-system` (`kube-dns` or `coredns`), if there is one.
    pub cluster_dns: Option<String>,
    /// The nodes' CPU architectures (`amd64`, `arm64`), sorted.
    pub architectures: Vec<String>,
}

/// The probe could not read the cluster.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("failed to probe the cluster: could not {what}")]
    Api {
        what: &'static str,
        #[source]
        source: kube::Error,
    },
    #[error("failed to probe the cluster: no answer within {}", super::tools::seconds(*.0))]
    TimedOut(Duration),
    #[error("failed to probe the cluster: {0}")]
    Version(String),
}

/// Asks the cluster what it offers, within `deadline`.
pub async fn probe(client: &kube::Client, deadline: Duration) -> Result<Capabilities, ProbeError> {
    tokio::time::timeout(deadline, probe_now(client))
        .await
        .map_err(|_| ProbeError::TimedOut(deadline))?
}

async fn probe_now(client: &kube::Client) -> Result<Capabilities, ProbeError> {
    let api_err = |what| move |source| ProbeError::Api { what, source };
    let info = client
        .apiserver_version()
        .await
        .map_err(api_err("read the server version"))?;
    let server_version = ServerVersion::from_info(&info).map_err(ProbeError::Version)?;
    let nodes = Api::<Node>::all(client.clone())
        .list(&ListParams::default())
        .await
        .map_err(api_err("list nodes"))?
        .items;
    let classes = Api::<StorageClass>::all(client.clone())
        .list(&ListParams::default())
        .await
        .map_err(api_err("list storage classes"))?
        .items;
    let services = Api::<Service>::namespaced(client.clone(), "kube-system")
        .list(&ListParams::default())
        .await
        .map_err(api_err("list services in kube-system"))?
        .items;
    Ok(Capabilities {
        server_version,
        nodes: count(nodes.len()),
        schedulable_nodes: count(nodes.iter().filter(|n| schedulable(n)).count()),
        default_storage_class: classes
            .iter()
            .find(|c| is_default_class(c))
            .and_then(|c| c.metadata.name.clone()),
        cluster_dns: services
            .iter()
            .filter_map(|s| s.metadata.name.clone())
            .find(|name| name == "kube-dns" || name == "coredns"),
        architectures: nodes
            .iter()
            .filter_map(architecture)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
    })
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Not cordoned and not tainted against ordinary pods. `NoExecute` counts too: it evicts
/// what lands there. Control-plane nodes carry such a taint, so kind's 1+2 nodes count 2.
fn schedulable(node: &Node) -> bool {
    let Some(spec) = &node.spec else { return true };
    if spec.unschedulable == Some(true) {
        return false;
    }
    !spec
        .taints
        .iter()
        .flatten()
        .any(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
}

fn is_default_class(class: &StorageClass) -> bool {
    class
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(DEFAULT_CLASS_ANNOTATION))
        .is_some_and(|v| v == "true")
}

fn architecture(node: &Node) -> Option<String> {
    node.status
        .as_ref()
        .and_then(|s| s.node_info.as_ref())
        .map(|i| i.architecture.clone())
        .filter(|a| !a.is_empty())
        .or_else(|| {
            node.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("kubernetes.io/arch"))
                .cloned()
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{NodeSpec, Taint};

    fn node(unschedulable: Option<bool>, taints: &[&str]) -> Node {
        Node {
            spec: Some(NodeSpec {
                unschedulable,
                taints: Some(
                    taints
                        .iter()
                        .map(|effect| Taint {
                            key: "k".into(),
                            effect: effect.to_string(),
                            ..Taint::default()
                        })
                        .collect(),
                ),
                ..NodeSpec::default()
            }),
            ..Node::default()
        }
    }

    #[test]
    fn cordoned_and_tainted_nodes_are_not_schedulable() {
        assert!(schedulable(&Node::default()));
        assert!(schedulable(&node(Some(false), &["PreferNoSchedule"])));
        assert!(!schedulable(&node(Some(true), &[])));
        assert!(!schedulable(&node(None, &["NoSchedule"])));
        assert!(!schedulable(&node(None, &["NoExecute"])));
    }
}
