//! The `patch`, `rollout` and `capture` steps against the fake API server.

use crate::support::test_cluster::{TestCluster, assert_contains, assert_ends, fails, passes};
use serde_json::{Value, json};

fn deployment(ns: &str, image: &str, revision: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": ns,
                     "annotations": {"deployment.kubernetes.io/revision": revision}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "nginx", "image": image}]}}}
    })
}

fn replica_set(ns: &str, owner_uid: &str, revision: u32, image: &str, cause: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {
            "name": format!("web-{revision}"), "namespace": ns,
            "annotations": {"deployment.kubernetes.io/revision": revision.to_string(),
                            "kubernetes.io/change-cause": cause},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                                 "uid": owner_uid, "controller": true}]
        },
        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web", "pod-template-hash": format!("h{revision}")}},
                              "spec": {"containers": [{"name": "nginx", "image": image}]}}}
    })
}

/// The live `apps/v1` object `web` of this kind in namespace `ns`.
fn live_web(fake: &TestCluster, kind: &str) -> Value {
    fake.get("apps/v1", kind, Some("ns"), "web")
        .unwrap_or_else(|| panic!("{kind} web exists"))
}

/// The image of the first container of a workload's pod template.
fn image(workload: &Value) -> &Value {
    &workload["spec"]["template"]["spec"]["containers"][0]["image"]
}

/// The deployment `web` with revisions 1 and 2 of ReplicaSets behind it (and one of another
/// owner), at revision 2.
fn deployment_with_history(fake: &TestCluster) {
    let created = fake.create(deployment("ns", "nginx:1.27", "2"));
    let uid = created["metadata"]["uid"].as_str().expect("uid");
    fake.create(replica_set("ns", uid, 1, "nginx:1.26", "first"));
    fake.create(replica_set("ns", uid, 2, "nginx:1.27", "second"));
    // A ReplicaSet of another owner must be ignored.
    fake.create(replica_set("ns", "someone-else", 3, "nginx:9", "other"));
}

#[tokio::test]
async fn patch_sets_images_with_a_change_cause_and_applies_given_patches() {
    let fake = TestCluster::start().await;
    let mut ctx = fake.ctx("ns");
    fake.create(deployment("ns", "nginx:1.26", "1"));
    let report = passes(
        &mut ctx,
        "patch: {target: deploy/web, image: {nginx: 'nginx:1.27'}, changeCause: 'upgrade to 1.27'}",
    )
    .await;
    assert_eq!(report.detail, "patched deployment/web (strategic)");
    let live = live_web(&fake, "Deployment");
    assert_eq!(image(&live), "nginx:1.27");
    assert_eq!(
        live["spec"]["template"]["spec"]["containers"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(
        live["metadata"]["annotations"]["kubernetes.io/change-cause"],
        "upgrade to 1.27"
    );

    passes(
        &mut ctx,
        "patch: {target: deploy/web, type: merge, patch: {spec: {replicas: 4}}}",
    )
    .await;
    passes(
        &mut ctx,
        "patch: {target: deploy/web, type: json, patch: [{op: add, path: /spec/minReadySeconds, value: 5}]}",
    )
    .await;
    let live = live_web(&fake, "Deployment");
    assert_eq!(live["spec"]["replicas"], 4);
    assert_eq!(live["spec"]["minReadySeconds"], 5);
}

#[tokio::test]
async fn patch_failures_name_the_target_and_the_reason() {
    let fake = TestCluster::start().await;
    let mut ctx = fake.ctx("ns");
    let failure = fails(
        &mut ctx,
        "patch: {target: deploy/nope, patch: {spec: {replicas: 1}}}",
    )
    .await;
    assert_eq!(
        failure.message,
        "failed to patch deployment/nope: not found"
    );
    let failure = fails(&mut ctx, "patch: {target: deploy/web}").await;
    assert_contains(&failure.message, "nothing to change");
    let failure = fails(
        &mut ctx,
        "patch: {target: deploy/web, type: json, patch: {spec: {}}}",
    )
    .await;
    assert_contains(&failure.message, "list of operations");
}

#[tokio::test]
async fn rollout_undo_restores_the_previous_or_named_revision_of_a_deployment() {
    let fake = TestCluster::start().await;
    let mut ctx = fake.ctx("ns");
    deployment_with_history(&fake);

    let report = passes(&mut ctx, "rollout: {undo: deploy/web}").await;
    assert_eq!(
        report.detail,
        "rolled deployment/web back from revision 2 to revision 1 (from replicaset/web-1)"
    );
    let live = live_web(&fake, "Deployment");
    assert_eq!(image(&live), "nginx:1.26");
    assert!(
        live["spec"]["template"]["metadata"]["labels"]
            .get("pod-template-hash")
            .is_none()
    );
    assert_eq!(
        live["metadata"]["annotations"]["kubernetes.io/change-cause"],
        "first"
    );

    let report = passes(&mut ctx, "rollout: {undo: deploy/web, toRevision: 2}").await;
    assert_ends(&report.detail, "to revision 2 (from replicaset/web-2)");
    assert_eq!(image(&live_web(&fake, "Deployment")), "nginx:1.27");
}

#[tokio::test]
async fn rollout_undo_of_a_statefulset_uses_its_controller_revisions() {
    let fake = TestCluster::start().await;
    let mut ctx = fake.ctx("ns");
    let sts = fake.create(json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "web", "namespace": "ns"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}}},
        "status": {"updateRevision": "web-b", "currentRevision": "web-b"}
    }));
    let uid = sts["metadata"]["uid"].as_str().expect("uid").to_owned();
    for (name, revision, image) in [("web-a", 1, "nginx:1.26"), ("web-b", 2, "nginx:1.27")] {
        fake.create(json!({
            "apiVersion": "apps/v1", "kind": "ControllerRevision",
            "metadata": {"name": name, "namespace": "ns",
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "uid": uid}]},
            "revision": revision,
            "data": {"spec": {"template": {"$patch": "replace", "metadata": {"labels": {"app": "web"}},
                     "spec": {"containers": [{"name": "nginx", "image": image}]}}}}
        }));
    }
    let report = passes(&mut ctx, "rollout: {undo: sts/web}").await;
    assert_contains(
        &report.detail,
        "to revision 1 (from controllerrevision/web-a)",
    );
    assert_eq!(image(&live_web(&fake, "StatefulSet")), "nginx:1.26");
}

