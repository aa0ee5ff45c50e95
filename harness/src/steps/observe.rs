//! `observe`: follow the target with a watch for a while and fail at the first change that breaks
//! what must hold (stays absent, keeps its count, keeps containing a partial object; with none of
//! these, the set of matching objects must not change).
//!
//! The check runs on the first complete list and on every watch event after it, so the failure
//! names the first event that broke the rule and when it came. An observation that never got a
//! complete list cannot vouch for anything and fails.
//!
//! A watch trails the API server, so the end of the window is not the end of the evidence: before
//! the observation passes, a fresh list taken when the window ends must show nothing the watch has
//! not delivered (see [`crate::timeline::delivered`]). A violation the watch delivers meanwhile
//! fails the step; a watch that cannot be shown to have caught up fails it as unconfirmed.

use super::dispatch::Execute;
use super::{StepContext, StepReport, StepResult};
use crate::api::{ApiError, to_value, with_retry};
use crate::events::{Failure, FailureKind};
use crate::expect::{
    Mismatch, append_differences, each, object_name, project_all, validate, yamlish,
};
use crate::scenario::kinds;
use crate::scenario::model::{ObserveStep, ResolvedTarget};
use crate::timeline::delivered::{Delivered, Listed, NotConfirmed, wait_until_delivered};
use crate::wait::{Observation, WaitError, WaitVerdict, Watched, wait_for};
use kube::api::ListParams;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Duration;
use tokio::time::Instant;

/// The first change that broke the rule.
struct Violation {
    /// Time into the observation, and into the scenario.
    after: Duration,
    scenario_at: Duration,
    summary: String,
    actual: String,
}

impl Execute for kinds::Observe {
    async fn run(step: &ObserveStep, ctx: &mut StepContext) -> StepResult {
        run(step, ctx).await
    }
}

