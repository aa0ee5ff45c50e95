//! Run settings from the environment: `PETSET_RETRIES`, `PETSET_JUNIT`, `PETSET_VERBOSE`, and
//! whether cargo-nextest started this process.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::nextest::Nextest;

/// How a run behaves and where its reports go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSettings {
    /// Reruns of a failed scenario (`PETSET_RETRIES`, default 0).
    pub retries: u32,
    /// The JUnit file (`PETSET_JUNIT`; relative paths are taken from the repository root,
    /// since cargo runs test binaries from the crate's folder). Default `reports/junit.xml`.
    pub junit: PathBuf,
    /// Where `coverage.md` and `coverage.json` go: `reports/`.
    pub reports_dir: PathBuf,
    /// One line per step while running (`PETSET_VERBOSE=1`, or `--nocapture`).
    pub verbose: bool,
    /// How long past its `timeout:` a scenario runs before the runner cancels it. The engine
    /// enforces the timeout itself and reports what it last saw; the runner's cut is the
    /// backstop for an attempt that does not return.
    pub deadline_margin: Duration,
    /// How long cleanup may take, counted from when the steps ended (passed, failed, or were
    /// cancelled at the deadline or by Ctrl-C), before the runner gives up on it. It is not
    /// part of the scenario's `timeout:`, so a step that fails late cannot use it up; it exceeds
    /// the engine's own cleanup limit (`EngineConfig::cleanup_timeout`, 2 min, plus 15 s to
    /// name what holds a stuck namespace), so the engine's report of a slow cleanup wins.
    pub cleanup_grace: Duration,
    /// How long finding a cluster may take (creating a kind cluster can take minutes).
    pub acquire_deadline: Duration,
    pub run_id: String,
    /// Set when cargo-nextest runs this process (`NEXTEST`, `NEXTEST_RUN_ID`): it lists the
    /// suite once and then runs each trial in a process of its own.
    pub nextest: Option<Nextest>,
}

/// A setting with a value petset cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("failed to read {name}={value:?}: {expected}")]
pub struct SettingsError {
    pub name: &'static str,
    pub value: String,
    pub expected: &'static str,
}

impl RunSettings {
    /// Defaults for a repository at `root`, with nothing set.
    pub fn defaults(root: &Path) -> Self {
        Self {
            retries: 0,
            junit: root.join("reports").join("junit.xml"),
            reports_dir: root.join("reports"),
            verbose: false,
            deadline_margin: Duration::from_secs(10),
            cleanup_grace: Duration::from_secs(180),
            acquire_deadline: Duration::from_secs(900),
            run_id: new_run_id(),
            nextest: None,
        }
    }

    /// Reads the process environment.
    pub fn from_env(root: &Path) -> Result<Self, SettingsError> {
        Self::from_lookup(root, |name| std::env::var(name).ok())
    }

    /// Reads settings through `get` (tests pass a map).
    pub fn from_lookup(
        root: &Path,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, SettingsError> {
        let mut settings = Self::defaults(root);
        settings.nextest = Nextest::from_lookup(&get);
        if let Some(value) = get("PETSET_RETRIES").filter(|v| !v.trim().is_empty()) {
            settings.retries = value.trim().parse().map_err(|_| SettingsError {
                name: "PETSET_RETRIES",
                value: value.clone(),
                expected: "expected a whole number of reruns, e.g. 2",
            })?;
        }
        if let Some(value) = get("PETSET_JUNIT").filter(|v| !v.trim().is_empty()) {
            settings.junit = root.join(value.trim());
        }
        if let Some(value) = get("PETSET_VERBOSE") {
            settings.verbose = match value.trim() {
                "" | "0" | "false" | "no" => false,
                "1" | "true" | "yes" => true,
                _ => {
                    return Err(SettingsError {
                        name: "PETSET_VERBOSE",
                        value,
                        expected: "expected 1 or 0",
                    });
                }
            };
        }
        Ok(settings)
    }
}

/// A run id unique enough to tell concurrent runs apart on one cluster: time and process id.
fn new_run_id() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!("{:x}{:04x}", now.as_secs(), std::process::id() & 0xffff)
}
