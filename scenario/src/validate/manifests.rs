//! Manifests a scenario applies: fixture files and inline objects, checked the way kubectl would
//! (typed, unknown fields rejected) and summarised as the objects they create.

use super::kinds;
use super::typed::JsonPath;
use crate::diagnostic::{Diagnostic, SourceFile};
use crate::model::Kind;
use crate::shape::{budget_diagnostic, plain_type, shape_diagnostic, syntax_diagnostic};
use crate::similar;
use crate::yaml::{self, Node, NodeValue, PathPart, Point};
use serde_json::Value;
use std::collections::BTreeMap;

/// An object a manifest creates, with what the reference checks need to know about it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Created {
    /// The manifest's `kind`, e.g. `StatefulSet`.
    pub api_kind: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// Labels of the pods it makes (its pod template), or its own labels for a Pod.
    pub pod_labels: Option<BTreeMap<String, String>>,
    /// StatefulSet `volumeClaimTemplates` names.
    pub claim_templates: Vec<String>,
    /// A Secret's keys (`data` and `stringData`), sorted.
    pub secret_keys: Vec<String>,
}

impl Created {
    pub fn kind(&self) -> Option<Kind> {
        Kind::from_api_kind(&self.api_kind)
    }
}

/// A fixture file, read and checked once however many scenarios apply it.
#[derive(Debug, Default)]
pub(crate) struct Fixture {
    pub problems: Vec<Diagnostic>,
    pub objects: Vec<Created>,
    /// Some document could not be read as an object, so `objects` may lack what it creates.
    pub incomplete: bool,
    /// Checked with a matrix's values: the problems only some combinations have, in the
    /// scenario file at its matrix.
    pub by_combination: Vec<Diagnostic>,
}

/// Reads and checks every document of a fixture file.
pub(crate) fn check_fixture(file: &SourceFile) -> Fixture {
    let mut fixture = Fixture::default();
    // The size limit first, in one streaming parse: the outline below has none.
    if let Err(error) = serde_saphyr::from_str_multiple_with_options::<
        serde::de::IgnoredAny,
        Vec<serde::de::IgnoredAny>,
    >(&file.text, yaml::options())
        && let Some(too_large) = budget_diagnostic(file, &error)
    {
        fixture.problems.push(too_large);
        fixture.incomplete = true;
        return fixture;
    }
    let documents = match yaml::outline(&file.text) {
        Ok(documents) => documents,
        Err(syntax) => {
            fixture.problems.push(syntax_diagnostic(
                file,
                &syntax,
                "fix the YAML syntax of this manifest file",
            ));
            fixture.incomplete = true;
            return fixture;
        }
    };
    for document in &documents {
        if is_empty_document(document) {
            continue;
        }
        let text = positioned(&file.text, document);
        match serde_saphyr::from_str_with_options::<Value>(&text, yaml::options()) {
            Ok(value) => {
                match check_manifest(file, Some(document), &value, 0, &mut fixture.problems) {
                    Some(created) => fixture.objects.push(created),
                    None => fixture.incomplete = true,
                }
            }
            Err(error) => {
                fixture.problems.push(shape_diagnostic(file, &error, 0));
                fixture.incomplete = true;
            }
        }
    }
    fixture
}

pub fn is_empty_document(node: &Node) -> bool {
    matches!(&node.value, NodeValue::Scalar { text, plain: true } if text.is_empty() || text == "~" || text == "null")
}

/// The text of one document alone, at its original lines and columns.
fn positioned(source: &str, node: &Node) -> String {
    let start = node.start.byte.min(source.len());
    let end = node.end.byte.clamp(start, source.len());
    let mut text = String::with_capacity(node.start.line + node.start.column + end - start);
    text.extend(std::iter::repeat_n('\n', node.start.line.saturating_sub(1)));
    text.extend(std::iter::repeat_n(
        ' ',
        node.start.column.saturating_sub(1),
    ));
    text.push_str(&source[start..end]);
    text
}

