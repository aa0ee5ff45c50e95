//! What a watch has delivered, object by object, and the wait until it has delivered everything a
//! fresh list of the API server shows: the evidence that a verdict read from the watch is based on
//! history that has caught up with the cluster as of the moment the check runs.
//!
//! A watch trails the API server: a change the server committed may reach the watch a while later.
//! A verdict read from the watch alone can then pass on a change that has not arrived. So before
//! the verdict, the API is listed afresh, and the watch must have delivered every listed object at
//! the version the list shows, and the deletion of every object it still holds that the list no
//! longer shows. ResourceVersions are opaque strings on a real API server: they are compared for
//! equality only, never ordered or parsed.
//!
//! What a list cannot show is an object created and deleted again before the check, with neither
//! change delivered yet; the watch delivers those in order with the rest, but nothing here waits
//! for them.

use crate::api::ApiError;
use kube::api::DynamicObject;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// How many of an object's latest resourceVersions are remembered, so that a watch that has
/// already moved past the version a list showed still counts as having delivered it.
const REMEMBERED_VERSIONS: usize = 16;
/// How long the first list's picture is waited for before listing again (a watch may be ahead of
/// a list: an object created just after the list is held by the watch but not listed) ...
const FIRST_ROUND: Duration = Duration::from_millis(100);
/// ... growing up to this between lists.
const LONGEST_ROUND: Duration = Duration::from_secs(2);

/// One object as a fresh list of the API server shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub uid: String,
    pub name: String,
    pub resource_version: String,
}

impl Listed {
    pub fn of(object: &DynamicObject) -> Self {
        let meta = &object.metadata;
        Self {
            uid: meta.uid.clone().unwrap_or_default(),
            name: meta.name.clone().unwrap_or_default(),
            resource_version: meta.resource_version.clone().unwrap_or_default(),
        }
    }
}

/// One object the watch holds: its name and its latest resourceVersions, newest last.
#[derive(Debug, Default)]
struct Held {
    name: String,
    versions: VecDeque<String>,
}

#[derive(Debug, Default)]
struct State {
    /// The watch has completed a list of its own: until then it vouches for nothing.
    listed: bool,
    /// By uid.
    objects: BTreeMap<String, Held>,
    /// The watch's latest error, cleared by the next delivery.
    last_error: Option<String>,
}

/// The record one watch keeps of what it has delivered. Clones share it.
#[derive(Debug, Clone)]
pub struct Delivered {
    state: Arc<Mutex<State>>,
    changed: Arc<watch::Sender<u64>>,
}

impl Default for Delivered {
    fn default() -> Self {
        Self {
            state: Arc::default(),
            changed: Arc::new(watch::channel(0).0),
        }
    }
}

