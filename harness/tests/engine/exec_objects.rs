//! The `apply`, `delete` and `scale` steps against the fake API server.

use crate::support::test_cluster::{TestCluster, pod, step, within};
use petset::steps::run_step;
use serde_json::json;
use std::time::Duration;

const WEB: &str = "\
apiVersion: v1
kind: Service
metadata:
  name: nginx
  namespace: default
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  serviceName: nginx
  replicas: ${replicas}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: nginx, image: 'nginx:1.27'}]
  volumeClaimTemplates:
  - metadata: {name: www}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
";

#[tokio::test]
async fn apply_creates_objects_from_files_and_inline_manifests_in_the_scenario_namespace() {
    let fake = TestCluster::start().await;
    let mut ctx = fake.ctx("petset-a");
    ctx.vars.set("replicas", "2");
    fake.fixture("web/web.yaml", WEB);
    let apply = step(
        "apply:
  files: [web/web.yaml]
  manifests:
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: conf}, data: {ns: '${namespace}'}}",
    );
    let report = within(10, run_step(&apply, &mut ctx))
        .await
        .expect("applied");
    assert_eq!(
        report.detail,
        "applied service/nginx, statefulset/web, configmap/conf"
    );

    let service = fake
        .get("v1", "Service", Some("petset-a"), "nginx")
        .expect("service in the scenario namespace");
    assert_eq!(
        service["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "petset"
    );
    assert_eq!(service["metadata"]["labels"]["petset.dev/run"], "test-run");
    assert!(
        fake.get("v1", "Service", Some("default"), "nginx")
            .is_none(),
        "never outside"
    );
    let sts = fake
        .get("apps/v1", "StatefulSet", Some("petset-a"), "web")
        .expect("sts");
    assert_eq!(
        sts["spec"]["replicas"], 2,
        "variables substituted before parsing"
    );
    assert_eq!(
        sts["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "petset"
    );
    let managers: Vec<&str> = sts["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["manager"].as_str())
        .collect();
    assert!(
        managers.contains(&"petset"),
        "server-side applied by petset: {managers:?}"
    );
    let conf = fake
        .get("v1", "ConfigMap", Some("petset-a"), "conf")
        .expect("configmap");
    assert_eq!(conf["data"]["ns"], "petset-a");

    // Applying again is an update, not a conflict.
    within(10, run_step(&apply, &mut ctx))
        .await
        .expect("re-applied");
}

#[tokio::test]
async fn apply_failures_name_the_file_and_the_problem() {
    let fake = TestCluster::start().await;
    let mut ctx = fake.ctx("ns");
    let missing = step("apply: {files: [nowhere.yaml]}");
    let failure = within(10, run_step(&missing, &mut ctx))
        .await
        .expect_err("no file");
    assert!(
        failure.message.starts_with("failed to read fixture "),
        "{}",
        failure.message
    );
    assert!(
        failure.message.contains("nowhere.yaml"),
        "{}",
        failure.message
    );

    fake.fixture(
        "job.yaml",
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\n",
    );
    let job = step("apply: {files: [job.yaml]}");
    let failure = within(10, run_step(&job, &mut ctx))
        .await
        .expect_err("unknown kind");
    assert!(
        failure
            .message
            .starts_with("failed to apply job.yaml: petset does not apply objects of kind `Job`"),
        "{}",
        failure.message
    );

    let unknown_var = step(
        "apply: {manifests: [{apiVersion: v1, kind: ConfigMap, metadata: {name: '${nope}'}}]}",
    );
    let failure = within(10, run_step(&unknown_var, &mut ctx))
        .await
        .expect_err("unknown variable");
    assert!(
        failure.message.contains("unknown variable `${nope}`"),
        "{}",
        failure.message
    );
}

#[tokio::test]
async fn delete_waits_until_the_very_objects_are_gone() {
    let fake = TestCluster::start().await;
    let mut ctx = fake.ctx("ns");
    fake.create(pod("ns", "web-0", json!({"app": "web"})));
    fake.create(pod("ns", "web-1", json!({"app": "web"})));
    fake.create(pod("ns", "db-0", json!({"app": "db"})));
    // A controller that recreates web-0 under the same name, as a StatefulSet does.
    let handle = fake.handle();
    handle.on_write(|h, event| {
        if event.is("Pod") && event.removed && event.name == "web-0" {
            let _ = h.create(pod("ns", "web-0", json!({"app": "web"})));
        }
    });
    let delete = step("delete: {target: {kind: pod, selector: app=web}}");
    let report = within(10, run_step(&delete, &mut ctx))
        .await
        .expect("deleted");
    assert!(
        report
            .detail
            .starts_with("deleted pod/web-0, pod/web-1 (gone after"),
        "{}",
        report.detail
    );
    // The recreated web-0 is a new object; the old one is gone.
    assert!(fake.get("v1", "Pod", Some("ns"), "web-0").is_some());
    assert!(fake.get("v1", "Pod", Some("ns"), "web-1").is_none());
    assert!(fake.get("v1", "Pod", Some("ns"), "db-0").is_some());
}

#[tokio::test]
async fn delete_failures_say_what_is_missing_or_what_holds_the_object() {
    let fake = TestCluster::start().await;
    let mut ctx = fake.ctx("ns");
    let missing = step("delete: {target: pod/web-9}");
    let failure = within(10, run_step(&missing, &mut ctx))
        .await
        .expect_err("no such pod");
    assert_eq!(failure.message, "failed to delete pod/web-9: not found");

    let mut held = pod("ns", "web-0", json!({}));
    held["metadata"]["finalizers"] = json!(["example.com/hold"]);
    fake.create(held);
    let delete = step("delete: {target: pod/web-0, timeout: 500ms}");
    let failure = within(10, run_step(&delete, &mut ctx))
        .await
        .expect_err("held by a finalizer");
    assert!(
        failure.message.contains("did not go"),
        "{}",
        failure.message
    );
    assert!(
        failure
            .message
            .contains("held by finalizers: web-0 [example.com/hold]"),
        "{}",
        failure.message
    );
    assert!(
        failure.actual.contains("deletionTimestamp"),
        "{}",
        failure.actual
    );

    let selector = step("delete: {target: {kind: pod, selector: app=none}}");
    let report = within(10, run_step(&selector, &mut ctx))
        .await
        .expect("nothing to delete is fine");
    assert_eq!(report.detail, "no pods -l app=none to delete");
}

#[tokio::test]
async fn deleting_a_claim_in_use_names_the_pod_that_keeps_it() {
    let fake = TestCluster::start().await;
    let mut ctx = fake.ctx("ns");
    fake.create(json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": "ns"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}));
    fake.create(json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "db-0", "namespace": "ns"},
        "spec": {"nodeName": "node-1", "containers": [{"name": "db", "image": "mysql:8.4"}],
                 "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]}}));
    let delete = step("delete: {target: persistentvolumeclaim/data, timeout: 500ms}");
    let failure = within(10, run_step(&delete, &mut ctx))
        .await
        .expect_err("the claim is in use");
    assert!(
        failure.message.ends_with(
            "held by finalizers: data [kubernetes.io/pvc-protection]; data is held by \
             kubernetes.io/pvc-protection while pod/db-0 still uses it"
        ),
        "{}",
        failure.message
    );
}

#[tokio::test]
async fn scale_goes_through_the_scale_subresource() {
    let fake = TestCluster::start().await;
    let mut ctx = fake.ctx("ns");
    fake.create(json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "web", "namespace": "ns"},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": []}}}
    }));
    let writes = fake.handle().subscribe();
    let scale = step("scale: {target: sts/web, replicas: 5}");
    let report = within(10, run_step(&scale, &mut ctx))
        .await
        .expect("scaled");
    assert_eq!(report.detail, "scaled statefulset/web from 3 to 5");
    let sts = fake
        .get("apps/v1", "StatefulSet", Some("ns"), "web")
        .expect("sts");
    assert_eq!(sts["spec"]["replicas"], 5);
    let mut writes = writes;
    let event = tokio::time::timeout(Duration::from_secs(1), writes.recv())
        .await
        .expect("a write")
        .expect("an event");
    assert_eq!(event.subresource, Some("scale"));
}

#[tokio::test]
async fn scale_failures_name_the_target() {
    let fake = TestCluster::start().await;
    let mut ctx = fake.ctx("ns");
    let missing = step("scale: {target: sts/nope, replicas: 1}");
    let failure = within(15, run_step(&missing, &mut ctx))
        .await
        .expect_err("missing");
    assert!(
        failure
            .message
            .starts_with("failed to read the scale of statefulset/nope: 404"),
        "{}",
        failure.message
    );
    let pod_scale = step("scale: {target: pod/web-0, replicas: 1}");
    let failure = within(10, run_step(&pod_scale, &mut ctx))
        .await
        .expect_err("pods do not scale");
    assert!(
        failure
            .message
            .contains("only StatefulSets, Deployments and ReplicaSets"),
        "{}",
        failure.message
    );
}
