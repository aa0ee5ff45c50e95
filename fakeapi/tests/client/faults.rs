//! Fault injection, request counters, reactions and controllers.

use std::time::Duration;

use tokio::time::Instant;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use petset_fakeapi::{Controller, Handle, Lasting, RequestFilter, Transient, Verb, WriteEvent};
use serde_json::json;

use crate::{start, within};

// Paused time: the fault's period and the delay pass on the test's clock, not the machine's.
#[tokio::test(start_paused = true)]
async fn failures_then_recovery() {
    let (server, client) = start().await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    server.fail_requests(
        RequestFilter::any().verb(Verb::List).resource("configmaps"),
        500,
        Lasting::Requests(2),
    );
    for _ in 0..2 {
        let err = api.list(&ListParams::default()).await.unwrap_err();
        assert!(
            matches!(err, kube::Error::Api(ref s) if s.code == 500 && s.reason == "InternalError"),
            "{err:?}"
        );
    }
    api.list(&ListParams::default()).await.unwrap();
    assert_eq!(server.request_count(Verb::List, "configmaps"), 3);

    // Failures for a period: other verbs and resources are untouched.
    server.fail_requests(
        RequestFilter::any().resource("configmaps"),
        500,
        Lasting::For(Duration::from_millis(200)),
    );
    assert!(api.get_opt("x").await.is_err());
    let pods: Api<Pod> = Api::namespaced(api.clone().into_client(), "default");
    pods.list(&ListParams::default()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(api.get_opt("x").await.unwrap().is_none());
}

#[tokio::test]
async fn the_client_hides_no_transient_failure() {
    let (server, client) = start().await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    server.fail_requests(
        RequestFilter::any().verb(Verb::Get),
        503,
        Lasting::Requests(1),
    );
    // petset's client has kube's own retry off: the 503 reaches petset's retry policy.
    let err = within("get", api.get_opt("x")).await.unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 503),
        "{err:?}"
    );
    assert_eq!(server.request_count(Verb::Get, "configmaps"), 1);
    assert!(within("get", api.get_opt("x")).await.unwrap().is_none());
}

#[tokio::test]
async fn transient_answers_look_as_a_loaded_server_gives_them() {
    let (server, client) = start().await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let apply = PatchParams::apply("test").force();
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}});
    let patches = RequestFilter::any()
        .verb(Verb::Patch)
        .resource("configmaps");

    // A forced apply that lost a race: 409 Conflict, and nothing written.
    server.inject_transient(patches.clone(), Transient::Conflict, Lasting::Requests(1));
    let err = api
        .patch("c", &apply, &Patch::Apply(&cm))
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 409 && s.reason == "Conflict"
            && s.message.contains("the object has been modified")),
        "{err:?}"
    );
    assert!(
        server
            .get("v1", "ConfigMap", Some("default"), "c")
            .is_none()
    );

    // Throttled as API Priority and Fairness does: the client sees the `Retry-After`.
    let throttle = Transient::Throttle {
        retry_after_seconds: 2,
    };
    server.inject_transient(patches.clone(), throttle, Lasting::Requests(1));
    let err = api
        .patch("c", &apply, &Patch::Apply(&cm))
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 429
            && s.details.as_ref().is_some_and(|d| d.retry_after_seconds == 2)),
        "{err:?}"
    );

    // A dropped connection is a transport error, not an answer.
    server.inject_transient(patches, Transient::DropConnection, Lasting::Requests(1));
    let err = api
        .patch("c", &apply, &Patch::Apply(&cm))
        .await
        .unwrap_err();
    assert!(!matches!(err, kube::Error::Api(_)), "{err:?}");

    // Each lasted one request; the next one is served.
    within("apply", api.patch("c", &apply, &Patch::Apply(&cm)))
        .await
        .unwrap();
    assert_eq!(server.request_count(Verb::Patch, "configmaps"), 4);
}

