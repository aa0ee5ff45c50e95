//! No password reaches anything petset writes. Scenarios run through the runner with the real
//! step engine against the fake API server: one applies the mysql Secret and is refused, one
//! captures Secret keys and then fails on them, one fails an SQL step whose client prints the
//! password it was given (read by `passwordFrom`). Every byte of the run's terminal output and
//! of every file under its directory is then searched for the passwords, plain and base64.
//!
//! The terminal output is only whole as a separate process sees it, so the run happens in a
//! child process (this test binary again, running the ignored `leaky_scenarios` test).

// Test code: a failure here is a failure of the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::runner_support::{EngineCluster, entry, input, settings};
use crate::support::test_cluster::TestCluster;
use petset_fakeapi::{ExecOutput, Lasting, Origin, RequestFilter, Verb, WriteEvent};

/// Where the child writes its run; set by the parent.
const RUN_DIR: &str = "PETSET_TEST_SECRETS_RUN_DIR";

/// The passwords of `fixtures/mysql/secret.yaml`.
const PASSWORDS: [&str; 3] = [
    "petset-root-secret",
    "petset-app-secret",
    "petset-repl-secret",
];

#[test]
fn no_password_reaches_the_terminal_or_any_report() {
    let dir = tempfile::tempdir().unwrap();
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "report_secrets::leaky_scenarios",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(RUN_DIR, dir.path())
        .output()
        .unwrap();
    let mut written: Vec<(PathBuf, Vec<u8>)> = vec![
        (PathBuf::from("(stdout)"), child.stdout.clone()),
        (PathBuf::from("(stderr)"), child.stderr.clone()),
    ];
    collect_files(dir.path(), &mut written);
    let terminal = String::from_utf8_lossy(&child.stdout);
    assert!(
        child.status.success(),
        "the child run did not go as planned:\n{terminal}\n{}",
        String::from_utf8_lossy(&child.stderr)
    );
    // The scenarios ran and failed where they were meant to, so there was something to leak.
    for expected in [
        "secret/mysql",
        "step 4 (assert secret/mysql",
        "step 2 (sql on pod/mysql-0",
    ] {
        assert!(terminal.contains(expected), "{expected:?} in:\n{terminal}");
    }
    let reports: Vec<&PathBuf> = written.iter().map(|(path, _)| path).collect();
    assert!(
        reports.iter().filter(|p| p.ends_with("junit.xml")).count() == 2
            && reports
                .iter()
                .filter(|p| p.ends_with("coverage.md"))
                .count()
                == 2,
        "both runs wrote their reports: {reports:?}"
    );

    let needles: Vec<String> = PASSWORDS
        .iter()
        .flat_map(|password| [password.to_string(), base64(password)])
        .collect();
    let mut hits = Vec::new();
    for (path, bytes) in &written {
        for needle in &needles {
            let count = bytes
                .windows(needle.len())
                .filter(|w| *w == needle.as_bytes())
                .count();
            if count > 0 {
                hits.push(format!("{} holds {needle} {count} times", path.display()));
            }
        }
    }
    assert!(hits.is_empty(), "passwords leaked:\n{}", hits.join("\n"));
    // What was there to leak is shown masked, not left out.
    let junit: String = written
        .iter()
        .filter(|(path, _)| path.ends_with("junit.xml"))
        .map(|(_, bytes)| String::from_utf8_lossy(bytes).into_owned())
        .collect();
    for shown in [
        "root-password: &lt;redacted&gt;",
        "app = &lt;redacted&gt;",
        "using password: ***",
    ] {
        assert!(junit.contains(shown), "{shown:?} in:\n{junit}");
    }
}

