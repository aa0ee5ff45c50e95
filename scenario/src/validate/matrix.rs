//! `matrix:`: variables with values, at most [`MAX_COMBINATIONS`] trials, no name petset sets
//! itself. Read from the outline, so that a file broken elsewhere is still checked.

use super::steps::BUILTIN_VARIABLES;
use crate::diagnostic::{Diagnostic, SourceFile};
use crate::model::MAX_COMBINATIONS;
use crate::yaml::Node;
use std::collections::BTreeSet;

/// The matrix's variable names, for `${name}` checks in the steps.
pub(crate) fn matrix_names(root: Option<&Node>) -> Vec<String> {
    root.and_then(|root| root.get("matrix"))
        .and_then(Node::as_map)
        .map(|entries| {
            entries
                .iter()
                .filter_map(|(key, _)| key.scalar().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Everything wrong with the matrix of `root`, if it has one.
pub(crate) fn check_matrix(file: &SourceFile, root: Option<&Node>, out: &mut Vec<Diagnostic>) {
    let Some((key, matrix)) = root.and_then(|root| root.entry("matrix")) else {
        return;
    };
    let Some(entries) = matrix.as_map() else {
        return; // not a map: a shape error already says so
    };
    if entries.is_empty() {
        out.push(
            file.error("matrix::empty", key.label_range(&file.text), "the matrix has no variables")
                .label("empty")
                .help("give each variable its values, e.g. `matrix: {image: [mariadb:11.4, mariadb:10.11]}`, or remove `matrix`"),
        );
        return;
    }
    let mut count = 1usize;
    for (name_node, values) in entries {
        let name = name_node.scalar().unwrap_or_default();
        let name_span = name_node.label_range(&file.text);
        if BUILTIN_VARIABLES.contains(&name) {
            out.push(
                file.error(
                    "matrix::name",
                    name_span.clone(),
                    format!("`{name}` is a variable petset sets"),
                )
                .label("taken")
                .help(format!(
                    "name it otherwise; petset sets {}",
                    BUILTIN_VARIABLES.join(", ")
                )),
            );
        } else if !is_variable_name(name) {
            out.push(
                file.error(
                    "matrix::name",
                    name_span.clone(),
                    format!("`{name}` is not a variable name"),
                )
                .label("not usable as `${...}`")
                .help("use letters, digits and `_`, starting with a letter, e.g. `storageClass`"),
            );
        }
        let Some(items) = values.as_seq() else {
            continue;
        };
        if items.is_empty() {
            out.push(
                file.error(
                    "matrix::empty",
                    name_span,
                    format!("`{name}` has no values"),
                )
                .label("no values")
                .help(format!(
                    "list at least one, e.g. `{name}: [a, b]`, or remove it"
                )),
            );
        }
        let mut seen = BTreeSet::new();
        for item in items {
            if let Some(value) = item.scalar()
                && !seen.insert(value)
            {
                out.push(
                    file.error(
                        "matrix::duplicate",
                        item.label_range(&file.text),
                        format!("`{value}` is listed twice"),
                    )
                    .label("again")
                    .help("two trials would have the same name; remove the repeated value"),
                );
            }
        }
        count = count.saturating_mul(items.len());
    }
    if count > MAX_COMBINATIONS {
        out.push(
            file.error(
                "matrix::too-large",
                key.label_range(&file.text),
                format!("the matrix expands to {count} trials, more than {MAX_COMBINATIONS}"),
            )
            .label("too many combinations")
            .help("drop values, or split the file into scenarios that each vary less"),
        );
    }
}

fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
