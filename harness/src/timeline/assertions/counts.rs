//! Assertions about how many subjects were in a state at each moment: `atMost`, `atLeast` and
//! `neverOverlap`, by replaying the timeline.

use super::window::at;
use super::{Subjects, Violation, Window};
use crate::scenario::model::{CountBound, PodState};
use crate::timeline::{Change, TimelineEntry};
use std::collections::{BTreeMap, BTreeSet};

pub(super) fn state_name(state: PodState) -> &'static str {
    match state {
        PodState::Exists => "existing",
        PodState::Running => "running",
        PodState::Ready => "ready",
    }
}

/// The subjects' states moment by moment: after the entries before the window, then after each
/// window entry that concerns the subjects' kind.
struct Replay<'a> {
    window: Window<'a>,
    subjects: &'a Subjects,
    state: PodState,
}

/// One moment: the entry that led to it (`None` for the window's start) and the subjects in the
/// state then.
struct Moment<'a> {
    cause: Option<&'a TimelineEntry>,
    members: Vec<&'a TimelineEntry>,
}

impl<'a> Replay<'a> {
    fn moments(&self) -> Vec<Moment<'a>> {
        let mut live: BTreeMap<String, &'a TimelineEntry> = BTreeMap::new();
        let mut moments = Vec::new();
        for (index, entry) in self.window.entries.iter().enumerate() {
            if index == self.window.start {
                moments.push(self.moment(None, &live));
            }
            if entry.kind != Some(self.subjects.kind) {
                continue;
            }
            let key = if entry.uid.is_empty() {
                entry.name.clone()
            } else {
                entry.uid.clone()
            };
            if entry.change == Change::Deleted {
                live.remove(&key);
            } else {
                live.insert(key, entry);
            }
            if index >= self.window.start {
                moments.push(self.moment(Some(entry), &live));
            }
        }
        if self.window.start >= self.window.entries.len() {
            moments.push(self.moment(None, &live));
        }
        moments
    }

    fn moment(
        &self,
        cause: Option<&'a TimelineEntry>,
        live: &BTreeMap<String, &'a TimelineEntry>,
    ) -> Moment<'a> {
        let members = live
            .values()
            .copied()
            .filter(|e| self.subjects.includes(e) && in_state(e, self.state))
            .collect();
        Moment { cause, members }
    }
}

fn in_state(entry: &TimelineEntry, state: PodState) -> bool {
    match state {
        PodState::Exists => !entry.deleting,
        PodState::Running => entry.phase.as_deref() == Some("Running"),
        // A terminating pod is no longer available to controllers, whatever its condition says.
        PodState::Ready => entry.ready == Some(true) && !entry.deleting,
    }
}

fn names_of(members: &[&TimelineEntry]) -> String {
    if members.is_empty() {
        return "none".to_owned();
    }
    members
        .iter()
        .map(|e| e.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The moment's evidence: the entry that caused it, then each member's latest entry.
fn evidence(moment: &Moment<'_>) -> Vec<TimelineEntry> {
    let mut entries: Vec<TimelineEntry> = moment.cause.into_iter().cloned().collect();
    entries.extend(
        moment
            .members
            .iter()
            .filter(|e| moment.cause.is_none_or(|cause| !std::ptr::eq(**e, cause)))
            .map(|e| (*e).clone()),
    );
    entries
}

fn when(moment: &Moment<'_>) -> String {
    match moment.cause {
        Some(entry) => format!("at {} (after {})", at(entry), entry.to_line()),
        None => "at the start of the window".to_owned(),
    }
}

pub(super) fn at_most(
    window: Window<'_>,
    subjects: &Subjects,
    bound: &CountBound,
) -> Result<String, Violation> {
    let replay = Replay {
        window,
        subjects,
        state: bound.state,
    };
    let mut peak = 0;
    for moment in replay.moments() {
        let count = moment.members.len();
        peak = peak.max(count);
        if count > bound.count as usize {
            return Err(Violation::new(
                format!(
                    "{count} {} {} {}: {}; expected at most {}",
                    subjects.kind.plural(),
                    state_name(bound.state),
                    when(&moment),
                    names_of(&moment.members),
                    bound.count
                ),
                evidence(&moment),
            ));
        }
    }
    Ok(format!(
        "at most {} {} (peak {peak})",
        bound.count,
        state_name(bound.state)
    ))
}

pub(super) fn at_least(
    window: Window<'_>,
    subjects: &Subjects,
    bound: &CountBound,
) -> Result<String, Violation> {
    let replay = Replay {
        window,
        subjects,
        state: bound.state,
    };
    let wanted = bound.count as usize;
    let mut reached = false;
    let mut low: Option<usize> = None;
    let mut most = 0;
    for moment in replay.moments() {
        let count = moment.members.len();
        most = most.max(count);
        if count >= wanted {
            reached = true;
        } else if reached {
            return Err(Violation::new(
                format!(
                    "only {count} {} {} {}: {}; expected at least {wanted}",
                    subjects.kind.plural(),
                    state_name(bound.state),
                    when(&moment),
                    names_of(&moment.members),
                ),
                evidence(&moment),
            ));
        }
        if reached {
            low = Some(low.map_or(count, |low: usize| low.min(count)));
        }
    }
    match low {
        Some(low) => Ok(format!(
            "at least {wanted} {} once reached (lowest {low})",
            state_name(bound.state)
        )),
        None => Err(Violation::new(
            format!(
                "never {wanted} {} {} at once {} (at most {most}); the bound was never reached, \
                 so it cannot be said to hold",
                subjects.kind.plural(),
                state_name(bound.state),
                window.where_()
            ),
            Vec::new(),
        )),
    }
}

pub(super) fn never_overlap(
    window: Window<'_>,
    subjects: &Subjects,
    label: &str,
    state: PodState,
) -> Result<String, Violation> {
    let replay = Replay {
        window,
        subjects,
        state,
    };
    let mut groups_seen: BTreeSet<String> = BTreeSet::new();
    for moment in replay.moments() {
        let mut groups: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for member in &moment.members {
            let value = member
                .labels
                .get(label)
                .map_or_else(|| "(no label)".to_owned(), |v| format!("{label}={v}"));
            groups.entry(value).or_default().push(&member.name);
        }
        groups_seen.extend(groups.keys().cloned());
        if groups.len() > 1 {
            let parts: Vec<String> = groups
                .iter()
                .map(|(group, names)| format!("{group}: {}", names.join(", ")))
                .collect();
            return Err(Violation::new(
                format!(
                    "{} {} with different `{label}` together {}: {}",
                    subjects.kind.plural(),
                    state_name(state),
                    when(&moment),
                    parts.join("; ")
                ),
                evidence(&moment),
            ));
        }
    }
    Ok(format!(
        "never overlapped ({} groups by `{label}` seen)",
        groups_seen.len()
    ))
}
