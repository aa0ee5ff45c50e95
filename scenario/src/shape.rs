//! Turning what the YAML parser and serde report into diagnostics a person can act on: the field
//! and the value at fault, what was expected in plain words, and where exactly.

use crate::diagnostic::{Diagnostic, SourceFile};
use crate::model::{Kind, PATH_ERROR, PATH_HINT, SELECTOR_ERROR, SELECTOR_HINT, Step};
use crate::similar;
use crate::yaml::{MAX_NODES, SyntaxError};
use serde_saphyr::{DefaultMessageFormatter, MessageFormatter};

const SCHEMA_HINT: &str =
    "see `petset schema` or the README's authoring guide for what this field takes";

/// A YAML syntax error. A tab in the indentation is named as such and pointed at, even when the
/// parser only notices it at the end of the line before.
pub(crate) fn syntax_diagnostic(file: &SourceFile, syntax: &SyntaxError, help: &str) -> Diagnostic {
    if let Some(tab) = indenting_tab(file, syntax) {
        return file
            .error(
                "syntax::tab",
                tab..tab + 1,
                "a tab indents this line; YAML indents with spaces only",
            )
            .label("this tab")
            .help("replace the tab with spaces");
    }
    let start = syntax.pos.byte.min(file.text.len());
    let end = file.text[start..]
        .chars()
        .next()
        .map_or(start, |c| start + c.len_utf8());
    file.error(
        "syntax::yaml",
        start..end,
        format!("invalid YAML: {}", syntax.message),
    )
    .label("here")
    .help(help)
}

/// The byte offset of a tab in the leading whitespace of the error's line or the next one.
fn indenting_tab(file: &SourceFile, syntax: &SyntaxError) -> Option<usize> {
    let mentions_tab = syntax.message.contains("tab");
    (syntax.pos.line..=syntax.pos.line + 1).find_map(|line| {
        let start = file.byte_offset(line, 1);
        let rest = &file.text[start..];
        let text = rest.find('\n').map_or(rest, |end| &rest[..end]);
        let indent = text.len() - text.trim_start_matches([' ', '\t', '-']).len();
        match text[..indent].find('\t') {
            Some(at) => Some(start + at),
            None if mentions_tab && line == syntax.pos.line => text.find('\t').map(|at| start + at),
            None => None,
        }
    })
}

/// A file over the parser's size limits, said with the limit; `None` for any other error.
pub(crate) fn budget_diagnostic(
    file: &SourceFile,
    error: &serde_saphyr::Error,
) -> Option<Diagnostic> {
    let serde_saphyr::Error::Budget { breach, .. } = innermost(error) else {
        return None;
    };
    use serde_saphyr::budget::BudgetBreach as B;
    let what = match breach {
        B::Nodes { .. } => format!(
            "the file holds more than {} YAML nodes (values, lists and mappings), petset's limit for one file",
            thousands(MAX_NODES)
        ),
        B::Depth { depth } => {
            format!("the file nests lists and mappings {depth} levels deep, past petset's limit")
        }
        B::Aliases { .. } | B::Anchors { .. } => {
            "the file uses more YAML anchors or aliases than petset allows".to_owned()
        }
        _ => "the file is past petset's YAML size limits".to_owned(),
    };
    Some(
        file.error("file::too-large", 0..0, what)
            .label("not checked further")
            .help("split it into smaller files: a scenario of a few hundred steps needs only a few thousand nodes"),
    )
}

