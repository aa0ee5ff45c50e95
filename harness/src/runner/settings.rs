//! Every setting of a run, read once from the environment into one value: where the suite and
//! its reports are, which scenarios run and how often, the cluster to use (`PETSET_CLUSTER` and
//! friends), what to keep, and whether cargo-nextest started this process. The command line of
//! `petset test` overrides what it names; nothing else reads the environment during a run.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::labels::LabelFilter;
use super::nextest::Nextest;
use crate::cluster;
use crate::engine::{KEEP_ENV, KeepPolicy};
use crate::steps::DEFAULT_CLUSTER_DOMAIN;

/// How a run behaves and where its reports go.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// The suite: a directory holding `scenarios/`, `fixtures/` and an optional
    /// `catalogue.yaml` (`petset test DIR`, the library's `suite_main`).
    pub suite_dir: PathBuf,
    /// Reruns of a failed scenario (`PETSET_RETRIES`, default 0).
    pub retries: u32,
    /// The JUnit file (`PETSET_JUNIT`; relative paths are taken from the suite directory,
    /// since cargo runs test binaries from the crate's folder). Default `<reports>/junit.xml`.
    pub junit: PathBuf,
    /// Where `junit.xml`, `coverage.md` and `coverage.json` go (`PETSET_REPORTS`, `--reports`;
    /// default `<suite>/reports`).
    pub reports_dir: PathBuf,
    /// One line per step while running (`PETSET_VERBOSE=1`, or `--nocapture`).
    pub verbose: bool,
    /// Which scenarios run, by their `labels` (`PETSET_LABELS`, `--labels statefulset,!slow`).
    pub labels: LabelFilter,
    /// Start no scenario after the first failure (`PETSET_FAIL_FAST=1`, `--fail-fast`).
    pub fail_fast: bool,
    /// Run each selected scenario this many times (`PETSET_REPEAT`, `--repeat N`; default 1).
    pub repeat: u32,
    /// The cluster to use and how to find it (`PETSET_CLUSTER`, `PETSET_CONTEXT`, ...).
    pub cluster: cluster::Settings,
    /// Whether a failed scenario's namespace is kept (`PETSET_KEEP`).
    pub keep: KeepPolicy,
    /// The cluster DNS domain (`PETSET_CLUSTER_DOMAIN`, default `cluster.local`).
    pub cluster_domain: String,
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

impl From<cluster::SettingsError> for SettingsError {
    fn from(error: cluster::SettingsError) -> Self {
        match error {
            cluster::SettingsError::UnknownCluster { value } => SettingsError {
                name: "PETSET_CLUSTER",
                value,
                expected: "expected one of current, kind, kind:<name>, k3d, k3d:<name>, k3s, \
                           emulated (or leave it unset to pick automatically)",
            },
            cluster::SettingsError::NotAFlag { var, value } => SettingsError {
                name: var,
                value,
                expected: FLAG_EXPECTED,
            },
        }
    }
}

const FLAG_EXPECTED: &str = "expected 1 or 0 (true/false, yes/no)";

impl RunSettings {
    /// Defaults for a suite at `suite_dir`, with nothing set.
    pub fn defaults(suite_dir: &Path) -> Self {
        let mut cluster = cluster::Settings::unset();
        cluster.repo_root = Some(suite_dir.to_path_buf());
        Self {
            suite_dir: suite_dir.to_path_buf(),
            retries: 0,
            junit: suite_dir.join("reports").join("junit.xml"),
            reports_dir: suite_dir.join("reports"),
            verbose: false,
            labels: LabelFilter::default(),
            fail_fast: false,
            repeat: 1,
            cluster,
            keep: KeepPolicy::Never,
            cluster_domain: DEFAULT_CLUSTER_DOMAIN.to_string(),
            deadline_margin: Duration::from_secs(10),
            cleanup_grace: Duration::from_secs(180),
            acquire_deadline: Duration::from_secs(900),
            run_id: new_run_id(),
            nextest: None,
        }
    }

    /// Reads the process environment, for the suite at `suite_dir`.
    pub fn from_env(suite_dir: &Path) -> Result<Self, SettingsError> {
        let mut settings = Self::from_lookup(suite_dir, |name| std::env::var(name).ok())?;
        settings.cluster.kubeconfig = std::env::var_os("KUBECONFIG");
        settings.cluster.home = std::env::var_os("HOME").map(PathBuf::from);
        // kind and k3d cluster configurations and fixture images are petset's own, found from
        // its checkout; a suite without `fixtures/clusters` uses them.
        settings.cluster.repo_root = cluster_configs_root(&settings.suite_dir);
        Ok(settings)
    }

