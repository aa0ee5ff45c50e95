//! Reading the shipped fixtures: every YAML document under `fixtures/`, checked against its
//! k8s-openapi type by a typed round trip, and the image references they use.
//!
//! k8s-openapi's types ignore fields they do not know (as the API server does by default), so a
//! misspelt field would vanish silently. Deserializing into the type and serializing back shows
//! it: whatever the original document holds that the round trip lost or changed is a field the
//! type does not have, or a value it does not accept as written.

// Each test binary uses a different subset of this shared module.
#![allow(dead_code)]

use k8s_openapi::api::{apps, core, policy};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};

/// Images the fixtures may use. Each was checked, when it was added, to be published for both
/// linux/amd64 and linux/arm64; a new image must be checked the same way before it joins.
pub const MULTI_ARCH_IMAGES: &[&str] = &[
    "registry.k8s.io/e2e-test-images/agnhost:2.53",
    "busybox:1.36.1",
    "busybox:1.37.0",
    "mariadb:11.4",
];

/// One YAML document of one fixture file.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The file, relative to `fixtures/`.
    pub file: String,
    /// The document's position in its file, from 0.
    pub index: usize,
    pub value: Value,
}

impl Manifest {
    pub fn kind(&self) -> &str {
        self.value["kind"].as_str().unwrap_or("")
    }

    pub fn name(&self) -> &str {
        self.value["metadata"]["name"].as_str().unwrap_or("")
    }

    /// `file#index kind/name`, for messages.
    pub fn label(&self) -> String {
        format!(
            "{}#{} {}/{}",
            self.file,
            self.index,
            self.kind(),
            self.name()
        )
    }
}

/// The repository's root (the parent of the `harness` crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

pub fn fixtures_dir() -> PathBuf {
    repo_root().join("fixtures")
}

