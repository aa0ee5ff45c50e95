//! [`FakeApiServer`]: binds 127.0.0.1 on a free port, routes discovery and resource requests,
//! and stops when dropped.

use std::net::SocketAddr;
use std::ops::Deref;
use std::path::{Path, PathBuf};

use axum::Router;
use axum::routing::get;
use axum::serve::ListenerExt;
use tokio::sync::oneshot;

use crate::handle::Handle;
use crate::{discovery, openapi, rest};

/// Errors starting the fake or writing its kubeconfig.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to bind the fake API server to 127.0.0.1")]
    Bind(#[source] std::io::Error),
    #[error("failed to write the kubeconfig to {path}")]
    WriteKubeconfig {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A running fake Kubernetes API server. Dereferences to its [`Handle`]; dropping it stops it.
pub struct FakeApiServer {
    handle: Handle,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
}

impl std::fmt::Debug for FakeApiServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeApiServer")
            .field("addr", &self.addr)
            .finish()
    }
}

impl FakeApiServer {
    /// Starts a fake on 127.0.0.1 with a free port, with namespaces `default`, `kube-system`,
    /// `kube-public` and `kube-node-lease`. Must be called inside a tokio runtime.
    ///
    /// `let server = FakeApiServer::start().await?;`
    pub async fn start() -> Result<Self, Error> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(Error::Bind)?;
        let addr = listener.local_addr().map_err(Error::Bind)?;
        // Like the real API server (Go sets TCP_NODELAY by default): without it, small watch
        // events wait for delayed ACKs and every event arrives ~40 ms late.
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let handle = Handle::new();
        handle.start_controllers();
        let app = Router::new()
            .route("/version", get(discovery::version))
            .route("/api", get(discovery::core_versions))
            .route("/api/v1", get(discovery::core_resources))
            .route("/apis", get(discovery::groups))
            .route("/apis/{group}", get(discovery::group))
            .route("/apis/{group}/{version}", get(discovery::group_resources))
            .route("/openapi/v3", get(openapi::root))
            .route("/openapi/v3/{*path}", get(openapi::group_version))
            .fallback(rest::dispatch)
            .with_state(handle.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            // The server only ends on shutdown; an accept error has nobody to report to.
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(Self {
            handle,
            addr,
            stop: Some(stop),
        })
    }

    /// `http://127.0.0.1:<port>`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A handle that outlives borrows of the server (for tasks and controllers).
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// A kubeconfig with one plain-HTTP cluster, user and context, all named `fake`, whose
    /// default namespace is `default`.
    pub fn kubeconfig_yaml(&self) -> String {
        format!(
            "apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: {url}
users:
- name: fake
  user: {{}}
contexts:
- name: fake
  context:
    cluster: fake
    user: fake
    namespace: default
current-context: fake
",
            url = self.url()
        )
    }

    /// Writes [`Self::kubeconfig_yaml`] to `path`.
    pub fn write_kubeconfig(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        let path = path.as_ref();
        std::fs::write(path, self.kubeconfig_yaml()).map_err(|source| Error::WriteKubeconfig {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Stops the server: ends watches, websocket sessions and controllers, and stops accepting.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        self.handle.stop();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Deref for FakeApiServer {
    type Target = Handle;

    fn deref(&self) -> &Handle {
        &self.handle
    }
}

impl Drop for FakeApiServer {
    fn drop(&mut self) {
        self.stop_now();
    }
}
