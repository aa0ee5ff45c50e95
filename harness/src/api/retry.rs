//! Retrying API calls that failed for transient reasons (5xx, 429, timeouts, dropped connections)
//! with exponential backoff, never past the caller's deadline.

use super::ApiError;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// Whether retrying `error` may succeed: server errors, throttling, timeouts and transport errors.
pub fn is_transient(error: &kube::Error) -> bool {
    match error {
        kube::Error::Api(status) => {
            status.code >= 500 || status.code == 429 || status.code == 408 || status.code == 0
        }
        kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::ReadEvents(_) => true,
        _ => false,
    }
}

/// Exponential backoff with a cap: 50 ms, 100 ms, 200 ms, ... up to 2 s.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
    max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new(Duration::from_millis(50), Duration::from_secs(2))
    }
}

impl Backoff {
    pub fn new(first: Duration, max: Duration) -> Self {
        Self { next: first, max }
    }

    /// The next pause, growing each time.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(self.max);
        delay
    }

    /// Sleeps for the next pause, but not past `deadline`; false when the deadline has come.
    pub async fn pause(&mut self, deadline: Instant) -> bool {
        let wake = Instant::now() + self.next_delay();
        if wake >= deadline {
            tokio::time::sleep_until(deadline).await;
            return false;
        }
        tokio::time::sleep_until(wake).await;
        true
    }
}

/// Runs `op` until it succeeds, fails for a reason retrying will not fix, or `deadline` passes.
///
/// Each attempt is itself cut off at the deadline, so a server that never answers cannot hold the
/// caller past it. `what` completes "failed to ..." in the error.
pub async fn with_retry<T, F, Fut>(what: &str, deadline: Instant, mut op: F) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    let mut backoff = Backoff::default();
    let mut attempts = 0u32;
    let mut last = None;
    loop {
        attempts += 1;
        match tokio::time::timeout_at(deadline, op()).await {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(error)) if is_transient(&error) => last = Some(error),
            Ok(Err(source)) => {
                return Err(ApiError::Failed {
                    what: what.to_owned(),
                    source,
                });
            }
            Err(_) => break,
        }
        if !backoff.pause(deadline).await {
            break;
        }
    }
    Err(match last {
        Some(last) => ApiError::GaveUp {
            what: what.to_owned(),
            attempts,
            last,
        },
        None => ApiError::NoAnswer {
            what: what.to_owned(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;

    fn api_error(code: u16) -> kube::Error {
        kube::Error::Api(Box::new(Status {
            code,
            ..Status::default()
        }))
    }

    #[test]
    fn classifies_transient_errors() {
        assert!(is_transient(&api_error(500)));
        assert!(is_transient(&api_error(503)));
        assert!(is_transient(&api_error(429)));
        assert!(!is_transient(&api_error(404)));
        assert!(!is_transient(&api_error(409)));
        assert!(!is_transient(&api_error(422)));
    }

    #[test]
    fn backoff_grows_to_its_cap() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(350));
        let delays: Vec<u128> = (0..4).map(|_| backoff.next_delay().as_millis()).collect();
        assert_eq!(delays, vec![100, 200, 350, 350]);
    }

    #[tokio::test]
    async fn retries_transient_errors_then_succeeds() {
        let mut calls = 0;
        let deadline = Instant::now() + Duration::from_secs(5);
        let result = with_retry("get pod/web-0", deadline, || {
            calls += 1;
            let outcome = if calls < 3 {
                Err(api_error(500))
            } else {
                Ok(calls)
            };
            async move { outcome }
        })
        .await;
        assert_eq!(result.ok(), Some(3));
    }

    #[tokio::test]
    async fn stops_at_once_on_a_permanent_error() {
        let mut calls = 0;
        let deadline = Instant::now() + Duration::from_secs(5);
        let result: Result<(), _> = with_retry("get pod/web-0", deadline, || {
            calls += 1;
            async { Err(api_error(404)) }
        })
        .await;
        assert_eq!(calls, 1);
        assert!(result.is_err_and(|e| e.is_not_found()));
    }

    #[tokio::test]
    async fn gives_up_at_the_deadline_naming_the_last_error() {
        let deadline = Instant::now() + Duration::from_millis(300);
        let result: Result<(), _> =
            with_retry("list pods", deadline, || async { Err(api_error(503)) }).await;
        let error = result.expect_err("keeps failing");
        assert!(Instant::now() >= deadline);
        let text = error.to_string();
        assert!(text.starts_with("failed to list pods"), "{text}");
        assert!(text.contains("503"), "{text}");
    }
}