async fn run(step: &ObserveStep, ctx: &StepContext) -> StepResult {
    let target = ctx.resolve(&step.target)?;
    let keeps = step
        .keeps
        .as_ref()
        .map(|value| ctx.vars.substitute_value(value))
        .transpose()
        .map_err(|error| Failure::new(format!("observe {target}: {error}")))?;
    if let Some(keeps) = &keeps {
        validate(keeps).map_err(|problems| {
            Failure::new(format!("observe {target}: the expectation is invalid"))
                .with_actual(problems.to_string())
        })?;
    }
    let during = step.during.as_std();
    let started = Instant::now();
    let end = crate::clock::after(started, during);
    if let Some(scenario_end) = ctx.deadline
        && scenario_end < end
    {
        return Err(Failure::new(format!(
            "observe {target}: the scenario's time runs out {:.1}s before the {} observation \
             would end",
            (end - scenario_end).as_secs_f64(),
            step.during
        )));
    }
    let rule = Rule {
        absent: step.absent,
        count: step.count,
        keeps,
    };
    let expected = rule.render();
    let watched = Watched::new(&ctx.client, &ctx.namespace, &target);
    // After the window, the watch gets this long to show it delivered everything up to its end.
    let confirm_by = ctx
        .deadline
        .map_or(end + ctx.default_timeout, |scenario_end| {
            (end + ctx.default_timeout).min(scenario_end)
        });
    let delivered = Delivered::default();
    let mut baseline: Option<BTreeSet<String>> = None;
    let mut violation: Option<Violation> = None;
    let mut last_state = String::new();
    let ended = {
        let watching = wait_for(&watched, confirm_by, |objects| {
            let listed: Vec<Listed> = objects.iter().map(Listed::of).collect();
            delivered.now_holds(&listed);
            let values: Vec<Value> = objects.iter().map(to_value).collect();
            match rule.check(&values, &mut baseline) {
                Ok(state) => {
                    last_state.clone_from(&state);
                    WaitVerdict::NotYet(state)
                }
                Err(mismatch) => {
                    let summary = mismatch
                        .to_string()
                        .lines()
                        .next()
                        .unwrap_or_default()
                        .to_owned();
                    let mut actual = if values.is_empty() {
                        "(no objects)\n".to_owned()
                    } else {
                        yamlish(&project_all(
                            &values,
                            &rule.keeps.iter().collect::<Vec<_>>(),
                        ))
                    };
                    append_differences(&mut actual, &mismatch);
                    violation = Some(Violation {
                        after: started.elapsed(),
                        scenario_at: ctx.timeline.elapsed(),
                        summary: summary.clone(),
                        actual,
                    });
                    WaitVerdict::Impossible(summary)
                }
            }
        });
        tokio::pin!(watching);
        tokio::select! {
            biased;
            outcome = &mut watching => Ended::Watch(outcome),
            () = tokio::time::sleep_until(end) => {
                if delivered.has_listed() {
                    // The watch trails the API: a change made within the window may not have
                    // arrived yet. It must first deliver everything a list taken now shows, and
                    // a violation it delivers meanwhile counts.
                    let confirmed = wait_until_delivered(
                        &delivered,
                        || list_watched(&watched, &target, confirm_by),
                        confirm_by,
                    );
                    tokio::select! {
                        biased;
                        outcome = &mut watching => Ended::Watch(outcome),
                        confirmed = confirmed => match confirmed {
                            Ok(()) => Ended::Held,
                            Err(not_confirmed) => Ended::NotConfirmed(not_confirmed),
                        },
                    }
                } else {
                    Ended::NeverListed
                }
            }
        }
    };
    match ended {
        Ended::Held => Ok(StepReport::detail(format!(
            "{target} held for {}: {last_state}",
            step.during
        ))),
        Ended::NotConfirmed(not_confirmed) => Err(Failure::new(format!(
            "observe {target}: {}",
            not_confirmed.describe("the watch")
        ))
        .with_kind(FailureKind::Api)
        .with_expected(expected)),
        Ended::Watch(Err(WaitError::Impossible(_))) if violation.is_some() => {
            let Some(violation) = violation else {
                return Err(Failure::new(format!(
                    "observe {target}: no violation recorded"
                )));
            };
            let when = if violation.after > during {
                format!(
                    "delivered by the watch {:.1}s after the {} window ended, as it caught up",
                    (violation.after - during).as_secs_f64(),
                    step.during
                )
            } else {
                format!(
                    "after {:.1}s of {}",
                    violation.after.as_secs_f64(),
                    step.during
                )
            };
            Err(Failure::new(format!(
                "observe {target}: {} {when} (at +{:.3}s in the scenario)",
                violation.summary,
                violation.scenario_at.as_secs_f64()
            ))
            .with_expected(expected)
            .with_actual(violation.actual))
        }
        Ended::NeverListed => Err(Failure::new(format!(
            "observe {target}: no complete list of {target} was received in {}, so nothing can \
             be said about it",
            step.during
        ))
        // Without a complete list nothing was observed: petset could not look.
        .with_kind(FailureKind::Api)
        .with_expected(expected)),
        Ended::Watch(Err(error)) => {
            let kind = match &error {
                WaitError::TimedOut(_) => FailureKind::Api,
                other => other.failure_kind(),
            };
            let why = match &error {
                WaitError::TimedOut(_) => format!(
                    "petset could not confirm the evidence: the watch ran out of time before it \
                     caught up with the API ({})",
                    error.observation().reason
                ),
                other => other.to_string(),
            };
            Err(Failure::new(format!("observe {target}: {why}"))
                .with_kind(kind)
                .with_expected(expected)
                .with_actual(error.observation().render()))
        }
        Ended::Watch(Ok(observation)) => Err(Failure::new(format!(
            "observe {target}: the observation ended early ({})",
            observation.reason
        ))),
    }
}

/// How following the target ended.
enum Ended {
    /// The watch ended by itself: a violation, an API error, or its deadline.
    Watch(Result<Observation, WaitError>),
    /// The window ended before the watch completed a list.
    NeverListed,
    /// The window ended, and the watch was shown to have delivered everything up to its end.
    Held,
    /// The window ended, but the watch could not be shown to have caught up.
    NotConfirmed(NotConfirmed),
}

/// The objects the watch follows, as the API lists them now.
async fn list_watched(
    watched: &Watched,
    target: &ResolvedTarget,
    deadline: Instant,
) -> Result<Vec<Listed>, ApiError> {
    let mut params = ListParams::default();
    if let Some(selector) = &watched.selector {
        params = params.labels(selector);
    }
    if let Some(name) = &watched.name {
        params = params.fields(&format!("metadata.name={name}"));
    }
    let what = format!("list {target} to check the watch has caught up");
    let list = with_retry(&what, deadline, || watched.api.list(&params)).await?;
    Ok(list
        .items
        .iter()
        .filter(|object| {
            watched
                .name
                .as_ref()
                .is_none_or(|name| object.metadata.name.as_ref() == Some(name))
        })
        .map(Listed::of)
        .collect())
}

/// What must hold at every moment.
struct Rule {
    absent: bool,
    count: Option<u32>,
    keeps: Option<Value>,
}

impl Rule {
    fn plain(&self) -> bool {
        !self.absent && self.count.is_none() && self.keeps.is_none()
    }

