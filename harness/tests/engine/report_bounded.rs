//! A pod restarting in a loop streams thousands of timeline lines: every report stays a
//! readable size (the failure body, JUnit's system-out, the verbose terminal), shows the lines
//! that matter folded, and names the file that holds the whole timeline, which has all of it.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use petset::events::{Event, EventSink, Failure, ScenarioId, ScenarioOutcome, StepOutcome};
use petset::report::{
    CoverageReporter, FAILURE_BODY_CAP, LIVE_LINES, OUTPUT_CAP, OUTPUT_TIMELINE_LINES, Reporters,
    TerminalReporter,
};
use petset::timeline::EXCERPT_MAX_LINES;
use quick_junit::{Report, TestCaseStatus};

const EVENTS: usize = 10_000;

#[derive(Debug, Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A crash loop: the pod's restarts, the set's readiness, a new Event object for each back-off
/// (these do not fold) and the healthy pod's status updates, in turn.
fn timeline() -> Vec<String> {
    (0..EVENTS)
        .map(|n| {
            let at = format!("+{}.{:03}s", n / 10, n % 10 * 100);
            match n % 4 {
                0 => format!(
                    "{at} pod/web-1 MODIFIED phase=Running ready=false restarts={}",
                    n / 4
                ),
                1 => format!("{at} sts/web MODIFIED ready=false"),
                2 => format!("{at} event/web-1.{n:05} ADDED reason=BackOff"),
                _ => format!("{at} pod/web-0 MODIFIED phase=Running ready=true"),
            }
        })
        .collect()
}

#[test]
fn a_ten_thousand_line_timeline_stays_bounded_everywhere_and_whole_in_its_file() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let reports = dir.path().join("reports");
    let terminal = Buffer::default();
    let reporters = Reporters::new(
        TerminalReporter::to(true, Box::new(terminal.clone())),
        CoverageReporter::new(Vec::new(), std::iter::empty()),
        reports.join("junit.xml"),
        reports.clone(),
    );
    let id = ScenarioId {
        area: "storage".into(),
        name: "crash-loop".into(),
    };
    let lines = timeline();
    // As an executor that does not bound the timeline itself would send it.
    let failure = Failure {
        message: "step 1 (wait pod/web-1 for ready): pod/web-1 not ready: timed out after 3m"
            .into(),
        expected: "pod/web-1 ready".into(),
        actual: "web-1: CrashLoopBackOff".into(),
        timeline: lines.join("\n"),
        diagnostics: "== pods not ready ==\npod/web-1: phase=Running restarts=2500".into(),
        ..Failure::default()
    };
    reporters.emit(Event::RunStarted {
        run_id: "r1".into(),
        cluster: None,
    });
    reporters.emit(Event::ScenarioStarted {
        id: id.clone(),
        file: "scenarios/storage/crash-loop.yaml".into(),
        covers: Vec::new(),
        namespace: "petset-storage-crash-loop-x1".into(),
        attempt: 1,
    });
    reporters.emit(Event::StepStarted {
        id: id.clone(),
        index: 1,
        kind: "wait",
        summary: "wait pod/web-1 for ready".into(),
        line: 7,
    });
    for line in &lines {
        reporters.emit(Event::Timeline {
            id: id.clone(),
            line: line.clone(),
        });
    }
    reporters.emit(Event::StepFinished {
        id: id.clone(),
        index: 1,
        outcome: StepOutcome::Failed(failure.clone()),
        elapsed: Duration::from_secs(180),
    });
    reporters.emit(Event::ScenarioFinished {
        id: id.clone(),
        attempt: 1,
        outcome: ScenarioOutcome::Failed(failure),
        elapsed: Duration::from_secs(200),
        figures: Vec::new(),
        properties: Default::default(),
    });
    reporters.emit(Event::RunFinished {
        elapsed: Duration::from_secs(201),
    });
    reporters.finish().expect("reports written");

    // The whole timeline file has every line, in order.
    let whole_name = "reports/timelines/storage--crash-loop.txt";
    let whole = std::fs::read_to_string(dir.path().join(whole_name)).expect("timeline file");
    let mut whole_lines = whole.lines();
    assert_eq!(
        whole_lines.next(),
        Some("== attempt 1, namespace petset-storage-crash-loop-x1 ==")
    );
    assert!(whole_lines.eq(lines.iter().map(String::as_str)));

    // JUnit: a readable size; the failure shows the folded lines and names the file.
    let xml = std::fs::read_to_string(reports.join("junit.xml")).expect("junit written");
    assert!(
        xml.len() < FAILURE_BODY_CAP + OUTPUT_CAP + 8 * 1024,
        "junit.xml is {} bytes",
        xml.len()
    );
    let report = Report::deserialize_from_str(&xml).expect("junit parses");
    let case = &report.test_suites[0].test_cases[0];
    let TestCaseStatus::NonSuccess { description, .. } = &case.status else {
        panic!("expected a failure: {:?}", case.status);
    };
    let body = description.as_ref().map(|d| d.as_str()).unwrap_or("");
    assert!(body.len() <= FAILURE_BODY_CAP, "{} bytes", body.len());
    let timeline_section: Vec<&str> = body
        .lines()
        .skip_while(|l| *l != "timeline:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .collect();
    assert!(
        timeline_section.len() <= EXCERPT_MAX_LINES + 1,
        "{} timeline lines in the failure",
        timeline_section.len()
    );
    assert!(body.contains(whole_name), "{body}");
    assert!(
        body.contains("pod/web-0 MODIFIED"),
        "the latest lines are shown: {body}"
    );
    let out = case
        .system_out
        .as_ref()
        .map(|o| o.as_str())
        .unwrap_or_default();
    assert!(out.len() <= OUTPUT_CAP, "system-out is {} bytes", out.len());
    assert!(
        out.lines().count() <= OUTPUT_TIMELINE_LINES + 10,
        "{} lines",
        out.lines().count()
    );
    assert!(out.contains(whole_name), "{out}");

    // The verbose terminal: bounded, and it says where the rest is.
    let printed = String::from_utf8(terminal.0.lock().expect("buffer").clone()).expect("utf-8");
    let timeline_printed = printed.lines().filter(|l| l.contains("   | ")).count();
    assert!(
        timeline_printed <= LIVE_LINES + 1,
        "{timeline_printed} timeline lines printed"
    );
    assert!(printed.lines().count() < LIVE_LINES + 20);
    assert!(
        printed.contains(&format!("the whole timeline: {whole_name}")),
        "{printed}"
    );
}

#[test]
fn a_crash_loop_folds_into_one_line_with_its_count_and_first_and_last_values() {
    let lines = timeline();
    let shown = petset::timeline::excerpt(&lines, &["pod/web-1".to_owned()], None);
    let folded: Vec<&str> = shown
        .lines()
        .filter(|l| l.contains("pod/web-1 MODIFIED"))
        .collect();
    assert_eq!(
        folded,
        [
            "+0.000s..+999.600s pod/web-1 MODIFIED 2500 times; first: phase=Running ready=false \
             restarts=0; last: phase=Running ready=false restarts=2499"
        ]
    );
}
