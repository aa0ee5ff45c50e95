//! `command`: run a program on the machine running petset against the scenario's cluster
//! (`KUBECONFIG` pointing at a kubeconfig for it, `PETSET_NAMESPACE` and the scenario's variables
//! in its environment) and check its exit code, stdout and stderr; optionally save stdout.

use super::dispatch::Execute;
use super::eventually::{tried, until_ok_or_final};
use super::exec::{expected_output, judge};
use super::kubeconfig_file::KubeconfigFile;
use super::local_process::{LocalCommand, WIND_DOWN, run_local};
use super::pods::shell_line;
use super::{StepContext, StepReport, StepResult};
use crate::events::Failure;
use crate::expect::{Mismatch, append_differences, substitute_text, validate_text};
use crate::net::pod_exec::CommandOutput;
use crate::scenario::kinds;
use crate::scenario::model::CommandStep;
use std::collections::BTreeMap;
use std::path::PathBuf;
use tokio::time::Instant;

/// The most of a passed command's output its step log line shows (the end of it).
const LOG_LIMIT: usize = 4 * 1024;

/// A run that did not meet the expectations.
struct Unmet {
    output: CommandOutput,
    mismatch: Mismatch,
}

impl Execute for kinds::Command {
    async fn run(step: &CommandStep, ctx: &mut StepContext) -> StepResult {
        run(step, ctx).await
    }
}

async fn run(step: &CommandStep, ctx: &mut StepContext) -> StepResult {
    let prepared = prepare(step, ctx)?;
    let shown = shell_line(&prepared.args);
    let program = Program::new(ctx, prepared.args, prepared.env)?;
    let one_run = step.timeout.map(|timeout| timeout.as_std());
    let deadline = ctx.deadline_after(step.eventually.map(|d| d.as_std()).or(one_run));
    // Each run ends itself at `deadline` and reports what it printed; the wider bound only
    // guards against a run that cannot wind down, and no run starts after `deadline`.
    let attempts = until_ok_or_final(
        step.eventually.is_some(),
        deadline + WIND_DOWN,
        || Unmet {
            output: CommandOutput::failed("no end before the deadline".into()),
            mismatch: Mismatch::one("command", "to end", "it did not end before its deadline"),
        },
        |_| Instant::now() >= deadline,
        || async {
            let output = program
                .run(ctx, ctx.deadline_after(one_run).min(deadline))
                .await;
            let mismatch = judge(
                step.exit_code,
                prepared.stdout.as_ref(),
                prepared.stderr.as_ref(),
                &output,
            );
            if mismatch.is_empty() {
                Ok(output)
            } else {
                Err(Unmet { output, mismatch })
            }
        },
    )
    .await;
    drop(program);
    let retried = tried(&attempts);
    match attempts.last {
        Ok(output) => {
            if let Some(name) = &step.capture_stdout {
                let value = output.stdout.trim().to_owned();
                ctx.vars.set(name.clone(), value.clone());
                return Ok(StepReport::detail(format!("`{shown}`: {name} = {value}")));
            }
            Ok(StepReport::detail(format!(
                "`{shown}`: exit code {}{}",
                step.exit_code,
                log_excerpt(&output)
            )))
        }
        Err(unmet) => {
            let summary = unmet
                .mismatch
                .differences
                .first()
                .map(ToString::to_string)
                .unwrap_or_default();
            let mut actual = unmet.output.render();
            append_differences(&mut actual, &unmet.mismatch);
            Err(
                Failure::new(format!("command `{shown}`: {summary}{retried}"))
                    .with_expected(expected_output(
                        step.exit_code,
                        step.stdout.as_ref(),
                        step.stderr.as_ref(),
                    ))
                    .with_actual(actual),
            )
        }
    }
}

/// The step with the scenario's variables put in.
struct Prepared {
    args: Vec<String>,
    env: BTreeMap<String, String>,
    stdout: Option<crate::scenario::model::TextMatch>,
    stderr: Option<crate::scenario::model::TextMatch>,
}