impl Delivered {
    fn state(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means a reader panicked; the record itself is intact.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn update(&self, change: impl FnOnce(&mut State)) {
        change(&mut self.state());
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// The watch delivered `object` (added or modified).
    pub fn saw(&self, object: &Listed) {
        self.update(|state| {
            remember(&mut state.objects, object);
            state.last_error = None;
        });
    }

    /// The watch delivered the deletion of the object with this uid.
    pub fn gone(&self, uid: &str) {
        self.update(|state| {
            state.objects.remove(uid);
            state.last_error = None;
        });
    }

    /// The watch completed a list: only the objects with these uids remain.
    pub fn relisted(&self, present: &BTreeSet<String>) {
        self.update(|state| {
            state.objects.retain(|uid, _| present.contains(uid));
            state.listed = true;
        });
    }

    /// The watch's view is now exactly `objects` (for a follower that sees whole sets at a time).
    pub fn now_holds<'a>(&self, objects: impl IntoIterator<Item = &'a Listed>) {
        self.update(|state| {
            let mut present = BTreeSet::new();
            for object in objects {
                remember(&mut state.objects, object);
                present.insert(object.uid.clone());
            }
            state.objects.retain(|uid, _| present.contains(uid));
            state.listed = true;
            state.last_error = None;
        });
    }

    /// The watch failed; kept to explain a wait that cannot be confirmed.
    pub fn failed(&self, error: String) {
        self.update(|state| state.last_error = Some(error));
    }

    /// What the watch has not yet delivered of `listing`; `None` once it has delivered all of it.
    pub fn lag(&self, listing: &[Listed]) -> Option<Lag> {
        let state = self.state();
        if !state.listed {
            return Some(Lag::NeverListed);
        }
        for object in listing {
            let held = state.objects.get(&object.uid);
            if !held.is_some_and(|held| held.versions.contains(&object.resource_version)) {
                return Some(Lag::Behind {
                    name: object.name.clone(),
                    listed: object.resource_version.clone(),
                    delivered: held.and_then(|held| held.versions.back().cloned()),
                });
            }
        }
        let listed: BTreeSet<&str> = listing.iter().map(|o| o.uid.as_str()).collect();
        state
            .objects
            .iter()
            .find(|(uid, _)| !listed.contains(uid.as_str()))
            .map(|(_, held)| Lag::NotDeleted {
                name: held.name.clone(),
            })
    }

    /// Whether the watch has completed a list.
    pub fn has_listed(&self) -> bool {
        self.state().listed
    }

    fn last_error(&self) -> Option<String> {
        self.state().last_error.clone()
    }
}

fn remember(objects: &mut BTreeMap<String, Held>, object: &Listed) {
    let held = objects.entry(object.uid.clone()).or_default();
    held.name.clone_from(&object.name);
    if held.versions.back() != Some(&object.resource_version) {
        held.versions.push_back(object.resource_version.clone());
    }
    while held.versions.len() > REMEMBERED_VERSIONS {
        held.versions.pop_front();
    }
}

/// How a watch trails a list of the API server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lag {
    /// The watch has not completed its first list.
    NeverListed,
    /// The list shows `name` at `listed`; the watch delivered another version of it, or none.
    Behind {
        name: String,
        listed: String,
        delivered: Option<String>,
    },
    /// The watch still holds `name`, which the list no longer shows.
    NotDeleted { name: String },
}

impl fmt::Display for Lag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Lag::NeverListed => write!(f, "had not completed its first list"),
            Lag::Behind {
                name,
                listed,
                delivered: Some(delivered),
            } => write!(
                f,
                "had delivered {name} at resourceVersion {delivered:?}, not at {listed:?} as the \
                 API lists it"
            ),
            Lag::Behind {
                name,
                listed,
                delivered: None,
            } => write!(
                f,
                "had delivered nothing of {name}, which the API lists at resourceVersion {listed:?}"
            ),
            Lag::NotDeleted { name } => write!(
                f,
                "had not delivered the deletion of {name}, which the API no longer lists"
            ),
        }
    }
}

/// Why a watch could not be shown to have caught up.
#[derive(Debug)]
pub enum NotConfirmed {
    /// The API could not be listed to compare with.
    List(ApiError),
    /// The deadline came while the watch still trailed the last list.
    Lagging {
        lag: Lag,
        lists: u32,
        waited: Duration,
        last_error: Option<String>,
    },
}

impl NotConfirmed {
    /// One sentence about `watch` (e.g. "the recorder's watch of pods"), saying that petset, not
    /// the cluster, is the reason there is no verdict.
    pub fn describe(&self, watch: &str) -> String {
        match self {
            NotConfirmed::List(error) => format!(
                "petset could not confirm the evidence: it could not list the API to check that \
                 {watch} had caught up ({error})"
            ),
            NotConfirmed::Lagging {
                lag,
                lists,
                waited,
                last_error,
            } => {
                let mut text = format!(
                    "petset could not confirm the evidence: after {:.1}s and {lists} fresh \
                     list{} of the API, {watch} still {lag}",
                    waited.as_secs_f64(),
                    if *lists == 1 { "" } else { "s" },
                );
                if let Some(error) = last_error {
                    text.push_str(&format!(" (its last error: {error})"));
                }
                text
            }
        }
    }
}

