//! `exec`: run a command in a container and check its output and exit code, like
//! `kubectl exec`.

use super::output::with_output;
use super::{KindRules, Named};
use crate::model::Target;
use crate::validate::StepCheck;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

with_output! {
/// `exec`: run a command in a container, like `kubectl exec`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExecStep {
    /// A pod (`pod/web-0`), or a pod selector: then the command runs in each matching pod,
    /// with `${pod}` set to that pod's name.
    pub target: Target,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// The command and its arguments; use `[sh, -c, "..."]` for a shell line.
    pub command: Vec<String>,
}
}

impl KindRules for super::Exec {
    fn summary(exec: &ExecStep) -> String {
        format!("exec {} -- {}", exec.target, exec.command.join(" "))
    }

    fn targets(exec: &ExecStep) -> Named<'_> {
        vec![(&exec.target, &["target"])]
    }

    fn time_limit(exec: &ExecStep, default: std::time::Duration) -> std::time::Duration {
        exec.eventually
            .map_or(default, |eventually| eventually.as_std())
    }

    fn check(exec: &ExecStep, check: &mut StepCheck<'_, '_>) {
        if exec.command.is_empty() {
            check.error(
                &["command"],
                "the command is empty",
                "write e.g. `command: [cat, /data/log]`",
            );
        }
        check.pods_only(&exec.target, "target", "exec");
        exec.check_output(check);
        if exec.capture_stdout.is_some() && !exec.target.is_single() {
            check.error(
                &["captureStdout"],
                "`captureStdout` needs a single pod",
                "target one pod (`pod/web-0`); with a selector the command runs in several",
            );
        }
    }

    fn captures(exec: &ExecStep) -> Option<&str> {
        exec.capture_stdout.as_deref()
    }
}
