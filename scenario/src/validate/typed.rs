//! Checking an object against its k8s-openapi type: fields the type does not have and values
//! outside a field's allowed set, with their paths.
//!
//! k8s-openapi's types ignore unknown fields, as the API server does by default; kubectl's
//! client-side validation rejects them, and so do we. The object is deserialized through a
//! wrapper deserializer that sees each struct's field list (`deserialize_struct` is handed it)
//! and the object's keys, so it finds every unknown field in one pass, with its path and the
//! fields that would have been valid there. This is the one walker: the scenario checks and
//! petset's fake API server (which maps the findings to the API server's answers) both call it
//! through [`check_object`].

use k8s_openapi::api::{apps, core, discovery, policy, storage};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::cell::RefCell;

/// One type's walk.
type Check = fn(&Value) -> Findings;

/// The typed checks by `apiVersion` and kind: the kinds a scenario may apply, and the few more
/// an API server stores (namespaces, service accounts).
const TYPES: &[(&str, &str, Check)] = &[
    ("v1", "Pod", check::<core::v1::Pod>),
    ("v1", "Service", check::<core::v1::Service>),
    ("v1", "Endpoints", check::<core::v1::Endpoints>),
    (
        "v1",
        "PersistentVolumeClaim",
        check::<core::v1::PersistentVolumeClaim>,
    ),
    (
        "v1",
        "PersistentVolume",
        check::<core::v1::PersistentVolume>,
    ),
    ("v1", "ConfigMap", check::<core::v1::ConfigMap>),
    ("v1", "Secret", check::<core::v1::Secret>),
    ("v1", "Event", check::<core::v1::Event>),
    ("v1", "Namespace", check::<core::v1::Namespace>),
    ("v1", "ServiceAccount", check::<core::v1::ServiceAccount>),
    ("apps/v1", "StatefulSet", check::<apps::v1::StatefulSet>),
    ("apps/v1", "Deployment", check::<apps::v1::Deployment>),
    ("apps/v1", "ReplicaSet", check::<apps::v1::ReplicaSet>),
    (
        "apps/v1",
        "ControllerRevision",
        check::<apps::v1::ControllerRevision>,
    ),
    (
        "discovery.k8s.io/v1",
        "EndpointSlice",
        check::<discovery::v1::EndpointSlice>,
    ),
    (
        "policy/v1",
        "PodDisruptionBudget",
        check::<policy::v1::PodDisruptionBudget>,
    ),
    (
        "storage.k8s.io/v1",
        "StorageClass",
        check::<storage::v1::StorageClass>,
    ),
];

/// The typed check of `api_version`/`kind`, if k8s-openapi's type for it is listed.
pub(crate) fn checker(api_version: &str, kind: &str) -> Option<Check> {
    TYPES
        .iter()
        .find(|(version, name, _)| *version == api_version && *name == kind)
        .map(|(_, _, check)| *check)
}

/// Walks `object` as the k8s-openapi type of `api_version`/`kind`, collecting unknown fields,
/// values outside their field's allowed set and the first type error, each with its path.
/// `None` when no type is known for that kind (custom resources, say).
///
/// `check_object("apps/v1", "StatefulSet", &object).map(|f| f.unknown.len())`
pub fn check_object(api_version: &str, kind: &str, object: &Value) -> Option<Findings> {
    checker(api_version, kind).map(|check| check(object))
}

/// A path into a manifest, e.g. `spec.template.spec.containers[0].image`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JsonPath(pub Vec<crate::yaml::PathPart>);

impl std::fmt::Display for JsonPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::yaml::PathPart;
        for (i, part) in self.0.iter().enumerate() {
            match part {
                PathPart::Key(key) if i == 0 => f.write_str(key)?,
                PathPart::Key(key) => write!(f, ".{key}")?,
                PathPart::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// A field the type does not know.
#[derive(Debug, Clone)]
pub struct UnknownField {
    /// The path of the field itself (its last part is the unknown key).
    pub path: JsonPath,
    pub field: String,
    pub known: &'static [&'static str],
}

/// A value the Kubernetes API does not allow in its field (see [`enums_table`]).
///
/// [`enums_table`]: super::enums_table
#[derive(Debug, Clone)]
pub struct BadValue {
    /// The path of the value (a list item's path ends with its index).
    pub path: JsonPath,
    pub value: String,
    pub allowed: &'static [&'static str],
}

/// What checking one manifest found.
#[derive(Debug, Default)]
pub struct Findings {
    pub unknown: Vec<UnknownField>,
    pub bad_values: Vec<BadValue>,
    /// The first value that does not fit its field's type, with its path.
    pub invalid: Option<(JsonPath, String)>,
}

