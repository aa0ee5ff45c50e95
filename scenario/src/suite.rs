//! The whole suite at once: discover every scenario, load and check each, and keep the problems.
//!
//! This is what the test runner and `petset lint` share: a scenario either loads clean (perhaps
//! with warnings) and can run, or it is listed with its diagnostics and must not run.

use crate::catalogue::{CATALOGUE_PATH, Catalogue, CatalogueError};
use crate::diagnostic::{Diagnostic, SourceFile, render_plain};
use crate::discover::{DiscoverError, discover};
use crate::id::ScenarioId;
use crate::load::load_parts;
use crate::model::{Scenario, Step};
use crate::validate::Checker;
use std::path::{Path, PathBuf};

/// A scenario ready to run.
#[derive(Debug, Clone)]
pub struct LoadedScenario {
    pub id: ScenarioId,
    /// Relative to the repository root, e.g. `scenarios/statefulset/ordered.yaml`.
    pub path: PathBuf,
    pub scenario: Scenario,
    pub source: SourceFile,
    /// Problems that do not stop it from running.
    pub warnings: Vec<Diagnostic>,
}

/// A file with errors (a scenario that must not run, or a broken fixture).
#[derive(Debug, Clone)]
pub struct FileProblems {
    pub path: PathBuf,
    /// Set when the file is a scenario, so a runner can report it as a failed trial.
    pub id: Option<ScenarioId>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Every scenario under `scenarios/`, loaded and checked.
#[derive(Debug)]
pub struct Suite {
    pub root: PathBuf,
    /// `None` when the suite has no `catalogue.yaml` (then `covers` is optional).
    pub catalogue: Option<Catalogue>,
    pub scenarios: Vec<LoadedScenario>,
    pub problems: Vec<FileProblems>,
}

/// Why the suite could not be looked at at all (as opposed to a broken scenario in it).
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
    #[error(transparent)]
    Discover(#[from] DiscoverError),
}

/// One file's outcome.
#[derive(Debug)]
pub struct Checked {
    pub scenario: Option<Scenario>,
    pub source: SourceFile,
    pub diagnostics: Vec<Diagnostic>,
}

impl Suite {
    /// Whether any file has an error (warnings alone do not count).
    pub fn has_errors(&self) -> bool {
        self.problems
            .iter()
            .any(|file| file.diagnostics.iter().any(Diagnostic::is_error))
    }

    /// Every problem, rendered as plain text with snippets, for reports and test output.
    pub fn render_problems(&self) -> String {
        let all: Vec<Diagnostic> = self
            .problems
            .iter()
            .flat_map(|file| file.diagnostics.iter().cloned())
            .collect();
        render_plain(&all)
    }
}

/// The catalogue of the suite at `root`: its `catalogue.yaml`, or `None` when it has none.
pub fn load_catalogue(root: &Path) -> Result<Option<Catalogue>, CatalogueError> {
    if root.join(CATALOGUE_PATH).exists() {
        Catalogue::load(root).map(Some)
    } else {
        Ok(None)
    }
}

/// Loads and checks one scenario file. `display` is the path diagnostics name.
pub fn check_file(checker: &Checker, on_disk: &Path, display: &Path) -> Checked {
    let text = match std::fs::read_to_string(on_disk) {
        Ok(text) => text,
        Err(error) => {
            let source = SourceFile::new(display, "");
            let diagnostic = source
                .error(
                    "file::read",
                    0..0,
                    format!("failed to read the scenario file: {error}"),
                )
                .help("check that the file exists and is readable UTF-8");
            return Checked {
                scenario: None,
                source,
                diagnostics: vec![diagnostic],
            };
        }
    };
    check_source(checker, SourceFile::new(display, text))
}

/// Loads and checks a scenario given as text.
pub fn check_source(checker: &Checker, source: SourceFile) -> Checked {
    match load_parts(&source) {
        Ok(scenario) => {
            let diagnostics = checker.check(&source, &scenario);
            Checked {
                scenario: Some(scenario),
                source,
                diagnostics,
            }
        }
        Err(broken) => {
            let steps: Vec<(usize, &Step)> = broken.steps.iter().map(|(i, s)| (*i, s)).collect();
            let mut diagnostics = broken.diagnostics.clone();
            diagnostics.extend(checker.check_parts(
                &source,
                broken.outline.as_ref(),
                broken.covers.as_deref(),
                crate::validate::Parts {
                    steps: &steps,
                    finally: &[],
                },
                &broken.broken_steps,
            ));
            diagnostics.sort_by_key(|d| (d.path != source.path, d.line, d.column));
            Checked {
                scenario: None,
                source,
                diagnostics,
            }
        }
    }
}

/// Discovers, loads and checks every scenario of the repository at `root`.
pub fn load_suite(root: &Path) -> Result<Suite, SuiteError> {
    let catalogue = load_catalogue(root)?;
    let checker = Checker::new(root, catalogue);
    let (found, stray) = discover(root)?;
    let mut scenarios = Vec::new();
    let mut problems = Vec::new();
    for path in stray {
        let source = SourceFile::new(&path, "");
        problems.push(FileProblems {
            diagnostics: vec![source
                .error("file::layout", 0..0, "a scenario file must be in an area folder")
                .help("move it to scenarios/<area>/<name>.yaml, e.g. scenarios/statefulset/ordered-scale.yaml")],
            path,
            id: None,
        });
    }
    for discovered in found {
        let checked = check_file(&checker, &root.join(&discovered.path), &discovered.path);
        let has_errors = checked.diagnostics.iter().any(Diagnostic::is_error);
        match checked.scenario {
            Some(scenario) if !has_errors => scenarios.push(LoadedScenario {
                id: discovered.id,
                path: discovered.path,
                scenario,
                source: checked.source,
                warnings: checked.diagnostics,
            }),
            _ => problems.push(FileProblems {
                path: discovered.path,
                id: Some(discovered.id),
                diagnostics: checked.diagnostics,
            }),
        }
    }
    for (path, diagnostics) in checker.fixture_problems() {
        problems.push(FileProblems {
            path,
            id: None,
            diagnostics,
        });
    }
    let catalogue = checker.catalogue().cloned();
    Ok(Suite {
        root: root.to_path_buf(),
        catalogue,
        scenarios,
        problems,
    })
}
