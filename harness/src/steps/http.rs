//! `http`: GET a path on a pod's port through a port-forward (kube's websocket port-forward, no
//! local listener) and check the status and the body. A selector target checks every matching
//! pod, with `${pod}` set in the path.
//!
//! When the API server refuses every port-forward (no websocket subprotocol in common), the
//! step fails at once as an API problem and says why. It does not fall back to exec: that would
//! need an HTTP client in the container and would send a different request from inside the pod,
//! so its answer would not be the one the step asks for.

use super::context::Variables;
use super::context::template_failure;
use super::dispatch::Execute;
use super::eventually::{tried, until_ok_or_final};
use super::http_wire::{self, NoResponse, Response};
use super::pods::{live_pods, more, pod_name};
use super::{StepContext, StepReport, StepResult};
use crate::api::describe_kube_error;
use crate::events::{Failure, FailureKind};
use crate::expect::{
    Mismatch, append_differences, match_text, substitute_text, validate_text, yamlish,
};
use crate::net::subprotocol_refusal;
use crate::scenario::kinds;
use crate::scenario::model::{HttpStep, ResolvedTarget, TextMatch};
use http::uri::PathAndQuery;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use std::time::Duration;
use tokio::time::Instant;

/// Responses larger than this are refused (the check fails saying so).
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
    // `${pod}` only ever puts a pod name in the path, and a pod name is valid in any path: a
    // path refused for one pod is refused for all and on every attempt, so refuse it now.
    step.path
        .resolve(&with_pod(&ctx.vars, "pod"))
        .map_err(|error| template_failure(&format!("http GET {target}:{}", step.port), &error))?;
    let deadline = ctx.deadline_after(step.eventually.map(|d| d.as_std()));
    let pods_api: Api<Pod> = Api::namespaced(ctx.client.clone(), &ctx.namespace);
    let timed_out = || Unmet::Failed(Failure::new("no answer before the deadline"));
    let refused = |unmet: &Unmet| matches!(unmet, Unmet::Refused(_));
    let attempts = until_ok_or_final(
        step.eventually.is_some(),
        deadline,
        timed_out,
        refused,
        || attempt(step, ctx, &target, &pods_api, deadline),
    )
    .await;
    let retried = tried(&attempts);
    match attempts.last {
        Ok(passed) => Ok(StepReport::detail(passed.join("; "))),
        Err(Unmet::Failed(failure) | Unmet::Refused(failure)) => Err(Failure {
            message: format!(
                "http GET {target}:{}: {}{retried}",
                step.port, failure.message
            ),
            ..failure
        }),
        Err(Unmet::Misses(misses)) => Err(misses_failure(step, &misses, &retried)),
    }
}

/// Why an attempt did not pass.
enum Unmet {
    /// Some pods answered, but not as expected.
    Misses(Vec<Miss>),
    /// The pods could not be found or asked.
    Failed(Failure),
    /// The API server refuses every port-forward: trying again cannot help.
    Refused(Failure),
}

/// `Ok` with one account per pod when all answered as expected.
async fn attempt(
    step: &HttpStep,
    ctx: &StepContext,
    target: &ResolvedTarget,
    pods_api: &Api<Pod>,
    deadline: Instant,
) -> Result<Vec<String>, Unmet> {
    let pods = live_pods(ctx, target, deadline)
        .await
        .map_err(Unmet::Failed)?;
    let mut passed = Vec::new();
    let mut misses = Vec::new();
    for pod in &pods {
        let name = pod_name(pod);
        let vars = with_pod(&ctx.vars, &name);
        let path = step
            .path
            .resolve(&vars)
            .map_err(|error| Unmet::Failed(template_failure("http", &error)))?;
        let body = step
            .body
            .as_ref()
            .map(|body| substitute_text(body, |piece| vars.substitute(piece)))
            .transpose()
            .map_err(|error| Unmet::Failed(Failure::new(error)))?;
        let outcome = match get(pods_api, &name, step.port, &path, deadline).await {
            Ok(outcome) => outcome,
            Err(refused) => return Err(Unmet::Refused(refused)),
        };
        let mismatch = judge(step.status, body.as_ref(), &outcome);
        if mismatch.is_empty() {
            passed.push(format!("GET {name}:{}{path} -> {}", step.port, step.status));
        } else {
            misses.push(Miss {
                pod: name,
                path: path.to_string(),
                outcome,
                mismatch,
            });
        }
    }
    if misses.is_empty() {
        Ok(passed)
    } else {
        Err(Unmet::Misses(misses))
    }
}

/// The step's variables with `${pod}` set to `pod`.
fn with_pod(vars: &Variables, pod: &str) -> Variables {
    let mut vars = vars.clone();
    vars.set("pod", pod.to_owned());
    vars
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

/// Sends one GET through a fresh port-forward to `pod:port` and reads the response; the
/// outer `Err` when the API server refuses port-forward altogether.
async fn get(
    pods: &Api<Pod>,
    pod: &str,
    port: u16,
    path: &PathAndQuery,
    deadline: Instant,
) -> Result<Result<Response, String>, Failure> {
    let opened = match tokio::time::timeout_at(deadline, pods.portforward(pod, &[port])).await {
        Err(_) => Err(format!("no port-forward to pod/{pod} before the deadline")),
        Ok(Ok(forwarder)) => Ok(forwarder),
        Ok(Err(error)) => match subprotocol_refusal("port-forward", &error) {
            Some(refusal) => {
                return Err(Failure::new(format!(
                    "{refusal}; the http step needs a port-forward (it does not fall back to exec)"
                ))
                .with_kind(FailureKind::Api));
            }
            None => Err(format!(
                "failed to port-forward to pod/{pod}:{port}: {}",
                describe_kube_error(&error)
            )),
        },
    };
    Ok(match opened {
        Ok(forwarder) => exchange(forwarder, pod, port, path, deadline).await,
        Err(why) => Err(why),
    })
}

/// Sends the GET over an open port-forward and reads the response.
async fn exchange(
    mut forwarder: kube::api::Portforwarder,
    pod: &str,
    port: u16,
    path: &PathAndQuery,
    deadline: Instant,
) -> Result<Response, String> {
    let (Some(stream), Some(error)) = (forwarder.take_stream(port), forwarder.take_error(port))
    else {
        forwarder.abort();
        return Err(format!(
            "the port-forward to pod/{pod} offered no stream for port {port}"
        ));
    };
    let outcome = match tokio::time::timeout_at(
        deadline,
        http_wire::get(stream, pod, path, BODY_LIMIT),
    )
    .await
    {
        Ok(Ok(response)) => Ok(response),
        Ok(Err(NoResponse { why, before_head })) => {
            // A forward that could not connect closes the stream at once; the reason comes on the
            // error channel.
            let reason = if before_head {
                let grace_ends = (Instant::now() + ERROR_GRACE).min(deadline);
                tokio::time::timeout_at(grace_ends, error)
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
