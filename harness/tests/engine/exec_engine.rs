//! The engine against the fake API server: a scenario's namespace, events, failure reports, and
//! cleanup after a pass, a failure, the deadline and cancellation; a stuck namespace; kept
//! namespaces; owned PVs and cordoned nodes; and the stale-namespace sweep.

use crate::support::test_cluster::{TestCluster, within};
use petset::engine::{EngineConfig, KeepPolicy, ScenarioRun, run_scenario, sweep_stale};
use petset::events::{Event, EventSink, ScenarioId, ScenarioOutcome, StepOutcome};
use petset::scenario::model::Scenario;
use petset_fakeapi::Handle;
use petset_fakeapi::emulation::{Emulation, EmulationConfig};
use serde_json::json;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Records events, and lets a test act (as a controller would) once the namespace is known.
struct Recorded {
    events: Mutex<Vec<Event>>,
    on_start: Box<dyn Fn(&str) + Send + Sync>,
}

impl Recorded {
    fn new(on_start: impl Fn(&str) + Send + Sync + 'static) -> Arc<Self> {
        Arc::new(Self {
            events: Mutex::new(Vec::new()),
            on_start: Box::new(on_start),
        })
    }

    fn events(&self) -> Vec<Event> {
        self.events.lock().expect("events").clone()
    }
}

impl EventSink for Recorded {
    fn emit(&self, event: Event) {
        if let Event::ScenarioStarted { namespace, .. } = &event {
            (self.on_start)(namespace);
        }
        self.events.lock().expect("events").push(event);
    }
}

fn scenario(yaml: &str) -> Scenario {
    serde_saphyr::from_str(yaml).unwrap_or_else(|error| panic!("scenario parses: {error}"))
}

fn id(name: &str) -> ScenarioId {
    ScenarioId {
        area: "engine".into(),
        name: name.into(),
    }
}

fn config(fake: &TestCluster) -> EngineConfig {
    let mut config = EngineConfig::new(fake.client.clone(), fake.fixtures_dir(), "run-1");
    config.cleanup_timeout = Duration::from_secs(3);
    config.heartbeat_every = Duration::from_millis(100);
    config.default_timeout = Duration::from_secs(5);
    config
}

async fn run(
    config: &EngineConfig,
    name: &str,
    scenario: &Scenario,
    sink: &Recorded,
) -> petset::engine::ScenarioResult {
    let id = id(name);
    let run = ScenarioRun {
        id: &id,
        file: Path::new("scenarios/engine/x.yaml"),
        scenario,
        attempt: 1,
    };
    within(30, run_scenario(config, run, sink)).await
}

fn namespace_exists(handle: &Handle, name: &str) -> bool {
    handle.get("v1", "Namespace", None, name).is_some()
}

fn namespace_deleted_or_terminating(handle: &Handle, name: &str) -> bool {
    handle
        .get("v1", "Namespace", None, name)
        .is_none_or(|ns| ns["metadata"]["deletionTimestamp"].is_string())
}

/// A 1 s grace period: the emulation terminates a deleted pod for its whole grace period (on its
/// scaled clock, 100 ms here), which the default 30 s would make outlast these tests' cleanup.
const POD: &str = "{apiVersion: v1, kind: Pod, metadata: {name: web-0, labels: {app: web}}, spec: {terminationGracePeriodSeconds: 1, containers: [{name: nginx, image: 'nginx:1.27'}]}}";

