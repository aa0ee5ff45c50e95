//! Merge, JSON and strategic merge patches, and server-side apply.

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

use crate::start;

fn sts(name: &str) -> StatefulSet {
    serde_json::from_value(json!({
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": 1,
            "serviceName": name,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [
                    {"name": "app", "image": "nginx:1.27", "ports": [{"containerPort": 80, "name": "web"}]},
                    {"name": "sidecar", "image": "busybox:1.36"}
                ]}
            }
        }
    }))
    .unwrap()
}

fn images(s: &StatefulSet) -> Vec<(String, String)> {
    s.spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap()
        .containers
        .iter()
        .map(|c| (c.name.clone(), c.image.clone().unwrap()))
        .collect()
}

#[tokio::test]
async fn merge_json_and_strategic_patches() {
    let (_server, client) = start().await;
    let api: Api<StatefulSet> = Api::namespaced(client, "default");
    api.create(&PostParams::default(), &sts("web"))
        .await
        .unwrap();
    let pp = PatchParams::default();

    let merged = api
        .patch(
            "web",
            &pp,
            &Patch::Merge(json!({"metadata": {"labels": {"tier": "front"}}})),
        )
        .await
        .unwrap();
    assert_eq!(
        merged
            .metadata
            .labels
            .unwrap()
            .get("tier")
            .map(String::as_str),
        Some("front")
    );
    assert_eq!(
        merged.metadata.generation,
        Some(1),
        "a metadata change must not bump generation"
    );

    let patch: json_patch::Patch =
        serde_json::from_value(json!([{"op": "replace", "path": "/spec/replicas", "value": 3}]))
            .unwrap();
    let patched = api
        .patch("web", &pp, &Patch::Json::<()>(patch))
        .await
        .unwrap();
    assert_eq!(patched.spec.as_ref().unwrap().replicas, Some(3));
    assert_eq!(patched.metadata.generation, Some(2));

    // Strategic merge: the container named "app" is updated in place, the sidecar is kept.
    let smp = json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx:1.28"}]}}}});
    let patched = api.patch("web", &pp, &Patch::Strategic(smp)).await.unwrap();
    assert_eq!(
        images(&patched),
        [
            ("app".into(), "nginx:1.28".into()),
            ("sidecar".into(), "busybox:1.36".into())
        ]
    );
    let ports = patched.spec.unwrap().template.spec.unwrap().containers[0]
        .ports
        .clone()
        .unwrap();
    assert_eq!(
        ports.len(),
        1,
        "unpatched fields of a merged container survive"
    );

    // The same patch as a plain merge patch replaces the whole list.
    let mp = json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx:1.29"}]}}}});
    let patched = api.patch("web", &pp, &Patch::Merge(mp)).await.unwrap();
    assert_eq!(images(&patched), [("app".into(), "nginx:1.29".into())]);

    let err = api
        .patch("missing", &pp, &Patch::Merge(json!({})))
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 404),
        "{err:?}"
    );
}

#[tokio::test]
async fn server_side_apply_creates_then_updates() {
    let (_server, client) = start().await;
    let api: Api<StatefulSet> = Api::namespaced(client.clone(), "default");
    let ssa = PatchParams::apply("petset").force();
    let created = api
        .patch("web", &ssa, &Patch::Apply(sts("web")))
        .await
        .unwrap();
    assert_eq!(created.spec.as_ref().unwrap().replicas, Some(1));
    let managed = created.metadata.managed_fields.clone().unwrap();
    assert_eq!(managed.len(), 1);
    assert_eq!(managed[0].manager.as_deref(), Some("petset"));
    assert_eq!(managed[0].operation.as_deref(), Some("Apply"));
    assert!(managed[0].fields_v1.is_some());

    let mut next = sts("web");
    next.spec.as_mut().unwrap().replicas = Some(2);
    next.metadata.labels = Some([("app".to_string(), "web".to_string())].into());
    let updated = api
        .patch("web", &ssa, &Patch::Apply(next.clone()))
        .await
        .unwrap();
    assert_eq!(updated.spec.as_ref().unwrap().replicas, Some(2));
    assert_eq!(updated.metadata.uid, created.metadata.uid);
    assert_eq!(updated.metadata.generation, Some(2));

    // Applying the same config again changes nothing, not even the resourceVersion.
    let again = api.patch("web", &ssa, &Patch::Apply(next)).await.unwrap();
    assert_eq!(
        again.metadata.resource_version,
        updated.metadata.resource_version
    );

    // A field the manager stops applying is removed.
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    let cm = |data: serde_json::Value| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": data});
    cms.patch("c", &ssa, &Patch::Apply(cm(json!({"a": "1", "b": "2"}))))
        .await
        .unwrap();
    let after = cms
        .patch("c", &ssa, &Patch::Apply(cm(json!({"a": "1"}))))
        .await
        .unwrap();
    assert_eq!(after.data.unwrap().keys().collect::<Vec<_>>(), ["a"]);
}

