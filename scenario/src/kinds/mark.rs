//! `mark`: a named point on the recorded timeline, for `timeline: {since: <mark>}`.

use super::KindRules;
use crate::validate::StepCheck;

/// The mark's name.
pub type MarkStep = String;

impl KindRules for super::Mark {
    fn summary(name: &MarkStep) -> String {
        format!("mark {name}")
    }

    fn check(name: &MarkStep, check: &mut StepCheck<'_, '_>) {
        if check.flow.marks.contains(name) {
            check.whole(
                format!("the mark `{name}` is set twice"),
                "give each mark its own name, so `timeline: {since: ...}` is unambiguous",
            );
        }
    }

    fn mark(name: &MarkStep) -> Option<&str> {
        Some(name)
    }
}
