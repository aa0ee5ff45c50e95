//! Dry runs and strict field validation: unknown fields and unsupported values refused with the
//! field's path, nothing stored by a dry run.

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::{Value, json};

use crate::start;

fn statefulset(spec_extra: Value) -> Value {
    let mut spec = json!({
        "serviceName": "web",
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}
        }
    });
    if let (Some(spec), Some(extra)) = (spec.as_object_mut(), spec_extra.as_object()) {
        spec.extend(extra.clone());
    }
    json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web"}, "spec": spec})
}

fn strict_dry_run() -> PatchParams {
    let mut params = PatchParams::apply("lint").validation_strict();
    params.dry_run = true;
    params
}

/// Untyped, so unknown fields reach the server as written.
fn dynamic(client: &kube::Client) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("apps", "v1", "StatefulSet");
    Api::namespaced_with(client.clone(), "default", &ApiResource::from_gvk(&gvk))
}

fn api_error(result: Result<DynamicObject, kube::Error>) -> kube::core::Status {
    match result {
        Err(kube::Error::Api(status)) => *status,
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn dry_run_apply_answers_the_object_and_stores_nothing() {
    let (_server, client) = start().await;
    let api = dynamic(&client);
    let answered = api
        .patch(
            "web",
            &strict_dry_run(),
            &Patch::Apply(statefulset(json!({"replicas": 2}))),
        )
        .await
        .unwrap();
    assert_eq!(answered.data["spec"]["replicas"], 2);
    let typed: Api<StatefulSet> = Api::namespaced(client, "default");
    assert!(
        typed.get_opt("web").await.unwrap().is_none(),
        "a dry run stored the object"
    );
}

#[tokio::test]
async fn dry_run_create_stores_nothing() {
    let (_server, client) = start().await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let cm: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "c"}, "data": {"a": "b"}})).unwrap();
    let params = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    api.create(&params, &cm).await.unwrap();
    assert!(api.get_opt("c").await.unwrap().is_none());
}

#[tokio::test]
async fn unknown_field_in_apply_is_refused_with_its_path() {
    let (_server, client) = start().await;
    let api = dynamic(&client);
    let manifest = statefulset(json!({"replicass": 2}));
    let status = api_error(
        api.patch("web", &strict_dry_run(), &Patch::Apply(manifest))
            .await,
    );
    assert_eq!(status.code, 400, "{status:?}");
    assert_eq!(status.reason, "BadRequest");
    assert_eq!(
        status.message,
        "failed to create typed patch object (default/web; apps/v1, Kind=StatefulSet): \
         .spec.replicass: field not declared in schema"
    );
}

#[tokio::test]
async fn unsupported_enum_value_is_422_with_the_field_in_causes() {
    let (_server, client) = start().await;
    let api = dynamic(&client);
    let manifest = statefulset(json!({"podManagementPolicy": "Paralel"}));
    let status = api_error(
        api.patch("web", &strict_dry_run(), &Patch::Apply(manifest))
            .await,
    );
    assert_eq!(status.code, 422);
    assert_eq!(status.reason, "Invalid");
    assert_eq!(
        status.message,
        "StatefulSet.apps \"web\" is invalid: spec.podManagementPolicy: Unsupported value: \
         \"Paralel\": supported values: \"OrderedReady\", \"Parallel\""
    );
    let causes = status.details.unwrap().causes;
    assert_eq!(causes.len(), 1);
    assert_eq!(causes[0].field, "spec.podManagementPolicy");
    assert_eq!(causes[0].reason, "FieldValueNotSupported");
}

#[tokio::test]
async fn unknown_field_in_strict_create_is_refused() {
    let (_server, client) = start().await;
    // kube's PostParams has no field validation switch: the request is made by hand.
    let body = serde_json::to_vec(&statefulset(json!({"replicass": 2}))).unwrap();
    let request = axum::http::Request::post(
        "/apis/apps/v1/namespaces/default/statefulsets?fieldValidation=Strict&dryRun=All",
    )
    .header("content-type", "application/json")
    .body(body)
    .unwrap();
    let status = match client.request::<DynamicObject>(request).await {
        Err(kube::Error::Api(status)) => *status,
        other => panic!("expected an API error, got {other:?}"),
    };
    assert_eq!(status.code, 400);
    assert_eq!(
        status.message,
        "strict decoding error: unknown field \"spec.replicass\""
    );
}

