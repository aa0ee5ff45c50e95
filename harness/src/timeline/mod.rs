//! The timeline: everything that happened in a scenario's namespace, in order, with timestamps.

pub mod assertions;
mod caught_up;
pub mod delivered;
mod entry;
mod excerpt;
mod fields;
mod recorder;

pub use caught_up::{NoEvidence, recorder_caught_up};
pub use entry::{Change, Timeline, TimelineEntry};
pub use excerpt::{
    MAX_LINES as EXCERPT_MAX_LINES, RECENT_LINES as EXCERPT_RECENT_LINES, excerpt, latest,
};
pub(crate) use excerpt::{ModifiedRun, TimelineLine};
pub use fields::entry_for;
pub use recorder::{RECORDED_KINDS, Recorder};
