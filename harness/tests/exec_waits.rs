//! The wait primitive and the `wait` step against the fake API server: met by a watch event,
//! surviving cut watches and 410 Gone, retrying 500s, and reporting the last state at the deadline.

mod exec_support;

use exec_support::{Fake, pod, step, within};
use petset::scenario::model::{Kind, Target};
use petset::steps::run_step;
use petset::wait::{Verdict, WaitError, Watched, wait_for};
use petset_fakeapi::{Lasting, RequestFilter, Verb};
use serde_json::json;
use std::time::Duration;
use tokio::time::Instant;

fn web0() -> Target {
    Target::object(Kind::Pod, "web-0")
}

fn ready(objects: &[kube::api::DynamicObject]) -> Verdict {
    let values: Vec<_> = objects.iter().map(petset::api::to_value).collect();
    petset::wait::evaluate(
        &petset::scenario::model::WaitFor::Ready,
        Kind::Pod,
        true,
        &values,
    )
}

#[tokio::test]
async fn a_wait_is_met_by_the_watch_event_that_satisfies_it() {
    let fake = Fake::start().await;
    fake.namespace("ns");
    fake.create(pod("ns", "web-0", json!({"app": "web"})));
    let handle = fake.handle();
    let flip = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        handle
            .set_pod_ready("ns", "web-0", true, Some("10.0.0.1"))
            .expect("pod updated");
        Instant::now()
    });
    let watched = Watched::new(&fake.client, "ns", &web0());
    let observation = within(
        10,
        wait_for(&watched, Instant::now() + Duration::from_secs(5), ready),
    )
    .await
    .expect("the pod becomes ready");
    let returned = Instant::now();
    let flipped = flip.await.expect("flip task");
    assert!(
        observation.waited >= Duration::from_millis(250),
        "{observation:?}"
    );
    // Watch-driven: the wait returns right after the event, not at a polling tick.
    assert!(returned.duration_since(flipped) < Duration::from_millis(200));
    assert_eq!(observation.objects.len(), 1);
    assert_eq!(observation.relists, 0);
}

#[tokio::test]
async fn a_wait_survives_a_cut_watch_stream() {
    let fake = Fake::start().await;
    fake.namespace("ns");
    fake.create(pod("ns", "web-0", json!({})));
    let handle = fake.handle();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        handle.cut_watches();
        // Changed while the client reconnects: it must resume and still see this.
        handle
            .set_pod_ready("ns", "web-0", true, None)
            .expect("pod updated");
    });
    let watched = Watched::new(&fake.client, "ns", &web0());
    let observation = within(
        10,
        wait_for(&watched, Instant::now() + Duration::from_secs(5), ready),
    )
    .await
    .expect("ready despite the cut");
    assert!(observation.reason.contains("web-0"), "{observation:?}");
}

#[tokio::test]
async fn a_wait_relists_after_410_gone_and_still_completes() {
    let fake = Fake::start().await;
    fake.namespace("ns");
    fake.create(pod("ns", "web-0", json!({})));
    let handle = fake.handle();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        // The next watch (the reconnect after the cut) is answered 410 Gone: only a relist helps.
        handle.expire_watches(Lasting::Requests(1));
        handle.cut_watches();
        tokio::time::sleep(Duration::from_millis(50)).await;
        handle
            .set_pod_ready("ns", "web-0", true, None)
            .expect("pod updated");
    });
    let watched = Watched::new(&fake.client, "ns", &web0());
    let observation = within(
        10,
        wait_for(&watched, Instant::now() + Duration::from_secs(8), ready),
    )
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
    let fake = Fake::start().await;
    fake.namespace("ns");
    fake.create(pod("ns", "web-0", json!({})));
    fake.handle()
        .set_pod_ready("ns", "web-0", true, None)
        .expect("pod updated");
    fake.handle().fail_requests(
        RequestFilter::any().resource("pods"),
        500,
        Lasting::For(Duration::from_millis(800)),
    );
    let started = Instant::now();
    let watched = Watched::new(&fake.client, "ns", &web0());
    let observation = within(
        10,
        wait_for(&watched, Instant::now() + Duration::from_secs(6), ready),
    )
    .await
    .expect("ready once the API recovers");
    assert!(started.elapsed() >= Duration::from_millis(700));
    assert!(observation.errors >= 1, "{observation:?}");
    assert!(
        observation
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("500")),
        "{observation:?}"
    );
    assert!(fake.handle().request_count(Verb::List, "pods") >= 2);
}

