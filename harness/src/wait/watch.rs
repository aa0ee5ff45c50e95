//! Waiting for a condition on live objects by following a watch, never by sleeping.
//!
//! A wait keeps the set of objects it is about up to date from a `kube::runtime` watcher and
//! checks the condition after every change, so it returns as soon as the event that satisfies it
//! arrives. A cut watch stream is resumed by the watcher; a `410 Gone` (or a watch that cannot be
//! resumed) starts a fresh list-then-watch; transient API errors are retried with backoff. All of
//! it runs under the caller's deadline, and a wait that runs out of time hands back the last state
//! it observed.

use super::Verdict;
use crate::api::{Backoff, describe_kube_error, dynamic_api, is_transient, render_objects};
use crate::events::FailureKind;
use crate::scenario::model::Target;
use futures::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::runtime::watcher::{self, Event};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::time::Instant;

/// What a wait watches: objects of one resource, one by name or a label-selected set.
#[derive(Clone)]
pub struct Watched {
    pub api: Api<DynamicObject>,
    pub name: Option<String>,
    pub selector: Option<String>,
}

impl Watched {
    /// Watches what `target` names (name and selector already substituted) in `namespace`.
    pub fn new(client: &kube::Client, namespace: &str, target: &Target) -> Self {
        Self::from_api(
            dynamic_api(client, target.kind, namespace),
            target.name.clone(),
            target.selector.clone(),
        )
    }

    /// Watches any resource (e.g. namespaces, which no scenario names) through `api`.
    pub fn from_api(
        api: Api<DynamicObject>,
        name: Option<String>,
        selector: Option<String>,
    ) -> Self {
        Self {
            api,
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
    mut check: impl FnMut(&[DynamicObject]) -> Verdict,
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

/// How the wait treats a watcher error.
enum ErrorKind {
    /// The watch lost its place: start again from a fresh list.
    Gone,
    /// Retry after a pause.
    Transient,
    /// Retrying cannot help (e.g. the kind is not served, access is forbidden).
    Fatal,
}

fn classify(error: &watcher::Error) -> ErrorKind {
    match error {
        watcher::Error::InitialListFailed(e) | watcher::Error::WatchStartFailed(e) => {
            if matches!(e, kube::Error::Api(status) if status.code == 410) {
                ErrorKind::Gone
            } else if is_transient(e) {
                ErrorKind::Transient
            } else {
                ErrorKind::Fatal
            }
        }
        watcher::Error::WatchError(status) if status.code == 410 => ErrorKind::Gone,
        watcher::Error::WatchError(status) if status.code == 403 || status.code == 404 => {
            ErrorKind::Fatal
        }
        // A broken stream, an odd event or a missing resourceVersion: the watcher recovers.
        _ => ErrorKind::Transient,
    }
}

fn describe(error: &watcher::Error) -> String {
    match error {
        watcher::Error::InitialListFailed(e) => format!("list: {}", describe_kube_error(e)),
        watcher::Error::WatchStartFailed(e) => format!("watch: {}", describe_kube_error(e)),
        watcher::Error::WatchFailed(e) => format!("watch stream: {}", describe_kube_error(e)),
        watcher::Error::WatchError(status) => {
            format!(
                "watch event: {} {}: {}",
                status.code, status.reason, status.message
            )
        }
        watcher::Error::NoResourceVersion => "watch: no resourceVersion".to_owned(),
    }
}

/// Returns `Ok(true)` when the condition is met, `Ok(false)` when it cannot be, `Err` on a fatal
/// API error. Never returns otherwise; the caller's deadline ends it.
async fn follow(
    watched: &Watched,
    deadline: Instant,
    observation: &mut Observation,
    check: &mut impl FnMut(&[DynamicObject]) -> Verdict,
) -> Result<bool, String> {
    let mut backoff = Backoff::default();
    let mut starts = 0u32;
    loop {
        starts += 1;
        if starts > 1 {
            observation.relists += 1;
        }
        let mut stream = watcher::watcher(watched.api.clone(), watched.config()).boxed();
        let mut current: BTreeMap<String, DynamicObject> = BTreeMap::new();
        let mut listing: Option<BTreeMap<String, DynamicObject>> = None;
        let mut inits = 0u32;
        while let Some(event) = stream.next().await {
            let changed = match event {
                Ok(Event::Init) => {
                    inits += 1;
                    if inits > 1 {
                        observation.relists += 1;
                    }
                    listing = Some(BTreeMap::new());
                    false
                }
                Ok(Event::InitApply(object)) => {
                    if watched.wants(&object)
                        && let Some(listing) = listing.as_mut()
                    {
                        listing.insert(key(&object), object);
                    }
                    false
                }
                Ok(Event::InitDone) => {
                    current = listing.take().unwrap_or_default();
                    observation.listed = true;
                    true
                }
                Ok(Event::Apply(object)) => {
                    if watched.wants(&object) {
                        current.insert(key(&object), object);
                    }
                    true
                }
                Ok(Event::Delete(object)) => {
                    current.remove(&key(&object));
                    true
                }
                Err(error) => {
                    observation.errors += 1;
                    observation.last_error = Some(describe(&error));
                    match classify(&error) {
                        ErrorKind::Gone => break,
                        ErrorKind::Fatal => return Err(describe(&error)),
                        ErrorKind::Transient => {
                            backoff.pause(deadline).await;
                            continue;
                        }
                    }
                }
            };
            backoff = Backoff::default();
            if changed && observation.listed {
                let objects: Vec<DynamicObject> = current.values().cloned().collect();
                let verdict = check(&objects);
                observation.objects = objects;
                match verdict {
                    Verdict::Met(reason) => {
                        observation.reason = reason;
                        return Ok(true);
                    }
                    Verdict::NotYet(reason) => observation.reason = reason,
                    Verdict::Impossible(reason) => {
                        observation.reason = reason;
                        return Ok(false);
                    }
                }
            }
        }
        // The stream ended or lost its place: start over from a fresh list, after a pause so a
        // server that keeps answering 410 is not hammered.
        backoff.pause(deadline).await;
    }
}

fn key(object: &DynamicObject) -> String {
    object.metadata.name.clone().unwrap_or_default()
}
