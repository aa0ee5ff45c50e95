//! Running one assertion, and saying in words what it asserts.

use super::counts::{at_least, at_most, never_overlap, state_name};
use super::order::{gone_before_next, in_order, ready_before_next, without_waiting};
use super::{Subjects, Violation, Window};
use crate::scenario::model::TimelineExpect;
use crate::timeline::Change;

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
