//! The `patch`, `rollout` and `capture` steps against the fake API server.

use crate::support::test_cluster::{TestCluster, step, within};
use petset::steps::run_step;
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

#[tokio::test]
async fn patch_sets_images_with_a_change_cause_and_applies_given_patches() {
    let fake = TestCluster::start().await;
    let mut ctx = fake.ctx("ns");
    fake.create(deployment("ns", "nginx:1.26", "1"));
    let set_image = step(
        "patch: {target: deploy/web, image: {nginx: 'nginx:1.27'}, changeCause: 'upgrade to 1.27'}",
    );
    let report = within(10, run_step(&set_image, &mut ctx))
        .await
        .expect("patched");
    assert_eq!(report.detail, "patched deployment/web (strategic)");
    let live = fake
        .get("apps/v1", "Deployment", Some("ns"), "web")
        .expect("deployment");
    assert_eq!(
        live["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.27"
    );
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

    let merge = step("patch: {target: deploy/web, type: merge, patch: {spec: {replicas: 4}}}");
    within(10, run_step(&merge, &mut ctx))
        .await
        .expect("merge patched");
    let json_patch = step(
        "patch: {target: deploy/web, type: json, patch: [{op: add, path: /spec/minReadySeconds, value: 5}]}",
    );
    within(10, run_step(&json_patch, &mut ctx))
        .await
        .expect("json patched");
    let live = fake
        .get("apps/v1", "Deployment", Some("ns"), "web")
        .expect("deployment");
    assert_eq!(live["spec"]["replicas"], 4);
    assert_eq!(live["spec"]["minReadySeconds"], 5);
}

#[tokio::test]
async fn patch_failures_name_the_target_and_the_reason() {
    let fake = TestCluster::start().await;
    let mut ctx = fake.ctx("ns");
    let missing = step("patch: {target: deploy/nope, patch: {spec: {replicas: 1}}}");
    let failure = within(10, run_step(&missing, &mut ctx))
        .await
        .expect_err("missing");
    assert_eq!(
        failure.message,
        "failed to patch deployment/nope: not found"
    );
    let empty = step("patch: {target: deploy/web}");
    let failure = within(10, run_step(&empty, &mut ctx))
        .await
        .expect_err("nothing to do");
    assert!(
        failure.message.contains("nothing to change"),
        "{}",
        failure.message
    );
    let bad_json = step("patch: {target: deploy/web, type: json, patch: {spec: {}}}");
    let failure = within(10, run_step(&bad_json, &mut ctx))
        .await
        .expect_err("not operations");
    assert!(
        failure.message.contains("list of operations"),
        "{}",
        failure.message
    );
}

#[tokio::test]
async fn rollout_undo_restores_the_previous_or_named_revision_of_a_deployment() {
    let fake = TestCluster::start().await;
    let mut ctx = fake.ctx("ns");
    let created = fake.create(deployment("ns", "nginx:1.27", "2"));
    let uid = created["metadata"]["uid"].as_str().expect("uid").to_owned();
    fake.create(replica_set("ns", &uid, 1, "nginx:1.26", "first"));
    fake.create(replica_set("ns", &uid, 2, "nginx:1.27", "second"));
    // A ReplicaSet of another owner must be ignored.
    fake.create(replica_set("ns", "someone-else", 3, "nginx:9", "other"));

    let undo = step("rollout: {undo: deploy/web}");
    let report = within(10, run_step(&undo, &mut ctx))
        .await
        .expect("rolled back");
    assert_eq!(
        report.detail,
        "rolled deployment/web back from revision 2 to revision 1 (from replicaset/web-1)"
    );
    let live = fake
        .get("apps/v1", "Deployment", Some("ns"), "web")
        .expect("deployment");
    assert_eq!(
        live["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.26"
    );
    assert!(
        live["spec"]["template"]["metadata"]["labels"]
            .get("pod-template-hash")
            .is_none()
    );
    assert_eq!(
        live["metadata"]["annotations"]["kubernetes.io/change-cause"],
        "first"
    );

    let to_two = step("rollout: {undo: deploy/web, toRevision: 2}");
    let report = within(10, run_step(&to_two, &mut ctx))
        .await
        .expect("rolled forward");
    assert!(
        report
            .detail
            .ends_with("to revision 2 (from replicaset/web-2)"),
        "{}",
        report.detail
    );
    let live = fake
        .get("apps/v1", "Deployment", Some("ns"), "web")
        .expect("deployment");
    assert_eq!(
        live["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.27"
    );
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
    let undo = step("rollout: {undo: sts/web}");
    let report = within(10, run_step(&undo, &mut ctx))
        .await
        .expect("rolled back");
    assert!(
        report
            .detail
            .contains("to revision 1 (from controllerrevision/web-a)"),
        "{}",
        report.detail
    );
    let live = fake
        .get("apps/v1", "StatefulSet", Some("ns"), "web")
        .expect("sts");
    assert_eq!(
        live["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.26"
    );
}

#[tokio::test]
async fn rollout_undo_failures_list_the_revisions_there_are() {
    let fake = TestCluster::start().await;
    let mut ctx = fake.ctx("ns");
    let created = fake.create(deployment("ns", "nginx:1.27", "1"));
    let uid = created["metadata"]["uid"].as_str().expect("uid").to_owned();
    fake.create(replica_set("ns", &uid, 1, "nginx:1.27", "only"));
    let undo = step("rollout: {undo: deploy/web}");
    let failure = within(10, run_step(&undo, &mut ctx))
        .await
        .expect_err("nothing earlier");
    assert_eq!(
        failure.message,
        "failed to roll back deployment/web: no revision before the current one (1) to roll back to (revisions: 1)"
    );
    let undo = step("rollout: {undo: deploy/web, toRevision: 5}");
    let failure = within(10, run_step(&undo, &mut ctx))
        .await
        .expect_err("no revision 5");
    assert!(
        failure
            .message
            .ends_with("revision 5 not found (revisions: 1)"),
        "{}",
        failure.message
    );
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
    let capture = step("capture: {target: pvc/www-web-0, field: spec.volumeName, as: vol0}");
    let report = within(10, run_step(&capture, &mut ctx))
        .await
        .expect("captured");
    assert_eq!(report.detail, "vol0 = pv-0042");
    assert_eq!(ctx.vars.get("vol0"), Some("pv-0042"));
    let capture = step("capture: {target: pvc/www-web-0, field: 'spec.accessModes[0]', as: mode}");
    within(10, run_step(&capture, &mut ctx))
        .await
        .expect("captured");
    assert_eq!(ctx.vars.get("mode"), Some("ReadWriteOnce"));
    // Later steps use it.
    let wait = step(
        "wait: {target: {kind: pvc, selector: ''}, for: {matches: {spec: {volumeName: '${vol0}'}}}, timeout: 2s}",
    );
    within(10, run_step(&wait, &mut ctx))
        .await
        .expect("the captured value is substituted");
}

#[tokio::test]
async fn capture_failures_say_where_the_path_stopped() {
    let fake = TestCluster::start().await;
    let mut ctx = fake.ctx("ns");
    fake.create(json!({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "www-web-0", "namespace": "ns"}, "spec": {}
    }));
    let capture = step("capture: {target: pvc/www-web-0, field: spec.volumeName, as: vol0}");
    let failure = within(10, run_step(&capture, &mut ctx))
        .await
        .expect_err("not bound");
    assert_eq!(
        failure.message,
        "failed to capture spec.volumeName of persistentvolumeclaim/www-web-0: spec has no volumeName"
    );
    let capture = step("capture: {target: pvc/nope, field: spec.volumeName, as: v}");
    let failure = within(10, run_step(&capture, &mut ctx))
        .await
        .expect_err("missing");
    assert!(
        failure
            .message
            .ends_with("persistentvolumeclaim/nope not found"),
        "{}",
        failure.message
    );
    assert_eq!(ctx.vars.get("vol0"), None);
}
