//! The Kubernetes kinds a scenario can name, spelled the ways kubectl accepts them.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

/// A kind petset knows how to act on. Scenario files may spell it as kubectl does:
/// `pod`, `pods`, `po`, `Pod`; `statefulset`, `sts`; `persistentvolumeclaim`, `pvc`; ...
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Pod,
    Service,
    Endpoints,
    EndpointSlice,
    PersistentVolumeClaim,
    PersistentVolume,
    StatefulSet,
    Deployment,
    ReplicaSet,
    ControllerRevision,
    ConfigMap,
    Secret,
    Node,
    Event,
    PodDisruptionBudget,
    StorageClass,
}

/// Every kind with its API group/version, kubectl spellings, and whether it is namespaced.
const KINDS: &[(Kind, &str, &str, &[&str], bool)] = &[
    (Kind::Pod, "v1", "Pod", &["pod", "pods", "po"], true),
    (
        Kind::Service,
        "v1",
        "Service",
        &["service", "services", "svc"],
        true,
    ),
    (
        Kind::Endpoints,
        "v1",
        "Endpoints",
        &["endpoints", "ep"],
        true,
    ),
    (
        Kind::EndpointSlice,
        "discovery.k8s.io/v1",
        "EndpointSlice",
        &["endpointslice", "endpointslices"],
        true,
    ),
    (
        Kind::PersistentVolumeClaim,
        "v1",
        "PersistentVolumeClaim",
        &["persistentvolumeclaim", "persistentvolumeclaims", "pvc"],
        true,
    ),
    (
        Kind::PersistentVolume,
        "v1",
        "PersistentVolume",
        &["persistentvolume", "persistentvolumes", "pv"],
        false,
    ),
    (
        Kind::StatefulSet,
        "apps/v1",
        "StatefulSet",
        &["statefulset", "statefulsets", "sts"],
        true,
    ),
    (
        Kind::Deployment,
        "apps/v1",
        "Deployment",
        &["deployment", "deployments", "deploy"],
        true,
    ),
    (
        Kind::ReplicaSet,
        "apps/v1",
        "ReplicaSet",
        &["replicaset", "replicasets", "rs"],
        true,
    ),
    (
        Kind::ControllerRevision,
        "apps/v1",
        "ControllerRevision",
        &["controllerrevision", "controllerrevisions"],
        true,
    ),
    (
        Kind::ConfigMap,
        "v1",
        "ConfigMap",
        &["configmap", "configmaps", "cm"],
        true,
    ),
    (Kind::Secret, "v1", "Secret", &["secret", "secrets"], true),
    (Kind::Node, "v1", "Node", &["node", "nodes", "no"], false),
    (Kind::Event, "v1", "Event", &["event", "events", "ev"], true),
    (
        Kind::PodDisruptionBudget,
        "policy/v1",
        "PodDisruptionBudget",
        &["poddisruptionbudget", "poddisruptionbudgets", "pdb"],
        true,
    ),
    (
        Kind::StorageClass,
        "storage.k8s.io/v1",
        "StorageClass",
        &["storageclass", "storageclasses", "sc"],
        false,
    ),
];

/// A kind name that matches nothing petset knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown kind `{0}` (use a kubectl name such as pod, svc, pvc, pv, sts, deploy, rs, node)")]
pub struct UnknownKind(pub String);

impl Kind {
    fn row(
        self,
    ) -> &'static (
        Kind,
        &'static str,
        &'static str,
        &'static [&'static str],
        bool,
    ) {
        // Every variant has a row; the table is checked by a unit test.
        KINDS.iter().find(|row| row.0 == self).unwrap_or(&KINDS[0])
    }

    /// The `apiVersion` of this kind, e.g. `apps/v1`.
    pub fn api_version(self) -> &'static str {
        self.row().1
    }

    /// The kind as the API spells it, e.g. `StatefulSet`.
    pub fn name(self) -> &'static str {
        self.row().2
    }

    /// The plural resource name, e.g. `statefulsets`.
    pub fn plural(self) -> &'static str {
        let spellings = self.row().3;
        // Endpoints is its own plural; its second spelling is the short name.
        if self == Kind::Endpoints {
            return spellings[0];
        }
        spellings.get(1).copied().unwrap_or(spellings[0])
    }

    /// Whether objects of this kind live in a namespace.
    pub fn namespaced(self) -> bool {
        self.row().4
    }

    /// Every spelling accepted in scenario files, for "did you mean" hints.
    pub fn all_spellings() -> impl Iterator<Item = &'static str> {
        KINDS.iter().flat_map(|row| row.3.iter().copied())
    }

    /// Every kind petset knows.
    pub fn all() -> impl Iterator<Item = Kind> {
        KINDS.iter().map(|row| row.0)
    }

    /// Looks a kind up by its API name (`StatefulSet`) as found in a manifest.
    pub fn from_api_kind(kind: &str) -> Option<Self> {
        KINDS.iter().find(|row| row.2 == kind).map(|row| row.0)
    }
}

impl FromStr for Kind {
    type Err = UnknownKind;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let lower = text.to_ascii_lowercase();
        KINDS
            .iter()
            .find(|row| row.3.contains(&lower.as_str()) || row.2.eq_ignore_ascii_case(text))
            .map(|row| row.0)
            .ok_or_else(|| UnknownKind(text.to_owned()))
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.row().3[0])
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for Kind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl JsonSchema for Kind {
    fn schema_name() -> Cow<'static, str> {
        "Kind".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let mut names: Vec<&str> = Kind::all_spellings().collect();
        names.extend(KINDS.iter().map(|row| row.2));
        // The enum gives editors completions; the pattern accepts every case, as the loader does.
        json_schema!({
            "type": "string",
            "anyOf": [
                { "enum": names },
                { "pattern": format!("^(?:{})$", Kind::schema_alternatives()) }
            ],
            "description": "A Kubernetes kind, spelled as kubectl accepts it (pod, svc, pvc, sts, ...)."
        })
    }
}

impl Kind {
    /// Every accepted spelling as a case-insensitive regex alternation, for JSON Schema patterns
    /// (which have no case-insensitive flag).
    pub(crate) fn schema_alternatives() -> String {
        let mut words: Vec<String> = Kind::all_spellings().map(str::to_owned).collect();
        words.extend(KINDS.iter().map(|row| row.2.to_ascii_lowercase()));
        words.sort();
        words.dedup();
        let any_case = |word: &str| -> String {
            word.chars()
                .map(|c| {
                    if c.is_ascii_alphabetic() {
                        format!("[{}{}]", c.to_ascii_lowercase(), c.to_ascii_uppercase())
                    } else {
                        c.to_string()
                    }
                })
                .collect()
        };
        words
            .iter()
            .map(|w| any_case(w))
            .collect::<Vec<_>>()
            .join("|")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_row_and_round_trips() {
        for row in KINDS {
            assert_eq!(row.0.row().0, row.0);
            assert_eq!(row.0.to_string().parse::<Kind>(), Ok(row.0));
        }
    }

    #[test]
    fn accepts_kubectl_spellings() {
        assert_eq!("sts".parse::<Kind>(), Ok(Kind::StatefulSet));
        assert_eq!("Pods".parse::<Kind>(), Ok(Kind::Pod));
        assert_eq!(
            "PersistentVolumeClaim".parse::<Kind>(),
            Ok(Kind::PersistentVolumeClaim)
        );
        assert_eq!(Kind::StatefulSet.plural(), "statefulsets");
        assert!("pood".parse::<Kind>().is_err());
    }
}