/// Every `*.yaml`/`*.yml` file under `dir`, sorted, as paths relative to `dir`.
pub fn yaml_files(dir: &Path) -> Vec<String> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, base, out);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml")
            ) && let Ok(relative) = path.strip_prefix(base)
            {
                out.push(relative.to_string_lossy().into_owned());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Parses a (possibly multi-document) YAML text into its documents.
pub fn parse_documents(text: &str) -> Result<Vec<Value>, String> {
    serde_saphyr::from_multiple::<Value>(text)
        .map(|docs| docs.into_iter().filter(|d| !d.is_null()).collect())
        .map_err(|e| e.to_string())
}

/// Folders under `fixtures/` that hold no Kubernetes objects: `clusters/` has the kind and k3d
/// cluster definitions.
pub const NOT_MANIFESTS: &[&str] = &["clusters/"];

/// Every document of every fixture file that holds Kubernetes objects.
pub fn load_fixtures() -> Result<Vec<Manifest>, String> {
    let dir = fixtures_dir();
    let mut out = Vec::new();
    let files = yaml_files(&dir)
        .into_iter()
        .filter(|f| !NOT_MANIFESTS.iter().any(|skip| f.starts_with(skip)));
    for file in files {
        let text = fs::read_to_string(dir.join(&file)).map_err(|e| format!("{file}: {e}"))?;
        let docs = parse_documents(&text).map_err(|e| format!("{file}: {e}"))?;
        out.extend(docs.into_iter().enumerate().map(|(index, value)| Manifest {
            file: file.clone(),
            index,
            value,
        }));
    }
    Ok(out)
}

/// The fixture document of this kind and name.
pub fn find(manifests: &[Manifest], kind: &str, name: &str) -> Option<Manifest> {
    manifests
        .iter()
        .find(|m| m.kind() == kind && m.name() == name)
        .cloned()
}

fn round_trip<T: DeserializeOwned + Serialize>(doc: &Value) -> Result<Value, String> {
    let typed: T = serde_json::from_value(doc.clone()).map_err(|e| e.to_string())?;
    serde_json::to_value(&typed).map_err(|e| e.to_string())
}

/// The document as its k8s-openapi type sees it, or why it is not one.
pub fn typed_round_trip(doc: &Value) -> Result<Value, String> {
    let api_version = doc["apiVersion"].as_str().unwrap_or("");
    let kind = doc["kind"].as_str().unwrap_or("");
    match (api_version, kind) {
        ("v1", "ConfigMap") => round_trip::<core::v1::ConfigMap>(doc),
        ("v1", "PersistentVolumeClaim") => round_trip::<core::v1::PersistentVolumeClaim>(doc),
        ("v1", "Pod") => round_trip::<core::v1::Pod>(doc),
        ("v1", "Secret") => round_trip::<core::v1::Secret>(doc),
        ("v1", "Service") => round_trip::<core::v1::Service>(doc),
        ("apps/v1", "Deployment") => round_trip::<apps::v1::Deployment>(doc),
        ("apps/v1", "StatefulSet") => round_trip::<apps::v1::StatefulSet>(doc),
        ("policy/v1", "PodDisruptionBudget") => round_trip::<policy::v1::PodDisruptionBudget>(doc),
        _ => Err(format!(
            "apiVersion `{api_version}` kind `{kind}` is not a kind the fixtures may use"
        )),
    }
}

/// Paths (`spec.template.spec.containers[0].imag`) where `original` holds something `typed`
/// does not: fields the type does not know, or values it changed.
pub fn lost_in_round_trip(original: &Value, typed: &Value) -> Vec<String> {
    fn walk(original: &Value, typed: &Value, path: &str, out: &mut Vec<String>) {
        let at = |key: &str| {
            if path.is_empty() {
                key.to_owned()
            } else {
                format!("{path}.{key}")
            }
        };
        match (original, typed) {
            (Value::Object(orig), Value::Object(back)) => {
                for (key, value) in orig {
                    match back.get(key) {
                        Some(returned) => walk(value, returned, &at(key), out),
                        None => out.push(format!("unknown field `{}`", at(key))),
                    }
                }
            }
            (Value::Array(orig), Value::Array(back)) if orig.len() == back.len() => {
                for (i, (value, returned)) in orig.iter().zip(back).enumerate() {
                    walk(value, returned, &format!("{path}[{i}]"), out);
                }
            }
            (orig, back) if orig == back => {}
            (orig, back) => out.push(format!("`{path}` is {orig} in the file but {back} typed")),
        }
    }
    let mut out = Vec::new();
    walk(original, typed, "", &mut out);
    out
}

/// The images of every container and init container anywhere in a document.
pub fn images(doc: &Value) -> Vec<String> {
    fn walk(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, item) in map {
                    if matches!(
                        key.as_str(),
                        "containers" | "initContainers" | "ephemeralContainers"
                    ) && let Value::Array(containers) = item
                    {
                        for container in containers {
                            if let Some(image) = container["image"].as_str() {
                                out.push(image.to_owned());
                            }
                        }
                    }
                    walk(item, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|item| walk(item, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(doc, &mut out);
    out
}

/// Why an image reference is not pinned, if it is not: it needs a tag other than `latest`
/// (`busybox:1.36.1`) or a digest (`busybox@sha256:<64 hex>`).
pub fn unpinned(image: &str) -> Option<String> {
    if let Some((_, digest)) = image.split_once('@') {
        let hex = digest.strip_prefix("sha256:").unwrap_or("");
        return (hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()))
            .then(|| format!("`{image}` has a malformed digest"));
    }
    // A registry port (`host:5000/name`) is not a tag: only a colon after the last slash is.
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        None => Some(format!("`{image}` has no tag (it means :latest)")),
        Some((_, "")) => Some(format!("`{image}` has an empty tag")),
        Some((_, "latest")) => Some(format!("`{image}` uses :latest")),
        Some(_) => None,
    }
}