    /// `Ok(account of the state)` while the rule holds. `baseline` remembers the first set of
    /// names, for the rule that nothing appears or disappears.
    fn check(
        &self,
        objects: &[Value],
        baseline: &mut Option<BTreeSet<String>>,
    ) -> Result<String, Mismatch> {
        let names: BTreeSet<String> = objects
            .iter()
            .enumerate()
            .map(|(i, o)| object_name(o, i))
            .collect();
        let listed = names.iter().cloned().collect::<Vec<_>>().join(", ");
        let mut mismatch = Mismatch::default();
        if self.absent && !objects.is_empty() {
            mismatch.push("", "no matching object", format!("{listed} appeared"));
        }
        if let Some(count) = self.count
            && objects.len() != count as usize
        {
            mismatch.push(
                "",
                format!("the count to stay {count}"),
                format!(
                    "{}: {}",
                    objects.len(),
                    if listed.is_empty() { "none" } else { &listed }
                ),
            );
        }
        if let Some(keeps) = &self.keeps
            && let Err(found) = each(objects, keeps)
        {
            mismatch.extend(found);
        }
        if self.plain() {
            match baseline {
                None => *baseline = Some(names.clone()),
                Some(first) if *first != names => {
                    let appeared: Vec<&String> = names.difference(first).collect();
                    let gone: Vec<&String> = first.difference(&names).collect();
                    let mut change = Vec::new();
                    if !appeared.is_empty() {
                        change.push(format!("appeared: {}", join(&appeared)));
                    }
                    if !gone.is_empty() {
                        change.push(format!("gone: {}", join(&gone)));
                    }
                    mismatch.push(
                        "",
                        format!(
                            "the same objects throughout ({})",
                            join(&first.iter().collect::<Vec<_>>())
                        ),
                        change.join("; "),
                    );
                }
                Some(_) => {}
            }
        }
        if mismatch.is_empty() {
            Ok(format!(
                "{} matching: {}",
                objects.len(),
                if listed.is_empty() { "none" } else { &listed }
            ))
        } else {
            Err(mismatch)
        }
    }

    fn render(&self) -> String {
        let mut map = serde_json::Map::new();
        if self.absent {
            map.insert("absent".into(), json!(true));
        }
        if let Some(count) = self.count {
            map.insert("count".into(), json!(count));
        }
        if let Some(keeps) = &self.keeps {
            map.insert("keeps".into(), keeps.clone());
        }
        if self.plain() {
            map.insert("unchanged".into(), json!("the same set of objects"));
        }
        yamlish(&Value::Object(map))
    }
}

fn join(names: &[&String]) -> String {
    names
        .iter()
        .map(|n| n.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, ready: bool) -> Value {
        json!({"metadata": {"name": name}, "status": {"ready": ready}})
    }

    #[test]
    fn count_and_keeps_are_checked_at_every_moment() {
        let rule = Rule {
            absent: false,
            count: Some(2),
            keeps: Some(json!({"status": {"ready": true}})),
        };
        let mut baseline = None;
        assert!(
            rule.check(&[pod("a", true), pod("b", true)], &mut baseline)
                .is_ok()
        );
        let broken = rule
            .check(
                &[pod("a", true), pod("b", false), pod("c", true)],
                &mut baseline,
            )
            .expect_err("count and readiness");
        assert_eq!(
            broken.to_string(),
            "expected the count to stay 2, got 3: a, b, c\nb: status.ready: expected true, got false"
        );
    }

    #[test]
    fn absent_means_nothing_appears() {
        let rule = Rule {
            absent: true,
            count: None,
            keeps: None,
        };
        let mut baseline = None;
        assert!(rule.check(&[], &mut baseline).is_ok());
        let broken = rule
            .check(&[pod("web-3", false)], &mut baseline)
            .expect_err("appeared");
        assert_eq!(
            broken.to_string(),
            "expected no matching object, got web-3 appeared"
        );
    }

    #[test]
    fn a_plain_observation_keeps_the_first_set_of_objects() {
        let rule = Rule {
            absent: false,
            count: None,
            keeps: None,
        };
        let mut baseline = None;
        assert!(rule.check(&[pod("a", true)], &mut baseline).is_ok());
        assert!(
            rule.check(&[pod("a", false)], &mut baseline).is_ok(),
            "changes inside are fine"
        );
        let broken = rule
            .check(&[pod("b", true)], &mut baseline)
            .expect_err("replaced");
        assert_eq!(
            broken.to_string(),
            "expected the same objects throughout (a), got appeared: b; gone: a"
        );
    }
}
