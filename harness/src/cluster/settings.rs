//! What the user asked for, read from `PETSET_*` environment variables (and `KUBECONFIG`).

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// The name petset gives the kind or k3d cluster it creates when none is given.
pub const DEFAULT_CLUSTER_NAME: &str = "petset";

/// Which cluster to use (`PETSET_CLUSTER`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClusterChoice {
    /// Unset: the current context if reachable, else k3s if a Docker engine answers, else none.
    Auto,
    /// `current`: the kubeconfig's current context, or `PETSET_CONTEXT`.
    Current,
    /// `kind` / `kind:<name>`: reuse or create a kind cluster.
    Kind { name: String },
    /// `k3d` / `k3d:<name>`: reuse or create a k3d cluster.
    K3d { name: String },
    /// `k3s`: a k3s container started for this run.
    K3s,
    /// `emulated`: the fake API server with its controller emulation, started in-process. Not
    /// a Kubernetes cluster; never chosen automatically.
    Emulated,
}

impl fmt::Display for ClusterChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClusterChoice::Auto => f.write_str("auto"),
            ClusterChoice::Current => f.write_str("current"),
            ClusterChoice::Kind { name } => write!(f, "kind:{name}"),
            ClusterChoice::K3d { name } => write!(f, "k3d:{name}"),
            ClusterChoice::K3s => f.write_str("k3s"),
            ClusterChoice::Emulated => f.write_str("emulated"),
        }
    }
}

/// Everything cluster selection reads from the environment, gathered in one value so tests
/// can build it explicitly instead of mutating the process environment.
#[derive(Clone, Debug)]
pub struct Settings {
    pub choice: ClusterChoice,
    /// `PETSET_CONTEXT`: the kubeconfig context to use instead of the current one.
    pub context: Option<String>,
    /// `PETSET_KEEP_CLUSTER=1`: keep a cluster petset created instead of deleting it.
    pub keep: bool,
    /// `PETSET_ALLOW_CONTEXT`: the one non-local context the safety guard lets through.
    pub allow_context: Option<String>,
    /// `PETSET_PRELOAD=1`: load locally present fixture images into kind/k3d clusters.
    pub preload: bool,
    /// `KUBECONFIG` as given (a `PATH`-style list); `None` means `~/.kube/config`.
    pub kubeconfig: Option<OsString>,
    /// The home directory, for `~/.kube/config`.
    pub home: Option<PathBuf>,
    /// The repository root (holds `fixtures/`); `None` when it could not be found.
    pub repo_root: Option<PathBuf>,
    /// How long a cluster gets to answer its first request.
    pub connect_deadline: Duration,
    /// How long creating a cluster (or starting the k3s container) may take.
    pub create_deadline: Duration,
    /// How long quick commands (`kind get clusters`, `docker version`) may take.
    pub command_deadline: Duration,
    /// Whether petset may create a cluster (kind/k3d) or start k3s when none is there. Off
    /// under cargo-nextest, where every scenario is its own process: there petset only
    /// connects to a cluster that already exists.
    pub may_create: bool,
}

/// A `PETSET_*` variable holds a value petset does not understand.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error(
        "failed to read PETSET_CLUSTER={value:?}: expected one of current, kind, kind:<name>, \
         k3d, k3d:<name>, k3s, emulated (or leave it unset to pick automatically)"
    )]
    UnknownCluster { value: String },
    #[error("failed to read {var}={value:?}: expected 1 or 0 (true/false, yes/no)")]
    NotAFlag { var: &'static str, value: String },
}

impl ClusterChoice {
    /// Parses a `PETSET_CLUSTER` value; `None` or an empty value means [`ClusterChoice::Auto`].
    pub fn parse(value: Option<&str>) -> Result<Self, SettingsError> {
        let value = value.map(str::trim).unwrap_or_default();
        let named = |rest: Option<&str>| -> Result<String, SettingsError> {
            match rest {
                None => Ok(DEFAULT_CLUSTER_NAME.to_string()),
                Some(name) if valid_cluster_name(name) => Ok(name.to_string()),
                Some(_) => Err(SettingsError::UnknownCluster {
                    value: value.to_string(),
                }),
            }
        };
        let (kind, rest) = match value.split_once(':') {
            Some((kind, rest)) => (kind, Some(rest)),
            None => (value, None),
        };
        match (kind, rest) {
            ("", None) => Ok(ClusterChoice::Auto),
            ("current", None) => Ok(ClusterChoice::Current),
            ("k3s", None) => Ok(ClusterChoice::K3s),
            ("emulated", None) => Ok(ClusterChoice::Emulated),
            ("kind", rest) => Ok(ClusterChoice::Kind { name: named(rest)? }),
            ("k3d", rest) => Ok(ClusterChoice::K3d { name: named(rest)? }),
            _ => Err(SettingsError::UnknownCluster {
                value: value.to_string(),
            }),
        }
    }
}

