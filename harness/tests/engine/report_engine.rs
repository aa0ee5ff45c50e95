//! The runner with the real step engine against the fake API server, with this test playing
//! the kubelet: one scenario passes, one fails, one fails and then passes (flaky), one is
//! ignored for its `requires`; the JUnit report says so, as read by quick-junit and junitparser.
//! And the kind of each failure: an unmet expectation is a `<failure>`, an API that refused or
//! kept failing and a cleanup that failed are `<error>`s, each with its kind as the `type`.

use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;
use std::time::Duration;

use crate::runner_support::{
    EngineCluster, args, check_with_junitparser, entry, input, settings, validate_with_xmllint,
};
use crate::support::test_cluster::TestCluster;
use petset_fakeapi::{Controller, Handle, Lasting, Origin, RequestFilter, Verb, WriteEvent};
use quick_junit::{NonSuccessKind, Report, TestCaseStatus};
use serde_json::json;

/// Plays the kubelet: `web-0` becomes ready shortly after it is created; `flaky-0` only the
/// second time it is created (in a retry's namespace); `never-0` never.
#[derive(Default)]
struct Kubelet {
    seen: BTreeSet<(String, String)>,
    flaky_namespaces: BTreeMap<String, usize>,
}

impl Controller for Kubelet {
    async fn on_event(&mut self, cluster: &Handle, event: WriteEvent) {
        if event.origin != Origin::Api || event.removed || !event.is("Pod") {
            return;
        }
        let Some(namespace) = event.namespace.clone() else {
            return;
        };
        if !self.seen.insert((namespace.clone(), event.name.clone())) {
            return;
        }
        let ready = match event.name.as_str() {
            "web-0" => true,
            "flaky-0" => {
                let count = self.flaky_namespaces.len() + 1;
                self.flaky_namespaces.insert(namespace.clone(), count);
                count >= 2
            }
            _ => false,
        };
        if ready {
            let cluster = cluster.clone();
            let name = event.name.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                let _ = cluster.set_pod_ready(&namespace, &name, true, Some("10.0.0.7"));
            });
        }
    }
}

fn pod_scenario(pod: &str, covers: &str, wait: &str) -> String {
    format!(
        "description: pod {pod} becomes ready
covers: [{covers}]
timeout: 30s
steps:
  - apply:
      manifests:
        - {{apiVersion: v1, kind: Pod, metadata: {{name: {pod}, labels: {{app: web}}}}, spec: {{containers: [{{name: c, image: 'nginx:1.27'}}]}}}}
  - wait: {{target: pod/{pod}, for: ready, timeout: {wait}}}
"
    )
}

