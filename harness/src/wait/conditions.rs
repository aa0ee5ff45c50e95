//! The conditions a `wait` step can wait for, as pure functions of the objects last observed.
//!
//! Each check returns a [`WaitVerdict`]: met (with a short account), not yet (with what is missing,
//! shown if the deadline passes), or impossible (waiting longer cannot help, e.g. a Deployment
//! whose progress deadline was exceeded).

use crate::scenario::model::{ConditionMatch, Kind, WaitFor};
use serde_json::Value;

/// The outcome of checking a condition against the objects observed so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitVerdict {
    Met(String),
    NotYet(String),
    Impossible(String),
}

impl WaitVerdict {
    pub fn is_met(&self) -> bool {
        matches!(self, WaitVerdict::Met(_))
    }
}

/// Checks `until` against `objects` (all of `kind`); `single` says whether the target named one
/// object, in which case that object must exist for anything but `deleted` to hold.
pub fn evaluate(until: &WaitFor, kind: Kind, single: bool, objects: &[Value]) -> WaitVerdict {
    match until {
        WaitFor::Exists => match objects.len() {
            0 => WaitVerdict::NotYet("no matching object exists yet".to_owned()),
            n => WaitVerdict::Met(format!("{n} {} exist", plural(kind, n))),
        },
        WaitFor::Deleted => match names(objects).as_slice() {
            [] => WaitVerdict::Met("gone".to_owned()),
            left => WaitVerdict::NotYet(format!("still present: {}", left.join(", "))),
        },
        WaitFor::Count(want) => {
            let have = objects.len();
            if have == *want as usize {
                WaitVerdict::Met(format!("{have} {} match", plural(kind, have)))
            } else {
                WaitVerdict::NotYet(format!("{have} match, want {want}"))
            }
        }
        WaitFor::Ready => every(kind, single, objects, |o| ready(kind, o)),
        WaitFor::RolledOut => every(kind, single, objects, |o| rolled_out(kind, o)),
        WaitFor::Bound => every(kind, single, objects, |o| has_phase(o, "Bound")),
        WaitFor::Phase(phase) => every(kind, single, objects, |o| has_phase(o, phase)),
        WaitFor::Condition(wanted) => every(kind, single, objects, |o| has_condition(o, wanted)),
        WaitFor::ReadyCount(want) => {
            let ready_names: Vec<String> = objects
                .iter()
                .filter(|o| ready(kind, o).is_ok())
                .map(name_of)
                .collect();
            if ready_names.len() >= *want as usize {
                WaitVerdict::Met(format!(
                    "{} ready: {}",
                    ready_names.len(),
                    ready_names.join(", ")
                ))
            } else {
                WaitVerdict::NotYet(format!(
                    "{} of {} ready, want at least {want}{}",
                    ready_names.len(),
                    objects.len(),
                    why_not_ready(kind, objects)
                ))
            }
        }
        WaitFor::Matches(partial) => every(kind, single, objects, |o| {
            crate::expect::contains(o, partial)
                .map_err(|mismatch| mismatch.to_string().replace('\n', "; "))
        }),
    }
}

/// Marks a reason as final: waiting cannot change it. Checks of one object return `Ok` when it
/// holds, `Err(why not)` while it does not, and `Err` starting with this when it never will.
const IMPOSSIBLE: &str = "impossible: ";

fn every(
    kind: Kind,
    single: bool,
    objects: &[Value],
    check: impl Fn(&Value) -> Result<(), String>,
) -> WaitVerdict {
    if objects.is_empty() {
        return WaitVerdict::NotYet(if single {
            "the object does not exist yet".to_owned()
        } else {
            format!("no matching {} exist yet", kind.plural())
        });
    }
    let mut waiting = Vec::new();
    for object in objects {
        if let Err(reason) = check(object) {
            if let Some(reason) = reason.strip_prefix(IMPOSSIBLE) {
                return WaitVerdict::Impossible(format!("{}: {reason}", name_of(object)));
            }
            waiting.push(format!("{}: {reason}", name_of(object)));
        }
    }
    if waiting.is_empty() {
        let all = names(objects);
        WaitVerdict::Met(if single {
            all.join(", ")
        } else {
            format!("all {}: {}", all.len(), all.join(", "))
        })
    } else {
        WaitVerdict::NotYet(waiting.join("; "))
    }
}

