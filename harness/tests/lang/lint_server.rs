//! `petset lint --server`: the built binary against the fake API server, which answers
//! dry runs with strict field validation as an API server does.

// Test setup and assertions may panic freely.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use petset_fakeapi::FakeApiServer;
use std::path::Path;
use std::process::{Command, Output};

/// Two documents: an unknown field in the first, a value the API does not allow in the second.
const REJECTED: &str = "\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  replicass: 3
  serviceName: web
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: nginx
          image: nginx:1.27
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  serviceName: db
  podManagementPolicy: Paralel
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      containers:
        - name: db
          image: mariadb:11
";

const SCENARIO: &str = "\
description: Applies the web and db sets.
covers: [STS-ORDER-2]
steps:
  - apply: {files: [web/sets.yaml]}
  - apply:
      manifests:
        - apiVersion: v1
          kind: Service
          metadata: {name: web}
          spec: {type: ClusterIp, ports: [{port: 80}], selector: {app: web}}
  - wait: {target: {kind: pod, selector: app=web}, for: {count: 1}}
";

fn write(root: &Path, relative: &str, text: &str) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// `petset lint --server --format plain` in `root`, pointed at `server` the way a user points
/// petset at a context the safety guard does not know.
fn lint_server(root: &Path, server: &FakeApiServer) -> Output {
    let config_dir = tempfile::tempdir().unwrap();
    let kubeconfig = config_dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig_yaml()).unwrap();
    Command::new(env!("CARGO_BIN_EXE_petset"))
        .args(["lint", "--server", "--format", "plain"])
        .current_dir(root)
        .env("KUBECONFIG", &kubeconfig)
        .env("PETSET_CLUSTER", "current")
        .env("PETSET_ALLOW_CONTEXT", "fake")
        .env_remove("PETSET_CONTEXT")
        .output()
        .unwrap()
}

fn namespaces(server: &FakeApiServer) -> Vec<String> {
    server
        .handle()
        .list("v1", "Namespace", None)
        .iter()
        .filter_map(|ns| ns.pointer("/metadata/name")?.as_str().map(str::to_owned))
        .collect()
}

