//! Deadlines from durations without overflow. Scenario durations are bounded when parsed, but an
//! executor or a test can still hand the engine a span the clock cannot add; such a deadline
//! lies in the far future instead of panicking after the scenario's namespace exists.

use std::time::Duration;
use tokio::time::Instant;

/// Further than any run lasts (30 years, tokio's own "far future"): the deadline given for a span
/// longer than this.
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// `span` after `start`, or the far future when `span` is longer than that.
pub(crate) fn after(start: Instant, span: Duration) -> Instant {
    // Adding 30 years to a monotonic clock reading cannot overflow on any supported platform;
    // `start` is only the answer if it somehow did, and then a deadline that has passed is the
    // one that cannot hang.
    start.checked_add(span.min(FAR_FUTURE)).unwrap_or(start)
}

/// `span` from now, or the far future.
pub(crate) fn from_now(span: Duration) -> Instant {
    after(Instant::now(), span)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_span_gives_the_far_future_not_a_panic() {
        let start = Instant::now();
        assert_eq!(after(start, Duration::MAX), start + FAR_FUTURE);
        assert_eq!(
            after(start, Duration::from_secs(5)),
            start + Duration::from_secs(5)
        );
    }
}
