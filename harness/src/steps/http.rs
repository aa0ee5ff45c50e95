//! `http`: GET a path on a pod's port through a port-forward (kube's websocket port-forward, no
//! local listener) and check the status and the body. A selector target checks every matching
//! pod, with `${pod}` set in the path.

use super::dispatch::Execute;
use super::eventually::{tried, until_ok};
use super::http_wire::{Parsed, Response, get_request, parse_response};
use super::pods::{live_pods, more, pod_name};
use super::{StepContext, StepReport, StepResult};
use crate::api::describe_kube_error;
use crate::events::Failure;
use crate::expect::{
    Mismatch, append_differences, match_text, substitute_text, validate_text, yamlish,
};
use crate::scenario::kinds;
use crate::scenario::model::{HttpStep, Target, TextMatch};
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

/// Responses larger than this are cut (and the check fails on the cut body).
const BODY_LIMIT: usize = 4 << 20;
/// After the pod side closes without a response, how long to wait for the reason on the
/// port-forward's error channel.
const ERROR_GRACE: Duration = Duration::from_secs(2);

/// One pod whose response did not meet the expectations.
struct Miss {
    pod: String,
    path: String,
    outcome: Result<Response, String>,
    mismatch: Mismatch,
}

impl Execute for kinds::Http {
    async fn run(step: &HttpStep, ctx: &mut StepContext) -> StepResult {
        run(step, ctx).await
    }
}

async fn run(step: &HttpStep, ctx: &StepContext) -> StepResult {
    let target = ctx.resolve(&step.target)?;
    if let Some(body) = &step.body {
        validate_text(body).map_err(|error| Failure::new(format!("http: {error}")))?;
    }
    let deadline = ctx.deadline_after(step.eventually.map(|d| d.as_std()));
    let pods_api: Api<Pod> = Api::namespaced(ctx.client.clone(), &ctx.namespace);
    let timed_out = || Err(Failure::new("no answer before the deadline"));
    let attempts = until_ok(step.eventually.is_some(), deadline, timed_out, || {
        attempt(step, ctx, &target, &pods_api, deadline)
    })
    .await;
    let retried = tried(&attempts);
    match attempts.last {
        Ok(passed) => Ok(StepReport::detail(passed.join("; "))),
        Err(Err(failure)) => Err(Failure {
            message: format!(
                "http GET {target}:{}: {}{retried}",
                step.port, failure.message
            ),
            ..failure
        }),
        Err(Ok(misses)) => Err(misses_failure(step, &misses, &retried)),
    }
}

/// `Ok` with one account per pod when all answered as expected; `Err(Ok(misses))` when some did
/// not, `Err(Err(..))` when the pods could not be found.
async fn attempt(
    step: &HttpStep,
    ctx: &StepContext,
    target: &Target,
    pods_api: &Api<Pod>,
    deadline: Instant,
) -> Result<Vec<String>, Result<Vec<Miss>, Failure>> {
    let pods = live_pods(ctx, target, deadline).await.map_err(Err)?;
    let mut passed = Vec::new();
    let mut misses = Vec::new();
    for pod in &pods {
        let name = pod_name(pod);
        let mut vars = ctx.vars.clone();
        vars.set("pod", name.clone());
        let path = vars
            .substitute(&step.path)
            .map_err(|error| Err(Failure::new(error)))?;
        let body = step
            .body
            .as_ref()
            .map(|body| substitute_text(body, |piece| vars.substitute(piece)))
            .transpose()
            .map_err(|error| Err(Failure::new(error)))?;
        let outcome = get(pods_api, &name, step.port, &path, deadline).await;
        let mismatch = judge(step.status, body.as_ref(), &outcome);
        if mismatch.is_empty() {
            passed.push(format!("GET {name}:{}{path} -> {}", step.port, step.status));
        } else {
            misses.push(Miss {
                pod: name,
                path,
                outcome,
                mismatch,
            });
        }
    }
    if misses.is_empty() {
        Ok(passed)
    } else {
        Err(Ok(misses))
    }
}

fn judge(status: u16, body: Option<&TextMatch>, outcome: &Result<Response, String>) -> Mismatch {
    let response = match outcome {
        Ok(response) => response,
        Err(why) => return Mismatch::one("response", "an HTTP response", why.clone()),
    };
    let mut mismatch = Mismatch::default();
    if response.status != status {
        mismatch.push(
            "status",
            status.to_string(),
            format!("{} {}", response.status, response.reason)
                .trim_end()
                .to_owned(),
        );
    }
    if let Some(body) = body
        && let Err(found) = match_text("body", &response.body_text(), body)
    {
        mismatch.extend(found);
    }
    mismatch
}

