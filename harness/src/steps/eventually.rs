//! `eventually`: repeat a check until it holds or its time is up.
//!
//! Used by the checks that have nothing to watch (a command's output, a DNS answer, an HTTP
//! response): each attempt runs to completion under the deadline, then the next one starts after
//! a short, growing, jittered pause (the retry policy's pacing for checks). Checks on API
//! objects wait on watches instead (see `assert`).

use crate::api::Backoff;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// How a repeated check ended: its last result, and how many attempts and how long it took.
#[derive(Debug)]
pub(crate) struct Attempts<T, E> {
    pub last: Result<T, E>,
    pub attempts: u32,
    pub elapsed: Duration,
}

/// Runs `attempt` once, or (with `retrying`) until it returns `Ok` or `deadline` passes.
/// Every attempt is itself cut off at the deadline; one cut off that way returns `timed_out()`.
///
/// A failed attempt that ends at the deadline was cut short (by this or by its own use of the
/// deadline: "no answer before the deadline"), so it says only that petset could not ask in
/// time. The failure reported is then the last attempt that finished before the deadline: the
/// latest complete answer, which says what the cluster got wrong.
pub(crate) async fn until_ok<T, E, F, Fut>(
    retrying: bool,
    deadline: Instant,
    timed_out: impl Fn() -> E,
    attempt: F,
) -> Attempts<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    until_ok_or_final(retrying, deadline, timed_out, |_| false, attempt).await
}

/// [`until_ok`], but an error for which `is_final` holds ends the retrying at once: waiting
/// cannot change it (e.g. an API server that refuses every port-forward).
pub(crate) async fn until_ok_or_final<T, E, F, Fut>(
    retrying: bool,
    deadline: Instant,
    timed_out: impl Fn() -> E,
    is_final: impl Fn(&E) -> bool,
    mut attempt: F,
) -> Attempts<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let started = Instant::now();
    let mut backoff = Backoff::for_checks();
    let mut attempts = 0;
    let mut last_complete: Option<Result<T, E>> = None;
    loop {
        attempts += 1;
        let last = match tokio::time::timeout_at(deadline, attempt()).await {
            Ok(result) => result,
            Err(_) => Err(timed_out()),
        };
        let in_time = Instant::now() < deadline;
        let done = match &last {
            Ok(_) => true,
            Err(error) => !retrying || is_final(error) || !in_time,
        };
        if done || !backoff.pause(deadline).await {
            let last = match (last, last_complete) {
                (Err(_), Some(complete)) if !in_time => complete,
                (last, _) => last,
            };
            return Attempts {
                last,
                attempts,
                elapsed: started.elapsed(),
            };
        }
        if in_time {
            last_complete = Some(last);
        }
    }
}

/// `after 3 attempts in 4.2s`, for failure messages of retried checks.
pub(crate) fn tried<T, E>(attempts: &Attempts<T, E>) -> String {
    if attempts.attempts == 1 {
        String::new()
    } else {
        format!(
            " (still failing after {} attempts in {:.1}s)",
            attempts.attempts,
            attempts.elapsed.as_secs_f64()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test(start_paused = true)]
    async fn retries_until_the_check_holds() {
        let calls = AtomicU32::new(0);
        let outcome = until_ok(
            true,
            Instant::now() + Duration::from_secs(10),
            || "timeout",
            || async {
                let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
                if n < 3 { Err("not yet") } else { Ok(n) }
            },
        )
        .await;
        assert_eq!(outcome.last, Ok(3));
        assert_eq!(outcome.attempts, 3);
    }

    #[tokio::test]
    async fn without_retrying_one_attempt_decides() {
        let outcome: Attempts<(), &str> = until_ok(
            false,
            Instant::now() + Duration::from_secs(10),
            || "timeout",
            || async { Err("no") },
        )
        .await;
        assert_eq!((outcome.last, outcome.attempts), (Err("no"), 1));
    }

    #[tokio::test(start_paused = true)]
    async fn an_attempt_cut_short_by_the_deadline_does_not_hide_the_last_answer() {
        let calls = AtomicU32::new(0);
        let outcome: Attempts<(), &str> = until_ok(
            true,
            Instant::now() + Duration::from_secs(2),
            || "timed out",
            || {
                let first = calls.fetch_add(1, Ordering::SeqCst) == 0;
                async move {
                    if first {
                        Err("wrong answer")
                    } else {
                        std::future::pending().await
                    }
                }
            },
        )
        .await;
        assert_eq!(outcome.last, Err("wrong answer"));
        assert_eq!(outcome.attempts, 2);
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_ends_a_hanging_attempt() {
        let outcome: Attempts<(), &str> = until_ok(
            true,
            Instant::now() + Duration::from_millis(100),
            || "timed out",
            std::future::pending,
        )
        .await;
        assert_eq!(outcome.last, Err("timed out"));
        // Simulated time: the attempt was cut off at the deadline, and none started after it.
        assert_eq!(
            (outcome.attempts, outcome.elapsed),
            (1, Duration::from_millis(100))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn attempts_are_paced_with_the_checks_policy_and_end_at_the_deadline() {
        let deadline = Instant::now() + Duration::from_secs(3);
        let mut starts = Vec::new();
        let outcome: Attempts<(), &str> = until_ok(
            true,
            deadline,
            || "timed out",
            || {
                starts.push(Instant::now());
                async { Err("not yet") }
            },
        )
        .await;
        assert_eq!(outcome.last, Err("not yet"));
        assert_eq!(outcome.attempts as usize, starts.len());
        // Pauses of 250 ms and more, growing (stretched by up to 2x jitter), none past the
        // deadline: the last attempt started before it, and the loop ended at it.
        let pauses: Vec<Duration> = starts.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(pauses.len() >= 2, "{pauses:?}");
        assert!(
            pauses[0] >= Duration::from_millis(250) && pauses[0] < Duration::from_millis(500),
            "{pauses:?}"
        );
        assert!(
            pauses.iter().all(|p| *p >= Duration::from_millis(250)),
            "{pauses:?}"
        );
        assert!(starts.last().is_some_and(|last| *last < deadline));
        assert_eq!(Instant::now(), deadline);
    }
}
