//! The controller emulation's pod timings follow the pod spec: Running and Ready arrive as
//! separate status updates (a window in which a pod runs but is not Ready), and a deleted pod
//! terminates for its own grace period. Checked by the order of the store's writes, not by
//! measuring time.

// Test setup and assertions may panic freely.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use petset_fakeapi::emulation::{Emulation, EmulationConfig};
use petset_fakeapi::{FakeApiServer, Handle, WriteEvent};
use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedReceiver;

/// The finalizer the emulated kubelet removes once a deleted pod's grace period is over.
const FINALIZER: &str = "emulation.petset.dev/termination";

fn pod(name: &str, grace: i64) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "timings", "finalizers": [FINALIZER]},
        "spec": {
            "terminationGracePeriodSeconds": grace,
            "containers": [{
                "name": "web",
                "image": "registry.k8s.io/e2e-test-images/agnhost:2.53",
                "readinessProbe": {
                    "exec": {"command": ["sh", "-c", "test ! -e /tmp/unready"]},
                    "periodSeconds": 1,
                },
            }],
        },
    })
}

fn phase(event: &WriteEvent) -> &str {
    event
        .object
        .pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn ready(event: &WriteEvent) -> bool {
    event
        .object
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

/// Starts a fake with the emulation on a fast clock and a namespace for the pods.
fn start(server: &FakeApiServer) -> (Emulation, Handle, UnboundedReceiver<WriteEvent>) {
    let handle = server.handle();
    let events = handle.subscribe();
    handle
        .create(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "timings"}}))
        .expect("namespace");
    let config = EmulationConfig {
        second: Duration::from_millis(20),
        ..EmulationConfig::default()
    };
    (Emulation::start(&handle, config, None), handle, events)
}

/// The pod writes until `until` says stop, bounded by a deadline.
async fn pod_writes_until(
    events: &mut UnboundedReceiver<WriteEvent>,
    mut until: impl FnMut(&WriteEvent) -> bool,
) -> Vec<WriteEvent> {
    let mut seen = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(event) = events.recv().await {
            if !event.is("Pod") {
                continue;
            }
            let done = until(&event);
            seen.push(event);
            if done {
                return;
            }
        }
    })
    .await
    .expect("the pod writes arrive in time");
    seen
}

#[tokio::test]
async fn a_pod_is_running_before_it_is_ready() {
    let server = FakeApiServer::start().await.expect("fake starts");
    let (_emulation, handle, mut events) = start(&server);
    handle.create(pod("web", 1)).expect("pod created");

    let writes = pod_writes_until(&mut events, ready).await;
    let running_unready = writes
        .iter()
        .position(|e| phase(e) == "Running" && !ready(e));
    assert!(
        running_unready.is_some(),
        "no status update showed the pod Running and not yet Ready: {:?}",
        writes
            .iter()
            .map(|e| (phase(e).to_owned(), ready(e)))
            .collect::<Vec<_>>()
    );
    server.shutdown();
}

#[tokio::test]
async fn a_deleted_pod_terminates_for_its_own_grace_period() {
    let server = FakeApiServer::start().await.expect("fake starts");
    let (_emulation, handle, mut events) = start(&server);
    // Named so that the store's order (by name) is the opposite of the grace periods' order.
    handle.create(pod("a-slow", 30)).expect("pod created");
    handle.create(pod("b-quick", 1)).expect("pod created");
    let mut running = std::collections::BTreeSet::new();
    pod_writes_until(&mut events, |e| {
        if phase(e) == "Running" {
            running.insert(e.name.clone());
        }
        running.len() == 2
    })
    .await;

    handle
        .delete("v1", "Pod", Some("timings"), "a-slow")
        .expect("deleted");
    handle
        .delete("v1", "Pod", Some("timings"), "b-quick")
        .expect("deleted");
    let removals: Vec<String> = pod_writes_until(&mut events, |e| e.removed && e.name == "a-slow")
        .await
        .into_iter()
        .filter(|e| e.removed)
        .map(|e| e.name)
        .collect();
    assert_eq!(
        removals,
        ["b-quick", "a-slow"],
        "the pod with the 1 s grace period must be gone before the one with 30 s"
    );
    server.shutdown();
}
