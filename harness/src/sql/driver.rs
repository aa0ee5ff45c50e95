//! Talking to a server with mysql_async over TCP: directly, or through a local port-forward
//! listener whose diagnostics explain connections the pod side cut.

use super::engine::{SqlOutcome, SqlPlan, Transport, run_plan};
use super::error::{ConnectFault, Fault, SqlError};
use super::rows::{Rows, from_driver};
use super::secret::Credentials;
use crate::net::{ForwardDiagnostics, ForwardFailureKind};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder};
use std::net::SocketAddr;
use std::time::Duration;

/// How long a polite disconnect may take before the connection is simply dropped.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// Error codes that mean the session is over rather than that the statement was wrong:
/// server gone away, lost connection, connection killed, shutdown in progress.
const SESSION_LOST: [u16; 4] = [2006, 2013, 1927, 1053];

/// Where the driver connects: an address, the name to use in messages, and, when the address
/// is a port-forward listener, its diagnostics.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `pod:port`, for messages.
    pub target: String,
    pub addr: SocketAddr,
    pub forward: Option<ForwardDiagnostics>,
}

/// Runs `plan` against `endpoint`, logging in with `creds` to `database` (if given).
pub async fn run_on_endpoint(
    endpoint: &Endpoint,
    creds: &Credentials,
    database: Option<&str>,
    plan: &SqlPlan,
) -> Result<SqlOutcome, SqlError> {
    let mut transport = DriverTransport {
        endpoint,
        opts: connect_opts(endpoint.addr, creds, database),
        conn: None,
    };
    run_plan(&mut transport, creds, plan).await
}

fn connect_opts(addr: SocketAddr, creds: &Credentials, database: Option<&str>) -> Opts {
    OptsBuilder::default()
        .ip_or_hostname(addr.ip().to_string())
        .tcp_port(addr.port())
        // The server's socket path is inside the pod; never let the driver look for it here.
        .prefer_socket(false)
        .user(Some(creds.user.clone()))
        .pass(Some(creds.password.expose().to_owned()))
        .db_name(database.map(str::to_owned))
        .into()
}

struct DriverTransport<'a> {
    endpoint: &'a Endpoint,
    opts: Opts,
    conn: Option<Conn>,
}

impl DriverTransport<'_> {
    async fn connect(&self) -> Result<Conn, Fault> {
        let mark = self.endpoint.forward.as_ref().map(ForwardDiagnostics::mark);
        Conn::new(self.opts.clone())
            .await
            .map_err(|e| Fault::Connect(self.connect_fault(e, mark)))
    }

    fn forward_failure(&self, mark: Option<usize>) -> Option<crate::net::ForwardFailure> {
        let forward = self.endpoint.forward.as_ref()?;
        forward.failure_since(mark?)
    }

    fn connect_fault(&self, error: mysql_async::Error, mark: Option<usize>) -> ConnectFault {
        if let mysql_async::Error::Server(e) = &error {
            return ConnectFault::Server {
                code: e.code,
                state: e.state.clone(),
                message: e.message.clone(),
            };
        }
        if let Some(failure) = self.forward_failure(mark) {
            return match failure.kind {
                ForwardFailureKind::Unreachable => ConnectFault::Unreachable(failure.message),
                ForwardFailureKind::Unsupported => {
                    ConnectFault::PortForwardRefused(failure.message)
                }
                ForwardFailureKind::Refused => ConnectFault::Refused(failure.message),
                ForwardFailureKind::Broken => ConnectFault::Other(format!(
                    "the port-forward broke during the handshake: {}",
                    failure.message
                )),
            };
        }
        match &error {
            mysql_async::Error::Io(mysql_async::IoError::Io(io))
                if io.kind() == std::io::ErrorKind::ConnectionRefused =>
            {
                ConnectFault::Refused(io.to_string())
            }
            mysql_async::Error::Driver(mysql_async::DriverError::ConnectionClosed) => {
                ConnectFault::Other("the connection closed during the handshake".to_owned())
            }
            other => ConnectFault::Other(other.to_string()),
        }
    }

    /// Classifies an error on an established session.
    fn session_fault(&self, error: mysql_async::Error, mark: Option<usize>) -> Fault {
        match error {
            mysql_async::Error::Server(e) if !SESSION_LOST.contains(&e.code) => Fault::Server {
                code: e.code,
                state: e.state,
                message: e.message,
            },
            other => match self.forward_failure(mark) {
                Some(failure) => Fault::Gone(format!("{other}; port-forward: {}", failure.message)),
                None => Fault::Gone(other.to_string()),
            },
        }
    }

    async fn session(&mut self) -> Result<&mut Conn, Fault> {
        if self.conn.is_none() {
            self.conn = Some(self.connect().await?);
        }
        self.conn
            .as_mut()
            .ok_or_else(|| Fault::Gone("no session".to_owned()))
    }

    /// Runs one query on the shared session, dropping the session if it broke.
    async fn query_on_session(&mut self, query: &str) -> Result<Rows, Fault> {
        let mark = self.endpoint.forward.as_ref().map(ForwardDiagnostics::mark);
        let conn = self.session().await?;
        match collect(conn, query).await {
            Ok(rows) => Ok(rows),
            Err(e) => {
                if e.is_fatal() {
                    self.conn = None;
                }
                Err(self.session_fault(e, mark))
            }
        }
    }
}

async fn collect(conn: &mut Conn, query: &str) -> Result<Rows, mysql_async::Error> {
    let result = conn.query_iter(query).await?;
    let rows: Vec<mysql_async::Row> = result.collect_and_drop().await?;
    Ok(rows.iter().map(from_driver).collect())
}

impl Transport for DriverTransport<'_> {
    fn target(&self) -> String {
        self.endpoint.target.clone()
    }

    async fn statements(
        &mut self,
        statements: &[String],
        starting: &(dyn Fn(usize) + Sync),
    ) -> Result<(), (usize, Fault)> {
        let mark = self.endpoint.forward.as_ref().map(ForwardDiagnostics::mark);
        let conn = self.session().await.map_err(|f| (0, f))?;
        let mut failed = None;
        for (index, statement) in statements.iter().enumerate() {
            starting(index);
            if let Err(e) = conn.query_drop(statement.as_str()).await {
                failed = Some((index, e));
                break;
            }
        }
        match failed {
            None => Ok(()),
            Some((index, e)) => {
                if e.is_fatal() {
                    self.conn = None;
                }
                Err((index, self.session_fault(e, mark)))
            }
        }
    }

    async fn query(&mut self, query: &str, repeat: u32) -> Result<Rows, Fault> {
        let mut rows = self.query_on_session(query).await?;
        // Each further run gets a connection of its own, so a Service can route it elsewhere.
        for _ in 1..repeat {
            let mark = self.endpoint.forward.as_ref().map(ForwardDiagnostics::mark);
            let mut conn = self.connect().await?;
            let result = collect(&mut conn, query).await;
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, conn.disconnect()).await;
            rows.extend(result.map_err(|e| self.session_fault(e, mark))?);
        }
        Ok(rows)
    }

    async fn close(&mut self) {
        if let Some(conn) = self.conn.take() {
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, conn.disconnect()).await;
        }
    }
}