/// Sends one GET through a fresh port-forward to `pod:port` and reads the response.
async fn get(
    pods: &Api<Pod>,
    pod: &str,
    port: u16,
    path: &str,
    deadline: Instant,
) -> Result<Response, String> {
    let mut forwarder = tokio::time::timeout_at(deadline, pods.portforward(pod, &[port]))
        .await
        .map_err(|_| format!("no port-forward to pod/{pod} before the deadline"))?
        .map_err(|error| {
            format!(
                "failed to port-forward to pod/{pod}:{port}: {}",
                describe_kube_error(&error)
            )
        })?;
    let (Some(mut stream), Some(error)) = (forwarder.take_stream(port), forwarder.take_error(port))
    else {
        forwarder.abort();
        return Err(format!(
            "the port-forward to pod/{pod} offered no stream for port {port}"
        ));
    };
    let exchange = async {
        if let Err(e) = stream.write_all(&get_request(path, pod)).await {
            return Err((format!("failed to send the request: {e}"), true));
        }
        let mut buf = Vec::new();
        let mut chunk = vec![0u8; 16 * 1024];
        loop {
            let read = match stream.read(&mut chunk).await {
                Ok(read) => read,
                Err(e) => {
                    return Err((format!("failed to read the response: {e}"), buf.is_empty()));
                }
            };
            buf.extend_from_slice(&chunk[..read]);
            if buf.len() > BODY_LIMIT {
                return Err((
                    format!("the response is larger than {BODY_LIMIT} bytes"),
                    false,
                ));
            }
            match parse_response(&buf, read == 0) {
                Parsed::Complete(response) => return Ok(response),
                Parsed::Invalid(why) => return Err((why, buf.is_empty())),
                Parsed::Incomplete => {}
            }
        }
    };
    let outcome = match tokio::time::timeout_at(deadline, exchange).await {
        Ok(Ok(response)) => Ok(response),
        Ok(Err((why, nothing_received))) => {
            // A forward that could not connect closes the stream at once; the reason comes on the
            // error channel.
            let reason = if nothing_received {
                tokio::time::timeout(ERROR_GRACE, error)
                    .await
                    .ok()
                    .flatten()
            } else {
                None
            };
            Err(match reason {
                Some(reason) => format!("{why} (port-forward: {})", reason.trim()),
                None => why,
            })
        }
        Err(_) => Err(format!(
            "no complete response from pod/{pod}:{port} before the deadline"
        )),
    };
    drop(stream);
    forwarder.abort();
    outcome
}

fn misses_failure(step: &HttpStep, misses: &[Miss], retried: &str) -> Failure {
    let first = &misses[0];
    let summary = first
        .mismatch
        .differences
        .first()
        .map(ToString::to_string)
        .unwrap_or_default();
    let more = match misses.len() {
        1 => String::new(),
        n => format!(" (and in {})", more(n - 1, "pod", "pods")),
    };
    let mut actual = String::new();
    for miss in misses {
        actual.push_str(&format!(
            "GET pod/{}:{}{}:\n",
            miss.pod, step.port, miss.path
        ));
        match &miss.outcome {
            Ok(response) => {
                actual.push_str(&format!(
                    "  status: {} {}\n",
                    response.status, response.reason
                ));
                let body = response.body_text();
                let shown: String = body.chars().take(2000).collect();
                actual.push_str("  body: |\n");
                for line in shown.lines() {
                    actual.push_str("    ");
                    actual.push_str(line);
                    actual.push('\n');
                }
                if shown.len() < body.len() {
                    actual.push_str(&format!("    ... ({} bytes in all)\n", body.len()));
                }
            }
            Err(why) => actual.push_str(&format!("  no response: {why}\n")),
        }
        append_differences(&mut actual, &miss.mismatch);
    }
    let mut expected = format!("status: {}\n", step.status);
    if let Some(body) = &step.body {
        expected.push_str("body:\n");
        for line in yamlish(&serde_json::to_value(body).unwrap_or_default()).lines() {
            expected.push_str("  ");
            expected.push_str(line);
            expected.push('\n');
        }
    }
    Failure::new(format!(
        "http GET pod/{}:{}{}: {summary}{more}{retried}",
        first.pod, step.port, first.path
    ))
    .with_expected(expected)
    .with_actual(actual)
}
