//! The suite as the runner sees it, from the scenario loader: every scenario file becomes one
//! trial (one per combination of its `matrix`), and every file with errors (a broken scenario,
//! a stray file, a broken fixture) a failing one, so nothing broken is silently left out of a
//! run.

use std::sync::Arc;

use super::entries::{Content, SuiteEntry};
use crate::events::ScenarioId;
use crate::report::Behaviour;
use crate::scenario::{load_suite, render_plain};

/// The trials and the catalogue (`None` when the suite has none) of the suite at `root`.
pub fn load(root: &std::path::Path) -> (Vec<SuiteEntry>, Option<Vec<Behaviour>>) {
    let suite = match load_suite(root) {
        Ok(suite) => suite,
        Err(err) => {
            // Without a catalogue or a readable scenarios folder nothing can be judged; one
            // failing trial says why.
            let entry = SuiteEntry {
                id: ScenarioId {
                    area: "suite".to_string(),
                    name: "load".to_string(),
                },
                file: root.join("scenarios"),
                content: Content::Invalid {
                    diagnostics: crate::error_chain::chain(&err),
                },
            };
            return (vec![entry], Some(Vec::new()));
        }
    };
    let catalogue = suite.catalogue.as_ref().map(|catalogue| {
        catalogue
            .behaviours()
            .map(|b| Behaviour {
                id: b.id.clone(),
                title: b.summary.clone(),
            })
            .collect()
    });
    // A scenario with a matrix is one trial per combination: `<area>::<name>[image=...]`.
    let mut entries: Vec<SuiteEntry> = suite
        .scenarios
        .into_iter()
        .flat_map(|loaded| {
            let expanded = loaded.scenario.expand();
            expanded
                .into_iter()
                .map(move |(label, scenario)| SuiteEntry {
                    id: ScenarioId {
                        area: loaded.id.area.clone(),
                        name: format!("{}{label}", loaded.id.name),
                    },
                    file: loaded.path.clone(),
                    content: Content::Valid(Arc::new(scenario)),
                })
        })
        .collect();
    for problem in suite.problems {
        let id = problem.id.unwrap_or_else(|| ScenarioId {
            // Not a scenario (a stray file, a broken fixture): named by its path.
            area: "lint".to_string(),
            name: problem.path.display().to_string(),
        });
        entries.push(SuiteEntry {
            id,
            file: problem.path,
            content: Content::Invalid {
                diagnostics: render_plain(&problem.diagnostics),
            },
        });
    }
    entries.sort_by(|a, b| a.id.cmp(&b.id));
    (entries, catalogue)
}
