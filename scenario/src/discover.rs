//! Finding scenario files: `scenarios/<area>/<name>.yaml`, and the repository root holding them.

use crate::id::ScenarioId;
use std::path::{Path, PathBuf};

/// A scenario file found under `scenarios/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    pub id: ScenarioId,
    /// The path relative to the repository root, e.g. `scenarios/statefulset/ordered.yaml`.
    pub path: PathBuf,
}

/// Why scenario files could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error("failed to list scenario files in {path}")]
    ReadDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The nearest directory at or above `start` that is a petset repository: it holds
/// `scenarios/` and `fixtures/`, or the behaviour catalogue (a checkout with no scenarios yet).
pub fn find_repo_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| {
            (dir.join("scenarios").is_dir() && dir.join("fixtures").is_dir())
                || dir.join(crate::catalogue::CATALOGUE_PATH).is_file()
        })
        .map(Path::to_path_buf)
}

/// The repository root, searched from the current directory and then from this crate's source.
pub fn repo_root() -> Option<PathBuf> {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| find_repo_root(&cwd))
        .or_else(|| find_repo_root(Path::new(env!("CARGO_MANIFEST_DIR"))))
}

/// Whether a file name is a scenario file name.
pub fn is_scenario_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

/// The id of a scenario from its path relative to `scenarios/`: `<area>/<name>.yaml`.
/// Deeper folders join into the area (`a/b`); a file directly under `scenarios/` has none.
pub fn scenario_id(relative: &Path) -> Option<ScenarioId> {
    let name = relative.file_stem()?.to_str()?.to_owned();
    let area: Vec<String> = relative
        .parent()?
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if area.is_empty() {
        return None;
    }
    Some(ScenarioId {
        area: area.join("/"),
        name,
    })
}

/// Every scenario file under `<root>/scenarios`, sorted by id. Files that are not in an area
/// folder are returned in the second list, so they can be reported rather than skipped.
pub fn discover(root: &Path) -> Result<(Vec<Discovered>, Vec<PathBuf>), DiscoverError> {
    let base = root.join("scenarios");
    let mut found = Vec::new();
    let mut stray = Vec::new();
    if !base.is_dir() {
        return Ok((found, stray));
    }
    let mut pending = vec![base.clone()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|source| DiscoverError::ReadDir {
            path: dir.clone(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| DiscoverError::ReadDir {
                path: dir.clone(),
                source,
            })?;
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            if !is_scenario_file(&path) {
                continue;
            }
            let Ok(relative) = path.strip_prefix(&base) else {
                continue;
            };
            let display = Path::new("scenarios").join(relative);
            match scenario_id(relative) {
                Some(id) => found.push(Discovered { id, path: display }),
                None => stray.push(display),
            }
        }
    }
    found.sort_by(|a, b| a.id.cmp(&b.id));
    stray.sort();
    Ok((found, stray))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_from_area_and_file_name() {
        let id = scenario_id(Path::new("statefulset/ordered-scale.yaml")).expect("id");
        assert_eq!(id.to_string(), "statefulset::ordered-scale");
        assert!(scenario_id(Path::new("top.yaml")).is_none());
    }

    #[test]
    fn finds_this_repository() {
        let root = find_repo_root(Path::new(env!("CARGO_MANIFEST_DIR")));
        assert!(root.is_some_and(|r| r.join("harness").is_dir()));
    }
}
