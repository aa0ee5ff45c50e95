//! Ordering and counting assertions over a recorded timeline (`timeline: {expect: [...]}`).
//!
//! Entries are ordered by their position in the timeline, not by their timestamps: entries of one
//! kind come from one watch stream, so their order is the order the API server committed the
//! changes, even when two share a millisecond.
//!
//! Assertions about events (created, deleted) look only at entries after the window's start
//! (a `mark`); assertions about state (ready, counts) replay every entry, so objects that existed
//! before the mark are known with the state they had.
//!
//! The states counted by `atMost`, `atLeast` and `neverOverlap`:
//! - `exists`: the object exists and its deletion has not started (a terminating pod no longer
//!   counts, as Deployments and StatefulSets do not count it);
//! - `running`: phase Running, terminating or not (its containers still run);
//! - `ready`: the Ready condition is True and deletion has not started.

mod counts;
mod evaluate;
mod order;
mod window;

pub use evaluate::{describe, evaluate};
pub use window::{Subjects, Violation, Window};

#[cfg(test)]
mod tests;
