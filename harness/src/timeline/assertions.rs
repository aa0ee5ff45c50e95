//! Ordering and counting assertions over a recorded timeline (`timeline: {expect: [...]}`).
//!
//! Entries are ordered by their position in the timeline, not by their timestamps: entries of one
//! kind come from one watch stream, so their order is the order the API server committed the
//! changes, even when two share a millisecond.
//!
//! Assertions about events (created, deleted) look only at entries after the window's start
//! (a `mark`); assertions about state (ready, counts) replay every entry, so objects that existed
//! before the mark are known with the state they had.
//!
//! The states counted by `atMost`, `atLeast` and `neverOverlap`:
//! - `exists`: the object exists and its deletion has not started (a terminating pod no longer
//!   counts, as Deployments and StatefulSets do not count it);
//! - `running`: phase Running, terminating or not (its containers still run);
//! - `ready`: the Ready condition is True.

use super::{Change, TimelineEntry};
use crate::expect::Selector;
use crate::scenario::model::{CountBound, Kind, PodState, TimelineExpect};
use std::collections::{BTreeMap, BTreeSet};

/// Which recorded objects an assertion speaks of: one kind, by name or label selector.
#[derive(Debug, Clone)]
pub struct Subjects {
    pub kind: Kind,
    pub name: Option<String>,
    pub selector: Option<Selector>,
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
    fn new(message: impl Into<String>, entries: Vec<TimelineEntry>) -> Self {
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

    fn indexed(&self) -> impl Iterator<Item = (usize, &'a TimelineEntry)> {
        self.entries.iter().enumerate().skip(self.start)
    }

    /// The first entry in the window about `kind/name` satisfying `pred`.
    fn first(
        &self,
        kind: Kind,
        name: &str,
        pred: impl Fn(&TimelineEntry) -> bool,
    ) -> Option<(usize, &'a TimelineEntry)> {
        self.indexed()
            .find(|(_, e)| e.kind == Some(kind) && e.name == name && pred(e))
    }

    /// The last entry about `kind/name` before index `before` (from the very start).
    fn state_before(&self, kind: Kind, name: &str, before: usize) -> Option<&'a TimelineEntry> {
        self.entries[..before.min(self.entries.len())]
            .iter()
            .rev()
            .find(|e| e.kind == Some(kind) && e.name == name)
    }

    /// Every window entry about one of `names`, for evidence.
    fn about(&self, kind: Kind, names: &[String]) -> Vec<TimelineEntry> {
        self.indexed()
            .filter(|(_, e)| e.kind == Some(kind) && names.contains(&e.name))
            .map(|(_, e)| e.clone())
            .collect()
    }

    fn where_(&self) -> &'static str {
        if self.start == 0 {
            "in the recorded timeline"
        } else {
            "after the mark"
        }
    }
}

/// Checks one assertion; `Ok` carries a short account of what held.
pub fn evaluate(
    window: Window<'_>,
    subjects: &Subjects,
    expect: &TimelineExpect,
) -> Result<String, Violation> {
    let kind = subjects.kind;
    match expect {
        TimelineExpect::CreatedInOrder(names) => {
            in_order(window, kind, names, "created", "creation", |e| {
                e.change == Change::Added
            })
        }
        TimelineExpect::DeletedInOrder(names) => {
            in_order(window, kind, names, "deleted", "deletion", |e| {
                e.deleting || e.change == Change::Deleted
            })
        }
        TimelineExpect::ReadyBeforeNextCreated(names) => ready_before_next(window, kind, names),
        TimelineExpect::GoneBeforeNextDeleted(names) => gone_before_next(window, kind, names),
        TimelineExpect::CreatedWithoutWaiting(names) => without_waiting(window, kind, names),
        TimelineExpect::AtMost(bound) => at_most(window, subjects, bound),
        TimelineExpect::AtLeast(bound) => at_least(window, subjects, bound),
        TimelineExpect::NeverOverlap(overlap) => {
            never_overlap(window, subjects, &overlap.label, overlap.state)
        }
    }
}

/// The assertion in words, for the `expected` side of a failure.
pub fn describe(expect: &TimelineExpect) -> String {
    match expect {
        TimelineExpect::CreatedInOrder(names) => format!("created in order: {}", names.join(", ")),
        TimelineExpect::DeletedInOrder(names) => format!("deleted in order: {}", names.join(", ")),
        TimelineExpect::ReadyBeforeNextCreated(names) => format!(
            "each Ready before the next is created: {}",
            names.join(" -> ")
        ),
        TimelineExpect::GoneBeforeNextDeleted(names) => format!(
            "each gone before deletion of the next starts: {}",
            names.join(" -> ")
        ),
        TimelineExpect::CreatedWithoutWaiting(names) => {
            format!("all created before any is Ready: {}", names.join(", "))
        }
        TimelineExpect::AtMost(bound) => format!(
            "at most {} {} at any moment",
            bound.count,
            state_name(bound.state)
        ),
        TimelineExpect::AtLeast(bound) => format!(
            "at least {} {} at every moment once reached",
            bound.count,
            state_name(bound.state)
        ),
        TimelineExpect::NeverOverlap(overlap) => format!(
            "never {} with different `{}` at the same moment",
            state_name(overlap.state),
            overlap.label
        ),
    }
}

fn state_name(state: PodState) -> &'static str {
    match state {
        PodState::Exists => "existing",
        PodState::Running => "running",
        PodState::Ready => "ready",
    }
}

fn at(entry: &TimelineEntry) -> String {
    format!("+{:.3}s", entry.at.as_secs_f64())
}

