//! The store's side of graceful deletion (rules in [`crate::deletion`]): pods kept through their
//! grace period, namespaces marked Terminating and removed once empty, and the passes that stand
//! in for the kubelet's last delete, the pvc- and pv-protection controllers and the namespace
//! controller.

use serde_json::{Value, json};
use tokio::time::Instant;

use super::{DeleteOpts, EventType, ObjKey, Store, WriteCtx, key, mark_deleting};
use crate::defaults;
use crate::deletion::{
    self, NAMESPACE_FINALIZER, PV_PROTECTION, PVC_PROTECTION, Remaining, Timing,
};
use crate::events::Verb;
use crate::meta;
use crate::resources::{self, ResourceId};

impl Store {
    /// Marks a namespace Terminating; its controller deletes the content and the `kubernetes`
    /// finalizer later, and the namespace goes when nothing holds it.
    pub(super) fn delete_namespace(&mut self, name: &str, ctx: WriteCtx) -> Value {
        let res = resources::NAMESPACES;
        let k = key(res, "", name);
        if let Some(old) = self.objects.get(&k).filter(|o| !meta::is_deleting(o)) {
            let mut marked = old.clone();
            mark_deleting(&mut marked);
            defaults::set_path(&mut marked, "/status/phase", json!("Terminating"));
            self.commit(k.clone(), marked, EventType::Modified, ctx);
            let due = tokio::time::Instant::now() + self.timing.namespace_cleanup;
            self.terminating.insert(name.to_string(), due);
        }
        // The namespace controller deletes the content later (see `reconcile_deletions`).
        self.reap_namespace(name, ctx);
        self.objects.get(&k).cloned().unwrap_or_else(|| json!({}))
    }

