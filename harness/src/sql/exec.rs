//! Running SQL from inside the cluster: the `mariadb` (or `mysql`) client in a pod, started with
//! Kubernetes exec, its batch output parsed into rows and its errors into the same faults the
//! driver reports. Used for what only the in-cluster network can see: Service routing (counting
//! distinct `@@server_id` behind `mysql-read`) and pod DNS names.
//!
//! The client's output is parsed into the same rows the driver returns, and its exit status and
//! `ERROR <code> (<state>) ...` lines into the same faults, so every assertion and error message
//! works alike on both paths.
//!
//! The password and the SQL travel on the client's stdin, never on its command line, so they
//! appear neither in the exec request URL nor in the pod's process list.
//!
//! Nothing in the pod waits for the end of that stdin: a server that answers exec with
//! `v4.channel.k8s.io` (the kubelet; API servers 1.28–1.29) has no signal for it, and kube-rs can
//! only close the whole session instead, losing the output. So the input says its own length
//! (the SQL's line count comes first) and the script hands the SQL to the client through a pipe
//! of its own, whose end the client sees. Unlike ending the SQL with the client's `quit`, this
//! holds whatever the SQL is: no final `;`, an open string or comment, an error part-way.

use super::engine::{SqlOutcome, SqlPlan, Transport, run_plan};
use super::error::{ConnectFault, Fault, SqlError};
use super::rows::{Rows, parse_batch_output};
use super::secret::Credentials;
use crate::net::pod_exec::run_with_stdin;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;

/// Exit code the script uses when the container has no client.
const NO_CLIENT: i32 = 127;

/// Reads the password line, the SQL's line count and that many lines of SQL (see
/// [`client_stdin`]), and runs the client `$1` times (one connection each) with the remaining
/// arguments, the SQL piped to it.
const CLIENT_SCRIPT: &str = r#"IFS= read -r MYSQL_PWD; export MYSQL_PWD
IFS= read -r lines
sql=; i=0
while [ "$i" -lt "$lines" ] && IFS= read -r line; do
  sql="$sql$line
"
  i=$((i+1))
done
if command -v mariadb >/dev/null 2>&1; then c=mariadb
elif command -v mysql >/dev/null 2>&1; then c=mysql
else echo "no mariadb or mysql client in this container" >&2; exit 127; fi
n=$1; shift; i=0
while [ "$i" -lt "$n" ]; do
  printf '%s' "$sql" | "$c" "$@" || exit $?
  i=$((i+1))
done
"#;

/// Something that can run the client command: Kubernetes exec into a pod ([`PodExec`]) or,
/// in tests, a local process.
pub trait ClientRunner: Sync {
    /// Runs `command` feeding it `stdin`; reports what it printed and how it ended.
    fn run(
        &self,
        command: Vec<String>,
        stdin: Vec<u8>,
    ) -> impl Future<Output = ClientOutput> + Send;
    /// Where the client runs, for messages, e.g. `pod mysql-client`.
    fn describe(&self) -> String;
}

/// The server the client connects to, as seen from where it runs.
#[derive(Debug, Clone)]
pub struct ClientServer {
    /// e.g. `mysql-read`, `mysql-0.mysql` or `127.0.0.1`.
    pub host: String,
    pub port: u16,
    pub database: Option<String>,
}

/// Runs `plan` with the command-line client started by `runner`, connecting to `server`.
pub async fn run_with_client<R: ClientRunner>(
    runner: &R,
    server: &ClientServer,
    creds: &Credentials,
    plan: &SqlPlan,
) -> Result<SqlOutcome, SqlError> {
    let mut transport = ExecTransport {
        runner,
        server,
        creds,
    };
    run_plan(&mut transport, creds, plan).await
}

/// Runs the client in a container of a pod with Kubernetes exec.
#[derive(Clone)]
pub struct PodExec {
    pub pods: Api<Pod>,
    pub pod: String,
    pub container: Option<String>,
}

