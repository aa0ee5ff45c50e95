//! The test-facing [`Handle`]: direct reads and writes of the store (to play a controller),
//! reactions to API writes, controllers, and fault injection.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use tokio::task::AbortHandle;

use crate::events::{Origin, Verb, WriteEvent};
use crate::exec::{ExecHandler, ExecOutput, ExecRequest, ExecStdin};
use crate::faults::{Faults, Lasting, RequestFilter, Transient};
use crate::meta;
use crate::patch::{self, PatchType};
use crate::resources::{self, ResourceId};
use crate::selectors::{FieldSelector, LabelSelector};
use crate::status::ApiError;
use crate::store::{DeleteOpts, Part, Store, WriteCtx};
use crate::subprotocol::PortForwardRefusal;

type Reaction = Arc<dyn Fn(&Handle, &WriteEvent) + Send + Sync>;

/// State shared by the HTTP side and every [`Handle`].
pub(crate) struct Shared {
    pub(crate) store: Mutex<Store>,
    pub(crate) faults: Mutex<Faults>,
    reactions: Mutex<Vec<Reaction>>,
    /// Bumped to end every open watch stream.
    pub(crate) cut_watches: watch::Sender<u64>,
    /// Set once the server shuts down; long-running streams end on it.
    pub(crate) shutdown: watch::Sender<bool>,
    pub(crate) bookmark_interval: Mutex<Duration>,
    /// The shortest time the server keeps a watch without `timeoutSeconds` open.
    pub(crate) watch_request_timeout: Mutex<Duration>,
    /// Wakes the deletion controllers ([`crate::controllers`]) after a write.
    pub(crate) deletions: tokio::sync::Notify,
    tasks: Mutex<Vec<AbortHandle>>,
    exec: Mutex<HashMap<PodKey, ExecHandler>>,
    logs: Mutex<HashMap<PodKey, String>>,
    forwards: Mutex<HashMap<(String, String, u16), SocketAddr>>,
    /// The Kubernetes minor version whose exec/port-forward subprotocols the fake accepts.
    stream_minor: Mutex<u32>,
}

/// (namespace, pod, container); `None` covers every container of the pod.
type PodKey = (String, String, Option<String>);

/// A stand-in for a cluster controller, run on its own task by [`Handle::spawn_controller`].
///
/// It sees every committed write (from API clients and from the handle, its own included) in
/// resourceVersion order, one at a time, and acts through the handle it is given. Awaiting in
/// `on_event` (say, a simulated start-up delay) holds back the events after it; spawn a task
/// for work that should overlap.
pub trait Controller: Send + 'static {
    /// Handles one write.
    fn on_event(&mut self, cluster: &Handle, event: WriteEvent) -> impl Future<Output = ()> + Send;
}

/// A cheap, cloneable handle on a running fake's state.
#[derive(Clone)]
pub struct Handle {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle")
            .field("resource_version", &self.resource_version())
            .finish()
    }
}

impl Handle {
    /// The namespace and name of the pod a subresource request (log, exec, port-forward) names,
    /// or the 404 the API server answers when it does not exist.
    pub(crate) fn existing_object(
        &self,
        target: &crate::path::RequestTarget,
    ) -> Result<(String, String), crate::status::ApiError> {
        let name = target.name.clone().unwrap_or_default();
        let ns = target.ns_key().to_string();
        if lock(&self.shared.store)
            .get(target.res, &ns, &name)
            .is_none()
        {
            return Err(crate::status::ApiError::not_found(target.rt(), &name));
        }
        Ok((ns, name))
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn unknown_type(api_version: &str, kind: &str) -> ApiError {
    ApiError::new(
        404,
        "NotFound",
        format!("the fake serves no type {kind:?} in {api_version:?}"),
    )
}

impl Handle {
    pub(crate) fn new() -> Self {
        Self {
            shared: Arc::new(Shared {
                store: Mutex::new(Store::new()),
                faults: Mutex::new(Faults::default()),
                reactions: Mutex::new(Vec::new()),
                cut_watches: watch::channel(0).0,
                shutdown: watch::channel(false).0,
                bookmark_interval: Mutex::new(Duration::from_secs(1)),
                watch_request_timeout: Mutex::new(Duration::from_secs(1800)),
                deletions: tokio::sync::Notify::new(),
                tasks: Mutex::new(Vec::new()),
                exec: Mutex::new(HashMap::new()),
                logs: Mutex::new(HashMap::new()),
                forwards: Mutex::new(HashMap::new()),
                stream_minor: Mutex::new(crate::subprotocol::DEFAULT_MINOR),
            }),
        }
    }

    /// Runs `f` on the store, then the reactions to the API writes it made (outside the lock).
    pub(crate) fn write<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        let (out, events) = {
            let mut store = lock(&self.shared.store);
            let out = f(&mut store);
            (out, store.take_pending())
        };
        if !events.is_empty() {
            self.shared.deletions.notify_one();
        }
        let api_events: Vec<&WriteEvent> =
            events.iter().filter(|e| e.origin == Origin::Api).collect();
        if !api_events.is_empty() {
            let reactions = lock(&self.shared.reactions).clone();
            for e in api_events {
                for r in &reactions {
                    r(self, e);
                }
            }
        }
        out
    }

    pub(crate) fn faults(&self) -> MutexGuard<'_, Faults> {
        lock(&self.shared.faults)
    }

