//! What an error from a `kube::runtime` watcher means to whoever follows the watch.
//!
//! The watcher recovers by itself on its next poll: it resumes a cut stream and starts over from
//! a fresh list after `410 Gone`. The follower only decides how long to pause first (the retry
//! policy's pacing, see [`super::Backoff`]), whether the pause is a retry worth counting, and
//! when retrying cannot help.

use super::retried::RetryCause;
use super::retry::{OnConflict, retry_cause};
use super::{Backoff, describe_kube_error};
use kube::runtime::watcher;
use tokio::time::Instant;

/// How a watcher's error is met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchTrouble {
    /// The watch lost its place (410 Gone, no resourceVersion): the watcher relists.
    Relist,
    /// The request resuming the watch was refused with 410 Gone. The watcher would resume from
    /// the same resourceVersion again, and be refused again, for ever (kube-runtime 5's
    /// `watcher` stays in its listed state after a failed watch start); only a new watcher,
    /// which lists afresh, gets past it. API servers send 410 as an event on a started watch
    /// (kube-rs/kube#1042), so this is for servers and proxies that answer the request itself.
    Restart,
    /// A transient failure (5xx, 429, a dropped stream): pause, and count the retry.
    Retry(RetryCause),
    /// Retrying cannot help (the kind is not served, access is forbidden, a bad selector).
    Fatal,
}

/// How to meet `error`.
pub fn watch_trouble(error: &watcher::Error) -> WatchTrouble {
    match error {
        watcher::Error::InitialListFailed(e) | watcher::Error::WatchStartFailed(e) => {
            match retry_cause(e, OnConflict::Answer) {
                Some(cause) => WatchTrouble::Retry(cause),
                None if matches!(e, kube::Error::Api(status) if status.code == 410) => {
                    if matches!(error, watcher::Error::WatchStartFailed(_)) {
                        WatchTrouble::Restart
                    } else {
                        WatchTrouble::Relist
                    }
                }
                None => WatchTrouble::Fatal,
            }
        }
        watcher::Error::WatchFailed(e) => WatchTrouble::Retry(
            retry_cause(e, OnConflict::Answer).unwrap_or(RetryCause::Disconnected),
        ),
        watcher::Error::WatchError(status) => match status.code {
            410 => WatchTrouble::Relist,
            403 | 404 => WatchTrouble::Fatal,
            code => WatchTrouble::Retry(RetryCause::Status(code)),
        },
        watcher::Error::NoResourceVersion => WatchTrouble::Relist,
    }
}

/// `error` for a report: which part of the watch failed, and how.
pub fn describe_watch_error(error: &watcher::Error) -> String {
    match error {
        watcher::Error::InitialListFailed(e) => format!("list: {}", describe_kube_error(e)),
        watcher::Error::WatchStartFailed(e) => format!("watch: {}", describe_kube_error(e)),
        watcher::Error::WatchFailed(e) => format!("watch stream: {}", describe_kube_error(e)),
        watcher::Error::WatchError(status) => format!(
            "watch event: {} {}: {}",
            status.code, status.reason, status.message
        ),
        watcher::Error::NoResourceVersion => "watch: no resourceVersion".to_owned(),
    }
}

impl Backoff {
    /// Pauses before the watcher's next poll after `error`: the policy's next pause, at least
    /// as long as the server asked for, never past `deadline`. False when the deadline has come.
    pub async fn pause_after_watch_error(
        &mut self,
        error: &watcher::Error,
        deadline: Instant,
    ) -> bool {
        match error {
            watcher::Error::InitialListFailed(e)
            | watcher::Error::WatchStartFailed(e)
            | watcher::Error::WatchFailed(e) => self.pause_after(e, deadline).await,
            watcher::Error::WatchError(_) | watcher::Error::NoResourceVersion => {
                self.pause(deadline).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;

    fn status(code: u16) -> Status {
        Status {
            code,
            ..Status::default()
        }
    }

    fn api(code: u16) -> kube::Error {
        kube::Error::Api(Box::new(status(code)))
    }

    #[test]
    fn transient_failures_are_retries_and_refusals_end_the_watch() {
        use watcher::Error::*;
        let cases = [
            (
                InitialListFailed(api(503)),
                WatchTrouble::Retry(RetryCause::Status(503)),
            ),
            (
                WatchStartFailed(api(429)),
                WatchTrouble::Retry(RetryCause::Status(429)),
            ),
            (
                WatchFailed(kube::Error::Service("reset".into())),
                WatchTrouble::Retry(RetryCause::Disconnected),
            ),
            (
                WatchError(Box::new(status(500))),
                WatchTrouble::Retry(RetryCause::Status(500)),
            ),
            (WatchError(Box::new(status(410))), WatchTrouble::Relist),
            (WatchStartFailed(api(410)), WatchTrouble::Restart),
            (InitialListFailed(api(410)), WatchTrouble::Relist),
            (NoResourceVersion, WatchTrouble::Relist),
            (InitialListFailed(api(403)), WatchTrouble::Fatal),
            (InitialListFailed(api(404)), WatchTrouble::Fatal),
            (WatchError(Box::new(status(403))), WatchTrouble::Fatal),
        ];
        for (error, expected) in cases {
            assert_eq!(
                watch_trouble(&error),
                expected,
                "{}",
                describe_watch_error(&error)
            );
        }
    }
}
