//! Timeline entries and the shared, append-only timeline a scenario records into.

use super::delivered::Delivered;
use crate::scenario::model::Kind;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

/// What happened to an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Added,
    Modified,
    Deleted,
    /// A `mark` step, named.
    Mark(String),
}

/// One recorded change, with the fields that ordering assertions and reports need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntry {
    /// Time since the scenario started.
    pub at: Duration,
    pub change: Change,
    /// The object's kind (`None` for marks).
    pub kind: Option<Kind>,
    pub name: String,
    pub uid: String,
    pub labels: BTreeMap<String, String>,
    /// Pods: `status.phase`; PVCs and PVs: their phase.
    pub phase: Option<String>,
    /// Pods: the Ready condition. Workloads: ready replicas equal desired.
    pub ready: Option<bool>,
    /// `metadata.deletionTimestamp` is set.
    pub deleting: bool,
    /// Pods: `controller-revision-hash` or `pod-template-hash`; StatefulSets: update revision.
    pub revision: Option<String>,
    pub node: Option<String>,
    pub volume_name: Option<String>,
    /// Anything else worth a reader's eye (restart counts, replica counts), already formatted.
    pub detail: String,
}

impl TimelineEntry {
    /// One line for reports: `+1.204s pod/web-1 MODIFIED phase=Running ready=true ...`.
    pub fn to_line(&self) -> String {
        let what = match (&self.change, self.kind) {
            (Change::Mark(name), _) => {
                return format!("+{:.3}s mark {name}", self.at.as_secs_f64());
            }
            (_, Some(kind)) => format!("{kind}/{}", self.name),
            (_, None) => self.name.clone(),
        };
        let change = match self.change {
            Change::Added => "ADDED",
            Change::Modified => "MODIFIED",
            Change::Deleted => "DELETED",
            Change::Mark(_) => "MARK",
        };
        let mut line = format!("+{:.3}s {what} {change}", self.at.as_secs_f64());
        let fields = [
            ("phase", self.phase.clone()),
            ("ready", self.ready.map(|r| r.to_string())),
            ("deleting", self.deleting.then(|| "true".to_owned())),
            ("revision", self.revision.clone()),
            ("node", self.node.clone()),
            ("volume", self.volume_name.clone()),
        ];
        for (key, value) in fields {
            if let Some(value) = value {
                line.push_str(&format!(" {key}={value}"));
            }
        }
        if !self.detail.is_empty() {
            line.push(' ');
            line.push_str(&self.detail);
        }
        line
    }
}

/// The timeline of one scenario: shared between the recorder (which appends), the steps (which
/// read it and add marks) and observers (which follow new entries as they arrive).
#[derive(Debug, Clone)]
pub struct Timeline {
    started: Instant,
    entries: Arc<Mutex<Vec<TimelineEntry>>>,
    live: broadcast::Sender<TimelineEntry>,
    /// What the recorder's watch of each kind has delivered, to show it has caught up.
    delivered: Arc<Mutex<BTreeMap<Kind, Delivered>>>,
}

impl Timeline {
    pub fn new() -> Self {
        let (live, _) = broadcast::channel(1024);
        Self {
            started: Instant::now(),
            entries: Arc::default(),
            live,
            delivered: Arc::default(),
        }
    }

    /// Time since the scenario started, for stamping entries.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    pub fn push(&self, entry: TimelineEntry) {
        // A poisoned lock only means a reader panicked; the entries themselves are intact.
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.push(entry.clone());
        drop(entries);
        let _ = self.live.send(entry);
    }

    /// Adds a named mark at the current time.
    pub fn mark(&self, name: &str) {
        self.push(TimelineEntry {
            at: self.elapsed(),
            change: Change::Mark(name.to_owned()),
            kind: None,
            name: name.to_owned(),
            uid: String::new(),
            labels: BTreeMap::new(),
            phase: None,
            ready: None,
            deleting: false,
            revision: None,
            node: None,
            volume_name: None,
            detail: String::new(),
        });
    }

    /// A copy of every entry so far.
    pub fn snapshot(&self) -> Vec<TimelineEntry> {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The entries from position `start` on (none when there are not that many), for a reader
    /// that forwards them in order without missing one.
    pub fn entries_from(&self, start: usize) -> Vec<TimelineEntry> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.get(start..).map(<[_]>::to_vec).unwrap_or_default()
    }

    /// Entries recorded after the named mark (all entries when `mark` is `None`);
    /// `None` when the mark was never set.
    pub fn since(&self, mark: Option<&str>) -> Option<Vec<TimelineEntry>> {
        let entries = self.snapshot();
        let Some(mark) = mark else {
            return Some(entries);
        };
        let start = entries
            .iter()
            .position(|e| e.change == Change::Mark(mark.to_owned()))?;
        Some(entries[start + 1..].to_vec())
    }

    /// The record of what the recorder's watch of `kind` has delivered (empty, and never listed,
    /// while no recorder follows the kind).
    pub fn delivered(&self, kind: Kind) -> Delivered {
        self.delivered
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(kind)
            .or_default()
            .clone()
    }

    /// Follows entries as they are recorded (for `observe`).
    pub fn subscribe(&self) -> broadcast::Receiver<TimelineEntry> {
        self.live.subscribe()
    }

    /// The whole timeline as report lines.
    pub fn render(&self) -> String {
        self.snapshot()
            .iter()
            .map(TimelineEntry::to_line)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Default for Timeline {
    fn default() -> Self {
        Self::new()
    }
}
