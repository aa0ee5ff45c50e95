//! `reports/detection.md`: one row per catalogue behaviour and switch, the clean pass, and how
//! stable both were over the rounds run; and the list of what makes the run fail.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use petset::scenario::Suite;
use petset_fakeapi::emulation::Fault;

use super::switches::{Breaks, TABLE};
use crate::Outcome;

/// What one round showed for one row of the switch table.
pub enum RowResult {
    /// Every scenario that checks the behaviour is unsupported by the emulation.
    NotExercised,
    Caught {
        by: String,
        message: String,
    },
    Missed {
        runs: Vec<Outcome>,
    },
}

pub struct Report {
    /// Catalogue ids in catalogue order, with the scenarios covering each.
    behaviours: Vec<(String, Vec<String>)>,
    unsupported: BTreeMap<&'static str, &'static str>,
    total_scenarios: usize,
    /// Per row of [`TABLE`], one result per round.
    rows: Vec<Vec<RowResult>>,
    /// The clean pass and its wall time, per round.
    clean: Vec<Vec<Outcome>>,
    clean_walls: Vec<Duration>,
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    let bounded: String = line.chars().take(400).collect();
    let cut = if bounded.len() < line.len() {
        " ..."
    } else {
        ""
    };
    format!("{}{cut}", bounded.replace('|', "\\|"))
}

impl Report {
    pub fn new(suite: &Suite, unsupported: &[(&'static str, &'static str)]) -> Self {
        let behaviours = suite
            .catalogue
            .iter()
            .flat_map(|catalogue| catalogue.ids())
            .map(|id| {
                let covering = suite
                    .scenarios
                    .iter()
                    .filter(|l| l.scenario.covers.iter().any(|c| c.value == id))
                    .map(|l| format!("{}/{}", l.id.area, l.id.name))
                    .collect();
                (id.to_string(), covering)
            })
            .collect();
        Self {
            behaviours,
            unsupported: unsupported.iter().copied().collect(),
            total_scenarios: suite.scenarios.len(),
            rows: TABLE.iter().map(|_| Vec::new()).collect(),
            clean: Vec::new(),
            clean_walls: Vec::new(),
        }
    }

    pub fn record_row(&mut self, row: &Breaks, result: RowResult) {
        if let Some(i) = TABLE.iter().position(|r| std::ptr::eq(r, row)) {
            self.rows[i].push(result);
        }
    }

    pub fn record_clean(&mut self, clean: Vec<Outcome>, wall: Duration) {
        self.clean.push(clean);
        self.clean_walls.push(wall);
    }

    /// Whether every scenario that covers `id` is one the emulation cannot run.
    fn only_unsupported(&self, id: &str) -> bool {
        self.behaviours
            .iter()
            .find(|(b, _)| b == id)
            .is_some_and(|(_, covering)| {
                !covering.is_empty()
                    && covering
                        .iter()
                        .all(|s| self.unsupported.contains_key(s.as_str()))
            })
    }

