//! The pods a check step runs in or reads: one named pod, or every pod a selector matches.

use super::StepContext;
use crate::api::{list_target, to_value};
use crate::events::Failure;
use crate::expect::{natural_cmp, object_name};
use crate::scenario::model::{Kind, ResolvedTarget};
use serde_json::Value;
use tokio::time::Instant;

/// The live pods `target` (already resolved) names, in natural name order. A named pod that does
/// not exist, or a selector matching nothing, is a failure naming the target.
pub(crate) async fn live_pods(
    ctx: &StepContext,
    target: &ResolvedTarget,
    deadline: Instant,
) -> Result<Vec<Value>, Failure> {
    if target.kind != Kind::Pod {
        return Err(Failure::new(format!(
            "{target} is not a pod; name a pod (`pod/web-0`) or select pods (`{{kind: pod, selector: app=web}}`)"
        )));
    }
    let objects = list_target(&ctx.client, &ctx.namespace, target, deadline)
        .await
        .map_err(Failure::from)?;
    let mut pods: Vec<Value> = objects.iter().map(to_value).collect();
    pods.sort_by(|a, b| natural_cmp(&object_name(a, 0), &object_name(b, 0)));
    if pods.is_empty() {
        let what = if target.is_single() {
            format!("{target} does not exist")
        } else {
            format!("no pods match {target}")
        };
        return Err(Failure::new(what).with_expected(format!("{target} exists")));
    }
    Ok(pods)
}

/// A pod's name (empty if it has none, which the API never returns).
pub(crate) fn pod_name(pod: &Value) -> String {
    pod.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The container a command runs in when the step names none, chosen as kubectl does: the
/// `kubectl.kubernetes.io/default-container` annotation, else the first container. `None` lets
/// the API choose (a pod with one container).
pub(crate) fn default_container(pod: &Value) -> Option<String> {
    if let Some(annotated) = pod
        .pointer("/metadata/annotations/kubectl.kubernetes.io~1default-container")
        .and_then(Value::as_str)
    {
        return Some(annotated.to_owned());
    }
    let containers = pod.pointer("/spec/containers").and_then(Value::as_array)?;
    if containers.len() < 2 {
        return None;
    }
    containers
        .first()
        .and_then(|c| c.get("name"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Whether the pod serves: its Ready condition is True and it is not terminating. A pod being
/// deleted may still say Ready for its whole grace period, but the endpoints controller has
/// already taken it out of service (its endpoint is no longer `ready`).
pub(crate) fn is_ready(pod: &Value) -> bool {
    let terminating = pod
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|t| !t.is_null());
    !terminating
        && pod
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .is_some_and(|conditions| {
                conditions.iter().any(|c| {
                    c.get("type").and_then(Value::as_str) == Some("Ready")
                        && c.get("status").and_then(Value::as_str) == Some("True")
                })
            })
}

/// `1 more pod`, `3 more pods`.
pub(crate) fn more(count: usize, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 more {one}")
    } else {
        format!("{count} more {many}")
    }
}

/// A command line as a reader would type it: arguments with spaces or quotes are single-quoted.
pub(crate) fn shell_line(command: &[String]) -> String {
    command
        .iter()
        .map(|arg| {
            let plain = !arg.is_empty()
                && arg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+${}".contains(c));
            if plain {
                arg.clone()
            } else {
                format!("'{}'", arg.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn readiness_reads_the_ready_condition() {
        let ready = json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}});
        let unready = json!({"status": {"conditions": [{"type": "Ready", "status": "False"}]}});
        assert!(is_ready(&ready));
        assert!(!is_ready(&unready));
        assert!(!is_ready(&json!({})));
        let mut terminating = ready.clone();
        terminating["metadata"] = json!({"deletionTimestamp": "2024-01-01T00:00:00Z"});
        assert!(
            !is_ready(&terminating),
            "a terminating pod no longer serves"
        );
    }

    #[test]
    fn default_container_follows_kubectl() {
        let one = json!({"spec": {"containers": [{"name": "web"}]}});
        assert_eq!(default_container(&one), None);
        let two = json!({"spec": {"containers": [{"name": "mysql"}, {"name": "xtrabackup"}]}});
        assert_eq!(default_container(&two), Some("mysql".into()));
        let annotated = json!({
            "metadata": {"annotations": {"kubectl.kubernetes.io/default-container": "xtrabackup"}},
            "spec": {"containers": [{"name": "mysql"}, {"name": "xtrabackup"}]},
        });
        assert_eq!(default_container(&annotated), Some("xtrabackup".into()));
    }

    #[test]
    fn shell_line_quotes_what_needs_it() {
        let command = ["sh", "-c", "echo 'hi' > /x", "${pod}"].map(String::from);
        assert_eq!(
            shell_line(&command),
            r#"sh -c 'echo '\''hi'\'' > /x' ${pod}"#
        );
        assert_eq!(shell_line(&[String::new()]), "''");
    }
}
