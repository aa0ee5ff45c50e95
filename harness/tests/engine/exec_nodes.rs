//! The `cordon`, `uncordon` and `drain` steps against the fake API server.

use crate::support::test_cluster::{TestCluster, pod, step, within};
use petset::steps::run_step;
use petset_fakeapi::Verb;
use serde_json::{Value, json};
use std::time::Duration;

fn node(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}, "spec": {}})
}

fn pod_on(ns: &str, name: &str, node: &str, labels: Value) -> Value {
    let mut pod = pod(ns, name, labels);
    pod["spec"]["nodeName"] = json!(node);
    pod["status"] =
        json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]});
    pod
}

fn unschedulable(fake: &TestCluster, name: &str) -> Value {
    fake.get("v1", "Node", None, name).expect("node")["spec"]["unschedulable"].clone()
}

#[tokio::test]
async fn cordon_and_uncordon_a_node_named_directly_or_through_a_pod() {
    let fake = TestCluster::start().await;
    let mut ctx = fake.ctx("ns");
    fake.create(node("node-a"));
    fake.create(pod_on("ns", "web-0", "node-a", json!({"app": "web"})));

    let cordon = step("cordon: {nodeOf: pod/web-0}");
    let report = within(10, run_step(&cordon, &mut ctx))
        .await
        .expect("cordoned");
    assert_eq!(report.detail, "cordoned node/node-a");
    assert_eq!(unschedulable(&fake, "node-a"), json!(true));
    assert_eq!(ctx.cordoned.names(), vec!["node-a".to_owned()]);

    let uncordon = step("uncordon: {node: node-a}");
    let report = within(10, run_step(&uncordon, &mut ctx))
        .await
        .expect("uncordoned");
    assert_eq!(report.detail, "uncordoned node/node-a");
    assert_eq!(unschedulable(&fake, "node-a"), json!(false));
    assert!(ctx.cordoned.names().is_empty());
}

#[tokio::test]
async fn cordon_failures_say_why_the_node_is_unknown() {
    let fake = TestCluster::start().await;
    let mut ctx = fake.ctx("ns");
    fake.create(pod("ns", "web-0", json!({})));
    let cordon = step("cordon: {nodeOf: pod/web-0}");
    let failure = within(10, run_step(&cordon, &mut ctx))
        .await
        .expect_err("unscheduled");
    assert_eq!(
        failure.message,
        "pod/web-0 is not scheduled on any node yet"
    );
    let cordon = step("cordon: {nodeOf: pod/web-9}");
    let failure = within(10, run_step(&cordon, &mut ctx))
        .await
        .expect_err("no pod");
    assert_eq!(
        failure.message,
        "pod/web-9 not found, so its node is unknown"
    );
    let cordon = step("cordon: {node: node-z}");
    let failure = within(10, run_step(&cordon, &mut ctx))
        .await
        .expect_err("no node");
    assert!(
        failure
            .message
            .starts_with("failed to cordon node/node-z: 404"),
        "{}",
        failure.message
    );
}

#[tokio::test]
async fn drain_evicts_the_scenario_pods_retrying_budget_refusals() {
    let fake = TestCluster::start().await;
    let mut ctx = fake.ctx("ns");
    fake.create(node("node-a"));
    fake.create(node("node-b"));
    fake.create(pod_on("ns", "web-0", "node-a", json!({"app": "web"})));
    fake.create(pod_on("ns", "web-1", "node-a", json!({"app": "web"})));
    let mut agent = pod_on("ns", "agent-x", "node-a", json!({"app": "agent"}));
    agent["metadata"]["ownerReferences"] =
        json!([{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent", "uid": "d1"}]);
    fake.create(agent);
    fake.create(pod_on(
        "kube-system",
        "coredns-1",
        "node-a",
        json!({"k8s-app": "kube-dns"}),
    ));
    fake.create(json!({
        "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
        "metadata": {"name": "web", "namespace": "ns"},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}
    }));
    // Plays the StatefulSet controller: once an evicted pod has terminated and is gone, it
    // comes back on node-b a little later.
    let handle = fake.handle();
    let mut writes = handle.subscribe();
    let recreate = handle.clone();
    tokio::spawn(async move {
        while let Some(event) = writes.recv().await {
            let web_pod =
                event.namespace.as_deref() == Some("ns") && event.name.starts_with("web-");
            if event.is("Pod") && event.removed && web_pod {
                let (h, name) = (recreate.clone(), event.name.clone());
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    let _ = h.create(pod_on("ns", &name, "node-b", json!({"app": "web"})));
                });
            }
        }
    });

    let drain = step("drain: {node: node-a, timeout: 10s}");
    let report = within(20, run_step(&drain, &mut ctx))
        .await
        .expect("drained");
    // The budget refused web-1 until web-0 was back: those refusals were retried and counted.
    let (drained, retried) = report
        .detail
        .split_once(" (retried ")
        .expect("the refusals are counted");
    assert_eq!(
        drained,
        "drained node/node-a: evicted pod/web-0, pod/web-1; left pod/agent-x (DaemonSet); \
         1 pods of other namespaces left in place"
    );
    assert!(retried.contains(": 429"), "{}", report.detail);
    assert_eq!(unschedulable(&fake, "node-a"), json!(true));
    assert_eq!(ctx.cordoned.names(), vec!["node-a".to_owned()]);
    // web-1 could only be evicted once web-0 was back (the budget needs one ready pod), so
    // web-0 is already on node-b; web-1 follows shortly.
    let web0 = fake
        .get("v1", "Pod", Some("ns"), "web-0")
        .expect("web-0 back before web-1 went");
    assert_eq!(web0["spec"]["nodeName"], "node-b");
    within(5, async {
        while fake.get("v1", "Pod", Some("ns"), "web-1").is_none() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(
        fake.handle().request_count(Verb::Create, "pods") >= 3,
        "an eviction was refused and retried: {:?}",
        fake.handle().request_counts()
    );
    assert!(
        fake.get("v1", "Pod", Some("kube-system"), "coredns-1")
            .is_some()
    );
    assert!(fake.get("v1", "Pod", Some("ns"), "agent-x").is_some());
}

#[tokio::test]
async fn drain_fails_when_a_budget_refuses_until_the_timeout() {
    let fake = TestCluster::start().await;
    let mut ctx = fake.ctx("ns");
    fake.create(node("node-a"));
    fake.create(pod_on("ns", "web-0", "node-a", json!({"app": "web"})));
    fake.create(json!({
        "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
        "metadata": {"name": "web", "namespace": "ns"},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}
    }));
    let drain = step("drain: {node: node-a, timeout: 1s}");
    let failure = within(10, run_step(&drain, &mut ctx))
        .await
        .expect_err("refused");
    assert!(
        failure
            .message
            .starts_with("failed to evict pod/web-0 before the deadline: refused"),
        "{}",
        failure.message
    );
    assert!(
        failure.message.contains("PodDisruptionBudget"),
        "{}",
        failure.message
    );
    assert!(failure.message.contains("429"), "{}", failure.message);
    // The node stays recorded, so cleanup uncordons it.
    assert_eq!(ctx.cordoned.names(), vec!["node-a".to_owned()]);
    assert!(fake.get("v1", "Pod", Some("ns"), "web-0").is_some());
}
