//! `timeline`: assertions over everything recorded in the namespace since the start or a mark.

use super::{KindRules, Named};
use crate::model::Target;
use crate::similar;
use crate::validate::StepCheck;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `timeline`: assertions over everything recorded in the namespace since the start or a mark.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TimelineStep {
    /// The objects the assertions speak of, usually `{kind: pod, selector: app=web}`.
    pub target: Target,
    /// Only consider what happened after this `mark`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    pub expect: Vec<TimelineExpect>,
}

/// The state of a pod that a timeline count speaks of.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum PodState {
    /// The object exists (not yet deleted).
    #[default]
    Exists,
    /// Phase Running.
    Running,
    /// Ready condition True.
    Ready,
}

/// A bound on how many target objects were in a state at any moment.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CountBound {
    pub count: u32,
    #[serde(default)]
    pub state: PodState,
}

/// One assertion over the timeline.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub enum TimelineExpect {
    /// These objects were first created in this order.
    CreatedInOrder(Vec<String>),
    /// These objects were deleted (deletion started) in this order.
    DeletedInOrder(Vec<String>),
    /// Each pod was Ready before the next one was created (OrderedReady).
    ReadyBeforeNextCreated(Vec<String>),
    /// Each object was gone before deletion of the next one started (one at a time).
    GoneBeforeNextDeleted(Vec<String>),
    /// All these pods were created before any of them became Ready (Parallel).
    CreatedWithoutWaiting(Vec<String>),
    /// At no moment were more target objects in the state than this.
    AtMost(CountBound),
    /// At no moment (after the first time it was reached) were fewer in the state than this.
    AtLeast(CountBound),
    /// At no moment were pods with different values of this label in the state together
    /// (e.g. `pod-template-hash` for a Recreate Deployment).
    NeverOverlap(NeverOverlap),
}

/// Groups of pods, by a label's value, that must never be in a state at the same time.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NeverOverlap {
    pub label: String,
    #[serde(default)]
    pub state: PodState,
}

impl KindRules for super::Timeline {
    fn summary(timeline: &TimelineStep) -> String {
        format!("timeline of {}", timeline.target)
    }

    fn targets(timeline: &TimelineStep) -> Named<'_> {
        vec![(&timeline.target, &["target"])]
    }

    fn check(timeline: &TimelineStep, check: &mut StepCheck<'_, '_>) {
        if timeline.expect.is_empty() {
            check.error(
                &["expect"],
                "the timeline expects nothing",
                "list at least one expectation, e.g. `- createdInOrder: [web-0, web-1]`",
            );
        }
        if let Some(since) = &timeline.since
            && check.gates.marks
            && !check.flow.marks.contains(since)
        {
            let help = similar::did_you_mean(since, check.flow.marks.iter().map(String::as_str))
                .unwrap_or_else(|| format!("add `- mark: {since}` before the steps to look at"));
            check.error(
                &["since"],
                format!("no `mark: {since}` comes before this step"),
                help,
            );
        }
        for expectation in timeline.expect.iter().filter(|_| check.gates.references) {
            let names = match expectation {
                TimelineExpect::CreatedInOrder(names)
                | TimelineExpect::DeletedInOrder(names)
                | TimelineExpect::ReadyBeforeNextCreated(names)
                | TimelineExpect::GoneBeforeNextDeleted(names)
                | TimelineExpect::CreatedWithoutWaiting(names) => names,
                _ => continue,
            };
            for name in names {
                let target = Target::object(timeline.target.kind, name.clone());
                if let Err(unknown) = check.objects.check(&target) {
                    check.located(
                        "step::unknown-object",
                        &["expect"],
                        unknown.message,
                        "in this list",
                        unknown.help,
                    );
                }
            }
        }
    }
}
