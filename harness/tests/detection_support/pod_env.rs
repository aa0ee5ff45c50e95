//! A container's environment as the kubelet gives it: plain values, and `secretKeyRef` values
//! read from the Secret in the fake's store (the one the scenario applied), never from a file.

use k8s_openapi::api::core::v1::Secret;
use petset_fakeapi::Handle;
use serde_json::Value;

/// The container's variables, in order; an error names what is missing (the kubelet's
/// `CreateContainerConfigError`).
pub fn container_env(
    handle: &Handle,
    pod: &Value,
    container: &str,
) -> Result<Vec<(String, String)>, String> {
    let namespace = pod["metadata"]["namespace"].as_str().unwrap_or_default();
    let spec = &pod["spec"];
    let found = ["initContainers", "containers"]
        .iter()
        .filter_map(|list| spec[list].as_array())
        .flatten()
        .find(|c| c["name"] == container)
        .ok_or_else(|| format!("the pod has no container `{container}`"))?;
    let mut env = Vec::new();
    for var in found["env"].as_array().into_iter().flatten() {
        let name = var["name"].as_str().unwrap_or_default().to_string();
        let value = match (&var["value"], &var["valueFrom"]["secretKeyRef"]) {
            (Value::String(value), _) => value.clone(),
            (_, Value::Object(reference)) => {
                let secret = reference.get("name").and_then(Value::as_str).unwrap_or("");
                let key = reference.get("key").and_then(Value::as_str).unwrap_or("");
                secret_value(handle, namespace, secret, key)
                    .map_err(|e| format!("{container}: {name}: {e}"))?
            }
            _ => String::new(),
        };
        env.push((name, value));
    }
    Ok(env)
}

/// One key of a Secret, from `data` (base64 on the wire) or `stringData` (which a store without
/// an API server's defaulting may still hold).
fn secret_value(handle: &Handle, namespace: &str, name: &str, key: &str) -> Result<String, String> {
    let object = handle
        .get("v1", "Secret", Some(namespace), name)
        .ok_or_else(|| format!("secret \"{name}\" not found"))?;
    let secret: Secret = serde_json::from_value(object)
        .map_err(|e| format!("secret \"{name}\" does not parse: {e}"))?;
    if let Some(bytes) = secret.data.as_ref().and_then(|d| d.get(key)) {
        return String::from_utf8(bytes.0.clone())
            .map_err(|_| format!("key \"{key}\" of secret \"{name}\" is not UTF-8"));
    }
    secret
        .string_data
        .as_ref()
        .and_then(|d| d.get(key))
        .cloned()
        .ok_or_else(|| format!("secret \"{name}\" has no key \"{key}\""))
}

/// The value of `name` in `env`, if set.
pub fn lookup<'a>(env: &'a [(String, String)], name: &str) -> Option<&'a str> {
    env.iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}
