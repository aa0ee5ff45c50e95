//! Watch streams: newline-delimited watch events, resume from a resourceVersion within the
//! bounded history (410 Gone as an `ERROR` event when too old), bookmarks, `timeoutSeconds`,
//! the streaming-list mode (`sendInitialEvents=true`), and events held back until the watch
//! cache has them (the default lag, see `lag.rs`) or longer by an injected delay
//! ([`Handle::delay_watch_events`]).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};
use tokio::time::{Instant, sleep_until};

use crate::handle::{Handle, lock};
use crate::path::{Params, RequestTarget};
use crate::resources::{self, ResourceId};
use crate::rest::selectors;
use crate::selectors::{FieldSelector, LabelSelector};
use crate::status::ApiError;
use crate::store::{EventReceiver, StoredEvent};

/// Which events one watch delivers.
struct Filter {
    res: ResourceId,
    ns: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
}

impl Filter {
    fn matches(&self, e: &StoredEvent) -> bool {
        e.res == self.res
            && self.ns.as_deref().is_none_or(|ns| e.ns == ns)
            && self.labels.matches(&e.object)
            && self.fields.matches(&e.object)
    }
}

/// Where the stream starts, decided under the store lock.
enum Start {
    /// Synthetic ADDED events for the current state, then live events.
    State(Vec<Value>, u64, EventReceiver),
    /// Retained history after the requested resourceVersion, then live events.
    Resume(Vec<Arc<StoredEvent>>, u64, EventReceiver),
    Gone(ApiError),
}

pub(crate) fn serve(
    h: &Handle,
    target: &RequestTarget,
    params: &Params,
) -> Result<Response, ApiError> {
    let (labels, fields) = selectors(params)?;
    let filter = Filter {
        res: target.res,
        ns: target.ns.clone(),
        labels,
        fields,
    };
    let bookmarks = params.flag("allowWatchBookmarks");
    let initial_events = params.flag("sendInitialEvents");
    let timeout = params
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .filter(|&t| t > 0);
    // Without timeoutSeconds the server picks a time in [min, 2 min) of its request timeout.
    let lasts = match timeout {
        Some(t) => Duration::from_secs(t),
        None => crate::meta::spread(*lock(&h.shared.watch_request_timeout)),
    };
    let deadline = Instant::now() + lasts;
    let rv: Option<u64> = match params.get("resourceVersion").unwrap_or("") {
        "" | "0" => None,
        v => Some(
            crate::version::decode(v)
                .ok_or_else(|| ApiError::bad_request(format!("invalid resource version {v:?}")))?,
        ),
    };
    let start = if h.faults().take_watch_expiry() {
        Start::Gone(ApiError::gone("too old resource version (injected fault)"))
    } else {
        let store = lock(&h.shared.store);
        let current = store.write_count();
        match (rv, initial_events) {
            (None, _) | (Some(_), true) => match store.watch_from(current) {
                Ok((_, rx)) => Start::State(
                    store.list(
                        filter.res,
                        filter.ns.as_deref(),
                        &filter.labels,
                        &filter.fields,
                    ),
                    current,
                    rx,
                ),
                Err(e) => Start::Gone(e),
            },
            (Some(rv), false) => match store.watch_from(rv) {
                Ok((backlog, rx)) => Start::Resume(backlog, current.max(rv), rx),
                Err(e) => Start::Gone(e),
            },
        }
    };

    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let stream = Stream {
        h: h.clone(),
        tx,
        filter,
        bookmarks,
    };
    tokio::spawn(stream.run(start, initial_events && bookmarks, deadline));
    let body = Body::from_stream(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
    }));
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

struct Stream {
    h: Handle,
    tx: mpsc::Sender<Bytes>,
    filter: Filter,
    bookmarks: bool,
}

