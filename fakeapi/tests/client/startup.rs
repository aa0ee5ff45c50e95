//! Start-up: a fake answers as soon as `start` returns, with its default namespaces in place, and
//! 200 of them in a row start and stop cleanly, so every test can afford its own. How long each
//! start takes is printed (`-- --nocapture`) for the README's "Measuring petset itself"; it is
//! a figure for people, not an assertion, since it depends on the machine and its load.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use petset_fakeapi::FakeApiServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The raw answer to `GET /version`, with no client in between that could retry or wait.
async fn version(addr: SocketAddr) -> String {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await?;
        stream
            .write_all(b"GET /version HTTP/1.1\r\nHost: fake\r\nConnection: close\r\n\r\n")
            .await?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await?;
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&answer).into_owned())
    };
    tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .expect("answered in time")
        .expect("the fake answers on its first connection")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fake_answers_as_soon_as_it_has_started() {
    let mut times = Vec::with_capacity(200);
    for _ in 0..200 {
        let started = Instant::now();
        let server = FakeApiServer::start().await.unwrap();
        times.push(started.elapsed());
        let answer = version(server.addr()).await;
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
        assert!(answer.contains("\"gitVersion\""), "{answer}");
        let mut namespaces: Vec<String> = server
            .list("v1", "Namespace", None)
            .iter()
            .filter_map(|ns| ns["metadata"]["name"].as_str().map(str::to_owned))
            .collect();
        namespaces.sort();
        assert_eq!(
            namespaces,
            ["default", "kube-node-lease", "kube-public", "kube-system"]
        );
        drop(server);
    }
    times.sort();
    println!(
        "fake API server start-up over 200 starts: median {:?}, p95 {:?}, max {:?}",
        times[times.len() / 2],
        times[times.len() * 95 / 100],
        times[times.len() - 1]
    );
}