#[tokio::test]
async fn rollout_undo_failures_list_the_revisions_there_are() {
    let fake = TestCluster::start().await;
    let mut ctx = fake.ctx("ns");
    let created = fake.create(deployment("ns", "nginx:1.27", "1"));
    let uid = created["metadata"]["uid"].as_str().expect("uid");
    fake.create(replica_set("ns", uid, 1, "nginx:1.27", "only"));
    let failure = fails(&mut ctx, "rollout: {undo: deploy/web}").await;
    assert_eq!(
        failure.message,
        "failed to roll back deployment/web: no revision before the current one (1) to roll back to (revisions: 1)"
    );
    let failure = fails(&mut ctx, "rollout: {undo: deploy/web, toRevision: 5}").await;
    assert_ends(&failure.message, "revision 5 not found (revisions: 1)");
}

#[tokio::test]
async fn capture_stores_a_field_for_later_steps() {
    let fake = TestCluster::start().await;
    let mut ctx = fake.ctx("ns");
    fake.create(json!({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "www-web-0", "namespace": "ns"},
        "spec": {"volumeName": "pv-0042", "accessModes": ["ReadWriteOnce"]},
        "status": {"phase": "Bound"}
    }));
    let report = passes(
        &mut ctx,
        "capture: {target: pvc/www-web-0, field: spec.volumeName, as: vol0}",
    )
    .await;
    assert_eq!(report.detail, "vol0 = pv-0042");
    assert_eq!(ctx.vars.get("vol0"), Some("pv-0042"));
    passes(
        &mut ctx,
        "capture: {target: pvc/www-web-0, field: 'spec.accessModes[0]', as: mode}",
    )
    .await;
    assert_eq!(ctx.vars.get("mode"), Some("ReadWriteOnce"));
    // Later steps use it: the captured value is substituted.
    passes(
        &mut ctx,
        "wait: {target: {kind: pvc, selector: ''}, for: {matches: {spec: {volumeName: '${vol0}'}}}, timeout: 2s}",
    )
    .await;
}

#[tokio::test]
async fn capture_failures_say_where_the_path_stopped() {
    let fake = TestCluster::start().await;
    let mut ctx = fake.ctx("ns");
    fake.create(json!({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "www-web-0", "namespace": "ns"}, "spec": {}
    }));
    let failure = fails(
        &mut ctx,
        "capture: {target: pvc/www-web-0, field: spec.volumeName, as: vol0}",
    )
    .await;
    assert_eq!(
        failure.message,
        "failed to capture spec.volumeName of persistentvolumeclaim/www-web-0: spec has no volumeName"
    );
    let failure = fails(
        &mut ctx,
        "capture: {target: pvc/nope, field: spec.volumeName, as: v}",
    )
    .await;
    assert_ends(&failure.message, "persistentvolumeclaim/nope not found");
    assert_eq!(ctx.vars.get("vol0"), None);
}
