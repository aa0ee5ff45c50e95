//! A local TCP listener that reaches a pod's port: each accepted connection opens its own
//! Kubernetes port-forward and bytes are copied both ways, like `kubectl port-forward`.
//!
//! One port-forward per connection (rather than one shared stream) keeps connections
//! independent: a database client that opens many connections, or reconnects after the server
//! went away, gets a fresh stream each time. When a forward fails (the pod is gone, nothing
//! listens on the port) the reason is recorded *before* the local connection is closed, so the
//! client that sees the close can ask [`ForwardDiagnostics`] why.

use super::upgrade::subprotocol_refusal;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncWriteExt, split};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// How long to wait for the error channel after the pod side closed, before giving up on
/// learning why.
const ERROR_GRACE: Duration = Duration::from_secs(2);
/// How long the pod side may keep talking after the client closed its side.
const CLOSE_GRACE: Duration = Duration::from_secs(10);

/// Why a forwarded connection failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardFailureKind {
    /// The port-forward could not be opened: no such pod, not running, or the API refused.
    Unreachable,
    /// The API server (or a proxy before it) speaks no port-forward subprotocol kube offers:
    /// no port-forward to any pod can work, so waiting is pointless.
    Unsupported,
    /// The pod was reached but nothing accepted the connection on the port.
    Refused,
    /// The forward was opened but broke, or reported another error.
    Broken,
}

/// One failed forwarded connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardFailure {
    pub kind: ForwardFailureKind,
    pub message: String,
}

#[derive(Debug, Default)]
struct Record {
    accepted: usize,
    /// Forwards that got past the websocket upgrade.
    opened: usize,
    failures: Vec<ForwardFailure>,
}

/// What happened to the listener's connections, shared with the code using the listener.
#[derive(Debug, Clone, Default)]
pub struct ForwardDiagnostics {
    record: Arc<Mutex<Record>>,
}

impl ForwardDiagnostics {
    fn with<T>(&self, f: impl FnOnce(&mut Record) -> T) -> T {
        let mut record = self.record.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut record)
    }

    /// A position in the failure log; pass it to [`Self::failure_since`] later.
    pub fn mark(&self) -> usize {
        self.with(|r| r.failures.len())
    }

    /// The first failure recorded after `mark`, if any.
    pub fn failure_since(&self, mark: usize) -> Option<ForwardFailure> {
        self.with(|r| r.failures.get(mark).cloned())
    }

    /// How many local connections have been accepted so far.
    pub fn accepted(&self) -> usize {
        self.with(|r| r.accepted)
    }

    /// How many forwards got past the websocket upgrade: while none did, nothing the local
    /// side sent reached the pod.
    pub fn opened(&self) -> usize {
        self.with(|r| r.opened)
    }

    fn record(&self, kind: ForwardFailureKind, message: String) {
        self.with(|r| r.failures.push(ForwardFailure { kind, message }));
    }
}

/// A listener on 127.0.0.1 forwarding to `pod:port`. Dropping it closes the listener and every
/// forwarded connection.
pub struct PortForward {
    local: SocketAddr,
    pod: String,
    port: u16,
    diagnostics: ForwardDiagnostics,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for PortForward {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortForward")
            .field("local", &self.local)
            .field("pod", &self.pod)
            .field("port", &self.port)
            .finish()
    }
}

impl PortForward {
    /// Binds 127.0.0.1 on a free port and starts forwarding connections to `pod:port`.
    pub async fn start(pods: Api<Pod>, pod: &str, port: u16) -> std::io::Result<PortForward> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let local = listener.local_addr()?;
        let diagnostics = ForwardDiagnostics::default();
        let task = tokio::spawn(accept_loop(
            listener,
            pods,
            pod.to_owned(),
            port,
            diagnostics.clone(),
        ));
        Ok(PortForward {
            local,
            pod: pod.to_owned(),
            port,
            diagnostics,
            task,
        })
    }

    /// The local address to connect to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// `pod:port`, for messages.
    pub fn target(&self) -> String {
        format!("{}:{}", self.pod, self.port)
    }

    /// What happened to the forwarded connections.
    pub fn diagnostics(&self) -> ForwardDiagnostics {
        self.diagnostics.clone()
    }
}