    fn resolve(api_version: &str, kind: &str) -> Result<ResourceId, ApiError> {
        resources::lookup(api_version, kind).ok_or_else(|| unknown_type(api_version, kind))
    }

    /// The current global resourceVersion: an opaque string (see the crate docs), usable to
    /// start a watch "from now".
    pub fn resource_version(&self) -> String {
        crate::version::encode(lock(&self.shared.store).write_count())
    }

    /// One object, by `apiVersion`, kind (or plural or short name), namespace and name.
    ///
    /// `handle.get("apps/v1", "StatefulSet", Some("ns"), "web")`
    pub fn get(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        let res = resources::lookup(api_version, kind)?;
        lock(&self.shared.store)
            .get(res, namespace.unwrap_or(""), name)
            .cloned()
    }

    /// All objects of a type, in one namespace (or all with `None`).
    ///
    /// `handle.list("v1", "pods", Some("ns"))`
    pub fn list(&self, api_version: &str, kind: &str, namespace: Option<&str>) -> Vec<Value> {
        self.list_selected(api_version, kind, namespace, "")
    }

    /// Objects of a type matching a label selector (`app=web,tier in (db)`); an unparsable
    /// selector selects nothing.
    pub fn list_selected(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        labels: &str,
    ) -> Vec<Value> {
        let (Some(res), Ok(sel)) = (
            resources::lookup(api_version, kind),
            LabelSelector::parse(labels),
        ) else {
            return Vec::new();
        };
        lock(&self.shared.store).list(res, namespace, &sel, &FieldSelector::default())
    }

    /// Creates an object; its type comes from `apiVersion`/`kind`, its namespace from
    /// `metadata.namespace` (default `default`). Status is kept as given.
    ///
    /// `handle.create(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-0", "namespace": "ns"}}))`
    pub fn create(&self, object: Value) -> Result<Value, ApiError> {
        let res = type_of(&object)?;
        self.write(|s| s.create(res, None, object, WriteCtx::handle(Verb::Create)))
    }

    /// Replaces a whole object (status included). A `metadata.resourceVersion`, if present,
    /// must be current.
    pub fn replace(&self, object: Value) -> Result<Value, ApiError> {
        let res = type_of(&object)?;
        let (ns, name) = (
            meta::namespace(&object).to_string(),
            meta::name(&object).to_string(),
        );
        self.write(|s| {
            s.update(
                res,
                &ns,
                &name,
                object,
                Part::Whole,
                WriteCtx::handle(Verb::Update),
            )
        })
    }

    /// Applies a JSON merge patch to a whole object (status included).
    ///
    /// `handle.patch("apps/v1", "sts", Some("ns"), "web", json!({"status": {"readyReplicas": 2}}))`
    pub fn patch(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
        merge_patch: Value,
    ) -> Result<Value, ApiError> {
        let res = Self::resolve(api_version, kind)?;
        let ns = namespace.unwrap_or("");
        self.write(|s| {
            let mut doc = s
                .get(res, ns, name)
                .cloned()
                .ok_or_else(|| ApiError::not_found(resources::get(res), name))?;
            patch::apply_patch(&mut doc, PatchType::Merge, &merge_patch)?;
            s.update(
                res,
                ns,
                name,
                doc,
                Part::Whole,
                WriteCtx::handle(Verb::Patch),
            )
        })
    }

    /// Merges `status` into an object's status (a JSON merge patch of `status`).
    pub fn set_status(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
        status: Value,
    ) -> Result<Value, ApiError> {
        self.patch(
            api_version,
            kind,
            namespace,
            name,
            json!({ "status": status }),
        )
    }