#[tokio::test]
async fn at_the_deadline_the_failure_shows_the_last_observed_state() {
    let fake = Fake::start().await;
    fake.namespace("ns");
    fake.create(pod("ns", "web-0", json!({"app": "web"})));
    let watched = Watched::new(&fake.client, "ns", &web0());
    let started = Instant::now();
    let error = within(
        10,
        wait_for(&watched, Instant::now() + Duration::from_millis(700), ready),
    )
    .await
    .expect_err("never ready");
    assert!(started.elapsed() >= Duration::from_millis(700));
    assert!(started.elapsed() < Duration::from_secs(3));
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

#[tokio::test]
async fn the_wait_step_passes_on_a_selector_and_fails_with_the_last_state() {
    let fake = Fake::start().await;
    let mut ctx = fake.ctx("ns");
    fake.create(pod("ns", "web-0", json!({"app": "web"})));
    fake.create(pod("ns", "web-1", json!({"app": "web"})));
    let handle = fake.handle();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        handle
            .set_pod_ready("ns", "web-0", true, None)
            .expect("ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
        handle
            .set_pod_ready("ns", "web-1", true, None)
            .expect("ready");
    });
    let wait = step("wait: {target: {kind: pod, selector: app=web}, for: ready, timeout: 5s}");
    let report = within(10, run_step(&wait, &mut ctx))
        .await
        .expect("both ready");
    assert!(
        report.detail.contains("all 2: web-0, web-1"),
        "{}",
        report.detail
    );

    let wait = step("wait: {target: pod/web-9, for: ready, timeout: 500ms}");
    let failure = within(10, run_step(&wait, &mut ctx))
        .await
        .expect_err("no such pod");
    assert_eq!(
        failure.message,
        "pod/web-9 not ready: timed out after 0.5s: the object does not exist yet"
    );
    assert_eq!(failure.expected, "pod/web-9 ready");

    let wait = step("wait: {target: pod/web-0, for: {phase: Succeeded}, timeout: 300ms}");
    let failure = within(10, run_step(&wait, &mut ctx))
        .await
        .expect_err("still running");
    assert!(
        failure.actual.contains("phase: Running"),
        "{}",
        failure.actual
    );

    let wait = step(
        "wait: {target: pod/web-1, for: {matches: {status: {podIP: 10.9.9.9}}}, timeout: 300ms}",
    );
    let failure = within(10, run_step(&wait, &mut ctx))
        .await
        .expect_err("no such IP");
    assert!(
        failure.message.contains("status.podIP"),
        "{}",
        failure.message
    );
}

#[tokio::test]
async fn a_wait_never_runs_past_the_scenario_deadline() {
    let fake = Fake::start().await;
    let mut ctx = fake.ctx("ns");
    ctx.deadline = Some(Instant::now() + Duration::from_millis(400));
    let wait = step("wait: {target: pod/web-0, for: ready, timeout: 1m}");
    let started = Instant::now();
    let failure = within(10, run_step(&wait, &mut ctx))
        .await
        .expect_err("no pod");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(
        failure.message.contains("timed out after 0.4s"),
        "{}",
        failure.message
    );
}

#[tokio::test]
async fn a_selector_wait_with_a_count_does_not_pass_on_the_objects_left() {
    let fake = Fake::start().await;
    let mut ctx = fake.ctx("ns");
    fake.create(pod("ns", "web-0", json!({"app": "web"})));
    fake.handle()
        .set_pod_ready("ns", "web-0", true, None)
        .expect("ready");
    // Every pod there is ready, but two of the three the scenario set up are gone.
    let wait = step(
        "wait: {target: {kind: pod, selector: app=web}, for: ready, count: 3, timeout: 300ms}",
    );
    let failure = within(10, run_step(&wait, &mut ctx))
        .await
        .expect_err("one pod is not three");
    assert!(
        failure.message.contains("1 match, want 3"),
        "{}",
        failure.message
    );
    let wait =
        step("wait: {target: {kind: pod, selector: app=web}, for: ready, count: 1, timeout: 5s}");
    let report = within(10, run_step(&wait, &mut ctx))
        .await
        .expect("the one pod is ready");
    assert!(report.detail.contains("all 1: web-0"), "{}", report.detail);
}
