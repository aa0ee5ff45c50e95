//! Which entries an assertion reads: the objects it speaks of, the window after a mark, and the
//! violation it reports.

use crate::scenario::model::Kind;
use crate::scenario::model::ParsedSelector;
use crate::timeline::{Change, TimelineEntry};

/// Which recorded objects an assertion speaks of: one kind, by name or label selector.
#[derive(Debug, Clone)]
pub struct Subjects {
    pub kind: Kind,
    pub name: Option<String>,
    pub selector: Option<ParsedSelector>,
}

impl Subjects {
    /// Whether `entry` is about one of the subjects, judged by the labels it carries.
    pub fn includes(&self, entry: &TimelineEntry) -> bool {
        entry.kind == Some(self.kind)
            && self.name.as_ref().is_none_or(|name| &entry.name == name)
            && self
                .selector
                .as_ref()
                .is_none_or(|selector| selector.matches(&entry.labels))
    }
}

/// An assertion that did not hold: what was violated and the entries that show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub message: String,
    pub entries: Vec<TimelineEntry>,
}

impl Violation {
    pub(super) fn new(message: impl Into<String>, entries: Vec<TimelineEntry>) -> Self {
        Self {
            message: message.into(),
            entries,
        }
    }

    /// The evidence as report lines.
    pub fn render(&self) -> String {
        self.entries
            .iter()
            .map(TimelineEntry::to_line)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The entries of a timeline and where the window under test starts.
#[derive(Debug, Clone, Copy)]
pub struct Window<'a> {
    pub entries: &'a [TimelineEntry],
    /// Index of the first entry after the mark (0 for the whole timeline).
    pub start: usize,
}

impl<'a> Window<'a> {
    /// The window after the first mark named `mark` (the whole timeline for `None`); `None`
    /// when that mark was never set.
    pub fn after_mark(entries: &'a [TimelineEntry], mark: Option<&str>) -> Option<Self> {
        let start = match mark {
            None => 0,
            Some(mark) => {
                entries
                    .iter()
                    .position(|e| e.change == Change::Mark(mark.to_owned()))?
                    + 1
            }
        };
        Some(Self { entries, start })
    }

    pub(super) fn indexed(&self) -> impl Iterator<Item = (usize, &'a TimelineEntry)> {
        self.entries.iter().enumerate().skip(self.start)
    }

    /// The first entry in the window about `kind/name` satisfying `pred`.
    pub(super) fn first(
        &self,
        kind: Kind,
        name: &str,
        pred: impl Fn(&TimelineEntry) -> bool,
    ) -> Option<(usize, &'a TimelineEntry)> {
        self.indexed()
            .find(|(_, e)| e.kind == Some(kind) && e.name == name && pred(e))
    }

    /// The last entry about `kind/name` before index `before` (from the very start).
    pub(super) fn state_before(
        &self,
        kind: Kind,
        name: &str,
        before: usize,
    ) -> Option<&'a TimelineEntry> {
        self.entries[..before.min(self.entries.len())]
            .iter()
            .rev()
            .find(|e| e.kind == Some(kind) && e.name == name)
    }

    /// Every window entry about one of `names`, for evidence.
    pub(super) fn about(&self, kind: Kind, names: &[String]) -> Vec<TimelineEntry> {
        self.indexed()
            .filter(|(_, e)| e.kind == Some(kind) && names.contains(&e.name))
            .map(|(_, e)| e.clone())
            .collect()
    }

    pub(super) fn where_(&self) -> &'static str {
        if self.start == 0 {
            "in the recorded timeline"
        } else {
            "after the mark"
        }
    }
}

/// An entry's time as reports show it: `+1.204s`.
pub(super) fn at(entry: &TimelineEntry) -> String {
    format!("+{:.3}s", entry.at.as_secs_f64())
}
