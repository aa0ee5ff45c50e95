//! Create, get, list, replace and delete, with the API's conflict rules and selectors.

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::discovery::Discovery;
use serde_json::json;

use kube::runtime::wait::{await_condition, conditions};

use crate::{start, within};

fn cm(name: &str, labels: serde_json::Value) -> ConfigMap {
    serde_json::from_value(
        json!({"metadata": {"name": name, "labels": labels}, "data": {"k": "v"}}),
    )
    .unwrap()
}

fn ns(name: &str) -> Namespace {
    serde_json::from_value(json!({"metadata": {"name": name}})).unwrap()
}

#[tokio::test]
async fn discovery_lists_the_served_kinds() {
    let (_server, client) = start().await;
    let v = client.apiserver_version().await.unwrap();
    assert_eq!(v.major, "1");
    let discovery = Discovery::new(client).run().await.unwrap();
    let mut found = Vec::new();
    for group in discovery.groups() {
        for (ar, caps) in group.recommended_resources() {
            found.push((
                ar.kind.clone(),
                caps.subresources
                    .iter()
                    .map(|(s, _)| s.plural.clone())
                    .collect::<Vec<_>>(),
            ));
        }
    }
    let kinds: Vec<&str> = found.iter().map(|(k, _)| k.as_str()).collect();
    for k in [
        "Pod",
        "StatefulSet",
        "Deployment",
        "PodDisruptionBudget",
        "StorageClass",
        "EndpointSlice",
        "PersistentVolumeClaim",
    ] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    let sts_subs = &found.iter().find(|(k, _)| k == "StatefulSet").unwrap().1;
    assert!(
        sts_subs.iter().any(|s| s.ends_with("scale"))
            && sts_subs.iter().any(|s| s.ends_with("status")),
        "{sts_subs:?}"
    );
}

#[tokio::test]
async fn create_get_replace_delete() {
    let (server, client) = start().await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let created = api
        .create(&PostParams::default(), &cm("a", json!({})))
        .await
        .unwrap();
    let rv1 = created.metadata.resource_version.clone().unwrap();
    assert!(created.metadata.uid.is_some() && created.metadata.creation_timestamp.is_some());
    assert_eq!(created.metadata.generation, Some(1));

    let err = api
        .create(&PostParams::default(), &cm("a", json!({})))
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 409 && s.reason == "AlreadyExists"),
        "{err:?}"
    );

    let mut changed = api.get("a").await.unwrap();
    changed.data = Some([("k".to_string(), "w".to_string())].into());
    let replaced = api
        .replace("a", &PostParams::default(), &changed)
        .await
        .unwrap();
    let rv2 = replaced.metadata.resource_version.clone().unwrap();
    assert_ne!(rv2, rv1, "a write gives a new (opaque) resourceVersion");
    assert_eq!(replaced.metadata.generation, Some(2));
    assert_eq!(replaced.metadata.uid, created.metadata.uid);

    // `changed` still carries the old resourceVersion: the update must conflict.
    let err = api
        .replace("a", &PostParams::default(), &changed)
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 409 && s.reason == "Conflict"),
        "{err:?}"
    );

    assert_eq!(
        server.get("v1", "cm", Some("default"), "a").unwrap()["data"]["k"],
        "w"
    );
    api.delete("a", &DeleteParams::default()).await.unwrap();
    let err = api.get("a").await.unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 404 && s.reason == "NotFound"),
        "{err:?}"
    );
    assert!(api.get_opt("a").await.unwrap().is_none());
}

#[tokio::test]
async fn creating_in_a_missing_namespace_is_not_found() {
    let (_server, client) = start().await;
    let api: Api<ConfigMap> = Api::namespaced(client, "nowhere");
    let err = api
        .create(&PostParams::default(), &cm("a", json!({})))
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 404),
        "{err:?}"
    );
}

#[tokio::test]
async fn lists_filter_by_label_and_field_selectors() {
    let (_server, client) = start().await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let pp = PostParams::default();
    api.create(&pp, &cm("web-a", json!({"app": "web", "tier": "front"})))
        .await
        .unwrap();
    api.create(&pp, &cm("web-b", json!({"app": "web", "tier": "back"})))
        .await
        .unwrap();
    api.create(&pp, &cm("db", json!({"app": "db"})))
        .await
        .unwrap();
    let names = |lp: ListParams| {
        let api = api.clone();
        async move {
            api.list(&lp)
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|c| c.metadata.name.unwrap())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        names(ListParams::default().labels("app=web")).await,
        ["web-a", "web-b"]
    );
    assert_eq!(
        names(ListParams::default().labels("app==web,tier!=front")).await,
        ["web-b"]
    );
    assert_eq!(
        names(ListParams::default().labels("tier in (front,back)")).await,
        ["web-a", "web-b"]
    );
    assert_eq!(
        names(ListParams::default().labels("app notin (web)")).await,
        ["db"]
    );
    assert_eq!(names(ListParams::default().labels("!tier")).await, ["db"]);
    assert_eq!(
        names(ListParams::default().labels("tier")).await,
        ["web-a", "web-b"]
    );
    assert_eq!(
        names(ListParams::default().fields("metadata.name=db")).await,
        ["db"]
    );
    assert_eq!(
        names(ListParams::default().fields("metadata.name!=db")).await,
        ["web-a", "web-b"]
    );

    let list = api.list(&ListParams::default()).await.unwrap();
    assert!(!list.metadata.resource_version.unwrap().is_empty());
    let all: Api<ConfigMap> = Api::all(client);
    let found = all
        .list(&ListParams::default().fields("metadata.namespace=default"))
        .await
        .unwrap();
    assert_eq!(found.items.len(), 3);
}

