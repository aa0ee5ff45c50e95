//! `onFailure:` collectors: what to add to a failed scenario's diagnostics (a container's logs,
//! an object, its events, a program's output). They run only when the scenario fails.

use super::{Duration, Target};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One thing to collect when the scenario fails, written as a one-key map like a step.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub enum Collector {
    /// The logs of a pod's container (`previous: true`: of its last terminated run).
    Logs(LogsCollector),
    /// An object, or every object a selector matches, rendered as YAML.
    Object(ObjectCollector),
    /// The events about an object.
    Events(ObjectCollector),
    /// The output of a program run like a `command` step.
    Command(CommandCollector),
}

/// `logs`: a container's logs.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LogsCollector {
    /// A pod (`pod/mysql-0`).
    pub target: Target,
    /// The container (default: the pod's first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// The logs of the container's previous (crashed) run, like `kubectl logs --previous`.
    #[serde(default)]
    pub previous: bool,
    /// How many of the last lines (default 100).
    #[serde(default = "default_tail")]
    pub tail: u32,
}

fn default_tail() -> u32 {
    100
}

/// `object` and `events`: what they are about.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ObjectCollector {
    pub target: Target,
}

/// `command`: a program's output.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CommandCollector {
    /// The program and its arguments, run as a `command` step runs them.
    pub run: Vec<String>,
    /// How long it may take (default 30s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
}

impl Collector {
    /// A short description, e.g. `logs pod/mysql-0 (previous)`.
    pub fn summary(&self) -> String {
        match self {
            Collector::Logs(logs) => {
                let container = logs
                    .container
                    .as_deref()
                    .map_or(String::new(), |c| format!(" container {c}"));
                let previous = if logs.previous { " (previous)" } else { "" };
                format!("logs {}{container}{previous}", logs.target)
            }
            Collector::Object(object) => format!("object {}", object.target),
            Collector::Events(events) => format!("events of {}", events.target),
            Collector::Command(command) => format!("command {}", command.run.join(" ")),
        }
    }
}