fn line_at<'a>(stdout: &'a str, location: &str) -> &'a str {
    stdout
        .lines()
        .find(|line| line.starts_with(location))
        .unwrap_or_else(|| panic!("no diagnostic at {location}:\n{stdout}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_objections_come_back_at_the_fixture_lines() {
    let server = FakeApiServer::start().await.unwrap();
    let before = namespaces(&server);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "fixtures/web/sets.yaml", REJECTED);
    write(root, "scenarios/demo/sets.yaml", SCENARIO);

    let output = tokio::task::block_in_place(|| lint_server(root, &server));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    // The whole output, exactly (`UPDATE_SNAPSHOTS=1` rewrites it, as for the lint corpus).
    let snapshot = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lint_server.snap");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&snapshot, stdout.as_bytes()).unwrap();
    }
    let expected = std::fs::read_to_string(&snapshot).unwrap();
    assert_eq!(stdout, expected, "got:\n{stdout}");

    let unknown = line_at(&stdout, "fixtures/web/sets.yaml:6:3: error:");
    assert!(
        unknown.contains(
            "the API server rejects StatefulSet `web`: failed to create typed patch object"
        ) && unknown.contains(".spec.replicass: field not declared in schema"),
        "{unknown}"
    );
    let unsupported = line_at(&stdout, "fixtures/web/sets.yaml:24:3: error:");
    assert!(
        unsupported.contains(
            "the API server rejects StatefulSet `db`: spec.podManagementPolicy: Unsupported \
             value: \"Paralel\": supported values: \"OrderedReady\", \"Parallel\""
        ),
        "{unsupported}"
    );
    // The server's word replaces the offline check's at the same line: each said once.
    for location in ["fixtures/web/sets.yaml:6:", "fixtures/web/sets.yaml:24:"] {
        let said = stdout.lines().filter(|l| l.starts_with(location)).count();
        assert_eq!(said, 1, "{location} said {said} times:\n{stdout}");
    }

    // Dry runs only: the sets were sent, nothing was stored, the scratch namespace is gone.
    let handle = server.handle();
    let sent = handle.request_count(petset_fakeapi::Verb::Patch, "statefulsets");
    assert_eq!(sent, 2, "one dry run per document");
    assert!(handle.list("apps/v1", "StatefulSet", None).is_empty());
    assert_eq!(
        namespaces(&server),
        before,
        "the scratch namespace was left behind"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_suite_passes_on_the_server() {
    let server = FakeApiServer::start().await.unwrap();
    let before = namespaces(&server);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let clean = REJECTED
        .replace("replicass:", "replicas:")
        .replace("Paralel", "Parallel");
    write(root, "fixtures/web/sets.yaml", &clean);
    // A manifest using a value captured during the run (by `capture` or by an `exec`'s
    // `captureStdout`) is not sent: it cannot be judged here.
    let scenario = SCENARIO.replace("ClusterIp", "ClusterIP").replace(
        "  - wait:",
        "  - capture: {target: sts/web, field: spec.serviceName, as: svc}\n  \
         - apply: {manifests: [{apiVersion: v1, kind: Service, metadata: {name: \"${svc}\"}}]}\n  \
         - exec: {target: pod/web-0, command: [hostname], captureStdout: host}\n  \
         - apply: {manifests: [{apiVersion: v1, kind: ConfigMap, metadata: {name: \"${host}\"}}]}\n  \
         - wait:",
    );
    write(root, "scenarios/demo/sets.yaml", &scenario);
    let mut writes = server.handle().subscribe();

    let output = tokio::task::block_in_place(|| lint_server(root, &server));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    let handle = server.handle();
    assert_eq!(
        handle.request_count(petset_fakeapi::Verb::Patch, "statefulsets"),
        2
    );
    assert_eq!(
        handle.request_count(petset_fakeapi::Verb::Patch, "services"),
        1
    );
    assert_eq!(
        handle.request_count(petset_fakeapi::Verb::Patch, "configmaps"),
        0
    );
    assert_eq!(namespaces(&server), before);

    // The writes the lint made: its labelled scratch namespace, made and removed; no set.
    let mut seen = Vec::new();
    while let Ok(event) = writes.try_recv() {
        seen.push(event);
    }
    assert!(
        seen.iter().all(|e| !e.is("StatefulSet")),
        "a dry run stored a set"
    );
    let created = seen
        .iter()
        .find(|e| e.is("Namespace") && e.verb == petset_fakeapi::Verb::Create)
        .expect("the scratch namespace was created");
    assert!(
        created.name.starts_with("petset-lint-server-"),
        "{}",
        created.name
    );
    assert_eq!(
        created
            .object
            .pointer("/metadata/labels/app.kubernetes.io~1managed-by"),
        Some(&serde_json::json!("petset"))
    );
    assert!(
        seen.iter()
            .any(|e| e.is("Namespace") && e.name == created.name && e.removed),
        "the scratch namespace was not removed"
    );
}

#[test]
fn without_a_cluster_server_lint_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "fixtures/web/sets.yaml", REJECTED);
    write(root, "scenarios/demo/sets.yaml", SCENARIO);
    let output = Command::new(env!("CARGO_BIN_EXE_petset"))
        .args(["lint", "--server", "--format", "plain"])
        .current_dir(root)
        .env("KUBECONFIG", root.join("no-such-kubeconfig"))
        .env("PETSET_CLUSTER", "current")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no-such-kubeconfig"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shipped_suite_is_clean_on_the_server() {
    let server = FakeApiServer::start().await.unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let output = tokio::task::block_in_place(|| lint_server(repo, &server));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    let sent = server.handle().request_counts();
    let dry_runs: u64 = sent
        .iter()
        .filter(|((verb, _), _)| *verb == petset_fakeapi::Verb::Patch)
        .map(|(_, count)| count)
        .sum();
    assert!(
        dry_runs >= 10,
        "only {dry_runs} manifests were sent: {sent:?}"
    );
}
