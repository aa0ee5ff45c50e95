//! The MariaDB backend's own checks, each a small scenario run like the detection run's: the
//! credentials come from the Secret the scenario applied, and a pod's readiness is the fixture's
//! probe answered by its server, not by the client binary alone.

use std::path::{Path, PathBuf};

use petset::scenario::load_suite;
use petset_fakeapi::emulation::EmulationConfig;

/// The shipped fixture with other passwords in its Secret and two replicas.
fn suite_with_other_passwords(scenario: &str) -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("temp dir");
    let shipped = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/mysql");
    let fixtures = root.path().join("fixtures/mysql");
    std::fs::create_dir_all(&fixtures).expect("fixtures folder");
    for name in [
        "configmap.yaml",
        "services.yaml",
        "statefulset.yaml",
        "secret.yaml",
    ] {
        let text = std::fs::read_to_string(shipped.join(name)).expect("shipped fixture");
        let text = match name {
            "secret.yaml" => text
                .replace("petset-root-secret", "root-from-the-applied-secret")
                .replace("petset-app-secret", "app-from-the-applied-secret")
                .replace("petset-repl-secret", "repl-from-the-applied-secret"),
            "statefulset.yaml" => text.replace("replicas: 3", "replicas: 2"),
            _ => text,
        };
        assert!(
            name != "secret.yaml" || text.contains("root-from-the-applied-secret"),
            "the shipped secret changed shape; update this check"
        );
        std::fs::write(fixtures.join(name), text).expect("fixture written");
    }
    let scenarios = root.path().join("scenarios/mysql");
    std::fs::create_dir_all(&scenarios).expect("scenarios folder");
    std::fs::write(scenarios.join("backend-check.yaml"), scenario).expect("scenario written");
    root
}

async fn run(root: &Path) -> crate::Outcome {
    let suite = load_suite(root).expect("the check's suite loads");
    assert!(
        suite.problems.is_empty(),
        "the check's scenario has problems"
    );
    let loaded = suite.scenarios.first().expect("one scenario");
    crate::run_one(loaded, root, EmulationConfig::default(), None, None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_come_from_the_applied_secret_and_readiness_from_the_server() {
    let root = suite_with_other_passwords(
        r#"description: >
  The applied Secret's passwords work for root and the application user on the primary and on
  a cloned replica; shutting the replica's server down makes its readiness probe fail.
covers: [DB-READY-1]
timeout: 5m
requires: {defaultStorageClass: true, clusterDns: true}
steps:
  - apply: {files: [mysql/secret.yaml, mysql/configmap.yaml, mysql/services.yaml, mysql/statefulset.yaml]}
  - wait: {target: sts/mysql, for: rolledOut, timeout: 4m}
  - sql:
      target: pod/mysql-0
      user: petset
      passwordFrom: {secret: mysql, key: password}
      database: petset
      statements: ["CREATE TABLE t (id INT PRIMARY KEY)"]
  - sql:
      target: pod/mysql-1
      user: root
      passwordFrom: {secret: mysql, key: root-password}
      query: "SELECT @@server_id"
      expect: {rows: [[101]]}
  - sql:
      target: pod/mysql-1
      user: root
      passwordFrom: {secret: mysql, key: root-password}
      statements: ["SHUTDOWN"]
  - wait: {target: pod/mysql-1, for: {condition: {type: Ready, status: "False"}}, timeout: 1m}
"#,
    );
    let outcome = run(root.path()).await;
    assert!(outcome.passed, "{}", outcome.message);
}
