//! `assert`: compare live objects with a partial object, a count, a list, or absence.

use super::{KindRules, Named};
use crate::model::{Duration, ItemsMatch, Target};
use crate::validate::StepCheck;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `assert`: compare live objects with what is expected.
///
/// Partial objects match when every key they name matches; lists inside them match when each
/// expected element matches a distinct live element. A value may be an operator map:
/// `{$ne: X}`, `{$gt: N}`, `{$gte: N}`, `{$lt: N}`, `{$lte: N}`, `{$regex: "..."}`,
/// `{$exists: true|false}`, `{$in: [a, b]}`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AssertStep {
    pub target: Target,
    /// The target must not exist (no object matches).
    #[serde(default)]
    pub absent: bool,
    /// A partial object the single target must contain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matches: Option<Value>,
    /// Exactly this many objects match the selector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// A partial object every matching object must contain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub each: Option<Value>,
    /// Partial objects matched against the list, as `itemsMatch` says.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Value>,
    #[serde(default)]
    pub items_match: ItemsMatch,
    /// Retry until the assertion holds or this long has passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eventually: Option<Duration>,
}

impl KindRules for super::Assert {
    fn summary(assert: &AssertStep) -> String {
        format!("assert {}", assert.target)
    }

    fn targets(assert: &AssertStep) -> Named<'_> {
        vec![(&assert.target, &["target"])]
    }

    fn time_limit(assert: &AssertStep, default: std::time::Duration) -> std::time::Duration {
        assert
            .eventually
            .map_or(default, |eventually| eventually.as_std())
    }

    fn check(assert: &AssertStep, check: &mut StepCheck<'_, '_>) {
        let has_items = !assert.items.is_empty();
        let checks = assert.matches.is_some()
            || assert.count.is_some()
            || assert.each.is_some()
            || has_items;
        if !assert.absent && !checks {
            check.whole(
                "this `assert` checks nothing",
                "give `matches`, `count`, `each`, `items` or `absent: true`",
            );
        }
        if assert.absent && checks {
            check.whole(
                "`absent: true` contradicts the other expectations",
                "an absent object has no fields or count; keep one",
            );
        }
        if assert.matches.is_some() && !assert.target.is_single() {
            check.error(
                &["matches"],
                "`matches` compares one object; the target is a set",
                "use `each` (every object) or `items` (a list) with a selector",
            );
        }
        if (has_items || assert.each.is_some() || assert.count.is_some())
            && assert.target.is_single()
        {
            check.error(
                &["target"],
                "`count`, `each` and `items` need a set of objects, not one named object",
                "target `{kind: pod, selector: app=web}`, or use `matches` for one object",
            );
        }
        for (field, partial) in [("matches", &assert.matches), ("each", &assert.each)] {
            if let Some(partial) = partial {
                check.operators(&[field], partial);
            }
        }
        for item in &assert.items {
            check.operators(&["items"], item);
        }
    }
}
