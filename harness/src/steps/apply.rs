//! `apply`: server-side apply of fixture files and inline manifests into the scenario namespace.

use super::dispatch::Execute;
use super::manifest::{Prepared, parse_documents, prepare};
use super::{StepContext, StepReport, StepResult};
use crate::api::{dynamic_api, object_ref, render_value, with_retry_on_conflict};
use crate::events::Failure;
use crate::scenario::kinds;
use crate::scenario::model::ApplyStep;
use kube::api::{Patch, PatchParams};

/// The field manager petset applies with.
pub const FIELD_MANAGER: &str = "petset";

impl Execute for kinds::Apply {
    async fn run(step: &ApplyStep, ctx: &mut StepContext) -> StepResult {
        run(step, ctx).await
    }
}

async fn run(step: &ApplyStep, ctx: &StepContext) -> StepResult {
    let mut documents = Vec::new();
    for file in &step.files {
        let path = ctx.fixtures_dir.join(&file.value);
        // Fixture files are small; reading one inline costs less than a blocking-pool hop.
        let text = std::fs::read_to_string(&path).map_err(|error| {
            Failure::new(format!(
                "failed to read fixture {}: {error}",
                path.display()
            ))
        })?;
        // Substituted as text before parsing, as envsubst would, so `replicas: ${n}` is a number.
        let text = ctx.vars.substitute_known(&text);
        let parsed = parse_documents(&text).map_err(|error| {
            Failure::new(format!(
                "failed to parse fixture {}: {error}",
                path.display()
            ))
        })?;
        documents.extend(parsed.into_iter().map(|doc| (file.value.clone(), doc)));
    }
    for manifest in &step.manifests {
        let manifest = ctx
            .vars
            .substitute_value(&manifest.value)
            .map_err(|error| {
                Failure::new(format!("failed to apply an inline manifest: {error}"))
            })?;
        documents.push(("inline manifest".to_owned(), manifest));
    }
    if documents.is_empty() {
        return Err(Failure::new("apply: no files or manifests to apply"));
    }

    let mut prepared = Vec::with_capacity(documents.len());
    for (origin, document) in documents {
        let manifest = prepare(document, &ctx.namespace, &ctx.labels)
            .map_err(|error| Failure::new(format!("failed to apply {origin}: {error}")))?;
        ctx.secrets.register_manifest(&manifest.body);
        prepared.push(manifest);
    }

    let deadline = ctx.deadline_after(None);
    let params = PatchParams::apply(FIELD_MANAGER).force();
    let mut applied = Vec::with_capacity(prepared.len());
    for Prepared { kind, name, body } in &prepared {
        let api = dynamic_api(&ctx.client, *kind, &ctx.namespace);
        let what = format!("apply {}", object_ref(*kind, name));
        let patch = Patch::Apply(body);
        // Forced: a 409 can only be a lost race, never a field-manager conflict.
        with_retry_on_conflict(&what, deadline, || api.patch(name, &params, &patch))
            .await
            .map_err(|error| {
                let kind = error.failure_kind();
                Failure::new(error.to_string())
                    .with_kind(kind)
                    .with_expected(render_value(body))
                    .with_actual(format!("the API server refused it: {error}"))
            })?;
        applied.push(object_ref(*kind, name));
    }
    Ok(StepReport::detail(format!(
        "applied {}",
        applied.join(", ")
    )))
}