#[tokio::test]
async fn a_passing_scenario_runs_in_its_own_labelled_namespace_and_cleans_up() {
    let fake = TestCluster::start().await;
    let handle = fake.handle();
    // The fake's kubelet emulation schedules, starts and readies the pod.
    let _kubelet = Emulation::start(&handle, EmulationConfig::default(), None);
    let seen = Arc::new(Mutex::new(None));
    let s = seen.clone();
    let sink = Recorded::new(move |ns| {
        *s.lock().expect("seen") = Some(ns.to_owned());
    });
    let scenario = scenario(&format!(
        "description: pass
covers: [STS-NAME-1]
timeout: 20s
steps:
- apply: {{manifests: [{POD}]}}
- wait: {{target: pod/web-0, for: ready, timeout: 5s}}
- mark: ready
"
    ));
    let result = run(&config(&fake), "pass", &scenario, &sink).await;
    assert_eq!(result.outcome, ScenarioOutcome::Passed, "{result:?}");
    let namespace = seen
        .lock()
        .expect("seen")
        .clone()
        .expect("ScenarioStarted emitted");
    assert_eq!(result.namespace, namespace);
    assert!(namespace.starts_with("petset-engine-pass-"), "{namespace}");
    assert_eq!(result.properties.get("namespace"), Some(&namespace));
    assert!(
        result.properties["cleanup"].starts_with(&format!("deleted namespace {namespace}")),
        "{:?}",
        result.properties
    );
    assert!(!namespace_exists(&handle, &namespace), "namespace deleted");
    assert!(!result.kept);

    let events = sink.events();
    assert!(
        matches!(&events[0], Event::ScenarioStarted { covers, attempt: 1, .. } if covers == &["STS-NAME-1"])
    );
    let started: Vec<(usize, &str)> = events
        .iter()
        .filter_map(|e| match e {
            Event::StepStarted { index, kind, .. } => Some((*index, *kind)),
            _ => None,
        })
        .collect();
    assert_eq!(started, vec![(1, "apply"), (2, "wait"), (3, "mark")]);
    let passed = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::StepFinished {
                    outcome: StepOutcome::Passed { .. },
                    ..
                }
            )
        })
        .count();
    assert_eq!(passed, 3);
    let timeline: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            Event::Timeline { line, .. } => Some(line.as_str()),
            _ => None,
        })
        .collect();
    assert!(
        timeline.iter().any(|l| l.contains("pod/web-0 ADDED")),
        "{timeline:?}"
    );
    assert!(
        timeline
            .iter()
            .any(|l| l.contains("pod/web-0 MODIFIED phase=Running ready=true")),
        "{timeline:?}"
    );
    assert!(
        timeline.iter().any(|l| l.contains("mark ready")),
        "{timeline:?}"
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::ScenarioFinished { .. })),
        "left to the runner"
    );
}

