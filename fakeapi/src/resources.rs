//! The fixed table of Kubernetes resource types the fake serves, and lookups into it.

/// Verbs of a plain resource whose objects are created by clients.
const RW: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// One served resource type (for example `apps/v1` `statefulsets`).
#[derive(Debug)]
pub(crate) struct ResourceType {
    /// API group; empty for the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    /// Whether `/status` is a separate subresource (status is then ignored on main writes).
    pub status: bool,
    /// Whether `/scale` is served (autoscaling/v1 Scale over `spec.replicas`).
    pub scale: bool,
}

impl ResourceType {
    /// The `apiVersion` string objects of this type carry.
    pub(crate) fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Whether this is the core `Pod` type (exec, log, port-forward, eviction).
    pub(crate) fn is_pod(&self) -> bool {
        self.group.is_empty() && self.plural == "pods"
    }

    pub(crate) fn is_namespace(&self) -> bool {
        self.group.is_empty() && self.plural == "namespaces"
    }

    pub(crate) fn verbs(&self) -> &'static [&'static str] {
        RW
    }
}

const fn rt(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    singular: &'static str,
    namespaced: bool,
    short_names: &'static [&'static str],
) -> ResourceType {
    ResourceType {
        group,
        version,
        kind,
        plural,
        singular,
        namespaced,
        short_names,
        status: false,
        scale: false,
    }
}

const fn with_status(mut r: ResourceType) -> ResourceType {
    r.status = true;
    r
}

const fn with_scale(mut r: ResourceType) -> ResourceType {
    r.status = true;
    r.scale = true;
    r
}

/// Every resource type the fake knows, in discovery order.
pub(crate) static RESOURCES: &[ResourceType] = &[
    with_status(rt(
        "",
        "v1",
        "Namespace",
        "namespaces",
        "namespace",
        false,
        &["ns"],
    )),
    with_status(rt("", "v1", "Pod", "pods", "pod", true, &["po"])),
    with_status(rt(
        "",
        "v1",
        "Service",
        "services",
        "service",
        true,
        &["svc"],
    )),
    rt(
        "",
        "v1",
        "Endpoints",
        "endpoints",
        "endpoints",
        true,
        &["ep"],
    ),
    with_status(rt(
        "",
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        "persistentvolumeclaim",
        true,
        &["pvc"],
    )),
    with_status(rt(
        "",
        "v1",
        "PersistentVolume",
        "persistentvolumes",
        "persistentvolume",
        false,
        &["pv"],
    )),
    rt(
        "",
        "v1",
        "ConfigMap",
        "configmaps",
        "configmap",
        true,
        &["cm"],
    ),
    rt("", "v1", "Secret", "secrets", "secret", true, &[]),
    rt("", "v1", "Event", "events", "event", true, &["ev"]),
    with_status(rt("", "v1", "Node", "nodes", "node", false, &["no"])),
    rt(
        "",
        "v1",
        "ServiceAccount",
        "serviceaccounts",
        "serviceaccount",
        true,
        &["sa"],
    ),
    with_scale(rt(
        "apps",
        "v1",
        "StatefulSet",
        "statefulsets",
        "statefulset",
        true,
        &["sts"],
    )),
    with_scale(rt(
        "apps",
        "v1",
        "Deployment",
        "deployments",
        "deployment",
        true,
        &["deploy"],
    )),
    with_scale(rt(
        "apps",
        "v1",
        "ReplicaSet",
        "replicasets",
        "replicaset",
        true,
        &["rs"],
    )),
    rt(
        "apps",
        "v1",
        "ControllerRevision",
        "controllerrevisions",
        "controllerrevision",
        true,
        &[],
    ),
    with_status(rt(
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        "poddisruptionbudget",
        true,
        &["pdb"],
    )),
    rt(
        "storage.k8s.io",
        "v1",
        "StorageClass",
        "storageclasses",
        "storageclass",
        false,
        &["sc"],
    ),
    rt(
        "discovery.k8s.io",
        "v1",
        "EndpointSlice",
        "endpointslices",
        "endpointslice",
        true,
        &[],
    ),
];

/// API groups served under `/apis`, each with its one version.
pub(crate) static GROUPS: &[(&str, &str)] = &[
    ("apps", "v1"),
    ("autoscaling", "v1"),
    ("policy", "v1"),
    ("storage.k8s.io", "v1"),
    ("discovery.k8s.io", "v1"),
];

/// Index of a resource type, used as a compact key in the store.
pub(crate) type ResourceId = usize;

/// Types the server itself refers to (namespace lifecycle, eviction), by their fixed index.
pub(crate) const NAMESPACES: ResourceId = 0;
pub(crate) const PODS: ResourceId = 1;
pub(crate) const PODDISRUPTIONBUDGETS: ResourceId = 15;

pub(crate) fn get(id: ResourceId) -> &'static ResourceType {
    &RESOURCES[id]
}

/// Finds the type served at `group/version` under the URL segment `plural`.
pub(crate) fn by_plural(group: &str, version: &str, plural: &str) -> Option<ResourceId> {
    RESOURCES
        .iter()
        .position(|r| r.group == group && r.version == version && r.plural == plural)
}

/// Finds a type by `apiVersion` and any of kind, plural, singular or short name
/// (case-insensitive), the way test code names types.
pub(crate) fn lookup(api_version: &str, name: &str) -> Option<ResourceId> {
    let (group, version) = split_api_version(api_version);
    let name = name.to_ascii_lowercase();
    RESOURCES.iter().position(|r| {
        r.group == group
            && r.version == version
            && (r.kind.eq_ignore_ascii_case(&name)
                || r.plural == name
                || r.singular == name
                || r.short_names.contains(&name.as_str()))
    })
}

/// Splits `apps/v1` into (`apps`, `v1`) and `v1` into (``, `v1`).
pub(crate) fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

/// Resource types of one group/version.
pub(crate) fn in_group_version<'a>(
    group: &'a str,
    version: &'a str,
) -> impl Iterator<Item = &'static ResourceType> + 'a {
    RESOURCES
        .iter()
        .filter(move |r| r.group == group && r.version == version)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn fixed_indexes_point_at_their_types() {
        assert_eq!(get(NAMESPACES).kind, "Namespace");
        assert_eq!(get(PODS).kind, "Pod");
        assert_eq!(get(PODDISRUPTIONBUDGETS).kind, "PodDisruptionBudget");
    }

    #[test]
    fn lookup_accepts_kind_plural_and_short_names() {
        let sts = by_plural("apps", "v1", "statefulsets");
        assert!(sts.is_some());
        assert_eq!(lookup("apps/v1", "StatefulSet"), sts);
        assert_eq!(lookup("apps/v1", "sts"), sts);
        assert_eq!(lookup("apps/v1", "statefulsets"), sts);
        assert_eq!(lookup("v1", "sts"), None);
        assert_eq!(
            lookup("v1", "pvc"),
            by_plural("", "v1", "persistentvolumeclaims")
        );
    }
}