impl std::fmt::Debug for PodExec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// The command run in the pod: `sh -c <script> petset-sql <repeat> <client args>`.
pub fn client_command(
    repeat: u32,
    host: &str,
    port: u16,
    user: &str,
    database: Option<&str>,
) -> Vec<String> {
    let mut command: Vec<String> = ["sh", "-c", CLIENT_SCRIPT, "petset-sql"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    command.push(repeat.max(1).to_string());
    command.extend(
        [
            "-N",
            "-B",
            "--default-character-set=utf8mb4",
            "--protocol=TCP",
            "-h",
            host,
            "-P",
        ]
        .iter()
        .map(|s| (*s).to_owned()),
    );
    command.push(port.to_string());
    command.push("-u".to_owned());
    command.push(user.to_owned());
    if let Some(database) = database {
        command.push("-D".to_owned());
        command.push(database.to_owned());
    }
    command
}

/// What the client command gets on stdin: the password line, the number of lines of SQL, then
/// the SQL. The count lets the script stop reading without the end of stdin.
pub fn client_stdin(creds: &Credentials, sql: &str) -> Vec<u8> {
    let sql = sql.strip_suffix('\n').unwrap_or(sql);
    let lines = sql.split('\n').count();
    format!("{}\n{lines}\n{sql}\n", creds.password.expose()).into_bytes()
}

/// The result of running the client command once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientOutput {
    pub stdout: String,
    pub stderr: String,
    /// The exit code; `None` when the command could not run at all.
    pub exit_code: Option<i32>,
    /// Why the command could not run (from the exec status), when it could not.
    pub failure: Option<String>,
}

/// A server error line from the client: `ERROR 1290 (HY000) at line 2: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientError {
    pub code: u16,
    pub state: String,
    /// The input line the failing statement started on (batch mode), if reported.
    pub line: Option<usize>,
    pub message: String,
}

/// Finds the first `ERROR <code> (<state>)[ at line <n>]: <message>` line in `stderr`.
pub fn parse_client_error(stderr: &str) -> Option<ClientError> {
    stderr.lines().find_map(|line| {
        let rest = line.trim().strip_prefix("ERROR ")?;
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        let code = rest[..digits].parse().ok()?;
        let mut rest = rest[digits..].trim_start();
        let mut state = String::new();
        if let Some(after) = rest.strip_prefix('(') {
            let close = after.find(')')?;
            state = after[..close].to_owned();
            rest = after[close + 1..].trim_start();
        }
        let mut at_line = None;
        if let Some(after) = rest.strip_prefix("at line ") {
            let digits = after
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(after.len());
            at_line = after[..digits].parse().ok();
            rest = &after[digits..];
        }
        let message = rest.strip_prefix(':').unwrap_or(rest).trim().to_owned();
        Some(ClientError {
            code,
            state,
            line: at_line,
            message,
        })
    })
}

/// Client-side codes (2xxx) that mean no session was established.
fn connect_fault_for(error: &ClientError) -> Option<ConnectFault> {
    let cause = format!("error {} ({}): {}", error.code, error.state, error.message);
    match error.code {
        // Can't connect: the message ends with the errno, 111 (ECONNREFUSED) or, from clients
        // that connect non-blocking, 115 (EINPROGRESS) for the same refusal.
        2002 | 2003 if error.message.contains("(111") || error.message.contains("(115") => {
            Some(ConnectFault::Refused(cause))
        }
        2002 | 2003 => Some(ConnectFault::Other(cause)),
        // Unknown server host: the Service or pod name does not resolve.
        2005 => Some(ConnectFault::Unreachable(cause)),
        _ => None,
    }
}