/// `250000` as `250,000`.
fn thousands(number: usize) -> String {
    let digits = number.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

pub(crate) fn innermost(error: &serde_saphyr::Error) -> &serde_saphyr::Error {
    let mut error = error.without_snippet();
    while let serde_saphyr::Error::AliasError { error: inner, .. } = error {
        error = inner.without_snippet();
    }
    error
}

/// A type name as serde spells it (`i32`, `a string`), in plain words.
pub(crate) fn plain_type(expected: &str) -> String {
    let bare = expected.trim_start_matches("a ").trim_start_matches("an ");
    match bare {
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "a whole number".to_owned(),
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a whole number, 0 or more".to_owned(),
        "f32" | "f64" => "a number".to_owned(),
        "bool" | "boolean" => "`true` or `false`".to_owned(),
        "string" | "string scalar" => "a single value".to_owned(),
        "sequence" => "a list".to_owned(),
        "map" | "mapping" => "a mapping".to_owned(),
        _ => expected.to_owned(),
    }
}

/// The key whose value starts at `byte` on the same line (`replicas` in `replicas: three`).
pub(crate) fn field_before(text: &str, byte: usize) -> Option<&str> {
    let line_start = text[..byte].rfind('\n').map_or(0, |at| at + 1);
    let before = text[line_start..byte].trim_end();
    let before = before.strip_suffix(':')?.trim_end();
    let key_start = before
        .rfind(|c: char| c.is_whitespace() || matches!(c, '{' | ',' | '[' | '-'))
        .map_or(0, |at| at + 1);
    let key = before[key_start..].trim_matches(['"', '\'']);
    (!key.is_empty()).then_some(key)
}

/// `field: ` for messages, or nothing when the field is not known.
fn field_prefix(file: &SourceFile, byte: usize) -> String {
    field_before(&file.text, byte).map_or(String::new(), |field| format!("`{field}`: "))
}

/// Turns a serde-saphyr error into a diagnostic with a precise label and a hint. The error's
/// lines are `line_offset` lines above where they are in `file` (a part parsed on its own).
pub(crate) fn shape_diagnostic(
    file: &SourceFile,
    error: &serde_saphyr::Error,
    line_offset: usize,
) -> Diagnostic {
    if let Some(too_large) = budget_diagnostic(file, error) {
        return too_large;
    }
    let inner = innermost(error);
    let (start, len) = match error.location().or_else(|| inner.location()) {
        Some(location) if location.line() > 0 => {
            let start = file.byte_offset(
                location.line() as usize + line_offset,
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
            .help(match field.as_str() {
                "finally" | "onFailure" | "matrix" if !expected.contains(&"steps") => format!(
                    "`{field}:` is a key of the scenario, beside `steps:`; expected here one of: {}",
                    expected.join(", ")
                ),
                _ => similar::did_you_mean(field, expected.iter().copied())
                    .unwrap_or_else(|| format!("expected one of: {}", expected.join(", "))),
            }),
        E::SerdeUnknownVariant {
            variant, expected, ..
        } if expected.as_slice() == Step::KIND_NAMES => file
            .error(
                "shape::unknown-step",
                span,
                format!("unknown step kind `{variant}`"),
            )
            .label("not a step kind")
            .help(match variant.as_str() {
                // Lists of their own, beside `steps:`, not steps.
                "finally" | "onFailure" | "matrix" => format!(
                    "`{variant}:` is a key of the scenario, beside `steps:` (not inside it)"
                ),
                _ => similar::did_you_mean(variant, expected.iter().copied())
                    .unwrap_or_else(|| format!("step kinds are: {}", expected.join(", "))),
            }),
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
        E::InvalidScalar { ty, .. } => {
            let wanted = plain_type(ty);
            let got = &file.text[span.clone()];
            let help = match (
                field_before(&file.text, start),
                wanted.starts_with("a whole"),
            ) {
                (Some(field), true) => format!("write it in digits, e.g. `{field}: 3`"),
                _ => format!("write {wanted} here"),
            };
            file.error(
                "shape::invalid-type",
                span.clone(),
                format!(
                    "{}expected {wanted}, got `{got}`",
                    field_prefix(file, start)
                ),
            )
            .label(format!("not {wanted}"))
            .help(help)
        }
        E::SerdeInvalidType {
            unexpected,
            expected,
            ..
        }
        | E::SerdeInvalidValue {
            unexpected,
            expected,
            ..
        } => file
            .error(
                "shape::invalid-type",
                span,
                format!(
                    "{}expected {}, got {unexpected}",
                    field_prefix(file, start),
                    plain_type(expected)
                ),
            )
            .label("wrong type")
            .help(SCHEMA_HINT),
        E::SerdeInvalidLength { .. } => file
            .error("shape::invalid-type", span, message)
            .label("wrong type")
            .help(SCHEMA_HINT),
        E::Unexpected { expected, .. } => file
            .error(
                "shape::invalid-type",
                span,
                format!(
                    "wrong type: expected {} here",
                    plain_type(&format!("a {expected}"))
                ),
            )
            .label("wrong type")
            .help(SCHEMA_HINT),
        E::Message { .. } => {
            if let Some((code, label, help)) = template_error(&message) {
                return file.error(code, span, message).label(label).help(help);
            }
            let (message, hint) = split_hint(&message);
            let kind_hint = message
                .strip_prefix("unknown kind `")
                .and_then(|rest| rest.split('`').next())
                .and_then(|kind| similar::did_you_mean(kind, Kind::all_spellings()));
            file.error("shape::invalid-value", span, message)
                .label("invalid value")
                .help(kind_hint.or(hint).unwrap_or_else(|| SCHEMA_HINT.to_owned()))
        }
        _ => file
            .error("syntax::yaml", span, message)
            .label("here")
            .help("fix the YAML here; nothing else in this part is checked until it parses"),
    }
}

/// The code, label and hint of a label selector or request path the loader refused: these have
/// their own code, as every other check of a step's values does.
fn template_error(message: &str) -> Option<(&'static str, &'static str, &'static str)> {
    if message.starts_with(SELECTOR_ERROR) {
        Some(("step::selector", "invalid selector", SELECTOR_HINT))
    } else if message.starts_with(PATH_ERROR) {
        Some(("step::http-path", "invalid path", PATH_HINT))
    } else {
        None
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_field_before_a_value() {
        let text = "  - scale: {target: sts/web, replicas: three}\n";
        let at = text.find("three").expect("value");
        assert_eq!(field_before(text, at), Some("replicas"));
        let text = "    exitCode: zero\n";
        assert_eq!(field_before(text, 14), Some("exitCode"));
        assert_eq!(field_before("- three\n", 2), None);
    }

    #[test]
    fn says_types_in_plain_words() {
        assert_eq!(plain_type("i32"), "a whole number");
        assert_eq!(plain_type("a boolean"), "`true` or `false`");
        assert_eq!(thousands(250_000), "250,000");
        assert_eq!(thousands(999), "999");
    }
}
