//! `assert` and `observe` against the fake API server: partial objects with operators, lists,
//! counts and absence; `eventually` reacting to the watch event that satisfies it; failures with
//! field-level diffs; observations that pass when nothing changes and fail at the first change.

use crate::checks_support::{TestResult, World};
use petset_fakeapi::{RequestFilter, Verb};
use serde_json::json;
use std::time::Duration;
use tokio::time::Instant;

const NS: &str = "petset-checks";

async fn three_pods() -> Result<World, Box<dyn std::error::Error>> {
    let world = World::start(NS).await?;
    for (index, name) in ["web-0", "web-1", "web-2"].iter().enumerate() {
        world.pod(name, json!({"app": "web"}))?;
        world.ready(name, &format!("10.244.0.{}", 10 + index))?;
    }
    world.pod("db-0", json!({"app": "db"}))?;
    Ok(world)
}

#[tokio::test]
async fn assert_matches_a_partial_object_with_operators() -> TestResult {
    let mut world = three_pods().await?;
    world.fake.set_status(
        "v1",
        "Pod",
        Some(NS),
        "web-0",
        json!({
            "containerStatuses": [
                {"name": "main", "restartCount": 2, "ready": true},
                {"name": "sidecar", "restartCount": 0, "ready": true},
            ],
        }),
    )?;
    let report = world
        .passes(
            r#"assert:
  target: pod/web-0
  matches:
    metadata: {labels: {app: web}}
    status:
      phase: Running
      podIP: {$regex: "^10\\.244\\."}
      containerStatuses:
      - {name: sidecar}
      - {restartCount: {$gt: 0}}
"#,
        )
        .await;
    assert!(report.detail.contains("web-0"), "{}", report.detail);
    Ok(())
}

#[tokio::test]
async fn assert_failure_shows_the_field_diff() -> TestResult {
    let mut world = three_pods().await?;
    world.fake.set_status(
        "v1",
        "Pod",
        Some(NS),
        "web-1",
        json!({
            "containerStatuses": [{"name": "main", "restartCount": 0}],
        }),
    )?;
    let failure = world
        .fails(
            r#"assert:
  target: pod/web-1
  matches:
    status:
      phase: Running
      containerStatuses: [{restartCount: {$gt: 0}}]
"#,
        )
        .await;
    assert_eq!(
        failure.message,
        "assert pod/web-1: status.containerStatuses[0].restartCount: expected > 0, got 0"
    );
    assert_eq!(
        failure.expected,
        "matches:\n  status:\n    containerStatuses:\n    - restartCount:\n        $gt: 0\n    phase: Running\n"
    );
    assert!(
        failure.actual.starts_with(
            "status:\n  containerStatuses:\n  - restartCount: 0\n  phase: Running\ndifferences:\n"
        ),
        "{}",
        failure.actual
    );
    Ok(())
}

#[tokio::test]
async fn assert_on_lists_count_each_items_and_absence() -> TestResult {
    let mut world = three_pods().await?;
    world
        .passes(
            r#"assert:
  target: {kind: pod, selector: app=web}
  count: 3
  each: {status: {phase: Running}}
  items:
  - {metadata: {name: web-2}}
  - {status: {podIP: 10.244.0.10}}
"#,
        )
        .await;
    world
        .passes(
            r#"assert:
  target: {kind: pod, selector: "app in (web), !legacy"}
  itemsMatch: ordered
  items:
  - {metadata: {name: web-0}}
  - {metadata: {name: web-1}}
  - {metadata: {name: web-2}}
"#,
        )
        .await;
    world
        .passes("assert: {target: pod/web-9, absent: true}")
        .await;

    let failure = world
        .fails("assert: {target: {kind: pod, selector: app=db}, each: {status: {phase: Running}}}")
        .await;
    assert_eq!(
        failure.message,
        "assert pods -l app=db: db-0: status.phase: expected \"Running\", got \"Pending\""
    );
    let failure = world
        .fails("assert: {target: {kind: pod, selector: app=web}, count: 2}")
        .await;
    assert_eq!(
        failure.message,
        "assert pods -l app=web: expected 2 objects, got 3: web-0, web-1, web-2"
    );
    let failure = world
        .fails("assert: {target: pod/web-1, absent: true}")
        .await;
    assert_eq!(
        failure.message,
        "assert pod/web-1: expected no matching object, got web-1"
    );
    let failure = world
        .fails(
            r#"assert:
  target: {kind: pod, selector: app=web}
  itemsMatch: exact
  items: [{metadata: {name: web-0}}, {metadata: {name: web-1}}]
"#,
        )
        .await;
    assert!(
        failure
            .message
            .contains("expected exactly 2 objects, got 3"),
        "{}",
        failure.message
    );
    Ok(())
}

