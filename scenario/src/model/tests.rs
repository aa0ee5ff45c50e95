//! Checks that the model reads scenarios the way the authoring guide writes them.

use super::*;

const EXAMPLE: &str = r#"
description: Pods are created one at a time, in ordinal order.
covers: [STS-NAME-1, STS-ORDER-1]
timeout: 4m
requires: {defaultStorageClass: true}
steps:
  - mark: start
  - apply: {files: [web/statefulset.yaml]}
  - wait: {target: sts/web, for: rolledOut, timeout: 3m}
  - wait: {target: {kind: pod, selector: app=web}, for: {readyCount: 3}}
  - assert:
      target: {kind: pod, selector: app=web}
      count: 3
      items: [{metadata: {name: web-0}}]
  - timeline:
      target: {kind: pod, selector: app=web}
      since: start
      expect:
        - readyBeforeNextCreated: [web-0, web-1, web-2]
        - atMost: {count: 3}
  - delete: {target: pod/web-1}
  - capture: {target: pvc/www-web-0, field: spec.volumeName, as: vol0}
  - sql: {target: pod/mysql-0, user: app, passwordFrom: {secret: db, key: password}, query: "SELECT 1", expect: {rows: [[1]]}}
  - dns: {name: "${pod}.nginx", forEach: {kind: pod, selector: app=web}, expect: {podIps: "pod/${pod}"}}
  - observe: {target: pod/web-3, during: 10s, absent: true}
"#;

#[test]
fn reads_the_documented_syntax() {
    let scenario: Scenario = serde_saphyr::from_str(EXAMPLE).expect("example parses");
    assert_eq!(scenario.covers[1].value, "STS-ORDER-1");
    assert_eq!(scenario.timeout.as_std().as_secs(), 240);
    assert!(scenario.requires.default_storage_class);
    let kinds: Vec<&str> = scenario.steps.iter().map(|s| s.value.kind_name()).collect();
    assert_eq!(
        kinds,
        [
            "mark", "apply", "wait", "wait", "assert", "timeline", "delete", "capture", "sql",
            "dns", "observe"
        ]
    );
    assert_eq!(scenario.steps[2].referenced.line(), 9);
    match &scenario.steps[3].value {
        Step::Wait(wait) => {
            assert_eq!(
                wait.target.selector.as_ref().map(SelectorTemplate::as_str),
                Some("app=web")
            );
            assert_eq!(wait.until, WaitFor::ReadyCount(3));
        }
        other => panic!("expected a wait step, got {other:?}"),
    }
    match &scenario.steps[6].value {
        Step::Delete(delete) => {
            assert_eq!(delete.target, Target::object(Kind::Pod, "web-1"));
            assert!(delete.wait, "delete waits by default, as kubectl does");
        }
        other => panic!("expected a delete step, got {other:?}"),
    }
}

#[test]
fn rejects_typos_in_fields_and_step_kinds() {
    let typo = "description: x\ncovers: []\nsteps:\n  - scale: {target: sts/web, replica: 3}\n";
    let error = serde_saphyr::from_str::<Scenario>(typo).expect_err("typo must fail");
    assert!(error.to_string().contains("replica"), "{error}");

    let unknown = "description: x\ncovers: []\nsteps:\n  - scael: {target: sts/web, replicas: 3}\n";
    let error = serde_saphyr::from_str::<Scenario>(unknown).expect_err("unknown kind must fail");
    assert!(error.to_string().contains("scael"), "{error}");
}

#[test]
fn rejects_bad_targets() {
    let bad = "description: x\ncovers: []\nsteps:\n  - delete: {target: web-1}\n";
    let error = serde_saphyr::from_str::<Scenario>(bad).expect_err("missing kind must fail");
    assert!(error.to_string().contains("kind/name"), "{error}");
    let both = "description: x\ncovers: []\nsteps:\n  - delete: {target: {kind: pod, name: a, selector: b=c}}\n";
    assert!(serde_saphyr::from_str::<Scenario>(both).is_err());
}
