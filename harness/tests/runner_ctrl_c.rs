//! A real SIGINT (what Ctrl-C sends) to a running suite: running scenarios are cancelled and
//! cleaned up, the rest are not started, the reports are written and the exit code is 130.
//! Alone in its test binary, since the signal goes to the whole process.

#[path = "engine/runner_support.rs"]
mod runner_support;

use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use quick_junit::{Report, TestCaseStatus};
use runner_support::{StandIn, StandInCluster, args, entry, input, scenario_yaml, settings};

#[test]
fn sigint_cancels_cleans_up_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let suite: Vec<_> = (0..4)
        .map(|n| {
            entry(
                "stuck",
                &format!("s{n}"),
                &scenario_yaml(&["STS-PVC-1"], &["hangs"], 1, ""),
            )
        })
        .collect();
    let standin = StandIn::new();
    let observed = standin.observed.clone();
    let pid = std::process::id().to_string();
    let sender = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(20);
        while observed.started.lock().unwrap().len() < 2 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        // Give the runtime's signal listener time to be in place on a loaded machine.
        std::thread::sleep(Duration::from_millis(200));
        let status = Command::new("kill").args(["-INT", &pid]).status();
        assert!(status.is_ok_and(|s| s.success()), "kill -INT failed");
    });
    let started = Instant::now();
    let outcome = petset::runner::run(
        &args(dir.path(), &["--test-threads", "2"]),
        input(suite, settings(dir.path(), 0)),
        &StandInCluster(standin.clone()),
    );
    sender.join().unwrap();
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(outcome.interrupted);
    assert_eq!(outcome.exit_code, ExitCode::from(130));
    let mut cleaned = standin.observed.cleaned.lock().unwrap().clone();
    cleaned.sort();
    assert_eq!(
        cleaned,
        ["stuck::s0", "stuck::s1"],
        "both running scenarios cleaned up"
    );

    let xml = std::fs::read_to_string(dir.path().join("reports/junit.xml")).unwrap();
    let report = Report::deserialize_from_str(&xml).unwrap();
    let mut failed = 0;
    let mut not_run = 0;
    for case in &report.test_suites[0].test_cases {
        match &case.status {
            TestCaseStatus::NonSuccess { message, .. } => {
                assert!(
                    message
                        .as_ref()
                        .unwrap()
                        .as_str()
                        .contains("interrupted by Ctrl-C")
                );
                failed += 1;
            }
            TestCaseStatus::Skipped { message, .. } => {
                assert_eq!(
                    message.as_ref().unwrap().as_str(),
                    "not run: interrupted by Ctrl-C"
                );
                not_run += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((failed, not_run), (2, 2));
}
