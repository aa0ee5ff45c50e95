//! The one retry policy for API calls: what is retried, how long to pause, and never past the
//! caller's deadline.
//!
//! Retried: 5xx, 429 and 408 (honouring the server's `Retry-After`), dropped connections and
//! timeouts, and, for writes that carry no precondition, a 409 Conflict (the write lost a race
//! and was not applied, so sending it again is safe). Never retried: other 4xx (400, 403, 404,
//! 422, a 409 AlreadyExists), which are the server's answer. Pauses grow exponentially with
//! jitter (backon), so parallel scenarios spread their retries out instead of retrying in
//! lockstep. Every retry is counted for the step's report (see [`super::retried`]).

use super::ApiError;
use super::retried::{RetryCause, note_retry};
use backon::{BackoffBuilder, ExponentialBuilder};
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// The first pause between API attempts (then 2×, 4×, ... each stretched by up to 2× jitter).
const FIRST_PAUSE: Duration = Duration::from_millis(50);
/// The first pause between attempts of a repeated check (a command, a DNS answer, HTTP).
const FIRST_CHECK_PAUSE: Duration = Duration::from_millis(250);
/// The longest pause before jitter.
const LONGEST_PAUSE: Duration = Duration::from_secs(2);

/// Whether a 409 Conflict may be retried: only for writes without a precondition (forced
/// server-side apply, patches without a resourceVersion), where it means the write lost a race.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnConflict {
    /// A 409 is the answer (creates, unforced applies, writes with a resourceVersion).
    Answer,
    /// A 409 Conflict is a lost race: send the same write again.
    Retry,
}

/// Why retrying `error` may succeed, or `None` when the error is the server's answer.
pub fn retry_cause(error: &kube::Error, on_conflict: OnConflict) -> Option<RetryCause> {
    match error {
        kube::Error::Api(status) => {
            let code = status.code;
            let retried = code >= 500
                || code == 429
                || code == 408
                // kube's code for an error body it could not read as a Status.
                || code == 0
                || (code == 409 && on_conflict == OnConflict::Retry && status.reason != "AlreadyExists");
            retried.then_some(RetryCause::Status(code))
        }
        kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::ReadEvents(_) => {
            Some(RetryCause::Disconnected)
        }
        _ => None,
    }
}

/// Whether retrying `error` may succeed: server errors, throttling, timeouts and transport errors.
pub fn is_transient(error: &kube::Error) -> bool {
    retry_cause(error, OnConflict::Answer).is_some()
}

/// The pause the server asked for (`Retry-After`, carried as the `Status`'s
/// `details.retryAfterSeconds` by the client petset builds).
pub fn server_pause(error: &kube::Error) -> Option<Duration> {
    match error {
        kube::Error::Api(status) => status
            .details
            .as_ref()
            .map(|details| details.retry_after_seconds)
            .filter(|&seconds| seconds > 0)
            .map(|seconds| Duration::from_secs(u64::from(seconds))),
        _ => None,
    }
}

/// The policy's pauses: exponential with jitter, never running out. Loops that retry by hand
/// (re-watching after a dropped watch, repeating a check) pause with this too.
#[derive(Debug)]
pub struct Backoff {
    pauses: <ExponentialBuilder as BackoffBuilder>::Backoff,
}

impl Default for Backoff {
    /// Pacing for API calls: 50 ms, 100 ms, ... up to 2 s, each stretched by up to 2× jitter.
    fn default() -> Self {
        Self::starting_at(FIRST_PAUSE)
    }
}

impl Backoff {
    /// Pacing for repeated checks, which cost more than one API call: from 250 ms up to 2 s.
    pub fn for_checks() -> Self {
        Self::starting_at(FIRST_CHECK_PAUSE)
    }

    fn starting_at(first: Duration) -> Self {
        let pauses = ExponentialBuilder::default()
            .with_min_delay(first)
            .with_max_delay(LONGEST_PAUSE)
            .with_jitter()
            .without_max_times()
            .build();
        Self { pauses }
    }

    /// The next pause, growing each time.
    pub fn next_delay(&mut self) -> Duration {
        self.pauses.next().unwrap_or(LONGEST_PAUSE)
    }

