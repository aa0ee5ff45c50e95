//! Unit tests for the wait conditions.

use super::*;
use serde_json::json;

fn pod(name: &str, phase: &str, ready: &str) -> Value {
    json!({
        "metadata": {"name": name},
        "status": {"phase": phase, "conditions": [{"type": "Ready", "status": ready}]}
    })
}

fn sts(replicas: i64, ready: i64, updated: i64, current: &str, update: &str) -> Value {
    json!({
        "metadata": {"name": "web", "generation": 2},
        "spec": {"replicas": replicas},
        "status": {
            "observedGeneration": 2, "replicas": replicas, "readyReplicas": ready,
            "updatedReplicas": updated, "currentRevision": current, "updateRevision": update
        }
    })
}

#[test]
fn pod_ready_needs_running_and_the_ready_condition() {
    let ready = [pod("web-0", "Running", "True")];
    assert!(evaluate(&WaitFor::Ready, Kind::Pod, true, &ready).is_met());
    let unready = [pod("web-0", "Running", "False")];
    assert_eq!(
        evaluate(&WaitFor::Ready, Kind::Pod, true, &unready),
        WaitVerdict::NotYet("web-0: Running, Ready=False".into())
    );
    let pending = [pod("web-0", "Pending", "False")];
    assert!(matches!(
        evaluate(&WaitFor::Ready, Kind::Pod, true, &pending),
        WaitVerdict::NotYet(reason) if reason.contains("phase Pending")
    ));
    let failed = [pod("web-0", "Failed", "False")];
    assert!(matches!(
        evaluate(&WaitFor::Ready, Kind::Pod, true, &failed),
        WaitVerdict::Impossible(_)
    ));
}

#[test]
fn a_missing_object_is_not_ready_and_a_deleting_one_neither() {
    assert!(matches!(
        evaluate(&WaitFor::Ready, Kind::Pod, true, &[]),
        WaitVerdict::NotYet(reason) if reason.contains("does not exist")
    ));
    let mut deleting = pod("web-0", "Running", "True");
    deleting["metadata"]["deletionTimestamp"] = json!("2024-01-01T00:00:00Z");
    assert!(!evaluate(&WaitFor::Ready, Kind::Pod, true, &[deleting]).is_met());
}

#[test]
fn selector_ready_needs_every_matching_object() {
    let pods = [
        pod("web-0", "Running", "True"),
        pod("web-1", "Pending", "False"),
    ];
    let verdict = evaluate(&WaitFor::Ready, Kind::Pod, false, &pods);
    assert!(
        matches!(&verdict, WaitVerdict::NotYet(r) if r.contains("web-1") && !r.contains("web-0"))
    );
    assert!(evaluate(&WaitFor::ReadyCount(1), Kind::Pod, false, &pods).is_met());
    assert!(!evaluate(&WaitFor::ReadyCount(2), Kind::Pod, false, &pods).is_met());
}

#[test]
fn statefulset_ready_and_rolled_out() {
    let done = sts(3, 3, 3, "web-a", "web-a");
    assert!(
        evaluate(
            &WaitFor::Ready,
            Kind::StatefulSet,
            true,
            std::slice::from_ref(&done)
        )
        .is_met()
    );
    assert!(evaluate(&WaitFor::RolledOut, Kind::StatefulSet, true, &[done]).is_met());

    let rolling = sts(3, 3, 1, "web-a", "web-b");
    assert!(
        evaluate(
            &WaitFor::Ready,
            Kind::StatefulSet,
            true,
            std::slice::from_ref(&rolling)
        )
        .is_met()
    );
    assert!(matches!(
        evaluate(&WaitFor::RolledOut, Kind::StatefulSet, true, &[rolling]),
        WaitVerdict::NotYet(r) if r.contains("currentRevision web-a != updateRevision web-b")
    ));

    let mut stale = sts(3, 3, 3, "web-a", "web-a");
    stale["metadata"]["generation"] = json!(3);
    assert!(matches!(
        evaluate(&WaitFor::Ready, Kind::StatefulSet, true, &[stale]),
        WaitVerdict::NotYet(r) if r.contains("generation 3")
    ));
}

