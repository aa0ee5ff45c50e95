//! A failure's body keeps each of its parts under a budget of its own: the "last observed" copy
//! of a huge object is cut (saying how much, and naming the failure file that has all of it)
//! and the onFailure collectors' output still reaches the JUnit failure body, cut to its last
//! 8 KiB. Run through the runner and the real engine against the fake API server.

use crate::runner_support::{EngineCluster, args, settings};
use crate::support::test_cluster::TestCluster;
use petset::report::FAILURE_BODY_CAP;
use petset::runner::RunInput;
use quick_junit::{Report, TestCaseStatus};
use std::path::Path;

const COLLECTING: &str = r#"description: A failed check leaves the object it read behind.
covers: [STS-ORDER-1]
steps:
  - apply: {files: [big/configmap.yaml]}
  - assert: {target: configmap/big, matches: {data: {state: ready}}}
onFailure:
  - object: {target: configmap/big}
"#;

/// Runs the scenario above against a ConfigMap holding `filler` bytes of data, in `dir`;
/// returns the JUnit failure body of its one failed testcase.
fn failure_body(dir: &Path, filler: usize) -> String {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let cluster = runtime.block_on(TestCluster::start());
    let filler = "x".repeat(filler);
    let fixture = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: big}}\ndata:\n  state: starting\n  filler: {filler}\n  zzz-last-key: the-end\n"
    );
    for (path, text) in [
        ("scenarios/db/collecting.yaml", COLLECTING),
        ("fixtures/big/configmap.yaml", fixture.as_str()),
    ] {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("folder");
        std::fs::write(path, text).expect("written");
    }
    let (suite, catalogue) = petset::runner::load(dir);
    let source = EngineCluster {
        client: cluster.client.clone(),
        fixtures: dir.join("fixtures"),
    };
    let input = RunInput {
        suite,
        catalogue,
        settings: Ok(settings(dir, 0)),
    };
    let outcome = petset::runner::run(&args(dir, &[]), input, &source);
    assert_eq!(outcome.conclusion.expect("trials ran").num_failed, 1);

    let xml = std::fs::read_to_string(dir.join("reports/junit.xml")).expect("a report");
    let report = Report::deserialize_from_str(&xml).expect("JUnit parses");
    let case = &report.test_suites[0].test_cases[0];
    let TestCaseStatus::NonSuccess { description, .. } = &case.status else {
        panic!("the scenario fails: {xml}");
    };
    description
        .as_ref()
        .map(|d| d.to_string())
        .unwrap_or_default()
}

/// The onFailure section of `body`.
fn collected(body: &str) -> &str {
    let section = body
        .find("== onFailure: object configmap/big ==")
        .unwrap_or_else(|| panic!("no collector section in the failure body:\n{body}"));
    &body[section..]
}

#[test]
fn on_failure_output_reaches_the_junit_failure_body_bounded() {
    let dir = tempfile::tempdir().expect("a suite folder");
    // More than a collector section may carry (8 KiB), less than the whole body may (32 KiB,
    // which the check's own "last observed" copy of the object shares).
    let body = failure_body(dir.path(), 12 * 1024);
    let collected = collected(&body);
    assert!(collected.contains("zzz-last-key: the-end"), "{collected}");
    assert!(
        !collected.contains(&"x".repeat(9 * 1024)),
        "the section is cut to its last 8 KiB"
    );
}

#[test]
fn a_huge_last_observed_object_is_cut_and_the_collectors_output_still_reaches_the_body() {
    let dir = tempfile::tempdir().expect("a suite folder");
    let body = failure_body(dir.path(), 200 * 1024);
    assert!(body.len() <= FAILURE_BODY_CAP, "{} bytes", body.len());

    // The object as last observed: there, cut to its budget, naming where all of it is.
    let observed = body
        .find("== configmap/big (last observed) ==")
        .unwrap_or_else(|| panic!("no last observed section:\n{body}"));
    let collected_at = body.find("== onFailure: ").expect("a collector section");
    let observed = &body[observed..collected_at];
    assert!(observed.len() <= 9 * 1024, "{} bytes", observed.len());
    assert!(
        observed.contains(
            "more bytes left out: reports keep at most 8 KiB here; the whole failure: \
             reports/failures/db--collecting.txt"
        ),
        "{observed}"
    );

    // The collector's output: there, its last 8 KiB, with the end of the object.
    let collected = collected(&body);
    assert!(collected.contains("zzz-last-key: the-end"), "{collected}");
    assert!(collected.contains("bytes before left out"), "{collected}");

    // The failure file has the whole object, as last observed.
    let whole = std::fs::read_to_string(dir.path().join("reports/failures/db--collecting.txt"))
        .expect("the failure file");
    let observed = whole
        .find("== configmap/big (last observed) ==")
        .expect("the object in the failure file");
    let rest = &whole[observed..];
    let end = rest.find("== onFailure: ").unwrap_or(rest.len());
    assert!(
        rest[..end].contains(&"x".repeat(200 * 1024)),
        "the object whole"
    );
    assert!(rest[..end].contains("zzz-last-key: the-end"));
}
