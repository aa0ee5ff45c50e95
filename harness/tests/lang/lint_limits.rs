//! `petset lint` on large broken files: a bounded number of diagnostics printed per file with a
//! count of the rest, and a file over the YAML node limit turned away with the limit stated.
//! (How fast: `cargo bench -p petset --bench lint_scale`.)

use std::path::Path;
use std::process::{Command, Output};

const FIXTURE: &str = "\
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  replicas: 3
  serviceName: nginx
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: nginx, image: nginx:1.27}]
";

/// A scenario applying the fixture, then `broken` scale steps with a word for a number and one
/// good step after them.
fn scenario(broken: usize) -> String {
    let mut text = String::from(
        "description: Many broken steps.\ncovers: [STS-ORDER-2]\nsteps:\n  - apply: {files: [web/statefulset.yaml]}\n",
    );
    for _ in 0..broken {
        text.push_str("  - scale: {target: sts/web, replicas: three}\n");
    }
    text.push_str("  - scale: {target: sts/webb, replicas: 1}\n");
    text
}

fn lint(root: &Path, file: &str) -> Output {
    std::fs::create_dir_all(root.join("fixtures/web")).expect("mkdir");
    std::fs::write(root.join("fixtures/web/statefulset.yaml"), FIXTURE).expect("write");
    Command::new(env!("CARGO_BIN_EXE_petset"))
        .args(["lint", "--format", "plain", "--root"])
        .arg(root)
        .arg(root.join(file))
        .output()
        .expect("run petset")
}

#[test]
fn prints_at_most_fifty_diagnostics_per_file_and_counts_the_rest() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("many.yaml"), scenario(2_000)).expect("write");
    let output = lint(dir.path(), "many.yaml");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let headers = stdout
        .lines()
        .filter(|line| line.contains("many.yaml:") && line.contains(": error: "))
        .count();
    assert_eq!(headers, 50, "{stdout}");
    assert!(
        stdout.contains(
            "many.yaml: 1951 more problems not shown (at most 50 are shown per file; fix these first)"
        ),
        "{stdout}"
    );
    // Every broken step is counted, and the good step after them is still checked.
    assert!(stderr.contains("2001 errors"), "{stderr}");
    let first = stdout.lines().next().unwrap_or_default();
    assert!(
        first.ends_with(
            "many.yaml:5:40: error: `replicas`: expected a whole number, got `three` (write it in digits, e.g. `replicas: 3`)"
        ),
        "{first}"
    );
}

#[test]
fn a_file_over_the_node_limit_gets_one_error_stating_the_limit() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("huge.yaml"), scenario(40_000)).expect("write");
    let output = lint(dir.path(), "huge.yaml");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let first = stdout.lines().next().unwrap_or_default();
    assert!(
        first.ends_with(
            "huge.yaml:1:1: error: the file holds more than 250,000 YAML nodes (values, lists and mappings), petset's limit for one file (split it into smaller files: a scenario of a few hundred steps needs only a few thousand nodes)"
        ),
        "{first}"
    );
    assert!(!stdout.contains("budget"), "{stdout}");
    assert!(stderr.contains("1 error,"), "{stderr}");
}
