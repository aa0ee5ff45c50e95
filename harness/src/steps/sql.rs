//! The `sql` step kind at run time: turns a scenario's [`SqlStep`] into a plan, reaches the pod (port-forward or
//! exec), runs it with the engine and reports the outcome, including the time `eventually`
//! took as a figure (the replication lag when the step reads a replica).

use super::dispatch::Execute;
use super::{StepContext, StepReport, StepResult, Variables};
use crate::events::{Failure, Figure};
use crate::net::PortForward;
use crate::scenario::kinds;
use crate::scenario::model::{Kind, SqlStep, SqlVia};
use crate::sql::{
    Cell, ClientServer, Credentials, Endpoint, Password, PodExec, Row, RowCheck, SqlError,
    SqlOutcome, SqlPlan, password_from_secret, run_on_endpoint, run_with_client,
};
use k8s_openapi::api::core::v1::{Pod, Secret};
use kube::Api;
use serde_json::Value;
use std::time::Duration;

/// The figure name for `eventually` when the step gives no `reportAs`.
pub const DEFAULT_FIGURE: &str = "sql_eventually";
/// Headroom over `eventually` for connecting and the last attempt, when the step's deadline
/// is derived from it.
const DEADLINE_HEADROOM: Duration = Duration::from_secs(30);
/// How long to show a statement in a step label.
const LABEL_SQL_CHARS: usize = 60;

impl Execute for kinds::Sql {
    async fn run(step: &SqlStep, ctx: &mut StepContext) -> StepResult {
        run_sql_step(step, ctx).await
    }
}

/// Runs a `sql` step as the engine does: a failure names the step and its target.
pub async fn run_sql_step(step: &SqlStep, ctx: &StepContext) -> StepResult {
    let label = step_label(step);
    execute_sql_step(step, ctx, &label)
        .await
        .map_err(|error| failure(step, error))
}

/// Runs a `sql` step; `label` names it in every message.
pub async fn execute_sql_step(
    step: &SqlStep,
    ctx: &StepContext,
    label: &str,
) -> Result<StepReport, SqlError> {
    let invalid = |reason: String| SqlError::Invalid {
        step: label.to_owned(),
        reason,
    };
    let sub = |text: &str| ctx.vars.substitute(text).map_err(&invalid);
    if step.target.kind != Kind::Pod {
        return Err(invalid(format!(
            "the target must be a pod (e.g. `pod/mysql-0`), not {}",
            step.target
        )));
    }
    let Some(pod) = step.target.name.as_deref() else {
        return Err(invalid(
            "the target must name one pod, e.g. `pod/mysql-0`".to_owned(),
        ));
    };
    let pod = sub(pod)?;
    let creds = Credentials::new(sub(&step.user)?, password(step, ctx, label).await?);
    let database = step.database.as_deref().map(sub).transpose()?;
    let plan = build_plan(step, ctx, label)?;
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), &ctx.namespace);
    let route = Route {
        step,
        ctx,
        label,
        pods,
        pod,
        database,
    };
    let (outcome, fallback) = match step.via {
        SqlVia::PortForward => match route.through_port_forward(&creds, &plan).await {
            Err((SqlError::PortForwardRefused { cause, .. }, Reached::Nothing)) => {
                // Nothing went through the refused forward, so running the whole plan again
                // in the pod runs every statement exactly once.
                let outcome = route.through_exec(&creds, &plan).await?;
                let note = format!(
                    "port-forward refused ({cause}); ran through exec in pod {} instead",
                    route.pod
                );
                (outcome, Some(note))
            }
            Err((error, _)) => return Err(error),
            Ok(outcome) => (outcome, None),
        },
        SqlVia::Exec => (route.through_exec(&creds, &plan).await?, None),
    };
    let mut report = report(step, &plan, &outcome);
    if let Some(note) = fallback {
        report.detail = if report.detail.is_empty() {
            note
        } else {
            format!("{}; {note}", report.detail)
        };
    }
    Ok(report)
}

/// Whether anything reached the pod through a port-forward that failed.
enum Reached {
    Nothing,
    Something,
}

/// The ways to reach one pod's server for one step.
struct Route<'a> {
    step: &'a SqlStep,
    ctx: &'a StepContext,
    label: &'a str,
    pods: Api<Pod>,
    pod: String,
    database: Option<String>,
}