fn plural(kind: Kind, n: usize) -> String {
    if n == 1 {
        kind.to_string()
    } else {
        kind.plural().to_owned()
    }
}

fn names(objects: &[Value]) -> Vec<String> {
    objects.iter().map(name_of).collect()
}

/// `metadata.name`, or `?` for an object without one.
pub fn name_of(object: &Value) -> String {
    str_at(object, &["metadata", "name"])
        .unwrap_or("?")
        .to_owned()
}

fn at<'a>(object: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(object, |value, key| value.get(key))
}

fn str_at<'a>(object: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(object, path).and_then(Value::as_str)
}

fn int_at(object: &Value, path: &[&str]) -> Option<i64> {
    at(object, path).and_then(Value::as_i64)
}

/// The status of condition `kind` in `status.conditions`, e.g. `Some("True")`.
pub fn condition_status<'a>(object: &'a Value, condition: &str) -> Option<&'a str> {
    at(object, &["status", "conditions"])?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(condition))?
        .get("status")?
        .as_str()
}

fn condition_field<'a>(object: &'a Value, condition: &str, field: &str) -> Option<&'a str> {
    at(object, &["status", "conditions"])?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(condition))?
        .get(field)?
        .as_str()
}

fn has_phase(object: &Value, phase: &str) -> Result<(), String> {
    match str_at(object, &["status", "phase"]) {
        Some(actual) if actual == phase => Ok(()),
        Some(actual) => Err(format!("phase {actual}, want {phase}")),
        None => Err(format!("no phase yet, want {phase}")),
    }
}

fn has_condition(object: &Value, wanted: &ConditionMatch) -> Result<(), String> {
    match condition_status(object, &wanted.condition_type) {
        Some(status) if status == wanted.status => Ok(()),
        Some(status) => Err(format!(
            "condition {}={status}, want {}",
            wanted.condition_type, wanted.status
        )),
        None => Err(format!(
            "no {} condition yet, want {}",
            wanted.condition_type, wanted.status
        )),
    }
}

fn is_deleting(object: &Value) -> bool {
    at(object, &["metadata", "deletionTimestamp"]).is_some_and(|v| !v.is_null())
}

/// Whether one object is ready, as `for: ready` means it for its kind.
pub fn ready(kind: Kind, object: &Value) -> Result<(), String> {
    if is_deleting(object) {
        return Err("being deleted".to_owned());
    }
    match kind {
        Kind::Pod => pod_ready(object),
        Kind::StatefulSet | Kind::Deployment | Kind::ReplicaSet => replicas_ready(kind, object),
        Kind::PersistentVolumeClaim | Kind::PersistentVolume => has_phase(object, "Bound"),
        Kind::Node => match condition_status(object, "Ready") {
            Some("True") => Ok(()),
            other => Err(format!("Ready={}", other.unwrap_or("unknown"))),
        },
        // Kinds without a notion of readiness are ready once they exist.
        _ => Ok(()),
    }
}

fn pod_ready(pod: &Value) -> Result<(), String> {
    let phase = str_at(pod, &["status", "phase"]).unwrap_or("Pending");
    if matches!(phase, "Succeeded" | "Failed") {
        return Err(format!(
            "{IMPOSSIBLE}the pod has terminated (phase {phase})"
        ));
    }
    if phase != "Running" {
        return Err(format!("phase {phase}"));
    }
    match condition_status(pod, "Ready") {
        Some("True") => Ok(()),
        other => Err(format!("Running, Ready={}", other.unwrap_or("unknown"))),
    }
}

fn desired_replicas(object: &Value) -> i64 {
    int_at(object, &["spec", "replicas"]).unwrap_or(1)
}

fn generation_observed(object: &Value) -> Result<(), String> {
    let generation = int_at(object, &["metadata", "generation"]).unwrap_or(0);
    let observed = int_at(object, &["status", "observedGeneration"]).unwrap_or(0);
    if observed < generation {
        Err(format!(
            "the controller has not seen generation {generation} yet (observed {observed})"
        ))
    } else {
        Ok(())
    }
}

