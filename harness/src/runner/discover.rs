//! Finding the scenario files under `scenarios/<area>/<name>.yaml` and reading each one.

use std::path::Path;
use std::sync::Arc;

use super::suite::{Content, SuiteEntry, scenario_id};
use crate::scenario::model::Scenario;

/// Every scenario file under `root/scenarios`, in a stable order (area, then name). A folder
/// that cannot be read is reported as an invalid entry rather than silently skipped.
pub fn discover(root: &Path) -> Vec<SuiteEntry> {
    let scenarios = root.join("scenarios");
    let mut files = Vec::new();
    let mut problems = Vec::new();
    match std::fs::read_dir(&scenarios) {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => problems.push((scenarios.clone(), err.to_string())),
        Ok(areas) => {
            for area in areas.flatten() {
                let path = area.path();
                if !path.is_dir() {
                    continue;
                }
                match std::fs::read_dir(&path) {
                    Err(err) => problems.push((path.clone(), err.to_string())),
                    Ok(entries) => files.extend(entries.flatten().map(|e| e.path()).filter(|p| {
                        matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
                    })),
                }
            }
        }
    }
    files.sort();
    let mut suite: Vec<SuiteEntry> = files
        .iter()
        .filter_map(|path| {
            let id = scenario_id(path)?;
            let file = path.strip_prefix(root).unwrap_or(path).to_path_buf();
            let content = match std::fs::read_to_string(path) {
                Err(err) => Content::Invalid {
                    diagnostics: format!("{}: failed to read the file: {err}", file.display()),
                },
                Ok(text) => match serde_saphyr::from_str::<Scenario>(&text) {
                    Ok(scenario) => Content::Valid(Arc::new(scenario)),
                    Err(err) => Content::Invalid {
                        diagnostics: format!("{}: {err}", file.display()),
                    },
                },
            };
            Some(SuiteEntry { id, file, content })
        })
        .collect();
    for (path, err) in problems {
        let id = scenario_id(&path.join("unreadable.yaml")).unwrap_or(crate::events::ScenarioId {
            area: "scenarios".to_string(),
            name: "unreadable".to_string(),
        });
        suite.push(SuiteEntry {
            id,
            file: path.strip_prefix(root).unwrap_or(&path).to_path_buf(),
            content: Content::Invalid {
                diagnostics: format!("failed to read the folder {}: {err}", path.display()),
            },
        });
    }
    suite
}
