//! Label selectors in kubectl's syntax, parsed and matched locally (for timeline entries and
//! watch events, which the API server does not filter for us).
//!
//! Accepted: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a` (exists), `!a` (does not
//! exist), joined by commas. An empty selector matches everything, as in Kubernetes.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// One requirement of a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

impl Requirement {
    fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        match self {
            Requirement::Equals(key, value) => labels.get(key) == Some(value),
            // As in Kubernetes: an object without the label is "not equal".
            Requirement::NotEquals(key, value) => labels.get(key) != Some(value),
            Requirement::In(key, values) => labels.get(key).is_some_and(|v| values.contains(v)),
            Requirement::NotIn(key, values) => !labels.get(key).is_some_and(|v| values.contains(v)),
            Requirement::Exists(key) => labels.contains_key(key),
            Requirement::DoesNotExist(key) => !labels.contains_key(key),
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Requirement::Equals(key, value) => write!(f, "{key}={value}"),
            Requirement::NotEquals(key, value) => write!(f, "{key}!={value}"),
            Requirement::In(key, values) => write!(f, "{key} in ({})", values.join(",")),
            Requirement::NotIn(key, values) => write!(f, "{key} notin ({})", values.join(",")),
            Requirement::Exists(key) => f.write_str(key),
            Requirement::DoesNotExist(key) => write!(f, "!{key}"),
        }
    }
}

/// A parsed label selector: every requirement must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector {
    pub requirements: Vec<Requirement>,
}

impl Selector {
    pub fn parse(text: &str) -> Result<Self, SelectorError> {
        text.parse()
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.requirements.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join(","))
    }
}

/// Why a selector did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("failed to parse label selector `{selector}`: {reason}")]
pub struct SelectorError {
    pub selector: String,
    pub reason: String,
}

impl FromStr for Selector {
    type Err = SelectorError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let fail = |reason: String| SelectorError {
            selector: text.to_owned(),
            reason,
        };
        if text.trim().is_empty() {
            return Ok(Selector::default());
        }
        let requirements = split_top_level(text)
            .map_err(&fail)?
            .into_iter()
            .map(|part| parse_requirement(part.trim()).map_err(&fail))
            .collect::<Result<_, _>>()?;
        Ok(Selector { requirements })
    }
}

/// Splits at commas outside parentheses: `a in (x,y),b` is two requirements.
fn split_top_level(text: &str) -> Result<Vec<&str>, String> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (index, c) in text.char_indices() {
        match c {
            '(' if depth > 0 => return Err("nested parentheses".to_owned()),
            '(' => depth = 1,
            ')' if depth == 0 => return Err("`)` without `(`".to_owned()),
            ')' => depth = 0,
            ',' if depth == 0 => {
                parts.push(&text[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    if depth > 0 {
        return Err("`(` is never closed".to_owned());
    }
    parts.push(&text[start..]);
    Ok(parts)
}

fn parse_requirement(part: &str) -> Result<Requirement, String> {
    if part.is_empty() {
        return Err("an empty requirement (two commas in a row, or a trailing comma)".to_owned());
    }
    if let Some(key) = part.strip_prefix('!') {
        let key = key.trim();
        check_key(key)?;
        return Ok(Requirement::DoesNotExist(key.to_owned()));
    }
    let key_end = part
        .find(|c: char| c.is_whitespace() || "=!()".contains(c))
        .unwrap_or(part.len());
    let key = &part[..key_end];
    check_key(key)?;
    let rest = part[key_end..].trim_start();
    let owned = key.to_owned();
    if rest.is_empty() {
        return Ok(Requirement::Exists(owned));
    }
    if let Some(value) = rest.strip_prefix("==").or_else(|| rest.strip_prefix('=')) {
        return Ok(Requirement::Equals(owned, checked_value(value)?));
    }
    if let Some(value) = rest.strip_prefix("!=") {
        return Ok(Requirement::NotEquals(owned, checked_value(value)?));
    }
    if let Some(set) = keyword(rest, "notin") {
        return Ok(Requirement::NotIn(owned, parse_set(set, "notin")?));
    }
    if let Some(set) = keyword(rest, "in") {
        return Ok(Requirement::In(owned, parse_set(set, "in")?));
    }
    Err(format!(
        "`{part}`: expected `=`, `==`, `!=`, `in (...)` or `notin (...)` after `{key}`"
    ))
}

/// The text after `word` when `rest` starts with it as a whole word.
fn keyword<'a>(rest: &'a str, word: &str) -> Option<&'a str> {
    let after = rest.strip_prefix(word)?;
    after
        .starts_with(|c: char| c.is_whitespace() || c == '(')
        .then(|| after.trim_start())
}

fn parse_set(text: &str, op: &str) -> Result<Vec<String>, String> {
    let inner = text
        .strip_prefix('(')
        .and_then(|rest| rest.trim_end().strip_suffix(')'))
        .ok_or_else(|| format!("`{op}` needs a parenthesised list, e.g. `{op} (a,b)`"))?;
    if inner.trim().is_empty() {
        return Err(format!("the value list of `{op}` is empty"));
    }
    inner.split(',').map(checked_value).collect()
}

fn checked_value(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.len() > 63 {
        return Err(format!(
            "label value `{value}` is longer than 63 characters"
        ));
    }
    if !value.is_empty() && !is_label_name(value) {
        return Err(format!(
            "invalid label value `{value}`: use letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit"
        ));
    }
    Ok(value.to_owned())
}

fn check_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        let valid_prefix = !prefix.is_empty()
            && prefix.len() <= 253
            && prefix.split('.').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && !part.starts_with('-')
                    && !part.ends_with('-')
            });
        if !valid_prefix {
            return Err(format!(
                "invalid label key prefix `{prefix}` (a DNS subdomain)"
            ));
        }
    }
    if name.is_empty() || name.len() > 63 || !is_label_name(name) {
        return Err(format!(
            "invalid label key `{key}`: the name part must be 1-63 letters, digits, `-`, `_` or `.`, starting and ending with a letter or digit"
        ));
    }
    Ok(())
}