impl Route<'_> {
    async fn through_port_forward(
        &self,
        creds: &Credentials,
        plan: &SqlPlan,
    ) -> Result<SqlOutcome, (SqlError, Reached)> {
        let target = format!("{}:{}", self.pod, self.step.port);
        let forward = PortForward::start(self.pods.clone(), &self.pod, self.step.port)
            .await
            .map_err(|source| {
                let error = SqlError::Listener {
                    step: self.label.to_owned(),
                    target: target.clone(),
                    source,
                };
                (error, Reached::Nothing)
            })?;
        let endpoint = Endpoint {
            target,
            addr: forward.local_addr(),
            forward: Some(forward.diagnostics()),
        };
        run_on_endpoint(&endpoint, creds, self.database.as_deref(), plan)
            .await
            .map_err(|error| {
                let reached = match forward.diagnostics().opened() {
                    0 => Reached::Nothing,
                    _ => Reached::Something,
                };
                (error, reached)
            })
    }

    async fn through_exec(
        &self,
        creds: &Credentials,
        plan: &SqlPlan,
    ) -> Result<SqlOutcome, SqlError> {
        let sub = |text: &str| {
            self.ctx
                .vars
                .substitute(text)
                .map_err(|reason| SqlError::Invalid {
                    step: self.label.to_owned(),
                    reason,
                })
        };
        let runner = PodExec {
            pods: self.pods.clone(),
            pod: self.pod.clone(),
            container: self.step.container.as_deref().map(sub).transpose()?,
        };
        let server = ClientServer {
            host: match &self.step.host {
                Some(host) => sub(host)?,
                None => "127.0.0.1".to_owned(),
            },
            port: self.step.port,
            database: self.database.clone(),
        };
        run_with_client(&runner, &server, creds, plan).await
    }
}

async fn password(step: &SqlStep, ctx: &StepContext, label: &str) -> Result<Password, SqlError> {
    match (&step.password, &step.password_from) {
        (Some(_), Some(_)) => Err(SqlError::Invalid {
            step: label.to_owned(),
            reason: "give either `password` or `passwordFrom`, not both".to_owned(),
        }),
        (Some(password), None) => {
            ctx.secrets.register(password.expose());
            Ok(password.clone())
        }
        (None, Some(reference)) => {
            let subst = |text: &str| {
                ctx.vars
                    .substitute(text)
                    .map_err(|reason| SqlError::Invalid {
                        step: label.to_owned(),
                        reason,
                    })
            };
            let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), &ctx.namespace);
            password_from_secret(
                &secrets,
                &ctx.namespace,
                &subst(&reference.secret)?,
                &subst(&reference.key)?,
                &ctx.secrets,
                ctx.deadline_after(None),
            )
            .await
            .map_err(|source| SqlError::Secret {
                step: label.to_owned(),
                source,
            })
        }
        (None, None) => Ok(Password::default()),
    }
}

/// Builds the engine's plan from the step, with variables substituted.
pub fn build_plan(step: &SqlStep, ctx: &StepContext, label: &str) -> Result<SqlPlan, SqlError> {
    let invalid = |reason: String| SqlError::Invalid {
        step: label.to_owned(),
        reason,
    };
    let sub = |text: &str| ctx.vars.substitute(text).map_err(&invalid);
    let statements = step
        .statements
        .iter()
        .map(|s| sub(s))
        .collect::<Result<Vec<_>, _>>()?;
    let query = step.query.as_deref().map(sub).transpose()?;
    let mut check = RowCheck::default();
    if let Some(expect) = &step.expect {
        if query.is_none() {
            return Err(invalid("`expect` needs a `query` to check".to_owned()));
        }
        check.mode = expect.mode;
        check.distinct_at_least = expect.distinct_at_least;
        check.rows = expect
            .rows
            .as_ref()
            .map(|rows| {
                rows.iter()
                    .map(|row| expected_row(row, &ctx.vars))
                    .collect::<Result<Vec<Row>, _>>()
            })
            .transpose()
            .map_err(&invalid)?;
    }
    let eventually = step.eventually.map(|d| d.as_std());
    let own = match eventually {
        Some(window) => ctx
            .default_timeout
            .max(window.saturating_add(DEADLINE_HEADROOM)),
        None => ctx.default_timeout,
    };
    // Never past the scenario's own deadline.
    let deadline = ctx
        .deadline_after(Some(own))
        .saturating_duration_since(tokio::time::Instant::now());
    Ok(SqlPlan {
        step: label.to_owned(),
        statements,
        query,
        check,
        expect_error: step.expect_error,
        eventually,
        repeat: step.repeat.unwrap_or(1),
        deadline,
    })
}

