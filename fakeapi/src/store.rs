//! The object store: objects by type/namespace/name, one global resourceVersion, the bounded
//! watch history, and the write rules (conflicts, generation, finalizers, cascades).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

use crate::defaults;
use crate::deletion::{self, Timing};
use crate::events::{Origin, Verb, WriteEvent};
use crate::lag::WatchLag;
use crate::meta::{self, metadata_mut};
use crate::resources::{self, ResourceId, ResourceType};
use crate::selectors::{FieldSelector, LabelSelector};
use crate::status::ApiError;

/// Watch events kept for resuming watches; older resume points answer 410 Gone.
pub(crate) const DEFAULT_HISTORY: usize = 1000;
const BROADCAST_CAPACITY: usize = 4096;

/// Live watch events, in resourceVersion order.
pub(crate) type EventReceiver = broadcast::Receiver<Arc<StoredEvent>>;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ObjKey {
    pub res: ResourceId,
    /// Empty for cluster-scoped objects.
    pub ns: String,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One entry of the watch history.
#[derive(Debug)]
pub(crate) struct StoredEvent {
    pub rv: u64,
    pub kind: EventType,
    pub res: ResourceId,
    pub ns: String,
    pub object: Value,
    /// When the watch cache has it: watches send it no earlier (see `lag.rs`).
    pub visible_at: tokio::time::Instant,
}

/// Which part of an object an update may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    /// Everything but `status` (for types with a status subresource).
    Main,
    /// Only `status`.
    Status,
    /// Everything: writes made by the test through the handle.
    Whole,
}

/// Context of one write, carried into the events it produces.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WriteCtx {
    pub verb: Verb,
    pub origin: Origin,
    pub subresource: Option<&'static str>,
    /// `dryRun=All`: an update runs every check and answers what it would store, but stores
    /// nothing and publishes no event.
    pub dry_run: bool,
}

impl WriteCtx {
    pub(crate) fn api(verb: Verb) -> Self {
        Self {
            verb,
            origin: Origin::Api,
            subresource: None,
            dry_run: false,
        }
    }

    pub(crate) fn handle(verb: Verb) -> Self {
        Self {
            verb,
            origin: Origin::Handle,
            subresource: None,
            dry_run: false,
        }
    }

    pub(crate) fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    pub(crate) fn sub(mut self, subresource: &'static str) -> Self {
        self.subresource = Some(subresource);
        self
    }
}

/// Options of a delete.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct DeleteOpts {
    /// `propagationPolicy: Orphan`: leave dependents in place.
    pub orphan: bool,
    /// `gracePeriodSeconds`, when the request gives one.
    pub grace: Option<i64>,
}

#[derive(Debug)]
pub(crate) struct Store {
    rv: u64,
    objects: BTreeMap<ObjKey, Value>,
    history: VecDeque<Arc<StoredEvent>>,
    history_limit: usize,
    /// Highest resourceVersion whose event has left the history.
    compacted: u64,
    watch_tx: broadcast::Sender<Arc<StoredEvent>>,
    subscribers: Vec<mpsc::UnboundedSender<WriteEvent>>,
    /// Events of the current operation, for reactions run after the lock is released.
    pending: Vec<WriteEvent>,
    next_cluster_ip: u32,
    timing: Timing,
    /// How far watches trail the store.
    watch_lag: WatchLag,
    /// Pods in their grace period, with the time it ends.
    graceful: BTreeMap<ObjKey, tokio::time::Instant>,
    /// Terminating namespaces, with the time their controller starts on them.
    terminating: BTreeMap<String, tokio::time::Instant>,
}

#[path = "store_deletion.rs"]
mod store_deletion;

