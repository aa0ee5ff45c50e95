//! The capability probe and `requires` evaluation against the fake API server: one node vs
//! three (one a tainted control plane), with and without a default StorageClass and DNS.

use std::time::Duration;

use crate::cluster_support::{StandIns, settings};
use petset::cluster::{Capabilities, Cluster, Selection, connect, evaluate};
use petset::scenario::model::Requires;
use petset_fakeapi::{FakeApiServer, Lasting, RequestFilter, Verb};
use serde_json::{Value, json};

/// Connects to the fake through the same path users take: a kubeconfig and `current`.
async fn connect_to(fake: &FakeApiServer, bin: &StandIns) -> Cluster {
    let path = bin.dir().join("kubeconfig");
    fake.write_kubeconfig(&path).expect("kubeconfig");
    let mut settings = settings(&[("PETSET_CLUSTER", "current")]);
    settings.kubeconfig = Some(path.into());
    match connect(&settings, &bin.runner()).await {
        Ok(Selection::Connected(cluster)) => cluster,
        other => panic!("expected the fake, got {other:?}"),
    }
}

fn node(name: &str, arch: &str, extra_spec: Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/arch": arch}},
        "spec": extra_spec,
        "status": {"nodeInfo": {
            "architecture": arch, "bootID": "", "containerRuntimeVersion": "containerd://2.1.1",
            "kernelVersion": "6.8.0", "kubeProxyVersion": "", "kubeletVersion": "v1.33.1",
            "machineID": "", "operatingSystem": "linux", "osImage": "Debian", "systemUUID": ""
        }}
    })
}

fn storage_class(name: &str, default: Option<&str>) -> Value {
    let mut annotations = serde_json::Map::new();
    if let Some(value) = default {
        annotations.insert(
            "storageclass.kubernetes.io/is-default-class".into(),
            json!(value),
        );
    }
    json!({
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": name, "annotations": annotations},
        "provisioner": "rancher.io/local-path"
    })
}

/// A kind-like cluster: a tainted control plane and two workers (one arm64), a default
/// StorageClass beside a non-default one, and kube-dns.
fn three_nodes(fake: &FakeApiServer) {
    let taint = json!({"taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]});
    for object in [
        node("petset-control-plane", "amd64", taint),
        node("petset-worker", "amd64", json!({})),
        node("petset-worker2", "arm64", json!({})),
        storage_class("standard", Some("true")),
        storage_class("slow", Some("false")),
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kube-dns", "namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}},
            "spec": {"ports": [{"name": "dns", "port": 53, "protocol": "UDP"}]}
        }),
    ] {
        fake.create(object).expect("create");
    }
}

fn requires(nodes: Option<u32>, class: bool, dns: bool, min: Option<&str>) -> Requires {
    Requires {
        nodes,
        default_storage_class: class,
        cluster_dns: dns,
        min_server_version: min.map(str::to_string),
    }
}

async fn probe(cluster: &Cluster) -> Capabilities {
    cluster
        .probe()
        .await
        .unwrap_or_else(|e| panic!("{}", petset::cluster::chain(&e)))
}

#[tokio::test]
async fn one_node_without_storage_or_dns() {
    let fake = FakeApiServer::start().await.expect("fake");
    fake.create(node("solo", "amd64", json!({}))).expect("node");
    fake.create(storage_class("manual", None)).expect("class");
    let bin = StandIns::new();
    let cluster = connect_to(&fake, &bin).await;
    assert_eq!(cluster.context(), "fake");
    let caps = probe(&cluster).await;
    assert_eq!((caps.nodes, caps.schedulable_nodes), (1, 1));
    assert_eq!(caps.default_storage_class, None);
    assert_eq!(caps.cluster_dns, None);
    assert_eq!(caps.architectures, ["amd64"]);
    assert_eq!(
        (caps.server_version.major, caps.server_version.minor),
        (1, 33)
    );

    assert_eq!(
        evaluate(&requires(Some(1), false, false, Some("1.29")), &caps),
        Ok(())
    );
    let unmet = evaluate(&requires(Some(2), true, true, None), &caps).expect_err("unmet");
    assert_eq!(
        unmet.reasons,
        [
            "needs 2 schedulable nodes, cluster has 1",
            "needs a default StorageClass, cluster has none",
            "needs cluster DNS (a kube-dns or coredns Service in kube-system), cluster has none",
        ]
    );
}

