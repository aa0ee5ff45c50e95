//! A kubeconfig file for a program a scenario runs: one context, for the cluster and
//! credentials petset itself uses, with the scenario's namespace as its default. Written to a
//! private temporary file that is removed when dropped.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use kube::config::{Cluster, Context, Kubeconfig, NamedAuthInfo, NamedCluster, NamedContext};
use std::path::Path;
use tempfile::NamedTempFile;

/// The context name in the written file.
const CONTEXT: &str = "petset";

/// A kubeconfig written for one program run; the file goes when this is dropped.
#[derive(Debug)]
pub(crate) struct KubeconfigFile(NamedTempFile);

impl KubeconfigFile {
    /// Writes `config` (the cluster, the credentials, `namespace` as the default) to a file only
    /// the current user can read.
    pub(crate) fn write(config: &kube::Config, namespace: &str) -> Result<Self, String> {
        let text = serde_json::to_string(&kubeconfig(config, namespace))
            .map_err(|error| format!("failed to write a kubeconfig for the command: {error}"))?;
        let mut file = tempfile::Builder::new()
            .prefix("petset-kubeconfig-")
            .suffix(".yaml")
            .tempfile()
            .map_err(|error| {
                format!("failed to create a kubeconfig file for the command: {error}")
            })?;
        std::io::Write::write_all(&mut file, text.as_bytes()).map_err(|error| {
            format!("failed to write a kubeconfig file for the command: {error}")
        })?;
        Ok(Self(file))
    }

    pub(crate) fn path(&self) -> &Path {
        self.0.path()
    }
}

/// `config` as a kubeconfig with one context (JSON is YAML, and kubectl and helm read it).
fn kubeconfig(config: &kube::Config, namespace: &str) -> Kubeconfig {
    let authority = config.root_cert.as_ref().map(|certificates| {
        let pem: String = certificates
            .iter()
            .map(|der| pem_certificate(der))
            .collect();
        STANDARD.encode(pem)
    });
    let cluster = Cluster {
        server: Some(
            config
                .cluster_url
                .to_string()
                .trim_end_matches('/')
                .to_owned(),
        ),
        insecure_skip_tls_verify: config.accept_invalid_certs.then_some(true),
        certificate_authority_data: authority,
        proxy_url: config.proxy_url.as_ref().map(ToString::to_string),
        tls_server_name: config.tls_server_name.clone(),
        ..Cluster::default()
    };
    Kubeconfig {
        clusters: vec![NamedCluster {
            name: CONTEXT.to_owned(),
            cluster: Some(cluster),
            other: Default::default(),
        }],
        auth_infos: vec![NamedAuthInfo {
            name: CONTEXT.to_owned(),
            auth_info: Some(config.auth_info.clone()),
            other: Default::default(),
        }],
        contexts: vec![NamedContext {
            name: CONTEXT.to_owned(),
            context: Some(Context {
                cluster: CONTEXT.to_owned(),
                user: Some(CONTEXT.to_owned()),
                namespace: Some(namespace.to_owned()),
                ..Context::default()
            }),
            other: Default::default(),
        }],
        current_context: Some(CONTEXT.to_owned()),
        api_version: Some("v1".to_owned()),
        kind: Some("Config".to_owned()),
        ..Kubeconfig::default()
    }
}

/// One DER certificate as PEM, lines of 64 characters as RFC 7468 asks.
fn pem_certificate(der: &[u8]) -> String {
    let encoded = STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in encoded.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_names_the_server_namespace_and_authority() {
        let mut config = kube::Config::new("https://10.0.0.1:6443/".parse().expect("a URL"));
        config.root_cert = Some(vec![vec![1, 2, 3]]);
        let file = KubeconfigFile::write(&config, "petset-x1").expect("written");
        let read = Kubeconfig::read_from(file.path()).expect("kube reads it back");
        let cluster = read.clusters[0].cluster.as_ref().expect("a cluster");
        assert_eq!(cluster.server.as_deref(), Some("https://10.0.0.1:6443"));
        let authority = STANDARD
            .decode(
                cluster
                    .certificate_authority_data
                    .as_deref()
                    .unwrap_or_default(),
            )
            .expect("base64");
        assert_eq!(
            String::from_utf8_lossy(&authority),
            "-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n"
        );
        let context = read.contexts[0].context.as_ref().expect("a context");
        assert_eq!(context.namespace.as_deref(), Some("petset-x1"));
        assert_eq!(read.current_context.as_deref(), Some("petset"));
        let path = file.path().to_path_buf();
        drop(file);
        assert!(!path.exists(), "the file goes with its owner");
    }
}
