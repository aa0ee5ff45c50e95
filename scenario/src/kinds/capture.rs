//! `capture`: save one field of one object under a name, for `${name}` in later steps.

use super::StepKind;
use crate::model::Target;
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
    pub field: String,
    /// The variable name; later steps write `${name}`.
    #[serde(rename = "as")]
    pub name: String,
}

/// The `capture` step kind.
pub struct Capture;

impl StepKind for Capture {
    type Body = CaptureStep;
    const NAME: &'static str = "capture";

    fn summary(capture: &CaptureStep) -> String {
        format!(
            "capture {} {} as {}",
            capture.target, capture.field, capture.name
        )
    }

    fn targets(capture: &CaptureStep) -> Vec<(&Target, &'static [&'static str])> {
        vec![(&capture.target, &["target"])]
    }

    fn check(capture: &CaptureStep, check: &mut StepCheck<'_, '_>) {
        check.single(&capture.target, "target", "capture");
        if !is_field_path(&capture.field) {
            check.error(
                &["field"],
                format!("`{}` is not a field path", capture.field),
                "write a dotted path such as `spec.volumeName` or `status.containerStatuses[0].restartCount`",
            );
        }
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

/// `spec.volumeName`, `status.containerStatuses[0].restartCount`, `metadata.annotations.a/b`.
fn is_field_path(path: &str) -> bool {
    !path.is_empty()
        && path.split('.').all(|segment| {
            let name = segment.split('[').next().unwrap_or_default();
            let indexes_ok = segment.split('[').skip(1).all(|index| {
                index.strip_suffix(']').is_some_and(|digits| {
                    !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
                })
            });
            !name.is_empty() && !name.contains([' ', ']', '{', '}']) && indexes_ok
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_field_paths_and_names() {
        assert!(is_field_path("spec.volumeName"));
        assert!(is_field_path("status.containerStatuses[0].restartCount"));
        assert!(!is_field_path("spec..x"));
        assert!(!is_field_path("status.x[a]"));
        assert!(is_variable_name("vol0"));
        assert!(!is_variable_name("0vol"));
    }
}
