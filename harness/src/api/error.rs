//! Errors from API calls, phrased for failure reports, and what kind of failure each one is.

use crate::events::{Failure, FailureKind};

/// An API call that did not succeed.
///
/// Its message is the whole one-line account, the kube error included: kube's own text of an
/// API error ends in a debug dump of the status, so this error says it in its own words
/// (`failed to get pod/web-0: 404 NotFound: pods "web-0" not found`) and keeps the kube error
/// as data, for [`ApiError::status_code`], rather than as a `source()` a printer would repeat.
#[derive(Debug)]
pub enum ApiError {
    /// The server answered with an error that retrying will not fix (or the caller asked once).
    Failed { what: String, source: kube::Error },
    /// Transient errors kept coming until no retry could start before the deadline (the next
    /// pause, or the server's `Retry-After`, would end past it).
    GaveUp {
        what: String,
        attempts: u32,
        last: kube::Error,
    },
    /// The deadline passed before any answer came.
    NoAnswer { what: String },
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Failed { what, source } => {
                write!(f, "failed to {what}: {}", describe_kube_error(source))
            }
            ApiError::GaveUp {
                what,
                attempts,
                last,
            } => write!(
                f,
                "failed to {what}: still failing after {attempts} attempt{} with no time left to \
                 retry before the deadline; last error: {}",
                if *attempts == 1 { "" } else { "s" },
                describe_kube_error(last)
            ),
            ApiError::NoAnswer { what } => {
                write!(f, "failed to {what}: no answer before the deadline")
            }
        }
    }
}

/// No `source()`: the message already says what the kube error says (see [`ApiError`]).
impl std::error::Error for ApiError {}

impl ApiError {
    /// The HTTP status the server answered with, if it answered.
    pub fn status_code(&self) -> Option<u16> {
        match self {
            ApiError::Failed { source, .. } | ApiError::GaveUp { last: source, .. } => match source
            {
                kube::Error::Api(status) => Some(status.code),
                _ => None,
            },
            ApiError::NoAnswer { .. } => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.status_code() == Some(404)
    }

    /// What kind of failure this error makes: the server's answer about the objects themselves
    /// (not found, conflict, invalid) is the scenario's to judge; everything else (server
    /// errors and throttling that outlasted the retries, no answer, a broken connection,
    /// forbidden) means petset could not ask the cluster.
    pub fn failure_kind(&self) -> FailureKind {
        match self {
            ApiError::Failed { source, .. } => kube_error_kind(source),
            ApiError::GaveUp { .. } | ApiError::NoAnswer { .. } => FailureKind::Api,
        }
    }
}

/// The failure kind of a kube error that was not retried (see [`ApiError::failure_kind`]).
pub fn kube_error_kind(error: &kube::Error) -> FailureKind {
    match error {
        kube::Error::Api(status) => match status.code {
            401 | 403 | 408 | 429 => FailureKind::Api,
            code if code >= 500 || code == 0 => FailureKind::Api,
            _ => FailureKind::Assertion,
        },
        _ => FailureKind::Api,
    }
}

/// A failure whose one line is the error's, of the error's kind.
impl From<ApiError> for Failure {
    fn from(error: ApiError) -> Self {
        Failure::new(error.to_string()).with_kind(error.failure_kind())
    }
}

/// A kube error in one line: `404 NotFound: pods "web-9" not found` rather than a debug dump,
/// and hyper's outer message ("client error") with the causes that explain it.
pub fn describe_kube_error(error: &kube::Error) -> String {
    crate::error_chain::chain(error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;

    fn status(code: u16) -> kube::Error {
        kube::Error::Api(Box::new(Status {
            code,
            ..Status::default()
        }))
    }

    fn failed(code: u16) -> ApiError {
        ApiError::Failed {
            what: "get pod/web-0".into(),
            source: status(code),
        }
    }

    #[test]
    fn answers_about_the_objects_are_the_scenarios_and_the_rest_are_api_errors() {
        for code in [400, 404, 409, 422] {
            assert_eq!(
                failed(code).failure_kind(),
                FailureKind::Assertion,
                "{code}"
            );
        }
        for code in [401, 403, 429, 500, 503] {
            assert_eq!(failed(code).failure_kind(), FailureKind::Api, "{code}");
        }
        let gave_up = ApiError::GaveUp {
            what: "list pods".into(),
            attempts: 7,
            last: status(503),
        };
        assert_eq!(gave_up.failure_kind(), FailureKind::Api);
        let silent = ApiError::NoAnswer {
            what: "list pods".into(),
        };
        let failure = Failure::from(silent);
        assert_eq!(failure.kind, FailureKind::Api);
        assert_eq!(
            failure.message,
            "failed to list pods: no answer before the deadline"
        );
    }
}