/// Waits until `delivered` holds everything a fresh list shows, listing again now and then (a
/// watch already ahead of one list matches a later one); at most until `deadline`.
pub async fn wait_until_delivered<F, Fut>(
    delivered: &Delivered,
    mut list: F,
    deadline: Instant,
) -> Result<(), NotConfirmed>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Vec<Listed>, ApiError>>,
{
    let started = Instant::now();
    let mut changes = delivered.changed.subscribe();
    let mut round = FIRST_ROUND;
    let mut lists = 0u32;
    loop {
        let listing = list().await.map_err(NotConfirmed::List)?;
        lists += 1;
        let round_end = (Instant::now() + round).min(deadline);
        let lag = loop {
            changes.borrow_and_update();
            let Some(lag) = delivered.lag(&listing) else {
                return Ok(());
            };
            // The sender lives in `delivered`, which outlives this wait: only the time runs out.
            if tokio::time::timeout_at(round_end, changes.changed())
                .await
                .is_err()
            {
                break lag;
            }
        };
        if Instant::now() >= deadline {
            return Err(NotConfirmed::Lagging {
                lag,
                lists,
                waited: started.elapsed(),
                last_error: delivered.last_error(),
            });
        }
        round = (round * 2).min(LONGEST_ROUND);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(uid: &str, rv: &str) -> Listed {
        Listed {
            uid: uid.to_owned(),
            name: format!("pod/{uid}"),
            resource_version: rv.to_owned(),
        }
    }

    #[test]
    fn a_watch_vouches_for_nothing_before_its_first_list() {
        let delivered = Delivered::default();
        assert_eq!(delivered.lag(&[]), Some(Lag::NeverListed));
        delivered.relisted(&BTreeSet::new());
        assert_eq!(delivered.lag(&[]), None);
    }

    #[test]
    fn versions_are_compared_for_equality_only() {
        let delivered = Delivered::default();
        delivered.relisted(&BTreeSet::new());
        // Opaque versions: "9" is not "older" than "10", and nothing is parsed.
        delivered.saw(&object("a", "opaque-10"));
        assert_eq!(
            delivered.lag(&[object("a", "opaque-9")]),
            Some(Lag::Behind {
                name: "pod/a".into(),
                listed: "opaque-9".into(),
                delivered: Some("opaque-10".into()),
            })
        );
        delivered.saw(&object("a", "opaque-9"));
        assert_eq!(delivered.lag(&[object("a", "opaque-9")]), None);
        // A watch that moved on past the listed version still delivered it.
        delivered.saw(&object("a", "x"));
        assert_eq!(delivered.lag(&[object("a", "opaque-9")]), None);
    }

    #[test]
    fn an_object_the_list_no_longer_shows_must_be_delivered_as_deleted() {
        let delivered = Delivered::default();
        delivered.now_holds(&[object("a", "1"), object("b", "2")]);
        assert_eq!(
            delivered.lag(&[object("b", "2")]),
            Some(Lag::NotDeleted {
                name: "pod/a".into()
            })
        );
        delivered.gone("a");
        assert_eq!(delivered.lag(&[object("b", "2")]), None);
        assert_eq!(
            delivered.lag(&[object("b", "2"), object("c", "3")]),
            Some(Lag::Behind {
                name: "pod/c".into(),
                listed: "3".into(),
                delivered: None,
            })
        );
    }

    #[tokio::test]
    async fn the_wait_ends_when_the_watch_delivers_what_was_listed() {
        let delivered = Delivered::default();
        delivered.relisted(&BTreeSet::new());
        let late = delivered.clone();
        let deliver = tokio::spawn(async move { late.saw(&object("a", "5")) });
        let deadline = Instant::now() + Duration::from_secs(30);
        let waited = wait_until_delivered(
            &delivered,
            || async { Ok(vec![object("a", "5")]) },
            deadline,
        )
        .await;
        assert!(waited.is_ok(), "{waited:?}");
        assert!(deliver.await.is_ok());
    }

    #[tokio::test]
    async fn the_wait_reports_the_lag_at_its_deadline() {
        let delivered = Delivered::default();
        delivered.relisted(&BTreeSet::new());
        delivered.failed("watch: 503".into());
        let deadline = Instant::now() + Duration::from_millis(150);
        let waited = wait_until_delivered(
            &delivered,
            || async { Ok(vec![object("a", "5")]) },
            deadline,
        )
        .await;
        let Err(not_confirmed) = waited else {
            panic!("nothing was delivered, yet the wait ended well");
        };
        let text = not_confirmed.describe("the recorder's watch of pods");
        assert!(
            text.starts_with("petset could not confirm the evidence: after "),
            "{text}"
        );
        assert!(
            text.ends_with(
                "the recorder's watch of pods still had delivered nothing of pod/a, which the \
                 API lists at resourceVersion \"5\" (its last error: watch: 503)"
            ),
            "{text}"
        );
    }
}
