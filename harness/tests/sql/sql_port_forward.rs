//! The port-forward listener the `sql` step connects through: bytes go both ways over one
//! Kubernetes port-forward per connection, failures are recorded before the client sees the
//! close, and dropping the listener closes it and every connection.

use crate::support::test_cluster::TestCluster;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use petset::net::{ForwardFailureKind, PortForward};
use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const NS: &str = "default";

async fn fake_with_pod(pod: &str) -> Result<(TestCluster, Api<Pod>), Box<dyn std::error::Error>> {
    let fake = TestCluster::start().await;
    fake.create(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": pod, "namespace": NS},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]},
    }));
    let pods = Api::namespaced(fake.client.clone(), NS);
    Ok((fake, pods))
}

/// Echoes every connection back, upper-cased so a reply cannot be mistaken for the request.
async fn echo_server() -> std::io::Result<std::net::SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                while let Ok(n) = conn.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    let reply = buf[..n].to_ascii_uppercase();
                    if conn.write_all(&reply).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    Ok(addr)
}

async fn read_some(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .map_err(|_| std::io::Error::other("no reply within 5s"))??;
    buf.truncate(n);
    Ok(buf)
}

/// True when the connection ends (EOF or an error) within 5 s; false if it stays open.
async fn ends(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 64];
    match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await {
        Ok(Ok(0)) | Ok(Err(_)) => true,
        Ok(Ok(_)) | Err(_) => false,
    }
}

#[tokio::test]
async fn copies_bytes_both_ways_over_one_forward_per_connection() -> TestResult {
    let (fake, pods) = fake_with_pod("echo-0").await?;
    fake.handle()
        .forward_port(NS, "echo-0", 7000, echo_server().await?);
    let forward = PortForward::start(pods, "echo-0", 7000).await?;
    assert_eq!(forward.target(), "echo-0:7000");
    assert!(forward.local_addr().ip().is_loopback());
    let mut first = TcpStream::connect(forward.local_addr()).await?;
    let mut second = TcpStream::connect(forward.local_addr()).await?;
    first.write_all(b"hello").await?;
    second.write_all(b"other").await?;
    assert_eq!(read_some(&mut first).await?, b"HELLO");
    assert_eq!(read_some(&mut second).await?, b"OTHER");
    first.write_all(b"again").await?;
    assert_eq!(read_some(&mut first).await?, b"AGAIN");
    let diagnostics = forward.diagnostics();
    assert_eq!(diagnostics.accepted(), 2);
    assert_eq!(diagnostics.failure_since(0), None);
    Ok(())
}

#[tokio::test]
async fn dropping_the_listener_closes_it_and_its_connections() -> TestResult {
    let (fake, pods) = fake_with_pod("echo-0").await?;
    fake.handle()
        .forward_port(NS, "echo-0", 7000, echo_server().await?);
    let forward = PortForward::start(pods, "echo-0", 7000).await?;
    let addr = forward.local_addr();
    let mut open = TcpStream::connect(addr).await?;
    open.write_all(b"x").await?;
    assert_eq!(read_some(&mut open).await?, b"X");
    drop(forward);
    // The open connection ends (EOF or reset), and nothing accepts new ones.
    let ended = read_some(&mut open)
        .await
        .map(|b| b.is_empty())
        .unwrap_or(true);
    assert!(ended, "the connection outlived the listener");
    let refused = tokio::time::timeout(Duration::from_secs(2), TcpStream::connect(addr)).await;
    assert!(
        matches!(refused, Ok(Err(_))),
        "the listener still accepts after drop"
    );
    Ok(())
}

#[tokio::test]
async fn failures_are_recorded_before_the_client_sees_the_close() -> TestResult {
    let (fake, pods) = fake_with_pod("echo-0").await?;
    let closed = TcpListener::bind("127.0.0.1:0").await?.local_addr()?;
    fake.handle().forward_port(NS, "echo-0", 7000, closed);

    let refused = PortForward::start(pods.clone(), "echo-0", 7000).await?;
    let diagnostics = refused.diagnostics();
    let mark = diagnostics.mark();
    let mut conn = TcpStream::connect(refused.local_addr()).await?;
    assert!(ends(&mut conn).await, "expected the close");
    let failure = diagnostics.failure_since(mark).ok_or("refusal recorded")?;
    assert_eq!(failure.kind, ForwardFailureKind::Refused, "{failure:?}");

    let missing = PortForward::start(pods, "no-such-pod", 7000).await?;
    let diagnostics = missing.diagnostics();
    let mut conn = TcpStream::connect(missing.local_addr()).await?;
    let closed = read_some(&mut conn)
        .await
        .map(|b| b.is_empty())
        .unwrap_or(true);
    assert!(closed);
    let failure = diagnostics.failure_since(0).ok_or("unreachable recorded")?;
    assert_eq!(failure.kind, ForwardFailureKind::Unreachable);
    assert!(
        failure.message.contains("no-such-pod not found"),
        "{}",
        failure.message
    );
    Ok(())
}
