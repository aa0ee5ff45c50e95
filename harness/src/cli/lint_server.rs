//! `petset lint --server`: every manifest the scenarios apply, sent to the cluster as a
//! server-side-apply dry run with strict field validation, the server's objections reported at
//! the manifest's lines.
//!
//! No offline table is complete; the API server is the judge when there is one. The manifests
//! are prepared as `apply` prepares them (variables substituted, forced into a namespace,
//! labelled) in a scratch namespace petset creates, labelled and heart-beaten like a scenario's
//! so a sweep finds it if petset is killed, and deletes afterwards whatever happened.

use kube::api::{Patch, PatchParams, ValidationDirective};
use petset::api::{ApiError, dynamic_api, with_retry};
use petset::cluster::{Selection, select};
use petset::engine::{
    Heartbeat, create_namespace, delete_namespace, namespace_name, scenario_labels,
};
use petset::events::ScenarioId;
use petset::scenario::diagnostic::{Diagnostic, SourceFile};
use petset::scenario::model::{Scenario, Step};
use petset::scenario::validate::is_empty_document;
use petset::scenario::yaml::{self, Node, PathPart, Point};
use petset::steps::manifest::{parse_documents, prepare};
use petset::steps::{FIELD_MANAGER, Variables};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::time::Instant;

/// How long setting up and tearing down the scratch namespace may take, each.
const NAMESPACE_DEADLINE: Duration = Duration::from_secs(60);
/// How often the scratch namespace's heartbeat is refreshed (as a scenario's is by default).
const HEARTBEAT_EVERY: Duration = Duration::from_secs(10);
/// How long one dry run may take, retries of transient failures included.
const DRY_RUN_DEADLINE: Duration = Duration::from_secs(30);

/// A scenario that loaded (perhaps with errors elsewhere), to have its manifests judged.
pub(crate) struct ScenarioToJudge {
    pub scenario: Scenario,
    pub source: SourceFile,
}

/// One manifest to send, and where to point when the server objects to it.
struct Manifest {
    body: Value,
    /// The file to point into (a fixture or the scenario) and the manifest's outline there.
    file: SourceFile,
    node: Option<Node>,
}

/// Runs the dry runs against the cluster the environment selects. `Err` means petset could not
/// ask (no cluster, the namespace could not be made, a call failed for a reason that is not an
/// objection to the manifest); `Ok` carries the objections.
pub(crate) fn lint_on_server(
    root: &Path,
    cwd: &Path,
    scenarios: &[ScenarioToJudge],
) -> Result<Vec<Diagnostic>, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("failed to start the async runtime: {e}"))?;
    runtime.block_on(async {
        let cluster = match select().await.map_err(|e| petset::cluster::chain(&e))? {
            Selection::Connected(cluster) => cluster,
            Selection::Unavailable(why) => {
                return Err(format!(
                    "`petset lint --server` needs a cluster, and there is none: {}",
                    why.reason()
                ));
            }
        };
        let client = cluster.client();
        let id = ScenarioId {
            area: "lint".to_owned(),
            name: "server".to_owned(),
        };
        let namespace = namespace_name(&id);
        let labels = scenario_labels(&format!("lint-{}", std::process::id()));
        let setup = Instant::now() + NAMESPACE_DEADLINE;
        if let Err(error) = create_namespace(&client, &namespace, &id, &labels, setup).await {
            // A create that landed although its answer was lost must not outlive the run.
            let teardown = Instant::now() + NAMESPACE_DEADLINE;
            let _ = delete_namespace(&client, &namespace, teardown).await;
            let _ = cluster.teardown().await;
            return Err(format!("failed to create the scratch namespace: {error}"));
        }
        let heartbeat = Heartbeat::start(&client, &namespace, HEARTBEAT_EVERY);
        let manifests = collect(root, cwd, scenarios, &namespace, &labels);
        let judged = judge(&client, &namespace, manifests).await;
        drop(heartbeat);
        let teardown = Instant::now() + NAMESPACE_DEADLINE;
        let deleted = delete_namespace(&client, &namespace, teardown).await;
        // A cluster petset started for this (the embedded k3s) goes too, unless kept.
        let torn_down = cluster.teardown().await;
        let diagnostics = judged?;
        deleted.map_err(|e| format!("failed to delete the scratch namespace {namespace}: {e}"))?;
        torn_down.map_err(|e| petset::cluster::chain(&e))?;
        Ok(diagnostics)
    })
}

