//! The behaviour catalogue: the ids scenarios may cover, read from `harness/catalogue.yaml`.

use crate::diagnostic::{Diagnostic, SourceFile};
use crate::shape::shape_diagnostic;
use crate::yaml;
use serde::Deserialize;
use std::path::Path;

/// Where the catalogue lives, relative to the repository root.
pub const CATALOGUE_PATH: &str = "harness/catalogue.yaml";

/// Every behaviour petset checks, in groups.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    pub groups: Vec<Group>,
}

/// A family of behaviours, e.g. "Stable storage".
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub name: String,
    pub behaviours: Vec<Behaviour>,
}

/// One behaviour: an id such as `STS-ORDER-1` and a one-line summary.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Behaviour {
    pub id: String,
    pub summary: String,
}

/// Why the catalogue could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("failed to read the behaviour catalogue {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to parse the behaviour catalogue: {}", .0.one_line())]
    Parse(Box<Diagnostic>),
    #[error("the behaviour catalogue lists `{0}` twice")]
    Duplicate(String),
}

impl Catalogue {
    /// Reads `harness/catalogue.yaml` under the repository root.
    pub fn load(repo_root: &Path) -> Result<Self, CatalogueError> {
        let path = repo_root.join(CATALOGUE_PATH);
        let text = std::fs::read_to_string(&path).map_err(|source| CatalogueError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&SourceFile::new(CATALOGUE_PATH, text))
    }

    /// The catalogue compiled into petset, for tools that run outside a checkout.
    pub fn embedded() -> Result<Self, CatalogueError> {
        Self::parse(&SourceFile::new(
            CATALOGUE_PATH,
            include_str!("../../harness/catalogue.yaml"),
        ))
    }

    pub fn parse(file: &SourceFile) -> Result<Self, CatalogueError> {
        let catalogue: Catalogue = serde_saphyr::from_str_with_options(&file.text, yaml::options())
            .map_err(|error| CatalogueError::Parse(Box::new(shape_diagnostic(file, &error, 0))))?;
        let mut seen = std::collections::BTreeSet::new();
        for behaviour in catalogue.behaviours() {
            if !seen.insert(behaviour.id.as_str()) {
                return Err(CatalogueError::Duplicate(behaviour.id.clone()));
            }
        }
        Ok(catalogue)
    }

    /// Every behaviour, in catalogue order.
    pub fn behaviours(&self) -> impl Iterator<Item = &Behaviour> {
        self.groups.iter().flat_map(|group| group.behaviours.iter())
    }

    /// Every id, in catalogue order.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.behaviours().map(|behaviour| behaviour.id.as_str())
    }

    pub fn get(&self, id: &str) -> Option<&Behaviour> {
        self.behaviours().find(|behaviour| behaviour.id == id)
    }

    pub fn contains(&self, id: &str) -> bool {
        self.get(id).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_catalogue_has_every_mission_behaviour() {
        let catalogue = Catalogue::embedded().expect("catalogue parses");
        assert_eq!(catalogue.ids().count(), 36);
        assert_eq!(catalogue.groups.len(), 6);
        assert!(catalogue.contains("STS-ORDER-1"));
        assert!(catalogue.contains("FAULT-DRAIN-1"));
        assert!(catalogue.behaviours().all(|b| !b.summary.is_empty()));
    }

    #[test]
    fn rejects_duplicate_ids() {
        let text = "groups:\n  - name: g\n    behaviours:\n      - {id: A-1, summary: a}\n      - {id: A-1, summary: b}\n";
        let error = Catalogue::parse(&SourceFile::new("c.yaml", text)).expect_err("duplicate");
        assert!(matches!(error, CatalogueError::Duplicate(id) if id == "A-1"));
    }
}
