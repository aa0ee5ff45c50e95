//! Wait latency: from the fake API server committing the change that satisfies a wait to the
//! `wait` step returning, over many waits, next to a 1-second polling loop (what kuttl does).
//!
//! Run: `cargo bench -p petset --bench wait_latency` (`-- --waits N` for another count).
//! Exits non-zero when the watch-driven wait misses its target (p99 under 100 ms).

use petset::engine::scenario_labels;
use petset::scenario::model::Step;
use petset::steps::{StepContext, run_step};
use petset_fakeapi::{FakeApiServer, Handle, Verb};
use serde_json::json;
use std::process::ExitCode;
use std::time::Duration;
use tokio::time::Instant;

const TARGET_P99: Duration = Duration::from_millis(100);
const POLL_EVERY: Duration = Duration::from_secs(1);

fn main() -> ExitCode {
    let waits = std::env::args()
        .skip_while(|arg| arg != "--waits")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(200usize);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("failed to start a runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(bench(waits)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("wait_latency failed: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn bench(waits: usize) -> Result<bool, String> {
    let server = FakeApiServer::start().await.map_err(|e| e.to_string())?;
    let config = kube::Config::new(server.url().parse().map_err(|e| format!("{e}"))?);
    let client = petset::cluster::client_from_config(config).map_err(|e| e.to_string())?;
    let handle = server.handle();
    for ns in ["watch", "poll"] {
        handle
            .create(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}))
            .map_err(|e| e.to_string())?;
    }

    let watched = watch_waits(&client, &handle, waits).await?;
    let polled = poll_waits(&client, &handle, waits).await?;

    println!("wait latency: change committed by the fake API server -> wait returned");
    println!(
        "{waits} waits each, pods flipped to Ready one by one (watch) / at random offsets (poll)\n"
    );
    println!(
        "{:<34} {:>5} {:>10} {:>10} {:>10} {:>10}",
        "method", "n", "median", "p90", "p99", "max"
    );
    row("watch (petset `wait` step)", &watched);
    row("poll every 1s (kuttl's loop)", &polled);
    let p99 = percentile(&watched, 0.99);
    let met = p99 < TARGET_P99;
    println!(
        "\ntarget: watch p99 under {} ms -> {} ({:.1} ms); median speed-up over polling: {:.0}x",
        TARGET_P99.as_millis(),
        if met { "met" } else { "NOT met" },
        ms(p99),
        ms(percentile(&polled, 0.5)) / ms(percentile(&watched, 0.5)).max(0.001)
    );
    Ok(met)
}

fn step(yaml: &str) -> Result<Step, String> {
    serde_saphyr::from_str(yaml).map_err(|e| e.to_string())
}

fn pending_pod(ns: &str, name: &str) -> serde_json::Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]},
        "status": {"phase": "Pending"}
    })
}

/// One wait at a time: start the `wait` step, let its watch open, flip the pod Ready, and time
/// from the flip's commit to the step's return.
async fn watch_waits(
    client: &kube::Client,
    handle: &Handle,
    waits: usize,
) -> Result<Vec<Duration>, String> {
    let mut ctx = StepContext::new(client.clone(), "watch", std::env::temp_dir());
    ctx.labels = scenario_labels("bench");
    let mut latencies = Vec::with_capacity(waits);
    for i in 0..waits {
        let name = format!("w-{i}");
        handle
            .create(pending_pod("watch", &name))
            .map_err(|e| e.to_string())?;
        let wait = step(&format!(
            "wait: {{target: pod/{name}, for: ready, timeout: 10s}}"
        ))?;
        let watches = handle.request_count(Verb::Watch, "pods");
        let mut task_ctx = ctx.clone();
        let task = tokio::spawn(async move {
            let result = run_step(&wait, &mut task_ctx).await;
            (Instant::now(), result)
        });
        // Flip only once the wait is following a watch, so it is a watch event that satisfies it.
        let armed = Instant::now() + Duration::from_secs(5);
        while handle.request_count(Verb::Watch, "pods") == watches && Instant::now() < armed {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
        let flipped = Instant::now();
        handle
            .set_pod_ready("watch", &name, true, Some("10.0.0.1"))
            .map_err(|e| e.to_string())?;
        let (returned, result) = task.await.map_err(|e| e.to_string())?;
        result.map_err(|failure| format!("wait {i} failed: {}", failure.message))?;
        latencies.push(returned.saturating_duration_since(flipped));
    }
    Ok(latencies)
}

/// The kuttl way: every pod has its own loop reading it once a second; each pod is flipped at a
/// random moment. All loops run at once (sequentially they would take minutes).
async fn poll_waits(
    client: &kube::Client,
    handle: &Handle,
    waits: usize,
) -> Result<Vec<Duration>, String> {
    let api: kube::Api<k8s_openapi::api::core::v1::Pod> =
        kube::Api::namespaced(client.clone(), "poll");
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut tasks = Vec::with_capacity(waits);
    for i in 0..waits {
        let name = format!("p-{i}");
        handle
            .create(pending_pod("poll", &name))
            .map_err(|e| e.to_string())?;
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let offset = Duration::from_millis(50 + (seed >> 33) % 1500);
        let (api, handle) = (api.clone(), handle.clone());
        tasks.push(tokio::spawn(async move {
            let flipper = {
                let (handle, name) = (handle.clone(), name.clone());
                tokio::spawn(async move {
                    tokio::time::sleep(offset).await;
                    let flipped = Instant::now();
                    handle
                        .set_pod_ready("poll", &name, true, None)
                        .map(|_| flipped)
                })
            };
            let deadline = Instant::now() + Duration::from_secs(10);
            let seen = loop {
                if let Ok(pod) = api.get(&name).await {
                    let ready = pod
                        .status
                        .and_then(|s| s.conditions)
                        .into_iter()
                        .flatten()
                        .any(|c| c.type_ == "Ready" && c.status == "True");
                    if ready {
                        break Some(Instant::now());
                    }
                }
                if Instant::now() >= deadline {
                    break None;
                }
                tokio::time::sleep(POLL_EVERY).await;
            };
            let flipped = flipper
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
            let seen = seen.ok_or_else(|| format!("poll wait {i} never saw its pod ready"))?;
            Ok::<_, String>(seen.saturating_duration_since(flipped))
        }));
    }
    let mut latencies = Vec::with_capacity(waits);
    for task in tasks {
        latencies.push(task.await.map_err(|e| e.to_string())??);
    }
    Ok(latencies)
}

fn percentile(samples: &[Duration], q: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn row(name: &str, samples: &[Duration]) {
    println!(
        "{:<34} {:>5} {:>8.1}ms {:>8.1}ms {:>8.1}ms {:>8.1}ms",
        name,
        samples.len(),
        ms(percentile(samples, 0.5)),
        ms(percentile(samples, 0.9)),
        ms(percentile(samples, 0.99)),
        ms(percentile(samples, 1.0)),
    );
}