// Paused time: the fault's period and the delay pass on the test's clock, not the machine's.
#[tokio::test(start_paused = true)]
async fn delays_slow_down_matching_requests() {
    let (server, client) = start().await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    server.delay_requests(
        RequestFilter::any().verb(Verb::List),
        Duration::from_millis(300),
        Lasting::Requests(1),
    );
    let t = Instant::now();
    api.list(&ListParams::default()).await.unwrap();
    assert_eq!(t.elapsed(), Duration::from_millis(300));
    let t = Instant::now();
    api.list(&ListParams::default()).await.unwrap();
    assert_eq!(
        t.elapsed(),
        Duration::ZERO,
        "only the next request was delayed"
    );
    server.delay_requests(
        RequestFilter::any(),
        Duration::from_secs(5),
        Lasting::Always,
    );
    server.clear_faults();
    within("undelayed list", api.list(&ListParams::default()))
        .await
        .unwrap();
}

fn sts(replicas: i32) -> StatefulSet {
    serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {"replicas": replicas, "serviceName": "web", "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}
    }))
    .unwrap()
}

/// Brings a set's pods to `spec.replicas`, all Ready at once.
fn sync_pods(h: &Handle, ns: &str, name: &str) {
    let Some(set) = h.get("apps/v1", "sts", Some(ns), name) else {
        return;
    };
    let want = set["spec"]["replicas"].as_i64().unwrap_or(0);
    for i in 0..want {
        let pod = format!("{name}-{i}");
        if h.get("v1", "pods", Some(ns), &pod).is_none() {
            h.create(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod, "namespace": ns, "labels": {"app": name}}})).unwrap();
            h.set_pod_ready(ns, &pod, true, Some(&format!("10.0.0.{i}")))
                .unwrap();
        }
    }
    for p in h.list("v1", "pods", Some(ns)) {
        let n = p["metadata"]["name"].as_str().unwrap_or("");
        let ordinal = n.rsplit('-').next().and_then(|o| o.parse::<i64>().ok());
        if ordinal.is_some_and(|o| o >= want) {
            h.delete("v1", "pods", Some(ns), n).unwrap();
        }
    }
}

#[tokio::test]
async fn reactions_run_before_the_client_gets_its_answer() {
    let (server, client) = start().await;
    server.on_write(|h, e| {
        if e.is("StatefulSet") && !e.removed {
            sync_pods(h, e.namespace.as_deref().unwrap_or(""), &e.name);
        }
    });
    let sets: Api<StatefulSet> = Api::namespaced(client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(client, "default");
    sets.create(&PostParams::default(), &sts(2)).await.unwrap();
    assert_eq!(
        pods.list(&ListParams::default()).await.unwrap().items.len(),
        2
    );
    sets.patch_scale(
        "web",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"replicas": 1}})),
    )
    .await
    .unwrap();
    let names: Vec<_> = pods
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|p| p.metadata.name.unwrap())
        .collect();
    assert_eq!(names, ["web-0"]);
}

struct StatusCounter;

impl Controller for StatusCounter {
    async fn on_event(&mut self, cluster: &Handle, event: WriteEvent) {
        // Keep the set's status.replicas equal to its pod count, as the real controller does.
        if event.is("pods") {
            let ns = event.namespace.clone().unwrap_or_default();
            let n = cluster.list("v1", "pods", Some(&ns)).len();
            let _ = cluster.set_status("apps/v1", "sts", Some(&ns), "web", json!({"replicas": n}));
        }
    }
}

#[tokio::test]
async fn controllers_see_every_write_in_order() {
    let (server, client) = start().await;
    let mut events = server.subscribe();
    server.spawn_controller(StatusCounter);
    let sets: Api<StatefulSet> = Api::namespaced(client, "default");
    sets.create(&PostParams::default(), &sts(2)).await.unwrap();
    server.create(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-0", "namespace": "default"}})).unwrap();
    let scale = within("status update", async {
        loop {
            let s = sets.get_scale("web").await.unwrap();
            if s.status.as_ref().is_some_and(|s| s.replicas == 1) {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert_eq!(scale.status.unwrap().replicas, 1);
    let first = within("event", events.recv()).await.unwrap();
    let second = within("event", events.recv()).await.unwrap();
    assert_eq!(
        (first.verb, first.kind, first.origin),
        (Verb::Create, "StatefulSet", petset_fakeapi::Origin::Api)
    );
    assert_eq!(
        (second.kind, second.origin),
        ("Pod", petset_fakeapi::Origin::Handle)
    );
    assert!(second.sequence > first.sequence);
}
