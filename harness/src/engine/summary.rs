//! What the engine says about a step before running it, which objects it is about (for
//! diagnostics), and how long it may take at most.

use crate::scenario::model::{Step, Target};
use std::time::Duration;

/// A short description, e.g. `scale sts/web to 5`, `wait sts/web for ready`.
pub fn summarize(step: &Step) -> String {
    match step {
        Step::Apply(apply) => {
            let mut parts: Vec<String> = apply.files.iter().map(|f| f.value.clone()).collect();
            if !apply.manifests.is_empty() {
                parts.push(format!("{} inline manifest(s)", apply.manifests.len()));
            }
            format!("apply {}", parts.join(", "))
        }
        Step::Delete(delete) => format!("delete {}", delete.target),
        Step::Scale(scale) => format!("scale {} to {}", scale.target, scale.replicas),
        Step::Patch(patch) => format!("patch {}", patch.target),
        Step::Rollout(rollout) => match rollout.to_revision {
            Some(revision) => format!("rollout undo {} to revision {revision}", rollout.undo),
            None => format!("rollout undo {}", rollout.undo),
        },
        Step::Wait(wait) => format!(
            "wait {} for {}",
            wait.target,
            crate::steps::describe_wait(&wait.until)
        ),
        Step::Exec(exec) => format!("exec {} -- {}", exec.target, exec.command.join(" ")),
        Step::Sql(sql) => format!("sql on {}", sql.target),
        Step::Dns(dns) => format!("dns {}", dns.name),
        Step::Http(http) => format!("http {}:{}{}", http.target, http.port, http.path),
        Step::Assert(assert) => format!("assert {}", assert.target),
        Step::Timeline(timeline) => format!("timeline of {}", timeline.target),
        Step::Capture(capture) => format!(
            "capture {} {} as {}",
            capture.target, capture.field, capture.name
        ),
        Step::Mark(name) => format!("mark {name}"),
        Step::Cordon(node) => format!("cordon {}", node_name(&node.node, &node.node_of)),
        Step::Uncordon(node) => format!("uncordon {}", node_name(&node.node, &node.node_of)),
        Step::Drain(drain) => format!("drain {}", node_name(&drain.node, &drain.node_of)),
        Step::Observe(observe) => format!("observe {} for {}", observe.target, observe.during),
    }
}

fn node_name(node: &Option<String>, node_of: &Option<Target>) -> String {
    match (node, node_of) {
        (Some(node), _) => format!("node/{node}"),
        (None, Some(target)) => format!("the node of {target}"),
        (None, None) => "(no node given)".to_owned(),
    }
}

/// The objects a step is about, whose last state goes into a failure's diagnostics.
pub fn targets(step: &Step) -> Vec<Target> {
    match step {
        Step::Delete(s) => vec![s.target.clone()],
        Step::Scale(s) => vec![s.target.clone()],
        Step::Patch(s) => vec![s.target.clone()],
        Step::Rollout(s) => vec![s.undo.clone()],
        Step::Wait(s) => vec![s.target.clone()],
        Step::Exec(s) => vec![s.target.clone()],
        Step::Sql(s) => vec![s.target.clone()],
        Step::Dns(s) => s.from.iter().chain(&s.for_each).cloned().collect(),
        Step::Http(s) => vec![s.target.clone()],
        Step::Assert(s) => vec![s.target.clone()],
        Step::Timeline(s) => vec![s.target.clone()],
        Step::Capture(s) => vec![s.target.clone()],
        Step::Observe(s) => vec![s.target.clone()],
        Step::Cordon(s) | Step::Uncordon(s) => s.node_of.iter().cloned().collect(),
        Step::Drain(s) => s.node_of.iter().cloned().collect(),
        Step::Apply(_) | Step::Mark(_) => Vec::new(),
    }
}

/// The longest a step may take: its own timeout (or retry window, or observation time) where it
/// has one, else `default`. Steps bound themselves by this; the engine enforces it with a margin.
pub fn time_limit(step: &Step, default: Duration) -> Duration {
    let own = match step {
        Step::Wait(s) => s.timeout,
        Step::Delete(s) => s.timeout,
        Step::Drain(s) => s.timeout,
        Step::Exec(s) => s.eventually,
        Step::Sql(s) => s.eventually,
        Step::Dns(s) => s.eventually,
        Step::Http(s) => s.eventually,
        Step::Assert(s) => s.eventually,
        Step::Observe(s) => return s.during.as_std().saturating_add(default),
        _ => None,
    };
    own.map_or(default, |timeout| timeout.as_std())
}
