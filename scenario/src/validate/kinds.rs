//! The Kubernetes types a manifest may have: the kinds of the scenario model that petset applies,
//! each with its k8s-openapi type for the typed check.

use super::typed::Findings;
use crate::model::Kind;
use serde_json::Value;

/// The typed check of a kind petset applies; `None` for kinds a scenario must not create.
pub(crate) fn checker(kind: Kind) -> Option<fn(&Value) -> Findings> {
    // The executor refuses to create or change nodes.
    if kind == Kind::Node {
        return None;
    }
    super::typed::checker(kind.api_version(), kind.name())
}

/// The API names of every kind a manifest may have, for "did you mean".
pub(crate) fn applicable() -> impl Iterator<Item = &'static str> {
    Kind::all()
        .filter(|kind| checker(*kind).is_some())
        .map(Kind::name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::Resource;
    use k8s_openapi::api::{apps, core, discovery, policy, storage};

    #[test]
    fn every_typed_check_matches_the_kind_table() {
        // The model's apiVersion for each kind is the one k8s-openapi's type is served as.
        let versions = [
            (Kind::StatefulSet, apps::v1::StatefulSet::API_VERSION),
            (
                Kind::EndpointSlice,
                discovery::v1::EndpointSlice::API_VERSION,
            ),
            (
                Kind::PodDisruptionBudget,
                policy::v1::PodDisruptionBudget::API_VERSION,
            ),
            (Kind::StorageClass, storage::v1::StorageClass::API_VERSION),
            (Kind::Event, core::v1::Event::API_VERSION),
        ];
        for (kind, version) in versions {
            assert_eq!(kind.api_version(), version, "{kind}");
        }
        assert!(checker(Kind::Node).is_none());
        // Every other kind has its typed check.
        assert!(Kind::all().all(|kind| kind == Kind::Node || checker(kind).is_some()));
        assert!(applicable().any(|name| name == "StatefulSet"));
    }
}
