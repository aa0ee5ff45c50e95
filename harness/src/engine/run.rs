//! Running one scenario: its namespace, its steps in order under their deadlines, its timeline
//! and diagnostics, and its cleanup, which always happens.

use super::cleanup::{delete_namespace, uncordon};
use super::collect::collect;
use super::config::{EngineConfig, KeepPolicy, ScenarioResult, ScenarioRun};
use super::forward::TimelineForwarder;
use super::namespace::{Heartbeat, annotate, create};
use super::naming::{KEPT_ANNOTATION, namespace_name, scenario_labels};
use crate::clock;
use crate::diagnostics;
use crate::events::{
    Event, EventSink, Failure, FailureKind, Figure, ScenarioId, ScenarioOutcome, StepOutcome,
};
use crate::redact::{MaskingSink, SecretValues};
use crate::report::timeline_file;
use crate::scenario::model::{ResolvedTarget, Step};
use crate::steps::{StepContext, run_step};
use crate::timeline::{Recorder, Timeline, excerpt};
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How long past its own limit a step may take before the engine stops it. Steps bound themselves
/// and report the last state they saw; this margin lets that report win over a bare cut-off.
const STEP_MARGIN: Duration = Duration::from_secs(5);
/// How much earlier than the scenario's `timeout` the engine's own deadline falls (at most a tenth
/// of the timeout).
const DEADLINE_LEAD: Duration = Duration::from_secs(1);
/// How long gathering diagnostics for a failure may take.
const DIAGNOSTICS_BUDGET: Duration = Duration::from_secs(20);

/// Runs one attempt of a scenario against the cluster in `config` and reports it to `events`.
///
/// It creates a fresh namespace (`petset-<area>-<name>-<suffix>`, labelled
/// `app.kubernetes.io/managed-by=petset` and `petset.dev/run=<run id>`, heartbeat refreshed while
/// it runs), records the namespace's timeline, runs the steps in order (each bounded by its own
/// timeout, the scenario's `timeout` and `config.cancel`), attaches the timeline and diagnostics
/// to a failure, and then always cleans up: uncordons the nodes it cordoned and deletes the
/// namespace and the PVs it owns, waiting for them to go. A cleanup that fails makes the scenario
/// fail. With [`KeepPolicy::OnFailure`] a failed scenario's namespace is kept (and annotated so
/// the stale sweep spares it) and the failure says how to inspect it.
///
/// Emits `ScenarioStarted`, `StepStarted`/`StepFinished` (step indexes count from 1) and
/// `Timeline` events; `ScenarioFinished` is left to the caller, which decides about retries.
/// Never panics on cluster errors; every problem ends up in the returned outcome.
///
/// Every value the steps read from a Secret is masked in each event and in the result before
/// either leaves this function, so no reporter can show it.
pub async fn run_scenario(
    config: &EngineConfig,
    run: ScenarioRun<'_>,
    events: &dyn EventSink,
) -> ScenarioResult {
    let secrets = SecretValues::default();
    let masked = MaskingSink::new(events, secrets.clone());
    let mut result = run_unmasked(config, run, &masked, &secrets).await;
    secrets.mask_outcome(&mut result.outcome);
    for value in result.properties.values_mut() {
        *value = secrets.mask(value);
    }
    result
}

