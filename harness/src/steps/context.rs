//! What every step gets to work with, and what it returns.

use crate::events::{Failure, Figure};
use crate::redact::SecretValues;
use crate::scenario::model::Target;
use crate::timeline::Timeline;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::time::Instant;

/// The DNS domain of kind, k3d and most clusters; `PETSET_CLUSTER_DOMAIN` overrides it.
pub const DEFAULT_CLUSTER_DOMAIN: &str = "cluster.local";

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

    /// Every variable and its value, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
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

    /// Replaces every `${name}` naming a known variable and leaves the rest as written, as
    /// `envsubst` given the list of variables does: fixture files carry shell scripts whose own
    /// `${VAR:-default}` expansions are not petset's.
    pub fn substitute_known(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            match after
                .find('}')
                .and_then(|end| Some((end, self.get(&after[..end])?)))
            {
                Some((end, value)) => {
                    out.push_str(value);
                    rest = &after[end + 1..];
                }
                None => {
                    out.push_str("${");
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
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
    /// The scenario's deadline: no step may run past it, whatever its own timeout says.
    pub deadline: Option<Instant>,
    /// Nodes the scenario cordoned, which cleanup uncordons.
    pub cordoned: CordonedNodes,
    /// Values read from Secrets, masked in everything the scenario reports.
    pub secrets: SecretValues,
    /// How the client reaches the cluster, for the kubeconfig a `command` step's program gets;
    /// `None` where the client was built some other way (such a step then fails, saying so).
    pub cluster_config: Option<Arc<kube::Config>>,
}

impl StepContext {
    /// A context for `namespace` with no variables but `namespace`, a fresh timeline, no labels,
    /// a 2-minute default timeout, `cluster.local` and no scenario deadline.
    pub fn new(client: kube::Client, namespace: impl Into<String>, fixtures_dir: PathBuf) -> Self {
        let namespace = namespace.into();
        let mut vars = Variables::default();
        vars.set("namespace", namespace.clone());
        vars.set("clusterDomain", DEFAULT_CLUSTER_DOMAIN);
        Self {
            client,
            namespace,
            vars,
            timeline: Timeline::new(),
            fixtures_dir,
            labels: BTreeMap::new(),
            default_timeout: Duration::from_secs(120),
            cluster_domain: DEFAULT_CLUSTER_DOMAIN.to_owned(),
            deadline: None,
            cordoned: CordonedNodes::default(),
            secrets: SecretValues::default(),
            cluster_config: None,
        }
    }

    /// Sets the cluster DNS domain, both for DNS steps and as the `${clusterDomain}` variable.
    pub fn set_cluster_domain(&mut self, domain: &str) {
        self.cluster_domain = domain.to_owned();
        self.vars.set("clusterDomain", domain);
    }

    /// When a step allowed `timeout` (or the default) must be done: that long from now, but
    /// never after the scenario's deadline.
    pub fn deadline_after(&self, timeout: Option<Duration>) -> Instant {
        let own = crate::clock::from_now(timeout.unwrap_or(self.default_timeout));
        match self.deadline {
            Some(scenario) => own.min(scenario),
            None => own,
        }
    }

    /// `target` with `${...}` variables in its name and selector replaced.
    pub fn resolve(&self, target: &Target) -> Result<Target, Failure> {
        let substitute = |text: &Option<String>| {
            text.as_deref()
                .map(|text| self.vars.substitute(text))
                .transpose()
                .map_err(|error| Failure::new(format!("{target}: {error}")))
        };
        Ok(Target {
            kind: target.kind,
            name: substitute(&target.name)?,
            selector: substitute(&target.selector)?,
        })
    }
}

/// The nodes a scenario has cordoned, shared between its steps and its cleanup.
#[derive(Debug, Clone, Default)]
pub struct CordonedNodes(Arc<Mutex<BTreeSet<String>>>);

impl CordonedNodes {
    pub fn add(&self, node: &str) {
        self.lock().insert(node.to_owned());
    }

    pub fn remove(&self, node: &str) {
        self.lock().remove(node);
    }

    pub fn names(&self) -> Vec<String> {
        self.lock().iter().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        // A poisoned lock only means a holder panicked; the set itself is intact.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
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
