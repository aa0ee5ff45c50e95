//! Start-up time: every test can afford its own fake.

use std::time::{Duration, Instant};

use petset_fakeapi::FakeApiServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starting_a_fake_takes_under_ten_milliseconds() {
    let mut times = Vec::with_capacity(200);
    for _ in 0..200 {
        let t = Instant::now();
        let server = FakeApiServer::start().await.unwrap();
        times.push(t.elapsed());
        drop(server);
    }
    times.sort();
    let median = times[times.len() / 2];
    let p95 = times[times.len() * 95 / 100];
    println!(
        "fake API server start-up over 200 starts: median {median:?}, p95 {p95:?}, max {:?}",
        times[199]
    );
    assert!(
        median < Duration::from_millis(10),
        "median start-up {median:?}"
    );
}
