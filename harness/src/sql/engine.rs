//! Carrying out a `sql` step's plan over a transport: statements, the expected error, the query
//! and its check, `eventually` retries with the time they took, all within the step's deadline.

use super::compare::RowCheck;
use super::error::{ACCESS_DENIED, ErrorContext, Fault, SqlError};
use super::rows::Rows;
use super::secret::Credentials;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// First pause between `eventually` attempts; it grows to [`MAX_RETRY_DELAY`]. A database has
/// nothing to watch, so this is a poll, kept short because its period bounds how precisely the
/// replication lag is measured.
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(20);
const MAX_RETRY_DELAY: Duration = Duration::from_millis(250);
/// How long the attempt made at the `eventually` deadline may take.
const LAST_ATTEMPT: Duration = Duration::from_millis(500);

/// What one `sql` step does, independent of how the server is reached.
#[derive(Debug, Clone, Default)]
pub struct SqlPlan {
    /// The step's name in messages, e.g. `step 5 (sql pod/mysql-1)`.
    pub step: String,
    /// Run in order, in one session, before the query.
    pub statements: Vec<String>,
    /// Checked against `check`.
    pub query: Option<String>,
    pub check: RowCheck,
    /// The server error code a statement (or the query) must fail with.
    pub expect_error: Option<u16>,
    /// Re-run the query until it matches or this long after the step started.
    pub eventually: Option<Duration>,
    /// Run the query over this many separate connections and check all their rows together.
    pub repeat: u32,
    /// Nothing in the step may take longer than this.
    pub deadline: Duration,
}

/// What a passed `sql` step saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SqlOutcome {
    /// The query's rows (all connections' rows with `repeat`).
    pub rows: Option<Rows>,
    /// How many times the query ran (more than one with `eventually`).
    pub attempts: u32,
    /// With `eventually`: from the start of the step until the rows matched.
    pub waited: Option<Duration>,
    /// The expected error code, when it was seen.
    pub saw_error: Option<u16>,
}

/// A way to talk to one server: a driver connection, or a client run inside a pod.
pub(crate) trait Transport {
    /// `pod:port` or similar, for messages.
    fn target(&self) -> String;
    /// Runs `statements` in order in one session, calling `starting` with each one's index;
    /// on failure, which one failed and how.
    async fn statements(
        &mut self,
        statements: &[String],
        starting: &(dyn Fn(usize) + Sync),
    ) -> Result<(), (usize, Fault)>;
    /// Runs `query` over `repeat` connections (the first may be the statements' session) and
    /// returns all their rows.
    async fn query(&mut self, query: &str, repeat: u32) -> Result<Rows, Fault>;
    /// Ends the session politely, if there is one.
    async fn close(&mut self);
}

/// Runs `plan` over `transport`; every failure names the step and target.
pub(crate) async fn run_plan<T: Transport>(
    transport: &mut T,
    creds: &Credentials,
    plan: &SqlPlan,
) -> Result<SqlOutcome, SqlError> {
    let target = transport.target();
    let ctx = ErrorContext {
        step: &plan.step,
        target: &target,
        creds,
    };
    if plan.statements.is_empty() && plan.query.is_none() {
        return Err(SqlError::Invalid {
            step: plan.step.clone(),
            reason: "it has neither statements nor a query".to_owned(),
        });
    }
    if plan.eventually.is_some() && plan.expect_error.is_some() {
        return Err(SqlError::Invalid {
            step: plan.step.clone(),
            reason: "`eventually` re-runs the query until its rows match; it cannot be combined \
                     with `expectError`"
                .to_owned(),
        });
    }
    let doing = Mutex::new(String::from("connecting"));
    let outcome = tokio::time::timeout(plan.deadline, steps(transport, &ctx, plan, &doing)).await;
    transport.close().await;
    match outcome {
        Ok(result) => result,
        Err(_) => Err(SqlError::Deadline {
            step: plan.step.clone(),
            target: target.clone(),
            deadline: plan.deadline,
            doing: doing.lock().map(|d| d.clone()).unwrap_or_default(),
        }),
    }
}

fn set(doing: &Mutex<String>, what: String) {
    if let Ok(mut d) = doing.lock() {
        *d = what;
    }
}

