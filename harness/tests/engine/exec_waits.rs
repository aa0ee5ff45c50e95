//! The wait primitive and the `wait` step against the fake API server: met by a watch event,
//! surviving cut watches and 410 Gone, retrying 500s, and reporting the last state at the deadline.
//!
//! Changes are made once the fake has served the wait's watch (its request counters are the
//! barrier), and the deadline tests run on paused time, so no result depends on how busy the
//! machine is.

use crate::support::test_cluster::{
    TestCluster, assert_contains, fails, passes, pod, until, within,
};
use petset::scenario::model::{Kind, ResolvedTarget};
use petset::wait::{Observation, WaitError, WaitVerdict, Watched, wait_for};
use petset_fakeapi::{Lasting, RequestFilter, Verb};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::time::Instant;

fn web0() -> ResolvedTarget {
    ResolvedTarget::object(Kind::Pod, "web-0")
}

fn ready(objects: &[kube::api::DynamicObject]) -> WaitVerdict {
    let values: Vec<_> = objects.iter().map(petset::api::to_value).collect();
    petset::wait::evaluate(
        &petset::scenario::model::WaitFor::Ready,
        Kind::Pod,
        true,
        &values,
    )
}

/// The test cluster with namespace `ns` holding the pending pod `web-0` with these labels.
async fn cluster_with_web0(labels: Value) -> TestCluster {
    let fake = TestCluster::start().await;
    fake.namespace("ns");
    fake.create(pod("ns", "web-0", labels));
    fake
}

/// Waits, for at most `limit`, for pod `web-0` of namespace `ns` to be ready.
async fn wait_for_web0(fake: &TestCluster, limit: Duration) -> Result<Observation, WaitError> {
    let watched = Watched::new(&fake.client, "ns", &web0());
    within(10, wait_for(&watched, Instant::now() + limit, ready)).await
}

#[tokio::test]
async fn a_wait_is_met_by_the_watch_event_that_satisfies_it() {
    let fake = cluster_with_web0(json!({"app": "web"})).await;
    let handle = fake.handle();
    let flip = tokio::spawn(async move {
        // Once the wait is watching, so that only the watch can tell it.
        until(|| handle.request_count(Verb::Watch, "pods") >= 1).await;
        handle
            .set_pod_ready("ns", "web-0", true, Some("10.0.0.1"))
            .expect("pod updated");
    });
    let observation = wait_for_web0(&fake, Duration::from_secs(5))
        .await
        .expect("the pod becomes ready");
    within(10, flip).await.expect("flip task");
    assert!(observation.reason.contains("web-0"), "{observation:?}");
    assert_eq!(observation.objects.len(), 1);
    // Watch-driven: one list, then the watch event; never a relist or a poll.
    assert_eq!(observation.relists, 0);
    assert_eq!(fake.handle().request_count(Verb::List, "pods"), 1);
    assert_eq!(fake.handle().request_count(Verb::Get, "pods"), 0);
}

#[tokio::test]
async fn a_wait_survives_a_cut_watch_stream() {
    let fake = cluster_with_web0(json!({})).await;
    let handle = fake.handle();
    tokio::spawn(async move {
        // A watch counted may not have opened its stream yet, so cut until the client has had
        // to reconnect.
        until(|| {
            handle.cut_watches();
            handle.request_count(Verb::Watch, "pods") >= 2
        })
        .await;
        // Changed after the cut: the client must resume and still see this.
        handle
            .set_pod_ready("ns", "web-0", true, None)
            .expect("pod updated");
    });
    let observation = wait_for_web0(&fake, Duration::from_secs(5))
        .await
        .expect("ready despite the cut");
    assert!(observation.reason.contains("web-0"), "{observation:?}");
}

