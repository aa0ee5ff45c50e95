//! Schema checks of written objects: fields the type does not declare and string values outside
//! a field's allowed set, found in one pass with their paths.
//!
//! The object is deserialized into its k8s-openapi type through a wrapper deserializer that is
//! handed each struct's field list (`deserialize_struct`), so it sees unknown keys, and the
//! struct's serde name, so it can look the field up in the table of allowed values. That table is
//! the harness's generated one (`harness/tools/k8s_enums.py`, from the Kubernetes OpenAPI
//! descriptions), read as a path module so both read the same committed file.

use std::cell::RefCell;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

#[path = "../../scenario/src/validate/enums_table.rs"]
mod table;

/// A field the type does not declare, by its path (`spec.replicass`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unknown {
    pub path: String,
}

/// A string value outside its field's allowed set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unsupported {
    pub path: String,
    pub value: String,
    pub allowed: &'static [&'static str],
}

/// What checking one object found.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    pub unknown: Vec<Unknown>,
    pub unsupported: Vec<Unsupported>,
}

/// Checks `object` against the k8s-openapi type of `api_version`/`kind`; types the fake has no
/// schema for pass unchecked.
pub(crate) fn check(api_version: &str, kind: &str, object: &Value) -> Findings {
    use k8s_openapi::api::{apps, core, discovery, policy, storage};
    match (api_version, kind) {
        ("v1", "Namespace") => check_as::<core::v1::Namespace>(object),
        ("v1", "Pod") => check_as::<core::v1::Pod>(object),
        ("v1", "Service") => check_as::<core::v1::Service>(object),
        ("v1", "Endpoints") => check_as::<core::v1::Endpoints>(object),
        ("v1", "PersistentVolumeClaim") => check_as::<core::v1::PersistentVolumeClaim>(object),
        ("v1", "PersistentVolume") => check_as::<core::v1::PersistentVolume>(object),
        ("v1", "ConfigMap") => check_as::<core::v1::ConfigMap>(object),
        ("v1", "Secret") => check_as::<core::v1::Secret>(object),
        ("v1", "ServiceAccount") => check_as::<core::v1::ServiceAccount>(object),
        ("apps/v1", "StatefulSet") => check_as::<apps::v1::StatefulSet>(object),
        ("apps/v1", "Deployment") => check_as::<apps::v1::Deployment>(object),
        ("apps/v1", "ReplicaSet") => check_as::<apps::v1::ReplicaSet>(object),
        ("policy/v1", "PodDisruptionBudget") => check_as::<policy::v1::PodDisruptionBudget>(object),
        ("storage.k8s.io/v1", "StorageClass") => check_as::<storage::v1::StorageClass>(object),
        ("discovery.k8s.io/v1", "EndpointSlice") => {
            check_as::<discovery::v1::EndpointSlice>(object)
        }
        _ => Findings::default(),
    }
}

fn check_as<T: de::DeserializeOwned>(object: &Value) -> Findings {
    let findings = RefCell::new(Findings::default());
    // Type errors are not this check's business (the store keeps JSON as given); only what the
    // walk noted before any error counts.
    let _ = T::deserialize(Tracker {
        value: object,
        path: String::new(),
        findings: &findings,
    });
    findings.into_inner()
}

fn allowed_values(type_name: &str, field: &str) -> Option<&'static [&'static str]> {
    table::ENUMS
        .iter()
        .find(|(name, key, _)| *name == type_name && *key == field)
        .map(|(_, _, allowed)| *allowed)
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

struct Tracker<'a> {
    value: &'a Value,
    path: String,
    findings: &'a RefCell<Findings>,
}

impl Tracker<'_> {
    fn note_unsupported(&self, path: String, value: &Value, allowed: &'static [&'static str]) {
        let note = |path: String, text: &str| {
            if !allowed.contains(&text) {
                self.findings.borrow_mut().unsupported.push(Unsupported {
                    path,
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
                        note(format!("{path}[{index}]"), text);
                    }
                }
            }
            _ => {}
        }
    }
}

macro_rules! delegate {
    ($($method:ident),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
                self.value.$method(visitor)
            }
        )*
    };
}

impl<'de> Deserializer<'de> for Tracker<'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.value {
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
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let Value::Object(map) = self.value else {
            return self.value.deserialize_struct(name, fields, visitor);
        };
        for (key, value) in map {
            if !fields.contains(&key.as_str()) {
                let path = join(&self.path, key);
                self.findings.borrow_mut().unknown.push(Unknown { path });
            } else if let Some(allowed) = allowed_values(name, key) {
                self.note_unsupported(join(&self.path, key), value, allowed);
            }
        }
        self.deserialize_any(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.value {
            Value::Object(_) => self.deserialize_any(visitor),
            other => other.deserialize_map(visitor),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.value {
            Value::Array(_) => self.deserialize_any(visitor),
            other => other.deserialize_seq(visitor),
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
        self.value.deserialize_enum(name, variants, visitor)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.value.deserialize_unit_struct(name, visitor)
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

struct MapTracker<'a> {
    iter: serde_json::map::Iter<'a>,
    pending: Option<(&'a str, &'a Value)>,
    path: String,
    findings: &'a RefCell<Findings>,
}

impl<'de> MapAccess<'de> for MapTracker<'de> {
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
        seed.deserialize(Tracker {
            value,
            path: join(&self.path, key),
            findings: self.findings,
        })
    }
}

struct SeqTracker<'a> {
    iter: std::iter::Enumerate<std::slice::Iter<'a, Value>>,
    path: String,
    findings: &'a RefCell<Findings>,
}

impl<'de> SeqAccess<'de> for SeqTracker<'de> {
    type Error = serde_json::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        let Some((index, value)) = self.iter.next() else {
            return Ok(None);
        };
        seed.deserialize(Tracker {
            value,
            path: format!("{}[{index}]", self.path),
            findings: self.findings,
        })
        .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_unknown_fields_and_unsupported_values_with_paths() {
        let findings = check(
            "apps/v1",
            "StatefulSet",
            &json!({
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
        );
        let unknown: Vec<&str> = findings.unknown.iter().map(|u| u.path.as_str()).collect();
        assert_eq!(
            unknown,
            ["spec.replicass", "spec.template.spec.containers[0].imag"]
        );
        assert_eq!(findings.unsupported.len(), 1);
        assert_eq!(findings.unsupported[0].path, "spec.podManagementPolicy");
        assert_eq!(
            findings.unsupported[0].allowed,
            ["OrderedReady", "Parallel"]
        );
    }

    #[test]
    fn clean_objects_and_unmodelled_kinds_pass() {
        let clean = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "b"}});
        let findings = check("v1", "ConfigMap", &clean);
        assert!(findings.unknown.is_empty() && findings.unsupported.is_empty());
        let other = check("example.com/v1", "Widget", &json!({"whatever": 1}));
        assert!(other.unknown.is_empty());
    }
}
