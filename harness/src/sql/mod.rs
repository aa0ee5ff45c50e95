//! SQL against MySQL/MariaDB pods, for the `sql` step kind (`steps/sql.rs`): credentials that never print, rows and
//! their comparison, the plan engine over two transports (mysql_async through a port-forward,
//! or the `mariadb`/`mysql` client exec'd inside a pod) and errors that name step, target and
//! cause.
//!
//! # Read-only replicas: MariaDB `read_only` versus MySQL `super_read_only`
//!
//! A replica is made read-only so that writes fail with error 1290. The two servers differ in
//! who is exempt:
//! - MySQL: `read_only=ON` exempts accounts with `SUPER` (or `CONNECTION_ADMIN`);
//!   `super_read_only=ON` removes that exemption, so even root gets 1290.
//! - MariaDB: there is no `super_read_only`. `read_only=ON` exempts accounts holding
//!   `READ ONLY ADMIN`, which `ALL PRIVILEGES ON *.*` (and so root) includes.
//!
//! So a scenario that checks "a write on the replica fails with 1290" must connect as a plain
//! user (privileges on its own database only) to be valid on both servers; as root it passes on
//! MySQL with `super_read_only` and fails on MariaDB.

mod compare;
mod driver;
mod engine;
mod error;
mod exec;
mod rows;
mod secret;

pub use compare::{RowCheck, RowsMatch, compare};
pub use driver::{Endpoint, run_on_endpoint};
pub use engine::{SqlOutcome, SqlPlan};
pub use error::SqlError;
pub use exec::{
    ClientError, ClientOutput, ClientRunner, ClientServer, PodExec, client_command, client_stdin,
    parse_client_error, run_with_client,
};
pub use rows::{Cell, Row, Rows, format_row, format_rows, parse_batch_output, row};
pub use secret::{Credentials, Password, REDACTED, SecretError, password_from_secret, redact};
