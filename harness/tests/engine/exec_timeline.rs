//! The timeline recorder against the fake API server: what it records of each kind, the PVs of
//! the namespace's claims only, and deletions it learns of by relisting after 410 Gone.

use crate::exec_support::{Fake, pod, within};
use petset::timeline::{Change, Recorder, Timeline, TimelineEntry};
use petset_fakeapi::Lasting;
use serde_json::json;
use std::time::Duration;

/// Waits until an entry matching `wanted` is recorded.
async fn recorded(timeline: &Timeline, wanted: impl Fn(&TimelineEntry) -> bool) -> TimelineEntry {
    within(10, async {
        loop {
            if let Some(entry) = timeline.snapshot().into_iter().find(|e| wanted(e)) {
                return entry;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
}

fn is(entry: &TimelineEntry, name: &str, change: &Change) -> bool {
    entry.name == name && &entry.change == change
}

#[tokio::test]
async fn records_pods_claims_workloads_and_the_namespace_pvs() {
    let fake = Fake::start().await;
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
    tokio::time::sleep(Duration::from_millis(200)).await;
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
    tokio::time::sleep(Duration::from_millis(200)).await;
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
    let fake = Fake::start().await;
    fake.namespace("ns");
    let timeline = Timeline::new();
    let mut recorder = Recorder::start(&fake.client, "ns", &timeline);
    let handle = fake.handle();
    fake.create(pod("ns", "web-1", json!({})));
    recorded(&timeline, |e| is(e, "web-1", &Change::Added)).await;

    // Every watch is refused with 410 for a while, so the recorder cannot resume: the pod is
    // deleted while it is relisting, and only the fresh list shows that it is gone.
    handle.expire_watches(Lasting::For(Duration::from_millis(600)));
    handle.cut_watches();
    tokio::time::sleep(Duration::from_millis(150)).await;
    handle
        .delete("v1", "Pod", Some("ns"), "web-1")
        .expect("deleted");
    let gone = recorded(&timeline, |e| is(e, "web-1", &Change::Deleted)).await;
    assert_eq!(gone.kind, Some(petset::scenario::model::Kind::Pod));
    recorder.stop();
}