/// [`run_scenario`] before masking; the steps register what they read from Secrets in `secrets`.
async fn run_unmasked(
    config: &EngineConfig,
    run: ScenarioRun<'_>,
    events: &dyn EventSink,
    secrets: &SecretValues,
) -> ScenarioResult {
    let started = Instant::now();
    let namespace = namespace_name(run.id);
    let labels = scenario_labels(&config.run_id);
    events.emit(Event::ScenarioStarted {
        id: run.id.clone(),
        file: run.file.to_path_buf(),
        covers: run
            .scenario
            .covers
            .iter()
            .map(|c| c.value.clone())
            .collect(),
        namespace: namespace.clone(),
        attempt: run.attempt,
    });
    let mut properties = BTreeMap::from([
        ("namespace".to_owned(), namespace.clone()),
        ("attempt".to_owned(), run.attempt.to_string()),
    ]);
    let result = |outcome, figures, properties, kept| ScenarioResult {
        outcome,
        figures,
        properties,
        namespace: namespace.clone(),
        kept,
        elapsed: started.elapsed(),
    };

    let setup_deadline = clock::from_now(Duration::from_secs(30));
    if let Err(error) = create(&config.client, &namespace, run.id, &labels, setup_deadline).await {
        // A namespace is petset's own setup, never the behaviour under test.
        let failure = Failure::new(format!("failed to set up the scenario: {error}"))
            .with_kind(FailureKind::Api);
        return result(
            ScenarioOutcome::Failed(failure),
            Vec::new(),
            properties,
            false,
        );
    }
    let heartbeat = Heartbeat::start(&config.client, &namespace, config.heartbeat_every);

    let mut ctx = StepContext::new(
        config.client.clone(),
        namespace.clone(),
        config.fixtures_dir.clone(),
    );
    ctx.labels = labels;
    ctx.secrets = secrets.clone();
    ctx.default_timeout = config.default_timeout;
    ctx.cluster_config = config.cluster_config.clone();
    ctx.set_cluster_domain(&config.cluster_domain);
    // The combination of the matrix this trial runs with, as variables for steps and fixtures.
    for (name, value) in &run.scenario.parameters {
        ctx.vars.set(name.clone(), value.clone());
    }
    // Counted from the start, namespace creation included, as the runner counts it, and a
    // little short of it: a step that runs out of time then fails on its own, with the last state
    // it saw, before the caller's cancellation at the full timeout cuts it off blind.
    let timeout = run.scenario.timeout.as_std();
    let deadline = clock::after(
        started,
        timeout.saturating_sub(DEADLINE_LEAD.min(timeout / 10)),
    );
    ctx.deadline = Some(deadline);
    let mut forwarder = TimelineForwarder::new(&ctx.timeline);
    let mut recorder = Recorder::start(&config.client, &namespace, &ctx.timeline);

    let steps = StepList {
        steps: &run.scenario.steps,
        first_index: 1,
        deadline,
        ran_out: format!("the scenario's timeout of {} ran out", run.scenario.timeout),
        finally: false,
    };
    let (mut outcome, mut figures) =
        run_steps(config, &run, &steps, &mut ctx, &mut forwarder, events).await;
    if let ScenarioOutcome::Failed(failure) = &mut outcome
        && !run.scenario.on_failure.is_empty()
    {
        // Right after the failure, before `finally` undoes anything.
        let collected = collect(&run.scenario.on_failure, &ctx).await;
        failure.diagnostics.push_str(&collected);
    }
    if !run.scenario.finally.is_empty() {
        let (finally, more) = run_finally(config, &run, &mut ctx, &mut forwarder, events).await;
        figures.extend(more);
        outcome = with_finally(outcome, finally);
    }
    recorder.stop();
    forwarder.send_new(run.id, events);

    // Cleanup: never cancelled, bounded by its own deadline.
    drop(heartbeat);
    let cleanup_deadline = clock::from_now(config.cleanup_timeout);
    let mut problems = uncordon(&config.client, &ctx.cordoned.names(), cleanup_deadline).await;
    let failed = matches!(outcome, ScenarioOutcome::Failed(_));
    let keep = failed && config.keep == KeepPolicy::OnFailure;
    if keep {
        let note = BTreeMap::from([(
            KEPT_ANNOTATION.to_owned(),
            "PETSET_KEEP=on-failure".to_owned(),
        )]);
        if let Err(error) = annotate(&config.client, &namespace, &note, cleanup_deadline).await {
            problems.push(format!(
                "could not mark the kept namespace (a later run may sweep it): {error}"
            ));
        }
        properties.insert("kept".to_owned(), "true".to_owned());
        properties.insert("cleanup".to_owned(), "namespace kept".to_owned());
    } else {
        match delete_namespace(&config.client, &namespace, cleanup_deadline).await {
            Ok(detail) => {
                properties.insert("cleanup".to_owned(), detail);
            }
            Err(problem) => problems.push(problem),
        }
    }

    if let ScenarioOutcome::Failed(failure) = &mut outcome
        && keep
    {
        failure.diagnostics.push_str(&format!(
            "\n== namespace kept (PETSET_KEEP=on-failure) ==\nlook at it with: kubectl get all,pvc,events -n {namespace}\n\
             delete it with: kubectl delete namespace {namespace}\n"
        ));
    }
    if !problems.is_empty() {
        let problem = problems.join("; ");
        properties.insert("cleanup".to_owned(), format!("failed: {problem}"));
        outcome = match outcome {
            ScenarioOutcome::Failed(mut failure) => {
                failure.message.push_str("; cleanup also failed");
                failure
                    .diagnostics
                    .push_str(&format!("\n== cleanup failed ==\n{problem}\n"));
                ScenarioOutcome::Failed(failure)
            }
            _ => ScenarioOutcome::Failed(Failure {
                kind: FailureKind::Cleanup,
                message: format!("cleanup failed: {problem}"),
                expected: format!("namespace {namespace} and everything the scenario owns deleted"),
                actual: problem,
                timeline: timeline_excerpt(&ctx.timeline, &[], run.id),
                diagnostics: String::new(),
            }),
        };
    }
    result(outcome, figures, properties, keep)
}

