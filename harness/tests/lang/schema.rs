//! `petset schema` prints a JSON Schema that accepts every shipped and clean scenario and
//! rejects the shape errors of the broken corpus.

use std::path::{Path, PathBuf};
use std::process::Command;

fn schema() -> serde_json::Value {
    let output = Command::new(env!("CARGO_BIN_EXE_petset"))
        .arg("schema")
        .output()
        .expect("run petset schema");
    assert!(output.status.success());
    serde_json::from_slice(&output.stdout).expect("the schema is JSON")
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The file as the JSON an editor's schema check sees (YAML 1.1 numbers, like the loader).
fn as_json(path: &Path) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(path).expect("read");
    let options = serde_saphyr::options! { legacy_octal_numbers: true };
    serde_saphyr::from_str_with_options(&text, options).ok()
}

#[test]
fn accepts_every_shipped_and_clean_scenario() {
    let validator = jsonschema::validator_for(&schema()).expect("a valid JSON Schema");
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = yaml_files(&manifest.join("tests/corpus/clean"));
    files.extend(yaml_files(&manifest.join("../scenarios")));
    assert!(files.len() >= 3);
    for path in files {
        let value = as_json(&path).unwrap_or_else(|| panic!("{} is not YAML", path.display()));
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
    }
}

#[test]
fn rejects_the_shape_errors_of_the_broken_corpus() {
    let validator = jsonschema::validator_for(&schema()).expect("a valid JSON Schema");
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let checker = petset::scenario::Checker::new(
        &corpus,
        petset::scenario::load_catalogue(&corpus).expect("catalogue"),
    );
    let mut checked = 0;
    for path in yaml_files(&corpus.join("broken")) {
        let diagnostics = petset::scenario::check_file(&checker, &path, &path).diagnostics;
        // Shape errors in a file that is valid YAML, one document: what a schema can judge.
        let shape = diagnostics.iter().any(|d| {
            d.code.starts_with("shape::")
                && !matches!(
                    d.code,
                    "shape::duplicate-key" | "shape::documents" | "shape::empty"
                )
        });
        if !shape {
            continue;
        }
        let value = as_json(&path).unwrap_or_else(|| panic!("{} is not YAML", path.display()));
        assert!(
            !validator.is_valid(&value),
            "the schema accepts {}, which has a shape error",
            path.display()
        );
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} files with shape errors");
}

#[test]
fn the_committed_copy_for_editors_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenario.schema.json");
    let current = format!(
        "{}\n",
        serde_json::to_string_pretty(&schema()).expect("serialize")
    );
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &current).expect("write the schema");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == current,
        "harness/scenario.schema.json is out of date; regenerate it with \
         `cargo run -q -- schema > harness/scenario.schema.json` (or UPDATE_SNAPSHOTS=1)"
    );
}

#[test]
fn a_misspelt_step_kind_is_told_the_step_kinds() {
    let validator = jsonschema::validator_for(&schema()).expect("a valid JSON Schema");
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/broken/unknown-step-kind.yaml");
    let value = as_json(&path).expect("YAML");
    let errors: Vec<_> = validator.iter_errors(&value).collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    // One error, at the step, whose allowed values (what an editor lists) are the step kinds.
    assert_eq!(errors[0].instance_path().to_string(), "/steps/1");
    use jsonschema::error::ValidationErrorKind;
    let ValidationErrorKind::PropertyNames { error } = errors[0].kind() else {
        panic!("not about the key: {}", errors[0]);
    };
    let ValidationErrorKind::Enum { options } = error.kind() else {
        panic!("not an enum error: {error}");
    };
    let kinds: Vec<&str> = options
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(serde_json::Value::as_str)
        .collect();
    assert_eq!(kinds, petset::scenario::model::Step::KIND_NAMES);
    assert!(
        errors[0].to_string().contains("\"scael\" is not one of"),
        "{}",
        errors[0]
    );
}
