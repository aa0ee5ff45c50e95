//! The values of a scenario's `${name}` variables while it runs, and the one substitution of
//! them into text: templates (selectors, request paths) and plain values alike.

use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Display;
use std::ops::Range;

/// For each value put in a text: where its `${name}` was written and where the value went.
pub(crate) type Moved = Vec<(Range<usize>, Range<usize>)>;

/// What a `${name}` stands for when a template is checked before any value is known: a valid
/// label name, label value, DNS label and path segment, so that a template refused with it is
/// refused for every value a variable usually holds (a name, a number, a uid).
pub(crate) const PLACEHOLDER: &str = "x";

/// Why a template (a selector, a request path) could not be filled in with the run's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A variable has no value, or a `${` is not closed.
    #[error("{0}")]
    Substitution(String),
    /// The values make the text break its grammar: a mistake in the scenario.
    #[error("{0}")]
    Grammar(String),
}

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
        fill(text, |name| {
            self.get(name).ok_or_else(|| {
                let known: Vec<&str> = self.values.keys().map(String::as_str).collect();
                format!(
                    "unknown variable `${{{name}}}` (known: {})",
                    known.join(", ")
                )
            })
        })
    }

    /// Replaces every `${name}` naming a known variable and leaves the rest as written, as
    /// `envsubst` given the list of variables does: fixture files carry shell scripts whose own
    /// `${VAR:-default}` expansions are not petset's.
    pub fn substitute_known(&self, text: &str) -> String {
        self.substitute_known_tracked(text).0
    }

    /// [`Self::substitute_known`], with, for each value put in, where its `${name}` was in
    /// `text` and where the value went in the result (byte ranges), so a problem found in the
    /// result can be pointed at in the text as written.
    pub(crate) fn substitute_known_tracked(&self, text: &str) -> (String, Moved) {
        let mut out = String::with_capacity(text.len());
        let mut moved = Vec::new();
        let mut at = 0;
        while let Some(found) = text[at..].find("${") {
            let open = at + found;
            out.push_str(&text[at..open]);
            let name_at = open + 2;
            let value = text[name_at..]
                .find('}')
                .and_then(|close| Some((close, self.get(&text[name_at..name_at + close])?)));
            match value {
                Some((close, value)) => {
                    let end = name_at + close + 1;
                    moved.push((open..end, out.len()..out.len() + value.len()));
                    out.push_str(value);
                    at = end;
                }
                None => {
                    out.push_str("${");
                    at = name_at;
                }
            }
        }
        out.push_str(&text[at..]);
        (out, moved)
    }

    /// Substitutes variables in every string inside a JSON value (manifests, partial objects).
    pub fn substitute_value(&self, value: &Value) -> Result<Value, String> {
        map_strings(value, &mut |text| self.substitute(text))
    }

    /// [`Self::substitute_value`] leaving unknown `${name}`s as written.
    pub(crate) fn substitute_value_known(&self, value: &Value) -> Value {
        let known = map_strings(value, &mut |text| {
            Ok::<_, std::convert::Infallible>(self.substitute_known(text))
        });
        match known {
            Ok(value) => value,
            Err(never) => match never {},
        }
    }

    /// `text` substituted and read by `parse`, for a template (`what`, e.g. `label selector`)
    /// that was checked with [`PLACEHOLDER`] values when the file loaded. When the substituted
    /// text does not parse, the error names the variables whose values broke it: each one that
    /// breaks it on its own, or all of them when only their combination does.
    pub(crate) fn resolve<T, E: Display>(
        &self,
        text: &str,
        what: &str,
        parse: impl Fn(&str) -> Result<T, E>,
    ) -> Result<T, TemplateError> {
        let substituted = self.substitute(text).map_err(TemplateError::Substitution)?;
        let error = match parse(&substituted) {
            Ok(parsed) => return Ok(parsed),
            Err(error) => error,
        };
        let names = variable_names(text);
        let alone = |culprit: &str| {
            fill(text, |name| {
                Ok::<_, String>(if name == culprit {
                    self.get(name).unwrap_or(PLACEHOLDER)
                } else {
                    PLACEHOLDER
                })
            })
            .is_ok_and(|text| parse(&text).is_err())
        };
        let culprits: Vec<&str> = names.iter().copied().filter(|name| alone(name)).collect();
        let culprits = if culprits.is_empty() { names } else { culprits };
        let values: Vec<String> = culprits
            .iter()
            .map(|name| format!("`${{{name}}}` is `{}`", self.get(name).unwrap_or_default()))
            .collect();
        Err(TemplateError::Grammar(format!(
            "the {what} `{text}` is `{substituted}` once {}: {error}",
            values.join(" and ")
        )))
    }
}

/// `value` with `map` applied to every string in it, keys included.
fn map_strings<E>(
    value: &Value,
    map: &mut impl FnMut(&str) -> Result<String, E>,
) -> Result<Value, E> {
    Ok(match value {
        Value::String(text) => Value::String(map(text)?),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| map_strings(item, map))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(fields) => {
            let mut out = serde_json::Map::with_capacity(fields.len());
            for (key, item) in fields {
                out.insert(map(key)?, map_strings(item, map)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

/// `text` with every `${name}` replaced by what `value` gives for it; an unclosed `${` or a
/// refused name is an error.
pub(crate) fn fill<'v, E: From<String>>(
    text: &str,
    mut value: impl FnMut(&str) -> Result<&'v str, E>,
) -> Result<String, E> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(E::from(format!("unclosed `${{` in `{text}`")));
        };
        out.push_str(value(&after[..end])?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The names of the variables `text` uses, each once, in order.
fn variable_names(text: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some((name, after)) = rest
        .split_once("${")
        .and_then(|(_, after)| after.split_once('}'))
    {
        if !names.contains(&name) {
            names.push(name);
        }
        rest = after;
    }
    names
}

/// `text` with every variable replaced by [`PLACEHOLDER`], for checking a template's grammar
/// before any value is known.
pub(crate) fn with_placeholders(text: &str) -> Result<String, String> {
    fill(text, |_| Ok::<_, String>(PLACEHOLDER))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutes_known_variables_and_names_unknown_ones() {
        let mut vars = Variables::default();
        vars.set("namespace", "petset-x1");
        vars.set("pod", "web-0");
        assert_eq!(
            vars.substitute_known_tracked("a${pod}b${HOME}"),
            ("aweb-0b${HOME}".to_owned(), vec![(1..7, 1..6)])
        );
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
        assert_eq!(with_placeholders("a=${b},${c}"), Ok("a=x,x".to_owned()));
    }

    #[test]
    fn a_template_broken_by_a_value_names_the_variable_that_broke_it() {
        let mut vars = Variables::default();
        vars.set("good", "web");
        vars.set("bad", "a b");
        let no_spaces = |text: &str| {
            if text.contains(' ') {
                Err("a space")
            } else {
                Ok(text.to_owned())
            }
        };
        assert_eq!(
            vars.resolve("${good}-${bad}", "name", no_spaces),
            Err(TemplateError::Grammar(
                "the name `${good}-${bad}` is `web-a b` once `${bad}` is `a b`: a space".to_owned()
            ))
        );
        assert_eq!(
            vars.resolve("${good}", "name", no_spaces),
            Ok("web".to_owned())
        );
    }
}
