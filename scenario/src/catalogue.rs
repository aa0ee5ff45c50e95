//! The behaviour catalogue: the ids scenarios may cover, read from a suite's `catalogue.yaml`.

use crate::diagnostic::{Diagnostic, SourceFile};
use crate::shape::shape_diagnostic;
use crate::yaml;
use serde::Deserialize;
use std::path::Path;

/// Where a suite's catalogue lives, relative to the suite directory (optional).
pub const CATALOGUE_PATH: &str = "catalogue.yaml";

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
    /// Reads `catalogue.yaml` in the suite directory.
    pub fn load(suite_dir: &Path) -> Result<Self, CatalogueError> {
        let path = suite_dir.join(CATALOGUE_PATH);
        let text = std::fs::read_to_string(&path).map_err(|source| CatalogueError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&SourceFile::new(CATALOGUE_PATH, text))
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
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let catalogue = Catalogue::load(&root).expect("catalogue parses");
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
