//! Shared set-up for the check-step tests: the test cluster with a namespace, the step context
//! the engine would build for it, and helpers to play the controllers and run steps from YAML.

#![allow(dead_code)]

use crate::support::test_cluster::TestCluster;
use petset::events::Failure;
use petset::scenario::model::Step;
use petset::steps::{StepContext, StepReport, run_step};
use petset_fakeapi::Handle;
use serde_json::{Value, json};
use std::time::Duration;

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The test cluster with one namespace and a step context for it. Dropping it stops the fake.
pub struct World {
    pub cluster: TestCluster,
    /// The fake's handle, to play the controllers and inject faults.
    pub fake: Handle,
    pub ctx: StepContext,
    pub ns: String,
}

impl World {
    pub async fn start(ns: &str) -> Result<World, Box<dyn std::error::Error>> {
        let cluster = TestCluster::start().await;
        let ctx = cluster.ctx(ns);
        Ok(World {
            fake: cluster.handle(),
            cluster,
            ctx,
            ns: ns.to_owned(),
        })
    }

    /// Creates a pod with these labels (Pending, no IP).
    pub fn pod(&self, name: &str, labels: Value) -> Result<Value, Box<dyn std::error::Error>> {
        Ok(self.fake.create(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": self.ns, "labels": labels},
            "spec": {"containers": [{"name": "main", "image": "registry.k8s.io/e2e-test-images/agnhost:2.53"}]},
        }))?)
    }

    /// Marks a pod Running and Ready with an IP.
    pub fn ready(&self, name: &str, ip: &str) -> Result<(), Box<dyn std::error::Error>> {
        self.fake.set_pod_ready(&self.ns, name, true, Some(ip))?;
        Ok(())
    }

    /// Runs one step written as YAML (`assert: {...}`), as the runner would.
    pub async fn run(&mut self, yaml: &str) -> Result<StepReport, Failure> {
        let step: Step = serde_saphyr::from_str(yaml)
            .unwrap_or_else(|error| panic!("test step does not parse: {error}\n{yaml}"));
        // Every test step is bounded, so a hang fails the test instead of blocking the suite.
        tokio::time::timeout(Duration::from_secs(30), run_step(&step, &mut self.ctx))
            .await
            .unwrap_or_else(|_| panic!("step did not finish in 30s: {yaml}"))
    }

    /// Runs a step that must fail and returns its failure.
    pub async fn fails(&mut self, yaml: &str) -> Failure {
        match self.run(yaml).await {
            Ok(report) => panic!(
                "step passed but should fail: {yaml}\npassed with: {}",
                report.detail
            ),
            Err(failure) => failure,
        }
    }

    /// Runs a step that must pass and returns its report.
    pub async fn passes(&mut self, yaml: &str) -> StepReport {
        match self.run(yaml).await {
            Ok(report) => report,
            Err(failure) => panic!(
                "step failed: {yaml}\nmessage: {}\nexpected:\n{}\nactual:\n{}",
                failure.message, failure.expected, failure.actual
            ),
        }
    }
}