/// Expected values are written as YAML scalars; they compare with the server's text.
fn expected_row(row: &[Value], vars: &Variables) -> Result<Row, String> {
    row.iter()
        .map(|value| -> Result<Cell, String> {
            Ok(match value {
                Value::Null => None,
                Value::String(text) => Some(vars.substitute(text)?),
                Value::Number(n) => Some(n.to_string()),
                // MySQL has no boolean type: TRUE is 1.
                Value::Bool(b) => Some(if *b { "1" } else { "0" }.to_owned()),
                other => {
                    return Err(format!(
                        "an expected value must be a string, number, boolean or null, not {other}"
                    ));
                }
            })
        })
        .collect()
}

fn report(step: &SqlStep, plan: &SqlPlan, outcome: &SqlOutcome) -> StepReport {
    let mut parts = Vec::new();
    if !plan.statements.is_empty() {
        parts.push(format!("{} statement(s) run", plan.statements.len()));
    }
    if let Some(code) = outcome.saw_error {
        parts.push(format!("failed with error {code} as expected"));
    }
    if let Some(rows) = &outcome.rows {
        parts.push(format!("{} row(s) matched", rows.len()));
    }
    let mut figures = Vec::new();
    if let Some(waited) = outcome.waited {
        parts.push(format!(
            "after {} ms ({} attempts)",
            waited.as_millis(),
            outcome.attempts
        ));
        figures.push(Figure {
            name: step
                .report_as
                .clone()
                .unwrap_or_else(|| DEFAULT_FIGURE.to_owned()),
            value: waited.as_secs_f64() * 1000.0,
            unit: "ms",
        });
    }
    StepReport {
        detail: parts.join(", "),
        figures,
    }
}

/// `sql pod/mysql-1: SELECT ...`, short enough for a message.
pub fn step_label(step: &SqlStep) -> String {
    let sql = step
        .query
        .as_deref()
        .or(step.statements.first().map(String::as_str))
        .unwrap_or("");
    let mut short: String = sql.chars().take(LABEL_SQL_CHARS).collect();
    if sql.chars().count() > LABEL_SQL_CHARS {
        short.push_str("...");
    }
    let via = match step.via {
        SqlVia::PortForward => String::new(),
        SqlVia::Exec => " (exec)".to_owned(),
    };
    let short = crate::sql::redact(&short, step.password.as_ref());
    format!("sql {}{via}: {short}", step.target)
}