#[tokio::test]
async fn unknown_field_in_strict_replace_is_refused_and_nothing_changes() {
    let (_server, client) = start().await;
    let api = dynamic(&client);
    let created: DynamicObject = serde_json::from_value(statefulset(json!({}))).unwrap();
    let created = api.create(&PostParams::default(), &created).await.unwrap();
    let mut changed = serde_json::to_value(&created).unwrap();
    changed["spec"]["replicass"] = json!(2);
    let body = serde_json::to_vec(&changed).unwrap();
    let request = axum::http::Request::put(
        "/apis/apps/v1/namespaces/default/statefulsets/web?fieldValidation=Strict",
    )
    .header("content-type", "application/json")
    .body(body)
    .unwrap();
    let status = match client.request::<DynamicObject>(request).await {
        Err(kube::Error::Api(status)) => *status,
        other => panic!("expected an API error, got {other:?}"),
    };
    assert_eq!(status.code, 400);
    assert_eq!(
        status.message,
        "strict decoding error: unknown field \"spec.replicass\""
    );
    let stored = api.get("web").await.unwrap();
    assert_eq!(
        stored.metadata.resource_version,
        created.metadata.resource_version
    );
}

/// A stored set, with the typed API to read it back.
async fn stored_set(client: &kube::Client) -> DynamicObject {
    let created: DynamicObject = serde_json::from_value(statefulset(json!({}))).unwrap();
    dynamic(client)
        .create(&PostParams::default(), &created)
        .await
        .unwrap()
}

#[tokio::test]
async fn dry_run_replace_answers_the_change_and_stores_nothing() {
    let (_server, client) = start().await;
    let api = dynamic(&client);
    let created = stored_set(&client).await;
    let mut changed = created.clone();
    changed.data["spec"]["replicas"] = json!(5);
    let params = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    let answered = api.replace("web", &params, &changed).await.unwrap();
    assert_eq!(answered.data["spec"]["replicas"], 5);
    let stored = api.get("web").await.unwrap();
    assert_eq!(
        stored.metadata.resource_version, created.metadata.resource_version,
        "a dry-run replace stored the change"
    );
    assert_ne!(stored.data["spec"]["replicas"], 5);
}

#[tokio::test]
async fn dry_run_patches_answer_the_change_and_store_nothing() {
    let (_server, client) = start().await;
    let api = dynamic(&client);
    let created = stored_set(&client).await;
    let params = PatchParams {
        dry_run: true,
        ..PatchParams::default()
    };
    let merge = Patch::Merge(json!({"spec": {"replicas": 4}}));
    let strategic = Patch::Strategic(json!({"spec": {"replicas": 6}}));
    for (patch, replicas) in [(merge, 4), (strategic, 6)] {
        let answered = api.patch("web", &params, &patch).await.unwrap();
        assert_eq!(answered.data["spec"]["replicas"], replicas);
    }
    let stored = api.get("web").await.unwrap();
    assert_eq!(
        stored.metadata.resource_version, created.metadata.resource_version,
        "a dry-run patch stored the change"
    );
}

#[tokio::test]
async fn unknown_field_in_strict_merge_and_strategic_patches_is_refused_with_its_path() {
    let (_server, client) = start().await;
    let api = dynamic(&client);
    let created = stored_set(&client).await;
    let mut strict = PatchParams::default().validation_strict();
    strict.dry_run = true;
    let merge = Patch::Merge(json!({"spec": {"replicass": 4}}));
    let containers = json!({"spec": {"template": {"spec": {"containers": [
        {"name": "app", "imag": "nginx:1.28"}
    ]}}}});
    let strategic = Patch::Strategic(containers);
    for (patch, path) in [
        (merge, "spec.replicass"),
        (strategic, "spec.template.spec.containers[0].imag"),
    ] {
        let status = api_error(api.patch("web", &strict, &patch).await);
        assert_eq!(status.code, 400, "{status:?}");
        assert_eq!(status.reason, "BadRequest");
        assert_eq!(
            status.message,
            format!("strict decoding error: unknown field \"{path}\"")
        );
    }
    // Without Strict the server takes the patch (as the default `fieldValidation=Warn` does).
    let lenient = Patch::Merge(json!({"spec": {"replicass": 4}}));
    api.patch("web", &PatchParams::default(), &lenient)
        .await
        .unwrap();
    let stored = api.get("web").await.unwrap();
    assert_ne!(
        stored.metadata.resource_version,
        created.metadata.resource_version
    );
}