    /// Everything that makes the run fail, one line each: the flakes, then switches or
    /// behaviours the run does not exercise.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = self.flakes();
        for fault in Fault::ALL {
            if !TABLE.iter().any(|row| row.fault == fault) {
                problems.push(format!(
                    "switch {} breaks no behaviour of the switch table",
                    fault.name()
                ));
            }
        }
        for (id, _) in &self.behaviours {
            let exercised = TABLE.iter().zip(&self.rows).any(|(row, results)| {
                row.behaviour == id
                    && !results.is_empty()
                    && results
                        .iter()
                        .all(|r| !matches!(r, RowResult::NotExercised))
            });
            if !exercised && !self.only_unsupported(id) {
                problems.push(format!(
                    "behaviour {id} has no switch that the run exercises"
                ));
            }
        }
        problems
    }

    /// A clean scenario failing, or a switch not caught, in any round.
    fn flakes(&self) -> Vec<String> {
        let mut flakes = Vec::new();
        for (round, clean) in self.clean.iter().enumerate() {
            for o in clean.iter().filter(|o| !o.passed) {
                flakes.push(format!(
                    "round {}: clean run of {} failed: {}",
                    round + 1,
                    o.id,
                    o.message
                ));
            }
        }
        for (row, results) in TABLE.iter().zip(&self.rows) {
            for (round, result) in results.iter().enumerate() {
                if let RowResult::Missed { runs } = result {
                    let why: Vec<String> = runs
                        .iter()
                        .map(|o| format!("{}: {}", o.id, first_line(&o.message)))
                        .collect();
                    flakes.push(format!(
                        "round {}: switch {} ({}) not caught: {}",
                        round + 1,
                        row.fault.name(),
                        row.behaviour,
                        why.join("; ")
                    ));
                }
            }
        }
        flakes
    }

    pub fn render(&self, rounds: usize, elapsed: Duration) -> String {
        let mut md = String::from(
            "# Detection run\n\nThe shipped scenarios against the fake API server's controller emulation \
             (`cargo test -p petset --test detection`): a clean pass, then every fault switch, each breaking \
             one catalogue behaviour.\n\n## Behaviours\n\n\
             | behaviour | switch | scenarios run | caught by | failure (first line) | must contain |\n\
             | --- | --- | --- | --- | --- | --- |\n",
        );
        let mut caught_behaviours = 0;
        let mut not_exercised = Vec::new();
        let (mut rows_caught, mut rows_exercised) = (0, 0);
        for (id, _) in &self.behaviours {
            let mine: Vec<(&Breaks, &Vec<RowResult>)> = TABLE
                .iter()
                .zip(&self.rows)
                .filter(|(row, _)| row.behaviour == id)
                .collect();
            if mine.is_empty() {
                not_exercised.push(id.clone());
                let _ = writeln!(
                    md,
                    "| {id} | none | - | not exercised: {} | - | - |",
                    self.why_unsupported(id)
                );
                continue;
            }
            let mut all_caught = true;
            for (row, results) in mine {
                let caught = results
                    .iter()
                    .filter(|r| matches!(r, RowResult::Caught { .. }))
                    .count();
                let words = row
                    .words
                    .iter()
                    .map(|w| format!("`{}`", w.replace('|', "\\|")))
                    .collect::<Vec<_>>()
                    .join(", ");
                let ran = row.scenarios.join(", ");
                let times = if rounds > 1 {
                    format!(" ({caught} of {rounds} rounds)")
                } else {
                    String::new()
                };
                match results.first() {
                    Some(RowResult::NotExercised) | None => {
                        all_caught = false;
                        let _ = writeln!(
                            md,
                            "| {id} | {} | {ran} | not exercised: {} | - | {words} |",
                            row.fault.name(),
                            self.why_unsupported(id)
                        );
                    }
                    Some(RowResult::Caught { by, message }) => {
                        rows_exercised += 1;
                        if caught == results.len() {
                            rows_caught += 1;
                        } else {
                            all_caught = false;
                        }
                        let _ = writeln!(
                            md,
                            "| {id} | {} | {ran} | {by}{times} | {} | {words} |",
                            row.fault.name(),
                            first_line(message)
                        );
                    }
                    Some(RowResult::Missed { runs }) => {
                        rows_exercised += 1;
                        all_caught = false;
                        let why: Vec<String> = runs
                            .iter()
                            .map(|o| {
                                if o.passed {
                                    format!("{} passed", o.id)
                                } else {
                                    format!("{}: {}", o.id, first_line(&o.message))
                                }
                            })
                            .collect();
                        let _ = writeln!(
                            md,
                            "| {id} | {} | {ran} | **not caught**{times} | {} | {words} |",
                            row.fault.name(),
                            why.join("; ")
                        );
                    }
                }
            }
            if all_caught {
                caught_behaviours += 1;
            } else if !not_exercised.contains(id) {
                not_exercised.push(id.clone());
            }
        }
        let total = self.behaviours.len();
        let _ = writeln!(
            md,
            "\n{caught_behaviours} of {total} behaviours have every switch caught; {rows_caught} of \
             {rows_exercised} exercised switch rows caught in every round. Not exercised or not \
             caught: {}.",
            if not_exercised.is_empty() {
                "none".to_string()
            } else {
                not_exercised.join(", ")
            }
        );
        md.push_str("\n## Clean run\n\n| scenario | result | time |\n| --- | --- | --- |\n");
        let first = self.clean.first().cloned().unwrap_or_default();
        for o in &first {
            let result = if o.passed {
                "passed".to_string()
            } else {
                format!("FAILED: {}", first_line(&o.message))
            };
            let _ = writeln!(
                md,
                "| {} | {result} | {:.1}s |",
                o.id,
                o.elapsed.as_secs_f64()
            );
        }
        let green = first.iter().filter(|o| o.passed).count();
        let _ = writeln!(
            md,
            "\n{green} of {} scenarios pass end to end here; {} are not supported (below). The \
             clean pass took {} (wall time per round, its scenarios running {} at a time beside \
             the first fault runs).",
            self.total_scenarios,
            self.unsupported.len(),
            self.clean_walls
                .iter()
                .map(|w| format!("{:.0}s", w.as_secs_f64()))
                .collect::<Vec<_>>()
                .join(", "),
            crate::CONCURRENCY
        );
        let flakes = self.flakes().len();
        let _ = writeln!(
            md,
            "\n## Stability\n\n{rounds} round(s) of the clean pass and every switch \
             (`PETSET_DETECTION_ROUNDS={rounds}`); flakes (a clean scenario failing or a switch \
             not caught, in any round): {flakes}.\n\n## Not supported by the emulation\n"
        );
        for (name, why) in &self.unsupported {
            let _ = writeln!(md, "- `{name}`: {why}");
        }
        let _ = writeln!(
            md,
            "\nTotal time: {:.0}s for {rounds} round(s), on the machine that wrote this file.",
            elapsed.as_secs_f64()
        );
        md
    }

    fn why_unsupported(&self, id: &str) -> String {
        let covering: Vec<String> = self
            .behaviours
            .iter()
            .find(|(b, _)| b == id)
            .map(|(_, c)| c.clone())
            .unwrap_or_default();
        let names: Vec<String> = covering
            .iter()
            .filter(|s| self.unsupported.contains_key(s.as_str()))
            .map(|s| format!("`{s}` is unsupported"))
            .collect();
        if names.is_empty() {
            "no supported scenario runs it".to_string()
        } else {
            names.join(", ")
        }
    }
}