fn failure(step: &SqlStep, error: SqlError) -> Failure {
    let mut expected = Vec::new();
    if let Some(code) = step.expect_error {
        expected.push(format!("error {code}"));
    }
    if let Some(expect) = &step.expect {
        if let Some(rows) = &expect.rows {
            expected.push(format!(
                "rows ({:?}): {}",
                expect.mode,
                serde_json::to_string(rows).unwrap_or_default()
            ));
        }
        if let Some(n) = expect.distinct_at_least {
            expected.push(format!("at least {n} distinct rows"));
        }
    }
    Failure {
        kind: error.failure_kind(),
        // The causes too: a Secret that could not be read says why.
        message: crate::error_chain::chain(&error),
        expected: expected.join("\n"),
        ..Failure::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql_step(yaml: &str) -> SqlStep {
        serde_saphyr::from_str(yaml).expect("step parses")
    }

    fn context() -> StepContext {
        let config = kube::Config::new("http://127.0.0.1:9".parse().expect("url"));
        let client = crate::cluster::client_from_config(config).expect("client");
        let mut ctx = StepContext::new(client, "petset-t1", "fixtures".into());
        ctx.vars.set("row", "hello");
        ctx.default_timeout = Duration::from_secs(60);
        ctx
    }

    #[tokio::test]
    async fn builds_the_plan_with_variables_and_typed_rows() {
        let step = sql_step(
            r#"
target: pod/mysql-1
user: app
password: pw-inline-9
query: "SELECT id, name, flag, note FROM t WHERE name = '${row}'"
expect: {rows: [[1, "${row}", true, null]], match: unordered}
eventually: 45s
reportAs: replication_lag
"#,
        );
        let plan = build_plan(&step, &context(), "label").expect("plan");
        assert_eq!(
            plan.query.as_deref(),
            Some("SELECT id, name, flag, note FROM t WHERE name = 'hello'")
        );
        assert_eq!(
            plan.check.rows,
            Some(vec![vec![
                Some("1".into()),
                Some("hello".into()),
                Some("1".into()),
                None
            ]])
        );
        assert_eq!(plan.check.mode, crate::sql::RowsMatch::Unordered);
        // The deadline leaves room beyond `eventually`.
        assert!(
            plan.deadline > Duration::from_secs(74) && plan.deadline <= Duration::from_secs(75)
        );
        assert_eq!(plan.repeat, 1);
    }

    #[test]
    fn a_password_that_could_not_be_read_says_why() {
        let step = sql_step("{target: pod/mysql-0, user: app, query: SELECT 1}");
        let error = SqlError::Secret {
            step: "s".into(),
            source: crate::sql::SecretError::NotFound {
                name: "db".into(),
                namespace: "petset-t1".into(),
            },
        };
        assert_eq!(
            failure(&step, error).message,
            "failed to get the password for sql step `s`: failed to read secret `db`: it does not \
             exist in namespace `petset-t1`"
        );
    }

    #[tokio::test]
    async fn rejects_what_cannot_run() {
        let ctx = context();
        let no_query = sql_step("{target: pod/mysql-0, user: app, expect: {rows: [[1]]}}");
        let error = build_plan(&no_query, &ctx, "s")
            .err()
            .map(|e| e.to_string());
        assert!(error.is_some_and(|e| e.contains("needs a `query`")));
        let nested =
            sql_step("{target: pod/mysql-0, user: app, query: x, expect: {rows: [[[1]]]}}");
        assert!(build_plan(&nested, &ctx, "s").is_err());
        let unknown = sql_step("{target: pod/mysql-0, user: app, query: '${nope}'}");
        let error = build_plan(&unknown, &ctx, "s").err().map(|e| e.to_string());
        assert!(error.is_some_and(|e| e.contains("nope")));
        let service = sql_step("{target: svc/mysql, user: app, query: 'SELECT 1'}");
        let error = execute_sql_step(&service, &ctx, "s").await.err();
        assert!(error.is_some_and(|e| e.to_string().contains("must be a pod")));
        let both = sql_step(
            "{target: pod/m, user: a, password: x, passwordFrom: {secret: s, key: k}, query: q}",
        );
        let error = execute_sql_step(&both, &ctx, "s").await.err();
        assert!(error.is_some_and(|e| e.to_string().contains("not both")));
    }

    #[test]
    fn the_step_never_shows_its_password() {
        let step = sql_step(
            "{target: pod/mysql-0, user: root, password: pw-inline-9, statements: ['SELECT 1']}",
        );
        let shown = format!(
            "{step:?} {}",
            serde_json::to_string(&step).unwrap_or_default()
        );
        assert!(!shown.contains("pw-inline-9"), "{shown}");
        // Statements that carry the password are scrubbed where petset shows them.
        let step = sql_step(
            "{target: pod/mysql-0, user: root, password: pw-inline-9, \
             statements: [\"GRANT ALL ON d.* TO u; SELECT 'pw-inline-9'\"]}",
        );
        let label = step_label(&step);
        assert_eq!(
            label,
            "sql pod/mysql-0: GRANT ALL ON d.* TO u; SELECT '***'"
        );
    }

    #[test]
    fn reports_the_wait_as_a_figure() {
        let step = sql_step("{target: pod/mysql-1, user: a, query: q, reportAs: replication_lag}");
        let outcome = SqlOutcome {
            rows: Some(vec![vec![Some("1".into())]]),
            attempts: 3,
            waited: Some(Duration::from_millis(125)),
            saw_error: None,
        };
        let report = report(&step, &SqlPlan::default(), &outcome);
        assert_eq!(report.figures.len(), 1);
        assert_eq!(report.figures[0].name, "replication_lag");
        assert!((report.figures[0].value - 125.0).abs() < 0.01);
        assert!(
            report.detail.contains("1 row(s) matched"),
            "{}",
            report.detail
        );
    }
}
