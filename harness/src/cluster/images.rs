//! The container images the fixtures use, and loading the locally present ones into a kind or
//! k3d cluster so runs can be offline.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use super::tools::{CommandOutput, RunError, ToolRunner};

/// One image and the fixture files (relative to the repository root) that use it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixtureImage {
    pub image: String,
    pub files: Vec<PathBuf>,
}

/// A cluster images can be loaded into.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PreloadTarget {
    Kind { name: String },
    K3d { name: String },
}

/// What a preload did.
#[derive(Clone, Debug, Default)]
pub struct PreloadReport {
    /// Images found in the local Docker engine and loaded into the cluster.
    pub loaded: Vec<String>,
    /// Images not present locally (the cluster will pull them).
    pub missing: Vec<String>,
    pub commands: Vec<CommandOutput>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImagesError {
    #[error("failed to find {path}: no fixtures directory")]
    NoFixtures { path: PathBuf },
    #[error("failed to list {path}")]
    ReadDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to parse {path} as YAML")]
    Parse {
        path: PathBuf,
        #[source]
        source: Box<serde_saphyr::Error>,
    },
    #[error("failed to {action}")]
    Command {
        action: String,
        #[source]
        source: RunError,
    },
}

/// Every image referenced by a container, init container or ephemeral container in the YAML
/// files under `<root>/fixtures`, sorted by name.
pub fn fixture_images(root: &Path) -> Result<Vec<FixtureImage>, ImagesError> {
    let fixtures = root.join("fixtures");
    if !fixtures.is_dir() {
        return Err(ImagesError::NoFixtures { path: fixtures });
    }
    let mut files = Vec::new();
    collect_yaml_files(&fixtures, &mut files)?;
    let mut by_image: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|source| ImagesError::Read {
            path: file.clone(),
            source,
        })?;
        let relative = file.strip_prefix(root).unwrap_or(&file).to_path_buf();
        for image in images_in_yaml(&text).map_err(|source| ImagesError::Parse {
            path: relative.clone(),
            source,
        })? {
            let users = by_image.entry(image).or_default();
            if !users.contains(&relative) {
                users.push(relative.clone());
            }
        }
    }
    Ok(by_image
        .into_iter()
        .map(|(image, files)| FixtureImage { image, files })
        .collect())
}

/// The images named by containers in a (possibly multi-document) YAML text, sorted, each once.
pub fn images_in_yaml(text: &str) -> Result<Vec<String>, Box<serde_saphyr::Error>> {
    let documents: Vec<Value> = serde_saphyr::from_multiple(text).map_err(Box::new)?;
    let mut images = Vec::new();
    for document in &documents {
        collect_images(document, &mut images);
    }
    images.sort();
    Ok(images)
}

/// Walks the whole document so Pods, workload templates, CronJobs and `List`s all count.
fn collect_images(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if matches!(
                    key.as_str(),
                    "containers" | "initContainers" | "ephemeralContainers"
                ) && let Value::Array(containers) = child
                {
                    for image in containers
                        .iter()
                        .filter_map(|c| c.get("image").and_then(Value::as_str))
                    {
                        if !into.iter().any(|seen| seen == image) {
                            into.push(image.to_string());
                        }
                    }
                }
                collect_images(child, into);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_images(item, into)),
        _ => {}
    }
}

fn collect_yaml_files(dir: &Path, into: &mut Vec<PathBuf>) -> Result<(), ImagesError> {
    let entries = std::fs::read_dir(dir).map_err(|source| ImagesError::ReadDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| ImagesError::ReadDir {
            path: dir.to_path_buf(),
            source,
        })?;
        paths.push(entry.path());
    }
    paths.sort();
    for path in paths {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.starts_with('.') {
            continue;
        }
        let meta = std::fs::metadata(&path).map_err(|source| ImagesError::ReadDir {
            path: path.clone(),
            source,
        })?;
        if meta.is_dir() {
            collect_yaml_files(&path, into)?;
        } else if name.ends_with(".yaml") || name.ends_with(".yml") {
            into.push(path);
        }
    }
    Ok(())
}

/// Loads the images that the local Docker engine has into the cluster; the others are listed
/// as missing (the cluster pulls them itself).
pub async fn preload(
    runner: &ToolRunner,
    target: &PreloadTarget,
    images: &[String],
    deadline: Duration,
) -> Result<PreloadReport, ImagesError> {
    let mut report = PreloadReport::default();
    for image in images {
        let output = runner
            .run(
                "docker",
                &["image", "inspect", "--format", "{{.Id}}", image],
                Duration::from_secs(20),
            )
            .await
            .map_err(|source| ImagesError::Command {
                action: format!("check whether {image} is present locally"),
                source,
            })?;
        if output.success() {
            report.loaded.push(image.clone());
        } else {
            report.missing.push(image.clone());
        }
        report.commands.push(output);
    }
    if report.loaded.is_empty() {
        return Ok(report);
    }
    let loaded: Vec<&str> = report.loaded.iter().map(String::as_str).collect();
    let (program, mut args, name) = match target {
        PreloadTarget::Kind { name } => ("kind", vec!["load", "docker-image"], name),
        PreloadTarget::K3d { name } => ("k3d", vec!["image", "import"], name),
    };
    args.extend(loaded.iter().copied());
    match target {
        PreloadTarget::Kind { .. } => args.extend(["--name", name.as_str()]),
        PreloadTarget::K3d { .. } => args.extend(["--cluster", name.as_str()]),
    }
    let output = runner
        .run(program, &args, deadline)
        .await
        .and_then(CommandOutput::into_result)
        .map_err(|source| ImagesError::Command {
            action: format!(
                "load {} image(s) into {program} cluster `{name}`",
                loaded.len()
            ),
            source,
        })?;
    report.commands.push(output);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_come_from_every_kind_of_container_in_every_document() {
        let yaml = r#"
apiVersion: v1
kind: Pod
spec:
  initContainers: [{name: init, image: "busybox:1.36"}]
  containers: [{name: app, image: "nginx:1.27"}]
---
apiVersion: apps/v1
kind: StatefulSet
spec:
  template:
    spec:
      containers:
        - name: db
          image: mysql:8.4
        - name: sidecar
          image: nginx:1.27
---
apiVersion: batch/v1
kind: CronJob
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{name: job, image: "alpine:3.20"}]
---
"#;
        assert_eq!(
            images_in_yaml(yaml).ok(),
            Some(vec![
                "alpine:3.20".to_string(),
                "busybox:1.36".to_string(),
                "mysql:8.4".to_string(),
                "nginx:1.27".to_string(),
            ])
        );
    }

    #[test]
    fn yaml_without_containers_has_no_images() {
        assert_eq!(
            images_in_yaml("kind: Cluster\nimage: not-a-container:1\n").ok(),
            Some(vec![])
        );
        assert!(images_in_yaml("a: [unclosed").is_err());
    }
}
