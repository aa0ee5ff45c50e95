//! A pod's container commands as the fixture ships them, runnable on this machine: the ConfigMap
//! the scenario applied (read from the fake's store) written to a local directory, and each
//! container's command with the ConfigMap's mount path pointed there. What runs is exactly what a
//! cluster would run; only the paths and peers differ, through the variables the scripts read.

use std::path::{Path, PathBuf};

use petset_fakeapi::Handle;
use serde_json::Value;

pub struct PodScripts {
    pod: Value,
    /// (mount path in the pod, local directory) per ConfigMap volume.
    mounts: Vec<(String, PathBuf)>,
}

impl PodScripts {
    /// Writes the ConfigMaps `pod` mounts under `dir`.
    pub fn prepare(handle: &Handle, pod: &Value, dir: &Path) -> Result<PodScripts, String> {
        let namespace = pod["metadata"]["namespace"].as_str().unwrap_or_default();
        let mut volumes = Vec::new();
        for volume in pod["spec"]["volumes"].as_array().into_iter().flatten() {
            let Some(config_map) = volume["configMap"]["name"].as_str() else {
                continue;
            };
            let volume_name = volume["name"].as_str().unwrap_or_default();
            let object = handle
                .get("v1", "ConfigMap", Some(namespace), config_map)
                .ok_or_else(|| format!("configmap \"{config_map}\" not found"))?;
            let local = dir.join(format!("configmap-{volume_name}"));
            std::fs::create_dir_all(&local).map_err(|e| e.to_string())?;
            for (key, text) in object["data"].as_object().into_iter().flatten() {
                std::fs::write(local.join(key), text.as_str().unwrap_or_default())
                    .map_err(|e| format!("failed to write {key} of configmap {config_map}: {e}"))?;
            }
            volumes.push((volume_name.to_owned(), local));
        }
        let mut mounts = Vec::new();
        for container in containers(pod) {
            for mount in container["volumeMounts"].as_array().into_iter().flatten() {
                let name = mount["name"].as_str().unwrap_or_default();
                let path = mount["mountPath"].as_str().unwrap_or_default();
                if let Some((_, local)) = volumes.iter().find(|(v, _)| v == name) {
                    mounts.push((path.to_owned(), local.clone()));
                }
            }
        }
        Ok(PodScripts {
            pod: pod.clone(),
            mounts,
        })
    }

    /// The command of the (init) container `name`, its ConfigMap paths made local.
    pub fn command(&self, name: &str) -> Result<Vec<String>, String> {
        let container = containers(&self.pod)
            .find(|c| c["name"] == name)
            .ok_or_else(|| format!("the pod has no container `{name}`"))?;
        let words: Vec<String> = container["command"]
            .as_array()
            .ok_or_else(|| format!("container `{name}` has no command"))?
            .iter()
            .filter_map(Value::as_str)
            .map(|word| {
                self.mounts
                    .iter()
                    .fold(word.to_owned(), |w, (mount, local)| {
                        w.replace(mount.as_str(), &local.display().to_string())
                    })
            })
            .collect();
        Ok(words)
    }

    /// Where container `name` mounts the volume backed by a claim.
    pub fn claim_mount(&self, name: &str) -> Option<String> {
        let claims: Vec<&str> = self.pod["spec"]["volumes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|v| v["persistentVolumeClaim"].is_object())
            .filter_map(|v| v["name"].as_str())
            .collect();
        containers(&self.pod)
            .find(|c| c["name"] == name)?
            .get("volumeMounts")?
            .as_array()?
            .iter()
            .find(|m| claims.contains(&m["name"].as_str().unwrap_or_default()))
            .and_then(|m| m["mountPath"].as_str())
            .map(str::to_owned)
    }
}

fn containers(pod: &Value) -> impl Iterator<Item = &Value> {
    ["initContainers", "containers"]
        .into_iter()
        .filter_map(|list| pod["spec"][list].as_array())
        .flatten()
}
