//! Label selectors in kubectl's `-l` syntax: `app=web,tier!=db`, `env in (a,b)`, `!legacy`.

use std::collections::BTreeMap;
use std::fmt;

/// A parsed label selector: every requirement must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    pub requirements: Vec<Requirement>,
}

/// One comma-separated part of a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// Why a selector did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid label selector `{input}`: {reason}")]
pub struct SelectorError {
    pub input: String,
    pub reason: String,
}

impl Selector {
    pub fn parse(input: &str) -> Result<Self, SelectorError> {
        let fail = |reason: String| SelectorError {
            input: input.to_owned(),
            reason,
        };
        let mut requirements = Vec::new();
        for part in split_top_level(input).map_err(fail)? {
            let part = part.trim();
            if part.is_empty() {
                return Err(fail(
                    "an empty requirement (two commas, or a trailing comma)".into(),
                ));
            }
            requirements.push(parse_requirement(part).map_err(fail)?);
        }
        Ok(Self { requirements })
    }

    /// Whether an object with these labels is selected.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements
            .iter()
            .all(|requirement| match requirement {
                Requirement::Equals(key, value) => labels.get(key) == Some(value),
                Requirement::NotEquals(key, value) => labels.get(key) != Some(value),
                Requirement::In(key, values) => labels.get(key).is_some_and(|v| values.contains(v)),
                Requirement::NotIn(key, values) => {
                    !labels.get(key).is_some_and(|v| values.contains(v))
                }
                Requirement::Exists(key) => labels.contains_key(key),
                Requirement::NotExists(key) => !labels.contains_key(key),
            })
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Requirement::Equals(k, v) => write!(f, "{k}={v}"),
            Requirement::NotEquals(k, v) => write!(f, "{k}!={v}"),
            Requirement::In(k, vs) => write!(f, "{k} in ({})", vs.join(",")),
            Requirement::NotIn(k, vs) => write!(f, "{k} notin ({})", vs.join(",")),
            Requirement::Exists(k) => f.write_str(k),
            Requirement::NotExists(k) => write!(f, "!{k}"),
        }
    }
}

/// Splits on commas outside parentheses.
fn split_top_level(input: &str) -> Result<Vec<&str>, String> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (at, c) in input.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| "a `)` without its `(`".to_owned())?;
            }
            ',' if depth == 0 => {
                parts.push(&input[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err("a `(` is never closed".into());
    }
    parts.push(&input[start..]);
    Ok(parts)
}

fn parse_requirement(part: &str) -> Result<Requirement, String> {
    if let Some(key) = part.strip_prefix('!') {
        return Ok(Requirement::NotExists(label_key(key.trim())?));
    }
    if let Some((key, value)) = part.split_once("!=") {
        return Ok(Requirement::NotEquals(
            label_key(key.trim())?,
            label_value(value.trim())?,
        ));
    }
    if let Some((key, value)) = part.split_once("==").or_else(|| part.split_once('=')) {
        return Ok(Requirement::Equals(
            label_key(key.trim())?,
            label_value(value.trim())?,
        ));
    }
    let words: Vec<&str> = part.splitn(2, char::is_whitespace).collect();
    if let [key, rest] = words.as_slice() {
        let rest = rest.trim_start();
        let (negated, list) = if let Some(list) = rest.strip_prefix("notin") {
            (true, list)
        } else if let Some(list) = rest.strip_prefix("in") {
            (false, list)
        } else {
            return Err(format!(
                "`{part}`: expected `=`, `!=`, `in (...)` or `notin (...)` after `{key}`"
            ));
        };
        let list = list.trim();
        let inner = list
            .strip_prefix('(')
            .and_then(|l| l.strip_suffix(')'))
            .ok_or_else(|| format!("`{part}`: the values of `in`/`notin` go in parentheses"))?;
        let values = inner
            .split(',')
            .map(|v| label_value(v.trim()))
            .collect::<Result<Vec<_>, _>>()?;
        let key = label_key(key)?;
        return Ok(if negated {
            Requirement::NotIn(key, values)
        } else {
            Requirement::In(key, values)
        });
    }
    Ok(Requirement::Exists(label_key(part)?))
}

fn label_key(key: &str) -> Result<String, String> {
    let name = match key.rsplit_once('/') {
        Some((prefix, name)) => {
            if prefix.is_empty()
                || prefix.len() > 253
                || !prefix
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
            {
                return Err(format!(
                    "`{key}`: the prefix before `/` must be a DNS subdomain"
                ));
            }
            name
        }
        None => key,
    };
    if !is_label_name(name) {
        return Err(format!(
            "`{key}` is not a label key (letters, digits, `-`, `_`, `.`; at most 63; starting and ending alphanumeric)"
        ));
    }
    Ok(key.to_owned())
}

fn label_value(value: &str) -> Result<String, String> {
    // Values may use `${...}` variables, substituted when the step runs.
    if value.is_empty() || value.contains("${") || is_label_name(value) {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "`{value}` is not a label value (letters, digits, `-`, `_`, `.`; at most 63)"
        ))
    }
}

fn is_label_name(text: &str) -> bool {
    let ends_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    text.len() <= 63
        && ends_ok(text.chars().next())
        && ends_ok(text.chars().last())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_and_matches_kubectl_selectors() {
        let selector =
            Selector::parse("app=web, tier!=db,env in (a, b),!legacy,zone").expect("parses");
        assert_eq!(selector.requirements.len(), 5);
        assert!(selector.matches(&labels(&[("app", "web"), ("env", "a"), ("zone", "z")])));
        assert!(!selector.matches(&labels(&[("app", "web"), ("env", "c"), ("zone", "z")])));
        assert!(!selector.matches(&labels(&[
            ("app", "web"),
            ("env", "a"),
            ("zone", "z"),
            ("legacy", "")
        ])));
        let notin = Selector::parse("app.kubernetes.io/name notin (x)").expect("parses");
        assert!(notin.matches(&labels(&[])));
    }

    #[test]
    fn rejects_malformed_selectors() {
        for bad in [
            "app=",
            "=web",
            "app=web,",
            "env in a,b",
            "env in (a",
            "app = we b",
            "-x=y",
        ] {
            if bad == "app=" {
                // An empty value is allowed: `app=` selects objects whose label is empty.
                assert!(Selector::parse(bad).is_ok());
                continue;
            }
            assert!(Selector::parse(bad).is_err(), "{bad} should fail");
        }
    }
}
