//! `exec`: run a command in a pod (or in every pod a selector matches, with `${pod}` set) and
//! check its exit code, stdout and stderr; optionally save stdout for later steps.

use super::dispatch::Execute;
use super::eventually::{tried, until_ok};
use super::pods::{default_container, live_pods, more, pod_name, shell_line};
use super::{StepContext, StepReport, StepResult};
use crate::events::Failure;
use crate::expect::{
    Mismatch, append_differences, match_text, substitute_text, validate_text, yamlish,
};
use crate::net::pod_exec::{CommandOutput, run_in_pod};
use crate::scenario::kinds;
use crate::scenario::model::{ExecStep, TextMatch};
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use tokio::time::Instant;

/// One pod's run that did not meet the expectations.
struct PodRun {
    pod: String,
    command: Vec<String>,
    output: CommandOutput,
    mismatch: Mismatch,
}

/// Why an attempt failed: the pods could not be found, or some runs did not match.
enum AttemptError {
    Pods(Failure),
    Runs(Vec<PodRun>),
    TimedOut,
}

impl Execute for kinds::Exec {
    async fn run(step: &ExecStep, ctx: &mut StepContext) -> StepResult {
        run(step, ctx).await
    }
}

async fn run(step: &ExecStep, ctx: &mut StepContext) -> StepResult {
    let target = ctx.resolve(&step.target)?;
    for text in [&step.stdout, &step.stderr].into_iter().flatten() {
        validate_text(text).map_err(|error| Failure::new(format!("exec: {error}")))?;
    }
    let deadline = ctx.deadline_after(step.eventually.map(|d| d.as_std()));
    let pods_api: Api<Pod> = Api::namespaced(ctx.client.clone(), &ctx.namespace);
    let shared = &*ctx;
    let attempts = until_ok(
        step.eventually.is_some(),
        deadline,
        || AttemptError::TimedOut,
        || attempt(step, shared, &target, &pods_api, deadline),
    )
    .await;
    let shown = shell_line(&step.command);
    let retried = tried(&attempts);
    match attempts.last {
        Ok(runs) => {
            if let Some(name) = &step.capture_stdout {
                let [(_, output)] = runs.as_slice() else {
                    return Err(Failure::new(format!(
                        "exec `{shown}`: captureStdout needs exactly one pod, but {target} matched {}",
                        runs.len()
                    )));
                };
                let value = output.stdout.trim().to_owned();
                ctx.vars.set(name.clone(), value.clone());
                return Ok(StepReport::detail(format!(
                    "`{shown}` in pod {}: {name} = {value}",
                    runs[0].0
                )));
            }
            let names: Vec<&str> = runs.iter().map(|(pod, _)| pod.as_str()).collect();
            Ok(StepReport::detail(format!(
                "`{shown}` in {}: exit code {}",
                names.join(", "),
                step.exit_code
            )))
        }
        Err(AttemptError::Pods(failure)) => Err(Failure {
            message: format!("exec `{shown}`: {}{}", failure.message, retried),
            ..failure
        }),
        Err(AttemptError::TimedOut) => Err(Failure::new(format!(
            "exec `{shown}` in {target}: no answer before the deadline{}",
            retried
        ))
        .with_expected(expected_text(step))),
        Err(AttemptError::Runs(failed)) => Err(runs_failure(step, &failed, &retried)),
    }
}

