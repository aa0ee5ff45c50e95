//! The timeline recorder: one watcher per kind on the scenario's namespace (and one on the
//! PersistentVolumes bound to its claims), appending a [`TimelineEntry`] for every change.
//!
//! Each watcher runs as its own task until the [`Recorder`] is stopped or dropped. After a relist
//! (a cut watch that could not resume, a 410 Gone) the recorder compares the fresh list with what
//! it knew, so objects created or deleted while it was not watching still appear, as changes seen
//! late rather than not at all.
//!
//! It keeps its own record of each object rather than a `kube::runtime` reflector store: it needs
//! what it last *recorded* (to drop updates that change nothing a timeline shows) and, when a
//! relist completes, what it knew before it (to record the deletions it missed), which a store,
//! swapped for the relist at that moment, no longer holds.
//!
//! Each watcher also keeps the record of what it delivered ([`Timeline::delivered`]), which a
//! check compares with a fresh list before it reads a verdict from the timeline.

use super::delivered::Listed;
use super::fields::{entry_for, same_state};
use super::{Change, Timeline, TimelineEntry};
use crate::api::{
    Backoff, WatchTrouble, api_resource, describe_watch_error, dynamic_api, to_value, watch_trouble,
};
use crate::scenario::model::Kind;
use futures::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::runtime::watcher::{self, Event};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The longest a watcher waits after an error, even when the server asks for longer: the
/// recorder has no deadline of its own, and a timeline that stops for long misses changes.
const LONGEST_PAUSE: Duration = Duration::from_secs(5);

/// The namespaced kinds the recorder follows.
pub const RECORDED_KINDS: &[Kind] = &[
    Kind::Pod,
    Kind::PersistentVolumeClaim,
    Kind::StatefulSet,
    Kind::Deployment,
    Kind::ReplicaSet,
    Kind::Service,
    Kind::EndpointSlice,
    Kind::Event,
];

/// The running recorder of one scenario; stops its watchers when stopped or dropped.
#[derive(Debug)]
pub struct Recorder {
    tasks: Vec<JoinHandle<()>>,
}

impl Recorder {
    /// Starts watching `namespace`, appending to `timeline`.
    pub fn start(client: &kube::Client, namespace: &str, timeline: &Timeline) -> Self {
        let mut tasks = Vec::new();
        for &kind in RECORDED_KINDS {
            let api = dynamic_api(client, kind, namespace);
            tasks.push(tokio::spawn(record(api, kind, None, timeline.clone())));
        }
        // PVs are cluster-scoped: follow all of them, keep those claimed from this namespace.
        let pvs = Api::all_with(client.clone(), &api_resource(Kind::PersistentVolume));
        tasks.push(tokio::spawn(record(
            pvs,
            Kind::PersistentVolume,
            Some(namespace.to_owned()),
            timeline.clone(),
        )));
        Self { tasks }
    }

    /// Stops every watcher.
    pub fn stop(&mut self) {
        for task in self.tasks.drain(..) {
            task.abort();
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What the recorder last recorded of each object, by uid.
#[derive(Default)]
struct Known {
    last: BTreeMap<String, TimelineEntry>,
}

impl Known {
    fn record(&mut self, timeline: &Timeline, kind: Kind, change: Change, object: &Value) {
        let entry = entry_for(kind, change.clone(), object, timeline.elapsed());
        let previous = self.last.get(&entry.uid);
        let entry = match (previous, &change) {
            (None, Change::Modified) => TimelineEntry {
                change: Change::Added,
                ..entry
            },
            (Some(before), Change::Modified | Change::Added) if same_state(before, &entry) => {
                return;
            }
            (Some(_), Change::Added) => TimelineEntry {
                change: Change::Modified,
                ..entry
            },
            _ => entry,
        };
        if kind == Kind::Event && entry.change == Change::Deleted {
            // Events expire by TTL; their removal says nothing about the scenario.
            self.last.remove(&entry.uid);
            return;
        }
        if entry.change == Change::Deleted {
            self.last.remove(&entry.uid);
        } else {
            self.last.insert(entry.uid.clone(), entry.clone());
        }
        timeline.push(entry);
    }
}

fn claimed_from(object: &Value, namespace: &str) -> bool {
    object
        .pointer("/spec/claimRef/namespace")
        .and_then(Value::as_str)
        == Some(namespace)
}

async fn record(
    api: Api<DynamicObject>,
    kind: Kind,
    claims_from: Option<String>,
    timeline: Timeline,
) {
    let mut known = Known::default();
    let delivered = timeline.delivered(kind);
    let mut backoff = Backoff::default();
    let mut stream = watcher::watcher(api.clone(), watcher::Config::default()).boxed();
    // During a (re)list: the uids recorded, and every uid listed (PVs of other namespaces too).
    let mut listing: Option<(BTreeSet<String>, BTreeSet<String>)> = None;
    while let Some(event) = stream.next().await {
        let (change, object) = match event {
            Ok(Event::Init) => {
                listing = Some(Default::default());
                continue;
            }
            Ok(Event::InitApply(object)) => (Change::Added, object),
            Ok(Event::InitDone) => {
                // Whatever was known but not relisted was deleted while nobody watched.
                let (recorded, present) = listing.take().unwrap_or_default();
                let gone: Vec<TimelineEntry> = known
                    .last
                    .values()
                    .filter(|entry| !recorded.contains(&entry.uid))
                    .cloned()
                    .collect();
                for entry in gone {
                    known.last.remove(&entry.uid);
                    if kind != Kind::Event {
                        timeline.push(TimelineEntry {
                            at: timeline.elapsed(),
                            change: Change::Deleted,
                            ..entry
                        });
                    }
                }
                delivered.relisted(&present);
                continue;
            }
            Ok(Event::Apply(object)) => (Change::Modified, object),
            Ok(Event::Delete(object)) => (Change::Deleted, object),
            Err(error) => {
                delivered.failed(describe_watch_error(&error));
                if watch_trouble(&error) == WatchTrouble::Restart {
                    stream = watcher::watcher(api.clone(), watcher::Config::default()).boxed();
                }
                // The watcher recovers on its next poll; pause first, paced as API retries are,
                // so a failing server is not hammered.
                backoff
                    .pause_after_watch_error(&error, Instant::now() + LONGEST_PAUSE)
                    .await;
                continue;
            }
        };
        backoff = Backoff::default();
        let value = to_value(&object);
        let uid = object.metadata.uid.clone().unwrap_or_default();
        let followed = claims_from
            .as_deref()
            .is_none_or(|namespace| claimed_from(&value, namespace));
        if let Some((recorded, present)) = listing.as_mut() {
            present.insert(uid.clone());
            if followed {
                recorded.insert(uid.clone());
            }
        }
        if followed {
            known.record(&timeline, kind, change.clone(), &value);
        }
        // Only once the entry is in the timeline does the delivery count as caught up.
        match change {
            Change::Deleted => delivered.gone(&uid),
            _ => delivered.saw(&Listed::of(&object)),
        }
    }
}
