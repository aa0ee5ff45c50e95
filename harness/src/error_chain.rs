//! The one printer of an error with its causes, for terminals and reports.
//!
//! petset's own errors follow the thiserror convention: `Display` says what failed, and the
//! cause is a `#[source]`, never repeated in the message. So a message alone leaves the cause
//! out, and every place that shows an error to a person prints it with [`ErrorChain`]:
//!
//! - `{}`: on one line, `failed to read secret `s`: failed to get secret/s: 403 Forbidden`;
//! - `{:#}`: one cause per line, each after `caused by:`.
//!
//! Errors from other crates do not all follow the convention: kube and hyper often repeat the
//! inner message in the outer one, so a cause whose text was already printed is left out. A
//! Kubernetes API error prints as its status (`404 NotFound: pods "web-9" not found`) rather
//! than kube's own text, which ends in a debug dump of that status.

use std::error::Error;
use std::fmt;

/// An error with its causes; see the module documentation for the two forms.
#[derive(Debug, Clone, Copy)]
pub struct ErrorChain<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let separator = if f.alternate() {
            "\n  caused by: "
        } else {
            ": "
        };
        let mut out = String::new();
        for text in texts(self.0) {
            if out.is_empty() {
                out = text;
            } else if !text.is_empty() && !out.contains(&text) {
                // A cause an outer message already quoted is said once.
                out.push_str(separator);
                out.push_str(&text);
            }
        }
        f.write_str(&out)
    }
}

/// `err` and its causes on one line (see [`ErrorChain`]).
pub fn chain(err: &(dyn Error + 'static)) -> String {
    ErrorChain(err).to_string()
}

/// The message of `err` and of each of its causes, outermost first.
fn texts(err: &(dyn Error + 'static)) -> Vec<String> {
    let mut texts = Vec::new();
    let mut next = Some(err);
    while let Some(err) = next {
        if let Some(kube::Error::Api(status)) = err.downcast_ref::<kube::Error>() {
            // The status is the whole answer; its own source is the same status again.
            texts.push(status_text(status));
            break;
        }
        texts.push(err.to_string());
        next = err.source();
    }
    texts
}

/// A Kubernetes status in one line: `404 NotFound: pods "web-9" not found`.
pub(crate) fn status_text(status: &kube::core::Status) -> String {
    let mut text = status.code.to_string();
    if !status.reason.is_empty() {
        text.push(' ');
        text.push_str(&status.reason);
    }
    if !status.message.is_empty() {
        text.push_str(": ");
        text.push_str(&status.message);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("failed to read secret `db`")]
    struct ReadSecret {
        #[source]
        source: GetObject,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("failed to get secret/db")]
    struct GetObject {
        #[source]
        source: kube::Error,
    }

    /// An error from another crate that repeats its cause in its own message.
    #[derive(Debug, thiserror::Error)]
    #[error("client error: {source}")]
    struct Repeats {
        #[source]
        source: std::io::Error,
    }

    fn forbidden() -> ReadSecret {
        let status = kube::core::Status {
            code: 403,
            reason: "Forbidden".into(),
            message: "secrets \"db\" is forbidden".into(),
            ..kube::core::Status::default()
        };
        ReadSecret {
            source: GetObject {
                source: kube::Error::Api(Box::new(status)),
            },
        }
    }

    #[test]
    fn each_cause_prints_once_in_order() {
        assert_eq!(
            chain(&forbidden()),
            "failed to read secret `db`: failed to get secret/db: 403 Forbidden: secrets \"db\" \
             is forbidden"
        );
        assert_eq!(
            format!("{:#}", ErrorChain(&forbidden())),
            "failed to read secret `db`\n  caused by: failed to get secret/db\n  caused by: 403 \
             Forbidden: secrets \"db\" is forbidden"
        );
    }

    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        let err = Repeats {
            source: std::io::Error::other("connection reset"),
        };
        assert_eq!(chain(&err), "client error: connection reset");
    }

    /// Every petset error with a cause keeps that cause out of its own message, so printing the
    /// chain says each thing once.
    #[test]
    fn no_petset_error_repeats_its_cause_in_its_message() {
        use crate::api::ApiError;
        use crate::cluster::ClusterError;
        use crate::report::ReportError;
        use crate::sql::SecretError;
        use crate::sql::SqlError;

        let api = || ApiError::Failed {
            what: "get secret/db".into(),
            source: forbidden().source.source,
        };
        let errors: Vec<Box<dyn Error>> = vec![
            Box::new(api()),
            Box::new(ApiError::GaveUp {
                what: "list pods".into(),
                attempts: 3,
                last: forbidden().source.source,
            }),
            Box::new(SqlError::Secret {
                step: "s".into(),
                source: SecretError::Api {
                    name: "db".into(),
                    source: Box::new(api()),
                },
            }),
            Box::new(ReportError::Write {
                path: "reports/junit.xml".into(),
                source: std::io::Error::other("disk full"),
            }),
            Box::new(ClusterError::command(
                "create the kind cluster",
                crate::cluster::RunError::not_found("kind"),
            )),
        ];
        for err in &errors {
            let own = err.to_string();
            let mut cause = err.source();
            while let Some(next) = cause {
                let said = chain(next);
                assert!(!own.contains(&said), "`{own}` repeats its cause `{said}`");
                cause = next.source();
            }
        }
        assert_eq!(
            chain(errors[2].as_ref()),
            "failed to get the password for sql step `s`: failed to read secret `db`: failed to \
             get secret/db: 403 Forbidden: secrets \"db\" is forbidden"
        );
    }
}
