//! Timeline lines on a verbose terminal, bounded: a run of MODIFIED lines of one object prints
//! its first line and then one line saying how many followed and their last values, and at most
//! [`LIVE_LINES`] lines print per attempt; the rest are in the timeline file.

use std::collections::BTreeMap;

use crate::events::ScenarioId;
use crate::timeline::{ModifiedRun, TimelineLine};

/// At most this many timeline lines print per attempt of a scenario.
pub const LIVE_LINES: usize = 200;

/// What is being folded for each running scenario.
#[derive(Debug, Default)]
pub(crate) struct LiveTimeline {
    scenarios: BTreeMap<ScenarioId, Scenario>,
}

#[derive(Debug, Default)]
struct Scenario {
    printed: usize,
    /// Whether the "no more lines" note was printed.
    stopped: bool,
    /// Open MODIFIED runs by object; their first line has printed.
    runs: BTreeMap<String, ModifiedRun>,
}

impl LiveTimeline {
    /// A new attempt of `id` starts: nothing printed yet.
    pub(crate) fn start(&mut self, id: &ScenarioId) {
        self.scenarios.remove(id);
    }

    /// The lines to print for one streamed timeline line (often none).
    pub(crate) fn line(&mut self, id: &ScenarioId, line: &str, whole: &str) -> Vec<String> {
        let scenario = self.scenarios.entry(id.clone()).or_default();
        let mut out = Vec::new();
        match TimelineLine::parse(line) {
            Some(parsed) if parsed.is_modified() => {
                if let Some(run) = scenario.runs.get_mut(parsed.object) {
                    run.extend(&parsed);
                    return out;
                }
                scenario
                    .runs
                    .insert(parsed.object.to_owned(), ModifiedRun::start(&parsed));
            }
            Some(parsed) if parsed.is_mark() => out.extend(scenario.close_all()),
            Some(parsed) => out.extend(scenario.close(parsed.object)),
            None => {}
        }
        out.push(line.to_owned());
        scenario.limit(out, whole)
    }

    /// The folded runs still open when a step or the scenario ends.
    pub(crate) fn flush(&mut self, id: &ScenarioId, whole: &str) -> Vec<String> {
        match self.scenarios.get_mut(id) {
            Some(scenario) => {
                let out = scenario.close_all();
                scenario.limit(out, whole)
            }
            None => Vec::new(),
        }
    }
}

impl Scenario {
    fn close(&mut self, object: &str) -> Option<String> {
        self.runs.remove(object).and_then(|run| followers(&run))
    }

    fn close_all(&mut self) -> Vec<String> {
        std::mem::take(&mut self.runs)
            .values()
            .filter_map(followers)
            .collect()
    }

    /// Passes `lines` as long as the attempt is under [`LIVE_LINES`], then says so once.
    fn limit(&mut self, lines: Vec<String>, whole: &str) -> Vec<String> {
        let mut out = Vec::new();
        for line in lines {
            if self.printed < LIVE_LINES {
                self.printed += 1;
                out.push(line);
            } else if !self.stopped {
                self.stopped = true;
                out.push(format!(
                    "(more than {LIVE_LINES} timeline lines: the rest are not printed; the whole \
                     timeline: {whole})"
                ));
            }
        }
        out
    }
}

/// The line for the MODIFIED lines after a run's first (which printed when it came).
fn followers(run: &ModifiedRun) -> Option<String> {
    (run.count > 1).then(|| {
        format!(
            "{} {} MODIFIED {} more times since {}; last: {}",
            run.last_at,
            run.object,
            run.count - 1,
            run.first_at,
            run.last
        )
        .trim_end()
        .to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> ScenarioId {
        ScenarioId {
            area: "storage".into(),
            name: "crash".into(),
        }
    }

    #[test]
    fn a_crash_loop_prints_two_lines_and_a_long_timeline_stops() {
        let mut live = LiveTimeline::default();
        let mut printed = Vec::new();
        for n in 1..=500 {
            let line = format!("+{n}.000s pod/web-1 MODIFIED ready=false restarts={n}");
            printed.extend(live.line(&id(), &line, "reports/t.txt"));
        }
        printed.extend(live.line(&id(), "+501.000s pod/web-1 DELETED", "reports/t.txt"));
        assert_eq!(
            printed,
            [
                "+1.000s pod/web-1 MODIFIED ready=false restarts=1",
                "+500.000s pod/web-1 MODIFIED 499 more times since +1.000s; last: ready=false \
                 restarts=500",
                "+501.000s pod/web-1 DELETED",
            ]
        );
        let mut printed = Vec::new();
        for n in 0..1000 {
            let line = format!("+{n}.000s pod/other-{n} ADDED");
            printed.extend(live.line(&id(), &line, "reports/t.txt"));
        }
        assert_eq!(printed.len(), LIVE_LINES - 3 + 1);
        assert_eq!(
            printed.last().map(String::as_str),
            Some(
                "(more than 200 timeline lines: the rest are not printed; the whole timeline: \
                 reports/t.txt)"
            )
        );
    }
}
