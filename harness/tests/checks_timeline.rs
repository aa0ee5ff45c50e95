//! `timeline` steps over a run the recorder watched on the fake API server: an ordered scale-up
//! and a one-at-a-time scale-down hold, while parallel creation and overlapping deletions are
//! reported with the entries that show them.

mod checks_support;

use checks_support::{TestResult, World};
use petset::timeline::Recorder;
use serde_json::json;
use std::time::Duration;

const NS: &str = "petset-tl";

/// Lets the recorder's watch deliver what the fake just committed, so the recorded order is the
/// order of the test's actions (the assertions order entries by arrival).
async fn settle() {
    tokio::time::sleep(Duration::from_millis(60)).await;
}

#[tokio::test]
async fn ordered_scale_up_and_down_hold_and_violations_are_shown() -> TestResult {
    let mut world = World::start(NS).await?;
    let _recorder = Recorder::start(&world.ctx.client, NS, &world.ctx.timeline);
    settle().await;
    world.passes("mark: up").await;
    for (index, name) in ["web-0", "web-1", "web-2"].iter().enumerate() {
        world.pod(name, json!({"app": "web"}))?;
        settle().await;
        world.ready(name, &format!("10.244.0.{}", 10 + index))?;
        settle().await;
    }
    world
        .passes(
            r#"timeline:
  target: {kind: pod, selector: app=web}
  since: up
  expect:
  - createdInOrder: [web-0, web-1, web-2]
  - readyBeforeNextCreated: [web-0, web-1, web-2]
  - atMost: {count: 3}
  - atMost: {count: 3, state: ready}
"#,
        )
        .await;
    let failure = world
        .fails(
            r#"timeline:
  target: {kind: pod, selector: app=web}
  since: up
  expect:
  - createdWithoutWaiting: [web-0, web-1, web-2]
  - createdInOrder: [web-2, web-1]
"#,
        )
        .await;
    assert!(
        failure
            .message
            .starts_with("timeline of pods -l app=web: pod/web-0 became Ready at +"),
        "{}",
        failure.message
    );
    assert!(
        failure.message.ends_with("(and 1 more assertion violated)"),
        "{}",
        failure.message
    );
    assert_eq!(
        failure.expected,
        "- all created before any is Ready: web-0, web-1, web-2\n- created in order: web-2, web-1"
    );
    assert!(
        failure
            .actual
            .contains("pod/web-0 MODIFIED phase=Running ready=true"),
        "{}",
        failure.actual
    );
    assert!(
        failure.actual.contains("pod/web-1 was created at +"),
        "{}",
        failure.actual
    );

    world.passes("mark: down").await;
    for name in ["web-2", "web-1"] {
        world.fake.delete("v1", "Pod", Some(NS), name)?;
        settle().await;
    }
    world
        .passes(
            r#"timeline:
  target: {kind: pod, selector: app=web}
  since: down
  expect:
  - deletedInOrder: [web-2, web-1]
  - goneBeforeNextDeleted: [web-2, web-1]
  - atLeast: {count: 1, state: ready}
"#,
        )
        .await;
    let failure = world
        .fails(
            r#"timeline:
  target: {kind: pod, selector: app=web}
  since: down
  expect: [{atLeast: {count: 3, state: ready}}]
"#,
        )
        .await;
    assert!(
        failure.message.contains("only 2 pods ready at +"),
        "{}",
        failure.message
    );
    Ok(())
}

#[tokio::test]
async fn overlapping_deletions_and_unknown_marks_fail() -> TestResult {
    let mut world = World::start(NS).await?;
    let _recorder = Recorder::start(&world.ctx.client, NS, &world.ctx.timeline);
    for name in ["db-0", "db-1"] {
        world.fake.create(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": NS, "labels": {"app": "db"}, "finalizers": ["test.petset.dev/hold"]},
            "spec": {"containers": [{"name": "db", "image": "mariadb:11.4"}]},
        }))?;
        settle().await;
    }
    world.passes("mark: down").await;
    // Both deletions start before either pod is gone.
    for name in ["db-1", "db-0"] {
        world.fake.delete("v1", "Pod", Some(NS), name)?;
        settle().await;
    }
    for name in ["db-1", "db-0"] {
        world.fake.patch(
            "v1",
            "Pod",
            Some(NS),
            name,
            json!({"metadata": {"finalizers": null}}),
        )?;
        settle().await;
    }
    world
        .passes(
            r#"timeline:
  target: {kind: pod, selector: app=db}
  since: down
  expect: [{deletedInOrder: [db-1, db-0]}]
"#,
        )
        .await;
    let failure = world
        .fails(
            r#"timeline:
  target: {kind: pod, selector: app=db}
  since: down
  expect: [{goneBeforeNextDeleted: [db-1, db-0]}]
"#,
        )
        .await;
    assert!(
        failure
            .message
            .starts_with("timeline of pods -l app=db: deletion of pod/db-0 started at +"),
        "{}",
        failure.message
    );
    assert!(
        failure
            .message
            .contains("while pod/db-1 was still there (it was gone only at +"),
        "{}",
        failure.message
    );
    assert!(
        failure.actual.contains("pod/db-1 DELETED"),
        "{}",
        failure.actual
    );

    let failure = world
        .fails("timeline: {target: {kind: pod, selector: app=db}, since: never, expect: [{atMost: {count: 1}}]}")
        .await;
    assert_eq!(
        failure.message,
        "timeline: the mark `never` was never set; add `- mark: never` before the steps to check"
    );
    Ok(())
}
