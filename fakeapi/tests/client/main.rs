//! The fake API server exercised with kube-rs 5 as the client, the way petset's code uses it.

// Test setup and assertions may panic freely.
#![allow(clippy::unwrap_used)]

mod crud;
mod deleting;
mod exec;
mod faults;
mod patching;
mod startup;
mod subprotocols;
mod subresources;
mod validation;
mod watching;

use kube::config::{KubeConfigOptions, Kubeconfig};
use petset_fakeapi::FakeApiServer;

/// A fake with a kube client configured from the fake's own kubeconfig, built as petset builds
/// every client.
pub async fn start() -> (FakeApiServer, kube::Client) {
    let server = FakeApiServer::start().await.expect("start fake");
    let kubeconfig = Kubeconfig::from_yaml(&server.kubeconfig_yaml()).expect("parse kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("config from kubeconfig");
    let client = petset::cluster::client_from_config(config).expect("client");
    (server, client)
}

/// Bounds every wait in these tests.
pub async fn within<T>(what: &str, fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(std::time::Duration::from_secs(10), fut)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}