fn prepare(step: &CommandStep, ctx: &StepContext) -> Result<Prepared, Failure> {
    let fail = |error: String| Failure::new(format!("command: {error}"));
    for text in [&step.stdout, &step.stderr].into_iter().flatten() {
        validate_text(text).map_err(|error| fail(error.to_string()))?;
    }
    let args = step
        .run
        .iter()
        .map(|arg| ctx.vars.substitute(arg))
        .collect::<Result<Vec<_>, _>>()
        .map_err(fail)?;
    // The scenario's variables first, so that the step's own `env` wins over them.
    let mut env = variables_env(ctx);
    for (name, value) in &step.env {
        env.insert(name.clone(), ctx.vars.substitute(value).map_err(fail)?);
    }
    let text = |expected: &Option<crate::scenario::model::TextMatch>| {
        expected
            .as_ref()
            .map(|text| substitute_text(text, |piece| ctx.vars.substitute(piece)))
            .transpose()
            .map_err(fail)
    };
    Ok(Prepared {
        args,
        env,
        stdout: text(&step.stdout)?,
        stderr: text(&step.stderr)?,
    })
}

/// A program ready to run: its arguments, its environment and the kubeconfig it is given,
/// which is removed when this is dropped.
struct Program {
    args: Vec<String>,
    env: BTreeMap<String, String>,
    dir: PathBuf,
    _kubeconfig: KubeconfigFile,
}

impl Program {
    /// `args` with `env`, the scenario's variables, `KUBECONFIG` and `PETSET_NAMESPACE`.
    fn new(
        ctx: &StepContext,
        args: Vec<String>,
        mut env: BTreeMap<String, String>,
    ) -> Result<Self, Failure> {
        let shown = shell_line(&args);
        let Some(config) = ctx.cluster_config.as_deref() else {
            return Err(Failure::new(format!(
                "command `{shown}`: petset has no kubeconfig to give it for this cluster"
            )));
        };
        let kubeconfig = KubeconfigFile::write(config, &ctx.namespace)
            .map_err(|error| Failure::new(format!("command `{shown}`: {error}")))?;
        env.insert("KUBECONFIG".into(), kubeconfig.path().display().to_string());
        env.insert("PETSET_NAMESPACE".into(), ctx.namespace.clone());
        Ok(Self {
            args,
            env,
            dir: ctx.suite_dir(),
            _kubeconfig: kubeconfig,
        })
    }

    /// Runs the program once, until it ends or `deadline`; secrets in its output masked.
    async fn run(&self, ctx: &StepContext, deadline: Instant) -> CommandOutput {
        let command = LocalCommand {
            args: &self.args,
            dir: &self.dir,
            env: self.env.clone(),
        };
        masked(run_local(&command, deadline).await, ctx)
    }
}

/// Runs `run` (with the scenario's variables put in) once as a `command` step would, for an
/// `onFailure` collector.
pub(crate) async fn run_collector_command(
    ctx: &StepContext,
    run: &[String],
    deadline: Instant,
) -> Result<CommandOutput, Failure> {
    let args = run
        .iter()
        .map(|arg| ctx.vars.substitute(arg))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| Failure::new(format!("command: {error}")))?;
    if args.is_empty() {
        return Err(Failure::new("command: no program to run"));
    }
    let program = Program::new(ctx, args, variables_env(ctx))?;
    Ok(program.run(ctx, deadline).await)
}

/// The scenario's variables as environment variables, under their own names.
fn variables_env(ctx: &StepContext) -> BTreeMap<String, String> {
    ctx.vars
        .iter()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

/// `output` with every secret value the scenario has read masked: what a program prints may
/// include a password it was given.
fn masked(output: CommandOutput, ctx: &StepContext) -> CommandOutput {
    CommandOutput {
        stdout: ctx.secrets.mask(&output.stdout),
        stderr: ctx.secrets.mask(&output.stderr),
        failure: output.failure.map(|failure| ctx.secrets.mask(&failure)),
        ..output
    }
}

/// The end of what a passed command printed, for its step log line.
fn log_excerpt(output: &CommandOutput) -> String {
    let mut text = String::new();
    for (name, stream) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
        let stream = stream.trim_end();
        if stream.is_empty() {
            continue;
        }
        let mut start = stream.len().saturating_sub(LOG_LIMIT);
        while !stream.is_char_boundary(start) {
            start += 1;
        }
        text.push_str(&format!("\n  {name}:"));
        if start > 0 {
            text.push_str(&format!("\n    ... ({start} bytes before left out)"));
        }
        for line in stream[start..].lines() {
            text.push_str("\n    ");
            text.push_str(line);
        }
    }
    text
}

impl StepContext {
    /// The folder a suite's programs run in: the suite's (the parent of its `fixtures/`).
    pub(crate) fn suite_dir(&self) -> PathBuf {
        self.fixtures_dir
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), std::path::Path::to_path_buf)
    }
}
