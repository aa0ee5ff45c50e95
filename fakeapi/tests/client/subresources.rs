//! `/status`, `/scale`, eviction against PodDisruptionBudgets, and pod logs.

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{Api, EvictParams, LogParams, Patch, PatchParams, PostParams};
use serde_json::json;

use crate::start;

async fn make_sts(api: &Api<StatefulSet>, name: &str) -> StatefulSet {
    let s: StatefulSet = serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"replicas": 2, "serviceName": name, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}
    }))
    .unwrap();
    api.create(&PostParams::default(), &s).await.unwrap()
}

#[tokio::test]
async fn status_subresource_is_separate_from_the_main_resource() {
    let (_server, client) = start().await;
    let api: Api<StatefulSet> = Api::namespaced(client, "default");
    make_sts(&api, "web").await;
    let pp = PatchParams::default();
    let after = api
        .patch_status(
            "web",
            &pp,
            &Patch::Merge(json!({"status": {"replicas": 2, "readyReplicas": 1}})),
        )
        .await
        .unwrap();
    assert_eq!(after.status.as_ref().unwrap().ready_replicas, Some(1));
    assert_eq!(after.metadata.generation, Some(1));

    // Status in a main-resource write is ignored, and spec in a status write too.
    let ignored = api
        .patch(
            "web",
            &pp,
            &Patch::Merge(json!({"status": {"readyReplicas": 0}})),
        )
        .await
        .unwrap();
    assert_eq!(ignored.status.as_ref().unwrap().ready_replicas, Some(1));
    let ignored = api
        .patch_status("web", &pp, &Patch::Merge(json!({"spec": {"replicas": 9}})))
        .await
        .unwrap();
    assert_eq!(ignored.spec.as_ref().unwrap().replicas, Some(2));

    let mut current = api.get_status("web").await.unwrap();
    current.status.as_mut().unwrap().ready_replicas = Some(2);
    let replaced = api
        .replace_status("web", &PostParams::default(), &current)
        .await
        .unwrap();
    assert_eq!(replaced.status.unwrap().ready_replicas, Some(2));
}

#[tokio::test]
async fn scale_subresource_maps_to_spec_replicas() {
    let (server, client) = start().await;
    let api: Api<StatefulSet> = Api::namespaced(client, "default");
    make_sts(&api, "web").await;
    server
        .set_status(
            "apps/v1",
            "sts",
            Some("default"),
            "web",
            json!({"replicas": 2}),
        )
        .unwrap();
    let scale = api.get_scale("web").await.unwrap();
    assert_eq!(scale.spec.unwrap().replicas, Some(2));
    let status = scale.status.unwrap();
    assert_eq!(
        (status.replicas, status.selector.as_deref()),
        (2, Some("app=web"))
    );

    let scaled = api
        .patch_scale(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 5}})),
        )
        .await
        .unwrap();
    assert_eq!(scaled.spec.unwrap().replicas, Some(5));
    assert_eq!(
        server
            .get("apps/v1", "sts", Some("default"), "web")
            .unwrap()["spec"]["replicas"],
        5
    );

    let mut scale = api.get_scale("web").await.unwrap();
    scale.spec.as_mut().unwrap().replicas = Some(0);
    let replaced = api
        .replace_scale("web", &PostParams::default(), &scale)
        .await
        .unwrap();
    assert_eq!(replaced.spec.unwrap().replicas, Some(0));
    // `scale` still carries the resourceVersion from before the replace.
    let err = api
        .replace_scale("web", &PostParams::default(), &scale)
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 409),
        "{err:?}"
    );
}

#[tokio::test]
async fn eviction_respects_disruption_budgets() {
    // petset's client hides no 429, so each refusal reaches the caller.
    let (server, client) = start().await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    for i in 0..3 {
        server
            .create(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": format!("web-{i}"), "namespace": "default", "labels": {"app": "web"}}}))
            .unwrap();
        server
            .set_pod_ready(
                "default",
                &format!("web-{i}"),
                true,
                Some(&format!("10.0.0.{i}")),
            )
            .unwrap();
    }
    let pdb: PodDisruptionBudget = serde_json::from_value(json!({
        "metadata": {"name": "web"}, "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "web"}}}
    }))
    .unwrap();
    Api::<PodDisruptionBudget>::namespaced(client, "default")
        .create(&PostParams::default(), &pdb)
        .await
        .unwrap();

    let status = pods.evict("web-0", &EvictParams::default()).await.unwrap();
    assert_eq!(
        status.status,
        Some(kube::core::response::StatusSummary::Success)
    );
    assert!(pods.get_opt("web-0").await.unwrap().is_none());

    let err = pods
        .evict("web-1", &EvictParams::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 429 && s.reason == "TooManyRequests"),
        "{err:?}"
    );
    assert!(pods.get_opt("web-1").await.unwrap().is_some());

    // An unready pod takes nothing from the budget, so it can always go.
    server
        .set_pod_ready("default", "web-2", false, None)
        .unwrap();
    pods.evict("web-2", &EvictParams::default()).await.unwrap();
}

#[tokio::test]
async fn pod_logs_return_registered_text() {
    let (server, client) = start().await;
    server.create(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"}})).unwrap();
    let pods: Api<Pod> = Api::namespaced(client, "default");
    assert_eq!(pods.logs("p", &LogParams::default()).await.unwrap(), "");
    server.set_pod_log("default", "p", None, "web-0 1700000000\n");
    assert_eq!(
        pods.logs("p", &LogParams::default()).await.unwrap(),
        "web-0 1700000000\n"
    );
}