fn replicas_ready(kind: Kind, object: &Value) -> Result<(), String> {
    generation_observed(object)?;
    let desired = desired_replicas(object);
    let current = int_at(object, &["status", "replicas"]).unwrap_or(0);
    let ready = int_at(object, &["status", "readyReplicas"]).unwrap_or(0);
    if ready < desired || current != desired {
        return Err(format!(
            "{ready}/{desired} ready, {current} {}",
            if kind == Kind::Deployment {
                "pods"
            } else {
                "replicas"
            }
        ));
    }
    Ok(())
}

/// Whether a StatefulSet or Deployment has finished rolling out, as `kubectl rollout status`
/// judges it.
pub fn rolled_out(kind: Kind, object: &Value) -> Result<(), String> {
    match kind {
        Kind::StatefulSet => sts_rolled_out(object),
        Kind::Deployment => deployment_rolled_out(object),
        Kind::ReplicaSet => replicas_ready(kind, object),
        other => Err(format!(
            "{IMPOSSIBLE}`rolledOut` applies to StatefulSets and Deployments, not {}",
            other.plural()
        )),
    }
}

fn sts_rolled_out(sts: &Value) -> Result<(), String> {
    generation_observed(sts)?;
    let desired = desired_replicas(sts);
    let ready = int_at(sts, &["status", "readyReplicas"]).unwrap_or(0);
    let updated = int_at(sts, &["status", "updatedReplicas"]).unwrap_or(0);
    if str_at(sts, &["spec", "updateStrategy", "type"]) == Some("OnDelete") {
        // kubectl does not wait for OnDelete sets: nothing rolls until pods are deleted.
        return if ready >= desired {
            Ok(())
        } else {
            Err(format!("{ready}/{desired} ready"))
        };
    }
    if ready < desired {
        return Err(format!("{ready}/{desired} ready, {updated} updated"));
    }
    let partition = int_at(
        sts,
        &["spec", "updateStrategy", "rollingUpdate", "partition"],
    )
    .unwrap_or(0);
    if partition > 0 {
        let want = (desired - partition).max(0);
        return if updated >= want {
            Ok(())
        } else {
            Err(format!(
                "{updated} updated, want {want} (ordinals >= partition {partition})"
            ))
        };
    }
    let current = str_at(sts, &["status", "currentRevision"]).unwrap_or("");
    let update = str_at(sts, &["status", "updateRevision"]).unwrap_or("");
    if current.is_empty() || current != update {
        return Err(format!(
            "{updated}/{desired} updated, currentRevision {} != updateRevision {}",
            or_none(current),
            or_none(update)
        ));
    }
    Ok(())
}

fn or_none(text: &str) -> &str {
    if text.is_empty() { "<none>" } else { text }
}

fn deployment_rolled_out(deployment: &Value) -> Result<(), String> {
    if condition_field(deployment, "Progressing", "reason") == Some("ProgressDeadlineExceeded") {
        return Err(format!(
            "{IMPOSSIBLE}the rollout exceeded its progress deadline"
        ));
    }
    generation_observed(deployment)?;
    let desired = desired_replicas(deployment);
    let updated = int_at(deployment, &["status", "updatedReplicas"]).unwrap_or(0);
    let total = int_at(deployment, &["status", "replicas"]).unwrap_or(0);
    let available = int_at(deployment, &["status", "availableReplicas"]).unwrap_or(0);
    if updated < desired {
        return Err(format!("{updated}/{desired} updated"));
    }
    if total > updated {
        return Err(format!(
            "{} old replicas pending termination",
            total - updated
        ));
    }
    if available < updated {
        return Err(format!("{available}/{updated} updated replicas available"));
    }
    Ok(())
}

fn why_not_ready(kind: Kind, objects: &[Value]) -> String {
    let reasons: Vec<String> = objects
        .iter()
        .filter_map(|o| ready(kind, o).err().map(|r| format!("{}: {r}", name_of(o))))
        .collect();
    if reasons.is_empty() {
        String::new()
    } else {
        format!(" ({})", reasons.join("; "))
    }
}

#[cfg(test)]
#[path = "conditions_tests.rs"]
mod tests;
