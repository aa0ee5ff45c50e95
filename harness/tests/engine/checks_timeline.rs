//! `timeline` steps over a run the recorder watched on the fake API server: an ordered scale-up
//! and a one-at-a-time scale-down hold, while parallel creation and overlapping deletions are
//! reported with the entries that show them; a violation the recorder's watch delivers late is
//! still caught, and a recorder that cannot catch up gives no verdict.

use crate::checks_support::{TestResult, World};
use crate::support::test_cluster::{assert_contains, assert_ends, assert_starts};
use petset::scenario::model::Kind;
use petset::timeline::{Change, Recorder, TimelineEntry, recorder_caught_up};
use petset_fakeapi::RequestFilter;
use serde_json::json;
use std::time::Duration;

const NS: &str = "petset-tl";

/// How long the fake holds back pod watch events in the late-delivery tests: far longer than a
/// step takes to read the timeline, so a check that does not wait for the recorder misses them.
const LATE: Duration = Duration::from_secs(2);

/// Waits for the recorder to record an entry matching `wanted` (bounded by the caller's step).
async fn recorded(world: &World, wanted: impl Fn(&TimelineEntry) -> bool) {
    let mut live = world.ctx.timeline.subscribe();
    if world.ctx.timeline.snapshot().iter().any(&wanted) {
        return;
    }
    let waited = tokio::time::timeout(Duration::from_secs(10), async {
        while let Ok(entry) = live.recv().await {
            if wanted(&entry) {
                return;
            }
        }
    })
    .await;
    assert!(waited.is_ok(), "the recorder did not record the entry");
}

/// Waits until the recorder's watch of pods has caught up with the API (and so has listed).
async fn recorder_listed(world: &World) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let ctx = &world.ctx;
    let caught_up = recorder_caught_up(
        &ctx.client,
        &ctx.namespace,
        &ctx.timeline,
        Kind::Pod,
        deadline,
    )
    .await;
    assert!(caught_up.is_ok(), "{caught_up:?}");
}

/// A world whose recorder has recorded web-0..2 created after the mark `up`.
async fn three_pods_recorded_since_up() -> Result<(World, Recorder), Box<dyn std::error::Error>> {
    let (mut world, recorder) = recording().await?;
    world.passes("mark: up").await;
    for name in ["web-0", "web-1", "web-2"] {
        world.pod(name, json!({"app": "web"}))?;
    }
    recorded(&world, added("web-2")).await;
    Ok((world, recorder))
}

fn added(name: &'static str) -> impl Fn(&TimelineEntry) -> bool {
    move |entry| entry.name == name && entry.change == Change::Added
}

/// The world on namespace NS with the timeline recorder running, as the engine starts it for a
/// scenario. The recorder stops when it is dropped.
async fn recording() -> Result<(World, Recorder), Box<dyn std::error::Error>> {
    let world = World::start(NS).await?;
    let recorder = Recorder::start(&world.ctx.client, NS, &world.ctx.timeline);
    Ok((world, recorder))
}

/// A `timeline` step over the pods with this label selector since the mark `since`, with the
/// assertions `expect` (a YAML flow sequence).
fn timeline(selector: &str, since: &str, expect: &str) -> String {
    format!(
        "timeline:\n  target: {{kind: pod, selector: {selector}}}\n  since: {since}\n  expect: {expect}\n"
    )
}

#[tokio::test]
async fn a_violation_the_watch_delivers_late_fails_a_count() -> TestResult {
    let (mut world, _recorder) = three_pods_recorded_since_up().await?;
    world
        .fake
        .delay_watch_events(RequestFilter::any().resource("pods"), LATE);
    world.pod("web-3", json!({"app": "web"}))?;
    // The API already has web-3; the recorder's watch delivers it only later.
    let failure = world
        .fails(&timeline("app=web", "up", "[{atMost: {count: 3}}]"))
        .await;
    assert_starts(
        &failure.message,
        "timeline of pods -l app=web: 4 pods existing at +",
    );
    assert_ends(&failure.message, "; expected at most 3");
    assert_contains(&failure.message, "pod/web-3 ADDED");
    Ok(())
}

