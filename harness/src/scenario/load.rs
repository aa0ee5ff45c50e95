//! Reading a scenario file: YAML syntax first, then shape, reporting every broken part.
//!
//! The whole file is deserialized in one go, which is all a correct file needs. serde stops at
//! the first error, so when that fails the file is outlined (one parse of its events, with
//! positions) and re-checked in independent units: each step alone, and each top-level entry
//! alone. A unit is checked by handing serde-saphyr a text holding only that unit at its original
//! line and column (earlier lines become empty lines), so every unit is judged by exactly the
//! parser and types the whole file uses, and its positions need no translation.

use crate::scenario::diagnostic::{Diagnostic, SourceFile};
use crate::scenario::model::{Kind, Scenario, Step};
use crate::scenario::similar;
use crate::scenario::yaml::{self, Node, Pos};
use serde::de::DeserializeOwned;
use serde_saphyr::Spanned;
use serde_saphyr::{DefaultMessageFormatter, MessageFormatter};

/// The top-level keys a scenario must have. Kept in step with the model by a unit test.
const REQUIRED_FIELDS: &[&str] = &["description", "covers", "steps"];

/// Reads one scenario from its text: syntax and shape. Meaning is checked by `validate`.
pub fn load_source(file: &SourceFile) -> Result<Scenario, Vec<Diagnostic>> {
    load_parts(file).map_err(|broken| broken.diagnostics)
}

/// A scenario whose shape is broken: its problems, and the parts that did parse, so their
/// meaning can still be checked.
#[derive(Debug, Default)]
pub(crate) struct Broken {
    pub diagnostics: Vec<Diagnostic>,
    /// `covers`, when that entry parsed.
    pub covers: Option<Vec<Spanned<String>>>,
    /// The steps that parsed, with their index in the file.
    pub steps: Vec<(usize, Step)>,
    /// The kind key of each step that did not parse (`None` when it is not a one-key map).
    pub broken_steps: Vec<Option<String>>,
    /// The outline of the document, when its YAML is valid.
    pub outline: Option<Node>,
}

/// Only the `covers` entry, for checking it alone.
#[derive(serde::Deserialize)]
struct CoversOnly {
    covers: Vec<Spanned<String>>,
}

/// Reads one scenario, or everything that could be read of a broken one.
pub(crate) fn load_parts(file: &SourceFile) -> Result<Scenario, Box<Broken>> {
    let error = match serde_saphyr::from_str_with_options::<Scenario>(&file.text, yaml::options()) {
        Ok(mut scenario) => {
            for step in &mut scenario.steps {
                kubectl_manifests(&mut step.value);
            }
            return Ok(scenario);
        }
        Err(error) => error,
    };
    let mut broken = recover(file, &error);
    for (_, step) in &mut broken.steps {
        kubectl_manifests(step);
    }
    Err(Box::new(broken))
}

/// Inline manifests get kubectl's numbers, as fixture files do (see [`yaml::read_manifests`]).
fn kubectl_manifests(step: &mut Step) {
    if let Step::Apply(apply) = step {
        for manifest in &mut apply.manifests {
            yaml::kubectl_numbers(&mut manifest.value);
        }
    }
}

