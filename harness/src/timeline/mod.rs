//! The timeline: everything that happened in a scenario's namespace, in order, with timestamps.

mod entry;

pub use entry::{Change, Timeline, TimelineEntry};
