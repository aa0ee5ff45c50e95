//! The stable identity of a scenario in a suite, shared by discovery, the runner and reports.

/// A stable identity for a scenario: `<area>::<name>` from its path under `scenarios/`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScenarioId {
    /// The folder under `scenarios/`, e.g. `statefulset`.
    pub area: String,
    /// The file stem, e.g. `ordered-scale-up`.
    pub name: String,
}

impl std::fmt::Display for ScenarioId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}::{}", self.area, self.name)
    }
}
