//! Forwarding a scenario's timeline to the event stream as it is recorded, every entry exactly
//! once and in order: the live channel only wakes the forwarder, and entries are read from the
//! timeline itself, so a burst larger than the channel (a pod restarting in a loop) loses none
//! of them on the way to the reports.

use crate::events::{Event, EventSink, ScenarioId};
use crate::timeline::{Timeline, TimelineEntry};
use tokio::sync::broadcast;

/// Sends a timeline's new entries as `Event::Timeline` lines.
pub(crate) struct TimelineForwarder {
    timeline: Timeline,
    live: broadcast::Receiver<TimelineEntry>,
    /// Entries already sent.
    sent: usize,
    following: bool,
}

impl TimelineForwarder {
    pub(crate) fn new(timeline: &Timeline) -> Self {
        Self {
            live: timeline.subscribe(),
            timeline: timeline.clone(),
            sent: 0,
            following: true,
        }
    }

    /// Waits until the timeline has grown (never returns once the timeline is gone).
    pub(crate) async fn changed(&mut self) {
        while self.following {
            match self.live.recv().await {
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => return,
                Err(broadcast::error::RecvError::Closed) => self.following = false,
            }
        }
        std::future::pending::<()>().await;
    }

    /// Sends every entry recorded since the last call.
    pub(crate) fn send_new(&mut self, id: &ScenarioId, events: &dyn EventSink) {
        // Wake-ups already covered by this read are dropped with it.
        while self.live.try_recv().is_ok() {}
        let entries = self.timeline.entries_from(self.sent);
        self.sent += entries.len();
        for entry in entries {
            events.emit(Event::Timeline {
                id: id.clone(),
                line: entry.to_line(),
            });
        }
    }
}