#[tokio::test]
async fn a_wait_relists_after_410_gone_and_still_completes() {
    let fake = cluster_with_web0(json!({})).await;
    let handle = fake.handle();
    // The wait's first watch is answered 410 Gone, as a resume point too old is: only a relist
    // helps.
    handle.expire_watches(Lasting::Requests(1));
    tokio::spawn(async move {
        // Changed once the watch after the relist has been asked for.
        until(|| handle.request_count(Verb::Watch, "pods") >= 2).await;
        handle
            .set_pod_ready("ns", "web-0", true, None)
            .expect("pod updated");
    });
    let observation = wait_for_web0(&fake, Duration::from_secs(8))
        .await
        .expect("ready despite 410 Gone");
    assert!(
        observation.relists >= 1,
        "expected a relist: {observation:?}"
    );
    assert!(observation.errors >= 1, "{observation:?}");
}

#[tokio::test]
async fn a_wait_retries_through_a_spell_of_500s() {
    let fake = cluster_with_web0(json!({})).await;
    fake.ready("ns", "web-0");
    fake.handle().fail_requests(
        RequestFilter::any().resource("pods"),
        500,
        Lasting::Requests(3),
    );
    let observation = wait_for_web0(&fake, Duration::from_secs(6))
        .await
        .expect("ready once the API recovers");
    assert!(observation.errors >= 1, "{observation:?}");
    assert!(
        observation
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("500")),
        "{observation:?}"
    );
    // The three refused requests, then the list that found the pod ready.
    assert!(fake.handle().request_count(Verb::List, "pods") >= 2);
    assert!(
        fake.handle().request_count(Verb::List, "pods")
            + fake.handle().request_count(Verb::Watch, "pods")
            >= 4
    );
}