    /// The next pause after `error`: at least as long as the server asked for.
    pub fn next_delay_after(&mut self, error: &kube::Error) -> Duration {
        self.next_delay()
            .max(server_pause(error).unwrap_or_default())
    }

    /// Sleeps for the next pause, but not past `deadline`; false when the deadline has come.
    /// (Loops that ignore the answer still cannot spin: they slept until the deadline.)
    pub async fn pause(&mut self, deadline: Instant) -> bool {
        let pause = self.next_delay();
        sleep_within(deadline, pause).await
    }

    /// As [`Backoff::pause`], but at least as long as the server asked for in `error`
    /// (`Retry-After`). What a loop that re-watches after an error should call.
    pub async fn pause_after(&mut self, error: &kube::Error, deadline: Instant) -> bool {
        let pause = self.next_delay_after(error);
        sleep_within(deadline, pause).await
    }
}

/// When a pause of `pause` from now ends, if that is before `deadline`.
fn ends_before(deadline: Instant, pause: Duration) -> Option<Instant> {
    Instant::now()
        .checked_add(pause)
        .filter(|&wake| wake < deadline)
}

async fn sleep_within(deadline: Instant, pause: Duration) -> bool {
    match ends_before(deadline, pause) {
        Some(wake) => {
            tokio::time::sleep_until(wake).await;
            true
        }
        None => {
            tokio::time::sleep_until(deadline).await;
            false
        }
    }
}

/// Runs `op` until it succeeds, fails with the server's answer, or no retry can start before
/// `deadline`. A 409 is an answer; use [`with_retry_on_conflict`] for writes without a
/// precondition. `what` completes "failed to ..." in the error.
pub async fn with_retry<T, F, Fut>(what: &str, deadline: Instant, op: F) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    retry_call(what, deadline, OnConflict::Answer, op).await
}

/// As [`with_retry`], for writes without a precondition (forced server-side apply, patches
/// with no resourceVersion): a 409 Conflict there means the write lost a race and was not
/// applied, so it is sent again.
pub async fn with_retry_on_conflict<T, F, Fut>(
    what: &str,
    deadline: Instant,
    op: F,
) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    retry_call(what, deadline, OnConflict::Retry, op).await
}