#[test]
fn partitioned_statefulset_is_rolled_out_when_the_canaries_are() {
    let mut canary = sts(3, 3, 1, "web-a", "web-b");
    canary["spec"]["updateStrategy"] =
        json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 2}});
    assert!(evaluate(&WaitFor::RolledOut, Kind::StatefulSet, true, &[canary]).is_met());
}

#[test]
fn deployment_rollout_waits_for_old_replicas_and_fails_on_progress_deadline() {
    let deployment = |updated, total, available| {
        json!({
            "metadata": {"name": "web", "generation": 1},
            "spec": {"replicas": 3},
            "status": {"observedGeneration": 1, "updatedReplicas": updated, "replicas": total,
                       "availableReplicas": available, "readyReplicas": available}
        })
    };
    assert!(
        evaluate(
            &WaitFor::RolledOut,
            Kind::Deployment,
            true,
            &[deployment(3, 3, 3)]
        )
        .is_met()
    );
    assert!(matches!(
        evaluate(&WaitFor::RolledOut, Kind::Deployment, true, &[deployment(3, 4, 3)]),
        WaitVerdict::NotYet(r) if r.contains("1 old replicas")
    ));
    let mut stuck = deployment(1, 3, 2);
    stuck["status"]["conditions"] =
        json!([{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]);
    assert!(matches!(
        evaluate(&WaitFor::RolledOut, Kind::Deployment, true, &[stuck]),
        WaitVerdict::Impossible(r) if r.contains("progress deadline")
    ));
}

#[test]
fn bound_phase_condition_count_exists_deleted() {
    let pvc = json!({"metadata": {"name": "data-web-0"}, "status": {"phase": "Bound"}});
    assert!(
        evaluate(
            &WaitFor::Bound,
            Kind::PersistentVolumeClaim,
            true,
            std::slice::from_ref(&pvc)
        )
        .is_met()
    );
    assert!(matches!(
        evaluate(&WaitFor::Phase("Released".into()), Kind::PersistentVolume, true, std::slice::from_ref(&pvc)),
        WaitVerdict::NotYet(r) if r == "data-web-0: phase Bound, want Released"
    ));
    let available = json!({"metadata": {"name": "web"},
        "status": {"conditions": [{"type": "Available", "status": "True"}]}});
    let wanted = ConditionMatch {
        condition_type: "Available".into(),
        status: "True".into(),
    };
    assert!(
        evaluate(
            &WaitFor::Condition(wanted),
            Kind::Deployment,
            true,
            &[available]
        )
        .is_met()
    );
    assert!(
        evaluate(
            &WaitFor::Count(1),
            Kind::PersistentVolumeClaim,
            false,
            std::slice::from_ref(&pvc)
        )
        .is_met()
    );
    assert!(
        !evaluate(
            &WaitFor::Count(2),
            Kind::PersistentVolumeClaim,
            false,
            std::slice::from_ref(&pvc)
        )
        .is_met()
    );
    assert!(
        evaluate(
            &WaitFor::Exists,
            Kind::PersistentVolumeClaim,
            true,
            std::slice::from_ref(&pvc)
        )
        .is_met()
    );
    assert!(matches!(
        evaluate(&WaitFor::Deleted, Kind::PersistentVolumeClaim, true, &[pvc]),
        WaitVerdict::NotYet(r) if r.contains("data-web-0")
    ));
    assert!(evaluate(&WaitFor::Deleted, Kind::PersistentVolumeClaim, true, &[]).is_met());
}

#[test]
fn matches_checks_every_object_against_the_partial_object() {
    let pods = [
        pod("web-0", "Running", "True"),
        pod("web-1", "Pending", "False"),
    ];
    let running = WaitFor::Matches(json!({"status": {"phase": "Running"}}));
    assert!(evaluate(&running, Kind::Pod, false, &pods[..1]).is_met());
    assert!(matches!(
        evaluate(&running, Kind::Pod, false, &pods),
        WaitVerdict::NotYet(r) if r.contains("web-1") && r.contains("Pending")
    ));
    assert!(!evaluate(&running, Kind::Pod, true, &[]).is_met());
}
