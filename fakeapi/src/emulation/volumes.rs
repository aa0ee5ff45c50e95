//! The volume provisioner: every pending claim gets a new PersistentVolume (reclaim policy
//! Delete) and is bound to it; a volume whose claim is gone is deleted, or Released when its
//! policy is Retain.

use serde_json::json;

use super::config::Fault;
use super::objects::{create_missing, deleting, name, s, uid};
use super::state::Shared;
use crate::handle::Handle;

/// The class of every volume the provisioner makes, and the cluster's default class.
const CLASS: &str = "standard";

/// Creates the default StorageClass the provisioner serves, if missing, so a capability probe
/// finds dynamic provisioning as on a cluster.
pub(crate) fn ensure_class(h: &Handle) {
    create_missing(
        h,
        json!({
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {
                "name": CLASS,
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            },
            "provisioner": "emulated.petset.dev/volumes",
            "reclaimPolicy": "Delete",
            "volumeBindingMode": "Immediate",
        }),
    );
}

pub(crate) fn reconcile(shared: &Shared) {
    let h = &shared.handle;
    for pvc in h.list("v1", "PersistentVolumeClaim", None) {
        if deleting(&pvc) || s(&pvc, "/status/phase") == "Bound" {
            continue;
        }
        let ns = s(&pvc, "/metadata/namespace");
        let volume = format!("pvc-{}", uid(&pvc));
        let storage = pvc
            .pointer("/spec/resources/requests/storage")
            .cloned()
            .unwrap_or(json!("1Gi"));
        if h.get("v1", "PersistentVolume", None, &volume).is_none() {
            let _ = h.create(json!({
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": {"name": volume},
                "spec": {
                    "capacity": {"storage": storage},
                    "accessModes": pvc.pointer("/spec/accessModes").cloned().unwrap_or(json!(["ReadWriteOnce"])),
                    "persistentVolumeReclaimPolicy": "Delete",
                    "storageClassName": CLASS,
                    "claimRef": {"kind": "PersistentVolumeClaim", "apiVersion": "v1", "namespace": ns, "name": name(&pvc), "uid": uid(&pvc)},
                },
                "status": {"phase": "Bound"},
            }));
        }
        let _ = h.patch(
            "v1",
            "PersistentVolumeClaim",
            Some(ns),
            name(&pvc),
            json!({
                "spec": {"volumeName": volume, "storageClassName": CLASS},
                "status": {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": storage}},
            }),
        );
    }
    for pv in h.list("v1", "PersistentVolume", None) {
        let claim_ns = s(&pv, "/spec/claimRef/namespace");
        let claim = s(&pv, "/spec/claimRef/name");
        if claim.is_empty() || deleting(&pv) {
            continue;
        }
        let present = h
            .get("v1", "PersistentVolumeClaim", Some(claim_ns), claim)
            .is_some_and(|c| uid(&c) == s(&pv, "/spec/claimRef/uid"));
        if present {
            continue;
        }
        if s(&pv, "/spec/persistentVolumeReclaimPolicy") == "Retain"
            && !shared.config.has(Fault::RetainIgnored)
        {
            if s(&pv, "/status/phase") != "Released" {
                let _ = h.set_status(
                    "v1",
                    "PersistentVolume",
                    None,
                    name(&pv),
                    json!({"phase": "Released"}),
                );
            }
        } else {
            // Released first: pv-protection holds a Bound volume.
            let released = json!({"phase": "Released"});
            let _ = h.set_status("v1", "PersistentVolume", None, name(&pv), released);
            let _ = h.delete("v1", "PersistentVolume", None, name(&pv));
        }
    }
}
