//! The scenarios a run is made of: one entry per file under `scenarios/<area>/<name>.yaml`,
//! valid or not (an invalid file is a failing trial, never a missing one).

use std::path::PathBuf;
use std::sync::Arc;

use crate::events::{Failure, FailureKind, ScenarioId};
use crate::scenario::model::Scenario;

/// One scenario file.
#[derive(Debug, Clone)]
pub struct SuiteEntry {
    pub id: ScenarioId,
    /// Relative to the repository root, e.g. `scenarios/statefulset/ordered-scale-up.yaml`.
    pub file: PathBuf,
    pub content: Content,
}

/// A scenario file's content, or why it cannot be run.
#[derive(Debug, Clone)]
pub enum Content {
    Valid(Arc<Scenario>),
    /// The rendered diagnostics (file:line:column, snippet, hint).
    Invalid {
        diagnostics: String,
    },
}

impl SuiteEntry {
    /// The trial name: `<area>::<scenario>`.
    pub fn trial_name(&self) -> String {
        self.id.to_string()
    }

    /// The failure an invalid file is reported with (`None` for a valid one).
    pub(crate) fn invalid_failure(&self) -> Option<Failure> {
        match &self.content {
            Content::Invalid { diagnostics } => Some(Failure {
                kind: FailureKind::InvalidScenario,
                message: format!("{} is not a valid scenario", self.file.display()),
                diagnostics: diagnostics.clone(),
                ..Failure::default()
            }),
            Content::Valid(_) => None,
        }
    }

    /// The catalogue ids the file declares (none when it could not be read).
    pub fn covers(&self) -> Vec<String> {
        match &self.content {
            Content::Valid(scenario) => scenario.covers.iter().map(|c| c.value.clone()).collect(),
            Content::Invalid { .. } => Vec::new(),
        }
    }
}
