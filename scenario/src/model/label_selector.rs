//! Label selectors as a scenario writes them: parsed when the file loads (with each `${...}`
//! standing for a placeholder value), and parsed again, once, with the run's values when the
//! step runs. Both use the one selector grammar, [`Selector`].

use super::variables::with_placeholders;
use super::{TemplateError, Variables};
use crate::expect::Selector;
use std::collections::BTreeMap;
use std::fmt;

/// How a selector error starts, so the loader can give it its own code and hint.
pub(crate) const SELECTOR_ERROR: &str = "failed to parse label selector";

/// What to do about a refused selector.
pub(crate) const SELECTOR_HINT: &str =
    "write it as for `kubectl get -l`: `app=web`, `app=web,tier!=db`, `env in (a,b)`";

/// A label selector in kubectl's syntax (`app=web,tier!=db`, `env in (a,b)`, `!legacy`) that
/// may hold `${...}` variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectorTemplate {
    text: String,
    /// The selector itself when the text holds no variables.
    fixed: Option<ParsedSelector>,
}

/// A label selector with nothing left to substitute, parsed: what lists and matches objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedSelector {
    /// As written (after substitution), for messages and the API's `labelSelector`.
    text: String,
    selector: Selector,
}

impl ParsedSelector {
    pub fn parse(text: &str) -> Result<Self, crate::expect::SelectorError> {
        Ok(Self {
            text: text.to_owned(),
            selector: text.parse()?,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn selector(&self) -> &Selector {
        &self.selector
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.selector.matches(labels)
    }
}

/// A selector built rather than written (a Service's `spec.selector`), shown in kubectl's syntax.
impl From<Selector> for ParsedSelector {
    fn from(selector: Selector) -> Self {
        Self {
            text: selector.to_string(),
            selector,
        }
    }
}

impl SelectorTemplate {
    /// Checks `text` for everything that does not depend on the variables' values.
    pub fn parse(text: &str) -> Result<Self, String> {
        if !text.contains("${") {
            let fixed = ParsedSelector::parse(text).map_err(|error| error.to_string())?;
            return Ok(Self {
                text: text.to_owned(),
                fixed: Some(fixed),
            });
        }
        let placeholders = with_placeholders(text)?;
        Selector::parse(&placeholders)
            .map_err(|error| format!("{SELECTOR_ERROR} `{text}`: {}", error.reason))?;
        Ok(Self {
            text: text.to_owned(),
            fixed: None,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The selector, when it holds no variables.
    pub fn fixed(&self) -> Option<&ParsedSelector> {
        self.fixed.as_ref()
    }

    /// The selector with `vars` substituted; the error names a variable whose value breaks it.
    pub fn resolve(&self, vars: &Variables) -> Result<ParsedSelector, TemplateError> {
        match &self.fixed {
            Some(fixed) => Ok(fixed.clone()),
            None => vars.resolve(&self.text, "label selector", |text| {
                ParsedSelector::parse(text).map_err(|error| error.reason)
            }),
        }
    }
}

impl fmt::Display for ParsedSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

super::text_type!(SelectorTemplate, SelectorTemplate::parse);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_is_checked_before_its_values_are_known() {
        let fixed = SelectorTemplate::parse("app=web").expect("valid");
        assert_eq!(fixed.fixed().map(ParsedSelector::as_str), Some("app=web"));
        let per_pod = SelectorTemplate::parse("statefulset.kubernetes.io/pod-name=${pod}")
            .expect("valid with a placeholder");
        assert_eq!(per_pod.fixed(), None);
        let broken = SelectorTemplate::parse("app in ${apps}").expect_err("no list");
        assert!(
            broken.starts_with("failed to parse label selector `app in ${apps}`: `in` needs"),
            "{broken}"
        );
        assert!(SelectorTemplate::parse("app=${x").is_err());
    }

    #[test]
    fn a_value_that_breaks_the_grammar_is_named() {
        let template = SelectorTemplate::parse("app=${app},tier=${tier}").expect("valid");
        let mut vars = Variables::default();
        vars.set("app", "web");
        vars.set("tier", "front end");
        let error = template
            .resolve(&vars)
            .expect_err("a space in a value")
            .to_string();
        assert!(
            error.starts_with(
                "the label selector `app=${app},tier=${tier}` is `app=web,tier=front end` once \
                 `${tier}` is `front end`: invalid label value `front end`"
            ),
            "{error}"
        );
        vars.set("tier", "front");
        let parsed = template.resolve(&vars).expect("valid values");
        assert_eq!(parsed.as_str(), "app=web,tier=front");
    }
}
