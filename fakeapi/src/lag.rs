//! How far the watch cache trails the store: every committed change becomes visible to watches
//! a little after the write's answer, as on a real API server.
//!
//! kube-apiserver serves watches from its watch cache (k8s.io/apiserver `pkg/storage/cacher`),
//! fed by its own etcd watch. A write is answered once etcd has committed it; the cache sees the
//! change only when etcd's watch delivers it, typically some milliseconds later and more under
//! load. So a client that writes and then reads its own change back through a watch (or a
//! reflector fed by one) can see the old state for a while. The API conventions give the way
//! out: resourceVersions say where a reader stands, and a client that must see its write waits
//! until its watch has passed the write's resourceVersion (or lists, which since 1.31's
//! `ConsistentListFromCache` waits for the cache to reach etcd's current revision before
//! answering; a list with `resourceVersion=0` or `resourceVersionMatch=NotOlderThan` may be
//! served from a cache that is still behind). Gets and lists here are always current, as
//! consistent reads are; only watches lag.

use std::time::Duration;

use tokio::time::Instant;

/// The default lag: each change becomes visible to watches 5 to 25 ms after it is committed.
/// Long enough that a client reading its own write back through a watch without waiting for the
/// resourceVersion sees the old state (a round trip to the fake takes well under a millisecond),
/// short enough that tests which wait on events stay quick.
pub(crate) const DEFAULT: WatchLag = WatchLag {
    min: Duration::from_millis(5),
    max: Duration::from_millis(25),
};

/// A watch cache lag: each change is delayed by a random time in `[min, max]`; changes stay in
/// resourceVersion order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WatchLag {
    pub min: Duration,
    pub max: Duration,
}

impl WatchLag {
    /// When a change committed now becomes visible to watches.
    pub(crate) fn visible_at(&self, committed: Instant) -> Instant {
        let span = self.max.saturating_sub(self.min);
        let extra = if span.is_zero() {
            Duration::ZERO
        } else {
            span.mul_f64(crate::meta::random_fraction())
        };
        committed + self.min + extra
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn changes_become_visible_within_the_lag() {
        let now = Instant::now();
        for _ in 0..100 {
            let at = DEFAULT.visible_at(now);
            assert!(at >= now + DEFAULT.min && at <= now + DEFAULT.max);
        }
        let none = WatchLag {
            min: Duration::ZERO,
            max: Duration::ZERO,
        };
        assert_eq!(none.visible_at(now), now);
    }
}
