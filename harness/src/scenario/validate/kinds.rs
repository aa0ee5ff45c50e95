//! The Kubernetes types a manifest may have, by `apiVersion` and `kind`.

use super::typed::{Findings, check};
use k8s_openapi::Resource;
use k8s_openapi::api::{apps, batch, core, networking, policy, rbac, storage};
use serde_json::Value;

/// One built-in kind: its `apiVersion`, `kind`, whether it lives in a namespace, and its check.
pub(crate) struct KnownKind {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub check: fn(&Value) -> Findings,
}

macro_rules! kinds {
    ($($ty:ty),* $(,)?) => {
        &[$(
            KnownKind {
                api_version: <$ty as Resource>::API_VERSION,
                kind: <$ty as Resource>::KIND,
                namespaced: <<$ty as Resource>::Scope as Scope>::NAMESPACED,
                check: check::<$ty>,
            },
        )*]
    };
}

/// Whether a k8s-openapi scope type means "lives in a namespace".
trait Scope {
    const NAMESPACED: bool;
}

impl Scope for k8s_openapi::NamespaceResourceScope {
    const NAMESPACED: bool = true;
}

impl Scope for k8s_openapi::ClusterResourceScope {
    const NAMESPACED: bool = false;
}

/// Every kind a scenario may apply.
pub(crate) const KNOWN_KINDS: &[KnownKind] = kinds![
    core::v1::Pod,
    core::v1::Service,
    core::v1::PersistentVolumeClaim,
    core::v1::PersistentVolume,
    core::v1::ConfigMap,
    core::v1::Secret,
    core::v1::ServiceAccount,
    core::v1::Endpoints,
    core::v1::Namespace,
    core::v1::ResourceQuota,
    core::v1::LimitRange,
    apps::v1::StatefulSet,
    apps::v1::Deployment,
    apps::v1::ReplicaSet,
    apps::v1::DaemonSet,
    batch::v1::Job,
    batch::v1::CronJob,
    policy::v1::PodDisruptionBudget,
    storage::v1::StorageClass,
    networking::v1::NetworkPolicy,
    rbac::v1::Role,
    rbac::v1::RoleBinding,
    rbac::v1::ClusterRole,
    rbac::v1::ClusterRoleBinding,
];

/// The kind with this `kind` name (exact spelling), whatever its `apiVersion`.
pub(crate) fn by_kind(kind: &str) -> Option<&'static KnownKind> {
    KNOWN_KINDS.iter().find(|known| known.kind == kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_scopes_and_versions() {
        let sts = by_kind("StatefulSet").expect("known");
        assert_eq!(sts.api_version, "apps/v1");
        assert!(sts.namespaced);
        assert!(!by_kind("PersistentVolume").expect("known").namespaced);
    }
}