/// Maps the client's output to rows or a fault. Server errors reported with a line number come
/// back as `(line, fault)`; errors with no line happened while connecting.
pub(crate) fn interpret(output: &ClientOutput) -> Result<Rows, (Option<usize>, Fault)> {
    if let Some(failure) = &output.failure {
        return Err((
            None,
            Fault::Connect(ConnectFault::Unreachable(failure.clone())),
        ));
    }
    if output.exit_code == Some(0) {
        return Ok(parse_batch_output(&output.stdout));
    }
    if output.exit_code == Some(NO_CLIENT) {
        return Err((
            None,
            Fault::Connect(ConnectFault::Unreachable(format!(
                "the container cannot run the client: {}",
                output.stderr.trim()
            ))),
        ));
    }
    let Some(error) = parse_client_error(&output.stderr) else {
        return Err((
            None,
            Fault::Gone(format!(
                "the client exited with {:?}: {}",
                output.exit_code,
                output.stderr.trim()
            )),
        ));
    };
    if let Some(fault) = connect_fault_for(&error) {
        return Err((None, Fault::Connect(fault)));
    }
    if matches!(error.code, 2006 | 2013) {
        return Err((
            error.line,
            Fault::Gone(format!("error {}: {}", error.code, error.message)),
        ));
    }
    let fault = if error.line.is_none() {
        Fault::Connect(ConnectFault::Server {
            code: error.code,
            state: error.state,
            message: error.message,
        })
    } else {
        Fault::Server {
            code: error.code,
            state: error.state,
            message: error.message,
        }
    };
    Err((error.line, fault))
}

impl ClientRunner for PodExec {
    fn describe(&self) -> String {
        match &self.container {
            Some(container) => format!("pod {} (container {container})", self.pod),
            None => format!("pod {}", self.pod),
        }
    }

    async fn run(&self, command: Vec<String>, stdin_bytes: Vec<u8>) -> ClientOutput {
        let output = run_with_stdin(
            &self.pods,
            &self.pod,
            self.container.as_deref(),
            command,
            stdin_bytes,
        )
        .await;
        ClientOutput {
            stdout: output.stdout,
            stderr: output.stderr,
            exit_code: output.exit_code,
            failure: output.failure,
        }
    }
}

struct ExecTransport<'a, R> {
    runner: &'a R,
    server: &'a ClientServer,
    creds: &'a Credentials,
}

impl<R: ClientRunner> ExecTransport<'_, R> {
    async fn run(&self, sql: &str, repeat: u32) -> ClientOutput {
        let command = client_command(
            repeat,
            &self.server.host,
            self.server.port,
            &self.creds.user,
            self.server.database.as_deref(),
        );
        self.runner
            .run(command, client_stdin(self.creds, sql))
            .await
    }
}

impl<R: ClientRunner> Transport for ExecTransport<'_, R> {
    fn target(&self) -> String {
        format!(
            "{}:{} (client in {})",
            self.server.host,
            self.server.port,
            self.runner.describe()
        )
    }

    async fn statements(
        &mut self,
        statements: &[String],
        starting: &(dyn Fn(usize) + Sync),
    ) -> Result<(), (usize, Fault)> {
        // The client runs them all at once; the last one names the run if it hangs.
        starting(statements.len().saturating_sub(1));
        // One statement per input line so the client's `at line N` names the statement.
        let lines: Vec<String> = statements.iter().map(|s| one_line(s)).collect();
        let output = self.run(&lines.join("\n"), 1).await;
        match interpret(&output) {
            Ok(_) => Ok(()),
            Err((line, fault)) => {
                let index = line.map(|l| l.saturating_sub(1)).unwrap_or(0);
                Err((index.min(statements.len().saturating_sub(1)), fault))
            }
        }
    }

    async fn query(&mut self, query: &str, repeat: u32) -> Result<Rows, Fault> {
        interpret(&self.run(&one_line(query), repeat).await).map_err(|(_, fault)| fault)
    }

    async fn close(&mut self) {}
}

