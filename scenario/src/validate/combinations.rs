//! Every combination of a scenario's `matrix:`, checked as the runner runs it: fixture files with
//! the combination's values put in as text (as `envsubst` would), inline manifests and
//! selectors with them put in as values. A problem at the same place in every combination is
//! reported once, where it is; one that only some combinations have is reported at the matrix
//! value that brings it, naming the combination (`[image=mariadb:11.4]`) and where it shows.

use super::manifests::{Created, Fixture, check_fixture};
use crate::diagnostic::{Diagnostic, Severity, SourceFile};
use crate::expect::Selector;
use crate::model::{
    MAX_COMBINATIONS, Matrix, Parameters, SELECTOR_HINT, Variables, combinations, label,
};
use crate::yaml::Node;
use serde_json::Value;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::PathBuf;

/// The combinations of a scenario's matrix, read from its outline; none when it has no
/// matrix or one that cannot run (empty, a variable without values, too many combinations).
#[derive(Debug, Default)]
pub(crate) struct Combos<'a> {
    matrix: Option<&'a Node>,
    pub(crate) all: Vec<Parameters>,
    /// Each combination's values, as the runner sets them.
    values: Vec<Variables>,
}

impl<'a> Combos<'a> {
    pub(crate) fn of(root: Option<&'a Node>) -> Self {
        let Some(node) = root.and_then(|root| root.get("matrix")) else {
            return Self::default();
        };
        let mut matrix = Matrix::new();
        for (name, values) in node.as_map().unwrap_or_default() {
            let values: Option<Vec<String>> = values
                .as_seq()
                .map(|items| {
                    items
                        .iter()
                        .map(|v| v.scalar().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            if let (Some(name), Some(values)) = (name.scalar(), values) {
                matrix.insert(name.to_owned(), values);
            }
        }
        let all = combinations(&matrix);
        if matrix.is_empty() || all.len() > MAX_COMBINATIONS {
            return Self::default();
        }
        let values = all
            .iter()
            .map(|parameters| {
                let mut values = Variables::default();
                for (name, value) in parameters {
                    values.set(name, value);
                }
                values
            })
            .collect();
        Self {
            matrix: Some(node),
            all,
            values,
        }
    }

    /// Whether `text` uses a variable of the matrix.
    pub(crate) fn used_in(&self, text: &str) -> bool {
        self.all.first().is_some_and(|first| {
            first
                .iter()
                .any(|(name, _)| text.contains(&format!("${{{name}}}")))
        })
    }

    /// A short name of the combinations, for caching what was checked with them.
    pub(crate) fn key(&self) -> String {
        self.all.iter().map(label).collect()
    }

    /// The span of `value` of `name` in the matrix, else of the matrix itself.
    fn value_span(&self, file: &SourceFile, name: &str, value: &str) -> Range<usize> {
        let Some(matrix) = self.matrix else {
            return 0..0;
        };
        let item = matrix
            .get(name)
            .and_then(Node::as_seq)
            .and_then(|items| items.iter().find(|item| item.scalar() == Some(value)));
        item.map_or_else(
            || {
                let start = matrix.start.byte;
                start..start
            },
            |item| item.label_range(&file.text),
        )
    }
}

/// Where a problem is: file, line, column and code.
type Place = (PathBuf, usize, usize, &'static str);

/// Where byte `at` of a substituted text was in the text as written.
fn written_at(at: usize, moved: &[(Range<usize>, Range<usize>)]) -> usize {
    let mut shift: isize = 0;
    for (written, put) in moved {
        if at < put.start {
            break;
        }
        if at < put.end {
            return written.start;
        }
        shift = written.end as isize - put.end as isize;
    }
    at.saturating_add_signed(shift)
}

/// `diagnostic`, found in `substituted`, moved to where it is in `written`.
pub(crate) fn relocate(
    diagnostic: &Diagnostic,
    substituted: &SourceFile,
    written: &SourceFile,
    moved: &[(Range<usize>, Range<usize>)],
) -> Diagnostic {
    let start = substituted.byte_offset(diagnostic.line, diagnostic.column);
    let end = start + diagnostic.snippet().len();
    let from = written_at(start, moved);
    // A span ending inside a value put in ends where the variable does.
    let to = moved
        .iter()
        .find(|(_, put)| put.start < end && end <= put.end)
        .map_or_else(|| written_at(end, moved), |(written, _)| written.end);
    again(
        diagnostic,
        written,
        from..to.max(from),
        diagnostic.message.clone(),
    )
}

/// `diagnostic`'s code, label, help and severity over `span` of `file`, saying `message`.
fn again(
    diagnostic: &Diagnostic,
    file: &SourceFile,
    span: Range<usize>,
    message: String,
) -> Diagnostic {
    let mut copy = file
        .error(diagnostic.code, span, message)
        .label(diagnostic.label.clone());
    if let Some(help) = &diagnostic.help {
        copy = copy.help(help.clone());
    }
    if diagnostic.severity == Severity::Warning {
        copy = copy.warning();
    }
    copy
}

/// What checking each combination found, by combination index.
pub(crate) type Found = Vec<(usize, Diagnostic)>;

/// What each combination found, sorted: problems every combination has at one place (the first
/// one found there, as it was), and problems only some have, as diagnostics in `file` at the
/// matrix value that brings them.
pub(crate) fn sort_out(
    file: &SourceFile,
    combos: &Combos<'_>,
    found: Found,
) -> (Vec<Diagnostic>, Vec<Diagnostic>) {
    let mut places: BTreeMap<Place, Found> = BTreeMap::new();
    for (index, diagnostic) in found {
        let place = (
            diagnostic.path.clone(),
            diagnostic.line,
            diagnostic.column,
            diagnostic.code,
        );
        let here = places.entry(place).or_default();
        if !here
            .iter()
            .any(|(i, d)| *i == index && d.message == diagnostic.message)
        {
            here.push((index, diagnostic));
        }
    }
    let mut everywhere = Vec::new();
    let mut some = Vec::new();
    for (_, here) in places {
        let mut which: Vec<usize> = here.iter().map(|(i, _)| *i).collect();
        which.sort_unstable();
        which.dedup();
        if which.len() == combos.all.len() {
            everywhere.push(here[0].1.clone());
            continue;
        }
        let mut by_message: BTreeMap<&str, (Vec<usize>, &Diagnostic)> = BTreeMap::new();
        for (index, diagnostic) in &here {
            by_message
                .entry(diagnostic.message.as_str())
                .or_insert_with(|| (Vec::new(), diagnostic))
                .0
                .push(*index);
        }
        for (_, (which, diagnostic)) in by_message {
            some.push(at_the_matrix(file, combos, &which, diagnostic));
        }
    }
    (everywhere, some)
}

/// A problem of the combinations `which`, at the matrix value that brings it.
fn at_the_matrix(
    file: &SourceFile,
    combos: &Combos<'_>,
    which: &[usize],
    diagnostic: &Diagnostic,
) -> Diagnostic {
    let chosen: Vec<&Parameters> = which.iter().map(|i| &combos.all[*i]).collect();
    let names: Vec<&str> = combos.all[0].iter().map(|(n, _)| n.as_str()).collect();
    // The variable whose values alone pick these combinations, if one does.
    let culprit = names.iter().find_map(|name| {
        let value_of = |c: &Parameters| {
            c.iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let mut values: Vec<String> = chosen.iter().map(|c| value_of(c)).collect();
        values.sort();
        values.dedup();
        let picked: Vec<usize> = (0..combos.all.len())
            .filter(|i| values.contains(&value_of(&combos.all[*i])))
            .collect();
        (picked == which).then_some((*name, values))
    });
    let (span, names) = match &culprit {
        Some((name, values)) => (
            combos.value_span(file, name, &values[0]),
            values
                .iter()
                .map(|value| format!("[{name}={value}]"))
                .collect::<Vec<_>>(),
        ),
        None => {
            let first = chosen[0];
            let (name, value) = &first[0];
            (
                combos.value_span(file, name, value),
                chosen.iter().map(|c| label(c)).collect(),
            )
        }
    };
    let combinations = names.join(", ");
    let count = which.len();
    let mut moved = again(
        diagnostic,
        file,
        span,
        format!("with {combinations}: {}", diagnostic.message),
    )
    .label(format!(
        "breaks {count} of {} combination{}",
        combos.all.len(),
        if combos.all.len() == 1 { "" } else { "s" }
    ));
    let help = diagnostic.help.clone().unwrap_or_default();
    moved = moved.help(format!(
        "at {}, where the value is used: {help}",
        diagnostic.location()
    ));
    moved
}

/// A fixture file checked once per combination, its values put in as text.
pub(crate) fn fixture(scenario: &SourceFile, combos: &Combos<'_>, written: &SourceFile) -> Fixture {
    let mut found = Vec::new();
    let mut fixture = Fixture::default();
    for (index, values) in combos.values.iter().enumerate() {
        let (text, moved) = values.substitute_known_tracked(&written.text);
        let substituted = SourceFile::new(written.path.clone(), text);
        let checked = check_fixture(&substituted);
        fixture.incomplete |= checked.incomplete;
        fixture.objects.extend(checked.objects);
        found.extend(
            checked
                .problems
                .iter()
                .map(|problem| (index, relocate(problem, &substituted, written, &moved))),
        );
    }
    (fixture.problems, fixture.by_combination) = sort_out(scenario, combos, found);
    fixture
}

/// An inline manifest checked once per combination, its values put in as values; returns what
/// the first combination creates.
pub(crate) fn manifest(
    file: &SourceFile,
    combos: &Combos<'_>,
    written: &Value,
    check: impl Fn(&Value, &mut Vec<Diagnostic>) -> Option<Created>,
    out: &mut Vec<Diagnostic>,
) -> Option<Created> {
    let mut found = Vec::new();
    let mut first = None;
    for (index, values) in combos.values.iter().enumerate() {
        let mut problems = Vec::new();
        let created = check(&values.substitute_value_known(written), &mut problems);
        if index == 0 {
            first = created;
        }
        found.extend(problems.into_iter().map(|problem| (index, problem)));
    }
    let (everywhere, some) = sort_out(file, combos, found);
    out.extend(everywhere);
    out.extend(some);
    first
}

/// A label selector checked as each combination writes it.
pub(crate) fn selector(
    file: &SourceFile,
    combos: &Combos<'_>,
    written: &str,
    span: Range<usize>,
    out: &mut Vec<Diagnostic>,
) {
    let mut found = Vec::new();
    for (index, values) in combos.values.iter().enumerate() {
        let selector = values.substitute_known(written);
        if selector.contains("${") {
            continue; // a captured variable is known only when the step runs
        }
        if let Err(error) = Selector::parse(&selector) {
            found.push((
                index,
                file.error("step::selector", span.clone(), error.to_string())
                    .label("invalid selector")
                    .help(SELECTOR_HINT),
            ));
        }
    }
    let (everywhere, some) = sort_out(file, combos, found);
    out.extend(everywhere);
    out.extend(some);
}
