//! The embedded cluster: a k3s container started through testcontainers, for machines that
//! have a Docker engine and nothing else.

use std::time::Duration;

use kube::config::Kubeconfig;
use testcontainers::core::ExecCommand;
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, ImageExt, ReuseDirective};
use testcontainers_modules::k3s::{K3s, KUBE_SECURE_PORT};

use super::error::ClusterError;
use super::guard::K3S_CONTEXT;
use super::handle::{Cluster, Owned, Provider};
use super::kubeconfig::{self, ContextTarget};
use super::settings::Settings;
use super::tools::CommandOutput;

/// The k3s image tag petset starts (Kubernetes 1.33, matching the kind node image).
pub const K3S_TAG: &str = "v1.33.1-k3s1";

/// The container name used when `PETSET_KEEP_CLUSTER=1` keeps (and later reuses) the container.
const KEPT_CONTAINER_NAME: &str = "petset-k3s";

/// The running container; dropping it removes the container unless it is kept.
pub(crate) struct K3sContainer {
    container: ContainerAsync<K3s>,
}

impl K3sContainer {
    pub(crate) async fn remove(self) -> Result<(), ClusterError> {
        self.container
            .rm()
            .await
            .map_err(|e| k3s_error("remove", e))
    }
}

fn k3s_error(step: &str, err: impl std::error::Error + Send + Sync + 'static) -> ClusterError {
    ClusterError::K3s {
        step: step.to_string(),
        source: Box::new(err),
    }
}

/// Starts (or, when kept from an earlier run, reuses) the k3s container and connects to it.
pub(crate) async fn start(
    settings: &Settings,
    commands: Vec<CommandOutput>,
) -> Result<Cluster, ClusterError> {
    let mut request = K3s::default()
        .with_tag(K3S_TAG)
        .with_privileged(true)
        .with_userns_mode("host")
        .with_startup_timeout(settings.create_deadline);
    if settings.keep {
        request = request
            .with_container_name(KEPT_CONTAINER_NAME)
            .with_reuse(ReuseDirective::Always);
    }
    let image = format!("rancher/k3s:{K3S_TAG}");
    let container = tokio::time::timeout(settings.create_deadline, request.start())
        .await
        .map_err(|_| ClusterError::K3s {
            step: format!(
                "start {image} within {}",
                super::tools::seconds(settings.create_deadline)
            ),
            source: "deadline passed".into(),
        })?
        .map_err(|e| k3s_error(&format!("start {image}"), e))?;
    let container = K3sContainer { container };
    let quick = settings.command_deadline;
    let (config, target) = tokio::time::timeout(quick, kubeconfig_of(&container.container))
        .await
        .map_err(|_| ClusterError::K3s {
            step: "read its kubeconfig".into(),
            source: format!("no answer within {}", super::tools::seconds(quick)).into(),
        })??;
    // k3s reports ready before its API server answers every request; allow the quick deadline.
    let (client, config, version) =
        kubeconfig::connect(config, &target, quick.max(Duration::from_secs(10))).await?;
    Ok(Cluster {
        client,
        config,
        context: target.context,
        server_url: target.server,
        version,
        provider: Provider::K3s { image },
        created: true,
        keep: settings.keep,
        owned: Owned::K3s(Box::new(container)),
        commands,
    })
}

/// Reads the kubeconfig k3s wrote inside the container, pointed at the mapped port and with
/// petset's context name (k3s calls everything `default`).
async fn kubeconfig_of(
    container: &ContainerAsync<K3s>,
) -> Result<(Kubeconfig, ContextTarget), ClusterError> {
    let port = container
        .get_host_port_ipv4(KUBE_SECURE_PORT)
        .await
        .map_err(|e| k3s_error("find the mapped API port", e))?;
    let host = container
        .get_host()
        .await
        .map_err(|e| k3s_error("find the Docker host", e))?;
    let mut exec = container
        .exec(ExecCommand::new(["cat", "/etc/rancher/k3s/k3s.yaml"]))
        .await
        .map_err(|e| k3s_error("read /etc/rancher/k3s/k3s.yaml", e))?;
    let yaml = exec
        .stdout_to_vec()
        .await
        .map_err(|e| k3s_error("read /etc/rancher/k3s/k3s.yaml", e))?;
    let yaml = String::from_utf8_lossy(&yaml);
    let server = format!("https://{host}:{port}");
    let config = rewrite_kubeconfig(&yaml, &server)?;
    Ok((
        config,
        ContextTarget {
            context: K3S_CONTEXT.to_string(),
            server,
        },
    ))
}

/// Points every cluster entry at `server` and renames the (single) context to
/// [`K3S_CONTEXT`], making it current. When the Docker host is remote (`DOCKER_HOST=tcp://docker:2375`
/// in CI), its name is not in k3s's serving certificate, so TLS checks the certificate
/// against `localhost`, which always is.
pub(crate) fn rewrite_kubeconfig(yaml: &str, server: &str) -> Result<Kubeconfig, ClusterError> {
    let mut config = Kubeconfig::from_yaml(yaml).map_err(|source| ClusterError::Kubeconfig {
        origin: "the k3s container's /etc/rancher/k3s/k3s.yaml".into(),
        source: Box::new(source),
    })?;
    for cluster in config
        .clusters
        .iter_mut()
        .filter_map(|c| c.cluster.as_mut())
    {
        cluster.server = Some(server.to_string());
        if !super::guard::is_loopback_url(server) {
            cluster.tls_server_name = Some("localhost".to_string());
        }
    }
    let Some(context) = config.contexts.first_mut() else {
        return Err(ClusterError::K3s {
            step: "read its kubeconfig".into(),
            source: "the kubeconfig has no context".into(),
        });
    };
    context.name = K3S_CONTEXT.to_string();
    config.contexts.truncate(1);
    config.current_context = Some(K3S_CONTEXT.to_string());
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfig_is_pointed_at_the_mapped_port_and_renamed() {
        let yaml = "apiVersion: v1\nkind: Config\nclusters:\n- name: default\n  cluster:\n    \
                    server: https://127.0.0.1:6443\n    certificate-authority-data: Zm9v\n\
                    contexts:\n- name: default\n  context: {cluster: default, user: default}\n\
                    current-context: default\nusers:\n- name: default\n  user: {token: abc}\n";
        let config = rewrite_kubeconfig(yaml, "https://localhost:49153");
        let config = config.ok();
        let server = config
            .as_ref()
            .and_then(|c| c.clusters.first())
            .and_then(|c| c.cluster.as_ref())
            .and_then(|c| c.server.clone());
        assert_eq!(server.as_deref(), Some("https://localhost:49153"));
        assert_eq!(
            config.and_then(|c| c.current_context),
            Some(K3S_CONTEXT.to_string())
        );
        let remote = rewrite_kubeconfig(yaml, "https://docker:49153").ok();
        let name = remote
            .as_ref()
            .and_then(|c| c.clusters.first())
            .and_then(|c| c.cluster.as_ref())
            .and_then(|c| c.tls_server_name.clone());
        assert_eq!(name.as_deref(), Some("localhost"));
    }
}
