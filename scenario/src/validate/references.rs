//! Which objects a scenario can refer to: what it applies, and what their controllers create by
//! convention (StatefulSet pods `<set>-<i>`, claims `<template>-<set>-<i>`, Deployment pods by
//! their template labels).

use super::manifests::Created;
use crate::expect::Selector;
use crate::model::{Kind, Target};
use crate::similar;

/// The objects a scenario creates, directly or through controllers.
pub(crate) struct Objects {
    created: Vec<Created>,
}

/// Why a reference was flagged, with a suggestion when one is close.
pub(crate) struct Unknown {
    pub message: String,
    pub help: String,
}

impl Objects {
    pub fn new(created: Vec<Created>) -> Self {
        Self { created }
    }

    /// Checks that a target can exist. Targets the scenario does not create itself (nodes,
    /// volumes, events, storage classes) and names with variables are not checked.
    pub fn check(&self, target: &Target) -> Result<(), Unknown> {
        if matches!(
            target.kind,
            Kind::Node | Kind::PersistentVolume | Kind::Event | Kind::StorageClass
        ) {
            return Ok(());
        }
        if let Some(name) = &target.name {
            if name.contains("${") || self.names(target.kind, name) {
                return Ok(());
            }
            let candidates = self.candidates(target.kind);
            let help = similar::closest(name, candidates.iter().map(String::as_str))
                .map(|found| format!("did you mean `{}/{found}`?", target.kind))
                .unwrap_or_else(|| self.summary());
            return Err(Unknown {
                message: format!("`{}/{name}` is never created by this scenario", target.kind),
                help,
            });
        }
        if let Some(selector) = &target.selector {
            // A selector with variables is only known when the step runs.
            let Some(parsed) = selector.fixed() else {
                return Ok(());
            };
            if self.selects(target.kind, parsed.selector()) {
                return Ok(());
            }
            return Err(Unknown {
                message: format!(
                    "nothing this scenario creates matches the {} selector `{selector}`",
                    target.kind
                ),
                help: self.label_summary(target.kind),
            });
        }
        Ok(())
    }

    /// Checks that the scenario applies a Secret `name` holding `key`. The error names the
    /// Secrets and keys it does apply; `key_wrong` tells which of the two is at fault.
    pub fn check_secret_key(&self, name: &str, key: &str) -> Result<(), (Unknown, bool)> {
        if name.contains("${") {
            return Ok(());
        }
        let secrets: Vec<&Created> = self
            .created
            .iter()
            .filter(|object| object.api_kind == "Secret")
            .collect();
        let listing = || {
            let each: Vec<String> = secrets
                .iter()
                .map(|secret| {
                    format!(
                        "`{}` (keys: {})",
                        secret.name,
                        secret.secret_keys.join(", ")
                    )
                })
                .collect();
            if each.is_empty() {
                "apply a Secret with that key in an earlier step, e.g. from a fixture file"
                    .to_owned()
            } else {
                format!("the scenario applies Secret {}", each.join(", "))
            }
        };
        let Some(secret) = secrets.iter().find(|secret| secret.name == name) else {
            let help = similar::closest(name, secrets.iter().map(|s| s.name.as_str()))
                .map(|found| format!("did you mean `{found}`? {}", listing()))
                .unwrap_or_else(listing);
            return Err((
                Unknown {
                    message: format!("the scenario applies no Secret `{name}`"),
                    help,
                },
                false,
            ));
        };
        if key.contains("${") || secret.secret_keys.iter().any(|known| known == key) {
            return Ok(());
        }
        let keys = secret.secret_keys.iter().map(String::as_str);
        let help = similar::did_you_mean(key, keys).unwrap_or_else(|| {
            format!(
                "Secret `{name}` has the keys: {}",
                secret.secret_keys.join(", ")
            )
        });
        Err((
            Unknown {
                message: format!("Secret `{name}` has no key `{key}`"),
                help,
            },
            true,
        ))
    }

    /// Whether an object of `kind` named `name` is created.
    fn names(&self, kind: Kind, name: &str) -> bool {
        self.created.iter().any(|object| {
            let own = object.kind() == Some(kind) && object.name == name;
            own || match (kind, object.api_kind.as_str()) {
                (Kind::Pod, "StatefulSet") => ordinal_of(name, &object.name).is_some(),
                (Kind::Pod, "Deployment" | "ReplicaSet" | "DaemonSet" | "Job") => {
                    hashed_child(name, &object.name)
                }
                (Kind::ReplicaSet | Kind::ControllerRevision, "Deployment") => {
                    hashed_child(name, &object.name)
                }
                (Kind::ControllerRevision, "StatefulSet" | "DaemonSet") => {
                    hashed_child(name, &object.name)
                }
                (Kind::PersistentVolumeClaim, "StatefulSet") => {
                    object.claim_templates.iter().any(|template| {
                        name.strip_prefix(template.as_str())
                            .and_then(|rest| rest.strip_prefix('-'))
                            .is_some_and(|rest| ordinal_of(rest, &object.name).is_some())
                    })
                }
                (Kind::Endpoints, "Service") => object.name == name,
                (Kind::EndpointSlice, "Service") => hashed_child(name, &object.name),
                _ => false,
            }
        })
    }

