//! Label and field selectors: the query-string forms and the `LabelSelector` object form.

use serde_json::Value;

use crate::meta;
use crate::status::ApiError;

#[derive(Debug, Clone, PartialEq)]
enum Op {
    Exists,
    NotExists,
    Eq(String),
    NotEq(String),
    In(Vec<String>),
    NotIn(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
struct Requirement {
    key: String,
    op: Op,
}

impl Requirement {
    fn matches(&self, value: Option<&str>) -> bool {
        match (&self.op, value) {
            (Op::Exists, v) => v.is_some(),
            (Op::NotExists, v) => v.is_none(),
            (Op::Eq(want), v) => v == Some(want.as_str()),
            (Op::NotEq(want), v) => v != Some(want.as_str()),
            (Op::In(set), Some(v)) => set.iter().any(|s| s == v),
            (Op::In(_), None) => false,
            (Op::NotIn(set), Some(v)) => !set.iter().any(|s| s == v),
            (Op::NotIn(_), None) => true,
        }
    }
}

/// A parsed `labelSelector` query parameter.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct LabelSelector(Vec<Requirement>);

impl LabelSelector {
    pub(crate) fn parse(s: &str) -> Result<Self, ApiError> {
        let bad = |why: &str| {
            ApiError::bad_request(format!("unable to parse requirement: {why} in {s:?}"))
        };
        let mut reqs = Vec::new();
        for part in split_top_level(s) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            if let Some(key) = part.strip_prefix('!') {
                reqs.push(Requirement {
                    key: key.trim().to_string(),
                    op: Op::NotExists,
                });
            } else if let Some((k, v)) = part.split_once("!=") {
                reqs.push(Requirement {
                    key: k.trim().to_string(),
                    op: Op::NotEq(v.trim().to_string()),
                });
            } else if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
                reqs.push(Requirement {
                    key: k.trim().to_string(),
                    op: Op::Eq(v.trim().to_string()),
                });
            } else if let Some((k, rest)) = split_word(part, " notin ") {
                reqs.push(Requirement {
                    key: k,
                    op: Op::NotIn(parse_set(rest).ok_or_else(|| bad("bad set"))?),
                });
            } else if let Some((k, rest)) = split_word(part, " in ") {
                reqs.push(Requirement {
                    key: k,
                    op: Op::In(parse_set(rest).ok_or_else(|| bad("bad set"))?),
                });
            } else if part.contains(|c: char| c.is_whitespace() || "()<>".contains(c)) {
                return Err(bad("unknown operator"));
            } else {
                reqs.push(Requirement {
                    key: part.to_string(),
                    op: Op::Exists,
                });
            }
        }
        Ok(Self(reqs))
    }

    /// Builds a selector from a `LabelSelector` object (`matchLabels` and `matchExpressions`).
    /// An absent or empty object selects everything, as for PodDisruptionBudgets.
    pub(crate) fn from_object(sel: &Value) -> Self {
        let mut reqs = Vec::new();
        if let Some(ml) = sel.get("matchLabels").and_then(Value::as_object) {
            for (k, v) in ml {
                reqs.push(Requirement {
                    key: k.clone(),
                    op: Op::Eq(v.as_str().unwrap_or("").to_string()),
                });
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
            let op = match e.get("operator").and_then(Value::as_str).unwrap_or("") {
                "In" => Op::In(values),
                "NotIn" => Op::NotIn(values),
                "Exists" => Op::Exists,
                "DoesNotExist" => Op::NotExists,
                // An unknown operator selects nothing, the safe reading.
                _ => Op::In(Vec::new()),
            };
            reqs.push(Requirement { key, op });
        }
        Self(reqs)
    }

    /// The query-string form, as a Scale's `status.selector` carries it.
    pub(crate) fn to_query(&self) -> String {
        self.0
            .iter()
            .map(|r| match &r.op {
                Op::Exists => r.key.clone(),
                Op::NotExists => format!("!{}", r.key),
                Op::Eq(v) => format!("{}={v}", r.key),
                Op::NotEq(v) => format!("{}!={v}", r.key),
                Op::In(s) => format!("{} in ({})", r.key, s.join(",")),
                Op::NotIn(s) => format!("{} notin ({})", r.key, s.join(",")),
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    pub(crate) fn matches(&self, obj: &Value) -> bool {
        self.0.iter().all(|r| {
            let v = meta::labels(obj).find(|(k, _)| *k == r.key).map(|(_, v)| v);
            r.matches(v)
        })
    }
}

/// A parsed `fieldSelector` query parameter (`=`, `==`, `!=` on dotted paths).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct FieldSelector(Vec<Requirement>);

impl FieldSelector {
    pub(crate) fn parse(s: &str) -> Result<Self, ApiError> {
        let mut reqs = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let req = if let Some((k, v)) = part.split_once("!=") {
                Requirement {
                    key: k.trim().to_string(),
                    op: Op::NotEq(v.trim().to_string()),
                }
            } else if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
                Requirement {
                    key: k.trim().to_string(),
                    op: Op::Eq(v.trim().to_string()),
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
            for seg in r.key.split('.') {
                cur = cur.and_then(|c| c.get(seg));
            }
            let text = cur.map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            // Unset fields compare as the empty string, as the real server's field sets do.
            r.matches(Some(text.as_deref().unwrap_or("")))
        })
    }
}

/// Splits on commas that are not inside parentheses.
fn split_top_level(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

fn split_word<'a>(part: &'a str, word: &str) -> Option<(String, &'a str)> {
    part.find(word)
        .map(|i| (part[..i].trim().to_string(), part[i + word.len()..].trim()))
}

fn parse_set(s: &str) -> Option<Vec<String>> {
    let inner = s.strip_prefix('(')?.strip_suffix(')')?;
    Some(
        inner
            .split(',')
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect(),
    )
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