impl Drop for PortForward {
    fn drop(&mut self) {
        // The accept task owns the connection tasks in a JoinSet, which aborts them when dropped.
        self.task.abort();
    }
}

async fn accept_loop(
    listener: TcpListener,
    pods: Api<Pod>,
    pod: String,
    port: u16,
    diagnostics: ForwardDiagnostics,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((client, _)) = accepted else { continue };
                diagnostics.with(|r| r.accepted += 1);
                connections.spawn(forward_one(
                    client,
                    pods.clone(),
                    pod.clone(),
                    port,
                    diagnostics.clone(),
                ));
            }
            // Reap finished connections so the set does not grow without bound.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn forward_one(
    client: TcpStream,
    pods: Api<Pod>,
    pod: String,
    port: u16,
    diagnostics: ForwardDiagnostics,
) {
    let mut forwarder = match pods.portforward(&pod, &[port]).await {
        Ok(forwarder) => forwarder,
        Err(error) => {
            match subprotocol_refusal("port-forward", &error) {
                Some(refusal) => diagnostics.record(
                    ForwardFailureKind::Unsupported,
                    format!("the port-forward to pod {pod} was refused: {refusal}"),
                ),
                None => diagnostics.record(
                    ForwardFailureKind::Unreachable,
                    describe_open_error(&pod, &error),
                ),
            }
            return;
        }
    };
    diagnostics.with(|r| r.opened += 1);
    let (Some(upstream), Some(error_channel)) =
        (forwarder.take_stream(port), forwarder.take_error(port))
    else {
        diagnostics.record(
            ForwardFailureKind::Broken,
            format!("the port-forward to {pod} did not offer port {port}"),
        );
        return;
    };
    let _ = client.set_nodelay(true);
    let (mut client_read, mut client_write) = client.into_split();
    let (mut pod_read, mut pod_write) = split(upstream);
    let to_pod = async {
        let _ = tokio::io::copy(&mut client_read, &mut pod_write).await;
        let _ = pod_write.shutdown().await;
    };
    let from_pod = async {
        let _ = tokio::io::copy(&mut pod_read, &mut client_write).await;
        // The pod side ended: learn why before the client sees the close.
        if let Ok(Some(message)) = tokio::time::timeout(ERROR_GRACE, error_channel).await {
            diagnostics.record(classify_stream_error(&message), message);
        }
        let _ = client_write.shutdown().await;
    };
    tokio::pin!(from_pod);
    tokio::select! {
        // The pod side ended (and the client was told): nothing more can be delivered.
        _ = &mut from_pod => {}
        // The client finished sending: let the pod's last words through, within reason.
        _ = to_pod => {
            let _ = tokio::time::timeout(CLOSE_GRACE, &mut from_pod).await;
        }
    }
    forwarder.abort();
}

fn describe_open_error(pod: &str, error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) if status.code == 404 => {
            format!("pod {pod} not found ({})", status.message)
        }
        kube::Error::Api(status) => format!(
            "the API server refused the port-forward to pod {pod}: {} ({})",
            status.message, status.code
        ),
        other => format!("failed to open a port-forward to pod {pod}: {other}"),
    }
}

/// The kubelet reports a refused dial on the error channel, e.g.
/// `... dial tcp4 127.0.0.1:3306: connect: connection refused`.
fn classify_stream_error(message: &str) -> ForwardFailureKind {
    if message.to_ascii_lowercase().contains("connection refused") {
        ForwardFailureKind::Refused
    } else {
        ForwardFailureKind::Broken
    }
}