#[tokio::test]
async fn apply_requires_a_field_manager() {
    let (_server, client) = start().await;
    // Api::patch always sends a manager for apply; a raw request leaves it out.
    let req = axum::http::Request::patch("/api/v1/namespaces/default/configmaps/c")
        .header("content-type", "application/apply-patch+yaml")
        .body(
            serde_json::to_vec(
                &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}),
            )
            .unwrap(),
        )
        .unwrap();
    let err = client.request::<ConfigMap>(req).await.unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 422 && s.message.contains("fieldManager")),
        "{err:?}"
    );
}

#[tokio::test]
async fn unforced_apply_over_another_managers_field_conflicts_and_force_takes_it() {
    let (_server, client) = start().await;
    let api: Api<StatefulSet> = Api::namespaced(client, "default");
    let mut applied = serde_json::to_value(sts("owned")).unwrap();
    api.patch(
        "owned",
        &PatchParams::apply("first"),
        &Patch::Apply(&applied),
    )
    .await
    .unwrap();
    // An ordinary patch by another manager takes spec.replicas over (operation Update).
    let scaled = api
        .patch(
            "owned",
            &PatchParams {
                field_manager: Some("scaler".into()),
                ..PatchParams::default()
            },
            &Patch::Merge(json!({"spec": {"replicas": 3}})),
        )
        .await
        .unwrap();
    let managers: Vec<(String, String)> = scaled
        .metadata
        .managed_fields
        .unwrap()
        .into_iter()
        .map(|m| (m.manager.unwrap(), m.operation.unwrap()))
        .collect();
    assert_eq!(
        managers,
        [
            ("first".to_owned(), "Apply".to_owned()),
            ("scaler".to_owned(), "Update".to_owned())
        ]
    );

    // Re-applying the same value is no conflict; a different one is, naming the field.
    applied["spec"]["replicas"] = json!(3);
    api.patch(
        "owned",
        &PatchParams::apply("first"),
        &Patch::Apply(&applied),
    )
    .await
    .unwrap();
    applied["spec"]["replicas"] = json!(1);
    let refused = api
        .patch(
            "owned",
            &PatchParams::apply("first"),
            &Patch::Apply(&applied),
        )
        .await
        .unwrap_err();
    let kube::Error::Api(status) = refused else {
        panic!("expected an API error, got {refused:?}")
    };
    assert_eq!((status.code, status.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        status.message,
        "Apply failed with 1 conflict: conflict with \"scaler\" using apps/v1: .spec.replicas"
    );
    let stored = api.get("owned").await.unwrap();
    assert_eq!(
        stored.spec.unwrap().replicas,
        Some(3),
        "a refused apply stores nothing"
    );

    // Forced, the apply wins and the field moves to it.
    let forced = api
        .patch(
            "owned",
            &PatchParams::apply("first").force(),
            &Patch::Apply(&applied),
        )
        .await
        .unwrap();
    assert_eq!(forced.spec.as_ref().unwrap().replicas, Some(1));
    let scaler_fields = forced
        .metadata
        .managed_fields
        .unwrap()
        .into_iter()
        .find(|m| m.manager.as_deref() == Some("scaler"))
        .map(|m| m.fields_v1.unwrap().0);
    assert_eq!(
        scaler_fields, None,
        "the scaler owned nothing else and is gone"
    );
}
