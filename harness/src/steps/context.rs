//! What every step gets to work with, and what it returns.

use crate::events::{Failure, Figure};
use crate::timeline::Timeline;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// The scenario's variables: `namespace`, captures, and `pod` inside per-pod loops.
#[derive(Debug, Clone, Default)]
pub struct Variables {
    values: BTreeMap<String, String>,
}

impl Variables {
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.values.insert(name.into(), value.into());
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Replaces every `${name}` in `text`; unknown names are an error naming them.
    pub fn substitute(&self, text: &str) -> Result<String, String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                return Err(format!("unclosed `${{` in `{text}`"));
            };
            let name = &after[..end];
            match self.get(name) {
                Some(value) => out.push_str(value),
                None => {
                    let known: Vec<&str> = self.values.keys().map(String::as_str).collect();
                    return Err(format!(
                        "unknown variable `${{{name}}}` (known: {})",
                        known.join(", ")
                    ));
                }
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// Substitutes variables in every string inside a JSON value (manifests, partial objects).
    pub fn substitute_value(&self, value: &serde_json::Value) -> Result<serde_json::Value, String> {
        use serde_json::Value;
        Ok(match value {
            Value::String(text) => Value::String(self.substitute(text)?),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|item| self.substitute_value(item))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(key, item)| Ok((self.substitute(key)?, self.substitute_value(item)?)))
                    .collect::<Result<_, String>>()?,
            ),
            other => other.clone(),
        })
    }
}

/// Everything a step needs: the cluster, the scenario's namespace, its variables and timeline.
#[derive(Clone)]
pub struct StepContext {
    pub client: kube::Client,
    /// The scenario's own namespace; every namespaced object goes here.
    pub namespace: String,
    pub vars: Variables,
    pub timeline: Timeline,
    /// The repository's `fixtures/` folder.
    pub fixtures_dir: PathBuf,
    /// Labels put on every object the scenario creates (`app.kubernetes.io/managed-by=petset`, run id).
    pub labels: BTreeMap<String, String>,
    /// The timeout of a wait that does not give one.
    pub default_timeout: Duration,
    /// The cluster domain for DNS names (`cluster.local` unless discovered otherwise).
    pub cluster_domain: String,
}

impl std::fmt::Debug for StepContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StepContext")
            .field("namespace", &self.namespace)
            .field("vars", &self.vars)
            .finish_non_exhaustive()
    }
}

/// What a passed step reports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepReport {
    /// A short account of what happened, e.g. `3 pods ready after 4.2s`.
    pub detail: String,
    /// Measured figures, e.g. replication lag.
    pub figures: Vec<Figure>,
}

impl StepReport {
    pub fn detail(detail: impl Into<String>) -> Self {
        Self {
            detail: detail.into(),
            figures: Vec::new(),
        }
    }
}

/// A step either passes with a report or fails with a diagnosable failure.
pub type StepResult = Result<StepReport, Failure>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutes_known_variables_and_names_unknown_ones() {
        let mut vars = Variables::default();
        vars.set("namespace", "petset-x1");
        vars.set("pod", "web-0");
        assert_eq!(
            vars.substitute("${pod}.nginx.${namespace}.svc"),
            Ok("web-0.nginx.petset-x1.svc".to_owned())
        );
        let error = vars.substitute("${vol0}").expect_err("unknown variable");
        assert!(
            error.contains("vol0") && error.contains("namespace"),
            "{error}"
        );
        assert!(vars.substitute("${pod").is_err());
    }
}
