//! Bounded views of a timeline for failure reports: the lines that matter (the failed step's
//! subjects and the most recent ones), with runs of MODIFIED lines of one object folded into one
//! line that gives their count and first and last values.
//!
//! A pod restarting in a loop records hundreds of near-identical MODIFIED lines; a failure shows
//! a handful of lines and names the file that holds all of them.

use std::collections::BTreeMap;

/// The failed step's subjects and the last this many (folded) lines are shown.
pub const RECENT_LINES: usize = 20;
/// At most this many lines are shown, the newest kept.
pub const MAX_LINES: usize = 60;

/// One timeline line (`+1.204s pod/web-1 MODIFIED phase=Running ready=true`), split up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TimelineLine<'a> {
    /// `+1.204s`.
    pub at: &'a str,
    /// `pod/web-1`, or `mark` for a mark.
    pub object: &'a str,
    /// `ADDED`, `MODIFIED`, `DELETED`, or the mark's name.
    pub change: &'a str,
    /// The fields after the change, possibly empty.
    pub rest: &'a str,
}

impl<'a> TimelineLine<'a> {
    /// Splits `line`; `None` for text that is not a timeline line (a note, a header).
    pub(crate) fn parse(line: &'a str) -> Option<Self> {
        let mut parts = line.splitn(4, ' ');
        let at = parts.next().filter(|at| at.starts_with('+'))?;
        let object = parts.next()?;
        let change = parts.next()?;
        Some(Self {
            at,
            object,
            change,
            rest: parts.next().unwrap_or(""),
        })
    }

    pub(crate) fn is_modified(&self) -> bool {
        self.change == "MODIFIED" && self.object != "mark"
    }

    pub(crate) fn is_mark(&self) -> bool {
        self.object == "mark"
    }
}

/// A run of MODIFIED lines of one object, not interrupted by its own ADDED or DELETED or by a
/// mark (lines of other objects may come in between).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ModifiedRun {
    pub object: String,
    pub count: usize,
    pub first_at: String,
    pub first: String,
    pub last_at: String,
    pub last: String,
}

impl ModifiedRun {
    pub(crate) fn start(line: &TimelineLine<'_>) -> Self {
        Self {
            object: line.object.to_owned(),
            count: 1,
            first_at: line.at.to_owned(),
            first: line.rest.to_owned(),
            last_at: line.at.to_owned(),
            last: line.rest.to_owned(),
        }
    }

    pub(crate) fn extend(&mut self, line: &TimelineLine<'_>) {
        self.count += 1;
        self.last_at = line.at.to_owned();
        self.last = line.rest.to_owned();
    }

    /// The run as one line; a run of one is the line itself.
    pub(crate) fn folded(&self) -> String {
        let Self {
            object,
            count,
            first_at,
            first,
            last_at,
            last,
        } = self;
        if *count == 1 {
            return format!("{first_at} {object} MODIFIED {first}")
                .trim_end()
                .to_owned();
        }
        let values = if first == last {
            format!("each: {first}")
        } else {
            format!("first: {first}; last: {last}")
        };
        format!("{first_at}..{last_at} {object} MODIFIED {count} times; {values}")
            .trim_end()
            .to_owned()
    }
}

/// A folded line and the object it is about (`None` for notes and marks).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Folded {
    object: Option<String>,
    text: String,
    /// The position of its (last) line in the timeline: a run still going on is as recent as
    /// its latest change.
    anchor: usize,
}

/// Folds each run of MODIFIED lines of one object into one line, placed where the run's last
/// line was.
fn fold<S: AsRef<str>>(lines: &[S]) -> Vec<Folded> {
    let mut out: Vec<Folded> = Vec::new();
    let mut runs: Vec<Option<ModifiedRun>> = Vec::new();
    let mut open: BTreeMap<String, usize> = BTreeMap::new();
    for (anchor, line) in lines.iter().enumerate() {
        let text = line.as_ref();
        let Some(parsed) = TimelineLine::parse(text) else {
            out.push(Folded {
                object: None,
                text: text.to_owned(),
                anchor,
            });
            runs.push(None);
            continue;
        };
        if parsed.is_mark() {
            open.clear();
        } else if parsed.is_modified() {
            if let Some(&at) = open.get(parsed.object)
                && let Some(run) = runs[at].as_mut()
            {
                run.extend(&parsed);
                out[at].anchor = anchor;
                continue;
            }
            open.insert(parsed.object.to_owned(), out.len());
            runs.push(Some(ModifiedRun::start(&parsed)));
            out.push(Folded {
                object: Some(parsed.object.to_owned()),
                text: String::new(),
                anchor,
            });
            continue;
        } else {
            open.remove(parsed.object);
        }
        out.push(Folded {
            object: (!parsed.is_mark()).then(|| parsed.object.to_owned()),
            text: text.to_owned(),
            anchor,
        });
        runs.push(None);
    }
    for (folded, run) in out.iter_mut().zip(&runs) {
        if let Some(run) = run {
            folded.text = run.folded();
        }
    }
    out.sort_by_key(|folded| folded.anchor);
    out
}

/// Whether `object` (`pod/web-1`) is one of `subjects`: `kind/name`, or `kind/` for every
/// object of a kind (a target given by a selector).
fn is_subject(object: &str, subjects: &[String]) -> bool {
    subjects.iter().any(|subject| {
        if subject.ends_with('/') {
            object.starts_with(subject.as_str())
        } else {
            object == subject
        }
    })
}

/// The timeline lines that matter for a failure: those of `subjects` and the last
/// [`RECENT_LINES`], MODIFIED runs folded, at most [`MAX_LINES`]. When lines are left out, a
/// first line says how many are shown and where the whole timeline is (`whole`).
pub fn excerpt<S: AsRef<str>>(lines: &[S], subjects: &[String], whole: Option<&str>) -> String {
    select(lines, subjects, RECENT_LINES, MAX_LINES, whole)
}

