//! The aggregator: the one fold of the event stream into the run record.
//!
//! Every report (the terminal, JUnit, coverage, the timeline files) and the runner's own
//! failure text render from this record, so they cannot disagree about what happened.

use std::sync::{Mutex, MutexGuard};

use super::record::RunRecord;
use crate::events::Event;

/// Owns the record of a run and folds each event into it.
#[derive(Debug, Default)]
pub struct RunAggregator {
    record: Mutex<RunRecord>,
}

impl RunAggregator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Folds `event` in, then shows `then` the record as it now stands, under the same lock,
    /// so that what is rendered for an event agrees with the fold of that event.
    pub fn fold<R>(&self, event: &Event, then: impl FnOnce(&RunRecord) -> R) -> R {
        let mut record = self.lock();
        record.apply(event);
        then(&record)
    }

    /// Shows `read` the record as it stands.
    pub fn read<R>(&self, read: impl FnOnce(&RunRecord) -> R) -> R {
        read(&self.lock())
    }

    fn lock(&self) -> MutexGuard<'_, RunRecord> {
        // A renderer that panicked mid-way leaves a usable record; keep reporting.
        self.record
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