#[tokio::test]
async fn finalizers_defer_deletion_until_cleared() {
    let (server, client) = start().await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let mut obj = cm("held", json!({}));
    obj.metadata.finalizers = Some(vec!["example.com/hold".into()]);
    api.create(&PostParams::default(), &obj).await.unwrap();
    api.delete("held", &DeleteParams::default()).await.unwrap();
    let held = api.get("held").await.unwrap();
    assert!(held.metadata.deletion_timestamp.is_some());
    server
        .patch(
            "v1",
            "ConfigMap",
            Some("default"),
            "held",
            json!({"metadata": {"finalizers": null}}),
        )
        .unwrap();
    assert!(api.get_opt("held").await.unwrap().is_none());
}

#[tokio::test]
async fn deleting_a_namespace_removes_its_objects() {
    let (server, client) = start().await;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .create(&PostParams::default(), &ns("scratch"))
        .await
        .unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "scratch");
    cms.create(&PostParams::default(), &cm("one", json!({})))
        .await
        .unwrap();
    namespaces
        .delete("scratch", &DeleteParams::default())
        .await
        .unwrap();
    // Terminating first; its controller empties it and removes the `kubernetes` finalizer.
    let terminating = namespaces.get("scratch").await.unwrap();
    assert_eq!(
        terminating.status.as_ref().unwrap().phase.as_deref(),
        Some("Terminating")
    );
    let uid = terminating.metadata.uid.clone().unwrap();
    within(
        "the namespace to go",
        await_condition(namespaces.clone(), "scratch", conditions::is_deleted(&uid)),
    )
    .await
    .unwrap();
    assert!(server.list("v1", "configmaps", Some("scratch")).is_empty());

    // A namespace with a finalizer stays Terminating (and closed to new objects) until cleared.
    let mut held = ns("held");
    held.metadata.finalizers = Some(vec!["example.com/hold".into()]);
    namespaces
        .create(&PostParams::default(), &held)
        .await
        .unwrap();
    namespaces
        .delete("held", &DeleteParams::default())
        .await
        .unwrap();
    let terminating = namespaces.get("held").await.unwrap();
    assert_eq!(
        terminating.status.as_ref().unwrap().phase.as_deref(),
        Some("Terminating")
    );
    let err = Api::<ConfigMap>::namespaced(client, "held")
        .create(&PostParams::default(), &cm("x", json!({})))
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 403),
        "{err:?}"
    );
    server
        .patch(
            "v1",
            "ns",
            None,
            "held",
            json!({"metadata": {"finalizers": []}}),
        )
        .unwrap();
    let uid = terminating.metadata.uid.clone().unwrap();
    within(
        "the namespace to go",
        await_condition(namespaces.clone(), "held", conditions::is_deleted(&uid)),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn owned_objects_are_garbage_collected() {
    let (server, client) = start().await;
    let sts: Api<StatefulSet> = Api::namespaced(client.clone(), "default");
    let set: StatefulSet = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "serviceName": "web", "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}
    }))
    .unwrap();
    let set = sts.create(&PostParams::default(), &set).await.unwrap();
    server
        .create(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-0", "namespace": "default",
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "uid": set.metadata.uid.unwrap(), "controller": true}]}}))
        .unwrap();
    let pods: Api<Pod> = Api::namespaced(client, "default");
    assert!(pods.get_opt("web-0").await.unwrap().is_some());
    sts.delete("web", &DeleteParams::default()).await.unwrap();
    assert!(pods.get_opt("web-0").await.unwrap().is_none());
}

#[tokio::test]
async fn api_creates_drop_status_and_get_defaults() {
    let (_server, client) = start().await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let pod: Pod = serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "i"}]}, "status": {"phase": "Running"}})).unwrap();
    let pod = pods.create(&PostParams::default(), &pod).await.unwrap();
    assert_eq!(pod.status.unwrap().phase.as_deref(), Some("Pending"));
    let sts: Api<StatefulSet> = Api::namespaced(client, "default");
    let set: StatefulSet = serde_json::from_value(json!({"metadata": {"generateName": "web-"}, "spec": {"selector": {}, "serviceName": "s", "template": {}}})).unwrap();
    let set = sts.create(&PostParams::default(), &set).await.unwrap();
    assert!(set.metadata.name.unwrap().starts_with("web-"));
    assert_eq!(set.spec.unwrap().replicas, Some(1));
}

#[tokio::test]
async fn resource_versions_are_opaque_neither_numbers_nor_in_order() {
    let (_server, client) = start().await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let mut versions = Vec::new();
    for i in 0..8 {
        let cm: ConfigMap =
            serde_json::from_value(serde_json::json!({"metadata": {"name": format!("rv-{i}")}}))
                .unwrap();
        let created = api.create(&PostParams::default(), &cm).await.unwrap();
        versions.push(created.metadata.resource_version.unwrap());
    }
    assert!(
        versions.iter().all(|v| v.parse::<u64>().is_err()),
        "{versions:?}"
    );
    let mut sorted = versions.clone();
    sorted.sort();
    assert_ne!(sorted, versions, "string order does not follow write order");
    // A stale version is still a conflict, compared for equality only.
    let mut stale = api.get("rv-0").await.unwrap();
    let mut fresh = stale.clone();
    fresh.data = Some([("k".to_owned(), "first".to_owned())].into());
    api.replace("rv-0", &PostParams::default(), &fresh)
        .await
        .unwrap();
    stale.data = Some([("k".to_owned(), "v".to_owned())].into());
    let err = api
        .replace("rv-0", &PostParams::default(), &stale)
        .await
        .unwrap_err();
    assert!(matches!(err, kube::Error::Api(s) if s.code == 409));
}