#[test]
fn engine_runs_through_the_runner_into_the_report() {
    let dir = tempfile::tempdir().unwrap();
    // The fake and the kubelet live on their own runtime; the runner makes its own.
    let cluster_runtime = tokio::runtime::Runtime::new().unwrap();
    let cluster = cluster_runtime.block_on(async {
        let cluster = TestCluster::start().await;
        cluster.handle().spawn_controller(Kubelet::default());
        cluster
    });
    let (server, client) = (&cluster.server, cluster.client.clone());
    let suite = vec![
        entry("pods", "ready", &pod_scenario("web-0", "STS-NAME-1", "10s")),
        entry(
            "pods",
            "never-ready",
            &pod_scenario("never-0", "STS-ORDER-1", "1s"),
        ),
        entry(
            "pods",
            "ready-on-retry",
            &pod_scenario("flaky-0", "STS-PVC-1", "2s"),
        ),
        entry(
            "pods",
            "needs-two-nodes",
            "description: x\ncovers: [FAULT-DRAIN-1]\nrequires: {nodes: 2}\nsteps:\n  - mark: m\n",
        ),
    ];
    let source = EngineCluster {
        client,
        fixtures: dir.path().join("fixtures"),
    };
    let outcome = petset::runner::run(
        &args(dir.path(), &["--test-threads", "4"]),
        input(suite, settings(dir.path(), 1)),
        &source,
    );
    let conclusion = outcome.conclusion.expect("trials ran");
    assert_eq!(
        (
            conclusion.num_passed,
            conclusion.num_failed,
            conclusion.num_ignored
        ),
        (2, 1, 1),
        "{}",
        std::fs::read_to_string(dir.path().join("libtest.log")).unwrap_or_default()
    );
    assert_eq!(outcome.exit_code, ExitCode::from(101));

    // Every namespace the scenarios made is gone again.
    let handle = server.handle();
    let left: Vec<String> = handle
        .list("v1", "Namespace", None)
        .iter()
        .filter_map(|ns| ns["metadata"]["name"].as_str().map(str::to_string))
        .filter(|name| name.starts_with("petset-"))
        .collect();
    assert!(left.is_empty(), "namespaces left behind: {left:?}");

    let path = dir.path().join("reports/junit.xml");
    let xml = std::fs::read_to_string(&path).unwrap();
    let report = Report::deserialize_from_str(&xml).unwrap();
    assert_eq!((report.tests, report.failures, report.skipped), (4, 1, 1));
    let cases = &report.test_suites[0].test_cases;
    let case = |name: &str| cases.iter().find(|c| c.name.as_str() == name).unwrap();

    let TestCaseStatus::NonSuccess {
        message,
        description,
        ..
    } = &case("never-ready").status
    else {
        panic!("never-ready should fail");
    };
    let message = message.as_ref().unwrap().as_str();
    assert!(
        message.starts_with("step 2 "),
        "names the failed step: {message}"
    );
    assert!(!message.contains('\n'));
    assert!(!description.as_ref().unwrap().as_str().is_empty());

    let TestCaseStatus::Success { flaky_runs } = &case("ready-on-retry").status else {
        panic!("ready-on-retry should pass on its retry");
    };
    assert_eq!(flaky_runs.len(), 1);

    let namespace = case("ready")
        .properties
        .iter()
        .find(|p| p.name.as_str() == "namespace")
        .map(|p| p.value.as_str().to_string())
        .unwrap();
    assert!(namespace.starts_with("petset-pods-ready-"), "{namespace}");
    drop(cluster_runtime);

    check_with_junitparser(
        &path,
        &json!({
            "tests": 4, "failures": 1, "skipped": 1,
            "cases": {
                "petset.pods/ready": {
                    "status": "passed",
                    "properties": {"cluster.context": "fake", "namespace": "*",
                                   "file": "scenarios/pods/ready.yaml", "covers": "STS-NAME-1"},
                    "system_out_contains": ["step 1 ", "step 2 "]
                },
                "petset.pods/never-ready": {
                    "status": "failed", "message_contains": ["step 2 "], "message_is_one_line": true,
                    "rerun_failures": 1
                },
                "petset.pods/ready-on-retry": {"status": "passed", "flaky_failures": 1,
                                               "properties": {"flaky": "true"}},
                "petset.pods/needs-two-nodes": {
                    "status": "skipped", "message_contains": ["needs 2 schedulable nodes"]
                }
            }
        }),
    );
}

/// The test cluster with the test's kubelet, on its own runtime.
fn fake_cluster() -> (tokio::runtime::Runtime, TestCluster) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime for the fake");
    let cluster = runtime.block_on(async {
        let cluster = TestCluster::start().await;
        cluster.handle().spawn_controller(Kubelet::default());
        cluster
    });
    (runtime, cluster)
}

/// Each testcase's element (`failure` or `error`), `type` and message, by name.
fn non_successes(path: &std::path::Path) -> BTreeMap<String, (NonSuccessKind, String, String)> {
    let xml = std::fs::read_to_string(path).expect("the report is written");
    let report = Report::deserialize_from_str(&xml).expect("the report parses");
    let mut found = BTreeMap::new();
    for case in report.test_suites.iter().flat_map(|s| s.test_cases.iter()) {
        if let TestCaseStatus::NonSuccess {
            kind, message, ty, ..
        } = &case.status
        {
            let text = |v: &Option<quick_junit::XmlString>| {
                v.as_ref()
                    .map(|m| m.as_str().to_string())
                    .unwrap_or_default()
            };
            found.insert(
                case.name.as_str().to_string(),
                (*kind, text(ty), text(message)),
            );
        }
    }
    found
}

fn configmap_scenario(check: &str) -> String {
    format!(
        "description: a config map is applied and checked
covers: [STS-NAME-1]
timeout: 30s
steps:
  - apply:
      manifests:
        - {{apiVersion: v1, kind: ConfigMap, metadata: {{name: settings}}, data: {{mode: fast}}}}
  - {check}
"
    )
}