/// Every problem in a file whose whole-file parse failed with `first`.
fn recover(file: &SourceFile, first: &serde_saphyr::Error) -> Broken {
    let first = shape_diagnostic(file, first);
    let only = |diagnostic: Diagnostic| Broken {
        diagnostics: vec![diagnostic],
        ..Broken::default()
    };
    let documents = match yaml::outline(&file.text) {
        Ok(documents) => documents,
        Err(syntax) => {
            let end = next_char_end(&file.text, syntax.pos.byte);
            return only(
                file.error("syntax::yaml", syntax.pos.byte..end, format!("invalid YAML: {}", syntax.message))
                    .label("here")
                    .help("fix the YAML syntax first (indentation, quotes, brackets); nothing else is checked until it parses"),
            );
        }
    };
    let Some(root) = documents.first() else {
        return only(
            file.error("shape::empty", 0..0, "the scenario file is empty")
                .help("a scenario needs `description`, `covers` and `steps`"),
        );
    };
    if documents.len() > 1 {
        let second = &documents[1];
        return only(
            file.error(
                "shape::documents",
                second.label_range(&file.text),
                "a scenario file holds exactly one YAML document",
            )
            .label("a second document starts here")
            .help("split it into two scenario files, or remove the `---` separator"),
        );
    }
    let Some(entries) = root.as_map() else {
        return only(first);
    };

    let mut broken = Broken::default();
    let found = &mut broken.diagnostics;
    for (key, value) in entries {
        let steps = key.scalar() == Some("steps");
        match value.as_seq() {
            Some(items) if steps => {
                for (index, item) in items.iter().enumerate() {
                    match check_unit::<Step>(&file.text, item.start, item.end) {
                        Ok(step) => broken.steps.push((index, step)),
                        Err(error) => {
                            found.push(shape_diagnostic(file, &error));
                            let kind = item
                                .as_map()
                                .filter(|entries| entries.len() == 1)
                                .and_then(|entries| entries[0].0.scalar())
                                .map(str::to_owned);
                            broken.broken_steps.push(kind);
                        }
                    }
                }
            }
            _ => {
                if let Err(error) = check_unit::<Scenario>(&file.text, key.start, value.end) {
                    // With one entry alone every other required field is missing; only an error
                    // inside the entry is about the entry.
                    let inside = error.location().is_some_and(|location| {
                        let at = (location.line() as usize, location.column() as usize);
                        at >= (key.start.line, key.start.column)
                            && at <= (value.end.line, value.end.column)
                    });
                    if inside && !is_missing_field(&error) {
                        found.push(shape_diagnostic(file, &error));
                        continue;
                    }
                }
                if key.scalar() == Some("covers")
                    && let Ok(only) = check_unit::<CoversOnly>(&file.text, key.start, value.end)
                {
                    broken.covers = Some(only.covers);
                }
            }
        }
    }
    for field in REQUIRED_FIELDS {
        if root.entry(field).is_none() {
            found.push(
                file.error(
                    "shape::missing-field",
                    root.label_range(&file.text),
                    format!("missing field `{field}`"),
                )
                .label("in this scenario")
                .help(format!(
                    "every scenario has `{}`",
                    REQUIRED_FIELDS.join("`, `")
                )),
            );
        }
    }
    let covered = found.iter().any(|diagnostic| {
        (diagnostic.line, diagnostic.column) == (first.line, first.column)
            || diagnostic.message == first.message
    });
    if !covered {
        found.insert(0, first);
    }
    found.sort_by_key(|diagnostic| (diagnostic.line, diagnostic.column));
    broken.outline = documents.into_iter().next();
    broken
}

/// Deserializes the part of `source` between `start` and `end` alone, at its original position.
fn check_unit<T: DeserializeOwned>(
    source: &str,
    start: Pos,
    end: Pos,
) -> Result<T, serde_saphyr::Error> {
    let start_byte = start.byte.min(source.len());
    let end_byte = end.byte.clamp(start_byte, source.len());
    let body = &source[start_byte..end_byte];
    let mut text = String::with_capacity(start.line + start.column + body.len());
    text.extend(std::iter::repeat_n('\n', start.line.saturating_sub(1)));
    text.extend(std::iter::repeat_n(' ', start.column.saturating_sub(1)));
    text.push_str(body);
    serde_saphyr::from_str_with_options::<T>(&text, yaml::options())
}

fn is_missing_field(error: &serde_saphyr::Error) -> bool {
    matches!(
        innermost(error),
        serde_saphyr::Error::SerdeMissingField { .. }
    )
}

fn innermost(error: &serde_saphyr::Error) -> &serde_saphyr::Error {
    let mut error = error.without_snippet();
    while let serde_saphyr::Error::AliasError { error: inner, .. } = error {
        error = inner.without_snippet();
    }
    error
}

/// The end of the character starting at `byte`, so a label has something to underline.
fn next_char_end(text: &str, byte: usize) -> usize {
    let byte = byte.min(text.len());
    text[byte..]
        .chars()
        .next()
        .map_or(byte, |c| byte + c.len_utf8())
}