/// Every manifest the scenarios apply, each fixture document once.
fn collect(
    root: &Path,
    cwd: &Path,
    scenarios: &[ScenarioToJudge],
    namespace: &str,
    labels: &BTreeMap<String, String>,
) -> Vec<Manifest> {
    let mut vars = Variables::default();
    vars.set("namespace", namespace);
    let mut seen_fixtures = BTreeSet::new();
    let mut out = Vec::new();
    for ScenarioToJudge { scenario, source } in scenarios {
        let outline = petset::scenario::load::outline_root(&source.text);
        // Values captured during a run cannot be known here: what uses one is not sent (a
        // literal `${name}` would draw an objection the run would never meet).
        let captured: Vec<String> = scenario
            .steps
            .iter()
            .filter_map(|step| match &step.value {
                Step::Capture(capture) => Some(format!("${{{}}}", capture.name)),
                _ => None,
            })
            .collect();
        let uses_capture = |text: &str| captured.iter().any(|c| text.contains(c.as_str()));
        for (index, step) in scenario.steps.iter().enumerate() {
            let Step::Apply(apply) = &step.value else {
                continue;
            };
            for file in &apply.files {
                if seen_fixtures.insert(file.value.clone()) {
                    out.extend(fixture(root, cwd, &file.value, &vars, &uses_capture));
                }
            }
            for (position, manifest) in apply.manifests.iter().enumerate() {
                let path = [
                    PathPart::Key("steps".into()),
                    PathPart::Index(index),
                    PathPart::Key("apply".into()),
                    PathPart::Key("manifests".into()),
                    PathPart::Index(position),
                ];
                let node = outline.as_ref().and_then(|root| {
                    let (node, followed) = root.walk(&path, Point::Value);
                    (followed == path.len()).then(|| node.clone())
                });
                // Substituted as text, as `apply` substitutes fixtures: captures are not known
                // before the run and stay as written.
                let Ok(text) = serde_json::to_string(&manifest.value) else {
                    continue;
                };
                if uses_capture(&text) {
                    continue;
                }
                let Ok(body) = serde_json::from_str(&vars.substitute_known(&text)) else {
                    continue;
                };
                out.push(Manifest {
                    body,
                    file: source.clone(),
                    node,
                });
            }
        }
    }
    out.into_iter()
        .filter_map(|mut manifest| {
            // What `apply` would refuse itself, offline lint has reported already.
            let prepared = prepare(manifest.body, namespace, labels).ok()?;
            manifest.body = prepared.body;
            Some(manifest)
        })
        .collect()
}

/// The offline diagnostics with the server's objections added, grouped by file.
///
/// Where the server objects at a line the offline check flagged for an unknown field or value,
/// the server's word replaces ours: one problem, said once. Files the server objected to lead,
/// as causes do; each file's problems are in line order.
pub(crate) fn merge(offline: Vec<Diagnostic>, rejected: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let flagged: BTreeSet<(PathBuf, usize)> =
        rejected.iter().map(|d| (d.path.clone(), d.line)).collect();
    let repeated = |d: &Diagnostic| {
        matches!(d.code, "manifest::unknown-field" | "manifest::value")
            && flagged.contains(&(d.path.clone(), d.line))
    };
    let mut files: Vec<(PathBuf, Vec<Diagnostic>)> = Vec::new();
    let mut index: BTreeMap<PathBuf, usize> = BTreeMap::new();
    for diagnostic in rejected.into_iter().chain(offline) {
        if repeated(&diagnostic) {
            continue;
        }
        let at = *index.entry(diagnostic.path.clone()).or_insert_with(|| {
            files.push((diagnostic.path.clone(), Vec::new()));
            files.len() - 1
        });
        files[at].1.push(diagnostic);
    }
    files
        .into_iter()
        .flat_map(|(_, mut diagnostics)| {
            diagnostics.sort_by_key(|d| (d.line, d.column));
            diagnostics
        })
        .collect()
}

/// The documents of one fixture, with their outlines in the file as written.
fn fixture(
    root: &Path,
    cwd: &Path,
    name: &str,
    vars: &Variables,
    uses_capture: &dyn Fn(&str) -> bool,
) -> Vec<Manifest> {
    let on_disk = root.join("fixtures").join(name);
    let Ok(text) = std::fs::read_to_string(&on_disk) else {
        return Vec::new();
    };
    if uses_capture(&text) {
        return Vec::new();
    }
    let shown: PathBuf = on_disk.strip_prefix(cwd).unwrap_or(&on_disk).to_path_buf();
    let file = SourceFile::new(shown, text.as_str());
    let Ok(documents) = parse_documents(&vars.substitute_known(&text)) else {
        return Vec::new();
    };
    let outlines: Vec<Node> = yaml::outline(&text)
        .map(|docs| {
            docs.into_iter()
                .filter(|doc| !is_empty_document(doc))
                .collect()
        })
        .unwrap_or_default();
    let aligned = outlines.len() == documents.len();
    documents
        .into_iter()
        .enumerate()
        .map(|(index, body)| Manifest {
            body,
            file: file.clone(),
            node: aligned.then(|| outlines[index].clone()),
        })
        .collect()
}

