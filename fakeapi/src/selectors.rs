//! Label and field selectors: the query-string forms and the `LabelSelector` object form.
//! Label selectors are parsed by `petset_scenario`, the parser petset itself uses.

use petset_scenario::expect::{Requirement, Selector};
use serde_json::Value;
use std::collections::BTreeMap;

use crate::meta;
use crate::status::ApiError;

/// A parsed `labelSelector` query parameter, read by the same parser petset uses for the
/// selectors scenarios write, so the fake and the harness agree on the grammar.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct LabelSelector(Selector);

impl LabelSelector {
    pub(crate) fn parse(s: &str) -> Result<Self, ApiError> {
        Selector::parse(s).map(Self).map_err(|error| {
            ApiError::bad_request(format!(
                "unable to parse requirement: {} in {s:?}",
                error.reason
            ))
        })
    }

    /// Builds a selector from a `LabelSelector` object (`matchLabels` and `matchExpressions`).
    /// An absent or empty object selects everything, as for PodDisruptionBudgets.
    pub(crate) fn from_object(sel: &Value) -> Self {
        let mut requirements = Vec::new();
        if let Some(ml) = sel.get("matchLabels").and_then(Value::as_object) {
            for (k, v) in ml {
                requirements.push(Requirement::Equals(
                    k.clone(),
                    v.as_str().unwrap_or("").to_string(),
                ));
            }
        }
        for e in sel
            .get("matchExpressions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let key = e
                .get("key")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let values: Vec<String> = e
                .get("values")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            requirements.push(
                match e.get("operator").and_then(Value::as_str).unwrap_or("") {
                    "In" => Requirement::In(key, values),
                    "NotIn" => Requirement::NotIn(key, values),
                    "Exists" => Requirement::Exists(key),
                    "DoesNotExist" => Requirement::DoesNotExist(key),
                    // An unknown operator selects nothing, the safe reading.
                    _ => Requirement::In(key, Vec::new()),
                },
            );
        }
        Self(Selector { requirements })
    }

    /// The query-string form, as a Scale's `status.selector` carries it.
    pub(crate) fn to_query(&self) -> String {
        self.0.to_string()
    }

    pub(crate) fn matches(&self, obj: &Value) -> bool {
        let labels: BTreeMap<String, String> = meta::labels(obj)
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        self.0.matches(&labels)
    }
}

/// One requirement of a field selector: the field's value equals, or differs from, a value.
#[derive(Debug, Clone, PartialEq)]
struct FieldRequirement {
    path: String,
    value: String,
    equal: bool,
}

/// A parsed `fieldSelector` query parameter (`=`, `==`, `!=` on dotted paths).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct FieldSelector(Vec<FieldRequirement>);

impl FieldSelector {
    pub(crate) fn parse(s: &str) -> Result<Self, ApiError> {
        let mut reqs = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let req = if let Some((k, v)) = part.split_once("!=") {
                FieldRequirement {
                    path: k.trim().to_string(),
                    value: v.trim().to_string(),
                    equal: false,
                }
            } else if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
                FieldRequirement {
                    path: k.trim().to_string(),
                    value: v.trim().to_string(),
                    equal: true,
                }
            } else {
                return Err(ApiError::bad_request(format!(
                    "invalid field selector: {part:?}"
                )));
            };
            reqs.push(req);
        }
        Ok(Self(reqs))
    }

    /// Whether the object satisfies every requirement (paths are looked up in its JSON).
    pub(crate) fn matches(&self, obj: &Value) -> bool {
        self.0.iter().all(|r| {
            let mut cur = Some(obj);
            for seg in r.path.split('.') {
                cur = cur.and_then(|c| c.get(seg));
            }
            let text = cur.map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            // Unset fields compare as the empty string, as the real server's field sets do.
            (text.as_deref().unwrap_or("") == r.value) == r.equal
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(labels: Value) -> Value {
        json!({"metadata": {"name": "web-0", "namespace": "ns", "labels": labels}, "status": {"phase": "Running"}})
    }

    #[test]
    fn label_operators() {
        let p = pod(json!({"app": "web", "tier": "db"}));
        let m = |s: &str| LabelSelector::parse(s).map(|sel| sel.matches(&p));
        assert_eq!(m("app=web"), Ok(true));
        assert_eq!(m("app==web,tier=db"), Ok(true));
        assert_eq!(m("app!=web"), Ok(false));
        assert_eq!(m("app in (web, api)"), Ok(true));
        assert_eq!(m("app notin (web,api)"), Ok(false));
        assert_eq!(m("tier,app in (x),zone"), Ok(false));
        assert_eq!(m("!zone"), Ok(true));
        assert_eq!(m("zone notin (a)"), Ok(true));
        assert_eq!(m(""), Ok(true));
        assert!(m("app ~ web").is_err());
    }

    /// The fake reads label selectors with the harness's parser: what one refuses, so does the
    /// other (as the API server does: a trailing comma or a space in a key is an error).
    #[test]
    fn label_selectors_follow_the_harness_grammar() {
        let p = pod(json!({"app": "web"}));
        for bad in [
            "app=web,",
            "app=web,,tier=db",
            "my app=web",
            "app in (web",
            "app=(web)",
        ] {
            assert!(LabelSelector::parse(bad).is_err(), "{bad}");
            assert!(
                petset_scenario::expect::Selector::parse(bad).is_err(),
                "{bad}"
            );
        }
        let sel = LabelSelector::parse("app in (web,api),!zone").map(|sel| sel.matches(&p));
        assert_eq!(sel, Ok(true));
    }

    #[test]
    fn object_form_round_trips_to_query() {
        let sel = LabelSelector::from_object(&json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["db"]}]
        }));
        assert!(sel.matches(&pod(json!({"app": "web", "tier": "db"}))));
        assert!(!sel.matches(&pod(json!({"app": "web"}))));
        assert_eq!(sel.to_query(), "app=web,tier in (db)");
    }

    #[test]
    fn field_selectors() {
        let p = pod(json!({}));
        let m = |s: &str| FieldSelector::parse(s).map(|sel| sel.matches(&p));
        assert_eq!(m("metadata.name=web-0"), Ok(true));
        assert_eq!(m("metadata.name=web-0,metadata.namespace!=ns"), Ok(false));
        assert_eq!(m("status.phase==Running"), Ok(true));
        assert!(m("metadata.name").is_err());
    }
}
