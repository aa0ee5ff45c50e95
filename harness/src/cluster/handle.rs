//! A connected cluster: its client, what it is, and who owns its lifetime.

use std::fmt;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::version::Info;

use super::error::ClusterError;
use super::tools::{CommandOutput, ToolRunner};

/// How long the capability probe may take (four small list requests).
const PROBE_DEADLINE: Duration = Duration::from_secs(20);

/// Where the cluster came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Provider {
    /// A kubeconfig context the user already had.
    Context,
    Kind {
        name: String,
    },
    K3d {
        name: String,
    },
    /// The k3s container petset starts, by image reference.
    K3s {
        image: String,
    },
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Provider::Context => f.write_str("kubeconfig context"),
            Provider::Kind { name } => write!(f, "kind cluster `{name}`"),
            Provider::K3d { name } => write!(f, "k3d cluster `{name}`"),
            Provider::K3s { image } => write!(f, "k3s container ({image})"),
        }
    }
}

/// The API server's version, as `/version` reports it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ServerVersion {
    pub major: u32,
    pub minor: u32,
    /// For example `v1.33.1+k3s1`.
    pub git_version: String,
    /// For example `linux/arm64`.
    pub platform: String,
}

impl ServerVersion {
    /// Reads `/version`; managed offerings write minors like `29+`, so only leading digits count,
    /// and `gitVersion` fills in when major/minor are missing.
    pub fn from_info(info: &Info) -> Result<Self, String> {
        let from_fields = leading_number(&info.major).zip(leading_number(&info.minor));
        let (major, minor) = from_fields
            .or_else(|| parse_major_minor(&info.git_version))
            .ok_or_else(|| {
                format!(
                    "failed to read the server version (major {:?}, minor {:?}, gitVersion {:?})",
                    info.major, info.minor, info.git_version
                )
            })?;
        Ok(ServerVersion {
            major,
            minor,
            git_version: info.git_version.clone(),
            platform: info.platform.clone(),
        })
    }
}

impl fmt::Display for ServerVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)?;
        if !self.git_version.is_empty() {
            write!(f, " ({})", self.git_version)?;
        }
        Ok(())
    }
}

fn leading_number(text: &str) -> Option<u32> {
    let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// `"v1.29.3"`, `"1.29"` or `"1.29+"` -> `(1, 29)`.
pub(crate) fn parse_major_minor(text: &str) -> Option<(u32, u32)> {
    let text = text.trim().trim_start_matches('v');
    let (major, rest) = text.split_once('.')?;
    Some((major.parse().ok()?, leading_number(rest)?))
}

/// What a teardown did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TeardownOutcome {
    /// petset created the cluster and has deleted it.
    Deleted,
    /// petset created the cluster and kept it because `PETSET_KEEP_CLUSTER=1`.
    Kept,
    /// The cluster was there before petset; it is left alone.
    NotOwned,
}

/// What must be undone at the end of the run.
pub(crate) enum Owned {
    Nothing,
    Local {
        tool: super::local::Tool,
        name: String,
        runner: ToolRunner,
        deadline: Duration,
    },
    #[cfg(feature = "k3s")]
    K3s(Box<super::k3s::K3sContainer>),
}

/// A reachable cluster that passed the safety guard.
pub struct Cluster {
    pub(crate) client: kube::Client,
    /// What `client` was built from, for the kubeconfig programs the scenarios run are given.
    pub(crate) config: kube::Config,
    pub(crate) context: String,
    pub(crate) server_url: String,
    pub(crate) version: ServerVersion,
    pub(crate) provider: Provider,
    pub(crate) created: bool,
    pub(crate) keep: bool,
    pub(crate) owned: Owned,
    pub(crate) commands: Vec<CommandOutput>,
}

impl fmt::Debug for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cluster")
            .field("context", &self.context)
            .field("server_url", &self.server_url)
            .field("version", &self.version)
            .field("provider", &self.provider)
            .field("created", &self.created)
            .field("keep", &self.keep)
            .finish_non_exhaustive()
    }
}

