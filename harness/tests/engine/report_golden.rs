//! Golden files of the JUnit and coverage reports of the mixed run, with the parts that change
//! from run to run (times, timestamps, the run id, namespaces) normalised.
//!
//! After an intended change to a report, regenerate them with
//! `PETSET_BLESS=1 cargo test -p petset --test engine report_golden` and review the diff.

use std::path::{Path, PathBuf};

use crate::runner_support::{StandIn, StandInCluster, args, input, mixed_suite, settings};

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Replaces the value of every `name="..."` attribute with `<name>`.
fn attribute(text: &str, name: &str) -> String {
    let needle = format!(" {name}=\"");
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(&needle) {
        let start = at + needle.len();
        let Some(len) = rest[start..].find('"') else {
            break;
        };
        out.push_str(&rest[..start]);
        out.push_str(&format!("<{name}>"));
        rest = &rest[start + len..];
    }
    out.push_str(rest);
    out
}

/// Replaces the value of the properties named `name` with `<name>`.
fn property(text: &str, name: &str) -> String {
    let needle = format!("<property name=\"{name}\" value=\"");
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(&needle) {
        let start = at + needle.len();
        let Some(len) = rest[start..].find('"') else {
            break;
        };
        out.push_str(&rest[..start]);
        out.push_str(&format!("<{name}>"));
        rest = &rest[start + len..];
    }
    out.push_str(rest);
    out
}

/// Replaces durations written as `<digits>.<digits>s` after `in ` or `after ` with `<secs>`,
/// and the namespace line of a step log with `namespace <namespace>`.
fn log_lines(text: &str) -> String {
    let mut lines = Vec::new();
    for line in text.split('\n') {
        if let Some(at) = line.find("namespace petset-") {
            lines.push(format!("{}namespace <namespace>", &line[..at]));
            continue;
        }
        let mut out = String::new();
        let mut rest = line;
        loop {
            let next = ["in ", "after "]
                .iter()
                .filter_map(|w| rest.find(w).map(|at| (at, w.len())))
                .min();
            let Some((at, word)) = next else {
                out.push_str(rest);
                break;
            };
            let start = at + word;
            let number = rest[start..]
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(rest.len() - start);
            let is_secs = number > 0 && rest[start + number..].starts_with('s');
            if is_secs {
                out.push_str(&rest[..start]);
                out.push_str("<secs>");
                rest = &rest[start + number + 1..];
            } else {
                out.push_str(&rest[..start]);
                rest = &rest[start..];
            }
        }
        lines.push(out);
    }
    lines.join("\n")
}

fn normalise_junit(xml: &str) -> String {
    let xml = attribute(xml, "time");
    let xml = attribute(&xml, "timestamp");
    let xml = property(&xml, "run.id");
    let xml = property(&xml, "namespace");
    log_lines(&xml)
}

fn compare(name: &str, actual: &str) {
    let path = golden_dir().join(name);
    if std::env::var("PETSET_BLESS").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(golden_dir())
            .and_then(|()| std::fs::write(&path, actual))
            .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read {}: {e} (PETSET_BLESS=1 writes it)", path.display()));
    if expected != actual {
        let diff: Vec<String> = expected
            .lines()
            .zip(actual.lines())
            .enumerate()
            .filter(|(_, (e, a))| e != a)
            .take(10)
            .map(|(n, (e, a))| format!("line {}:\n  golden: {e}\n  actual: {a}", n + 1))
            .collect();
        panic!(
            "{name} differs from {} ({} vs {} lines):\n{}\n\nactual:\n{actual}",
            path.display(),
            expected.lines().count(),
            actual.lines().count(),
            diff.join("\n")
        );
    }
}

fn run_mixed(dir: &Path) {
    let outcome = petset::runner::run(
        &args(dir, &["--test-threads", "3"]),
        input(mixed_suite(), settings(dir, 1)),
        &StandInCluster(StandIn::new()),
    );
    assert!(outcome.conclusion.is_some());
}

#[test]
fn junit_report_matches_the_golden_file() {
    let dir = tempfile::tempdir().unwrap();
    run_mixed(dir.path());
    let xml = std::fs::read_to_string(dir.path().join("reports/junit.xml")).unwrap();
    let normalised = normalise_junit(&xml);
    assert!(
        !normalised.contains("petset-mysql-replication-a"),
        "namespaces normalised"
    );
    compare("junit.xml", &normalised);
}

#[test]
fn coverage_reports_match_the_golden_files() {
    let dir = tempfile::tempdir().unwrap();
    run_mixed(dir.path());
    for name in ["coverage.md", "coverage.json"] {
        let text = std::fs::read_to_string(dir.path().join("reports").join(name)).unwrap();
        compare(name, &text);
    }
}

#[test]
fn normalising_keeps_what_is_stable() {
    let line = "step 1 (mark #1, line 5): passed in 0.01s — done; replication_lag = 0.25 s";
    assert_eq!(
        log_lines(line),
        "step 1 (mark #1, line 5): passed in <secs> — done; replication_lag = 0.25 s"
    );
    assert_eq!(
        attribute(r#"<testcase name="a" time="0.123">"#, "time"),
        r#"<testcase name="a" time="<time>">"#
    );
}
