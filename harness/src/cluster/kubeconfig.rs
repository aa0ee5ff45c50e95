//! Reading kubeconfigs (honouring `KUBECONFIG`), picking a context, and connecting to it
//! under a deadline.

use std::path::PathBuf;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};

use super::error::{ClusterError, chain};
use super::handle::ServerVersion;
use super::settings::Settings;

/// A kubeconfig context and the server it points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ContextTarget {
    pub context: String,
    pub server: String,
}

/// Where the kubeconfig comes from, in words, for messages.
pub(crate) fn origin(settings: &Settings) -> String {
    match &settings.kubeconfig {
        Some(list) => format!("KUBECONFIG={}", list.to_string_lossy()),
        None => match default_path(settings) {
            Some(path) => path.display().to_string(),
            None => "~/.kube/config, but HOME is not set".to_string(),
        },
    }
}

fn default_path(settings: &Settings) -> Option<PathBuf> {
    settings
        .home
        .as_ref()
        .map(|home| home.join(".kube").join("config"))
}

/// Reads and merges the kubeconfig files, as kubectl does: the `KUBECONFIG` list (files that
/// do not exist are skipped) or `~/.kube/config`. `None` when there is no file at all.
pub(crate) fn load(settings: &Settings) -> Result<Option<Kubeconfig>, ClusterError> {
    let paths: Vec<PathBuf> = match &settings.kubeconfig {
        Some(list) => std::env::split_paths(list)
            .filter(|p| !p.as_os_str().is_empty())
            .collect(),
        None => default_path(settings).into_iter().collect(),
    };
    let mut merged: Option<Kubeconfig> = None;
    for path in paths.into_iter().filter(|p| p.exists()) {
        let read = Kubeconfig::read_from(&path).map_err(|source| ClusterError::Kubeconfig {
            origin: path.display().to_string(),
            source: Box::new(source),
        })?;
        merged = Some(match merged {
            None => read,
            Some(earlier) => earlier
                .merge(read)
                .map_err(|source| ClusterError::Kubeconfig {
                    origin: origin(settings),
                    source: Box::new(source),
                })?,
        });
    }
    Ok(merged)
}

/// The context to use (`wanted`, else the current one) and its server URL.
pub(crate) fn target(
    kubeconfig: &Kubeconfig,
    wanted: Option<&str>,
) -> Result<ContextTarget, ClusterError> {
    let name = wanted
        .map(str::to_string)
        .or_else(|| kubeconfig.current_context.clone())
        .filter(|name| !name.is_empty())
        .ok_or(ClusterError::NoCurrentContext)?;
    let context = kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| ClusterError::UnknownContext {
            context: name.clone(),
            available: available_contexts(kubeconfig),
        })?;
    let cluster_name = context
        .context
        .as_ref()
        .map(|c| c.cluster.clone())
        .unwrap_or_default();
    let server = kubeconfig
        .clusters
        .iter()
        .find(|c| c.name == cluster_name)
        .and_then(|c| c.cluster.as_ref())
        .and_then(|c| c.server.clone())
        .unwrap_or_else(|| format!("<no server for cluster `{cluster_name}`>"));
    Ok(ContextTarget {
        context: name,
        server,
    })
}

fn available_contexts(kubeconfig: &Kubeconfig) -> String {
    if kubeconfig.contexts.is_empty() {
        return "no contexts".to_string();
    }
    kubeconfig
        .contexts
        .iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Builds a client for `target` and asks the server its version, all within `deadline`; with
/// the configuration the client was built from.
pub(crate) async fn connect(
    kubeconfig: Kubeconfig,
    target: &ContextTarget,
    deadline: Duration,
) -> Result<(kube::Client, kube::Config, ServerVersion), ClusterError> {
    let unreachable = |cause: String| ClusterError::Unreachable {
        context: target.context.clone(),
        server: target.server.clone(),
        cause,
    };
    let options = KubeConfigOptions {
        context: Some(target.context.clone()),
        ..KubeConfigOptions::default()
    };
    let attempt = async {
        let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|e| unreachable(chain(&e)))?;
        config.connect_timeout = Some(deadline);
        let client =
            super::client_from_config(config.clone()).map_err(|e| unreachable(chain(&e)))?;
        let info = client
            .apiserver_version()
            .await
            .map_err(|e| unreachable(chain(&e)))?;
        let version = ServerVersion::from_info(&info).map_err(unreachable)?;
        Ok((client, config, version))
    };
    match tokio::time::timeout(deadline, attempt).await {
        Ok(result) => result,
        Err(_) => Err(unreachable(format!(
            "no answer within {}",
            super::tools::seconds(deadline)
        ))),
    }
}