/// Run by the test above in a child process, whose output it searches.
#[test]
#[ignore = "run by no_password_reaches_the_terminal_or_any_report in a child process"]
fn leaky_scenarios() {
    let dir = PathBuf::from(std::env::var_os(RUN_DIR).expect("run by the parent test"));
    let cluster_runtime = tokio::runtime::Runtime::new().unwrap();
    let cluster = cluster_runtime.block_on(TestCluster::start());
    let client = cluster.client.clone();
    let handle = cluster.handle();
    // A database client that fails and, as some do, prints the password it read from stdin.
    handle.on_write(|cluster, event: &WriteEvent| {
        if event.origin == Origin::Api && event.is("Pod") && !event.removed {
            let namespace = event.namespace.clone().unwrap_or_default();
            cluster.on_exec_streaming(&namespace, &event.name, None, |_, mut stdin| async move {
                let line = stdin.read_line().await.unwrap_or_default();
                let password = String::from_utf8_lossy(&line).trim_end().to_owned();
                ExecOutput::stdout(Vec::new())
                    .with_stderr(format!(
                        "ERROR 1045 (28000): Access denied for user 'root' (using password: {password})\n"
                    ))
                    .with_exit_code(1)
            });
        }
    });
    let source = EngineCluster {
        client,
        fixtures: Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures"),
    };

    // The first run: the API server refuses the Secret.
    handle.fail_requests(
        RequestFilter::any().verb(Verb::Patch).resource("secrets"),
        422,
        Lasting::Always,
    );
    let refused = vec![entry("secrets", "apply-refused", APPLY_REFUSED)];
    let first = run(&dir.join("refused"), refused, &source);
    assert_eq!(first, (0, 1), "the refused apply fails");
    handle.clear_faults();

    // The second run: the Secret is there and read.
    let read = vec![
        entry("secrets", "capture-then-fail", CAPTURE_THEN_FAIL),
        entry("secrets", "sql-fails", SQL_FAILS),
    ];
    let second = run(&dir.join("read"), read, &source);
    assert_eq!(second, (0, 2), "both scenarios fail");
    drop(cluster_runtime);
}

/// Runs `suite` as the conformance binary would, verbose, with its reports under `dir`;
/// libtest's own lines go to standard output with everything else. Gives (passed, failed).
fn run(dir: &Path, suite: Vec<petset::runner::SuiteEntry>, source: &EngineCluster) -> (u64, u64) {
    let mut settings = settings(dir, 0);
    settings.verbose = true;
    let args = libtest_mimic::Arguments::from_iter(["conformance", "--test-threads", "1"]);
    let outcome = petset::runner::run(&args, input(suite, settings), source);
    let conclusion = outcome.conclusion.expect("trials ran");
    (conclusion.num_passed, conclusion.num_failed)
}

const APPLY_REFUSED: &str = "description: the mysql Secret is refused
covers: [DB-REPL-1]
timeout: 30s
steps:
  - apply: {files: [mysql/secret.yaml]}
";

const CAPTURE_THEN_FAIL: &str = "description: Secret keys are captured, then compared wrongly
covers: [DB-REPL-1]
timeout: 30s
steps:
  - apply: {files: [mysql/secret.yaml]}
  - capture: {target: secret/mysql, field: stringData.password, as: app}
  - capture: {target: secret/mysql, field: 'stringData[\"root-password\"]', as: root}
  - assert: {target: secret/mysql, matches: {stringData: {password: '${root}'}}}
";

const SQL_FAILS: &str = "description: an SQL step with passwordFrom fails at login
covers: [DB-REPL-1]
timeout: 30s
steps:
  - apply:
      files: [mysql/secret.yaml]
      manifests:
        - {apiVersion: v1, kind: Pod, metadata: {name: mysql-0}, spec: {containers: [{name: mysql, image: 'mariadb:11.4'}]}}
  - sql:
      target: pod/mysql-0
      via: exec
      user: root
      passwordFrom: {secret: mysql, key: root-password}
      query: SELECT 1
      expect: {rows: [[1]]}
";

fn collect_files(dir: &Path, into: &mut Vec<(PathBuf, Vec<u8>)>) {
    for item in std::fs::read_dir(dir).unwrap() {
        let path = item.unwrap().path();
        if path.is_dir() {
            collect_files(&path, into);
        } else {
            let bytes = std::fs::read(&path).unwrap();
            into.push((path, bytes));
        }
    }
}

/// Standard base64, as a Secret's `data` holds a value.
fn base64(text: &str) -> String {
    match serde_json::to_value(k8s_openapi::ByteString(text.as_bytes().to_vec())).unwrap() {
        serde_json::Value::String(encoded) => encoded,
        other => panic!("base64 gave {other}"),
    }
}