/// The last `count` lines, MODIFIED runs folded, with the same note as [`excerpt`].
pub fn latest<S: AsRef<str>>(lines: &[S], count: usize, whole: Option<&str>) -> String {
    select(lines, &[], count, count, whole)
}

fn select<S: AsRef<str>>(
    lines: &[S],
    subjects: &[String],
    recent: usize,
    max: usize,
    whole: Option<&str>,
) -> String {
    let folded = fold(lines);
    let recent_from = folded.len().saturating_sub(recent);
    let mut chosen: Vec<&Folded> = folded
        .iter()
        .enumerate()
        .filter(|(at, line)| {
            *at >= recent_from
                || line
                    .object
                    .as_deref()
                    .is_some_and(|object| is_subject(object, subjects))
        })
        .map(|(_, line)| line)
        .collect();
    if chosen.len() > max {
        chosen.drain(..chosen.len() - max);
    }
    let mut out = Vec::with_capacity(chosen.len() + 1);
    if chosen.len() < lines.len() {
        let which = if subjects.is_empty() {
            "the latest changes"
        } else {
            "the failed step's subjects and the latest changes"
        };
        let mut note = format!(
            "({} lines stand for the timeline's {}: {which}, repeated MODIFIED lines folded",
            chosen.len(),
            lines.len()
        );
        match whole {
            Some(whole) => note.push_str(&format!("; the whole timeline: {whole})")),
            None => note.push(')'),
        }
        out.push(note);
    }
    out.extend(chosen.into_iter().map(|line| line.text.clone()));
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crash_loop(restarts: usize) -> Vec<String> {
        let mut lines = vec![
            "+0.100s sts/web ADDED ready=false".to_owned(),
            "+0.200s pod/web-0 ADDED phase=Pending".to_owned(),
            "+0.300s pod/web-1 ADDED phase=Pending".to_owned(),
        ];
        for n in 1..=restarts {
            lines.push(format!(
                "+{n}.000s pod/web-1 MODIFIED phase=Running ready=false restarts={n}"
            ));
            lines.push(format!("+{n}.500s sts/web MODIFIED ready=false"));
        }
        lines
    }

    #[test]
    fn repeated_modified_lines_of_one_object_fold_into_one() {
        let lines = crash_loop(570);
        let text = excerpt(
            &lines,
            &["pod/web-1".to_owned()],
            Some("reports/timelines/x.txt"),
        );
        assert_eq!(
            text.lines().collect::<Vec<_>>(),
            [
                "(5 lines stand for the timeline's 1143: the failed step's subjects and the \
                 latest changes, repeated MODIFIED lines folded; the whole timeline: \
                 reports/timelines/x.txt)",
                "+0.100s sts/web ADDED ready=false",
                "+0.200s pod/web-0 ADDED phase=Pending",
                "+0.300s pod/web-1 ADDED phase=Pending",
                "+1.000s..+570.000s pod/web-1 MODIFIED 570 times; first: phase=Running \
                 ready=false restarts=1; last: phase=Running ready=false restarts=570",
                "+1.500s..+570.500s sts/web MODIFIED 570 times; each: ready=false",
            ]
        );
    }

    #[test]
    fn a_run_ends_at_its_objects_own_add_or_delete_and_at_a_mark() {
        let lines = [
            "+1.000s pod/web-0 MODIFIED ready=false",
            "+2.000s pod/web-0 MODIFIED ready=true",
            "+3.000s pod/web-0 DELETED",
            "+4.000s pod/web-0 MODIFIED ready=false",
            "+5.000s mark scaled",
            "+6.000s pod/web-0 MODIFIED ready=true",
        ];
        assert_eq!(
            excerpt(&lines, &[], None).lines().collect::<Vec<_>>(),
            [
                "(5 lines stand for the timeline's 6: the latest changes, repeated MODIFIED lines \
                 folded)",
                "+1.000s..+2.000s pod/web-0 MODIFIED 2 times; first: ready=false; last: ready=true",
                "+3.000s pod/web-0 DELETED",
                "+4.000s pod/web-0 MODIFIED ready=false",
                "+5.000s mark scaled",
                "+6.000s pod/web-0 MODIFIED ready=true",
            ]
        );
    }

    #[test]
    fn the_subjects_lines_and_the_latest_are_kept_and_the_rest_left_out() {
        let mut lines: Vec<String> = (0..500)
            .map(|n| format!("+{n}.000s pod/other-{n} ADDED phase=Pending"))
            .collect();
        lines.insert(10, "+10.500s pod/web-0 ADDED phase=Pending".to_owned());
        let text = excerpt(&lines, &["pod/web-0".to_owned()], None);
        let shown: Vec<&str> = text.lines().skip(1).collect();
        assert_eq!(shown.len(), 1 + RECENT_LINES);
        assert_eq!(shown[0], "+10.500s pod/web-0 ADDED phase=Pending");
        assert_eq!(
            shown[RECENT_LINES],
            "+499.000s pod/other-499 ADDED phase=Pending"
        );
        // A selector's subjects are every object of its kind: capped, the newest kept.
        let text = excerpt(&lines, &["pod/".to_owned()], None);
        assert_eq!(text.lines().count(), 1 + MAX_LINES);
        assert!(text.ends_with("+499.000s pod/other-499 ADDED phase=Pending"));
    }

    #[test]
    fn a_short_timeline_is_shown_whole_without_a_note() {
        let lines = [
            "+0.100s pod/web-0 ADDED phase=Pending",
            "+0.200s mark ready",
        ];
        assert_eq!(excerpt(&lines, &[], None), lines.join("\n"));
    }
}
