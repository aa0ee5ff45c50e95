//! `onFailure:` collectors: what a failed scenario asked to have added to its diagnostics (a
//! container's logs, an object, its events, a program's output), each bounded in time and size.
//! Collecting never fails: what cannot be read is said so in the text.

use crate::api::{list_target, render_objects, with_retry};
use crate::diagnostics::events_where;
use crate::report::COLLECTOR_HEADER;
use crate::scenario::model::{Collector, CommandCollector, LogsCollector, ResolvedTarget, Target};
use crate::steps::{StepContext, run_collector_command};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams};
use std::time::Duration;
use tokio::time::Instant;

/// How long all of a scenario's collectors may take together.
const COLLECT_BUDGET: Duration = Duration::from_secs(30);
/// How long one `command` collector may take unless it says.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// The most one collector adds to a failure (the end of its output is kept).
pub(crate) const COLLECTED_LIMIT: usize = 8 * 1024;

/// Runs every collector in order and returns their output as diagnostics sections.
pub(crate) async fn collect(collectors: &[Collector], ctx: &StepContext) -> String {
    let deadline = crate::clock::from_now(COLLECT_BUDGET);
    let mut out = String::new();
    for collector in collectors {
        let text = if Instant::now() >= deadline {
            "(not collected: the onFailure budget ran out)".to_owned()
        } else {
            match tokio::time::timeout_at(deadline, one(collector, ctx, deadline)).await {
                Ok(text) => text,
                Err(_) => "(not collected: the onFailure budget ran out)".to_owned(),
            }
        };
        out.push_str(&format!(
            "\n{COLLECTOR_HEADER}{} ==\n{}\n",
            collector.summary(),
            bounded(text.trim_end())
        ));
    }
    out
}

async fn one(collector: &Collector, ctx: &StepContext, deadline: Instant) -> String {
    match collector {
        Collector::Logs(logs) => {
            with_target(ctx, &logs.target, |target| {
                container_logs(ctx, logs, target, deadline)
            })
            .await
        }
        Collector::Object(object) => {
            with_target(ctx, &object.target, |target| async move {
                match list_target(&ctx.client, &ctx.namespace, &target, deadline).await {
                    Ok(objects) => render_objects(&objects),
                    Err(error) => format!("(could not read: {error})"),
                }
            })
            .await
        }
        Collector::Events(events) => {
            with_target(ctx, &events.target, |target| async move {
                let title = format!("events of {target}");
                let kind = target.kind.name();
                let name = target.name.clone();
                let text = events_where(
                    &ctx.client,
                    &ctx.namespace,
                    &title,
                    |event| {
                        event.involved_object.kind.as_deref() == Some(kind)
                            && name.as_deref().is_none_or(|name| {
                                event.involved_object.name.as_deref() == Some(name)
                            })
                    },
                    deadline,
                )
                .await;
                // The collector's own section names what the events are about.
                text.split_once('\n')
                    .map_or_else(String::new, |(_, rest)| rest.to_owned())
            })
            .await
        }
        Collector::Command(command) => command_output(ctx, command, deadline).await,
    }
}

/// Runs `collect` on `target` with the scenario's variables put in, or says why it cannot.
async fn with_target<F, Fut>(ctx: &StepContext, target: &Target, collect: F) -> String
where
    F: FnOnce(ResolvedTarget) -> Fut,
    Fut: std::future::Future<Output = String>,
{
    match ctx.resolve(target) {
        Ok(target) => collect(target).await,
        Err(failure) => format!("(not collected: {})", failure.message),
    }
}

async fn container_logs(
    ctx: &StepContext,
    logs: &LogsCollector,
    target: ResolvedTarget,
    deadline: Instant,
) -> String {
    let Some(name) = target.name.as_deref() else {
        return format!("(not collected: logs need one pod, not {target})");
    };
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &ctx.namespace);
    let params = LogParams {
        container: logs.container.clone(),
        previous: logs.previous,
        tail_lines: Some(i64::from(logs.tail)),
        ..LogParams::default()
    };
    match with_retry(&format!("read logs of pod/{name}"), deadline, || {
        api.logs(name, &params)
    })
    .await
    {
        Ok(text) if text.trim().is_empty() => "(empty)".to_owned(),
        Ok(text) => ctx.secrets.mask(&text),
        Err(error) => format!("(could not read: {error})"),
    }
}

async fn command_output(
    ctx: &StepContext,
    command: &CommandCollector,
    deadline: Instant,
) -> String {
    let timeout = command.timeout.map_or(COMMAND_TIMEOUT, |t| t.as_std());
    let own = crate::clock::from_now(timeout).min(deadline);
    match run_collector_command(ctx, &command.run, own).await {
        Ok(output) => output.render(),
        Err(failure) => format!("(not collected: {})", failure.message),
    }
}

/// `text` cut to its last [`COLLECTED_LIMIT`] bytes, saying so.
fn bounded(text: &str) -> String {
    if text.len() <= COLLECTED_LIMIT {
        return text.to_owned();
    }
    let mut start = text.len() - COLLECTED_LIMIT;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("... ({start} bytes before left out)\n{}", &text[start..])
}