impl Store {
    pub(crate) fn new() -> Self {
        let (watch_tx, _) = broadcast::channel(BROADCAST_CAPACITY);
        let mut store = Self {
            rv: 0,
            objects: BTreeMap::new(),
            history: VecDeque::new(),
            history_limit: DEFAULT_HISTORY,
            compacted: 0,
            watch_tx,
            subscribers: Vec::new(),
            pending: Vec::new(),
            next_cluster_ip: 1,
            timing: Timing::default(),
            watch_lag: crate::lag::DEFAULT,
            graceful: BTreeMap::new(),
            terminating: BTreeMap::new(),
        };
        let ns = resources::NAMESPACES;
        for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            // Bootstrapping cannot collide: the store is empty.
            let _ = store.create(
                ns,
                None,
                json!({"metadata": {"name": name}}),
                WriteCtx::handle(Verb::Create),
            );
        }
        store.pending.clear();
        store
    }

    /// The count of writes so far (what the latest resourceVersion encodes).
    pub(crate) fn write_count(&self) -> u64 {
        self.rv
    }

    pub(crate) fn set_watch_lag(&mut self, lag: WatchLag) {
        self.watch_lag = lag;
    }

    pub(crate) fn set_history_limit(&mut self, limit: usize) {
        self.history_limit = limit.max(1);
        self.trim_history();
    }

    pub(crate) fn subscribe_writes(&mut self) -> mpsc::UnboundedReceiver<WriteEvent> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.subscribers.push(tx);
        rx
    }

    pub(crate) fn take_pending(&mut self) -> Vec<WriteEvent> {
        std::mem::take(&mut self.pending)
    }

    pub(crate) fn get(&self, res: ResourceId, ns: &str, name: &str) -> Option<&Value> {
        self.objects.get(&key(res, ns, name))
    }

    /// Objects of one type, in one namespace or all, that match the selectors.
    pub(crate) fn list(
        &self,
        res: ResourceId,
        ns: Option<&str>,
        labels: &LabelSelector,
        fields: &FieldSelector,
    ) -> Vec<Value> {
        self.objects
            .range(key(res, "", "")..)
            .take_while(|(k, _)| k.res == res)
            .filter(|(k, _)| ns.is_none_or(|ns| k.ns == ns))
            .filter(|(_, v)| labels.matches(v) && fields.matches(v))
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// History after `rv` plus a receiver for later events, taken atomically.
    /// `Err` when `rv` is older than the retained history.
    pub(crate) fn watch_from(
        &self,
        rv: u64,
    ) -> Result<(Vec<Arc<StoredEvent>>, EventReceiver), ApiError> {
        if rv < self.compacted {
            return Err(ApiError::gone(format!(
                "too old resource version: {} ({})",
                crate::version::encode(rv),
                crate::version::encode(self.compacted + 1)
            )));
        }
        let backlog = self.history.iter().filter(|e| e.rv > rv).cloned().collect();
        Ok((backlog, self.watch_tx.subscribe()))
    }

    /// Creates an object. `ns` is the request's namespace (None for cluster-scoped requests).
    pub(crate) fn create(
        &mut self,
        res: ResourceId,
        ns: Option<&str>,
        mut obj: Value,
        ctx: WriteCtx,
    ) -> Result<Value, ApiError> {
        let rt = resources::get(res);
        if !obj.is_object() {
            return Err(ApiError::bad_request(
                "the request body is not a JSON object",
            ));
        }
        let body_ns = meta::namespace(&obj).to_string();
        let ns = if rt.namespaced {
            match (ns, body_ns.as_str()) {
                (Some(req), b) if !b.is_empty() && b != req => {
                    return Err(ApiError::bad_request(
                        "the namespace of the provided object does not match the namespace sent on the request",
                    ));
                }
                (Some(req), _) => req.to_string(),
                (None, "") => "default".to_string(),
                (None, b) => b.to_string(),
            }
        } else {
            String::new()
        };
        self.check_namespace_open(rt, &ns)?;
        let mut name = meta::name(&obj).to_string();
        if name.is_empty() {
            let prefix = meta::meta_str(&obj, "generateName");
            if prefix.is_empty() {
                return Err(ApiError::invalid(
                    rt,
                    "",
                    "name or generateName is required",
                ));
            }
            name = format!("{prefix}{}", meta::name_suffix());
        }
        let k = key(res, &ns, &name);
        if self.objects.contains_key(&k) {
            return Err(ApiError::already_exists(rt, &name));
        }
        set_type(rt, &mut obj);
        if rt.status
            && ctx.origin == Origin::Api
            && let Some(m) = obj.as_object_mut()
        {
            m.remove("status");
        }
        let ip = &mut self.next_cluster_ip;
        defaults::on_create(rt, &mut obj, || {
            let n = *ip;
            *ip += 1;
            format!("10.96.{}.{}", (n >> 8) & 0xff, n & 0xff)
        });
        deletion::on_create(rt, &mut obj);
        let m = metadata_mut(&mut obj);
        m.insert("name".into(), json!(name));
        if rt.namespaced {
            m.insert("namespace".into(), json!(ns));
        } else {
            m.remove("namespace");
        }
        m.insert("uid".into(), json!(meta::new_uid()));
        m.insert("creationTimestamp".into(), json!(meta::now_rfc3339()));
        m.insert("generation".into(), json!(1));
        m.remove("deletionTimestamp");
        Ok(self.commit(k, obj, EventType::Added, ctx))
    }

    /// Replaces an object (or one part of it). A non-empty resourceVersion in `new` must match.
    pub(crate) fn update(
        &mut self,
        res: ResourceId,
        ns: &str,
        name: &str,
        mut new: Value,
        part: Part,
        ctx: WriteCtx,
    ) -> Result<Value, ApiError> {
        let rt = resources::get(res);
        let k = key(res, ns, name);
        let old = self.existing(&k)?;
        if !new.is_object() {
            return Err(ApiError::bad_request(
                "the request body is not a JSON object",
            ));
        }
        let new_name = meta::name(&new);
        if !new_name.is_empty() && new_name != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({new_name}) does not match the name on the URL ({name})"
            )));
        }
        let rv = meta::resource_version(&new);
        if !rv.is_empty() && rv != meta::resource_version(old) {
            return Err(ApiError::conflict(rt, name));
        }
        let part = if part == Part::Main && !rt.status {
            Part::Whole
        } else {
            part
        };
        let mut merged = match part {
            Part::Whole => new,
            Part::Main => {
                match old.get("status") {
                    Some(s) => meta::object_mut(&mut new).insert("status".into(), s.clone()),
                    None => meta::object_mut(&mut new).remove("status"),
                };
                new
            }
            Part::Status => {
                let mut o = old.clone();
                match new.get("status") {
                    Some(s) => meta::object_mut(&mut o).insert("status".into(), s.clone()),
                    None => meta::object_mut(&mut o).remove("status"),
                };
                o
            }
        };
        set_type(rt, &mut merged);
        // Identity and bookkeeping fields are the server's, whatever the body says.
        let old_meta = old.get("metadata").cloned().unwrap_or_default();
        let m = metadata_mut(&mut merged);
        for f in [
            "name",
            "namespace",
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "resourceVersion",
        ] {
            match old_meta.get(f) {
                Some(v) => m.insert(f.into(), v.clone()),
                None => m.remove(f),
            };
        }
        // An update that omits managedFields keeps them, as on the real server.
        if !m.contains_key("managedFields")
            && let Some(mf) = old_meta.get("managedFields")
        {
            m.insert("managedFields".into(), mf.clone());
        }
        let mut generation = old_meta
            .get("generation")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        if meta::spec_part(old) != meta::spec_part(&merged) {
            generation += 1;
        }
        metadata_mut(&mut merged).insert("generation".into(), json!(generation));
        if &merged == old || ctx.dry_run {
            return Ok(merged);
        }
        // The last finalizer gone from an object being deleted removes it, unless a pod's
        // grace period is still running (its end removes it then). A namespace goes only
        // through `reap_namespace`, once empty and its `spec.finalizers` are done too.
        if !rt.is_namespace()
            && meta::is_deleting(&merged)
            && !meta::has_finalizers(&merged)
            && deletion::pending_grace(&merged) == 0
        {
            let out = self.commit(k, merged, EventType::Deleted, ctx);
            self.after_removal(rt, ns, &out, DeleteOpts::default(), ctx);
            return Ok(out);
        }
        let out = self.commit(k, merged, EventType::Modified, ctx);
        if rt.is_namespace() {
            self.reap_namespace(name, ctx);
        }
        Ok(out)
    }

    /// The stored object at `k`, or the 404 the API server answers.
    fn existing(&self, k: &ObjKey) -> Result<&Value, ApiError> {
        self.objects
            .get(k)
            .ok_or_else(|| ApiError::not_found(resources::get(k.res), &k.name))
    }

    /// Deletes an object; one with finalizers only gets its deletionTimestamp.
    pub(crate) fn delete(
        &mut self,
        res: ResourceId,
        ns: &str,
        name: &str,
        opts: DeleteOpts,
        ctx: WriteCtx,
    ) -> Result<Value, ApiError> {
        let rt = resources::get(res);
        let k = key(res, ns, name);
        let old = self.existing(&k)?;
        if rt.is_namespace() {
            return Ok(self.delete_namespace(name, ctx));
        }
        if rt.group.is_empty() && rt.kind == "Pod" {
            let grace = deletion::pod_grace(old, opts.grace);
            if let Some(out) = self.delete_gracefully(&k, grace, ctx) {
                return Ok(out);
            }
        }
        let old = self.existing(&k)?;
        if meta::has_finalizers(old) {
            if meta::is_deleting(old) {
                return Ok(old.clone());
            }
            let mut marked = old.clone();
            mark_deleting(&mut marked);
            return Ok(self.commit(k, marked, EventType::Modified, ctx));
        }
        let last = old.clone();
        let out = self.commit(k, last, EventType::Deleted, ctx);
        self.after_removal(rt, ns, &out, opts, ctx);
        Ok(out)
    }

    /// Garbage-collects dependents of a removed object and finishes a namespace it emptied.
    fn after_removal(
        &mut self,
        rt: &ResourceType,
        ns: &str,
        removed: &Value,
        opts: DeleteOpts,
        ctx: WriteCtx,
    ) {
        let uid = meta::meta_str(removed, "uid").to_string();
        if !opts.orphan && !uid.is_empty() {
            let dependents: Vec<ObjKey> = self
                .objects
                .iter()
                .filter(|(_, v)| {
                    v.pointer("/metadata/ownerReferences")
                        .and_then(Value::as_array)
                        .is_some_and(|refs| {
                            refs.iter()
                                .any(|r| r.get("uid").and_then(Value::as_str) == Some(&uid))
                        })
                })
                .map(|(k, _)| k.clone())
                .collect();
            for d in dependents {
                let _ = self.delete(d.res, &d.ns, &d.name, DeleteOpts::default(), ctx);
            }
        }
        if rt.namespaced && !ns.is_empty() {
            self.reap_namespace(ns, ctx);
        }
    }

    fn check_namespace_open(&self, rt: &ResourceType, ns: &str) -> Result<(), ApiError> {
        if !rt.namespaced {
            return Ok(());
        }
        let nsres = resources::NAMESPACES;
        match self.objects.get(&key(nsres, "", ns)) {
            None => Err(ApiError::not_found(resources::get(nsres), ns)),
            Some(n) if meta::is_deleting(n) => Err(ApiError::new(
                403,
                "Forbidden",
                format!(
                    "{} is forbidden: unable to create new content in namespace {ns} because it is being terminated",
                    rt.plural
                ),
            )),
            Some(_) => Ok(()),
        }
    }

    /// Stores (or removes) an object under a new resourceVersion and publishes the event.
    /// `Deleted` removes the object; `object` is then its last state.
    fn commit(&mut self, k: ObjKey, mut object: Value, kind: EventType, ctx: WriteCtx) -> Value {
        self.rv += 1;
        let rv = self.rv;
        let removed = kind == EventType::Deleted;
        let shown = crate::version::encode(rv);
        metadata_mut(&mut object).insert("resourceVersion".into(), json!(shown));
        if removed {
            self.objects.remove(&k);
        } else {
            self.objects.insert(k.clone(), object.clone());
        }
        let event = Arc::new(StoredEvent {
            rv,
            kind,
            res: k.res,
            ns: k.ns.clone(),
            object: object.clone(),
            visible_at: self.watch_lag.visible_at(tokio::time::Instant::now()),
        });
        self.history.push_back(event.clone());
        self.trim_history();
        // No receivers is normal: nobody is watching.
        let _ = self.watch_tx.send(event);
        let rt = resources::get(k.res);
        let we = WriteEvent {
            verb: ctx.verb,
            origin: ctx.origin,
            subresource: ctx.subresource,
            api_version: rt.api_version(),
            kind: rt.kind,
            resource: rt.plural,
            namespace: rt.namespaced.then(|| k.ns.clone()),
            name: k.name,
            object: object.clone(),
            removed,
            resource_version: shown,
            sequence: rv,
        };
        self.subscribers.retain(|s| s.send(we.clone()).is_ok());
        self.pending.push(we);
        object
    }

    fn trim_history(&mut self) {
        while self.history.len() > self.history_limit {
            if let Some(e) = self.history.pop_front() {
                self.compacted = e.rv;
            }
        }
    }
}

fn key(res: ResourceId, ns: &str, name: &str) -> ObjKey {
    ObjKey {
        res,
        ns: ns.to_string(),
        name: name.to_string(),
    }
}

fn set_type(rt: &ResourceType, obj: &mut Value) {
    let m = meta::object_mut(obj);
    m.insert("apiVersion".into(), json!(rt.api_version()));
    m.insert("kind".into(), json!(rt.kind));
}

fn mark_deleting(obj: &mut Value) {
    let m = metadata_mut(obj);
    m.insert("deletionTimestamp".into(), json!(meta::now_rfc3339()));
    m.insert("deletionGracePeriodSeconds".into(), json!(0));
}
