//! Graceful deletion: pods kept through their grace period, claims and volumes held by their
//! protection finalizers, namespaces Terminating while their controller empties them.

use std::time::Duration;

use k8s_openapi::api::core::v1::{Namespace, PersistentVolume, PersistentVolumeClaim, Pod};
use kube::api::{Api, DeleteParams, PostParams};
use kube::runtime::wait::{await_condition, conditions};
use serde_json::json;

use crate::{start, within};

fn pod(name: &str, node: Option<&str>, claim: Option<&str>) -> Pod {
    let mut spec =
        json!({"containers": [{"name": "c", "image": "i"}], "terminationGracePeriodSeconds": 5});
    if let Some(node) = node {
        spec["nodeName"] = json!(node);
    }
    if let Some(claim) = claim {
        spec["volumes"] = json!([{"name": "data", "persistentVolumeClaim": {"claimName": claim}}]);
    }
    serde_json::from_value(json!({"metadata": {"name": name}, "spec": spec})).unwrap()
}

fn claim(name: &str) -> PersistentVolumeClaim {
    serde_json::from_value(json!({"metadata": {"name": name}, "spec": {
        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}))
    .unwrap()
}

/// What these tests ask of an API: an object kube can create, read and delete.
trait Object:
    kube::Resource
    + Clone
    + std::fmt::Debug
    + serde::Serialize
    + serde::de::DeserializeOwned
    + Send
    + 'static
{
}

impl<K> Object for K where
    K: kube::Resource
        + Clone
        + std::fmt::Debug
        + serde::Serialize
        + serde::de::DeserializeOwned
        + Send
        + 'static
{
}

async fn create<K: Object>(api: &Api<K>, object: &K) -> K {
    api.create(&PostParams::default(), object).await.unwrap()
}

/// Deletes `name`, with this grace period when one is given (else the object's own).
async fn delete<K: Object>(api: &Api<K>, name: &str, grace: Option<u32>) {
    let params = match grace {
        Some(seconds) => DeleteParams::default().grace_period(seconds),
        None => DeleteParams::default(),
    };
    api.delete(name, &params).await.unwrap();
}

/// Waits until `object` (this very object: its uid) is gone from the API.
async fn gone<K: Object>(api: &Api<K>, object: &K) {
    let meta = object.meta();
    let name = meta.name.as_deref().unwrap();
    let uid = meta.uid.as_deref().unwrap();
    within(
        &format!("{name} to go"),
        await_condition(api.clone(), name, conditions::is_deleted(uid)),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_pod_on_a_node_stays_terminating_for_its_grace_period() {
    let (server, client) = start().await;
    // Grace periods that outlast the test, so only a grace-0 delete can end them.
    server.set_grace_second(Duration::from_secs(3600));
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let created = create(&pods, &pod("web-0", Some("node-1"), None)).await;
    delete(&pods, "web-0", None).await;
    let terminating = pods.get("web-0").await.unwrap();
    assert!(terminating.metadata.deletion_timestamp.is_some());
    assert_eq!(terminating.metadata.deletion_grace_period_seconds, Some(5));

    // A longer grace period cannot extend it; a shorter one shortens it.
    delete(&pods, "web-0", Some(60)).await;
    let same = pods.get("web-0").await.unwrap();
    assert_eq!(same.metadata.deletion_grace_period_seconds, Some(5));
    delete(&pods, "web-0", Some(2)).await;
    let shorter = pods.get("web-0").await.unwrap();
    assert_eq!(shorter.metadata.deletion_grace_period_seconds, Some(2));

    // Grace 0 (the kubelet's last delete, or --force) ends it.
    delete(&pods, "web-0", Some(0)).await;
    gone(&pods, &created).await;

    // A pod no node runs goes at once.
    create(&pods, &pod("pending", None, None)).await;
    delete(&pods, "pending", None).await;
    assert!(pods.get_opt("pending").await.unwrap().is_none());
}

#[tokio::test]
async fn a_grace_period_ends_on_the_fakes_clock() {
    let (server, client) = start().await;
    server.set_grace_second(Duration::from_millis(1));
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let created = create(&pods, &pod("web-0", Some("node-1"), None)).await;
    delete(&pods, "web-0", None).await;
    gone(&pods, &created).await;
}

#[tokio::test]
async fn a_claim_in_use_stays_terminating_until_its_pod_is_gone() {
    let (server, client) = start().await;
    server.set_grace_second(Duration::from_secs(3600));
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let created = create(&claims, &claim("data-web-0")).await;
    assert_eq!(
        created.metadata.finalizers.as_deref(),
        Some(&["kubernetes.io/pvc-protection".to_owned()][..])
    );
    create(&pods, &pod("web-0", Some("node-1"), Some("data-web-0"))).await;
    delete(&claims, "data-web-0", None).await;
    // The pod is deleted too but still terminating: the claim is still in use.
    delete(&pods, "web-0", None).await;
    let held = claims.get("data-web-0").await.unwrap();
    assert!(held.metadata.deletion_timestamp.is_some());
    assert_eq!(
        held.metadata.finalizers.as_deref(),
        Some(&["kubernetes.io/pvc-protection".to_owned()][..])
    );
    delete(&pods, "web-0", Some(0)).await;
    gone(&claims, &created).await;
}

#[tokio::test]
async fn a_bound_volume_is_held_by_pv_protection() {
    let (server, client) = start().await;
    let volumes: Api<PersistentVolume> = Api::all(client);
    server
        .create(json!({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv-1"},
            "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "hostPath": {"path": "/tmp"}},
            "status": {"phase": "Bound"}}))
        .unwrap();
    delete(&volumes, "pv-1", None).await;
    let held = volumes.get("pv-1").await.unwrap();
    assert_eq!(
        held.metadata.finalizers.as_deref(),
        Some(&["kubernetes.io/pv-protection".to_owned()][..])
    );
    server
        .set_status(
            "v1",
            "PersistentVolume",
            None,
            "pv-1",
            json!({"phase": "Released"}),
        )
        .unwrap();
    gone(&volumes, &held).await;
}

#[tokio::test]
async fn a_terminating_namespace_reports_what_is_left_until_it_is_empty() {
    let (server, client) = start().await;
    server.set_grace_second(Duration::from_secs(3600));
    server.set_namespace_cleanup_delay(Duration::ZERO);
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": "scratch"}})).unwrap();
    let created = create(&namespaces, &ns).await;
    assert_eq!(
        created.spec.as_ref().unwrap().finalizers,
        Some(vec!["kubernetes".to_owned()])
    );
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), "scratch");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "scratch");
    create(&claims, &claim("data")).await;
    create(&pods, &pod("db-0", Some("node-1"), Some("data"))).await;
    delete(&namespaces, "scratch", None).await;
    let reported = within(
        "the namespace controller to report",
        await_condition(namespaces.clone(), "scratch", |ns: Option<&Namespace>| {
            ns.and_then(|n| n.status.as_ref()?.conditions.as_ref())
                .is_some_and(|c| {
                    c.iter()
                        .any(|c| c.type_ == "NamespaceContentRemaining" && c.status == "True")
                })
        }),
    )
    .await
    .unwrap()
    .unwrap();
    let conditions = reported.status.unwrap().conditions.unwrap();
    let message = |kind: &str| {
        conditions
            .iter()
            .find(|c| c.type_ == kind)
            .and_then(|c| c.message.clone())
            .unwrap()
    };
    assert_eq!(
        message("NamespaceContentRemaining"),
        "Some resources are remaining: persistentvolumeclaims. has 1 resource instances, \
         pods. has 1 resource instances"
    );
    assert_eq!(
        message("NamespaceFinalizersRemaining"),
        "Some content in the namespace has finalizers remaining: \
         kubernetes.io/pvc-protection in 1 resource instances"
    );
    assert_eq!(
        reported.spec.unwrap().finalizers,
        Some(vec!["kubernetes".to_owned()])
    );

    // The pod's kubelet finishes; the claim is released, and the namespace goes.
    server.delete_pod_now("scratch", "db-0").unwrap();
    gone(&namespaces, &created).await;
}