#[tokio::test]
async fn assert_rejects_an_invalid_operator_before_reading_anything() -> TestResult {
    let mut world = three_pods().await?;
    let failure = world
        .fails("assert: {target: pod/web-0, matches: {status: {phase: {$like: Run}}}}")
        .await;
    assert_eq!(
        failure.message,
        "assert pod/web-0: the expectation is invalid"
    );
    assert!(
        failure.actual.contains("unknown operator `$like`"),
        "{}",
        failure.actual
    );
    Ok(())
}

// Paused time: the clock moves only when every task waits, so the durations below are the
// step's own, whatever the machine's load.
#[tokio::test(start_paused = true)]
async fn assert_eventually_returns_on_the_satisfying_event() -> TestResult {
    let mut world = three_pods().await?;
    world.pod("web-3", json!({"app": "web"}))?;
    let fake = world.fake.clone();
    let started = Instant::now();
    let flip = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        fake.set_pod_ready(NS, "web-3", true, Some("10.244.0.13"))
    });
    let report = world
        .passes(
            r#"assert:
  target: pod/web-3
  matches: {status: {conditions: [{type: Ready, status: "True"}]}}
  eventually: 20s
"#,
        )
        .await;
    let took = started.elapsed();
    flip.await??;
    assert!(
        took >= Duration::from_millis(300),
        "passed before the change: {took:?}"
    );
    // Watch-driven: done at the change, not at a later polling tick.
    assert!(
        took < Duration::from_millis(400),
        "watch-driven, not polled: {took:?}"
    );
    assert!(report.detail.contains("after"), "{}", report.detail);
    Ok(())
}

// Paused time: the clock moves only when every task waits, so the durations below are the
// step's own, whatever the machine's load.
#[tokio::test(start_paused = true)]
async fn assert_eventually_fails_with_the_last_state_seen() -> TestResult {
    let mut world = three_pods().await?;
    let started = Instant::now();
    let failure = world
        .fails("assert: {target: pod/db-0, matches: {status: {phase: Running}}, eventually: 1s}")
        .await;
    assert_eq!(started.elapsed(), Duration::from_secs(1));
    assert!(
        failure.message.starts_with(
            "assert pod/db-0: status.phase: expected \"Running\", got \"Pending\" (still so after"
        ),
        "{}",
        failure.message
    );
    assert!(failure.message.ends_with("of 1s)"), "{}", failure.message);
    assert!(
        failure.actual.contains("differences:"),
        "{}",
        failure.actual
    );
    Ok(())
}

// Paused time: the clock moves only when every task waits, so the durations below are the
// step's own, whatever the machine's load.
#[tokio::test(start_paused = true)]
async fn observe_passes_when_nothing_changes() -> TestResult {
    let mut world = three_pods().await?;
    let started = Instant::now();
    let report = world
        .passes(
            r#"observe:
  target: {kind: pod, selector: app=web}
  during: 600ms
  count: 3
  keeps: {status: {phase: Running}}
"#,
        )
        .await;
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "watched the whole time"
    );
    assert!(
        report.detail.contains("held for 600ms"),
        "{}",
        report.detail
    );
    world
        .passes("observe: {target: pod/web-7, during: 300ms, absent: true}")
        .await;
    world
        .passes("observe: {target: {kind: pod, selector: app=web}, during: 300ms}")
        .await;
    Ok(())
}