#[tokio::test]
async fn the_namespace_is_labelled_and_its_heartbeat_kept_fresh() {
    let fake = TestCluster::start().await;
    let handle = fake.handle();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (h, s) = (handle.clone(), seen.clone());
    let sink = Recorded::new(move |ns| {
        let (h, s, ns) = (h.clone(), s.clone(), ns.to_owned());
        tokio::spawn(async move {
            for _ in 0..30 {
                if let Some(object) = h.get("v1", "Namespace", None, &ns) {
                    s.lock().expect("seen").push(object);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
    });
    let scenario = scenario(
        "description: heartbeat\ncovers: []\ntimeout: 10s\nsteps:\n- wait: {target: pod/none, for: exists, timeout: 1500ms}\n",
    );
    let _ = run(&config(&fake), "heartbeat", &scenario, &sink).await;
    let seen = seen.lock().expect("seen").clone();
    let first = seen.first().expect("the namespace was seen");
    assert_eq!(
        first["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "petset"
    );
    assert_eq!(first["metadata"]["labels"]["petset.dev/run"], "run-1");
    assert_eq!(
        first["metadata"]["annotations"]["petset.dev/scenario"],
        "engine::heartbeat"
    );
    let beats: std::collections::BTreeSet<String> = seen
        .iter()
        .filter_map(|ns| {
            ns["metadata"]["annotations"]["petset.dev/heartbeat"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert!(!beats.is_empty());
    let versions: std::collections::BTreeSet<String> = seen
        .iter()
        .filter_map(|ns| {
            ns["metadata"]["resourceVersion"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert!(
        versions.len() >= 2,
        "the heartbeat rewrote the namespace: {versions:?}"
    );
}

#[tokio::test]
async fn a_failure_carries_the_timeline_and_diagnostics_and_still_cleans_up() {
    let fake = TestCluster::start().await;
    let handle = fake.handle();
    let h = handle.clone();
    let sink = Recorded::new(move |ns| {
        h.set_pod_log(
            ns,
            "web-0",
            None,
            "starting nginx\nbind() failed: port in use\n",
        );
    });
    let scenario = scenario(&format!(
        "description: fail
covers: []
timeout: 20s
steps:
- apply: {{manifests: [{POD}]}}
- wait: {{target: pod/web-0, for: ready, timeout: 600ms}}
- mark: never-reached
"
    ));
    let result = run(&config(&fake), "fail", &scenario, &sink).await;
    let ScenarioOutcome::Failed(failure) = &result.outcome else {
        panic!("expected a failure: {result:?}");
    };
    assert_eq!(
        failure.message,
        "step 2 (wait pod/web-0 for ready): pod/web-0 not ready: timed out after 0.6s: web-0: phase Pending"
    );
    assert_eq!(failure.expected, "pod/web-0 ready");
    assert!(failure.actual.contains("name: web-0"), "{}", failure.actual);
    assert!(
        failure.timeline.contains("pod/web-0 ADDED"),
        "{}",
        failure.timeline
    );
    let diagnostics = &failure.diagnostics;
    for part in [
        "== pod/web-0 (last observed) ==",
        &format!("== events in {} ==", result.namespace),
        "== pods not ready ==",
        "pod/web-0: phase=",
        "== logs of pod/web-0 container nginx (last 20 lines) ==",
        "bind() failed: port in use",
    ] {
        assert!(
            diagnostics.contains(part),
            "missing {part:?} in\n{diagnostics}"
        );
    }
    assert!(
        !namespace_exists(&handle, &result.namespace),
        "cleaned up after the failure"
    );
    let events = sink.events();
    assert!(events.iter().any(|e| matches!(
        e,
        Event::StepFinished {
            index: 2,
            outcome: StepOutcome::Failed(_),
            ..
        }
    )));
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::StepStarted { index: 3, .. })),
        "stops at the failure"
    );
}

#[tokio::test]
async fn a_failure_shows_its_subjects_lines_among_many_and_every_line_is_streamed() {
    const NOISE: usize = 150;
    let fake = TestCluster::start().await;
    let h = fake.handle();
    let sink = Recorded::new(move |ns| {
        let h = h.clone();
        let ns = ns.to_owned();
        // Plays a busy namespace: once web-0 is there, many other pods appear.
        tokio::spawn(async move {
            for _ in 0..500 {
                if h.get("v1", "Pod", Some(&ns), "web-0").is_some() {
                    for n in 0..NOISE {
                        let _ = h.create(json!({
                            "apiVersion": "v1", "kind": "Pod",
                            "metadata": {"name": format!("noise-{n:03}"), "namespace": ns},
                            "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}
                        }));
                    }
                    return;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        });
    });
    let scenario = scenario(&format!(
        "description: busy
covers: []
timeout: 20s
steps:
- apply: {{manifests: [{POD}]}}
- wait: {{target: pod/web-0, for: ready, timeout: 2s}}
"
    ));
    let result = run(&config(&fake), "busy", &scenario, &sink).await;
    let ScenarioOutcome::Failed(failure) = &result.outcome else {
        panic!("expected a failure: {result:?}");
    };
    let shown: Vec<&str> = failure.timeline.lines().collect();
    assert!(
        shown[0].ends_with("the whole timeline: reports/timelines/engine--busy.txt)"),
        "{}",
        failure.timeline
    );
    assert!(
        shown.len() <= petset::timeline::EXCERPT_MAX_LINES + 1,
        "{}",
        failure.timeline
    );
    // The failed step's subject, long before the latest lines, is still shown.
    assert!(
        shown.iter().any(|l| l.contains("pod/web-0 ADDED")),
        "{}",
        failure.timeline
    );
    let streamed: Vec<String> = sink
        .events()
        .into_iter()
        .filter_map(|event| match event {
            Event::Timeline { line, .. } => Some(line),
            _ => None,
        })
        .collect();
    for n in 0..NOISE {
        let added = format!("pod/noise-{n:03} ADDED");
        assert!(
            streamed.iter().any(|l| l.contains(&added)),
            "{added} was not streamed"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn the_scenario_deadline_stops_a_step_and_cleanup_still_runs() {
    let fake = TestCluster::start().await;
    let handle = fake.handle();
    // The clock here measures the steps and cleanup's requests: the namespace's own
    // Terminating phase (tested in the fake's deletion tests) ends at once.
    handle.set_namespace_cleanup_delay(Duration::ZERO);
    let sink = Recorded::new(|_| {});
    let scenario = scenario(
        "description: deadline\ncovers: []\ntimeout: 800ms\nsteps:\n- wait: {target: pod/web-0, for: ready, timeout: 1m}\n",
    );
    let started = tokio::time::Instant::now();
    let result = run(&config(&fake), "deadline", &scenario, &sink).await;
    let ScenarioOutcome::Failed(failure) = &result.outcome else {
        panic!("expected a failure: {result:?}");
    };
    // Paused time: setup and cleanup against the fake take no time on this clock, so the
    // scenario ends within its own timeout whatever the machine's load.
    assert!(
        started.elapsed() <= Duration::from_millis(800),
        "{:?}",
        started.elapsed()
    );
    assert!(
        failure.message.starts_with(
            "step 1 (wait pod/web-0 for ready): pod/web-0 not ready: timed out after 0.7s: \
             the object does not exist yet"
        ),
        "{}",
        failure.message
    );
    assert!(
        failure
            .message
            .ends_with("(the scenario's timeout of 800ms ran out)"),
        "{}",
        failure.message
    );
    assert!(!namespace_exists(&handle, &result.namespace));
}

#[tokio::test]
async fn durations_too_long_for_the_clock_neither_panic_nor_leak_the_namespace() {
    let fake = TestCluster::start().await;
    let handle = fake.handle();
    let sink = Recorded::new(|_| {});
    // Parsing bounds every duration a file can write; an executor can still be handed more.
    let mut scenario = scenario(&format!(
        "description: huge\ncovers: []\nsteps:\n- apply: {{manifests: [{POD}]}}\n- mark: applied\n"
    ));
    scenario.timeout = petset::scenario::model::Duration(Duration::MAX);
    let mut config = config(&fake);
    config.default_timeout = Duration::MAX;
    let result = run(&config, "huge", &scenario, &sink).await;
    assert_eq!(result.outcome, ScenarioOutcome::Passed, "{result:?}");
    assert!(!namespace_exists(&handle, &result.namespace));
}

#[tokio::test(start_paused = true)]
async fn cancellation_stops_the_running_step_and_cleanup_still_runs() {
    let fake = TestCluster::start().await;
    let handle = fake.handle();
    // The clock here measures the steps and cleanup's requests: the namespace's own
    // Terminating phase (tested in the fake's deletion tests) ends at once.
    handle.set_namespace_cleanup_delay(Duration::ZERO);
    let config = config(&fake);
    let cancel = config.cancel.clone();
    let sink = Recorded::new(move |_| {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            cancel.cancel();
        });
    });
    let scenario = scenario(
        "description: cancel\ncovers: []\ntimeout: 5m\nsteps:\n- wait: {target: pod/web-0, for: ready, timeout: 5m}\n",
    );
    let started = tokio::time::Instant::now();
    let result = run(&config, "cancel", &scenario, &sink).await;
    // Paused time: cancelled at 300 ms, cleanup against the fake takes no time on this clock.
    assert!(
        started.elapsed() < Duration::from_millis(400),
        "returned at the cancellation, not at a timeout: {:?}",
        started.elapsed()
    );
    let ScenarioOutcome::Failed(failure) = &result.outcome else {
        panic!("expected a failure: {result:?}");
    };
    assert_eq!(
        failure.message,
        "step 1 (wait pod/web-0 for ready): cancelled before it finished"
    );
    assert!(!namespace_exists(&handle, &result.namespace));
}

#[tokio::test]
async fn a_stuck_namespace_fails_the_scenario_naming_the_blocking_finalizer() {
    let fake = TestCluster::start().await;
    let handle = fake.handle();
    let sink = Recorded::new(|_| {});
    let scenario = scenario(
        "description: stuck
covers: []
timeout: 10s
steps:
- apply: {manifests: [{apiVersion: v1, kind: ConfigMap, metadata: {name: held, finalizers: [example.com/hold]}}]}
",
    );
    let mut config = config(&fake);
    config.cleanup_timeout = Duration::from_millis(800);
    let result = run(&config, "stuck", &scenario, &sink).await;
    let ScenarioOutcome::Failed(failure) = &result.outcome else {
        panic!("a cleanup failure is a failure: {result:?}");
    };
    assert!(failure.message.starts_with(&format!(
        "cleanup failed: namespace {} was not deleted within 1s; still there: configmap/held (finalizers: example.com/hold)",
        result.namespace
    )), "{}", failure.message);
    assert!(
        result.properties["cleanup"].starts_with("failed: "),
        "{:?}",
        result.properties
    );
    let namespace = handle
        .get("v1", "Namespace", None, &result.namespace)
        .expect("still terminating");
    assert!(namespace["metadata"]["deletionTimestamp"].is_string());
}

#[tokio::test]
async fn a_claim_held_by_pvc_protection_is_reported_with_the_pod_using_it() {
    let fake = TestCluster::start().await;
    let sink = Recorded::new(|_| {});
    // The pod's grace period (an hour) outlasts cleanup's budget, so its claim stays in use.
    let scenario = scenario(
        "description: held claim
covers: []
timeout: 10s
steps:
- apply: {manifests: [
    {apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: data}, spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}},
    {apiVersion: v1, kind: Pod, metadata: {name: db-0}, spec: {nodeName: node-1, terminationGracePeriodSeconds: 3600, containers: [{name: db, image: 'mysql:8.4'}], volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]}}]}
",
    );
    let mut config = config(&fake);
    config.cleanup_timeout = Duration::from_millis(800);
    let result = run(&config, "held", &scenario, &sink).await;
    let ScenarioOutcome::Failed(failure) = &result.outcome else {
        panic!("a cleanup failure is a failure: {result:?}");
    };
    assert!(
        failure.message.contains(
            "persistentvolumeclaim/data (finalizers: kubernetes.io/pvc-protection; held by \
             kubernetes.io/pvc-protection while pod/db-0 still uses it)"
        ),
        "{}",
        failure.message
    );
    assert!(
        failure
            .message
            .contains("pod/db-0 (terminating, grace period 3600s; no finalizers)"),
        "{}",
        failure.message
    );
}

#[tokio::test]
async fn keep_on_failure_keeps_the_namespace_and_says_how_to_look_at_it() {
    let fake = TestCluster::start().await;
    let handle = fake.handle();
    let sink = Recorded::new(|_| {});
    let scenario = scenario(
        "description: keep\ncovers: []\ntimeout: 10s\nsteps:\n- wait: {target: pod/web-0, for: exists, timeout: 300ms}\n",
    );
    let mut config = config(&fake);
    config.keep = KeepPolicy::OnFailure;
    let result = run(&config, "keep", &scenario, &sink).await;
    let ScenarioOutcome::Failed(failure) = &result.outcome else {
        panic!("expected a failure: {result:?}");
    };
    assert!(result.kept);
    let namespace = handle
        .get("v1", "Namespace", None, &result.namespace)
        .expect("kept");
    assert_eq!(
        namespace["metadata"]["annotations"]["petset.dev/kept"],
        "PETSET_KEEP=on-failure"
    );
    assert!(
        failure.diagnostics.contains(&format!(
            "kubectl get all,pvc,events -n {}",
            result.namespace
        )),
        "{}",
        failure.diagnostics
    );
    // A kept namespace survives a later run's sweep even once its heartbeat is stale.
    let report = sweep_stale(&fake.client, "run-2").await.expect("swept");
    assert!(report.deleted.is_empty(), "{report:?}");

    // A passing scenario is cleaned up even with keep-on-failure.
    let pass = scenario_pass();
    let result = run(&config, "keep-pass", &pass, &sink).await;
    assert_eq!(result.outcome, ScenarioOutcome::Passed);
    assert!(!namespace_exists(&handle, &result.namespace));
}

fn scenario_pass() -> Scenario {
    scenario("description: ok\ncovers: []\ntimeout: 10s\nsteps:\n- mark: done\n")
}

#[tokio::test]
async fn cleanup_uncordons_nodes_and_deletes_the_pvs_the_scenario_owns() {
    let fake = TestCluster::start().await;
    let handle = fake.handle();
    handle
        .create(
            json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-a"}, "spec": {}}),
        )
        .expect("node");
    let foreign = json!({
        "apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv-other"},
        "spec": {"persistentVolumeReclaimPolicy": "Retain", "capacity": {"storage": "1Gi"},
                 "claimRef": {"namespace": "someone-else", "name": "data"}}
    });
    handle.create(foreign).expect("foreign pv");
    let h = handle.clone();
    let sink = Recorded::new(move |ns| {
        for (name, policy) in [("pv-retain", "Retain"), ("pv-delete", "Delete")] {
            h.create(json!({
                "apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name},
                "spec": {"persistentVolumeReclaimPolicy": policy, "capacity": {"storage": "1Gi"},
                         "claimRef": {"namespace": ns, "name": "www-web-0"}}
            }))
            .expect("pv");
        }
    });
    let scenario = scenario(
        "description: nodes
covers: []
timeout: 10s
steps:
- cordon: {node: node-a}
- apply: {manifests: [{apiVersion: v1, kind: PersistentVolume, metadata: {name: pv-static}, spec: {capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce], hostPath: {path: /tmp/x}}}]}
- wait: {target: pod/nothing, for: exists, timeout: 200ms}
",
    );
    let result = run(&config(&fake), "nodes", &scenario, &sink).await;
    assert!(
        matches!(result.outcome, ScenarioOutcome::Failed(_)),
        "{result:?}"
    );
    let node = handle.get("v1", "Node", None, "node-a").expect("node");
    assert_eq!(
        node["spec"]["unschedulable"], false,
        "uncordoned in cleanup"
    );
    assert!(
        handle
            .get("v1", "PersistentVolume", None, "pv-retain")
            .is_none(),
        "retained PV of its claim deleted"
    );
    assert!(
        handle
            .get("v1", "PersistentVolume", None, "pv-static")
            .is_none(),
        "PV it applied deleted"
    );
    assert!(
        handle
            .get("v1", "PersistentVolume", None, "pv-other")
            .is_some(),
        "never another namespace's"
    );
    // A Delete-policy PV is the provisioner's to remove, not petset's.
    assert!(
        handle
            .get("v1", "PersistentVolume", None, "pv-delete")
            .is_some()
    );
}

#[tokio::test]
async fn the_sweep_removes_stale_namespaces_and_spares_live_ones() {
    let fake = TestCluster::start().await;
    let handle = fake.handle();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let namespace = |name: &str, run: &str, beat: Option<u64>, managed: bool| {
        let mut labels = json!({"petset.dev/run": run});
        if managed {
            labels["app.kubernetes.io/managed-by"] = json!("petset");
        }
        let mut annotations = json!({});
        if let Some(beat) = beat {
            annotations["petset.dev/heartbeat"] = json!(beat.to_string());
        }
        handle
            .create(json!({"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": name, "labels": labels, "annotations": annotations}}))
            .expect("namespace");
    };
    namespace("petset-a-stale", "old-run", Some(now - 600), true);
    namespace("petset-a-silent", "old-run", None, true);
    namespace("petset-a-live", "other-run", Some(now - 5), true);
    namespace("petset-a-mine", "run-1", Some(now - 600), true);
    namespace("not-petset", "old-run", Some(now - 600), false);
    handle
        .create(json!({
            "apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv-stale"},
            "spec": {"persistentVolumeReclaimPolicy": "Retain", "capacity": {"storage": "1Gi"},
                     "claimRef": {"namespace": "petset-a-stale", "name": "data"}}
        }))
        .expect("pv");

    let report = within(20, sweep_stale(&fake.client, "run-1"))
        .await
        .expect("swept");
    let mut deleted = report.deleted.clone();
    deleted.sort();
    assert_eq!(deleted, vec!["petset-a-silent", "petset-a-stale"]);
    let kept: Vec<&str> = report.kept.iter().map(|(name, _)| name.as_str()).collect();
    assert!(
        kept.contains(&"petset-a-live") && kept.contains(&"petset-a-mine"),
        "{report:?}"
    );
    assert!(
        report
            .kept
            .iter()
            .any(|(_, why)| why.starts_with("live: heartbeat")),
        "{report:?}"
    );
    // The sweep starts the deletions; the namespaces then terminate in their own time.
    for swept in ["petset-a-stale", "petset-a-silent"] {
        assert!(namespace_deleted_or_terminating(&handle, swept), "{swept}");
    }
    assert!(!namespace_deleted_or_terminating(&handle, "petset-a-live"));
    assert!(namespace_exists(&handle, "petset-a-live"));
    assert!(namespace_exists(&handle, "not-petset"));
    assert!(
        handle
            .get("v1", "PersistentVolume", None, "pv-stale")
            .is_none()
    );
}