async fn attempt(
    step: &ExecStep,
    ctx: &StepContext,
    target: &crate::scenario::model::ResolvedTarget,
    pods_api: &Api<Pod>,
    deadline: Instant,
) -> Result<Vec<(String, CommandOutput)>, AttemptError> {
    let pods = live_pods(ctx, target, deadline)
        .await
        .map_err(AttemptError::Pods)?;
    let mut passed = Vec::new();
    let mut failed = Vec::new();
    for pod in &pods {
        let name = pod_name(pod);
        let mut vars = ctx.vars.clone();
        vars.set("pod", name.clone());
        let substituted: Result<Vec<String>, String> = step
            .command
            .iter()
            .map(|arg| vars.substitute(arg))
            .collect();
        let command = substituted.map_err(|error| AttemptError::Pods(Failure::new(error)))?;
        let container = match step.container.as_deref() {
            Some(container) => Some(
                vars.substitute(container)
                    .map_err(|error| AttemptError::Pods(Failure::new(error)))?,
            ),
            None => default_container(pod),
        };
        let expect_text = |text: &Option<TextMatch>| {
            text.as_ref()
                .map(|text| substitute_text(text, |piece| vars.substitute(piece)))
                .transpose()
                .map_err(|error| AttemptError::Pods(Failure::new(error)))
        };
        let (stdout, stderr) = (expect_text(&step.stdout)?, expect_text(&step.stderr)?);
        let output = run_in_pod(
            pods_api,
            &name,
            container.as_deref(),
            command.clone(),
            deadline,
        )
        .await;
        let mismatch = judge(step.exit_code, stdout.as_ref(), stderr.as_ref(), &output);
        if mismatch.is_empty() {
            passed.push((name, output));
        } else {
            failed.push(PodRun {
                pod: name,
                command,
                output,
                mismatch,
            });
        }
    }
    if failed.is_empty() {
        Ok(passed)
    } else {
        Err(AttemptError::Runs(failed))
    }
}

/// Every way the output differs from what the step expects (shared with `command`).
pub(crate) fn judge(
    exit_code: i32,
    stdout: Option<&TextMatch>,
    stderr: Option<&TextMatch>,
    output: &CommandOutput,
) -> Mismatch {
    let mut mismatch = Mismatch::default();
    if let Some(failure) = &output.failure {
        return Mismatch::one("command", "to run", failure.clone());
    }
    if output.exit_code != Some(exit_code) {
        let got = output
            .exit_code
            .map_or_else(|| "unknown".to_owned(), |code| code.to_string());
        mismatch.push("exit code", exit_code.to_string(), got);
    }
    for (label, text, expected) in [
        ("stdout", &output.stdout, stdout),
        ("stderr", &output.stderr, stderr),
    ] {
        if let Some(expected) = expected
            && let Err(differences) = match_text(label, text, expected)
        {
            mismatch.extend(differences);
        }
    }
    mismatch
}

fn runs_failure(step: &ExecStep, failed: &[PodRun], tried: &str) -> Failure {
    let first = &failed[0];
    let summary = first
        .mismatch
        .differences
        .first()
        .map(ToString::to_string)
        .unwrap_or_default();
    let more = if failed.len() > 1 {
        format!(" (and in {})", more(failed.len() - 1, "pod", "pods"))
    } else {
        String::new()
    };
    let mut actual = String::new();
    for run in failed {
        actual.push_str(&format!(
            "pod/{} `{}`:\n",
            run.pod,
            shell_line(&run.command)
        ));
        actual.push_str(&run.output.render());
        append_differences(&mut actual, &run.mismatch);
    }
    Failure::new(format!(
        "exec `{}` in pod/{}: {summary}{more}{tried}",
        shell_line(&first.command),
        first.pod
    ))
    .with_expected(expected_text(step))
    .with_actual(actual)
}

fn expected_text(step: &ExecStep) -> String {
    expected_output(step.exit_code, step.stdout.as_ref(), step.stderr.as_ref())
}

/// The expected exit code and output as YAML-like text (shared with `command`).
pub(crate) fn expected_output(
    exit_code: i32,
    stdout: Option<&TextMatch>,
    stderr: Option<&TextMatch>,
) -> String {
    let mut text = format!("exit code: {exit_code}\n");
    for (label, expected) in [("stdout", stdout), ("stderr", stderr)] {
        if let Some(expected) = expected {
            text.push_str(&format!("{label}:\n"));
            for line in yamlish(&text_match_value(expected)).lines() {
                text.push_str("  ");
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    text
}

fn text_match_value(expected: &TextMatch) -> serde_json::Value {
    serde_json::to_value(expected).unwrap_or_default()
}