/// kind and k3d accept DNS-label-like names; anything else would only fail later, less clearly.
fn valid_cluster_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// A yes/no setting: unset, empty, `0`, `false`, `no` are off; `1`, `true`, `yes` are on (any
/// case). Every `PETSET_*` switch reads through this one grammar.
pub(crate) fn flag(var: &'static str, value: Option<String>) -> Result<bool, SettingsError> {
    match value.as_deref().map(str::trim) {
        None | Some("") | Some("0") => Ok(false),
        Some("1") => Ok(true),
        Some(other) => match other.to_ascii_lowercase().as_str() {
            "true" | "yes" => Ok(true),
            "false" | "no" => Ok(false),
            _ => Err(SettingsError::NotAFlag {
                var,
                value: other.to_string(),
            }),
        },
    }
}

impl Settings {
    /// Reads the settings from this process's environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        let mut settings = Settings::from_lookup(|var| std::env::var(var).ok())?;
        settings.kubeconfig = std::env::var_os("KUBECONFIG");
        settings.home = std::env::var_os("HOME").map(PathBuf::from);
        settings.repo_root = super::repo::repo_root();
        Ok(settings)
    }

    /// Reads the `PETSET_*` settings through `get`; `KUBECONFIG`, the home directory and the
    /// repository root are left unset (fill them in as needed).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let non_empty = |var: &str| get(var).filter(|v| !v.trim().is_empty());
        Ok(Settings {
            choice: ClusterChoice::parse(get("PETSET_CLUSTER").as_deref())?,
            context: non_empty("PETSET_CONTEXT"),
            keep: flag("PETSET_KEEP_CLUSTER", get("PETSET_KEEP_CLUSTER"))?,
            allow_context: non_empty(super::guard::ALLOW_CONTEXT_VAR),
            preload: flag("PETSET_PRELOAD", get("PETSET_PRELOAD"))?,
            ..Self::unset()
        })
    }

    /// The settings with no variable set: pick a cluster automatically, default deadlines.
    pub fn unset() -> Self {
        Settings {
            choice: ClusterChoice::Auto,
            context: None,
            keep: false,
            allow_context: None,
            preload: false,
            kubeconfig: None,
            home: None,
            repo_root: None,
            connect_deadline: Duration::from_secs(3),
            create_deadline: Duration::from_secs(300),
            command_deadline: Duration::from_secs(20),
            may_create: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(name: &str) -> ClusterChoice {
        ClusterChoice::Kind { name: name.into() }
    }

    #[test]
    fn cluster_values_parse() {
        assert_eq!(ClusterChoice::parse(None), Ok(ClusterChoice::Auto));
        assert_eq!(ClusterChoice::parse(Some(" ")), Ok(ClusterChoice::Auto));
        assert_eq!(
            ClusterChoice::parse(Some("current")),
            Ok(ClusterChoice::Current)
        );
        assert_eq!(ClusterChoice::parse(Some("kind")), Ok(kind("petset")));
        assert_eq!(ClusterChoice::parse(Some("kind:ci-1")), Ok(kind("ci-1")));
        assert_eq!(
            ClusterChoice::parse(Some("k3d:dev")),
            Ok(ClusterChoice::K3d { name: "dev".into() })
        );
        assert_eq!(ClusterChoice::parse(Some("k3s")), Ok(ClusterChoice::K3s));
        assert_eq!(
            ClusterChoice::parse(Some("emulated")),
            Ok(ClusterChoice::Emulated)
        );
        for bad in [
            "kind:",
            "kind:Bad_Name",
            "minikube",
            "k3s:x",
            "current:x",
            "emulated:x",
        ] {
            assert!(
                ClusterChoice::parse(Some(bad)).is_err(),
                "{bad} should be refused"
            );
        }
    }

    #[test]
    fn flags_accept_the_usual_spellings_and_refuse_others() {
        let get = |keep: &'static str| {
            Settings::from_lookup(move |var| (var == "PETSET_KEEP_CLUSTER").then(|| keep.into()))
        };
        assert!(get("1").map(|s| s.keep).unwrap_or(false));
        assert!(get("TRUE").map(|s| s.keep).unwrap_or(false));
        assert!(!get("0").map(|s| s.keep).unwrap_or(true));
        let err = get("maybe").err();
        assert_eq!(
            err.map(|e| e.to_string()),
            Some(
                "failed to read PETSET_KEEP_CLUSTER=\"maybe\": expected 1 or 0 (true/false, yes/no)"
                    .to_string()
            )
        );
    }
}
