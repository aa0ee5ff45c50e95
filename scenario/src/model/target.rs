//! What a step acts on: one object (`pod/web-0`) or a set (`{kind: pod, selector: app=web}`).

use super::{Kind, ParsedSelector, SelectorTemplate, TemplateError, Variables};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::borrow::Cow;
use std::fmt;

/// The object or objects a step is about.
///
/// Written either the way kubectl takes one object, `pod/web-0` or `sts/web`, or as a map naming
/// a kind and optionally a name or a label selector: `{kind: pod, selector: app=web}`. Names and
/// selectors may use `${...}` variables, which are substituted when the step runs: `S` is the
/// selector as written ([`SelectorTemplate`]) in a scenario, and parsed with the run's values
/// ([`ParsedSelector`]) in the [`ResolvedTarget`] a step acts on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Target<S = SelectorTemplate> {
    pub kind: Kind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A label selector in kubectl's syntax: `app=web,tier!=db`, `env in (a,b)`, `!legacy`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selector: Option<S>,
}

/// A target with its variables substituted and its selector parsed: what a step lists, watches
/// and matches.
pub type ResolvedTarget = Target<ParsedSelector>;

impl<S> Target<S> {
    pub fn object(kind: Kind, name: impl Into<String>) -> Self {
        Self {
            kind,
            name: Some(name.into()),
            selector: None,
        }
    }

    /// True when the target names exactly one object.
    pub fn is_single(&self) -> bool {
        self.name.is_some()
    }
}

impl Target {
    /// The target with `vars` substituted in its name and selector, the selector parsed; the
    /// error names a missing variable, or one whose value breaks the selector.
    pub fn resolve(&self, vars: &Variables) -> Result<ResolvedTarget, TemplateError> {
        Ok(Target {
            kind: self.kind,
            name: self
                .name
                .as_deref()
                .map(|name| vars.substitute(name))
                .transpose()
                .map_err(TemplateError::Substitution)?,
            selector: self
                .selector
                .as_ref()
                .map(|selector| selector.resolve(vars))
                .transpose()?,
        })
    }
}

impl<S: fmt::Display> fmt::Display for Target<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.name, &self.selector) {
            (Some(name), _) => write!(f, "{}/{}", self.kind, name),
            (None, Some(selector)) => write!(f, "{} -l {}", self.kind.plural(), selector),
            (None, None) => f.write_str(self.kind.plural()),
        }
    }
}

/// The map form, with the same strictness as every other scenario type.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct TargetFields {
    kind: Kind,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    selector: Option<SelectorTemplate>,
}

fn parse_object_ref<E: de::Error>(text: &str) -> Result<Target, E> {
    let Some((kind, name)) = text.split_once('/') else {
        return Err(E::custom(format!(
            "`{text}` is not an object reference; write it as kind/name, e.g. `pod/web-0`, \
             or as a map: {{kind: pod, selector: app=web}}"
        )));
    };
    if name.is_empty() {
        return Err(E::custom(format!("`{text}` has no name after the `/`")));
    }
    let kind = kind.parse::<Kind>().map_err(E::custom)?;
    Ok(Target::object(kind, name))
}

impl<'de> Deserialize<'de> for Target {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TargetVisitor;

        impl<'de> Visitor<'de> for TargetVisitor {
            type Value = Target;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("kind/name (e.g. `pod/web-0`) or a map {kind, name or selector}")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Target, E> {
                parse_object_ref(text)
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Target, A::Error> {
                let fields = TargetFields::deserialize(de::value::MapAccessDeserializer::new(map))?;
                if fields.name.is_some() && fields.selector.is_some() {
                    return Err(de::Error::custom(
                        "give either `name` or `selector`, not both",
                    ));
                }
                Ok(Target {
                    kind: fields.kind,
                    name: fields.name,
                    selector: fields.selector,
                })
            }
        }

        deserializer.deserialize_any(TargetVisitor)
    }
}

impl JsonSchema for Target {
    fn schema_name() -> Cow<'static, str> {
        "Target".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let kind = generator.subschema_for::<Kind>();
        let pattern = format!("^(?:{})/.+$", Kind::schema_alternatives());
        json_schema!({
            "description": "One object as kind/name (`pod/web-0`), or {kind, name} / {kind, selector}.",
            "oneOf": [
                { "type": "string", "pattern": pattern },
                {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["kind"],
                    "properties": {
                        "kind": kind,
                        "name": { "type": "string" },
                        "selector": { "type": "string" }
                    },
                    "not": { "required": ["name", "selector"] }
                }
            ]
        })
    }
}