/// Deserializes `value` as `T`, collecting unknown fields and the first type error.
pub(crate) fn check<T: de::DeserializeOwned>(value: &Value) -> Findings {
    let findings = RefCell::new(Findings::default());
    let result = T::deserialize(Tracker {
        value,
        path: &Path::Root,
        findings: &findings,
    });
    let mut findings = findings.into_inner();
    if let Err(error) = result
        && findings.invalid.is_none()
    {
        findings.invalid = Some((JsonPath::default(), error.to_string()));
    }
    findings
}

enum Path<'p, 'de> {
    Root,
    Key(&'p Path<'p, 'de>, &'de str),
    Index(&'p Path<'p, 'de>, usize),
}

impl Path<'_, '_> {
    fn to_json_path(&self) -> JsonPath {
        use crate::yaml::PathPart;
        let mut parts = Vec::new();
        let mut at = self;
        loop {
            match at {
                Path::Root => break,
                Path::Key(parent, key) => {
                    parts.push(PathPart::Key((*key).to_owned()));
                    at = parent;
                }
                Path::Index(parent, index) => {
                    parts.push(PathPart::Index(*index));
                    at = parent;
                }
            }
        }
        parts.reverse();
        JsonPath(parts)
    }
}

struct Tracker<'p, 'de> {
    value: &'de Value,
    path: &'p Path<'p, 'de>,
    findings: &'p RefCell<Findings>,
}

/// The values the API allows in `field` of the type serde knows as `type_name`, if listed.
fn allowed_values(type_name: &str, field: &str) -> Option<&'static [&'static str]> {
    super::enums_table::ENUMS
        .iter()
        .find(|(name, key, _)| *name == type_name && *key == field)
        .map(|(_, _, allowed)| *allowed)
}

impl Tracker<'_, '_> {
    /// Notes a string (or each string of a list) that is not one of `allowed`. Other types are
    /// left to the type check.
    fn check_values(&self, path: &Path<'_, '_>, value: &Value, allowed: &'static [&'static str]) {
        let note = |path: &Path<'_, '_>, text: &str| {
            if !allowed.contains(&text) {
                self.findings.borrow_mut().bad_values.push(BadValue {
                    path: path.to_json_path(),
                    value: text.to_owned(),
                    allowed,
                });
            }
        };
        match value {
            Value::String(text) => note(path, text),
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    if let Value::String(text) = item {
                        note(&Path::Index(path, index), text);
                    }
                }
            }
            _ => {}
        }
    }

    /// Records where an error arose; the innermost tracker sees it first.
    fn note(&self, error: serde_json::Error) -> serde_json::Error {
        let mut findings = self.findings.borrow_mut();
        if findings.invalid.is_none() {
            findings.invalid = Some((self.path.to_json_path(), error.to_string()));
        }
        error
    }
}

macro_rules! delegate {
    ($($method:ident),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
                self.value.$method(visitor).map_err(|error| self.note(error))
            }
        )*
    };
}

