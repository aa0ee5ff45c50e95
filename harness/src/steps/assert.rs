//! `assert`: compare live objects with what is expected (absent, a partial object, a count, a
//! partial object every object contains, a list of items).
//!
//! With `eventually`, the check runs on every change a watch reports until it holds or the time
//! is up, so it returns as soon as the state it waits for arrives; a failure shows the last state
//! seen, cut to the fields the expectation names, with the field-level differences.

use super::dispatch::Execute;
use super::pods::more;
use super::{StepContext, StepReport, StepResult};
use crate::api::{list_target, to_value};
use crate::events::Failure;
use crate::expect::{
    Mismatch, append_differences, contains, count, each, match_items, object_name, project_all,
    report, validate, yamlish,
};
use crate::redact::redact_secret;
use crate::scenario::kinds;
use crate::scenario::model::{AssertStep, ItemsMatch, Kind, ResolvedTarget};
use crate::wait::{WaitVerdict, Watched, wait_for};
use serde_json::{Map, Value, json};

/// The step's expectations, with variables substituted.
#[derive(Debug, Clone)]
pub(crate) struct Expectation {
    pub target: ResolvedTarget,
    pub absent: bool,
    pub matches: Option<Value>,
    pub count: Option<u32>,
    pub each: Option<Value>,
    pub items: Vec<Value>,
    pub items_match: ItemsMatch,
}

/// Why the objects do not meet the expectation.
#[derive(Debug, Clone)]
pub(crate) struct Judgement {
    /// One line: the first difference, and how many more.
    pub summary: String,
    /// The objects as seen, cut to the fields that matter, with the differences.
    pub actual: String,
}

impl Expectation {
    pub(crate) fn from_step(step: &AssertStep, ctx: &StepContext) -> Result<Self, Failure> {
        let target = ctx.resolve(&step.target)?;
        let substitute = |value: &Value| {
            ctx.vars
                .substitute_value(value)
                .map_err(|error| Failure::new(format!("assert {target}: {error}")))
        };
        let expectation = Self {
            absent: step.absent,
            matches: step.matches.as_ref().map(substitute).transpose()?,
            count: step.count,
            each: step.each.as_ref().map(substitute).transpose()?,
            items: step
                .items
                .iter()
                .map(substitute)
                .collect::<Result<_, _>>()?,
            items_match: step.items_match,
            target: target.clone(),
        };
        for partial in expectation.partials() {
            validate(partial).map_err(|problems| {
                Failure::new(format!("assert {target}: the expectation is invalid"))
                    .with_expected(format!(
                        "valid operators ({})",
                        crate::expect::OPERATORS.join(", ")
                    ))
                    .with_actual(problems.to_string())
            })?;
        }
        Ok(expectation)
    }

    fn partials(&self) -> Vec<&Value> {
        self.matches
            .iter()
            .chain(self.each.iter())
            .chain(self.items.iter())
            .collect()
    }

    fn nothing_but_existence(&self) -> bool {
        !self.absent
            && self.matches.is_none()
            && self.count.is_none()
            && self.each.is_none()
            && self.items.is_empty()
    }

    /// Checks every part of the expectation against `objects` (all the target names).
    pub(crate) fn judge(&self, objects: &[Value]) -> Result<String, Judgement> {
        let (names, mismatch) = self.compare(objects);
        if mismatch.is_empty() {
            return Ok(self.passed(&names));
        }
        if self.target.kind == Kind::Secret {
            return Err(self.judge_secrets(objects));
        }
        Err(Judgement {
            summary: summary(&mismatch),
            actual: self.render_actual(objects, &mismatch),
        })
    }

    /// Why Secrets failed the expectation, told from the Secrets with their values redacted, so
    /// the differences name the keys and never show a value.
    fn judge_secrets(&self, objects: &[Value]) -> Judgement {
        let shown: Vec<Value> = objects
            .iter()
            .cloned()
            .map(|mut secret| {
                redact_secret(&mut secret);
                secret
            })
            .collect();
        let (_, mut mismatch) = self.compare(&shown);
        if mismatch.is_empty() {
            // Only the hidden values differ from what was expected.
            mismatch.push("", "the expected values", "other values (not shown)");
        }
        Judgement {
            summary: summary(&mismatch),
            actual: self.render_actual(&shown, &mismatch),
        }
    }

    /// The names of `objects` and how they differ from the expectation.
    fn compare(&self, objects: &[Value]) -> (Vec<String>, Mismatch) {
        let mut mismatch = Mismatch::default();
        let names: Vec<String> = objects
            .iter()
            .enumerate()
            .map(|(i, o)| object_name(o, i))
            .collect();
        if self.absent && !objects.is_empty() {
            mismatch.push("", "no matching object", names.join(", "));
        }
        if self.nothing_but_existence() && objects.is_empty() {
            mismatch.push("", format!("{} to exist", self.target), "nothing");
        }
        if let Some(partial) = &self.matches {
            match (self.target.is_single(), objects) {
                (true, []) => mismatch.push("", format!("{} to exist", self.target), "nothing"),
                (true, [object]) => {
                    if let Err(found) = contains(object, partial) {
                        mismatch.extend(found);
                    }
                }
                _ => {
                    if let Err(found) = each(objects, partial) {
                        mismatch.extend(found);
                    }
                }
            }
        }
        if let Some(wanted) = self.count
            && let Err(found) = count(objects, wanted as usize)
        {
            mismatch.extend(found);
        }
        if let Some(partial) = &self.each
            && let Err(found) = each(objects, partial)
        {
            mismatch.extend(found);
        }
        if !self.items.is_empty()
            && let Err(found) = match_items(objects, &self.items, self.items_match)
        {
            mismatch.extend(found);
        }
        (names, mismatch)
    }

