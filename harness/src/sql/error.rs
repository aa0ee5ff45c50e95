//! The errors of a `sql` step: each names the step, the target (`pod:port`, or the pod the
//! client ran in and the host it reached) and the cause, with passwords scrubbed.

use super::secret::{Credentials, SecretError};
use crate::events::FailureKind;
use std::time::Duration;

/// Why a `sql` step failed.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    /// The pod could not be reached at all (no such pod, the port-forward or exec was refused).
    #[error("failed to reach {target} in sql step `{step}`: {cause}")]
    Unreachable {
        step: String,
        target: String,
        cause: String,
    },
    /// The API server speaks no port-forward subprotocol kube offers, so no port-forward works.
    #[error("failed to port-forward to {target} in sql step `{step}`: {cause}")]
    PortForwardRefused {
        step: String,
        target: String,
        cause: String,
    },
    /// The pod was reached but nothing listens on the port.
    #[error("failed to connect to {target} in sql step `{step}`: connection refused ({cause})")]
    Refused {
        step: String,
        target: String,
        cause: String,
    },
    /// The server rejected the user or password (error 1045).
    #[error(
        "failed to log in to {target} as `{user}` in sql step `{step}`: wrong credentials \
         (error 1045: {message})"
    )]
    AccessDenied {
        step: String,
        target: String,
        user: String,
        message: String,
    },
    /// Any other failure to establish a session (e.g. unknown database, handshake cut off).
    #[error("failed to connect to {target} in sql step `{step}`: {cause}")]
    Connect {
        step: String,
        target: String,
        cause: String,
    },
    /// The session broke after it was established.
    #[error(
        "failed to finish sql step `{step}`: the server at {target} went away while {doing} \
         ({cause})"
    )]
    ServerGone {
        step: String,
        target: String,
        doing: String,
        cause: String,
    },
    /// A statement or query failed with a server error nobody expected.
    #[error(
        "failed to run `{statement}` in sql step `{step}` on {target}: error {code} ({state}): {message}"
    )]
    Statement {
        step: String,
        target: String,
        statement: String,
        code: u16,
        state: String,
        message: String,
    },
    /// `expectError` was given but everything succeeded.
    #[error(
        "failed to see error {expected} in sql step `{step}` on {target}: `{statement}` succeeded"
    )]
    UnexpectedSuccess {
        step: String,
        target: String,
        expected: u16,
        statement: String,
    },
    /// `expectError` was given and a different error came back.
    #[error(
        "failed to see error {expected} in sql step `{step}` on {target}: `{statement}` failed \
         with error {code} instead: {message}"
    )]
    WrongError {
        step: String,
        target: String,
        expected: u16,
        statement: String,
        code: u16,
        message: String,
    },
    /// The query's rows differ from the expected ones.
    #[error("failed to match the rows of `{query}` in sql step `{step}` on {target}:\n{mismatch}")]
    Mismatch {
        step: String,
        target: String,
        query: String,
        mismatch: String,
    },
    /// `eventually` ran out before the rows matched.
    #[error(
        "failed to see matching rows of `{query}` in sql step `{step}` on {target} within \
         {} ms ({attempts} attempts); {last}",
        waited.as_millis()
    )]
    NeverMatched {
        step: String,
        target: String,
        query: String,
        waited: Duration,
        attempts: u32,
        last: String,
    },
    /// The step's own deadline passed.
    #[error("failed to finish sql step `{step}` on {target} within {deadline:?}: still {doing}")]
    Deadline {
        step: String,
        target: String,
        deadline: Duration,
        doing: String,
    },
    /// The password could not be read from its Secret.
    #[error("failed to get the password for sql step `{step}`")]
    Secret {
        step: String,
        #[source]
        source: SecretError,
    },
    /// The local end of the port-forward could not be opened.
    #[error(
        "failed to open a local listener for the port-forward to {target} in sql step `{step}`"
    )]
    Listener {
        step: String,
        target: String,
        #[source]
        source: std::io::Error,
    },
    /// The step asks for something that cannot be done.
    #[error("failed to run sql step `{step}`: {reason}")]
    Invalid { step: String, reason: String },
}

impl SqlError {
    /// What the failure says about the cluster: a Secret petset could not read for an API
    /// error, or a local listener it could not open, is petset unable to ask; everything
    /// else (a missing pod, a dead server, rows that never matched) is the scenario's verdict.
    pub fn failure_kind(&self) -> FailureKind {
        match self {
            SqlError::Secret {
                source: SecretError::Api { source, .. },
                ..
            } => source.failure_kind(),
            SqlError::Listener { .. } => FailureKind::Internal,
            // The API server would not forward at all: nothing was learned about the pod.
            SqlError::PortForwardRefused { .. } => FailureKind::Api,
            _ => FailureKind::Assertion,
        }
    }
}

