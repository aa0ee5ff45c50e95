//! Waiting for a condition on live objects by following a watch, never by sleeping.
//!
//! A wait keeps the objects it is about in a `kube::runtime` reflector store fed by a watcher,
//! and checks the condition after every change, so it returns as soon as the event that
//! satisfies it arrives. The watcher resumes a cut stream and relists after `410 Gone`; the store
//! swaps in a relist only once it is complete. Transient API errors are paced by the retry policy
//! and counted as the step's retries. All of it runs under the caller's deadline, and a wait that
//! runs out of time hands back the last state it observed.

use super::WaitVerdict;
use crate::api::{
    Backoff, WatchTrouble, api_resource, describe_watch_error, dynamic_api, note_retry,
    render_objects, watch_trouble,
};
use crate::events::FailureKind;
use crate::scenario::model::ResolvedTarget;
use futures::StreamExt;
use futures::stream::BoxStream;
use kube::api::{Api, ApiResource, DynamicObject};
use kube::runtime::reflector::store::Writer;
use kube::runtime::reflector::{Store, reflector};
use kube::runtime::watcher::{self, Event};
use std::time::Duration;
use tokio::time::Instant;

/// What a wait watches: objects of one resource, one by name or a label-selected set.
#[derive(Clone)]
pub struct Watched {
    pub api: Api<DynamicObject>,
    /// What `api` serves, for the store's object references.
    pub resource: ApiResource,
    pub name: Option<String>,
    pub selector: Option<String>,
}

impl Watched {
    /// Watches what `target` names (name and selector already substituted) in `namespace`.
    pub fn new(client: &kube::Client, namespace: &str, target: &ResolvedTarget) -> Self {
        Self::from_api(
            dynamic_api(client, target.kind, namespace),
            api_resource(target.kind),
            target.name.clone(),
            target
                .selector
                .as_ref()
                .map(|selector| selector.as_str().to_owned()),
        )
    }

    /// Watches any resource (e.g. namespaces, which no scenario names) through `api`, which
    /// serves `resource`.
    pub fn from_api(
        api: Api<DynamicObject>,
        resource: ApiResource,
        name: Option<String>,
        selector: Option<String>,
    ) -> Self {
        Self {
            api,
            resource,
            name,
            selector,
        }
    }

    fn config(&self) -> watcher::Config {
        let mut config = watcher::Config::default();
        if let Some(selector) = &self.selector {
            config = config.labels(selector);
        }
        if let Some(name) = &self.name {
            config = config.fields(&format!("metadata.name={name}"));
        }
        config
    }

    fn wants(&self, object: &DynamicObject) -> bool {
        self.name
            .as_ref()
            .is_none_or(|name| object.metadata.name.as_ref() == Some(name))
    }
}

impl std::fmt::Debug for Watched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watched")
            .field("url", &self.api.resource_url())
            .field("name", &self.name)
            .field("selector", &self.selector)
            .finish_non_exhaustive()
    }
}

/// What a wait saw: the objects as last observed and how the condition stood.
#[derive(Debug, Clone, Default)]
pub struct Observation {
    /// The matching objects as last observed, sorted by name.
    pub objects: Vec<DynamicObject>,
    /// The condition's last account: what held, or what was still missing.
    pub reason: String,
    /// Whether a complete list was ever received (if not, `objects` says nothing).
    pub listed: bool,
    /// How many times the watch had to start over from a fresh list (410 Gone and the like).
    pub relists: u32,
    /// API errors seen and retried, with the last one.
    pub errors: u32,
    pub last_error: Option<String>,
    pub waited: Duration,
}

impl Observation {
    /// The last observed state as report text.
    pub fn render(&self) -> String {
        let mut text = if self.listed {
            render_objects(&self.objects)
        } else {
            "(no complete list was ever received)".to_owned()
        };
        if !self.reason.is_empty() {
            text = format!("{}\n{text}", self.reason);
        }
        if let Some(error) = &self.last_error {
            text.push_str(&format!(
                "\n({} API errors retried; last: {error})",
                self.errors
            ));
        }
        text
    }
}

/// Why a wait did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    #[error("timed out after {:.1}s: {}", .0.waited.as_secs_f64(), .0.reason)]
    TimedOut(Box<Observation>),
    #[error("the condition can no longer be met: {}", .0.reason)]
    Impossible(Box<Observation>),
    #[error("failed to watch: {error}")]
    Api {
        error: String,
        observation: Box<Observation>,
    },
}

