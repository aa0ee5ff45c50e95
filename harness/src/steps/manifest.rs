//! Turning a manifest from a fixture file or a scenario into what petset applies: variables
//! substituted, forced into the scenario's namespace, and labelled as petset's.

use crate::scenario::model::Kind;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The label that ties a cluster-scoped object (a PV, a StorageClass) to the scenario namespace
/// that created it, so cleanup can find it.
pub const OWNER_NAMESPACE_LABEL: &str = "petset.dev/namespace";

/// A manifest ready to apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub kind: Kind,
    pub name: String,
    pub body: Value,
}

/// Splits a YAML text into its documents, skipping empty ones, reading numbers as kubectl does
/// (the same reading `petset lint` checks).
pub fn parse_documents(text: &str) -> Result<Vec<Value>, String> {
    crate::scenario::read_manifests(text).map_err(|error| error.to_string())
}

/// Checks a manifest names a kind petset knows and an object name, forces namespaced objects
/// into `namespace`, and adds `labels` to it, to its pod template and to its claim templates
/// (so that the pods and claims its controller creates carry them too).
pub fn prepare(
    mut body: Value,
    namespace: &str,
    labels: &BTreeMap<String, String>,
) -> Result<Prepared, String> {
    let Some(map) = body.as_object_mut() else {
        return Err("a manifest must be a map with apiVersion, kind and metadata".to_owned());
    };
    let api_kind = map
        .get("kind")
        .and_then(Value::as_str)
        .ok_or("the manifest has no `kind`")?
        .to_owned();
    let kind = Kind::from_api_kind(&api_kind).ok_or_else(|| {
        format!("petset does not apply objects of kind `{api_kind}` (it knows the kinds scenarios can name: pods, services, claims, workloads, config maps, secrets, PDBs, PVs, storage classes)")
    })?;
    if kind == Kind::Node {
        return Err("a scenario must not create or change Node objects".to_owned());
    }
    let api_version = map.get("apiVersion").and_then(Value::as_str);
    if api_version != Some(kind.api_version()) {
        return Err(format!(
            "{api_kind} needs `apiVersion: {}` (found {})",
            kind.api_version(),
            api_version.map_or("none".to_owned(), |v| format!("`{v}`"))
        ));
    }
    let metadata = map
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(metadata) = metadata.as_object_mut() else {
        return Err("`metadata` must be a map".to_owned());
    };
    let name = metadata
        .get("name")
        .and_then(Value::as_str)
        .filter(|name| !name.is_empty())
        .ok_or_else(|| format!("the {api_kind} has no `metadata.name`"))?
        .to_owned();
    let mut all_labels = labels.clone();
    if kind.namespaced() {
        metadata.insert("namespace".to_owned(), Value::String(namespace.to_owned()));
    } else {
        metadata.remove("namespace");
        all_labels.insert(OWNER_NAMESPACE_LABEL.to_owned(), namespace.to_owned());
    }
    add_labels(metadata, &all_labels);
    if matches!(
        kind,
        Kind::StatefulSet | Kind::Deployment | Kind::ReplicaSet
    ) && let Some(spec) = map.get_mut("spec").and_then(Value::as_object_mut)
    {
        if let Some(template) = spec.get_mut("template").and_then(Value::as_object_mut) {
            let metadata = template
                .entry("metadata")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(metadata) = metadata.as_object_mut() {
                add_labels(metadata, labels);
            }
        }
        if let Some(claims) = spec
            .get_mut("volumeClaimTemplates")
            .and_then(Value::as_array_mut)
        {
            for claim in claims.iter_mut().filter_map(Value::as_object_mut) {
                let metadata = claim
                    .entry("metadata")
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Some(metadata) = metadata.as_object_mut() {
                    add_labels(metadata, labels);
                }
            }
        }
    }
    Ok(Prepared { kind, name, body })
}

/// Adds labels without overriding ones the manifest sets itself.
fn add_labels(metadata: &mut Map<String, Value>, labels: &BTreeMap<String, String>) {
    if labels.is_empty() {
        return;
    }
    let entry = metadata
        .entry("labels")
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    if let Some(existing) = entry.as_object_mut() {
        for (key, value) in labels {
            existing
                .entry(key.clone())
                .or_insert_with(|| Value::String(value.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels() -> BTreeMap<String, String> {
        BTreeMap::from([(
            "app.kubernetes.io/managed-by".to_owned(),
            "petset".to_owned(),
        )])
    }

    #[test]
    fn forces_the_namespace_and_labels_templates() {
        let manifest = json!({
            "apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
            "spec": {
                "template": {"metadata": {"labels": {"app": "web"}}},
                "volumeClaimTemplates": [{"metadata": {"name": "www"}}]
            }
        });
        let prepared = prepare(manifest, "petset-sts-x", &labels()).expect("valid");
        assert_eq!(prepared.kind, Kind::StatefulSet);
        assert_eq!(prepared.name, "web");
        let body = &prepared.body;
        assert_eq!(body["metadata"]["namespace"], "petset-sts-x");
        assert_eq!(body["metadata"]["labels"]["app"], "web");
        assert_eq!(
            body["metadata"]["labels"]["app.kubernetes.io/managed-by"],
            "petset"
        );
        assert_eq!(
            body["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/managed-by"],
            "petset"
        );
        assert_eq!(
            body["spec"]["volumeClaimTemplates"][0]["metadata"]["labels"]["app.kubernetes.io/managed-by"],
            "petset"
        );
    }

    #[test]
    fn cluster_scoped_objects_are_tied_to_the_namespace() {
        let pv =
            json!({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv1"}});
        let prepared = prepare(pv, "petset-a", &labels()).expect("valid");
        assert!(prepared.body["metadata"].get("namespace").is_none());
        assert_eq!(
            prepared.body["metadata"]["labels"][OWNER_NAMESPACE_LABEL],
            "petset-a"
        );
    }

    #[test]
    fn rejects_what_it_cannot_apply() {
        let no_name = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {}});
        assert!(prepare(no_name, "ns", &labels()).is_err_and(|e| e.contains("metadata.name")));
        let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"}});
        assert!(prepare(job, "ns", &labels()).is_err_and(|e| e.contains("`Job`")));
        let wrong = json!({"apiVersion": "v1", "kind": "StatefulSet", "metadata": {"name": "w"}});
        assert!(prepare(wrong, "ns", &labels()).is_err_and(|e| e.contains("apps/v1")));
        let node = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"}});
        assert!(prepare(node, "ns", &labels()).is_err());
    }

    #[test]
    fn splits_multi_document_files() {
        let docs = parse_documents("a: 1\n---\n---\nb: 2\n").expect("valid YAML");
        assert_eq!(docs, vec![json!({"a": 1}), json!({"b": 2})]);
    }
}