/// How running one step ended.
enum StepEnd {
    Done(crate::steps::StepResult),
    /// The step ran past its limit (or the scenario's deadline) plus the margin.
    Overran,
    /// The scenario's deadline had passed before the step could start.
    NotStarted,
    Cancelled,
}

/// A list of steps to run: the scenario's `steps` or its `finally`.
struct StepList<'a> {
    steps: &'a [Spanned<Step>],
    /// The index events give the first step (steps count from 1; `finally` steps follow them).
    first_index: usize,
    deadline: Instant,
    /// What a failure at `deadline` says ran out.
    ran_out: String,
    /// `finally` steps run even after Ctrl-C, bounded by their own deadline.
    finally: bool,
}

/// Runs the scenario's `finally` steps after its steps, whatever happened to them: under a
/// budget of their own (the cleanup timeout), since the scenario's may be spent, and not
/// stopped by Ctrl-C, since they undo what the steps did outside the namespace.
async fn run_finally(
    config: &EngineConfig,
    run: &ScenarioRun<'_>,
    ctx: &mut StepContext,
    forwarder: &mut TimelineForwarder,
    events: &dyn EventSink,
) -> (ScenarioOutcome, Vec<Figure>) {
    let deadline = clock::from_now(config.cleanup_timeout);
    ctx.deadline = Some(deadline);
    let list = StepList {
        steps: &run.scenario.finally,
        first_index: run.scenario.steps.len() + 1,
        deadline,
        ran_out: format!(
            "the finally steps' time of {:.0}s ran out",
            config.cleanup_timeout.as_secs_f64()
        ),
        finally: true,
    };
    run_steps(config, run, &list, ctx, forwarder, events).await
}

/// The scenario's outcome once its `finally` steps ran: a failure of theirs fails a scenario
/// that passed, and is added to the diagnostics of one that failed without hiding its cause.
fn with_finally(outcome: ScenarioOutcome, finally: ScenarioOutcome) -> ScenarioOutcome {
    let ScenarioOutcome::Failed(late) = finally else {
        return outcome;
    };
    match outcome {
        ScenarioOutcome::Failed(mut failure) => {
            failure.message.push_str("; a finally step also failed");
            failure.diagnostics.push_str(&format!(
                "\n== finally failed ==\n{}\n{}",
                late.message, late.actual
            ));
            ScenarioOutcome::Failed(failure)
        }
        _ => ScenarioOutcome::Failed(late),
    }
}