// Paused time: the runtime moves the clock to the next timer whenever every task waits, so the
// deadline passes exactly on time however loaded the machine is.
#[tokio::test(start_paused = true)]
async fn at_the_deadline_the_failure_shows_the_last_observed_state() {
    let fake = cluster_with_web0(json!({"app": "web"})).await;
    let started = Instant::now();
    let error = wait_for_web0(&fake, Duration::from_millis(700))
        .await
        .expect_err("never ready");
    assert_eq!(started.elapsed(), Duration::from_millis(700));
    let WaitError::TimedOut(observation) = &error else {
        panic!("expected a timeout, got {error:?}");
    };
    assert_eq!(observation.reason, "web-0: phase Pending");
    let shown = observation.render();
    assert!(shown.contains("phase: Pending"), "{shown}");
    assert!(shown.contains("name: web-0"), "{shown}");
    assert!(
        error
            .to_string()
            .starts_with("timed out after 0.7s: web-0: phase Pending"),
        "{error}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_wait_step_passes_on_a_selector_and_fails_with_the_last_state() {
    let fake = TestCluster::start().await;
    let mut ctx = fake.ctx("ns");
    fake.create(pod("ns", "web-0", json!({"app": "web"})));
    fake.create(pod("ns", "web-1", json!({"app": "web"})));
    let handle = fake.handle();
    tokio::spawn(async move {
        // One at a time, while the step watches.
        until(|| handle.request_count(Verb::Watch, "pods") >= 1).await;
        handle
            .set_pod_ready("ns", "web-0", true, None)
            .expect("ready");
        handle
            .set_pod_ready("ns", "web-1", true, None)
            .expect("ready");
    });
    let report = passes(
        &mut ctx,
        "wait: {target: {kind: pod, selector: app=web}, for: ready, timeout: 5s}",
    )
    .await;
    assert_contains(&report.detail, "all 2: web-0, web-1");

    let failure = fails(
        &mut ctx,
        "wait: {target: pod/web-9, for: ready, timeout: 500ms}",
    )
    .await;
    assert_eq!(
        failure.message,
        "pod/web-9 not ready: timed out after 0.5s: the object does not exist yet"
    );
    assert_eq!(failure.expected, "pod/web-9 ready");

    let failure = fails(
        &mut ctx,
        "wait: {target: pod/web-0, for: {phase: Succeeded}, timeout: 300ms}",
    )
    .await;
    assert_contains(&failure.actual, "phase: Running");

    let failure = fails(
        &mut ctx,
        "wait: {target: pod/web-1, for: {matches: {status: {podIP: 10.9.9.9}}}, timeout: 300ms}",
    )
    .await;
    assert_contains(&failure.message, "status.podIP");
}

#[tokio::test(start_paused = true)]
async fn a_wait_never_runs_past_the_scenario_deadline() {
    let fake = TestCluster::start().await;
    let mut ctx = fake.ctx("ns");
    ctx.deadline = Some(Instant::now() + Duration::from_millis(400));
    let started = Instant::now();
    let failure = fails(
        &mut ctx,
        "wait: {target: pod/web-0, for: ready, timeout: 1m}",
    )
    .await;
    assert_eq!(started.elapsed(), Duration::from_millis(400));
    assert_contains(&failure.message, "timed out after 0.4s");
}

#[tokio::test]
async fn a_wait_step_counts_the_watch_calls_it_retried() {
    let fake = TestCluster::start().await;
    let mut ctx = fake.ctx("ns");
    fake.create(pod("ns", "web-0", json!({})));
    fake.ready("ns", "web-0");
    // The first two lists fail as an overloaded server fails them; the third succeeds.
    fake.handle().fail_requests(
        RequestFilter::any().verb(Verb::List).resource("pods"),
        503,
        Lasting::Requests(2),
    );
    let report = passes(
        &mut ctx,
        "wait: {target: pod/web-0, for: ready, timeout: 30s}",
    )
    .await;
    assert!(
        report.detail.starts_with("pod/web-0 ready after ")
            && report.detail.ends_with(" (retried 2 times: 503 ×2)"),
        "{}",
        report.detail
    );
}

#[tokio::test]
async fn a_watch_start_refused_with_410_lists_afresh() {
    let fake = cluster_with_web0(json!({})).await;
    let handle = fake.handle();
    // The request starting the watch is itself answered 410 (API servers send it as a watch
    // event; a proxy or another server may not): resuming from the same resourceVersion
    // cannot help, only a fresh list can.
    handle.fail_requests(
        RequestFilter::any().verb(Verb::Watch).resource("pods"),
        410,
        Lasting::Requests(1),
    );
    let lists_before = handle.request_count(Verb::List, "pods");
    let mut flipped = false;
    let watched = Watched::new(&fake.client, "ns", &web0());
    let deadline = Instant::now() + Duration::from_secs(8);
    let observation = within(
        10,
        wait_for(&watched, deadline, |objects| {
            // Made ready once the first list is in, so only a later look can see it.
            if !flipped {
                flipped = true;
                handle
                    .set_pod_ready("ns", "web-0", true, None)
                    .expect("pod updated");
            }
            ready(objects)
        }),
    )
    .await
    .expect("ready after the fresh list");
    assert_eq!(observation.relists, 1, "{observation:?}");
    assert_eq!(
        handle.request_count(Verb::List, "pods") - lists_before,
        2,
        "a second list"
    );
    assert!(
        observation
            .last_error
            .as_deref()
            .is_some_and(|e| e.starts_with("watch: ") && e.contains("410")),
        "{observation:?}"
    );
}

#[tokio::test]
async fn a_selector_wait_with_a_count_does_not_pass_on_the_objects_left() {
    let fake = TestCluster::start().await;
    let mut ctx = fake.ctx("ns");
    fake.create(pod("ns", "web-0", json!({"app": "web"})));
    fake.ready("ns", "web-0");
    // Every pod there is ready, but two of the three the scenario set up are gone.
    let failure = fails(
        &mut ctx,
        "wait: {target: {kind: pod, selector: app=web}, for: ready, count: 3, timeout: 300ms}",
    )
    .await;
    assert_contains(&failure.message, "1 match, want 3");
    let report = passes(
        &mut ctx,
        "wait: {target: {kind: pod, selector: app=web}, for: ready, count: 1, timeout: 5s}",
    )
    .await;
    assert_contains(&report.detail, "all 1: web-0");
}
