//! The pods' file stores: one per container filesystem (by pod UID, fresh on every container
//! restart) and one per claim (by claim UID), so data on a volume outlives the pod that wrote it
//! and a new claim starts empty.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::objects::{arr, s, uid};
use crate::handle::Handle;

/// Which store a path lives in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum StoreKey {
    Container(String),
    Volume(String),
}

#[derive(Debug, Default)]
pub(crate) struct Files {
    stores: HashMap<StoreKey, BTreeMap<String, String>>,
}

impl Files {
    pub(crate) fn read(&self, key: &StoreKey, path: &str) -> Option<String> {
        self.stores.get(key).and_then(|m| m.get(path)).cloned()
    }

    pub(crate) fn exists(&self, key: &StoreKey, path: &str) -> bool {
        self.stores.get(key).is_some_and(|m| m.contains_key(path))
    }

    pub(crate) fn write(&mut self, key: &StoreKey, path: &str, text: &str, append: bool) {
        let file = self
            .stores
            .entry(key.clone())
            .or_default()
            .entry(path.to_string())
            .or_default();
        if !append {
            file.clear();
        }
        file.push_str(text);
    }

    pub(crate) fn remove(&mut self, key: &StoreKey, path: &str) -> Option<String> {
        self.stores.get_mut(key).and_then(|m| m.remove(path))
    }

    /// Forgets a container filesystem (the container restarted or the pod is gone).
    pub(crate) fn drop_store(&mut self, key: &StoreKey) {
        self.stores.remove(key);
    }
}

/// Where `path`, as a container of `pod` sees it, is kept: the claim mounted over it, or the
/// container filesystem.
pub(crate) fn locate(handle: &Handle, pod: &Value, path: &str) -> (StoreKey, String) {
    let namespace = s(pod, "/metadata/namespace");
    let mut best: Option<(&str, &str)> = None;
    for group in ["/spec/initContainers", "/spec/containers"] {
        for c in arr(pod, group) {
            for m in arr(c, "/volumeMounts") {
                let mount = s(m, "/mountPath").trim_end_matches('/');
                let under = path == mount || path.starts_with(&format!("{mount}/"));
                if under && best.is_none_or(|(b, _)| mount.len() > b.len()) {
                    best = Some((mount, s(m, "/name")));
                }
            }
        }
    }
    if let Some((mount, volume)) = best {
        let claim = arr(pod, "/spec/volumes")
            .iter()
            .find(|v| s(v, "/name") == volume)
            .map(|v| s(v, "/persistentVolumeClaim/claimName"))
            .unwrap_or("");
        if !claim.is_empty()
            && let Some(pvc) = handle.get("v1", "PersistentVolumeClaim", Some(namespace), claim)
        {
            let rel = path[mount.len()..].to_string();
            return (StoreKey::Volume(uid(&pvc).to_string()), rel);
        }
    }
    (StoreKey::Container(uid(pod).to_string()), path.to_string())
}