/// Sends each manifest as a dry run; the server's refusals become diagnostics.
async fn judge(
    client: &kube::Client,
    namespace: &str,
    manifests: Vec<Manifest>,
) -> Result<Vec<Diagnostic>, String> {
    let mut params = PatchParams::apply(FIELD_MANAGER).force();
    params.dry_run = true;
    params.field_validation = Some(ValidationDirective::Strict);
    let mut out = Vec::new();
    for manifest in manifests {
        let api_kind = manifest.body.get("kind").and_then(Value::as_str);
        let name = manifest
            .body
            .pointer("/metadata/name")
            .and_then(Value::as_str);
        let (Some(api_kind), Some(name)) = (api_kind, name) else {
            continue;
        };
        let Some(kind) = petset::scenario::model::Kind::from_api_kind(api_kind) else {
            continue;
        };
        let api = dynamic_api(client, kind, namespace);
        let what = format!("dry-run apply {api_kind} {name}");
        let patch = Patch::Apply(&manifest.body);
        let deadline = Instant::now() + DRY_RUN_DEADLINE;
        let dry_run = || async { api.patch(name, &params, &patch).await.map_err(as_refusal) };
        match with_retry(&what, deadline, dry_run).await {
            Ok(_) => {}
            Err(ApiError::Failed {
                source: kube::Error::Api(status),
                ..
            }) if matches!(status.code, 400 | 422) => {
                out.extend(objections(&manifest, api_kind, name, namespace, &status));
            }
            Err(error) => return Err(error.to_string()),
        }
    }
    Ok(out)
}

/// A schema error of a server-side apply as the refusal it is. Servers before
/// kubernetes/kubernetes#119178 answer it `500` (kubernetes/kubernetes#122480), which would
/// otherwise be retried as a server fault until the deadline; newer ones answer `400`.
fn as_refusal(error: kube::Error) -> kube::Error {
    match error {
        kube::Error::Api(mut status)
            if status.code == 500 && status.message.contains("field not declared in schema") =>
        {
            status.code = 400;
            kube::Error::Api(status)
        }
        other => other,
    }
}

/// One diagnostic per field the server names (its `causes`), or one for the whole refusal.
///
/// The scratch namespace's random name reads as `${namespace}` in the server's messages, so
/// they say the same on every run.
fn objections(
    manifest: &Manifest,
    kind: &str,
    name: &str,
    namespace: &str,
    status: &kube::core::Status,
) -> Vec<Diagnostic> {
    let mut status = status.clone();
    status.message = status.message.replace(namespace, "${namespace}");
    let causes: Vec<(String, String)> = status
        .details
        .iter()
        .flat_map(|details| &details.causes)
        .filter(|cause| !cause.field.is_empty())
        .map(|cause| {
            (
                cause.field.clone(),
                cause.message.replace(namespace, "${namespace}"),
            )
        })
        .collect();
    let said: Vec<(Option<String>, String)> = if causes.is_empty() {
        vec![(undeclared_field(&status.message), status.message.clone())]
    } else {
        causes
            .into_iter()
            .map(|(field, message)| (Some(field.clone()), format!("{field}: {message}")))
            .collect()
    };
    said.into_iter()
        .map(|(field, message)| {
            let span = locate(manifest, field.as_deref());
            manifest
                .file
                .error(
                    "server::rejected",
                    span,
                    format!("the API server rejects {kind} `{name}`: {message}"),
                )
                .label(match &field {
                    Some(field) => format!("`{field}` refused"),
                    None => "refused by the API server".to_owned(),
                })
                .help("a dry run with strict field validation (`kubectl apply --server-side --dry-run=server --validate=strict`) gives the same answer")
        })
        .collect()
}

/// The field of a server-side apply's schema error: `...: .spec.replicass: field not declared
/// in schema`.
fn undeclared_field(message: &str) -> Option<String> {
    let before = message.split(": field not declared in schema").next()?;
    let field = before.rsplit(": ").next()?.strip_prefix('.')?;
    (!field.is_empty() && before.len() < message.len()).then(|| field.to_owned())
}

/// The byte range of `field` in the manifest (as far as the file has it), or of the manifest.
fn locate(manifest: &Manifest, field: Option<&str>) -> std::ops::Range<usize> {
    let Some(node) = &manifest.node else {
        return 0..0;
    };
    let path = field.map(field_path).unwrap_or_default();
    let point = if path.is_empty() {
        Point::Value
    } else {
        Point::Key
    };
    node.walk(&path, point).0.label_range(&manifest.file.text)
}

/// `spec.template.spec.containers[0].image` as path parts; a `[name="x"]` selector ends it.
fn field_path(field: &str) -> Vec<PathPart> {
    let mut parts = Vec::new();
    for segment in field.split('.') {
        let (key, rest) = segment.split_once('[').unwrap_or((segment, ""));
        if !key.is_empty() {
            parts.push(PathPart::Key(key.to_owned()));
        }
        if rest.is_empty() {
            continue;
        }
        match rest.trim_end_matches(']').parse::<usize>() {
            Ok(index) => parts.push(PathPart::Index(index)),
            Err(_) => break,
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_field_of_a_schema_error() {
        let message = "failed to create typed patch object (ns/web; apps/v1, Kind=StatefulSet): \
                       .spec.replicass: field not declared in schema";
        assert_eq!(undeclared_field(message).as_deref(), Some("spec.replicass"));
        assert_eq!(undeclared_field("something else"), None);
    }

    #[test]
    fn field_paths_follow_keys_and_indexes() {
        assert_eq!(
            field_path("spec.containers[1].image"),
            [
                PathPart::Key("spec".into()),
                PathPart::Key("containers".into()),
                PathPart::Index(1),
                PathPart::Key("image".into()),
            ]
        );
    }
}