impl Cluster {
    /// A client for the cluster (cheap to clone).
    pub fn client(&self) -> kube::Client {
        self.client.clone()
    }

    /// The configuration the client was built from (server, CA, credentials).
    pub fn config(&self) -> &kube::Config {
        &self.config
    }

    /// The kubeconfig context name (`kind-petset`, `petset-k3s`, ...).
    pub fn context(&self) -> &str {
        &self.context
    }

    /// The API server URL.
    pub fn server_url(&self) -> &str {
        &self.server_url
    }

    pub fn server_version(&self) -> &ServerVersion {
        &self.version
    }

    pub fn provider(&self) -> &Provider {
        &self.provider
    }

    /// Whether petset created this cluster (and so may delete it).
    pub fn created_by_petset(&self) -> bool {
        self.created
    }

    /// The kind/k3d/docker commands run to get this cluster, for reports.
    pub fn commands(&self) -> &[CommandOutput] {
        &self.commands
    }

    /// Asks the cluster what it offers (nodes, default StorageClass, DNS, architectures).
    pub async fn probe(&self) -> Result<super::probe::Capabilities, super::probe::ProbeError> {
        super::probe::probe(&self.client, PROBE_DEADLINE).await
    }

    /// One line for the run's header: what, where, which version.
    pub fn summary(&self) -> String {
        let origin = if self.created {
            "created by petset"
        } else {
            "reused"
        };
        format!(
            "{} `{}` at {} — Kubernetes {} ({origin})",
            self.provider, self.context, self.server_url, self.version
        )
    }

    /// Deletes the cluster if petset created it and `PETSET_KEEP_CLUSTER` is not set; a cluster
    /// that was there before is never touched.
    pub async fn teardown(mut self) -> Result<TeardownOutcome, ClusterError> {
        let owned = std::mem::replace(&mut self.owned, Owned::Nothing);
        if !self.created {
            return Ok(TeardownOutcome::NotOwned);
        }
        if self.keep {
            return Ok(TeardownOutcome::Kept);
        }
        match owned {
            Owned::Nothing => Ok(TeardownOutcome::NotOwned),
            Owned::Local {
                tool,
                name,
                runner,
                deadline,
            } => {
                super::local::delete(tool, &runner, &name, deadline).await?;
                Ok(TeardownOutcome::Deleted)
            }
            #[cfg(feature = "k3s")]
            Owned::K3s(container) => {
                container.remove().await?;
                Ok(TeardownOutcome::Deleted)
            }
        }
    }
}

impl Drop for Cluster {
    /// A kind/k3d cluster petset created but nobody tore down (a panic, an early return) would
    /// outlive the run unnoticed; say so, with the command that deletes it. (A k3s container
    /// is removed by testcontainers itself.)
    fn drop(&mut self) {
        if let Owned::Local { tool, name, .. } = &self.owned
            && self.created
            && !self.keep
        {
            let delete = match tool {
                super::local::Tool::Kind => format!("kind delete cluster --name {name}"),
                super::local::Tool::K3d => format!("k3d cluster delete {name}"),
            };
            eprintln!(
                "warning: {} created by petset was not torn down; delete it with `{delete}`",
                self.provider
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(major: &str, minor: &str, git: &str) -> Info {
        Info {
            major: major.into(),
            minor: minor.into(),
            git_version: git.into(),
            ..Info::default()
        }
    }

    #[test]
    fn versions_read_managed_and_sparse_answers() {
        let v = ServerVersion::from_info(&info("1", "29+", "v1.29.3-gke.1"));
        assert_eq!(v.map(|v| (v.major, v.minor)), Ok((1, 29)));
        let v = ServerVersion::from_info(&info("", "", "v1.33.1+k3s1"));
        assert_eq!(v.map(|v| (v.major, v.minor)), Ok((1, 33)));
        assert!(ServerVersion::from_info(&info("", "", "")).is_err());
        assert_eq!(parse_major_minor("1.29"), Some((1, 29)));
        assert_eq!(parse_major_minor("1"), None);
    }
}