/// A failure to get a session, before the step's context is attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ConnectFault {
    Unreachable(String),
    /// No port-forward subprotocol in common with the API server.
    PortForwardRefused(String),
    Refused(String),
    Server {
        code: u16,
        state: String,
        message: String,
    },
    Other(String),
}

/// What went wrong talking to a server, before the step's context is attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fault {
    Connect(ConnectFault),
    Server {
        code: u16,
        state: String,
        message: String,
    },
    Gone(String),
}

/// MySQL's code for a rejected user or password.
pub(crate) const ACCESS_DENIED: u16 = 1045;

impl Fault {
    /// The server error code, if the server said no (at login or to a statement).
    pub(crate) fn server_code(&self) -> Option<u16> {
        match self {
            Fault::Server { code, .. } | Fault::Connect(ConnectFault::Server { code, .. }) => {
                Some(*code)
            }
            _ => None,
        }
    }

    /// Whether trying again cannot help: a wrong password, or a server that refuses every
    /// port-forward.
    pub(crate) fn is_final(&self) -> bool {
        self.server_code() == Some(ACCESS_DENIED)
            || matches!(self, Fault::Connect(ConnectFault::PortForwardRefused(_)))
    }

    /// A short account for "last attempt" lines.
    pub(crate) fn describe(&self) -> String {
        match self {
            Fault::Connect(ConnectFault::Unreachable(c)) => format!("pod unreachable: {c}"),
            Fault::Connect(ConnectFault::Refused(c)) => format!("connection refused: {c}"),
            Fault::Connect(ConnectFault::PortForwardRefused(c)) => c.clone(),
            Fault::Connect(ConnectFault::Server {
                code,
                state,
                message,
            }) => format!("login failed with error {code} ({state}): {message}"),
            Fault::Connect(ConnectFault::Other(c)) => format!("connection failed: {c}"),
            Fault::Server {
                code,
                state,
                message,
            } => format!("error {code} ({state}): {message}"),
            Fault::Gone(c) => format!("the server went away: {c}"),
        }
    }
}

/// Turns faults into [`SqlError`]s naming the step and target, scrubbing secrets on the way.
pub(crate) struct ErrorContext<'a> {
    pub step: &'a str,
    pub target: &'a str,
    pub creds: &'a Credentials,
}

impl ErrorContext<'_> {
    /// `text` without the password or password literals.
    pub(crate) fn redact(&self, text: &str) -> String {
        self.creds.redact(text)
    }

    /// `statement` is what was running (`None` while connecting), `doing` says the same in words.
    pub(crate) fn error(&self, fault: Fault, statement: Option<&str>, doing: &str) -> SqlError {
        let step = self.step.to_owned();
        let target = self.target.to_owned();
        let r = |text: &str| self.redact(text);
        match fault {
            Fault::Connect(ConnectFault::Unreachable(cause)) => SqlError::Unreachable {
                step,
                target,
                cause: r(&cause),
            },
            Fault::Connect(ConnectFault::PortForwardRefused(cause)) => {
                SqlError::PortForwardRefused {
                    step,
                    target,
                    cause: r(&cause),
                }
            }
            Fault::Connect(ConnectFault::Refused(cause)) => SqlError::Refused {
                step,
                target,
                cause: r(&cause),
            },
            Fault::Connect(ConnectFault::Server { code, message, .. }) if code == ACCESS_DENIED => {
                SqlError::AccessDenied {
                    step,
                    target,
                    user: self.creds.user.clone(),
                    message: r(&message),
                }
            }
            Fault::Connect(ConnectFault::Server {
                code,
                state,
                message,
            }) => SqlError::Connect {
                step,
                target,
                cause: format!("error {code} ({state}): {}", r(&message)),
            },
            Fault::Connect(ConnectFault::Other(cause)) => SqlError::Connect {
                step,
                target,
                cause: r(&cause),
            },
            Fault::Server {
                code,
                state,
                message,
            } => SqlError::Statement {
                step,
                target,
                statement: r(statement.unwrap_or("")),
                code,
                state,
                message: r(&message),
            },
            Fault::Gone(cause) => SqlError::ServerGone {
                step,
                target,
                doing: r(doing),
                cause: r(&cause),
            },
        }
    }

    pub(crate) fn unexpected_success(&self, expected: u16, statement: &str) -> SqlError {
        SqlError::UnexpectedSuccess {
            step: self.step.to_owned(),
            target: self.target.to_owned(),
            expected,
            statement: self.redact(statement),
        }
    }

    pub(crate) fn wrong_error(&self, expected: u16, statement: &str, fault: &Fault) -> SqlError {
        SqlError::WrongError {
            step: self.step.to_owned(),
            target: self.target.to_owned(),
            expected,
            statement: self.redact(statement),
            code: fault.server_code().unwrap_or(0),
            message: self.redact(&fault.describe()),
        }
    }
}
