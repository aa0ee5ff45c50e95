//! `command`: run a program on the machine running petset (`helm`, `kubectl`, a script in the
//! suite) against the scenario's cluster and namespace, and check its output and exit code.

use super::KindRules;
use super::output::with_output;
use crate::model::Duration;
use crate::validate::StepCheck;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

with_output! {
/// `command`: run a program on the machine running petset, with `KUBECONFIG` pointing at the
/// scenario's cluster and `PETSET_NAMESPACE` set to its namespace.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CommandStep {
    /// The program and its arguments, e.g. `[helm, install, db, ./charts/db]`; use
    /// `[sh, -c, "..."]` for a shell line. A relative program path (`./scripts/seed.sh`) and
    /// relative arguments are relative to the suite's folder, where the command runs.
    pub run: Vec<String>,
    /// More environment variables for the program (values may use `${name}`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// How long one run may take before its process group is killed (default: the step
    /// default, 2 minutes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
}
}

/// Environment variables petset sets itself, which `env` may not replace.
pub const RESERVED_ENV: [&str; 2] = ["KUBECONFIG", "PETSET_NAMESPACE"];

impl KindRules for super::Command {
    fn summary(command: &CommandStep) -> String {
        format!("command {}", command.run.join(" "))
    }

    fn time_limit(command: &CommandStep, default: std::time::Duration) -> std::time::Duration {
        let one_run = command.timeout.map_or(default, |timeout| timeout.as_std());
        command
            .eventually
            .map_or(one_run, |eventually| eventually.as_std().max(one_run))
    }

    fn check(command: &CommandStep, check: &mut StepCheck<'_, '_>) {
        if command
            .run
            .first()
            .is_none_or(|program| program.trim().is_empty())
        {
            check.error(
                &["run"],
                "the command names no program",
                "write e.g. `run: [kubectl, get, pods]` or `run: [sh, -c, \"...\"]`",
            );
        }
        for name in command.env.keys() {
            if RESERVED_ENV.contains(&name.as_str()) {
                check.error(
                    &["env", name],
                    format!("`{name}` is set by petset"),
                    "petset points KUBECONFIG at the scenario's cluster and sets PETSET_NAMESPACE; \
                     remove it from `env`",
                );
            } else if name.is_empty() || name.contains(['=', '\0']) {
                check.error(
                    &["env", name],
                    format!("`{name}` is not an environment variable name"),
                    "use letters, digits and `_`, e.g. `RELEASE_NAME`",
                );
            }
        }
        if let (Some(timeout), Some(eventually)) = (command.timeout, command.eventually)
            && timeout.as_std() > eventually.as_std()
        {
            check.error(
                &["timeout"],
                format!("one run may take {timeout}, longer than `eventually: {eventually}`"),
                "give each run less time than the whole retry window",
            );
        }
        command.check_output(check);
    }

    fn captures(command: &CommandStep) -> Option<&str> {
        command.capture_stdout.as_deref()
    }
}