/// Joins a statement's lines and makes sure it ends with `;`, so each takes exactly one line.
/// (String literals spanning lines are joined too: write `\n` in them instead.)
fn one_line(statement: &str) -> String {
    let joined = statement
        .lines()
        .map(str::trim)
        // A whole-line comment would swallow the rest of the joined line.
        .filter(|l| !l.starts_with("--") && !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join(" ");
    let trimmed = joined.trim_end();
    if trimmed.ends_with(';') {
        trimmed.to_owned()
    } else {
        format!("{trimmed};")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_client_error_lines() {
        let e = parse_client_error(
            "mariadb: Deprecated program name\nERROR 1290 (HY000) at line 2: The MariaDB server \
             is running with the --read-only option so it cannot execute this statement\n",
        );
        assert_eq!(
            e,
            Some(ClientError {
                code: 1290,
                state: "HY000".into(),
                line: Some(2),
                message: "The MariaDB server is running with the --read-only option so it \
                          cannot execute this statement"
                    .into(),
            })
        );
        let e = parse_client_error("ERROR 1045 (28000): Access denied for user 'x'@'y'");
        assert_eq!(e.map(|e| (e.code, e.line)), Some((1045, None)));
        assert_eq!(parse_client_error("Warning: something"), None);
    }

    #[test]
    fn maps_exit_statuses_to_faults() {
        let ok = ClientOutput {
            stdout: "101\n".into(),
            exit_code: Some(0),
            ..ClientOutput::default()
        };
        assert_eq!(interpret(&ok), Ok(vec![vec![Some("101".into())]]));
        let denied = ClientOutput {
            stderr: "ERROR 1045 (28000): Access denied for user 'app'@'10.0.0.3'".into(),
            exit_code: Some(1),
            ..ClientOutput::default()
        };
        assert!(matches!(
            interpret(&denied),
            Err((
                None,
                Fault::Connect(ConnectFault::Server { code: 1045, .. })
            ))
        ));
        let refused = ClientOutput {
            stderr: "ERROR 2002 (HY000): Can't connect to server on 'x' (111)".into(),
            exit_code: Some(1),
            ..ClientOutput::default()
        };
        assert!(matches!(
            interpret(&refused),
            Err((None, Fault::Connect(ConnectFault::Refused(_))))
        ));
        let no_client = ClientOutput {
            stderr: "no mariadb or mysql client in this container".into(),
            exit_code: Some(127),
            ..ClientOutput::default()
        };
        assert!(matches!(
            interpret(&no_client),
            Err((None, Fault::Connect(ConnectFault::Unreachable(_))))
        ));
        let killed = ClientOutput {
            exit_code: Some(137),
            ..ClientOutput::default()
        };
        assert!(matches!(interpret(&killed), Err((None, Fault::Gone(_)))));
    }

    #[test]
    fn command_line_carries_no_password_or_sql() {
        let creds = Credentials::new("app", super::super::Password::new("pw-123"));
        let command = client_command(3, "mysql-read", 3306, &creds.user, Some("test"));
        assert!(!command.iter().any(|a| a.contains("pw-123")));
        assert_eq!(command[4], "3");
        assert!(command.contains(&"--protocol=TCP".to_owned()));
        assert!(
            String::from_utf8_lossy(&client_stdin(&creds, "SELECT 1;")).starts_with("pw-123\n")
        );
    }

    #[test]
    fn stdin_gives_the_sql_line_count_before_the_sql() {
        let creds = Credentials::new("app", super::super::Password::new("pw"));
        let stdin = |sql| String::from_utf8_lossy(&client_stdin(&creds, sql)).into_owned();
        assert_eq!(stdin("SELECT 1;"), "pw\n1\nSELECT 1;\n");
        assert_eq!(
            stdin("SELECT 1;\nSELECT 2\n"),
            "pw\n2\nSELECT 1;\nSELECT 2\n"
        );
    }

    #[test]
    fn statements_take_one_line_each() {
        assert_eq!(one_line("SELECT 1,\n  2"), "SELECT 1, 2;");
        assert_eq!(one_line("SELECT 1; "), "SELECT 1;");
    }
}