/// Runs the steps in order; stops at the first failure.
async fn run_steps(
    config: &EngineConfig,
    run: &ScenarioRun<'_>,
    list: &StepList<'_>,
    ctx: &mut StepContext,
    forwarder: &mut TimelineForwarder,
    events: &dyn EventSink,
) -> (ScenarioOutcome, Vec<Figure>) {
    let mut figures = Vec::new();
    let deadline = list.deadline;
    for (position, spanned) in list.steps.iter().enumerate() {
        let index = list.first_index + position;
        let step = &spanned.value;
        let summary = if list.finally {
            format!("finally: {}", step.summary())
        } else {
            step.summary()
        };
        events.emit(Event::StepStarted {
            id: run.id.clone(),
            index,
            kind: step.kind_name(),
            summary: summary.clone(),
            line: spanned.referenced.line(),
        });
        let step_started = Instant::now();
        let own_limit = clock::after(step_started, step.time_limit(config.default_timeout));
        let limit = clock::after(own_limit.min(deadline), STEP_MARGIN);
        let end = if config.cancel.is_cancelled() && !list.finally {
            StepEnd::Cancelled
        } else if Instant::now() >= deadline {
            StepEnd::NotStarted
        } else {
            let cancel = (!list.finally).then_some(&config.cancel);
            run_one(step, ctx, limit, cancel, forwarder, run, events).await
        };
        let result = match end {
            StepEnd::Done(result) => result,
            StepEnd::Overran => Err(Failure::new(format!(
                "did not finish within its limit of {:.0}s",
                (limit - step_started)
                    .saturating_sub(STEP_MARGIN)
                    .as_secs_f64()
            ))
            .with_kind(FailureKind::Deadline)),
            StepEnd::Cancelled => Err(Failure::new("cancelled before it finished")),
            StepEnd::NotStarted => {
                Err(Failure::new("not started: no time was left").with_kind(FailureKind::Deadline))
            }
        };
        match result {
            Ok(report) => {
                figures.extend(report.figures.iter().cloned());
                events.emit(Event::StepFinished {
                    id: run.id.clone(),
                    index,
                    outcome: StepOutcome::Passed {
                        detail: report.detail,
                        figures: report.figures,
                    },
                    elapsed: step_started.elapsed(),
                });
            }
            Err(mut failure) => {
                let mut message = format!("step {index} ({summary}): {}", failure.message);
                if Instant::now() >= deadline {
                    message.push_str(&format!(" ({})", list.ran_out));
                    // An unmet expectation cut short by the scenario's timeout; an API error
                    // stays one.
                    if failure.kind == FailureKind::Assertion {
                        failure.kind = FailureKind::Deadline;
                    }
                }
                failure.message = message;
                let step_targets: Vec<_> = step
                    .about()
                    .iter()
                    .filter_map(|target| ctx.resolve(target).ok())
                    .collect();
                let gathered = diagnostics::gather(
                    &ctx.client,
                    &ctx.namespace,
                    &step_targets,
                    DIAGNOSTICS_BUDGET,
                )
                .await;
                failure.diagnostics = if failure.diagnostics.is_empty() {
                    gathered
                } else {
                    format!("{}\n{gathered}", failure.diagnostics)
                };
                failure.timeline = timeline_excerpt(&ctx.timeline, &step_targets, run.id);
                events.emit(Event::StepFinished {
                    id: run.id.clone(),
                    index,
                    outcome: StepOutcome::Failed(failure.clone()),
                    elapsed: step_started.elapsed(),
                });
                return (ScenarioOutcome::Failed(failure), figures);
            }
        }
    }
    (ScenarioOutcome::Passed, figures)
}

/// Runs one step until it ends, `limit` passes or `cancel` is cancelled, forwarding timeline
/// entries to `events` as they are recorded.
async fn run_one(
    step: &Step,
    ctx: &mut StepContext,
    limit: Instant,
    cancel: Option<&CancellationToken>,
    forwarder: &mut TimelineForwarder,
    run: &ScenarioRun<'_>,
    events: &dyn EventSink,
) -> StepEnd {
    let future = run_step(step, ctx);
    tokio::pin!(future);
    let cancelled = async {
        match cancel {
            Some(cancel) => cancel.cancelled().await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(cancelled);
    let end = loop {
        tokio::select! {
            biased;
            () = &mut cancelled => break StepEnd::Cancelled,
            result = &mut future => break StepEnd::Done(result),
            () = tokio::time::sleep_until(limit) => break StepEnd::Overran,
            () = forwarder.changed() => forwarder.send_new(run.id, events),
        }
    };
    forwarder.send_new(run.id, events);
    end
}

/// The timeline lines a failure shows: those of `subjects` (the failed step's targets) and the
/// latest, folded, naming the file the reports write the whole timeline to.
fn timeline_excerpt(timeline: &Timeline, subjects: &[ResolvedTarget], id: &ScenarioId) -> String {
    let lines: Vec<String> = timeline.snapshot().iter().map(|e| e.to_line()).collect();
    let subjects: Vec<String> = subjects
        .iter()
        .map(|target| match &target.name {
            Some(name) => format!("{}/{name}", target.kind),
            None => format!("{}/", target.kind),
        })
        .collect();
    excerpt(
        &lines,
        &subjects,
        Some(&format!("reports/{}", timeline_file(id))),
    )
}
