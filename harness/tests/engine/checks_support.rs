//! Shared set-up for the check-step tests: the test cluster with a namespace, the step context
//! the engine would build for it, and helpers to play the controllers and run steps from YAML.

#![allow(dead_code)]

use crate::support::test_cluster::{self, TestCluster};
use petset::events::Failure;
use petset::steps::{StepContext, StepReport};
use petset_fakeapi::Handle;
use serde_json::{Value, json};

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
        test_cluster::run(&mut self.ctx, yaml).await
    }

    /// Runs a step that must fail and returns its failure.
    pub async fn fails(&mut self, yaml: &str) -> Failure {
        test_cluster::fails(&mut self.ctx, yaml).await
    }

    /// Runs a step that must pass and returns its report.
    pub async fn passes(&mut self, yaml: &str) -> StepReport {
        test_cluster::passes(&mut self.ctx, yaml).await
    }
}