#[tokio::test]
async fn three_nodes_with_a_tainted_control_plane_a_default_class_and_dns() {
    let fake = FakeApiServer::start().await.expect("fake");
    three_nodes(&fake);
    let bin = StandIns::new();
    let cluster = connect_to(&fake, &bin).await;
    let caps = probe(&cluster).await;
    assert_eq!((caps.nodes, caps.schedulable_nodes), (3, 2));
    assert_eq!(caps.default_storage_class.as_deref(), Some("standard"));
    assert_eq!(caps.cluster_dns.as_deref(), Some("kube-dns"));
    assert_eq!(caps.architectures, ["amd64", "arm64"]);

    assert_eq!(
        evaluate(&requires(Some(2), true, true, Some("1.33")), &caps),
        Ok(())
    );
    assert_eq!(
        evaluate(&requires(Some(3), true, true, Some("1.34")), &caps)
            .expect_err("unmet")
            .to_string(),
        "needs 3 schedulable nodes, cluster has 2; needs Kubernetes 1.34 or newer, cluster runs 1.33"
    );
}

#[tokio::test]
async fn cordoning_a_node_and_dropping_the_default_class_are_seen() {
    let fake = FakeApiServer::start().await.expect("fake");
    three_nodes(&fake);
    let bin = StandIns::new();
    let cluster = connect_to(&fake, &bin).await;
    fake.patch(
        "v1",
        "Node",
        None,
        "petset-worker2",
        json!({"spec": {"unschedulable": true}}),
    )
    .expect("cordon");
    fake.delete("storage.k8s.io/v1", "StorageClass", None, "standard")
        .expect("delete class");
    let caps = probe(&cluster).await;
    assert_eq!(caps.schedulable_nodes, 1);
    assert_eq!(caps.default_storage_class, None);
    assert_eq!(
        evaluate(&requires(Some(2), true, false, None), &caps)
            .expect_err("unmet")
            .to_string(),
        "needs 2 schedulable nodes, cluster has 1; needs a default StorageClass, cluster has none"
    );
}

#[tokio::test]
async fn a_failing_list_is_reported_not_guessed() {
    let fake = FakeApiServer::start().await.expect("fake");
    three_nodes(&fake);
    let bin = StandIns::new();
    let cluster = connect_to(&fake, &bin).await;
    fake.fail_requests(
        RequestFilter::any()
            .verb(Verb::List)
            .resource("storageclasses"),
        // 500, not 503: kube retries 429/503/504 with backoff (the deadline test covers that).
        500,
        Lasting::Always,
    );
    let err = cluster.probe().await.expect_err("the list fails");
    let text = petset::cluster::chain(&err);
    assert!(
        text.starts_with("failed to probe the cluster: could not list storage classes"),
        "{text}"
    );
}

// Paused time: the fake's 30 s delay and the probe's 0.5 s deadline run on the test's clock, so
// which comes first does not depend on the machine's load.
#[tokio::test(start_paused = true)]
async fn a_slow_cluster_hits_the_probe_deadline() {
    let fake = FakeApiServer::start().await.expect("fake");
    let bin = StandIns::new();
    let cluster = connect_to(&fake, &bin).await;
    fake.delay_requests(
        RequestFilter::any().resource("nodes"),
        Duration::from_secs(30),
        Lasting::Always,
    );
    let started = tokio::time::Instant::now();
    let err = petset::cluster::probe(&cluster.client(), Duration::from_millis(500))
        .await
        .expect_err("too slow");
    assert_eq!(started.elapsed(), Duration::from_millis(500));
    assert_eq!(
        err.to_string(),
        "failed to probe the cluster: no answer within 0.5s"
    );
}