    /// Deletes an object as the API would: a pod on a node gets its grace period, finalizers
    /// defer the removal, dependents are collected, a namespace goes through Terminating.
    pub fn delete(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Value, ApiError> {
        let res = Self::resolve(api_version, kind)?;
        let ns = namespace.unwrap_or("");
        self.write(|s| {
            s.delete(
                res,
                ns,
                name,
                DeleteOpts::default(),
                WriteCtx::handle(Verb::Delete),
            )
        })
    }

    /// Deletes a pod with grace period 0, as its kubelet does once the containers have
    /// stopped (and as `kubectl delete --force --grace-period=0` does): it goes now unless
    /// finalizers hold it.
    pub fn delete_pod_now(&self, namespace: &str, name: &str) -> Result<Value, ApiError> {
        let opts = DeleteOpts {
            grace: Some(0),
            ..DeleteOpts::default()
        };
        self.write(|s| {
            s.delete(
                resources::PODS,
                namespace,
                name,
                opts,
                WriteCtx::handle(Verb::Delete),
            )
        })
    }

    /// How long one second of a pod's grace period lasts here (default 10 ms, so the default
    /// 30 s take 0.3 s); [`Duration::ZERO`] ends grace periods at the next pass.
    pub fn set_grace_second(&self, second: Duration) {
        self.write(|s| s.timing_mut().grace_second = second);
    }

    /// How long after its delete a namespace's controller starts deleting the content
    /// (default 100 ms).
    pub fn set_namespace_cleanup_delay(&self, delay: Duration) {
        self.write(|s| s.timing_mut().namespace_cleanup = delay);
    }

    /// Starts the deletion controllers' loop (once, at server start).
    pub(crate) fn start_controllers(&self) {
        let task = tokio::spawn(crate::controllers::run(self.clone()));
        self.track_task(task.abort_handle());
    }

    /// Marks a pod Running and Ready (or Running and not Ready), with a pod IP when given.
    ///
    /// `handle.set_pod_ready("ns", "web-0", true, Some("10.244.0.5"))`
    pub fn set_pod_ready(
        &self,
        namespace: &str,
        name: &str,
        ready: bool,
        pod_ip: Option<&str>,
    ) -> Result<Value, ApiError> {
        let flag = if ready { "True" } else { "False" };
        let now = meta::now_rfc3339();
        let mut status = json!({
            "phase": "Running",
            "conditions": [
                {"type": "Initialized", "status": "True", "lastTransitionTime": now},
                {"type": "ContainersReady", "status": flag, "lastTransitionTime": now},
                {"type": "Ready", "status": flag, "lastTransitionTime": now},
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
            ],
        });
        if let Some(ip) = pod_ip {
            status["podIP"] = json!(ip);
            status["podIPs"] = json!([{ "ip": ip }]);
        }
        self.set_status("v1", "Pod", Some(namespace), name, status)
    }

    /// Marks a PersistentVolumeClaim Bound to `volume_name`.
    pub fn bind_pvc(
        &self,
        namespace: &str,
        name: &str,
        volume_name: &str,
    ) -> Result<Value, ApiError> {
        self.patch(
            "v1",
            "PersistentVolumeClaim",
            Some(namespace),
            name,
            json!({
                "spec": {"volumeName": volume_name},
                "status": {"phase": "Bound", "accessModes": ["ReadWriteOnce"]},
            }),
        )
    }

    /// A stream of every committed write from now on (API and handle), in order.
    pub fn subscribe(&self) -> mpsc::UnboundedReceiver<WriteEvent> {
        lock(&self.shared.store).subscribe_writes()
    }

    /// Registers a reaction run synchronously after every write made by an API client, before
    /// the client gets its answer. Writes it makes through the handle do not trigger reactions.
    ///
    /// `handle.on_write(|h, e| if e.is("StatefulSet") && !e.removed { /* create pods */ })`
    pub fn on_write(&self, reaction: impl Fn(&Handle, &WriteEvent) + Send + Sync + 'static) {
        lock(&self.shared.reactions).push(Arc::new(reaction));
    }

    /// Runs a [`Controller`] on a task until the server shuts down.
    pub fn spawn_controller(&self, mut controller: impl Controller) {
        let mut events = self.subscribe();
        let handle = self.clone();
        let task = tokio::spawn(async move {
            while let Some(e) = events.recv().await {
                controller.on_event(&handle, e).await;
            }
        });
        lock(&self.shared.tasks).push(task.abort_handle());
    }

    /// Aborts `task` when the server stops.
    pub(crate) fn track_task(&self, task: AbortHandle) {
        lock(&self.shared.tasks).push(task);
    }

    /// Ends every open watch stream now (clients see the stream close and re-watch).
    pub fn cut_watches(&self) {
        self.shared.cut_watches.send_modify(|n| *n += 1);
    }

    /// Answers watch requests with a single 410 Gone `ERROR` event (what a too-old
    /// resourceVersion gets), for the next `n` watches or for a period.
    ///
    /// `handle.expire_watches(Lasting::Requests(1)); handle.cut_watches();`
    pub fn expire_watches(&self, lasting: Lasting) {
        self.faults().expire_watches(lasting);
    }

    /// Answers the next `n` watch requests with 410 Gone: `expire_watches(Lasting::Requests(n))`.
    pub fn expire_next_watches(&self, n: u32) {
        self.expire_watches(Lasting::Requests(n));
    }

    /// Fails matching requests with `code` (500, 503, 429, ...) as a `Status`.
    ///
    /// `handle.fail_requests(RequestFilter::any().verb(Verb::Get), 503, Lasting::Requests(2))`
    pub fn fail_requests(&self, filter: RequestFilter, code: u16, lasting: Lasting) {
        self.faults().add_failure(filter, code, lasting);
    }

    /// Answers matching requests with a transient error a loaded server gives (a lost-race
    /// 409, a throttling 429 with `Retry-After`, a dropped connection) instead of serving them.
    ///
    /// `handle.inject_transient(RequestFilter::any().verb(Verb::Patch), Transient::Conflict, Lasting::Requests(1))`
    pub fn inject_transient(&self, filter: RequestFilter, transient: Transient, lasting: Lasting) {
        self.faults().add_transient(filter, transient, lasting);
    }

    /// Delays answers to matching requests by `delay`.
    pub fn delay_requests(&self, filter: RequestFilter, delay: Duration, lasting: Lasting) {
        self.faults().add_delay(filter, delay, lasting);
    }

    /// Holds back the change events of watches on matching resources (`RequestFilter::any()` for
    /// all; the filter's verb, if set, must be `Watch`) for `delay` each, as a watch cache
    /// trailing the store does: live events and those replayed when a watch resumes from a
    /// resourceVersion (not the initial state a watch without one starts with). Events keep
    /// their order, and bookmarks never claim a resourceVersion whose event is still held back.
    /// Lists and gets are not delayed, so a list shows what a watch has not yet delivered. Lasts
    /// until [`Handle::clear_faults`]; applies to streams already open.
    ///
    /// `handle.delay_watch_events(RequestFilter::any().resource("pods"), Duration::from_secs(2))`
    pub fn delay_watch_events(&self, filter: RequestFilter, delay: Duration) {
        self.faults().delay_watch_events(filter, delay);
    }

    /// How far watches trail writes: each committed change reaches watches a random time in
    /// `[min, max]` after the write was answered (default 5 to 25 ms), in resourceVersion
    /// order, as a real API server's watch cache trails etcd (see `lag.rs`). Gets and lists are
    /// always current. `set_watch_lag(Duration::ZERO, Duration::ZERO)` delivers at once; only a
    /// test about lag-free ordering has reason to. Applies to changes committed from now on.
    pub fn set_watch_lag(&self, min: Duration, max: Duration) {
        let lag = crate::lag::WatchLag {
            min,
            max: max.max(min),
        };
        lock(&self.shared.store).set_watch_lag(lag);
    }

    /// Makes every port-forward fail its websocket upgrade as `refusal` says, until
    /// [`Self::clear_faults`]. Exec is left alone.
    ///
    /// `handle.refuse_port_forward(PortForwardRefusal::SubprotocolDropped)`
    pub fn refuse_port_forward(&self, refusal: PortForwardRefusal) {
        self.faults().refuse_port_forward(refusal);
    }

    /// Accepts exec and port-forward subprotocols as Kubernetes `1.<minor>` does (default 33):
    /// before 1.30 exec gets `v4.channel.k8s.io`, from 1.30 on `v5.channel.k8s.io`.
    pub fn set_stream_minor_version(&self, minor: u32) {
        *lock(&self.shared.stream_minor) = minor;
    }

    pub(crate) fn stream_minor_version(&self) -> u32 {
        *lock(&self.shared.stream_minor)
    }

    /// Removes every injected failure, delay, pending watch expiry and port-forward refusal.
    pub fn clear_faults(&self) {
        self.faults().clear();
    }

    /// How many requests with this verb on this plural resource were served.
    pub fn request_count(&self, verb: Verb, resource: &str) -> u64 {
        self.faults().count(verb, resource)
    }

    /// All request counters, by (verb, plural resource).
    pub fn request_counts(&self) -> BTreeMap<(Verb, String), u64> {
        self.faults().counts()
    }

    /// How many watch events are kept for resuming (default 1000); older resume points get 410.
    pub fn set_watch_history(&self, events: usize) {
        lock(&self.shared.store).set_history_limit(events);
    }

    /// How long the server keeps open a watch that names no `timeoutSeconds`: a random time
    /// between `min` and twice `min`, as the API server spreads such watches over
    /// `--min-request-timeout` (default 1800 s) so they do not all end together. A watch that
    /// names `timeoutSeconds` ends then instead.
    pub fn set_watch_request_timeout(&self, min: Duration) {
        *lock(&self.shared.watch_request_timeout) = min;
    }

    /// How often watches that allow bookmarks get one (default 1 s).
    pub fn set_bookmark_interval(&self, interval: Duration) {
        *lock(&self.shared.bookmark_interval) = interval;
    }

    /// Answers `exec` in a pod (in one container, or any with `None`) with `handler`.
    ///
    /// `handle.on_exec("ns", "web-0", None, |req| async move { ExecOutput::stdout(req.command.join(" ")) })`
    pub fn on_exec<F, Fut>(&self, namespace: &str, pod: &str, container: Option<&str>, handler: F)
    where
        F: Fn(ExecRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ExecOutput> + Send + 'static,
    {
        let handler = Arc::new(handler);
        self.on_exec_streaming(namespace, pod, container, move |mut req, stdin| {
            let handler = handler.clone();
            async move {
                req.stdin = stdin.read_to_end().await;
                handler(req).await
            }
        });
    }

    /// Like [`Handle::on_exec`], but the command starts at once and reads its stdin as it
    /// arrives, as a process under the kubelet does (`request.stdin` stays empty). It may end
    /// before its stdin does.
    pub fn on_exec_streaming<F, Fut>(
        &self,
        namespace: &str,
        pod: &str,
        container: Option<&str>,
        handler: F,
    ) where
        F: Fn(ExecRequest, ExecStdin) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ExecOutput> + Send + 'static,
    {
        let handler: ExecHandler = Arc::new(move |req, stdin| Box::pin(handler(req, stdin)));
        lock(&self.shared.exec).insert(pod_key(namespace, pod, container), handler);
    }

    pub(crate) fn exec_handler(
        &self,
        namespace: &str,
        pod: &str,
        container: Option<&str>,
    ) -> Option<ExecHandler> {
        let map = lock(&self.shared.exec);
        map.get(&pod_key(namespace, pod, container))
            .or_else(|| map.get(&pod_key(namespace, pod, None)))
            .cloned()
    }

    /// Relays port-forwards to `port` of a pod to new TCP connections to `target`.
    ///
    /// `handle.forward_port("ns", "mysql-0", 3306, mariadb_addr)`
    pub fn forward_port(&self, namespace: &str, pod: &str, port: u16, target: SocketAddr) {
        lock(&self.shared.forwards).insert((namespace.to_string(), pod.to_string(), port), target);
    }

    pub(crate) fn forward_target(
        &self,
        namespace: &str,
        pod: &str,
        port: u16,
    ) -> Option<SocketAddr> {
        lock(&self.shared.forwards)
            .get(&(namespace.to_string(), pod.to_string(), port))
            .copied()
    }

    /// Sets the text `pods/log` returns for a pod (one container, or any with `None`).
    pub fn set_pod_log(&self, namespace: &str, pod: &str, container: Option<&str>, text: &str) {
        lock(&self.shared.logs).insert(pod_key(namespace, pod, container), text.to_string());
    }

    pub(crate) fn pod_log(&self, namespace: &str, pod: &str, container: Option<&str>) -> String {
        let map = lock(&self.shared.logs);
        map.get(&pod_key(namespace, pod, container))
            .or_else(|| map.get(&pod_key(namespace, pod, None)))
            .cloned()
            .unwrap_or_default()
    }

    /// Stops streams and controller tasks; the server itself stops accepting separately.
    pub(crate) fn stop(&self) {
        self.shared.shutdown.send_replace(true);
        for t in lock(&self.shared.tasks).drain(..) {
            t.abort();
        }
    }
}

fn type_of(object: &Value) -> Result<ResourceId, ApiError> {
    let api_version = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    resources::lookup(api_version, kind).ok_or_else(|| unknown_type(api_version, kind))
}

fn pod_key(namespace: &str, pod: &str, container: Option<&str>) -> PodKey {
    (
        namespace.to_string(),
        pod.to_string(),
        container.map(str::to_string),
    )
}

/// Resolves once the server has been told to stop.
pub(crate) async fn stopped(mut shutdown: watch::Receiver<bool>) {
    // An error means the sender is gone, which also means the server is gone.
    let _ = shutdown.wait_for(|stopped| *stopped).await;
}