fn is_label_name(text: &str) -> bool {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    edge(text.chars().next())
        && edge(text.chars().last())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn sel(text: &str) -> Selector {
        Selector::parse(text).expect("valid selector")
    }

    #[test]
    fn parses_every_operator() {
        let s = sel("app=web, tier==front,env!=prod,zone in (a, b),role notin (db),canary,!legacy");
        assert_eq!(
            s.requirements,
            vec![
                Requirement::Equals("app".into(), "web".into()),
                Requirement::Equals("tier".into(), "front".into()),
                Requirement::NotEquals("env".into(), "prod".into()),
                Requirement::In("zone".into(), vec!["a".into(), "b".into()]),
                Requirement::NotIn("role".into(), vec!["db".into()]),
                Requirement::Exists("canary".into()),
                Requirement::DoesNotExist("legacy".into()),
            ]
        );
        assert_eq!(
            s.to_string(),
            "app=web,tier=front,env!=prod,zone in (a,b),role notin (db),canary,!legacy"
        );
        assert_eq!(sel(&s.to_string()), s, "display round-trips");
    }

    #[test]
    fn prefixed_keys_and_empty_values() {
        let s = sel(
            "app.kubernetes.io/name=web,statefulset.kubernetes.io/pod-name in (web-0,web-1),x=",
        );
        assert!(s.matches(&labels(&[
            ("app.kubernetes.io/name", "web"),
            ("statefulset.kubernetes.io/pod-name", "web-1"),
            ("x", ""),
        ])));
        assert!(sel("a in(x)").matches(&labels(&[("a", "x")])));
        assert!(sel("index notin(1)").matches(&labels(&[])));
    }

    #[test]
    fn matching_follows_kubernetes() {
        let web0 = labels(&[("app", "web"), ("zone", "a")]);
        let db = labels(&[("app", "db")]);
        assert!(sel("app=web").matches(&web0));
        assert!(!sel("app=web").matches(&db));
        assert!(sel("app!=web").matches(&db));
        assert!(
            sel("zone!=a").matches(&db),
            "missing label counts as not equal"
        );
        assert!(sel("zone in (a,b)").matches(&web0));
        assert!(!sel("zone in (a,b)").matches(&db));
        assert!(sel("zone notin (a)").matches(&db));
        assert!(!sel("zone notin (a)").matches(&web0));
        assert!(sel("zone").matches(&web0) && !sel("zone").matches(&db));
        assert!(sel("!zone").matches(&db) && !sel("!zone").matches(&web0));
        assert!(sel("app=web,zone=a").matches(&web0));
        assert!(!sel("app=web,zone=b").matches(&web0));
        assert!(sel("").matches(&db), "empty selector matches everything");
    }

    #[test]
    fn rejects_malformed_selectors_with_reasons() {
        for (text, reason) in [
            ("app=web,", "empty requirement"),
            ("a in (x", "never closed"),
            ("a in ()", "is empty"),
            ("a in x", "parenthesised list"),
            ("a > 3", "expected `=`"),
            ("-bad=x", "invalid label key"),
            ("a=b c", "invalid label value"),
            ("Bad_Prefix/x=y", "prefix"),
            ("a=(x)", "invalid label value"),
            ("a)=b", "`)` without `(`"),
            ("a in ((x))", "nested"),
        ] {
            let error = Selector::parse(text).expect_err(text);
            assert!(error.to_string().contains(reason), "{text}: {error}");
            assert!(error.to_string().contains(text), "{error}");
        }
        let long = format!("a={}", "v".repeat(64));
        assert!(Selector::parse(&long).is_err());
    }
}