fn in_order(
    window: Window<'_>,
    kind: Kind,
    names: &[String],
    past: &str,
    noun: &str,
    happened: impl Fn(&TimelineEntry) -> bool,
) -> Result<String, Violation> {
    let mut seen: Vec<(usize, &TimelineEntry)> = Vec::new();
    for name in names {
        match window.first(kind, name, &happened) {
            Some(found) => seen.push(found),
            None => {
                return Err(Violation::new(
                    format!("{kind}/{name} was never {past} {}", window.where_()),
                    window.about(kind, names),
                ));
            }
        }
    }
    for (pair, next) in seen.iter().zip(seen.iter().skip(1)) {
        if next.0 < pair.0 {
            return Err(Violation::new(
                format!(
                    "{kind}/{} was {past} at {} before {kind}/{} at {}; expected {noun} order {}",
                    next.1.name,
                    at(next.1),
                    pair.1.name,
                    at(pair.1),
                    names.join(", ")
                ),
                vec![next.1.clone(), pair.1.clone()],
            ));
        }
    }
    Ok(format!("{past} in order: {}", names.join(", ")))
}

fn ready_before_next(
    window: Window<'_>,
    kind: Kind,
    names: &[String],
) -> Result<String, Violation> {
    let created = |name: &str| window.first(kind, name, |e| e.change == Change::Added);
    if let [only] = names
        && created(only).is_none()
    {
        return Err(Violation::new(
            format!("{kind}/{only} was never created {}", window.where_()),
            Vec::new(),
        ));
    }
    for pair in names.windows(2) {
        let (previous, next) = (&pair[0], &pair[1]);
        let Some((index, creation)) = created(next) else {
            return Err(Violation::new(
                format!("{kind}/{next} was never created {}", window.where_()),
                window.about(kind, names),
            ));
        };
        let before = window.state_before(kind, previous, index);
        let ready = before.is_some_and(|e| e.change != Change::Deleted && e.ready == Some(true));
        if !ready {
            let state = match before {
                None => "did not exist yet".to_owned(),
                Some(e) if e.change == Change::Deleted => format!("was gone (since {})", at(e)),
                Some(e) => format!(
                    "was not Ready (last seen at {}: phase={} ready={})",
                    at(e),
                    e.phase.as_deref().unwrap_or("?"),
                    e.ready.map_or("?".to_owned(), |r| r.to_string())
                ),
            };
            let mut evidence: Vec<TimelineEntry> = before.into_iter().cloned().collect();
            evidence.push(creation.clone());
            return Err(Violation::new(
                format!(
                    "{kind}/{next} was created at {} while {kind}/{previous} {state}; \
                     expected each to be Ready before the next is created",
                    at(creation)
                ),
                evidence,
            ));
        }
    }
    Ok(format!(
        "each Ready before the next was created: {}",
        names.join(" -> ")
    ))
}

fn gone_before_next(window: Window<'_>, kind: Kind, names: &[String]) -> Result<String, Violation> {
    let started =
        |name: &str| window.first(kind, name, |e| e.deleting || e.change == Change::Deleted);
    for pair in names.windows(2) {
        let (previous, next) = (&pair[0], &pair[1]);
        let Some((index, deletion)) = started(next) else {
            return Err(Violation::new(
                format!(
                    "deletion of {kind}/{next} never started {}",
                    window.where_()
                ),
                window.about(kind, names),
            ));
        };
        let before = window.state_before(kind, previous, index);
        match before {
            Some(e) if e.change == Change::Deleted => {}
            None => {
                return Err(Violation::new(
                    format!("{kind}/{previous} never appears in the timeline"),
                    window.about(kind, names),
                ));
            }
            Some(e) => {
                let gone = window.first(kind, previous, |e| e.change == Change::Deleted);
                let when = gone.map_or("it was never gone".to_owned(), |(_, g)| {
                    format!("it was gone only at {}", at(g))
                });
                let mut evidence = vec![e.clone(), deletion.clone()];
                evidence.extend(gone.map(|(_, g)| g.clone()));
                return Err(Violation::new(
                    format!(
                        "deletion of {kind}/{next} started at {} while {kind}/{previous} was still \
                         there ({when}); expected one at a time",
                        at(deletion)
                    ),
                    evidence,
                ));
            }
        }
    }
    Ok(format!(
        "each gone before deletion of the next started: {}",
        names.join(" -> ")
    ))
}

fn without_waiting(window: Window<'_>, kind: Kind, names: &[String]) -> Result<String, Violation> {
    let mut last_created: Option<(usize, &TimelineEntry)> = None;
    for name in names {
        let Some(found) = window.first(kind, name, |e| e.change == Change::Added) else {
            return Err(Violation::new(
                format!("{kind}/{name} was never created {}", window.where_()),
                window.about(kind, names),
            ));
        };
        if last_created.is_none_or(|(index, _)| found.0 > index) {
            last_created = Some(found);
        }
    }
    let Some((last_index, last)) = last_created else {
        return Ok("no objects named".to_owned());
    };
    let first_ready = names
        .iter()
        .filter_map(|name| window.first(kind, name, |e| e.ready == Some(true)))
        .min_by_key(|(index, _)| *index);
    if let Some((index, ready)) = first_ready
        && index < last_index
    {
        return Err(Violation::new(
            format!(
                "{kind}/{} became Ready at {} before {kind}/{} was created at {}; expected all to \
                 be created without waiting for readiness",
                ready.name,
                at(ready),
                last.name,
                at(last)
            ),
            vec![ready.clone(), last.clone()],
        ));
    }
    Ok(format!("all {} created before any was Ready", names.len()))
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
        PodState::Ready => entry.ready == Some(true),
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

fn at_most(
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

fn at_least(
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

fn never_overlap(
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

#[cfg(test)]
#[path = "assertions_tests.rs"]
mod tests;
