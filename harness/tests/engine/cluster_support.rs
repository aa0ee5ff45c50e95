//! Test support for the cluster tests: stand-in `kind`/`k3d`/`docker` executables in a temp
//! dir (recording their arguments), settings built without touching the process environment,
//! and a loopback stand-in API server that answers `/version`.

#![allow(dead_code)] // each test binary uses a different part of this module

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use petset::cluster::{
    Cluster, ClusterError, Selection, Settings, TeardownOutcome, ToolRunner, Unavailable,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What the real docker prints when its engine is not running.
pub const DOCKER_DOWN: &str = "echo 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' >&2; exit 1";
/// What the real docker prints for `docker version --format {{.Server.Version}}`.
pub const DOCKER_UP: &str = "echo 28.2.2";

/// A temp dir of stand-in executables; it is the whole `PATH` of the runner it hands out, so
/// real tools on this machine never leak in. Removed on drop.
pub struct StandIns {
    dir: tempfile::TempDir,
    log: PathBuf,
}

impl StandIns {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("calls.log");
        std::fs::write(&log, "").expect("call log");
        StandIns { dir, log }
    }

    /// Stand-ins with a `docker` whose engine answers (as the real one prints it) or is down.
    pub fn with_docker(up: bool) -> Self {
        let bin = Self::new();
        bin.script("docker", if up { DOCKER_UP } else { DOCKER_DOWN });
        bin
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Writes an executable `name` that logs `name args...` and then runs `body` (POSIX sh;
    /// use absolute paths like /bin/sleep, since PATH holds only the stand-ins).
    pub fn script(&self, name: &str, body: &str) -> &Self {
        let path = self.dir.path().join(name);
        let text = format!(
            "#!/bin/sh\nprintf '%s\\n' \"{name} $*\" >> '{}'\n{body}\n",
            self.log.display()
        );
        std::fs::write(&path, text).expect("write stand-in");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        self
    }

    /// A runner whose PATH is this directory only.
    pub fn runner(&self) -> ToolRunner {
        ToolRunner::with_path(self.dir.path())
    }

    /// Every recorded invocation, in order.
    pub fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .expect("call log")
            .lines()
            .map(str::to_string)
            .collect()
    }

    pub fn called(&self, prefix: &str) -> bool {
        self.calls().iter().any(|c| c.starts_with(prefix))
    }

    /// Writes a file in the temp dir and returns its path.
    pub fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write file");
        path
    }
}

/// Settings as if only `vars` were set, with no kubeconfig (a path that does not exist), no
/// home, the real repository root, and short deadlines.
pub fn settings(vars: &[(&str, &str)]) -> Settings {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut settings = Settings::from_lookup(|k| vars.get(k).cloned()).expect("settings");
    settings.kubeconfig = Some("/nonexistent/petset-test-kubeconfig".into());
    settings.home = None;
    settings.repo_root = petset::cluster::repo_root();
    settings.command_deadline = std::time::Duration::from_secs(5);
    settings
}

/// [`settings`] with a kubeconfig file (written in `bin`'s folder) holding one context
/// `context` at `server`, its current context.
pub fn settings_with_context(
    bin: &StandIns,
    vars: &[(&str, &str)],
    context: &str,
    server: &str,
) -> Settings {
    let mut settings = settings(vars);
    settings.kubeconfig = Some(bin.file("config", &kubeconfig_yaml(context, server)).into());
    settings
}

/// The cluster a selection connected to; anything else fails the test.
pub fn connected(selection: Result<Selection, ClusterError>) -> Cluster {
    match selection {
        Ok(Selection::Connected(cluster)) => cluster,
        Ok(Selection::Unavailable(u)) => panic!("unexpectedly unavailable: {u}"),
        Err(e) => panic!("unexpected error: {}", e.describe()),
    }
}

/// Why a selection found no cluster; anything else fails the test.
pub fn unavailable(selection: Result<Selection, ClusterError>) -> Unavailable {
    match selection {
        Ok(Selection::Unavailable(u)) => u,
        Ok(Selection::Connected(c)) => panic!("unexpectedly connected to {}", c.summary()),
        Err(e) => panic!("unexpected error: {}", e.describe()),
    }
}

/// Tears `cluster` down as the end of a run does and checks what became of it.
pub async fn assert_teardown(cluster: Cluster, outcome: TeardownOutcome) {
    let done = cluster.teardown().await;
    assert_eq!(done.ok(), Some(outcome));
}

/// The error a selection failed with; anything else fails the test.
pub fn failed(selection: Result<Selection, ClusterError>) -> ClusterError {
    match selection {
        Err(e) => e,
        Ok(other) => panic!("expected an error, got {other:?}"),
    }
}

/// A kubeconfig with one context `context` pointing at `server`.
pub fn kubeconfig_yaml(context: &str, server: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: {context}-cluster\n  cluster:\n    \
         server: {server}\ncontexts:\n- name: {context}\n  context:\n    cluster: {context}-cluster\n    \
         user: {context}-user\ncurrent-context: {context}\nusers:\n- name: {context}-user\n  user:\n    \
         token: t\n"
    )
}

/// A loopback HTTP server answering every request with a Kubernetes `/version` document,
/// counting requests (to prove a refused context was never contacted). Stops on drop.
pub struct VersionServer {
    url: String,
    hits: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl VersionServer {
    pub async fn start(minor: u32) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        let body = format!(
            r#"{{"major":"1","minor":"{minor}","gitVersion":"v1.{minor}.1","gitCommit":"0","gitTreeState":"clean","buildDate":"2025-05-15T00:00:00Z","goVersion":"go1.24","compiler":"gc","platform":"linux/amd64"}}"#
        );
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let counter = counter.clone();
                let body = body.clone();
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    counter.fetch_add(1, Ordering::SeqCst);
                    let response = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(response.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        VersionServer { url, hits, task }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for VersionServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A loopback address nothing listens on (bound, then released).
pub fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    format!("http://{addr}")
}
