//! The shipped suite as a whole: every scenario reads as the model says, `petset lint
//! scenarios/` passes, `petset coverage` shows all 36 catalogue behaviours covered, and the
//! scenarios keep the suite's own rules (areas, descriptions, deadlines, declared needs, pinned
//! images).

use crate::support::manifests::{
    MULTI_ARCH_IMAGES, fixtures_dir, images, parse_documents, repo_root, unpinned, yaml_files,
};
use petset::scenario::model::{Scenario, Step};
use serde_json::Value;
use std::fs;
use std::process::Command;
use std::time::Duration;

/// The areas the suite is organised in (folders under `scenarios/`).
const AREAS: &[&str] = &[
    "services",
    "dns",
    "statefulset",
    "storage",
    "updates",
    "deployment",
    "mysql",
    "faults",
];

/// The longest a single scenario may be allowed to run; the whole suite must fit a CI job.
const LONGEST_SCENARIO: Duration = Duration::from_secs(15 * 60);

fn scenarios() -> Vec<(String, Scenario)> {
    let dir = repo_root().join("scenarios");
    let files = yaml_files(&dir);
    assert!(
        files.len() >= 20,
        "expected the shipped suite, found {files:?}"
    );
    files
        .into_iter()
        .map(|file| {
            let text = fs::read_to_string(dir.join(&file)).expect("scenario readable");
            let scenario = serde_saphyr::from_str::<Scenario>(&text)
                .unwrap_or_else(|e| panic!("scenarios/{file}: {e}"));
            (file, scenario)
        })
        .collect()
}

fn petset(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_petset"))
        .args(args)
        .current_dir(repo_root())
        .output()
        .expect("run the petset binary")
}

#[test]
fn petset_lint_passes_on_the_shipped_suite() {
    let out = petset(&["lint", "scenarios/"]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "petset lint failed:\n{text}");
    assert!(text.contains("0 errors, 0 warnings"), "{text}");
}

#[test]
fn petset_coverage_lists_every_catalogue_behaviour_as_covered() {
    let out = petset(&["coverage", "--json"]);
    assert!(
        out.status.success(),
        "petset coverage failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("coverage JSON");
    let behaviours = report["behaviours"].as_array().expect("behaviours");
    assert_eq!(behaviours.len(), 36, "the catalogue has 36 behaviours");
    let uncovered: Vec<&str> = behaviours
        .iter()
        .filter(|b| b["scenarios"].as_array().is_none_or(Vec::is_empty))
        .filter_map(|b| b["id"].as_str())
        .collect();
    assert!(uncovered.is_empty(), "uncovered: {uncovered:?}");
    assert_eq!(report["uncovered"], Value::Array(Vec::new()));
}

#[test]
fn every_scenario_says_what_it_shows_and_keeps_the_suite_rules() {
    let mut problems = Vec::new();
    for (file, scenario) in scenarios() {
        let area = file.split('/').next().unwrap_or("");
        if !AREAS.contains(&area) {
            problems.push(format!(
                "{file}: `{area}` is not one of the areas {AREAS:?}"
            ));
        }
        if scenario.description.split_whitespace().count() < 15 {
            problems.push(format!(
                "{file}: the description is too short for a newcomer"
            ));
        }
        if scenario.covers.is_empty() {
            problems.push(format!("{file}: covers no behaviour"));
        }
        if scenario.timeout.as_std() > LONGEST_SCENARIO {
            problems.push(format!("{file}: timeout {} is too long", scenario.timeout));
        }
        let steps: Vec<&Step> = scenario.steps.iter().map(|s| &s.value).collect();
        if steps
            .iter()
            .any(|s| matches!(s, Step::Drain(_) | Step::Cordon(_)))
        {
            if scenario.requires.nodes.unwrap_or(1) < 2 {
                problems.push(format!(
                    "{file}: drains a node but does not require 2 nodes"
                ));
            }
            if !scenario.serial {
                problems.push(format!("{file}: drains a node but may run beside others"));
            }
            if !scenario.description.contains("local-path") {
                problems.push(format!(
                    "{file}: drains a node but does not say what happens on local-path storage"
                ));
            }
        }
        let applies_claims = steps.iter().any(|s| match s {
            Step::Apply(apply) => apply.files.iter().any(|f| {
                fs::read_to_string(fixtures_dir().join(&f.value))
                    .map(|t| {
                        t.contains("volumeClaimTemplates") || t.contains("PersistentVolumeClaim")
                    })
                    .unwrap_or(false)
            }),
            _ => false,
        });
        if applies_claims && !scenario.requires.default_storage_class {
            problems.push(format!(
                "{file}: creates claims but does not require a default StorageClass"
            ));
        }
        if steps.iter().any(|s| matches!(s, Step::Dns(_))) && !scenario.requires.cluster_dns {
            problems.push(format!(
                "{file}: resolves names but does not require cluster DNS"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_applied_fixture_exists_and_every_image_a_scenario_sets_is_pinned() {
    let mut problems = Vec::new();
    for (file, scenario) in scenarios() {
        for step in &scenario.steps {
            match &step.value {
                Step::Apply(apply) => {
                    for fixture in &apply.files {
                        let path = fixtures_dir().join(&fixture.value);
                        match fs::read_to_string(&path) {
                            Ok(text) => {
                                if let Err(e) = parse_documents(&text) {
                                    problems.push(format!("{file}: {}: {e}", fixture.value));
                                }
                            }
                            Err(_) => problems.push(format!(
                                "{file}: fixture `{}` does not exist",
                                fixture.value
                            )),
                        }
                    }
                    for manifest in &apply.manifests {
                        for image in images(&manifest.value) {
                            check_image(&file, &image, &mut problems);
                        }
                    }
                }
                Step::Patch(patch) => {
                    for image in patch.image.values() {
                        check_image(&file, image, &mut problems);
                    }
                    if let Some(body) = &patch.patch {
                        for image in images(body) {
                            check_image(&file, &image, &mut problems);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn check_image(file: &str, image: &str, problems: &mut Vec<String>) {
    if let Some(problem) = unpinned(image) {
        problems.push(format!("{file}: {problem}"));
    }
    if !MULTI_ARCH_IMAGES.contains(&image) {
        problems.push(format!(
            "{file}: `{image}` is not among the images checked to exist for amd64 and arm64"
        ));
    }
}