/// Checks one manifest and returns the object it creates, if it names one.
///
/// `node` is the manifest's outline, used to point at fields; `fallback` is the byte offset to
/// point at when there is none.
pub(crate) fn check_manifest(
    file: &SourceFile,
    node: Option<&Node>,
    value: &Value,
    fallback: usize,
    out: &mut Vec<Diagnostic>,
) -> Option<Created> {
    let at = |path: &[PathPart], point: Point| -> std::ops::Range<usize> {
        match node {
            Some(node) => node.walk(path, point).0.label_range(&file.text),
            None => fallback..fallback,
        }
    };
    let key = |name: &str| PathPart::Key(name.to_owned());

    let Value::Object(map) = value else {
        out.push(
            file.error(
                "manifest::shape",
                at(&[], Point::Value),
                "a manifest must be a mapping",
            )
            .label("not an object")
            .help("write a Kubernetes object: apiVersion, kind, metadata, spec"),
        );
        return None;
    };
    let api_version = map.get("apiVersion").and_then(Value::as_str);
    let kind = map.get("kind").and_then(Value::as_str);
    let (Some(api_version), Some(kind)) = (api_version, kind) else {
        let missing = if api_version.is_none() {
            "apiVersion"
        } else {
            "kind"
        };
        out.push(
            file.error("manifest::shape", at(&[], Point::Value), format!("the manifest has no `{missing}`"))
                .label(format!("`{missing}` missing"))
                .help("every manifest names its `apiVersion` and `kind`, e.g. `apiVersion: apps/v1` and `kind: StatefulSet`"),
        );
        return None;
    };

    let known = Kind::from_api_kind(kind);
    let Some((model_kind, check)) = known.and_then(|k| Some((k, kinds::checker(k)?))) else {
        let (message, help) = if known == Some(Kind::Node) {
            (
                "a scenario must not create or change Node objects".to_owned(),
                "act on nodes with `cordon`, `uncordon` and `drain` steps".to_owned(),
            )
        } else {
            let help = similar::did_you_mean(kind, kinds::applicable()).unwrap_or_else(|| {
                format!(
                    "petset applies these kinds: {}",
                    kinds::applicable().collect::<Vec<_>>().join(", ")
                )
            });
            (
                format!("petset does not apply objects of kind `{kind}`"),
                help,
            )
        };
        out.push(
            file.error("manifest::kind", at(&[key("kind")], Point::Value), message)
                .label("not a kind petset applies")
                .help(help),
        );
        return None;
    };
    if model_kind.api_version() != api_version {
        out.push(
            file.error(
                "manifest::kind",
                at(&[key("apiVersion")], Point::Value),
                format!(
                    "{kind} is served as `{}`, not `{api_version}`",
                    model_kind.api_version()
                ),
            )
            .label("wrong apiVersion")
            .help(format!("write `apiVersion: {}`", model_kind.api_version())),
        );
    }

    let metadata = map.get("metadata");
    let name = metadata
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .filter(|name| !name.is_empty());
    if name.is_none() {
        out.push(
            file.error("manifest::shape", at(&[key("metadata")], Point::Key), format!("the {kind} has no `metadata.name`"))
                .label("name missing")
                .help("give it `metadata: {name: ...}` (`generateName` is not enough: steps refer to objects by name)"),
        );
    }
    if let Some(namespace) = metadata
        .and_then(|m| m.get("namespace"))
        .and_then(Value::as_str)
        && !namespace.contains("${namespace}")
    {
        out.push(
            file.error(
                "manifest::namespace",
                at(&[key("metadata"), key("namespace")], Point::Value),
                format!("`metadata.namespace: {namespace}` is ignored"),
            )
            .label("overridden")
            .help("remove it: petset applies every object into the scenario's own namespace")
            .warning(),
        );
    }

    let mut normalized = value.clone();
    yaml::kubectl_numbers(&mut normalized);
    if let Some(object) = normalized.as_object_mut() {
        // A wrong apiVersion is reported above; check the rest against the served version.
        object.insert("apiVersion".into(), model_kind.api_version().into());
    }
    let findings = check(&normalized);
    for unknown in &findings.unknown {
        let help = similar::did_you_mean(&unknown.field, unknown.known.iter().copied())
            .unwrap_or_else(|| format!("known fields here: {}", unknown.known.join(", ")));
        out.push(
            file.error(
                "manifest::unknown-field",
                at(&unknown.path.0, Point::Key),
                format!("unknown field `{}` in {kind}", unknown.path),
            )
            .label("not a field of this object")
            .help(help),
        );
    }
    for bad in &findings.bad_values {
        let help = similar::did_you_mean(&bad.value, bad.allowed.iter().copied())
            .unwrap_or_else(|| format!("the Kubernetes API allows: {}", bad.allowed.join(", ")));
        out.push(
            file.error(
                "manifest::value",
                at(&bad.path.0, Point::Value),
                format!(
                    "`{}` of the {kind} is `{}`, not one of {}",
                    bad.path,
                    bad.value,
                    bad.allowed.join(", ")
                ),
            )
            .label("not an allowed value")
            .help(help),
        );
    }
    if let Some((path, message)) = &findings.invalid {
        out.push(invalid(
            file,
            &at(&path.0, Point::Value),
            kind,
            path,
            message,
        ));
    }

    Some(summarise(kind, name.unwrap_or_default(), map))
}