#[test]
fn api_errors_are_junit_errors_and_unmet_expectations_are_failures() {
    let dir = tempfile::tempdir().unwrap();
    let (runtime, cluster) = fake_cluster();
    let (server, client) = (&cluster.server, cluster.client.clone());
    let handle = server.handle();
    // Reading config maps is forbidden; writing secrets keeps failing with 503 (a step with no
    // target, so the failure's diagnostics do not wait out the same fault).
    handle.fail_requests(
        RequestFilter::any().verb(Verb::Get).resource("configmaps"),
        403,
        Lasting::Always,
    );
    handle.fail_requests(
        RequestFilter::any().verb(Verb::Patch).resource("secrets"),
        503,
        Lasting::Always,
    );
    let suite = vec![
        entry(
            "kinds",
            "forbidden",
            &configmap_scenario(
                "assert: {target: configmap/settings, matches: {data: {mode: fast}}}",
            ),
        ),
        entry(
            "kinds",
            "server-errors",
            "description: a secret is applied
covers: [STS-PVC-1]
timeout: 30s
steps:
  - apply:
      manifests:
        - {apiVersion: v1, kind: Secret, metadata: {name: credentials}, stringData: {user: app}}
",
        ),
        entry(
            "kinds",
            "never-ready",
            &pod_scenario("never-0", "STS-ORDER-1", "1s"),
        ),
    ];
    let source = EngineCluster {
        client,
        fixtures: dir.path().join("fixtures"),
    };
    let outcome = petset::runner::run(
        &args(dir.path(), &["--test-threads", "3"]),
        input(suite, settings(dir.path(), 0)),
        &source,
    );
    assert_eq!(outcome.exit_code, ExitCode::from(101));
    drop(runtime);

    let path = dir.path().join("reports/junit.xml");
    let found = non_successes(&path);
    let (kind, ty, message) = &found["forbidden"];
    assert_eq!(
        (*kind, ty.as_str()),
        (NonSuccessKind::Error, "api"),
        "{message}"
    );
    assert!(message.contains("403"), "{message}");
    let (kind, ty, message) = &found["server-errors"];
    assert_eq!(
        (*kind, ty.as_str()),
        (NonSuccessKind::Error, "api"),
        "{message}"
    );
    assert!(
        message.contains("failed to apply secret/credentials: still failing after"),
        "{message}"
    );
    assert!(message.contains("503"), "{message}");
    let (kind, ty, message) = &found["never-ready"];
    assert_eq!(
        (*kind, ty.as_str()),
        (NonSuccessKind::Failure, "assertion"),
        "{message}"
    );
    let xml = std::fs::read_to_string(&path).unwrap();
    let report = Report::deserialize_from_str(&xml).unwrap();
    assert_eq!((report.failures, report.errors), (1, 2));
    validate_with_xmllint(&xml, dir.path());
    check_with_junitparser(
        &path,
        &json!({
            "tests": 3, "failures": 1, "errors": 2, "skipped": 0,
            "cases": {
                "petset.kinds/forbidden": {"status": "error", "type": "api"},
                "petset.kinds/server-errors": {"status": "error", "type": "api"},
                "petset.kinds/never-ready": {"status": "failed", "type": "assertion"}
            }
        }),
    );

    let coverage = std::fs::read_to_string(dir.path().join("reports/coverage.md")).unwrap();
    assert!(
        coverage.contains("- `kinds::forbidden` error (api): step 2 "),
        "{coverage}"
    );
    assert!(
        coverage.contains("- `kinds::never-ready` failed (assertion): step 2 "),
        "{coverage}"
    );
}

#[test]
fn a_cleanup_that_fails_after_a_pass_is_a_cleanup_error() {
    let dir = tempfile::tempdir().unwrap();
    let (runtime, cluster) = fake_cluster();
    let (server, client) = (&cluster.server, cluster.client.clone());
    server.handle().fail_requests(
        RequestFilter::any()
            .verb(Verb::Delete)
            .resource("namespaces"),
        403,
        Lasting::Always,
    );
    let suite = vec![entry(
        "kinds",
        "left-behind",
        &configmap_scenario("assert: {target: configmap/settings, matches: {data: {mode: fast}}}"),
    )];
    let source = EngineCluster {
        client,
        fixtures: dir.path().join("fixtures"),
    };
    let outcome = petset::runner::run(
        &args(dir.path(), &[]),
        input(suite, settings(dir.path(), 0)),
        &source,
    );
    assert_eq!(outcome.exit_code, ExitCode::from(101));
    drop(runtime);
    let found = non_successes(&dir.path().join("reports/junit.xml"));
    let (kind, ty, message) = &found["left-behind"];
    assert_eq!(
        (*kind, ty.as_str()),
        (NonSuccessKind::Error, "cleanup"),
        "{message}"
    );
    assert!(message.starts_with("cleanup failed: "), "{message}");
}