#[tokio::test]
async fn a_change_the_default_watch_lag_still_holds_back_is_counted() -> TestResult {
    let (mut world, _recorder) = three_pods_recorded_since_up().await?;
    // No injected fault: the fake's watches trail its writes by default, as an API server's
    // watch cache does, so the recorder has not seen web-3 when the step starts reading. Only a
    // step that waits for the recorder to reach the API's resourceVersion counts it.
    world.pod("web-3", json!({"app": "web"}))?;
    let failure = world
        .fails("timeline: {target: {kind: pod, selector: app=web}, since: up, expect: [{atMost: {count: 3}}]}")
        .await;
    assert!(
        failure.message.contains(": 4 pods existing at +")
            && failure.message.contains("pod/web-3 ADDED"),
        "{}",
        failure.message
    );
    Ok(())
}

#[tokio::test]
async fn a_creation_the_watch_delivers_late_is_reported_as_the_ordering_broken() -> TestResult {
    let (mut world, _recorder) = recording().await?;
    world.passes("mark: up").await;
    world.pod("web-0", json!({"app": "web"}))?;
    world.ready("web-0", "10.244.0.10")?;
    world.pod("web-1", json!({"app": "web"}))?;
    recorded(&world, added("web-1")).await;
    world
        .fake
        .delay_watch_events(RequestFilter::any().resource("pods"), LATE);
    // web-2 is created while web-1 is not Ready; the recorder learns of it late.
    world.pod("web-2", json!({"app": "web"}))?;
    let failure = world
        .fails(&timeline(
            "app=web",
            "up",
            "[{readyBeforeNextCreated: [web-0, web-1, web-2]}]",
        ))
        .await;
    assert_starts(
        &failure.message,
        "timeline of pods -l app=web: pod/web-2 was created at +",
    );
    assert_contains(
        &failure.message,
        " while pod/web-1 was not Ready (last seen at +",
    );
    assert_contains(&failure.actual, "pod/web-2 ADDED");
    Ok(())
}

#[tokio::test]
async fn a_recorder_that_cannot_catch_up_gives_no_verdict() -> TestResult {
    let (mut world, _recorder) = recording().await?;
    world.ctx.default_timeout = Duration::from_millis(500);
    world.pod("web-0", json!({"app": "web"}))?;
    recorded(&world, added("web-0")).await;
    // Held back for longer than the step may wait.
    world.fake.delay_watch_events(
        RequestFilter::any().resource("pods"),
        Duration::from_secs(600),
    );
    world.pod("web-1", json!({"app": "web"}))?;
    let failure = world
        .fails("timeline: {target: {kind: pod, selector: app=web}, expect: [{atMost: {count: 2}}]}")
        .await;
    assert_starts(
        &failure.message,
        "timeline of pods -l app=web: petset could not confirm the evidence: after ",
    );
    assert_contains(
        &failure.message,
        "the recorder's watch of pods still had delivered nothing of web-1, which the API \
         lists at resourceVersion \"",
    );

    let failure = world
        .fails("timeline: {target: {kind: configmap, selector: app=web}, expect: [{atMost: {count: 2}}]}")
        .await;
    assert_contains(
        &failure.message,
        ": the timeline records no configmaps; it follows pods, ",
    );
    Ok(())
}