async fn steps<T: Transport>(
    transport: &mut T,
    ctx: &ErrorContext<'_>,
    plan: &SqlPlan,
    doing: &Mutex<String>,
) -> Result<SqlOutcome, SqlError> {
    let started = Instant::now();
    let mut outcome = SqlOutcome::default();
    if !plan.statements.is_empty() {
        set(doing, "connecting".to_owned());
        let starting = |index: usize| {
            let statement = plan.statements.get(index).map(String::as_str);
            set(doing, ctx.redact(&statement_doing(statement)));
        };
        match transport.statements(&plan.statements, &starting).await {
            Ok(()) => {}
            Err((index, fault)) => {
                let statement = plan.statements.get(index).map(String::as_str);
                let seen = fault.server_code();
                match plan.expect_error {
                    Some(expected) if seen == Some(expected) => outcome.saw_error = seen,
                    Some(expected) if seen.is_some() && seen != Some(ACCESS_DENIED) => {
                        return Err(ctx.wrong_error(expected, statement.unwrap_or(""), &fault));
                    }
                    _ => {
                        let what = statement_doing(statement);
                        return Err(ctx.error(fault, statement, &what));
                    }
                }
            }
        }
    }
    let Some(query) = &plan.query else {
        return match plan.expect_error {
            Some(expected) if outcome.saw_error.is_none() => {
                let last = plan.statements.last().map(String::as_str).unwrap_or("");
                Err(ctx.unexpected_success(expected, last))
            }
            _ => Ok(outcome),
        };
    };
    let repeat = plan.repeat.max(1);
    if let Some(window) = plan.eventually {
        return eventually(transport, ctx, plan, query, window, started, doing).await;
    }
    set(doing, format!("running the query `{}`", ctx.redact(query)));
    outcome.attempts = 1;
    match transport.query(query, repeat).await {
        Ok(rows) => {
            if let (Some(expected), None) = (plan.expect_error, outcome.saw_error) {
                return Err(ctx.unexpected_success(expected, query));
            }
            if let Err(mismatch) = plan.check.check(&rows) {
                return Err(SqlError::Mismatch {
                    step: ctx.step.to_owned(),
                    target: ctx.target.to_owned(),
                    query: ctx.redact(query),
                    mismatch: ctx.redact(&mismatch),
                });
            }
            outcome.rows = Some(rows);
            Ok(outcome)
        }
        Err(fault) => match (plan.expect_error, outcome.saw_error) {
            (Some(expected), None) if fault.server_code() == Some(expected) => {
                outcome.saw_error = Some(expected);
                Ok(outcome)
            }
            (Some(expected), None)
                if fault.server_code().is_some() && fault.server_code() != Some(ACCESS_DENIED) =>
            {
                Err(ctx.wrong_error(expected, query, &fault))
            }
            _ => Err(ctx.error(fault, Some(query), "running the query")),
        },
    }
}

fn statement_doing(statement: Option<&str>) -> String {
    match statement {
        Some(s) => format!("running `{s}`"),
        None => "connecting".to_owned(),
    }
}

async fn eventually<T: Transport>(
    transport: &mut T,
    ctx: &ErrorContext<'_>,
    plan: &SqlPlan,
    query: &str,
    window: Duration,
    started: Instant,
    doing: &Mutex<String>,
) -> Result<SqlOutcome, SqlError> {
    let until = crate::clock::after(tokio::time::Instant::from_std(started), window).into_std();
    let mut delay = FIRST_RETRY_DELAY;
    let mut attempts = 0;
    let mut last = String::from("the query never completed");
    loop {
        attempts += 1;
        set(
            doing,
            format!(
                "waiting for the rows of `{}` (attempt {attempts})",
                ctx.redact(query)
            ),
        );
        // The last attempt, started at the deadline, still gets a moment to answer.
        let remaining = until
            .saturating_duration_since(Instant::now())
            .max(LAST_ATTEMPT);
        match tokio::time::timeout(remaining, transport.query(query, plan.repeat.max(1))).await {
            Ok(Ok(rows)) => match plan.check.check(&rows) {
                Ok(()) => {
                    return Ok(SqlOutcome {
                        rows: Some(rows),
                        attempts,
                        waited: Some(started.elapsed()),
                        saw_error: None,
                    });
                }
                Err(mismatch) => last = format!("last rows seen:\n{mismatch}"),
            },
            // Waiting does not fix a wrong password or a refused port-forward: say so at once.
            Ok(Err(fault)) if fault.is_final() => {
                return Err(ctx.error(fault, Some(query), "running the query"));
            }
            // Anything else may be the lag itself (no such table yet, the pod restarting).
            Ok(Err(fault)) => last = format!("last attempt failed: {}", fault.describe()),
            Err(_) => last = format!("the last attempt was still running; before that: {last}"),
        }
        let now = Instant::now();
        if now >= until {
            return Err(SqlError::NeverMatched {
                step: ctx.step.to_owned(),
                target: ctx.target.to_owned(),
                query: ctx.redact(query),
                waited: now.duration_since(started),
                attempts,
                last: format!("expected {}\n{}", plan.check.describe(), ctx.redact(&last)),
            });
        }
        let delay_now = delay.min(until - now);
        tokio::time::sleep(delay_now).await;
        delay = (delay * 3 / 2).min(MAX_RETRY_DELAY);
    }
}