/// Turns a serde-saphyr error into a diagnostic with a precise label and a hint.
pub(crate) fn shape_diagnostic(file: &SourceFile, error: &serde_saphyr::Error) -> Diagnostic {
    let inner = innermost(error);
    let (start, len) = match error.location().or_else(|| inner.location()) {
        Some(location) if location.line() > 0 => {
            let start = yaml::byte_offset(
                &file.text,
                location.line() as usize,
                location.column() as usize,
            );
            let chars = location.span().len() as usize;
            let len: usize = file.text[start..]
                .chars()
                .take(chars.max(1))
                .take_while(|c| *c != '\n')
                .map(char::len_utf8)
                .sum();
            (start, len)
        }
        _ => (0, 0),
    };
    let span = start..start + len;
    let message = DefaultMessageFormatter.format_message(inner).into_owned();
    use serde_saphyr::Error as E;
    match inner {
        E::SerdeUnknownField {
            field, expected, ..
        } => file
            .error(
                "shape::unknown-field",
                span,
                format!("unknown field `{field}`"),
            )
            .label("not a field here")
            .help(
                similar::did_you_mean(field, expected.iter().copied())
                    .unwrap_or_else(|| format!("expected one of: {}", expected.join(", "))),
            ),
        E::SerdeUnknownVariant {
            variant, expected, ..
        } if expected.as_slice() == Step::KIND_NAMES => file
            .error(
                "shape::unknown-step",
                span,
                format!("unknown step kind `{variant}`"),
            )
            .label("not a step kind")
            .help(
                similar::did_you_mean(variant, expected.iter().copied())
                    .unwrap_or_else(|| format!("step kinds are: {}", expected.join(", "))),
            ),
        E::SerdeUnknownVariant {
            variant, expected, ..
        } => file
            .error(
                "shape::unknown-variant",
                span,
                format!("unknown value `{variant}`"),
            )
            .label("not allowed here")
            .help(
                similar::did_you_mean(variant, expected.iter().copied())
                    .unwrap_or_else(|| format!("expected one of: {}", expected.join(", "))),
            ),
        E::SerdeMissingField { field, .. } => file
            .error(
                "shape::missing-field",
                span,
                format!("missing field `{field}`"),
            )
            .label(format!("`{field}` is required here"))
            .help(format!("add `{field}: ...`")),
        E::DuplicateMappingKey { key, .. } => file
            .error(
                "shape::duplicate-key",
                span,
                match key {
                    Some(key) => format!("duplicate key `{key}`"),
                    None => "duplicate key".to_owned(),
                },
            )
            .label("given twice")
            .help("remove one of the two entries"),
        E::SerdeInvalidType { .. } | E::SerdeInvalidValue { .. } | E::SerdeInvalidLength { .. } => {
            file.error("shape::invalid-type", span, message)
                .label("wrong type")
                .help(
                    "see `petset schema` or the README's authoring guide for what this field takes",
                )
        }
        E::Unexpected { expected, .. } => file
            .error(
                "shape::invalid-type",
                span,
                format!(
                    "wrong type: expected a {} here",
                    expected.replace("string scalar", "single value")
                ),
            )
            .label("wrong type")
            .help("see `petset schema` or the README's authoring guide for what this field takes"),
        E::Message { .. } => {
            let (message, hint) = split_hint(&message);
            let kind_hint = message
                .strip_prefix("unknown kind `")
                .and_then(|rest| rest.split('`').next())
                .and_then(|kind| similar::did_you_mean(kind, Kind::all_spellings()));
            file.error("shape::invalid-value", span, message)
                .label("invalid value")
                .help(kind_hint.or(hint).unwrap_or_else(|| {
                    "see `petset schema` or the README's authoring guide for what this field takes"
                        .to_owned()
                }))
        }
        _ => file
            .error("syntax::yaml", span, message)
            .label("here")
            .help("fix the YAML here; nothing else in this part is checked until it parses"),
    }
}

/// Splits a model error into the statement and its advice: the last parenthesised part, or
/// what follows a `; `.
fn split_hint(message: &str) -> (String, Option<String>) {
    if let Some(open) = message.rfind(" (")
        && message.ends_with(')')
    {
        let hint = &message[open + 2..message.len() - 1];
        return (message[..open].to_owned(), Some(hint.to_owned()));
    }
    if let Some((statement, hint)) = message.split_once("; ") {
        return (statement.to_owned(), Some(hint.to_owned()));
    }
    (message.to_owned(), None)
}

/// The outline of a loaded scenario file, for meaning checks that point inside steps.
pub(crate) fn outline_root(text: &str) -> Option<Node> {
    yaml::outline(text).ok()?.into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Scenario, Vec<Diagnostic>> {
        load_source(&SourceFile::new("t.yaml", text))
    }

    #[test]
    fn required_fields_match_the_model() {
        let minimal = "description: x\ncovers: []\nsteps: []\n";
        assert!(load(minimal).is_ok());
        for field in REQUIRED_FIELDS {
            let without: String = minimal
                .lines()
                .filter(|line| !line.starts_with(field))
                .map(|line| format!("{line}\n"))
                .collect();
            let error = serde_saphyr::from_str::<Scenario>(&without).expect_err("missing");
            assert!(error.to_string().contains(field), "{error}");
        }
    }

    #[test]
    fn reports_every_broken_step_and_entry() {
        let text = "description: x\ncover: []\nsteps:\n  - scale: {target: sts/web, replica: 3}\n  - mark: fine\n  - scael: {target: sts/web}\n  - wait: {target: sts/web, for: ready, timeout: 5 minutes}\n";
        let problems = load(text).expect_err("broken");
        let summary: Vec<(usize, &str)> = problems.iter().map(|d| (d.line, d.code)).collect();
        assert_eq!(
            summary,
            [
                (1, "shape::missing-field"),
                (2, "shape::unknown-field"),
                (4, "shape::unknown-field"),
                (6, "shape::unknown-step"),
                (7, "shape::invalid-value"),
            ],
            "{problems:#?}"
        );
        assert_eq!(
            problems[2].help.as_deref(),
            Some("did you mean `replicas`?")
        );
        assert_eq!(problems[2].snippet(), "replica");
        assert_eq!(problems[3].help.as_deref(), Some("did you mean `scale`?"));
    }

    #[test]
    fn reports_yaml_syntax_once() {
        let problems = load("description: [x\nsteps: []\n").expect_err("broken");
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].code, "syntax::yaml");
    }
}