impl Stream {
    async fn run(self, start: Start, mark_initial_end: bool, deadline: Instant) {
        // Events held back by an injected delay, in order, each with the time it is due.
        let mut held: VecDeque<(Instant, Arc<StoredEvent>)> = VecDeque::new();
        let (mut events, mut last_rv) = match start {
            Start::Gone(e) => {
                let _ = self.send("ERROR", e.to_status()).await;
                return;
            }
            Start::State(objects, rv, events) => {
                for o in objects {
                    if !self.send("ADDED", o).await {
                        return;
                    }
                }
                if mark_initial_end && !self.send("BOOKMARK", self.bookmark(rv, true)).await {
                    return;
                }
                (events, rv)
            }
            Start::Resume(backlog, rv, events) => {
                let mut backlog_sent = rv;
                for e in backlog {
                    if !self.accept(e, &mut held, &mut backlog_sent).await {
                        return;
                    }
                }
                // The stream stands at the resume point, or just before the first event held.
                let sent = held.front().map_or(rv, |(_, e)| e.rv.saturating_sub(1));
                (events, sent)
            }
        };
        let mut cut = self.h.shared.cut_watches.subscribe();
        let shutdown = crate::handle::stopped(self.h.shared.shutdown.subscribe());
        tokio::pin!(shutdown);
        let interval = *lock(&self.h.shared.bookmark_interval);
        let mut next_bookmark = Instant::now() + interval;
        loop {
            let next_due = held.front().map(|&(due, _)| due);
            tokio::select! {
                ev = events.recv() => match ev {
                    Ok(e) => {
                        if !self.accept(e, &mut held, &mut last_rv).await {
                            return;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let gone = ApiError::gone("the watch fell too far behind; too old resource version");
                        let _ = self.send("ERROR", gone.to_status()).await;
                        return;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = sleep_until(next_due.unwrap_or(deadline)), if next_due.is_some() => {
                    while let Some((due, _)) = held.front() && *due <= Instant::now() {
                        let Some((_, e)) = held.pop_front() else { break };
                        last_rv = e.rv;
                        if !self.deliver(&e).await {
                            return;
                        }
                    }
                }
                _ = sleep_until(next_bookmark), if self.bookmarks => {
                    next_bookmark = Instant::now() + interval;
                    if !self.send("BOOKMARK", self.bookmark(last_rv, false)).await {
                        return;
                    }
                }
                _ = cut.changed() => return,
                _ = &mut shutdown => return,
                _ = sleep_until(deadline) => return,
                _ = self.tx.closed() => return,
            }
        }
    }

    /// How long events of this watch's resource are held back now, if at all.
    fn delay(&self) -> Option<Duration> {
        self.h
            .faults()
            .watch_event_delay(resources::get(self.filter.res).plural)
    }

    /// Sends an event now (moving `sent` to its resourceVersion), or holds it back behind the
    /// ones already held until the watch cache has it (or an injected delay has passed); false
    /// once the client has gone. Every event queues behind the held ones, even those this watch
    /// filters out, so events keep their order and the resourceVersion a bookmark claims only
    /// advances past events actually sent.
    async fn accept(
        &self,
        e: Arc<StoredEvent>,
        held: &mut VecDeque<(Instant, Arc<StoredEvent>)>,
        sent: &mut u64,
    ) -> bool {
        let now = Instant::now();
        let due = match self.delay() {
            Some(delay) => e.visible_at.max(now + delay),
            None => e.visible_at,
        };
        if due <= now && held.is_empty() {
            *sent = e.rv;
            return self.deliver(&e).await;
        }
        held.push_back((due, e));
        true
    }

    /// Sends an event if this watch selects it; false once the client has gone.
    async fn deliver(&self, e: &StoredEvent) -> bool {
        !self.filter.matches(e) || self.send(e.kind.as_str(), e.object.clone()).await
    }

    fn bookmark(&self, rv: u64, initial_end: bool) -> Value {
        let rt = resources::get(self.filter.res);
        let mut meta = json!({"resourceVersion": crate::version::encode(rv)});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        json!({"kind": rt.kind, "apiVersion": rt.api_version(), "metadata": meta})
    }

    /// Sends one event line; false once the client has gone.
    async fn send(&self, kind: &str, object: Value) -> bool {
        let mut line = json!({"type": kind, "object": object})
            .to_string()
            .into_bytes();
        line.push(b'\n');
        self.tx.send(Bytes::from(line)).await.is_ok()
    }
}
