//! The step engine behind [`ScenarioExecutor`]: each attempt gets the run's engine
//! configuration with its own cancellation token (deadline, Ctrl-C), and the cluster's probed
//! capabilities decide which scenarios' `requires` are met.

use futures::FutureExt;
use futures::future::BoxFuture;

use super::backend::{Executed, Job, ScenarioExecutor};
use crate::cluster::{Capabilities, evaluate};
use crate::engine::{EngineConfig, ScenarioRun, run_scenario};
use crate::scenario::model::Scenario;

/// Runs scenarios with [`run_scenario`] against one cluster.
#[derive(Debug, Clone)]
pub struct EngineExecutor {
    config: EngineConfig,
    capabilities: Capabilities,
}

impl EngineExecutor {
    pub fn new(config: EngineConfig, capabilities: Capabilities) -> Self {
        Self {
            config,
            capabilities,
        }
    }
}

impl ScenarioExecutor for EngineExecutor {
    fn unmet(&self, scenario: &Scenario) -> Option<String> {
        evaluate(&scenario.requires, &self.capabilities)
            .err()
            .map(|unmet| unmet.to_string())
    }

    fn execute(&self, job: Job) -> BoxFuture<'_, Executed> {
        async move {
            let mut config = self.config.clone();
            config.cancel = job.cancel.clone();
            config.run_id.clone_from(&job.run_id);
            let run = ScenarioRun {
                id: &job.id,
                file: &job.file,
                scenario: &job.scenario,
                attempt: job.attempt,
            };
            let result = run_scenario(&config, run, job.sink.as_ref()).await;
            Executed {
                outcome: result.outcome,
                figures: result.figures,
                properties: result.properties,
            }
        }
        .boxed()
    }
}