fn invalid(
    file: &SourceFile,
    span: &std::ops::Range<usize>,
    kind: &str,
    path: &JsonPath,
    message: &str,
) -> Diagnostic {
    let place = if path.0.is_empty() {
        kind.to_owned()
    } else {
        format!("`{path}` of the {kind}")
    };
    // serde's words: `invalid type: string "two", expected i32`.
    let mismatch = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
        .and_then(|rest| rest.rsplit_once(", expected "));
    let Some((got, expected)) = mismatch else {
        return file
            .error(
                "manifest::invalid",
                span.clone(),
                format!("{place} does not fit its type: {message}"),
            )
            .label("wrong type or value")
            .help("check the field's type in the Kubernetes API reference");
    };
    let wanted = plain_type(expected);
    let help = if got.starts_with("string") && wanted.contains("number") {
        "write the number in digits, without quotes".to_owned()
    } else if wanted == "a single value" || expected.contains("string") {
        "quote it: a value that looks like a number or `true`/`false` is read as one".to_owned()
    } else {
        "check the field's type in the Kubernetes API reference".to_owned()
    };
    file.error(
        "manifest::invalid",
        span.clone(),
        format!("{place}: expected {wanted}, got {got}"),
    )
    .label(format!("not {wanted}"))
    .help(help)
}

fn string_map(value: Option<&Value>) -> BTreeMap<String, String> {
    value
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

fn summarise(kind: &str, name: &str, map: &serde_json::Map<String, Value>) -> Created {
    let labels = string_map(map.get("metadata").and_then(|m| m.get("labels")));
    let spec = map.get("spec");
    let template_labels = spec
        .and_then(|s| s.get("template"))
        .and_then(|t| t.get("metadata"))
        .map(|m| string_map(m.get("labels")));
    let pod_labels = if kind == "Pod" {
        Some(labels.clone())
    } else {
        template_labels
    };
    let claim_templates = spec
        .and_then(|s| s.get("volumeClaimTemplates"))
        .and_then(Value::as_array)
        .map(|claims| {
            claims
                .iter()
                .filter_map(|c| c.get("metadata")?.get("name")?.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let mut secret_keys: Vec<String> = if kind == "Secret" {
        ["data", "stringData"]
            .iter()
            .filter_map(|field| map.get(*field)?.as_object())
            .flat_map(|entries| entries.keys().cloned())
            .collect()
    } else {
        Vec::new()
    };
    secret_keys.sort();
    secret_keys.dedup();
    Created {
        api_kind: kind.to_owned(),
        name: name.to_owned(),
        labels,
        pod_labels,
        claim_templates,
        secret_keys,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STS: &str = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: web\nspec:\n  replica: 3\n  serviceName: nginx\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: nginx, image: nginx:1.27}]\n      volumes: [{name: c, configMap: {name: x, defaultMode: 0755}}]\n  volumeClaimTemplates: [{metadata: {name: www}}]\n---\napiVersion: v1\nkind: Service\nmetadata: {name: nginx}\nspec: {clusterIP: None, ports: [{port: 08}]}\n";

    #[test]
    fn checks_every_document_and_points_at_unknown_fields() {
        let file = SourceFile::new("fixtures/web/sts.yaml", STS);
        let fixture = check_fixture(&file);
        assert_eq!(fixture.objects.len(), 2);
        assert_eq!(fixture.objects[0].claim_templates, ["www"]);
        assert_eq!(fixture.problems.len(), 1, "{:#?}", fixture.problems);
        let problem = &fixture.problems[0];
        assert_eq!((problem.line, problem.column), (6, 3));
        assert_eq!(problem.snippet(), "replica");
        assert_eq!(problem.help.as_deref(), Some("did you mean `replicas`?"));
    }

    #[test]
    fn legacy_octal_is_a_number_like_kubectl_reads_it() {
        let value: Value = serde_saphyr::from_str_with_options(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
            yaml::options(),
        )
        .expect("parses");
        let mut out = Vec::new();
        assert!(check_manifest(&SourceFile::new("x", ""), None, &value, 0, &mut out).is_some());
        let pod: Value =
            serde_saphyr::from_str_with_options("mode: 0755\nplain: 755\n", yaml::options())
                .expect("parses");
        assert_eq!(pod["mode"], 493);
        assert_eq!(pod["plain"], 755);
    }
}