impl WaitError {
    /// What kind of failure this makes: a wait that never got a complete list because the API
    /// kept failing, or whose watch failed for good, could not look at the cluster; any other
    /// wait that ended unmet is the scenario's verdict.
    pub fn failure_kind(&self) -> FailureKind {
        match self {
            WaitError::Api { .. } => FailureKind::Api,
            WaitError::TimedOut(observation) if !observation.listed && observation.errors > 0 => {
                FailureKind::Api
            }
            WaitError::TimedOut(_) | WaitError::Impossible(_) => FailureKind::Assertion,
        }
    }

    pub fn observation(&self) -> &Observation {
        match self {
            WaitError::TimedOut(observation) | WaitError::Impossible(observation) => observation,
            WaitError::Api { observation, .. } => observation,
        }
    }
}

/// Follows `watched` until `check` says the condition is met, it cannot be, or `deadline` passes.
///
/// `check` is called with the current matching objects (sorted by name) after the initial list and
/// after every change.
pub async fn wait_for(
    watched: &Watched,
    deadline: Instant,
    mut check: impl FnMut(&[DynamicObject]) -> WaitVerdict,
) -> Result<Observation, WaitError> {
    let started = Instant::now();
    let mut observation = Observation::default();
    let outcome = tokio::time::timeout_at(
        deadline,
        follow(watched, deadline, &mut observation, &mut check),
    )
    .await;
    observation.waited = started.elapsed();
    match outcome {
        Ok(Ok(true)) => Ok(observation),
        Ok(Ok(false)) => Err(WaitError::Impossible(Box::new(observation))),
        Ok(Err(error)) => Err(WaitError::Api {
            error,
            observation: Box::new(observation),
        }),
        Err(_) => {
            if observation.reason.is_empty() {
                observation.reason = "nothing was observed before the deadline".to_owned();
            }
            Err(WaitError::TimedOut(Box::new(observation)))
        }
    }
}

/// Returns `Ok(true)` when the condition is met, `Ok(false)` when it cannot be, `Err` on a fatal
/// API error. Never returns otherwise; the caller's deadline ends it.
async fn follow(
    watched: &Watched,
    deadline: Instant,
    observation: &mut Observation,
    check: &mut impl FnMut(&[DynamicObject]) -> WaitVerdict,
) -> Result<bool, String> {
    let mut backoff = Backoff::default();
    let (mut store, mut events) = reflect(watched);
    let mut lists = 0u32;
    while let Some(event) = events.next().await {
        match event {
            Ok(Event::Init) => {
                lists += 1;
                if lists > 1 {
                    observation.relists += 1;
                }
                continue;
            }
            // The store holds a relist's objects back until it is complete.
            Ok(Event::InitApply(_)) => continue,
            Ok(Event::InitDone) => observation.listed = true,
            Ok(Event::Apply(_) | Event::Delete(_)) => {}
            Err(error) => {
                observation.errors += 1;
                observation.last_error = Some(describe_watch_error(&error));
                match watch_trouble(&error) {
                    WatchTrouble::Fatal => return Err(describe_watch_error(&error)),
                    WatchTrouble::Retry(cause) => note_retry(cause),
                    WatchTrouble::Relist => {}
                    WatchTrouble::Restart => (store, events) = reflect(watched),
                }
                // Paced as API retries are, so a failing server is not hammered.
                backoff.pause_after_watch_error(&error, deadline).await;
                continue;
            }
        }
        backoff = Backoff::default();
        if !observation.listed {
            continue;
        }
        let objects = current(&store, watched);
        let verdict = check(&objects);
        observation.objects = objects;
        match verdict {
            WaitVerdict::Met(reason) => {
                observation.reason = reason;
                return Ok(true);
            }
            WaitVerdict::NotYet(reason) => observation.reason = reason,
            WaitVerdict::Impossible(reason) => {
                observation.reason = reason;
                return Ok(false);
            }
        }
    }
    Err("the watch ended".to_owned())
}

/// A watcher on `watched` feeding a fresh store: the store follows every event before the
/// stream yields it.
fn reflect(
    watched: &Watched,
) -> (
    Store<DynamicObject>,
    BoxStream<'static, Result<Event<DynamicObject>, watcher::Error>>,
) {
    let writer = Writer::new(watched.resource.clone());
    let store = writer.as_reader();
    let events = reflector(
        writer,
        watcher::watcher(watched.api.clone(), watched.config()),
    );
    (store, events.boxed())
}

/// The wanted objects in `store`, sorted by name.
fn current(store: &Store<DynamicObject>, watched: &Watched) -> Vec<DynamicObject> {
    let mut objects: Vec<DynamicObject> = store
        .state()
        .iter()
        .filter(|object| watched.wants(object))
        .map(|object| DynamicObject::clone(object))
        .collect();
    objects.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    objects
}