#[tokio::test]
async fn ordered_scale_up_and_down_hold_and_violations_are_shown() -> TestResult {
    let (mut world, _recorder) = recording().await?;
    // Once the recorder has listed the pods, its watch delivers every change on its own, in the
    // order they were made; each timeline step first waits for the recorder to catch up, so a
    // mark after it comes after them too.
    recorder_listed(&world).await;
    world.passes("mark: up").await;
    for (index, name) in ["web-0", "web-1", "web-2"].iter().enumerate() {
        world.pod(name, json!({"app": "web"}))?;
        world.ready(name, &format!("10.244.0.{}", 10 + index))?;
    }
    world
        .passes(&timeline(
            "app=web",
            "up",
            "[{createdInOrder: [web-0, web-1, web-2]}, \
             {readyBeforeNextCreated: [web-0, web-1, web-2]}, \
             {atMost: {count: 3}}, {atMost: {count: 3, state: ready}}]",
        ))
        .await;
    let failure = world
        .fails(&timeline(
            "app=web",
            "up",
            "[{createdWithoutWaiting: [web-0, web-1, web-2]}, {createdInOrder: [web-2, web-1]}]",
        ))
        .await;
    assert_starts(
        &failure.message,
        "timeline of pods -l app=web: pod/web-0 became Ready at +",
    );
    assert_ends(&failure.message, "(and 1 more assertion violated)");
    assert_eq!(
        failure.expected,
        "- all created before any is Ready: web-0, web-1, web-2\n- created in order: web-2, web-1"
    );
    assert_contains(
        &failure.actual,
        "pod/web-0 MODIFIED phase=Running ready=true",
    );
    assert_contains(&failure.actual, "pod/web-1 was created at +");

    world.passes("mark: down").await;
    for name in ["web-2", "web-1"] {
        world.fake.delete("v1", "Pod", Some(NS), name)?;
    }
    world
        .passes(&timeline(
            "app=web",
            "down",
            "[{deletedInOrder: [web-2, web-1]}, {goneBeforeNextDeleted: [web-2, web-1]}, \
             {atLeast: {count: 1, state: ready}}]",
        ))
        .await;
    let failure = world
        .fails(&timeline(
            "app=web",
            "down",
            "[{atLeast: {count: 3, state: ready}}]",
        ))
        .await;
    assert_contains(&failure.message, "only 2 pods ready at +");
    Ok(())
}

#[tokio::test]
async fn overlapping_deletions_and_unknown_marks_fail() -> TestResult {
    let (mut world, _recorder) = recording().await?;
    for name in ["db-0", "db-1"] {
        world.fake.create(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": NS, "labels": {"app": "db"}, "finalizers": ["test.petset.dev/hold"]},
            "spec": {"containers": [{"name": "db", "image": "mariadb:11.4"}]},
        }))?;
    }
    // The creations come before the mark.
    recorded(&world, added("db-1")).await;
    world.passes("mark: down").await;
    // Both deletions start before either pod is gone.
    for name in ["db-1", "db-0"] {
        world.fake.delete("v1", "Pod", Some(NS), name)?;
    }
    for name in ["db-1", "db-0"] {
        world.fake.patch(
            "v1",
            "Pod",
            Some(NS),
            name,
            json!({"metadata": {"finalizers": null}}),
        )?;
    }
    world
        .passes(&timeline(
            "app=db",
            "down",
            "[{deletedInOrder: [db-1, db-0]}]",
        ))
        .await;
    let failure = world
        .fails(&timeline(
            "app=db",
            "down",
            "[{goneBeforeNextDeleted: [db-1, db-0]}]",
        ))
        .await;
    assert_starts(
        &failure.message,
        "timeline of pods -l app=db: deletion of pod/db-0 started at +",
    );
    assert_contains(
        &failure.message,
        "while pod/db-1 was still there (it was gone only at +",
    );
    assert_contains(&failure.actual, "pod/db-1 DELETED");

    let failure = world
        .fails("timeline: {target: {kind: pod, selector: app=db}, since: never, expect: [{atMost: {count: 1}}]}")
        .await;
    assert_eq!(
        failure.message,
        "timeline: the mark `never` was never set; add `- mark: never` before the steps to check"
    );
    Ok(())
}

#[tokio::test]
async fn a_change_made_before_a_mark_stays_before_it_however_late_the_watch_delivers_it()
-> TestResult {
    let (mut world, _recorder) = recording().await?;
    world.pod("web-0", json!({"app": "web"}))?;
    recorded(&world, added("web-0")).await;
    world
        .fake
        .delay_watch_events(RequestFilter::any().resource("pods"), LATE);
    // The API has web-1 before the mark is set; the recorder's watch delivers it only later.
    world.pod("web-1", json!({"app": "web"}))?;
    world.passes("mark: after").await;
    let entries = world.ctx.timeline.snapshot();
    let position = |wanted: &dyn Fn(&TimelineEntry) -> bool| entries.iter().position(wanted);
    let created = position(&added("web-1"));
    let mark = position(&|entry: &TimelineEntry| entry.change == Change::Mark("after".into()));
    assert!(
        matches!((created, mark), (Some(created), Some(mark)) if created < mark),
        "web-1 ADDED at {created:?}, the mark at {mark:?}"
    );
    Ok(())
}
