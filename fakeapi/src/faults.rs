//! Injected faults (failing, delaying and expiring requests, delaying watch events) and per-verb
//! request counters.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::time::Instant;

use crate::events::Verb;
use crate::resources::ResourceType;
use crate::status::ApiError;
use crate::subprotocol::PortForwardRefusal;
use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Which requests a fault applies to: any combination of verb and plural resource name.
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    verb: Option<Verb>,
    resource: Option<String>,
}

impl RequestFilter {
    /// Matches every request.
    pub fn any() -> Self {
        Self::default()
    }

    /// Only requests with this verb.
    pub fn verb(mut self, verb: Verb) -> Self {
        self.verb = Some(verb);
        self
    }

    /// Only requests for this plural resource name (`pods`, `statefulsets`, ...).
    pub fn resource(mut self, resource: &str) -> Self {
        self.resource = Some(resource.to_string());
        self
    }

    fn matches(&self, verb: Verb, resource: &str) -> bool {
        self.verb.is_none_or(|v| v == verb)
            && self.resource.as_deref().is_none_or(|r| r == resource)
    }
}

/// How long a fault stays in force.
#[derive(Debug, Clone, Copy)]
pub enum Lasting {
    /// For the next `n` matching requests.
    Requests(u32),
    /// For this long from now.
    For(Duration),
    /// Until [`crate::Handle::clear_faults`].
    Always,
}

#[derive(Debug)]
enum Left {
    Requests(u32),
    Until(Instant),
    Always,
}

impl Left {
    fn from(l: Lasting) -> Self {
        match l {
            Lasting::Requests(n) => Left::Requests(n),
            Lasting::For(d) => Left::Until(Instant::now() + d),
            Lasting::Always => Left::Always,
        }
    }

    /// Uses up one application of the fault; false when it has run out.
    fn take(&mut self) -> bool {
        match self {
            Left::Requests(0) => false,
            Left::Requests(n) => {
                *n -= 1;
                true
            }
            Left::Until(t) => Instant::now() < *t,
            Left::Always => true,
        }
    }

    fn spent(&self) -> bool {
        match self {
            Left::Requests(n) => *n == 0,
            Left::Until(t) => Instant::now() >= *t,
            Left::Always => false,
        }
    }
}

#[derive(Debug)]
struct Rule<T> {
    filter: RequestFilter,
    left: Left,
    what: T,
}

#[derive(Debug, Default)]
pub(crate) struct Faults {
    failures: Vec<Rule<u16>>,
    delays: Vec<Rule<Duration>>,
    expire_watches: Option<Left>,
    /// Watch events of matching resources are held back this long before they are sent.
    watch_event_delays: Vec<(RequestFilter, Duration)>,
    transients: Vec<Rule<Transient>>,
    counts: BTreeMap<(Verb, String), u64>,
    port_forward_refusal: Option<PortForwardRefusal>,
}

impl Faults {
    pub(crate) fn add_failure(&mut self, filter: RequestFilter, code: u16, lasting: Lasting) {
        self.failures.push(Rule {
            filter,
            left: Left::from(lasting),
            what: code,
        });
    }

    pub(crate) fn add_delay(&mut self, filter: RequestFilter, delay: Duration, lasting: Lasting) {
        self.delays.push(Rule {
            filter,
            left: Left::from(lasting),
            what: delay,
        });
    }

    pub(crate) fn expire_watches(&mut self, lasting: Lasting) {
        self.expire_watches = Some(Left::from(lasting));
    }

    pub(crate) fn delay_watch_events(&mut self, filter: RequestFilter, delay: Duration) {
        self.watch_event_delays.push((filter, delay));
    }

    pub(crate) fn clear(&mut self) {
        self.failures.clear();
        self.delays.clear();
        self.expire_watches = None;
        self.watch_event_delays.clear();
        self.transients.clear();
        self.port_forward_refusal = None;
    }

    pub(crate) fn refuse_port_forward(&mut self, refusal: PortForwardRefusal) {
        self.port_forward_refusal = Some(refusal);
    }

    pub(crate) fn port_forward_refusal(&self) -> Option<PortForwardRefusal> {
        self.port_forward_refusal
    }

    /// Counts a request and decides its fate: a delay to wait, then maybe an error to answer.
    pub(crate) fn on_request(
        &mut self,
        verb: Verb,
        resource: &str,
    ) -> (Option<Duration>, Option<ApiError>) {
        *self.counts.entry((verb, resource.to_string())).or_default() += 1;
        let delay = apply(&mut self.delays, verb, resource).copied();
        let error = apply(&mut self.failures, verb, resource).map(|&code| injected_error(code));
        (delay, error)
    }

    /// Whether this watch start must be answered with 410 Gone.
    pub(crate) fn take_watch_expiry(&mut self) -> bool {
        self.expire_watches.as_mut().is_some_and(Left::take)
    }