    fn passed(&self, names: &[String]) -> String {
        if self.absent {
            return format!("{} absent", self.target);
        }
        match names {
            [] => format!("{}: no objects", self.target),
            [one] => format!("{} holds for {one}", self.describe_parts()),
            many => format!("{} holds for {} objects", self.describe_parts(), many.len()),
        }
    }

    fn describe_parts(&self) -> String {
        let mut parts = Vec::new();
        if self.matches.is_some() {
            parts.push("matches".to_owned());
        }
        if let Some(count) = self.count {
            parts.push(format!("count {count}"));
        }
        if self.each.is_some() {
            parts.push("each".to_owned());
        }
        if !self.items.is_empty() {
            parts.push(format!("{} items", self.items.len()));
        }
        if parts.is_empty() {
            "exists".to_owned()
        } else {
            parts.join(", ")
        }
    }

    fn render_actual(&self, objects: &[Value], mismatch: &Mismatch) -> String {
        if let (true, [object], Some(partial)) = (self.target.is_single(), objects, &self.matches)
            && self.each.is_none()
            && self.items.is_empty()
        {
            return report(object, partial, mismatch).actual;
        }
        let mut text = if objects.is_empty() {
            "(no objects)\n".to_owned()
        } else {
            yamlish(&project_all(objects, &self.partials()))
        };
        append_differences(&mut text, mismatch);
        text
    }

    /// The expectation as YAML-like text.
    pub(crate) fn render_expected(&self) -> String {
        let mut map = Map::new();
        if self.absent {
            map.insert("absent".into(), json!(true));
        }
        if self.nothing_but_existence() {
            map.insert("exists".into(), json!(true));
        }
        if let Some(partial) = &self.matches {
            map.insert("matches".into(), partial.clone());
        }
        if let Some(count) = self.count {
            map.insert("count".into(), json!(count));
        }
        if let Some(partial) = &self.each {
            map.insert("each".into(), partial.clone());
        }
        if !self.items.is_empty() {
            map.insert("items".into(), Value::Array(self.items.clone()));
            map.insert(
                "itemsMatch".into(),
                serde_json::to_value(self.items_match).unwrap_or_default(),
            );
        }
        yamlish(&Value::Object(map))
    }
}

fn summary(mismatch: &Mismatch) -> String {
    let first = mismatch
        .differences
        .first()
        .map(ToString::to_string)
        .unwrap_or_default();
    match mismatch.differences.len() {
        0 | 1 => first,
        n => format!("{first} (and {})", more(n - 1, "difference", "differences")),
    }
}

impl Execute for kinds::Assert {
    async fn run(step: &AssertStep, ctx: &mut StepContext) -> StepResult {
        run(step, ctx).await
    }
}

async fn run(step: &AssertStep, ctx: &StepContext) -> StepResult {
    let expectation = Expectation::from_step(step, ctx)?;
    let target = &expectation.target;
    let deadline = ctx.deadline_after(step.eventually.map(|d| d.as_std()));
    let Some(window) = step.eventually else {
        let objects = list_target(&ctx.client, &ctx.namespace, target, deadline)
            .await
            .map_err(|error| {
                Failure::new(format!("assert {target}: {error}")).with_kind(error.failure_kind())
            })?;
        let values: Vec<Value> = objects.iter().map(to_value).collect();
        return match expectation.judge(&values) {
            Ok(detail) => Ok(StepReport::detail(detail)),
            Err(judgement) => Err(failure(&expectation, &judgement, "")),
        };
    };
    let watched = Watched::new(&ctx.client, &ctx.namespace, target);
    let mut last: Option<Judgement> = None;
    let outcome = wait_for(&watched, deadline, |objects| {
        let values: Vec<Value> = objects.iter().map(to_value).collect();
        match expectation.judge(&values) {
            Ok(detail) => WaitVerdict::Met(detail),
            Err(judgement) => {
                let reason = judgement.summary.clone();
                last = Some(judgement);
                WaitVerdict::NotYet(reason)
            }
        }
    })
    .await;
    match outcome {
        Ok(observation) => Ok(StepReport::detail(format!(
            "{} after {:.1}s",
            observation.reason,
            observation.waited.as_secs_f64()
        ))),
        Err(error) => {
            let observation = error.observation();
            let when = format!(
                " (still so after {:.1}s of {window})",
                observation.waited.as_secs_f64()
            );
            match last {
                Some(judgement) if observation.listed => {
                    Err(failure(&expectation, &judgement, &when))
                }
                _ => Err(Failure::new(format!("assert {target}: {error}"))
                    .with_kind(error.failure_kind())
                    .with_expected(expectation.render_expected())
                    .with_actual(observation.render())),
            }
        }
    }
}

