//! `matrix:` through discovery, the runner and the real engine against the fake API server: one
//! file becomes one trial per combination, named `<area>::<name>[image=...]`, each with its
//! values in its variables and fixtures, each its own JUnit testcase (`<name>[image=...]` in
//! the suite `<area>`).

use crate::runner_support::{EngineCluster, args, settings};
use crate::support::test_cluster::TestCluster;
use petset::runner::RunInput;
use quick_junit::{Report, TestCaseStatus};

const SCENARIO: &str = r#"description: One file, one trial per image.
covers: [STS-ORDER-1]
matrix:
  image: [mariadb:11.4, mariadb:10.11]
steps:
  - apply: {files: [matrix/configmap.yaml]}
  - assert: {target: configmap/images, matches: {data: {image: mariadb:11.4, inline: "${image}"}}}
"#;

const FIXTURE: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: images}\ndata:\n  image: \"${image}\"\n  inline: \"${image}\"\n";

#[test]
fn a_matrix_expands_into_one_trial_per_combination_with_its_values() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let cluster = runtime.block_on(TestCluster::start());
    let dir = tempfile::tempdir().expect("a suite folder");
    for (path, text) in [
        ("scenarios/db/images.yaml", SCENARIO),
        ("fixtures/matrix/configmap.yaml", FIXTURE),
    ] {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("folder");
        std::fs::write(path, text).expect("written");
    }
    let (suite, catalogue) = petset::runner::load(dir.path());
    let names: Vec<String> = suite.iter().map(|entry| entry.trial_name()).collect();
    assert_eq!(
        names,
        [
            "db::images[image=mariadb:10.11]",
            "db::images[image=mariadb:11.4]"
        ]
    );
    let source = EngineCluster {
        client: cluster.client.clone(),
        fixtures: dir.path().join("fixtures"),
    };
    let input = RunInput {
        suite,
        catalogue,
        settings: Ok(settings(dir.path(), 0)),
    };
    let outcome = petset::runner::run(&args(dir.path(), &[]), input, &source);
    let conclusion = outcome.conclusion.expect("trials ran");
    assert_eq!((conclusion.num_passed, conclusion.num_failed), (1, 1));

    let xml = std::fs::read_to_string(dir.path().join("reports/junit.xml")).expect("a report");
    let report = Report::deserialize_from_str(&xml).expect("JUnit parses");
    let cases = &report.test_suites[0].test_cases;
    let status = |name: &str| {
        &cases
            .iter()
            .find(|case| case.name.as_str() == name)
            .unwrap_or_else(|| panic!("no testcase {name} in {xml}"))
            .status
    };
    assert!(matches!(
        status("images[image=mariadb:11.4]"),
        TestCaseStatus::Success { .. }
    ));
    let TestCaseStatus::NonSuccess { message, .. } = status("images[image=mariadb:10.11]") else {
        panic!("the 10.11 trial fails: its fixture got its own value");
    };
    let message = message.as_ref().map(|m| m.to_string()).unwrap_or_default();
    assert!(message.contains("mariadb:10.11"), "{message}");
}
