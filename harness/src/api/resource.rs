//! Maps petset's [`Kind`] to the `ApiResource` kube-rs needs for untyped access.

use crate::scenario::model::Kind;
use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject};

/// The group/version/kind/plural of `kind`, as kube-rs's dynamic API wants them.
pub fn api_resource(kind: Kind) -> ApiResource {
    let api_version = kind.api_version();
    let (group, version) = match api_version.split_once('/') {
        Some((group, version)) => (group, version),
        None => ("", api_version),
    };
    ApiResource {
        group: group.to_owned(),
        version: version.to_owned(),
        api_version: api_version.to_owned(),
        kind: kind.name().to_owned(),
        plural: kind.plural().to_owned(),
    }
}

/// An untyped API for `kind`: in `namespace` when the kind is namespaced, cluster-wide otherwise.
pub fn dynamic_api(client: &Client, kind: Kind, namespace: &str) -> Api<DynamicObject> {
    let resource = api_resource(kind);
    if kind.namespaced() {
        Api::namespaced_with(client.clone(), namespace, &resource)
    } else {
        Api::all_with(client.clone(), &resource)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_core_and_grouped_kinds() {
        let pod = api_resource(Kind::Pod);
        assert_eq!(
            (
                pod.group.as_str(),
                pod.version.as_str(),
                pod.plural.as_str()
            ),
            ("", "v1", "pods")
        );
        let sts = api_resource(Kind::StatefulSet);
        assert_eq!(
            (sts.group.as_str(), sts.version.as_str(), sts.kind.as_str()),
            ("apps", "v1", "StatefulSet")
        );
        let slice = api_resource(Kind::EndpointSlice);
        assert_eq!(slice.api_version, "discovery.k8s.io/v1");
        assert_eq!(api_resource(Kind::Endpoints).plural, "endpoints");
    }
}
