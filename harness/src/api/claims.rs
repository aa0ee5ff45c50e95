//! What keeps a deleted PersistentVolumeClaim: the `kubernetes.io/pvc-protection` finalizer,
//! which the pvc-protection controller removes only once no pod uses the claim ("Storage Object
//! in Use Protection" in the Kubernetes docs on persistent volumes). Naming those pods turns
//! "held by a finalizer" into something a reader can act on.

use super::{dynamic_api, with_retry};
use crate::scenario::model::Kind;
use kube::api::{DynamicObject, ListParams};
use serde_json::Value;
use tokio::time::Instant;

pub(crate) const PVC_PROTECTION: &str = "kubernetes.io/pvc-protection";

/// Whether `object` is a claim the pvc-protection finalizer still holds.
pub(crate) fn held_by_protection(kind: Kind, object: &DynamicObject) -> bool {
    kind == Kind::PersistentVolumeClaim
        && object
            .metadata
            .finalizers
            .as_ref()
            .is_some_and(|f| f.iter().any(|f| f == PVC_PROTECTION))
}

/// Whether `pod` mounts claim `claim`.
pub(crate) fn pod_uses_claim(pod: &DynamicObject, claim: &str) -> bool {
    pod.data
        .pointer("/spec/volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|volume| {
            volume
                .pointer("/persistentVolumeClaim/claimName")
                .and_then(Value::as_str)
                == Some(claim)
        })
}

/// `held by kubernetes.io/pvc-protection while pod/db-0 still uses it`, or `None` when no pod
/// (of those given) uses the claim.
pub(crate) fn protection_note<'a>(
    claim: &str,
    pods: impl IntoIterator<Item = &'a DynamicObject>,
) -> Option<String> {
    let users: Vec<String> = pods
        .into_iter()
        .filter(|pod| pod_uses_claim(pod, claim))
        .map(|pod| format!("pod/{}", pod.metadata.name.as_deref().unwrap_or("?")))
        .collect();
    if users.is_empty() {
        return None;
    }
    let verb = if users.len() == 1 { "uses" } else { "use" };
    Some(format!(
        "held by {PVC_PROTECTION} while {} still {verb} it",
        users.join(", ")
    ))
}

/// The pods of `namespace`, for [`protection_note`]; empty when they cannot be listed (the
/// note is an explanation, never the verdict).
pub(crate) async fn pods_of(
    client: &kube::Client,
    namespace: &str,
    deadline: Instant,
) -> Vec<DynamicObject> {
    let api = dynamic_api(client, Kind::Pod, namespace);
    let params = ListParams::default();
    with_retry("list pods", deadline, || api.list(&params))
        .await
        .map(|list| list.items)
        .unwrap_or_default()
}