impl<'p, 'de> Deserializer<'de> for Tracker<'p, 'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        let result = match self.value {
            Value::Object(map) => visitor.visit_map(MapTracker {
                iter: map.iter(),
                pending: None,
                path: self.path,
                findings: self.findings,
            }),
            Value::Array(items) => visitor.visit_seq(SeqTracker {
                iter: items.iter().enumerate(),
                path: self.path,
                findings: self.findings,
            }),
            other => other.deserialize_any(visitor),
        };
        result.map_err(|error| self.note(error))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let Value::Object(map) = self.value else {
            return self
                .value
                .deserialize_struct(name, fields, visitor)
                .map_err(|error| self.note(error));
        };
        for (key, value) in map {
            if !fields.contains(&key.as_str()) {
                let path = Path::Key(self.path, key);
                self.findings.borrow_mut().unknown.push(UnknownField {
                    path: path.to_json_path(),
                    field: key.clone(),
                    known: fields,
                });
            } else if let Some(allowed) = allowed_values(name, key) {
                self.check_values(&Path::Key(self.path, key), value, allowed);
            }
        }
        self.deserialize_any(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.value {
            Value::Object(_) => self.deserialize_any(visitor),
            other => other
                .deserialize_map(visitor)
                .map_err(|error| self.note(error)),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.value {
            Value::Array(_) => self.deserialize_any(visitor),
            other => other
                .deserialize_seq(visitor)
                .map_err(|error| self.note(error)),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.value
            .deserialize_enum(name, variants, visitor)
            .map_err(|error| self.note(error))
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.value
            .deserialize_unit_struct(name, visitor)
            .map_err(|error| self.note(error))
    }

    delegate!(
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_unit,
        deserialize_identifier,
        deserialize_ignored_any,
    );
}

struct MapTracker<'p, 'de> {
    iter: serde_json::map::Iter<'de>,
    pending: Option<(&'de str, &'de Value)>,
    path: &'p Path<'p, 'de>,
    findings: &'p RefCell<Findings>,
}

impl<'p, 'de> MapAccess<'de> for MapTracker<'p, 'de> {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        let Some((key, value)) = self.iter.next() else {
            return Ok(None);
        };
        self.pending = Some((key.as_str(), value));
        seed.deserialize(de::value::BorrowedStrDeserializer::new(key.as_str()))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        let Some((key, value)) = self.pending.take() else {
            return Err(de::Error::custom("a value was asked for before its key"));
        };
        let path = Path::Key(self.path, key);
        seed.deserialize(Tracker {
            value,
            path: &path,
            findings: self.findings,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

struct SeqTracker<'p, 'de> {
    iter: std::iter::Enumerate<std::slice::Iter<'de, Value>>,
    path: &'p Path<'p, 'de>,
    findings: &'p RefCell<Findings>,
}

impl<'p, 'de> SeqAccess<'de> for SeqTracker<'p, 'de> {
    type Error = serde_json::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        let Some((index, value)) = self.iter.next() else {
            return Ok(None);
        };
        let path = Path::Index(self.path, index);
        seed.deserialize(Tracker {
            value,
            path: &path,
            findings: self.findings,
        })
        .map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::StatefulSet;

    #[test]
    fn finds_every_unknown_field_with_its_path() {
        let manifest = serde_json::json!({
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "web", "lables": {"a": "b"}},
            "spec": {
                "replica": 3,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {"spec": {"containers": [{"name": "c", "imag": "x"}]}}
            }
        });
        let findings = check::<StatefulSet>(&manifest);
        let paths: Vec<String> = findings
            .unknown
            .iter()
            .map(|u| u.path.to_string())
            .collect();
        assert_eq!(
            paths,
            [
                "metadata.lables",
                "spec.replica",
                "spec.template.spec.containers[0].imag"
            ]
        );
        assert!(findings.unknown[1].known.contains(&"replicas"));
        assert!(findings.invalid.is_none(), "{:?}", findings.invalid);
    }

    #[test]
    fn check_object_finds_unknown_fields_and_unsupported_values_with_paths() {
        let findings = check_object(
            "apps/v1",
            "StatefulSet",
            &serde_json::json!({
                "apiVersion": "apps/v1",
                "kind": "StatefulSet",
                "metadata": {"name": "web"},
                "spec": {
                    "replicass": 3,
                    "podManagementPolicy": "Paralel",
                    "selector": {"matchLabels": {"app": "web"}},
                    "template": {"spec": {"containers": [
                        {"name": "c", "image": "x", "imagePullPolicy": "Always", "imag": "y"}
                    ]}}
                }
            }),
        )
        .expect("StatefulSet has a type");
        let unknown: Vec<String> = findings
            .unknown
            .iter()
            .map(|u| u.path.to_string())
            .collect();
        assert_eq!(
            unknown,
            ["spec.replicass", "spec.template.spec.containers[0].imag"]
        );
        assert_eq!(findings.bad_values.len(), 1);
        assert_eq!(
            findings.bad_values[0].path.to_string(),
            "spec.podManagementPolicy"
        );
        assert_eq!(findings.bad_values[0].allowed, ["OrderedReady", "Parallel"]);
    }

    #[test]
    fn check_object_passes_clean_objects_and_knows_no_custom_kinds() {
        let clean = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "b"}});
        let findings = check_object("v1", "ConfigMap", &clean).expect("ConfigMap has a type");
        assert!(findings.unknown.is_empty() && findings.bad_values.is_empty());
        assert!(check_object("example.com/v1", "Widget", &serde_json::json!({"x": 1})).is_none());
    }

    #[test]
    fn locates_type_errors() {
        let manifest = serde_json::json!({
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "web"},
            "spec": {"replicas": "three", "selector": {}, "template": {}}
        });
        let findings = check::<StatefulSet>(&manifest);
        let (path, message) = findings.invalid.expect("type error");
        assert_eq!(path.to_string(), "spec.replicas");
        assert!(message.contains("three"), "{message}");
    }
}
