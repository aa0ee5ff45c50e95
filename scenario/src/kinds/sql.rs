//! `sql`: run statements or a query against a MySQL/MariaDB pod and check rows or the error
//! it returns.

use super::{KindRules, Named};
use crate::model::{Duration, Password, RowsMatch, Target};
use crate::validate::StepCheck;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where a Secret holds a value.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SecretKeyRef {
    pub secret: String,
    pub key: String,
}

/// How a `sql` step reaches the server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum SqlVia {
    /// From the test machine through a port-forward to the pod.
    #[default]
    PortForward,
    /// With the `mariadb`/`mysql` client inside the target pod (in-cluster names and Services).
    Exec,
}

/// `sql`: run statements or a query against a MySQL/MariaDB pod.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SqlStep {
    /// The database pod, e.g. `pod/mysql-0` (with `via: exec`, the pod the client runs in).
    pub target: Target,
    /// The container to exec into (with `via: exec`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    #[serde(default)]
    pub via: SqlVia,
    /// With `via: exec`, the server host the client connects to, e.g. `mysql-read`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default = "mysql_port")]
    pub port: u16,
    pub user: String,
    /// Inline password; prefer `passwordFrom`. A redacting type, so that printing or
    /// serializing the step never shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Password>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_from: Option<SecretKeyRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// Statements run in order before the query.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statements: Vec<String>,
    /// A query whose rows are checked against `expect`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<RowsExpect>,
    /// The server error code the statements (or query) must fail with, e.g. 1290 (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_error: Option<u16>,
    /// Re-run the query until it matches or this long has passed; the time taken is reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eventually: Option<Duration>,
    /// The name under which the time `eventually` took is reported, e.g. `replication_lag`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_as: Option<String>,
    /// Run the query over this many separate connections and check the union of their rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat: Option<u32>,
}

fn mysql_port() -> u16 {
    3306
}

/// Expected rows of a query.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RowsExpect {
    /// Rows as lists of values (compared as text; `null` is SQL NULL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<Vec<Vec<Value>>>,
    #[serde(default, rename = "match")]
    pub mode: RowsMatch,
    /// At least this many distinct rows (over all `repeat` connections).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distinct_at_least: Option<usize>,
}

impl KindRules for super::Sql {
    fn summary(sql: &SqlStep) -> String {
        format!("sql on {}", sql.target)
    }

    fn targets(sql: &SqlStep) -> Named<'_> {
        vec![(&sql.target, &["target"])]
    }

    fn time_limit(sql: &SqlStep, default: std::time::Duration) -> std::time::Duration {
        sql.eventually
            .map_or(default, |eventually| eventually.as_std())
    }

    fn check(sql: &SqlStep, check: &mut StepCheck<'_, '_>) {
        check.pods_only(&sql.target, "target", "sql");
        if sql.password.is_some() && sql.password_from.is_some() {
            check.error(
                &["password"],
                "give `password` or `passwordFrom`, not both",
                "prefer `passwordFrom: {secret: ..., key: ...}`",
            );
        }
        if sql.statements.is_empty() && sql.query.is_none() {
            check.whole(
                "this `sql` step runs nothing",
                "give `statements: [...]` and/or `query: ...`",
            );
        }
        if sql.query.is_none() {
            for (present, field) in [
                (sql.expect.is_some(), "expect"),
                (sql.repeat.is_some(), "repeat"),
            ] {
                if present {
                    check.error(
                        &[field],
                        format!("`{field}` needs a `query`"),
                        "add `query: SELECT ...`",
                    );
                }
            }
        }
        if sql.expect.is_some() && sql.expect_error.is_some() {
            check.error(
                &["expectError"],
                "`expectError` contradicts `expect` (rows)",
                "a failing statement returns no rows; keep one of the two",
            );
        }
        if check.gates.references {
            check_secret(sql, check);
        }
    }
}

/// `passwordFrom` names a Secret and key the scenario applies (petset reads it from the
/// scenario's own namespace, so nothing else can provide it).
fn check_secret(sql: &SqlStep, check: &mut StepCheck<'_, '_>) {
    let Some(from) = &sql.password_from else {
        return;
    };
    if let Err((unknown, key_wrong)) = check.objects.check_secret_key(&from.secret, &from.key) {
        let field = if key_wrong { "key" } else { "secret" };
        check.located(
            "step::unknown-secret",
            &["passwordFrom", field],
            unknown.message,
            if key_wrong {
                "no such key"
            } else {
                "no such Secret"
            },
            unknown.help,
        );
    }
}