    /// Removes a Terminating namespace once it is empty and has no finalizers.
    pub(super) fn reap_namespace(&mut self, name: &str, ctx: WriteCtx) {
        let res = resources::NAMESPACES;
        let k = key(res, "", name);
        let Some(ns) = self.objects.get(&k) else {
            return;
        };
        let spec_finalizers = ns
            .pointer("/spec/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty());
        let empty = !self.objects.keys().any(|k| k.ns == name);
        if meta::is_deleting(ns) && !meta::has_finalizers(ns) && !spec_finalizers && empty {
            let last = ns.clone();
            self.commit(k, last, EventType::Deleted, ctx);
        }
    }

    pub(crate) fn timing_mut(&mut self) -> &mut Timing {
        &mut self.timing
    }

    /// Deletes a pod with `grace` seconds to go. `None` when the plain rules apply (no grace
    /// period and none running).
    pub(super) fn delete_gracefully(
        &mut self,
        k: &ObjKey,
        grace: i64,
        ctx: WriteCtx,
    ) -> Option<Value> {
        let old = self.objects.get(k)?;
        let deleting = meta::is_deleting(old);
        let pending = deletion::pending_grace(old);
        if grace == 0 {
            if !deleting || pending == 0 {
                return None;
            }
            // The kubelet's last delete (or a forced one) ends the grace period now.
            self.graceful.remove(k);
            let mut done = old.clone();
            meta::metadata_mut(&mut done).insert("deletionGracePeriodSeconds".into(), json!(0));
            return Some(self.finish(k.clone(), done, ctx));
        }
        if deleting && grace >= pending {
            // A later delete may shorten the grace period, never lengthen it.
            return Some(old.clone());
        }
        let mut marked = old.clone();
        deletion::mark(&mut marked, grace);
        let ends = Instant::now() + self.timing.grace_second * grace.unsigned_abs() as u32;
        self.graceful.insert(k.clone(), ends);
        Some(self.commit(k.clone(), marked, EventType::Modified, ctx))
    }

    /// Removes an object whose deletion may complete, or records what still holds it.
    fn finish(&mut self, k: ObjKey, obj: Value, ctx: WriteCtx) -> Value {
        if meta::has_finalizers(&obj) {
            return self.commit(k, obj, EventType::Modified, ctx);
        }
        let rt = resources::get(k.res);
        let ns = k.ns.clone();
        let out = self.commit(k, obj, EventType::Deleted, ctx);
        self.after_removal(rt, &ns, &out, DeleteOpts::default(), ctx);
        out
    }

    /// One pass of the deletion controllers at `now`; returns when the next one is due, if a
    /// timer is pending. Every write also calls for a pass (a pod going may free a claim).
    pub(crate) fn reconcile_deletions(&mut self, now: Instant) -> Option<Instant> {
        let ctx = WriteCtx::handle(Verb::Delete);
        self.end_grace_periods(now, ctx);
        self.release_protected(resources::PODS);
        self.clean_namespaces(now, ctx);
        self.graceful
            .values()
            .chain(self.terminating.values())
            .filter(|&&due| due > now)
            .min()
            .copied()
    }

    /// Plays the kubelet for pods whose grace period has run out: it deletes them with grace 0.
    fn end_grace_periods(&mut self, now: Instant, ctx: WriteCtx) {
        let ended: Vec<ObjKey> = self
            .graceful
            .iter()
            .filter(|&(_, &due)| due <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for k in ended {
            self.graceful.remove(&k);
            let _ = self.delete_gracefully(&k, 0, ctx);
        }
    }

    /// The pvc-protection and pv-protection controllers: a claim being deleted loses its
    /// finalizer once no pod uses it, a volume once it is no longer Bound.
    fn release_protected(&mut self, pods: ResourceId) {
        let ctx = WriteCtx::handle(Verb::Update);
        let mut free = Vec::new();
        for (k, obj) in &self.objects {
            if !meta::is_deleting(obj) {
                continue;
            }
            let rt = resources::get(k.res);
            match (rt.group, rt.kind) {
                ("", "PersistentVolumeClaim") if deletion::has_finalizer(obj, PVC_PROTECTION) => {
                    let used = self
                        .objects
                        .range(key(pods, &k.ns, "")..)
                        .take_while(|(p, _)| p.res == pods && p.ns == k.ns)
                        .any(|(_, pod)| deletion::pod_uses_claim(pod, &k.name));
                    if !used {
                        free.push((k.clone(), PVC_PROTECTION));
                    }
                }
                ("", "PersistentVolume") if deletion::has_finalizer(obj, PV_PROTECTION) => {
                    let bound =
                        obj.pointer("/status/phase").and_then(Value::as_str) == Some("Bound");
                    if !bound {
                        free.push((k.clone(), PV_PROTECTION));
                    }
                }
                _ => {}
            }
        }
        for (k, finalizer) in free {
            if let Some(mut obj) = self.objects.get(&k).cloned()
                && deletion::drop_finalizer(&mut obj, finalizer)
            {
                self.finish(k, obj, ctx);
            }
        }
    }

    /// The namespace controller: once a Terminating namespace's wait is over, delete its
    /// content, report what is left in its conditions, and drop the `kubernetes` finalizer
    /// when nothing is.
    fn clean_namespaces(&mut self, now: Instant, ctx: WriteCtx) {
        let nsres = resources::NAMESPACES;
        let names: Vec<(String, Instant)> = self
            .terminating
            .iter()
            .map(|(n, d)| (n.clone(), *d))
            .collect();
        for (name, due) in names {
            let nskey = key(nsres, "", &name);
            if !self.objects.contains_key(&nskey) {
                self.terminating.remove(&name);
                continue;
            }
            if due > now {
                continue;
            }
            let content: Vec<ObjKey> = self
                .objects
                .keys()
                .filter(|k| k.ns == name)
                .cloned()
                .collect();
            for c in content {
                let _ = self.delete(c.res, &c.ns, &c.name, DeleteOpts::default(), ctx);
            }
            let mut left = Remaining::default();
            for (k, obj) in self.objects.iter().filter(|(k, _)| k.ns == name) {
                left.add(resources::get(k.res).plural, obj);
            }
            let Some(mut ns) = self.objects.get(&nskey).cloned() else {
                continue;
            };
            let conditions =
                deletion::namespace_conditions(&left, ns.pointer("/status/conditions"));
            let mut changed = ns.pointer("/status/conditions") != Some(&conditions);
            defaults::set_path(&mut ns, "/status/conditions", conditions);
            if left.is_empty()
                && let Some(list) = ns
                    .pointer_mut("/spec/finalizers")
                    .and_then(Value::as_array_mut)
            {
                let before = list.len();
                list.retain(|f| f.as_str() != Some(NAMESPACE_FINALIZER));
                changed |= before != list.len();
            }
            if changed {
                self.commit(
                    nskey,
                    ns,
                    EventType::Modified,
                    WriteCtx::handle(Verb::Update),
                );
            }
            self.reap_namespace(&name, ctx);
        }
    }
}