    /// Reads settings through `get` (tests pass a map).
    pub fn from_lookup(
        suite_dir: &Path,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, SettingsError> {
        let set = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let mut settings = Self::defaults(suite_dir);
        settings.nextest = Nextest::from_lookup(&get);
        settings.cluster = cluster::Settings::from_lookup(&get)?;
        settings.cluster.repo_root = Some(suite_dir.to_path_buf());
        if let Some(value) = set("PETSET_RETRIES") {
            settings.retries = whole_number(
                "PETSET_RETRIES",
                &value,
                "expected a whole number of reruns, e.g. 2",
            )?;
        }
        if let Some(value) = set("PETSET_REPORTS") {
            settings.set_reports_dir(suite_dir.join(value.trim()));
        }
        if let Some(value) = set("PETSET_JUNIT") {
            settings.junit = suite_dir.join(value.trim());
        }
        settings.verbose = cluster::flag("PETSET_VERBOSE", get("PETSET_VERBOSE"))?;
        settings.fail_fast = cluster::flag("PETSET_FAIL_FAST", get("PETSET_FAIL_FAST"))?;
        if let Some(value) = set("PETSET_REPEAT") {
            settings.repeat = parse_repeat(&value)?;
        }
        if let Some(value) = set("PETSET_LABELS") {
            settings.labels = LabelFilter::parse(&value).map_err(|expected| SettingsError {
                name: "PETSET_LABELS",
                value: value.clone(),
                expected,
            })?;
        }
        if let Some(value) = get(KEEP_ENV) {
            settings.keep = KeepPolicy::parse(&value).map_err(|_| SettingsError {
                name: KEEP_ENV,
                value,
                expected: "expected on-failure or never (or leave it unset)",
            })?;
        }
        if let Some(value) = set("PETSET_CLUSTER_DOMAIN") {
            settings.cluster_domain = value.trim().to_string();
        }
        Ok(settings)
    }

    /// Sends every report to `dir` (the JUnit file becomes `dir/junit.xml`).
    pub fn set_reports_dir(&mut self, dir: PathBuf) {
        self.junit = dir.join("junit.xml");
        self.reports_dir = dir;
    }

    /// The suite's fixtures, which `apply` files are relative to.
    pub fn fixtures_dir(&self) -> PathBuf {
        self.suite_dir.join("fixtures")
    }
}

/// Parses a `--repeat`/`PETSET_REPEAT` count: a whole number of at least 1.
pub fn parse_repeat(value: &str) -> Result<u32, SettingsError> {
    const EXPECTED: &str = "expected a whole number of runs, at least 1, e.g. 20";
    match whole_number("PETSET_REPEAT", value, EXPECTED)? {
        0 => Err(SettingsError {
            name: "PETSET_REPEAT",
            value: value.to_string(),
            expected: EXPECTED,
        }),
        n => Ok(n),
    }
}

fn whole_number(
    name: &'static str,
    value: &str,
    expected: &'static str,
) -> Result<u32, SettingsError> {
    value.trim().parse().map_err(|_| SettingsError {
        name,
        value: value.to_string(),
        expected,
    })
}

/// The directory holding `fixtures/clusters/` (kind and k3d configurations) and the images
/// to preload: the suite's own when it has them, else petset's checkout.
fn cluster_configs_root(suite_dir: &Path) -> Option<PathBuf> {
    if suite_dir.join("fixtures").join("clusters").is_dir() {
        Some(suite_dir.to_path_buf())
    } else {
        cluster::repo_root().or_else(|| Some(suite_dir.to_path_buf()))
    }
}

/// A run id unique enough to tell concurrent runs apart on one cluster: time and process id.
fn new_run_id() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!("{:x}{:04x}", now.as_secs(), std::process::id() & 0xffff)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn read(vars: &[(&str, &str)]) -> Result<RunSettings, SettingsError> {
        let vars: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        RunSettings::from_lookup(Path::new("/suite"), |name| vars.get(name).cloned())
    }

    #[test]
    fn every_setting_is_read_in_one_place() {
        let settings = read(&[
            ("PETSET_CLUSTER", "emulated"),
            ("PETSET_KEEP", "on-failure"),
            ("PETSET_CLUSTER_DOMAIN", "corp.example"),
            ("PETSET_LABELS", "statefulset,!slow"),
            ("PETSET_FAIL_FAST", "yes"),
            ("PETSET_REPEAT", "5"),
            ("PETSET_REPORTS", "out"),
            ("PETSET_VERBOSE", "TRUE"),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(settings.cluster.choice, cluster::ClusterChoice::Emulated);
        assert_eq!(settings.keep, KeepPolicy::OnFailure);
        assert_eq!(settings.cluster_domain, "corp.example");
        assert!(settings.labels.selects(&["statefulset".to_string()]));
        assert!(
            !settings
                .labels
                .selects(&["statefulset".into(), "slow".into()])
        );
        assert!(settings.fail_fast && settings.verbose);
        assert_eq!(settings.repeat, 5);
        assert_eq!(settings.reports_dir, Path::new("/suite/out"));
        assert_eq!(settings.junit, Path::new("/suite/out/junit.xml"));
    }

    #[test]
    fn the_suite_directory_places_every_default_path() {
        let settings = RunSettings::from_lookup(Path::new("/work/tests/suite"), |_| None)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            settings.fixtures_dir(),
            Path::new("/work/tests/suite/fixtures")
        );
        assert_eq!(
            settings.junit,
            Path::new("/work/tests/suite/reports/junit.xml")
        );
        assert_eq!(settings.repeat, 1);
        assert!(settings.labels.is_empty() && !settings.fail_fast);
    }

    #[test]
    fn switches_share_one_grammar_and_bad_values_name_their_variable() {
        for (name, value) in [
            ("PETSET_VERBOSE", "maybe"),
            ("PETSET_FAIL_FAST", "maybe"),
            ("PETSET_KEEP_CLUSTER", "maybe"),
        ] {
            let error = read(&[(name, value)]).err();
            assert_eq!(
                error.map(|e| e.to_string()),
                Some(format!(
                    "failed to read {name}=\"maybe\": expected 1 or 0 (true/false, yes/no)"
                ))
            );
        }
        for (name, value) in [
            ("PETSET_REPEAT", "0"),
            ("PETSET_REPEAT", "many"),
            ("PETSET_LABELS", "a,,b"),
            ("PETSET_KEEP", "always"),
            ("PETSET_CLUSTER", "minikube"),
        ] {
            let error = read(&[(name, value)]).err();
            assert_eq!(error.map(|e| e.name), Some(name), "{name}={value}");
        }
    }
}
