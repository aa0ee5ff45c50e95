//! Assertions about the order of events: creation, deletion, readiness before the next creation,
//! one deletion at a time, creation without waiting.

use super::window::at;
use super::{Violation, Window};
use crate::scenario::model::Kind;
use crate::timeline::{Change, TimelineEntry};

pub(super) fn in_order(
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

pub(super) fn ready_before_next(
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

pub(super) fn gone_before_next(
    window: Window<'_>,
    kind: Kind,
    names: &[String],
) -> Result<String, Violation> {
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
        // The instance whose deletion started must be gone; a replacement with the same name
        // (a StatefulSet's rolling update) may already exist.
        let Some((previous_index, previous_deletion)) = started(previous) else {
            return Err(Violation::new(
                format!(
                    "deletion of {kind}/{previous} never started {}",
                    window.where_()
                ),
                window.about(kind, names),
            ));
        };
        let gone = window
            .entries
            .iter()
            .enumerate()
            .skip(previous_index)
            .find(|(_, e)| {
                e.kind == Some(kind)
                    && e.change == Change::Deleted
                    && e.name == *previous
                    && e.uid == previous_deletion.uid
            });
        if gone.is_some_and(|(gone_index, _)| gone_index < index) {
            continue;
        }
        let when = gone.map_or("it was never gone".to_owned(), |(_, g)| {
            format!("it was gone only at {}", at(g))
        });
        let mut evidence = vec![previous_deletion.clone(), deletion.clone()];
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
    Ok(format!(
        "each gone before deletion of the next started: {}",
        names.join(" -> ")
    ))
}

pub(super) fn without_waiting(
    window: Window<'_>,
    kind: Kind,
    names: &[String],
) -> Result<String, Violation> {
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
