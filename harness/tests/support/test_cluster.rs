//! One test cluster for every test that talks to an API server: the fake API server, a client
//! built exactly as a run builds its own (`cluster::client_from_config`), a scratch fixtures
//! folder, and the step context the engine gives a scenario's namespace; with small object
//! builders and the bounds and barriers tests wait with.

#![allow(dead_code)]

use petset::events::Failure;
use petset::scenario::model::Step;
use petset::steps::{StepContext, StepReport, run_step};
use petset_fakeapi::{FakeApiServer, Handle};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Duration;

/// A running fake and a client for it. The fake stops when this is dropped.
pub struct TestCluster {
    pub server: FakeApiServer,
    pub client: kube::Client,
    /// What the client was built from, given to steps as the engine gives it.
    pub config: kube::Config,
    pub fixtures: tempfile::TempDir,
}

impl TestCluster {
    pub async fn start() -> Self {
        let server = FakeApiServer::start()
            .await
            .expect("fake API server starts");
        let config = kube::Config::new(server.url().parse().expect("the fake's URL parses"));
        // Built as every run builds its client.
        let client =
            petset::cluster::client_from_config(config.clone()).expect("a client for the fake");
        let fixtures = tempfile::tempdir().expect("a temporary fixtures folder");
        Self {
            server,
            client,
            config,
            fixtures,
        }
    }

    pub fn handle(&self) -> Handle {
        self.server.handle()
    }

    /// Creates a namespace directly in the store.
    pub fn namespace(&self, name: &str) {
        self.handle()
            .create(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}))
            .expect("namespace created");
    }

    /// A step context on a fresh namespace `name`, with the labels the engine puts on a
    /// scenario's objects.
    pub fn ctx(&self, name: &str) -> StepContext {
        self.namespace(name);
        let mut ctx = StepContext::new(self.client.clone(), name, self.fixtures_dir());
        ctx.labels = petset::engine::scenario_labels("test-run");
        ctx.default_timeout = Duration::from_secs(10);
        ctx.cluster_config = Some(std::sync::Arc::new(self.config.clone()));
        ctx
    }

    pub fn fixtures_dir(&self) -> PathBuf {
        self.fixtures.path().to_path_buf()
    }

    /// Writes a fixture file under the fixtures folder.
    pub fn fixture(&self, relative: &str, text: &str) {
        let path = self.fixtures.path().join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("fixture folder");
        }
        std::fs::write(path, text).expect("fixture written");
    }

    pub fn create(&self, object: Value) -> Value {
        self.handle().create(object).expect("object created")
    }

    pub fn get(
        &self,
        api_version: &str,
        kind: &str,
        ns: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        self.handle().get(api_version, kind, ns, name)
    }

    /// Marks a pod Running and Ready (no IP), as its kubelet would.
    pub fn ready(&self, ns: &str, name: &str) {
        self.handle()
            .set_pod_ready(ns, name, true, None)
            .expect("pod made ready");
    }
}

/// Parses one step as written in a scenario file.
pub fn step(yaml: &str) -> Step {
    serde_saphyr::from_str(yaml).unwrap_or_else(|error| panic!("step parses: {error}\n{yaml}"))
}

/// Runs one step written as YAML, as the runner would. Bounded, so a hang fails the test
/// instead of blocking the suite.
pub async fn run(ctx: &mut StepContext, yaml: &str) -> Result<StepReport, Failure> {
    let step = step(yaml);
    tokio::time::timeout(Duration::from_secs(30), run_step(&step, ctx))
        .await
        .unwrap_or_else(|_| panic!("step did not finish in 30s: {yaml}"))
}

/// Runs a step that must pass and returns its report.
pub async fn passes(ctx: &mut StepContext, yaml: &str) -> StepReport {
    match run(ctx, yaml).await {
        Ok(report) => report,
        Err(failure) => panic!(
            "step failed: {yaml}\nmessage: {}\nexpected:\n{}\nactual:\n{}",
            failure.message, failure.expected, failure.actual
        ),
    }
}

/// Runs a step that must fail and returns its failure.
pub async fn fails(ctx: &mut StepContext, yaml: &str) -> Failure {
    match run(ctx, yaml).await {
        Ok(report) => panic!(
            "step passed but should fail: {yaml}\npassed with: {}",
            report.detail
        ),
        Err(failure) => failure,
    }
}

/// Asserts that `text` contains `part`, showing the whole text when it does not.
#[track_caller]
pub fn assert_contains(text: &str, part: &str) {
    assert!(text.contains(part), "{part:?} is not in:\n{text}");
}

/// Asserts that `text` starts with `prefix`, showing the whole text when it does not.
#[track_caller]
pub fn assert_starts(text: &str, prefix: &str) {
    assert!(
        text.starts_with(prefix),
        "does not start with {prefix:?}:\n{text}"
    );
}

/// Asserts that `text` ends with `suffix`, showing the whole text when it does not.
#[track_caller]
pub fn assert_ends(text: &str, suffix: &str) {
    assert!(
        text.ends_with(suffix),
        "does not end with {suffix:?}:\n{text}"
    );
}

/// A pending pod with labels.
pub fn pod(ns: &str, name: &str, labels: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]},
        "status": {"phase": "Pending"}
    })
}

/// Returns once `condition` holds: a barrier on state the test can read (the fake's request
/// counters, what a recorder holds), checked again every few milliseconds for up to 10 s.
pub async fn until(condition: impl Fn() -> bool) {
    within(10, async {
        while !condition() {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await;
}

/// Bounds a test's await so a bug cannot hang the suite.
pub async fn within<T>(seconds: u64, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(seconds), future)
        .await
        .expect("finished in time")
}