    /// Whether a selector matches something of `kind` the scenario creates. Only kinds whose
    /// labels are known in advance are judged; others pass.
    fn selects(&self, kind: Kind, selector: &Selector) -> bool {
        match kind {
            Kind::Pod => self
                .created
                .iter()
                .filter_map(|object| object.pod_labels.as_ref())
                .any(|labels| selector.matches(labels)),
            Kind::Service
            | Kind::StatefulSet
            | Kind::Deployment
            | Kind::ConfigMap
            | Kind::Secret
            | Kind::PodDisruptionBudget => self
                .created
                .iter()
                .filter(|object| object.kind() == Some(kind))
                .any(|object| selector.matches(&object.labels)),
            _ => true,
        }
    }

    fn candidates(&self, kind: Kind) -> Vec<String> {
        let mut names = Vec::new();
        for object in &self.created {
            if object.kind() == Some(kind) {
                names.push(object.name.clone());
            }
            match (kind, object.api_kind.as_str()) {
                (Kind::Pod, "StatefulSet") => names.push(format!("{}-0", object.name)),
                (Kind::PersistentVolumeClaim, "StatefulSet") => names.extend(
                    object
                        .claim_templates
                        .iter()
                        .map(|template| format!("{template}-{}-0", object.name)),
                ),
                _ => {}
            }
        }
        names
    }

    fn summary(&self) -> String {
        if self.created.is_empty() {
            return "the scenario applies no manifests; objects it refers to must come from an `apply` step".to_owned();
        }
        let listed: Vec<String> = self
            .created
            .iter()
            .map(|object| {
                let named = match object.kind() {
                    Some(kind) => format!("{kind}/{}", object.name),
                    None => format!("{}/{}", object.api_kind, object.name),
                };
                let mut children: Vec<String> = Vec::new();
                if object.api_kind == "StatefulSet" {
                    children.push(format!("pods {}-<n>", object.name));
                    children.extend(
                        object
                            .claim_templates
                            .iter()
                            .map(|template| format!("claims {template}-{}-<n>", object.name)),
                    );
                }
                if children.is_empty() {
                    named
                } else {
                    format!("{named} ({})", children.join(", "))
                }
            })
            .collect();
        format!("the scenario creates {}", listed.join(", "))
    }

    fn label_summary(&self, kind: Kind) -> String {
        let sets: Vec<String> = self
            .created
            .iter()
            .filter_map(|object| {
                let labels = if kind == Kind::Pod {
                    object.pod_labels.as_ref()?
                } else if object.kind() == Some(kind) {
                    &object.labels
                } else {
                    return None;
                };
                let text: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                Some(format!("{} ({})", object.name, text.join(",")))
            })
            .collect();
        if sets.is_empty() {
            format!("the scenario creates no {}", kind.plural())
        } else {
            format!("labels the scenario gives: {}", sets.join("; "))
        }
    }
}

/// `web-3` for set `web` is ordinal 3.
fn ordinal_of(name: &str, set: &str) -> Option<u32> {
    let rest = name.strip_prefix(set)?.strip_prefix('-')?;
    if rest.is_empty() || !rest.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    rest.parse().ok()
}

/// `web-5d8f7c-x2k9q` is a child of `web` (a generated suffix).
fn hashed_child(name: &str, parent: &str) -> bool {
    name.strip_prefix(parent)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|rest| !rest.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SelectorTemplate;
    use std::collections::BTreeMap;

    fn sts() -> Created {
        Created {
            api_kind: "StatefulSet".into(),
            name: "web".into(),
            labels: BTreeMap::new(),
            pod_labels: Some([("app".to_owned(), "web".to_owned())].into()),
            claim_templates: vec!["www".into()],
            secret_keys: Vec::new(),
        }
    }

    #[test]
    fn knows_objects_created_by_convention() {
        let objects = Objects::new(vec![sts()]);
        let ok = |text: &str| {
            let (kind, name) = text.split_once('/').expect("kind/name");
            objects
                .check(&Target::object(kind.parse().expect("kind"), name))
                .is_ok()
        };
        assert!(ok("sts/web"));
        assert!(ok("pod/web-2"));
        assert!(ok("pvc/www-web-4"));
        assert!(ok("pod/${pod}"));
        assert!(ok("node/kind-worker"));
        assert!(!ok("sts/webb"));
        assert!(!ok("pod/web-x"));
        assert!(!ok("pvc/data-web-0"));
        let error = objects
            .check(&Target::object(Kind::StatefulSet, "webb"))
            .expect_err("unknown");
        assert_eq!(error.help, "did you mean `statefulset/web`?");
    }

    #[test]
    fn matches_pod_selectors_against_templates() {
        let objects = Objects::new(vec![sts()]);
        let select = |selector: &str| Target {
            kind: Kind::Pod,
            name: None,
            selector: Some(SelectorTemplate::parse(selector).expect("a selector")),
        };
        assert!(objects.check(&select("app=web")).is_ok());
        assert!(objects.check(&select("app=wbe")).is_err());
    }
}