    /// How long a live watch event of `resource` is held back before it is sent (the first
    /// matching delay), if at all.
    pub(crate) fn watch_event_delay(&self, resource: &str) -> Option<Duration> {
        self.watch_event_delays
            .iter()
            .find(|(filter, _)| filter.matches(Verb::Watch, resource))
            .map(|&(_, delay)| delay)
    }

    pub(crate) fn count(&self, verb: Verb, resource: &str) -> u64 {
        self.counts
            .get(&(verb, resource.to_string()))
            .copied()
            .unwrap_or(0)
    }

    pub(crate) fn counts(&self) -> BTreeMap<(Verb, String), u64> {
        self.counts.clone()
    }
}

/// The first live matching rule's payload, using up one application of it.
fn apply<'a, T>(rules: &'a mut Vec<Rule<T>>, verb: Verb, resource: &str) -> Option<&'a T> {
    rules.retain(|r| !r.left.spent());
    rules
        .iter_mut()
        .find(|r| r.filter.matches(verb, resource) && !r.left.spent())
        .and_then(|r| r.left.take().then_some(&r.what))
}

fn injected_error(code: u16) -> ApiError {
    let reason = match code {
        429 => "TooManyRequests",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "InternalError",
    };
    ApiError::new(
        code,
        reason,
        format!("injected fault: the server answered {code}"),
    )
}

// Transient answers a loaded API server gives: what careful clients retry.

/// A transient answer, injected with [`crate::Handle::inject_transient`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transient {
    /// `409 Conflict`, as the apiserver answers a write that lost an optimistic-concurrency
    /// race ("the object has been modified; please apply your changes to the latest version and
    /// try again", `errors.NewConflict`); servers other than kube-apiserver answer even a forced
    /// server-side apply so under load. Nothing is written.
    Conflict,
    /// `429 Too Many Requests` as API Priority and Fairness rejects a request: a plain-text
    /// body and a `Retry-After` header in seconds (k8s.io/apiserver filters/maxinflight.go).
    Throttle { retry_after_seconds: u32 },
    /// The connection drops before the answer's body arrives.
    DropConnection,
}

impl Transient {
    /// The answer to send instead of serving the request.
    pub(crate) fn answer(self, rt: &ResourceType, name: &str) -> Response {
        match self {
            Transient::Conflict => ApiError::conflict(rt, name).into_response(),
            Transient::Throttle {
                retry_after_seconds,
            } => (
                StatusCode::TOO_MANY_REQUESTS,
                [
                    (header::RETRY_AFTER, retry_after_seconds.to_string()),
                    (header::CONTENT_TYPE, "text/plain; charset=utf-8".to_owned()),
                ],
                "Too many requests, please try again later.\n",
            )
                .into_response(),
            Transient::DropConnection => {
                // A body that fails: the server aborts the connection mid-answer.
                let broken = futures::stream::once(async {
                    Err::<Vec<u8>, _>(std::io::Error::other("connection dropped by fault"))
                });
                Response::new(Body::from_stream(broken))
            }
        }
    }
}

impl Faults {
    pub(crate) fn add_transient(
        &mut self,
        filter: RequestFilter,
        transient: Transient,
        lasting: Lasting,
    ) {
        self.transients.push(Rule {
            filter,
            left: Left::from(lasting),
            what: transient,
        });
    }

    /// The transient answer this request gets, if any (counted already by `on_request`).
    pub(crate) fn take_transient(&mut self, verb: Verb, resource: &str) -> Option<Transient> {
        apply(&mut self.transients, verb, resource).copied()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn request_counted_faults_run_out() {
        let mut f = Faults::default();
        f.add_failure(
            RequestFilter::any().verb(Verb::Get).resource("pods"),
            503,
            Lasting::Requests(2),
        );
        assert!(f.on_request(Verb::List, "pods").1.is_none());
        assert!(f.on_request(Verb::Get, "services").1.is_none());
        assert_eq!(f.on_request(Verb::Get, "pods").1.map(|e| e.code), Some(503));
        assert_eq!(f.on_request(Verb::Get, "pods").1.map(|e| e.code), Some(503));
        assert!(f.on_request(Verb::Get, "pods").1.is_none());
        assert_eq!(f.count(Verb::Get, "pods"), 3);
    }

    #[test]
    fn watch_expiries_run_out() {
        let mut f = Faults::default();
        assert!(!f.take_watch_expiry());
        f.expire_watches(Lasting::Requests(1));
        assert!(f.take_watch_expiry());
        assert!(!f.take_watch_expiry());
        f.expire_watches(Lasting::Always);
        assert!(f.take_watch_expiry() && f.take_watch_expiry());
    }

    #[test]
    fn watch_event_delays_match_by_resource_until_cleared() {
        let mut f = Faults::default();
        assert_eq!(f.watch_event_delay("pods"), None);
        f.delay_watch_events(
            RequestFilter::any().resource("pods"),
            Duration::from_millis(300),
        );
        assert_eq!(
            f.watch_event_delay("pods"),
            Some(Duration::from_millis(300))
        );
        assert_eq!(f.watch_event_delay("services"), None);
        f.clear();
        assert_eq!(f.watch_event_delay("pods"), None);
    }
}