/// The retry loop, for callers that decide per call whether a 409 is an answer. Each attempt
/// is itself cut off at the deadline, so a server that never answers cannot hold the caller
/// past it.
pub async fn retry_call<T, F, Fut>(
    what: &str,
    deadline: Instant,
    on_conflict: OnConflict,
    mut op: F,
) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    let mut backoff = Backoff::default();
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        let error = match tokio::time::timeout_at(deadline, op()).await {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(error)) => error,
            Err(_) => {
                return Err(ApiError::NoAnswer {
                    what: what.to_owned(),
                });
            }
        };
        let Some(cause) = retry_cause(&error, on_conflict) else {
            return Err(ApiError::Failed {
                what: what.to_owned(),
                source: error,
            });
        };
        // A retry that cannot start before the deadline is not waited for: give up now.
        let Some(wake) = ends_before(deadline, backoff.next_delay_after(&error)) else {
            return Err(ApiError::GaveUp {
                what: what.to_owned(),
                attempts,
                last: error,
            });
        };
        tokio::time::sleep_until(wake).await;
        note_retry(cause);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;
    use kube::core::response::StatusDetails;

    fn api_error(code: u16, reason: &str) -> kube::Error {
        kube::Error::Api(Box::new(Status {
            code,
            reason: reason.to_owned(),
            ..Status::default()
        }))
    }

    fn throttled(seconds: u32) -> kube::Error {
        kube::Error::Api(Box::new(Status {
            code: 429,
            reason: "TooManyRequests".to_owned(),
            details: Some(StatusDetails {
                name: String::new(),
                group: String::new(),
                kind: String::new(),
                uid: String::new(),
                causes: Vec::new(),
                retry_after_seconds: seconds,
            }),
            ..Status::default()
        }))
    }

    #[test]
    fn retries_transient_errors_and_only_racing_conflicts() {
        for code in [500, 503, 504, 429, 408] {
            assert!(is_transient(&api_error(code, "")), "{code}");
        }
        for code in [400, 403, 404, 409, 410, 422] {
            assert!(!is_transient(&api_error(code, "")), "{code}");
        }
        let conflict = api_error(409, "Conflict");
        assert_eq!(
            retry_cause(&conflict, OnConflict::Retry),
            Some(RetryCause::Status(409))
        );
        assert_eq!(retry_cause(&conflict, OnConflict::Answer), None);
        let exists = api_error(409, "AlreadyExists");
        assert_eq!(retry_cause(&exists, OnConflict::Retry), None);
        assert_eq!(
            retry_cause(&api_error(422, "Invalid"), OnConflict::Retry),
            None
        );
    }

    #[test]
    fn pauses_grow_to_their_cap_with_jitter() {
        let mut backoff = Backoff::default();
        let pauses: Vec<Duration> = (0..8).map(|_| backoff.next_delay()).collect();
        let mut floor = FIRST_PAUSE;
        for pause in &pauses {
            assert!(*pause >= floor && *pause < floor * 2, "{pauses:?}");
            floor = (floor * 2).min(LONGEST_PAUSE);
        }
        // Two retriers starting together do not pause in lockstep.
        let mut other = Backoff::default();
        let others: Vec<Duration> = (0..8).map(|_| other.next_delay()).collect();
        assert_ne!(pauses, others);
    }

    #[tokio::test(start_paused = true)]
    async fn retries_transient_errors_then_succeeds_and_counts_them() {
        let mut calls = 0;
        let deadline = Instant::now() + Duration::from_secs(5);
        let (result, retried) =
            super::super::retried::counting(with_retry("get pod/web-0", deadline, || {
                calls += 1;
                let outcome = match calls {
                    1 => Err(api_error(503, "ServiceUnavailable")),
                    2 => Err(kube::Error::Service("connection reset".into())),
                    _ => Ok(calls),
                };
                async move { outcome }
            }))
            .await;
        assert_eq!(result.ok(), Some(3));
        assert_eq!(retried.to_string(), "retried 2 times: 503, connection lost");
    }

    #[tokio::test(start_paused = true)]
    async fn stops_at_once_on_an_answer() {
        let mut calls = 0;
        let deadline = Instant::now() + Duration::from_secs(5);
        let result: Result<(), _> = with_retry_on_conflict("apply pod/web-0", deadline, || {
            calls += 1;
            async { Err(api_error(422, "Invalid")) }
        })
        .await;
        assert_eq!(calls, 1);
        assert_eq!(result.err().and_then(|e| e.status_code()), Some(422));
    }

    #[tokio::test(start_paused = true)]
    async fn honours_retry_after() {
        let started = Instant::now();
        let mut calls = 0;
        let result = with_retry("list pods", started + Duration::from_secs(10), || {
            calls += 1;
            let outcome = if calls == 1 {
                Err(throttled(3))
            } else {
                Ok(())
            };
            async move { outcome }
        })
        .await;
        assert!(result.is_ok());
        // Virtual time: the retry waited for the server's three seconds, not 50 ms.
        assert!(started.elapsed() >= Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_when_no_retry_fits_before_the_deadline() {
        let started = Instant::now();
        let deadline = started + Duration::from_secs(2);
        let result: Result<(), _> =
            with_retry("list pods", deadline, || async { Err(throttled(30)) }).await;
        let error = result.expect_err("the server's pause is past the deadline");
        assert_eq!(started.elapsed(), Duration::ZERO, "gave up at once");
        let text = error.to_string();
        assert!(text.starts_with("failed to list pods"), "{text}");
        assert!(
            text.contains("after 1 attempt") && text.contains("429"),
            "{text}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_past_the_deadline_sleeps_until_it() {
        let deadline = Instant::now() + Duration::from_secs(1);
        assert!(
            !Backoff::default()
                .pause_after(&throttled(5), deadline)
                .await
        );
        assert_eq!(
            Instant::now(),
            deadline,
            "a loop ignoring the answer cannot spin"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn keeps_retrying_until_the_deadline() {
        let deadline = Instant::now() + Duration::from_millis(700);
        let mut calls = 0u32;
        let result: Result<(), _> = with_retry("list pods", deadline, || {
            calls += 1;
            async { Err(api_error(503, "")) }
        })
        .await;
        assert!(calls > 2, "{calls}");
        assert!(Instant::now() < deadline);
        let text = result.expect_err("keeps failing").to_string();
        assert!(text.contains(&format!("after {calls} attempts")), "{text}");
    }
}
