//! The timeline recorder against the fake API server: what it records of each kind, the PVs of
//! the namespace's claims only, and deletions it learns of by relisting after 410 Gone.
//!
//! What the recorder did not record is asserted once it has caught up with the API server (the
//! same barrier a `timeline` step waits for), never after a pause.

use crate::support::test_cluster::{TestCluster, pod, until, within};
use petset::scenario::model::Kind;
use petset::timeline::{Change, Recorder, Timeline, TimelineEntry, recorder_caught_up};
use petset_fakeapi::{Lasting, Verb};
use serde_json::json;
use std::time::Duration;

/// Waits until an entry matching `wanted` is recorded, woken by each new entry.
async fn recorded(timeline: &Timeline, wanted: impl Fn(&TimelineEntry) -> bool) -> TimelineEntry {
    let mut live = timeline.subscribe();
    if let Some(entry) = timeline.snapshot().into_iter().find(|e| wanted(e)) {
        return entry;
    }
    within(10, async {
        loop {
            match live.recv().await {
                Ok(entry) if wanted(&entry) => return entry,
                Ok(_) => {}
                // Fell behind the broadcast: the snapshot has everything.
                Err(_) => {
                    if let Some(entry) = timeline.snapshot().into_iter().find(|e| wanted(e)) {
                        return entry;
                    }
                    live = timeline.subscribe();
                }
            }
        }
    })
    .await
}

/// Waits until the recorder's watch of `kind` has delivered everything the API server holds now.
async fn caught_up(fake: &TestCluster, timeline: &Timeline, kind: Kind) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let result = recorder_caught_up(&fake.client, "ns", timeline, kind, deadline).await;
    assert!(result.is_ok(), "{result:?}");
}

fn is(entry: &TimelineEntry, name: &str, change: &Change) -> bool {
    entry.name == name && &entry.change == change
}

#[tokio::test]
async fn records_pods_claims_workloads_and_the_namespace_pvs() {
    let fake = TestCluster::start().await;
    fake.namespace("ns");
    fake.namespace("other");
    let timeline = Timeline::new();
    let _recorder = Recorder::start(&fake.client, "ns", &timeline);
    let handle = fake.handle();

    let mut web0 = pod(
        "ns",
        "web-0",
        json!({"app": "web", "controller-revision-hash": "web-abc",
        "apps.kubernetes.io/pod-index": "0"}),
    );
    web0["spec"]["nodeName"] = json!("node-a");
    fake.create(web0);
    recorded(&timeline, |e| is(e, "web-0", &Change::Added)).await;
    handle
        .set_pod_ready("ns", "web-0", true, Some("10.0.0.9"))
        .expect("ready");
    let ready = recorded(&timeline, |e| {
        is(e, "web-0", &Change::Modified) && e.ready == Some(true)
    })
    .await;
    assert_eq!(
        ready.to_line().split_once(' ').map(|(_, rest)| rest),
        Some(
            "pod/web-0 MODIFIED phase=Running ready=true revision=web-abc node=node-a ordinal=0 ip=10.0.0.9"
        )
    );

    fake.create(json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "www-web-0", "namespace": "ns"}, "spec": {}}));
    handle.bind_pvc("ns", "www-web-0", "pv-7").expect("bound");
    let bound = recorded(&timeline, |e| {
        e.name == "www-web-0" && e.phase.as_deref() == Some("Bound")
    })
    .await;
    assert_eq!(bound.volume_name.as_deref(), Some("pv-7"));

    for (name, ns) in [("pv-7", "ns"), ("pv-8", "other")] {
        fake.create(
            json!({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name},
            "spec": {"persistentVolumeReclaimPolicy": "Retain",
                     "claimRef": {"namespace": ns, "name": "www-web-0"}},
            "status": {"phase": "Bound"}}),
        );
    }
    let pv = recorded(&timeline, |e| e.name == "pv-7").await;
    assert!(
        pv.detail.contains("claim=ns/www-web-0 reclaim=Retain"),
        "{}",
        pv.detail
    );

    fake.create(json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "web", "namespace": "ns"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}}, "template": {"spec": {"containers": []}}},
        "status": {"replicas": 1, "readyReplicas": 1, "updateRevision": "web-abc", "currentRevision": "web-abc"}}));
    let sts = recorded(&timeline, |e| e.name == "web" && e.ready == Some(true)).await;
    assert_eq!(sts.revision.as_deref(), Some("web-abc"));

    handle
        .delete("v1", "Pod", Some("ns"), "web-0")
        .expect("deleted");
    recorded(&timeline, |e| is(e, "web-0", &Change::Deleted)).await;
    // Caught up with the API as of now, the recorder has been delivered pv-8 as well.
    caught_up(&fake, &timeline, Kind::PersistentVolume).await;
    assert!(
        timeline.snapshot().iter().all(|e| e.name != "pv-8"),
        "another namespace's PV is not recorded"
    );
    // Unchanged re-writes add nothing.
    let before = timeline
        .snapshot()
        .iter()
        .filter(|e| e.name == "web")
        .count();
    handle
        .patch(
            "apps/v1",
            "StatefulSet",
            Some("ns"),
            "web",
            json!({"metadata": {"annotations": {"x": "y"}}}),
        )
        .expect("patched");
    caught_up(&fake, &timeline, Kind::StatefulSet).await;
    assert_eq!(
        timeline
            .snapshot()
            .iter()
            .filter(|e| e.name == "web")
            .count(),
        before
    );
}

#[tokio::test]
async fn a_deletion_missed_during_a_410_is_recorded_after_the_relist() {
    let fake = TestCluster::start().await;
    fake.namespace("ns");
    let timeline = Timeline::new();
    let mut recorder = Recorder::start(&fake.client, "ns", &timeline);
    let handle = fake.handle();
    fake.create(pod("ns", "web-1", json!({})));
    recorded(&timeline, |e| is(e, "web-1", &Change::Added)).await;

    // Every watch is refused with 410, so the recorder cannot resume: the pod is deleted once
    // its reconnect has been refused, and only a fresh list shows that it is gone.
    let watches = handle.request_count(Verb::Watch, "pods");
    handle.expire_watches(Lasting::Always);
    // A watch counted may not have opened its stream yet: cut until the recorder reconnects.
    until(|| {
        handle.cut_watches();
        handle.request_count(Verb::Watch, "pods") > watches
    })
    .await;
    handle
        .delete("v1", "Pod", Some("ns"), "web-1")
        .expect("deleted");
    let gone = recorded(&timeline, |e| is(e, "web-1", &Change::Deleted)).await;
    assert_eq!(gone.kind, Some(Kind::Pod));
    handle.clear_faults();
    recorder.stop();
}