fn failure(expectation: &Expectation, judgement: &Judgement, when: &str) -> Failure {
    Failure::new(format!(
        "assert {}: {}{when}",
        expectation.target, judgement.summary
    ))
    .with_expected(expectation.render_expected())
    .with_actual(judgement.actual.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::model::ParsedSelector;

    fn expectation(target: ResolvedTarget) -> Expectation {
        Expectation {
            target,
            absent: false,
            matches: None,
            count: None,
            each: None,
            items: Vec::new(),
            items_match: ItemsMatch::Subset,
        }
    }

    fn pod(name: &str, phase: &str) -> Value {
        json!({"metadata": {"name": name, "uid": "u"}, "status": {"phase": phase}})
    }

    fn selected() -> ResolvedTarget {
        ResolvedTarget {
            kind: Kind::Pod,
            name: None,
            selector: Some(ParsedSelector::parse("app=web").expect("a selector")),
        }
    }

    #[test]
    fn a_secret_mismatch_names_the_key_and_shows_no_value() {
        let mut e = expectation(ResolvedTarget::object(Kind::Secret, "db"));
        let secret = json!({"metadata": {"name": "db"}, "type": "Opaque",
            "data": {"password": "aHVudGVyMjI=", "user": "YXBw"}});
        e.matches = Some(json!({"data": {"password": "bm9wZQ=="}}));
        let judgement = e.judge(std::slice::from_ref(&secret)).expect_err("differs");
        let shown = format!("{} {}", judgement.summary, judgement.actual);
        assert!(!shown.contains("aHVudGVyMjI="), "{shown}");
        assert!(
            judgement
                .summary
                .starts_with(r#"data.password: expected "bm9wZQ==", got "<redacted>""#),
            "{shown}"
        );
        // Expecting the hidden value itself still fails without showing it.
        e.matches = Some(json!({"data": {"password": "<redacted>"}}));
        let judgement = e.judge(&[secret]).expect_err("differs");
        assert!(
            judgement.summary.contains("not shown"),
            "{}",
            judgement.summary
        );
    }

    #[test]
    fn single_object_mismatch_shows_a_field_diff() {
        let mut e = expectation(ResolvedTarget::object(Kind::Pod, "web-0"));
        e.matches = Some(json!({"status": {"phase": "Running"}}));
        let judgement = e.judge(&[pod("web-0", "Pending")]).expect_err("pending");
        assert_eq!(
            judgement.summary,
            r#"status.phase: expected "Running", got "Pending""#
        );
        assert_eq!(
            judgement.actual,
            "status:\n  phase: Pending\ndifferences:\n  - status.phase: expected \"Running\", got \"Pending\"\n"
        );
        assert_eq!(
            e.render_expected(),
            "matches:\n  status:\n    phase: Running\n"
        );
        assert!(e.judge(&[pod("web-0", "Running")]).is_ok());
        let missing = e.judge(&[]).expect_err("missing");
        assert_eq!(missing.summary, "expected pod/web-0 to exist, got nothing");
    }

    #[test]
    fn absent_count_each_and_items_combine() {
        let pods = [pod("web-0", "Running"), pod("web-1", "Pending")];
        let mut absent = expectation(selected());
        absent.absent = true;
        assert_eq!(
            absent.judge(&pods).expect_err("present").summary,
            "expected no matching object, got web-0, web-1"
        );
        assert!(absent.judge(&[]).is_ok());

        let mut e = expectation(selected());
        e.count = Some(3);
        e.each = Some(json!({"status": {"phase": "Running"}}));
        let judgement = e.judge(&pods).expect_err("two wrongs");
        assert_eq!(
            judgement.summary,
            "expected 3 objects, got 2: web-0, web-1 (and 1 more difference)"
        );
        assert!(
            judgement
                .actual
                .contains("- metadata:\n    name: web-1\n  status:\n    phase: Pending"),
            "{}",
            judgement.actual
        );
        assert!(
            judgement.actual.contains("web-1: status.phase"),
            "{}",
            judgement.actual
        );

        let mut items = expectation(selected());
        items.items = vec![json!({"status": {"phase": "Pending"}})];
        items.items_match = ItemsMatch::Exact;
        assert!(items.judge(&pods).is_err());
        items.items.push(json!({"metadata": {"name": "web-0"}}));
        assert!(items.judge(&pods).is_ok());
    }

    #[test]
    fn a_bare_assert_requires_existence() {
        let e = expectation(selected());
        assert!(e.judge(&[pod("a", "Running")]).is_ok());
        assert_eq!(
            e.judge(&[]).expect_err("none").summary,
            "expected pods -l app=web to exist, got nothing"
        );
    }
}