// Paused time: the clock moves only when every task waits, so the durations below are the
// step's own, whatever the machine's load.
#[tokio::test(start_paused = true)]
async fn observe_fails_at_the_first_change() -> TestResult {
    let mut world = three_pods().await?;
    let fake = world.fake.clone();
    let add = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        fake.create(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web-3", "namespace": NS, "labels": {"app": "web", "late": "yes"}},
            "spec": {"containers": [{"name": "main", "image": "busybox:1.36.1"}]},
        }))
    });
    let started = Instant::now();
    let failure = world
        .fails("observe: {target: {kind: pod, selector: app=web}, during: 20s, count: 3}")
        .await;
    add.await??;
    assert!(
        started.elapsed() < Duration::from_millis(400),
        "failed at the event, not at the end: {:?}",
        started.elapsed()
    );
    assert!(
        failure.message.starts_with(
            "observe pods -l app=web: expected the count to stay 3, got 4: web-0, web-1, web-2, web-3 after "
        ),
        "{}",
        failure.message
    );
    assert!(
        failure.message.contains("of 20s (at +"),
        "{}",
        failure.message
    );
    assert_eq!(failure.expected, "count: 3\n");

    let fake = world.fake.clone();
    let unready = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        fake.set_pod_ready(NS, "web-1", false, Some("10.244.0.11"))
    });
    let failure = world
        .fails(
            r#"observe:
  target: {kind: pod, selector: "app=web,!late"}
  during: 20s
  keeps: {status: {conditions: [{type: Ready, status: "True"}]}}
"#,
        )
        .await;
    unready.await??;
    assert!(
        failure.message.contains(": web-1: status.conditions: "),
        "{}",
        failure.message
    );
    assert!(failure.actual.contains("name: web-1"), "{}", failure.actual);
    Ok(())
}

#[tokio::test]
async fn observe_catches_a_change_the_watch_delivers_after_the_window() -> TestResult {
    let mut world = three_pods().await?;
    let fake = world.fake.clone();
    // Pod watch events reach petset 2s late: a change made early in a 1s window arrives after it.
    fake.delay_watch_events(
        RequestFilter::any().resource("pods"),
        Duration::from_secs(2),
    );
    let lists_before = fake.request_count(Verb::List, "pods");
    let add = tokio::spawn(async move {
        // Once the observation has listed the pods, the window is open.
        while fake.request_count(Verb::List, "pods") == lists_before {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        fake.create(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web-3", "namespace": NS, "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "main", "image": "busybox:1.36.1"}]},
        }))
    });
    let failure = world
        .fails("observe: {target: {kind: pod, selector: app=web}, during: 1s, count: 3}")
        .await;
    add.await??;
    assert!(
        failure.message.starts_with(
            "observe pods -l app=web: expected the count to stay 3, got 4: web-0, web-1, web-2, \
             web-3 delivered by the watch "
        ),
        "{}",
        failure.message
    );
    assert!(
        failure
            .message
            .contains("s after the 1s window ended, as it caught up (at +"),
        "{}",
        failure.message
    );

    // With the watch still late, an observation that holds is confirmed and passes.
    let report = world
        .passes("observe: {target: {kind: pod, selector: app=web}, during: 300ms, count: 4}")
        .await;
    assert!(
        report.detail.contains("held for 300ms"),
        "{}",
        report.detail
    );
    Ok(())
}

#[tokio::test]
async fn observe_fails_when_the_target_is_wrong_from_the_start() -> TestResult {
    let mut world = three_pods().await?;
    let failure = world
        .fails("observe: {target: pod/web-0, during: 10s, absent: true}")
        .await;
    assert!(
        failure.message.starts_with(
            "observe pod/web-0: expected no matching object, got web-0 appeared after"
        ),
        "{}",
        failure.message
    );
    Ok(())
}

#[tokio::test]
async fn an_unmatched_item_reads_as_yaml_with_its_field_differences() -> TestResult {
    let mut world = three_pods().await?;
    let failure = world
        .fails(
            r#"assert:
  target: {kind: pod, selector: app=web}
  items:
  - metadata: {name: web-1}
    status: {phase: Failed, podIP: 10.244.0.11}
"#,
        )
        .await;
    assert_eq!(
        failure.message,
        "assert pods -l app=web: item [0]: expected an object matching \
         {metadata: {name: web-1}, status: {phase: Failed, podIP: 10.244.0.11}}, got none of 3 \
         objects; the nearest is web-1 (and 1 more difference)"
    );
    let differences = failure
        .actual
        .split_once("differences:\n")
        .map(|(_, tail)| tail)
        .unwrap_or_default();
    assert_eq!(
        differences,
        "  - item [0]:
    expected an object matching:
      metadata:
        name: web-1
      status:
        phase: Failed
        podIP: 10.244.0.11
    got none of 3 objects; the nearest is web-1
  - web-1: status.phase: expected \"Failed\", got \"Running\"
"
    );
    assert!(!failure.actual.contains("{\""), "{}", failure.actual);
    Ok(())
}
