//! `capture`: save one field of one object under a name, for `${name}` in later steps.

use super::{KindRules, Named};
use crate::model::{FieldPath, Target};
use crate::validate::{BUILTIN_VARIABLES, StepCheck};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `capture`: save one field of one object under a name.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CaptureStep {
    /// The object to read, e.g. `pvc/data-web-0`.
    pub target: Target,
    /// A dotted path into the object, e.g. `spec.volumeName`, `status.containerStatuses[0].restartCount`.
    pub field: FieldPath,
    /// The variable name; later steps write `${name}`.
    #[serde(rename = "as")]
    pub name: String,
}

impl KindRules for super::Capture {
    fn summary(capture: &CaptureStep) -> String {
        format!(
            "capture {} {} as {}",
            capture.target, capture.field, capture.name
        )
    }

    fn targets(capture: &CaptureStep) -> Named<'_> {
        vec![(&capture.target, &["target"])]
    }

    fn check(capture: &CaptureStep, check: &mut StepCheck<'_, '_>) {
        check.single(&capture.target, "target", "capture");
        if !is_variable_name(&capture.name) || BUILTIN_VARIABLES.contains(&capture.name.as_str()) {
            check.error(
                &["as"],
                format!("`{}` cannot be a variable name", capture.name),
                "use letters, digits, `_` and `-`, starting with a letter, and not `namespace` or `pod`",
            );
        }
    }

    fn captures(capture: &CaptureStep) -> Option<&str> {
        Some(&capture.name)
    }
}

fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::{Checker, SourceFile, check_source, load_catalogue, repo_root};

    #[test]
    fn recognises_variable_names() {
        assert!(is_variable_name("vol0"));
        assert!(!is_variable_name("0vol"));
    }

    fn field_diagnostics(field: &str) -> Vec<String> {
        let root = repo_root().expect("the repository root");
        let checker = Checker::new(&root, load_catalogue(&root).expect("the catalogue"));
        let text = format!(
            "description: capture a field\ncovers: [DEP-HISTORY-1]\nsteps:\n  \
             - apply: {{files: [deployment/rolling.yaml]}}\n  \
             - capture: {{target: deploy/frontend, field: '{field}', as: revision}}\n"
        );
        let checked = check_source(&checker, SourceFile::new("scenarios/t/capture.yaml", text));
        checked
            .diagnostics
            .iter()
            .map(|d| format!("{}:{}: {}", d.line, d.column, d.message))
            .collect()
    }

    /// The checker and the step read field paths with one parser: a quoted key holding dots
    /// (an annotation) is accepted by both, and a broken path is refused where it is written.
    #[test]
    fn the_checker_takes_the_field_paths_capture_reads() {
        assert_eq!(
            field_diagnostics(r#"metadata.annotations["deployment.kubernetes.io/revision"]"#),
            Vec::<String>::new()
        );
        let refused = field_diagnostics("spec..replicas");
        assert_eq!(refused.len(), 1, "{refused:?}");
        assert!(
            refused[0].starts_with("5:")
                && refused[0].contains("invalid field path `spec..replicas`: a key is empty"),
            "{refused:?}"
        );
    }
}
