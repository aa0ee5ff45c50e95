//! Reading a scenario file: YAML syntax first, then shape, reporting every broken part.
//!
//! The whole file is deserialized in one go, which is all a correct file needs. serde stops at
//! the first error, so when that fails the file is outlined (one parse of its events, with
//! positions) and re-checked in independent units: each step alone, and each top-level entry
//! alone. A unit is checked by handing serde-saphyr a text holding only that unit at its original
//! column, so every unit is judged by exactly the parser and types the whole file uses; its error
//! lines are shifted back to the file's. The steps that passed are then read in one parse of the
//! file with everything else blanked out, so their positions are the file's. Every pass costs
//! the file's size once, whatever the number of broken steps; a file over the YAML node limit is
//! turned away by the first parse.

use crate::diagnostic::{Diagnostic, SourceFile};
use crate::model::{Scenario, Step};
use crate::shape::{budget_diagnostic, innermost, shape_diagnostic, syntax_diagnostic};
use crate::yaml::{self, Node, Pos};
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_saphyr::Spanned;

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
            for step in scenario.steps.iter_mut().chain(&mut scenario.finally) {
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
    let only = |diagnostic: Diagnostic| Broken {
        diagnostics: vec![diagnostic],
        ..Broken::default()
    };
    // Over the size limit: nothing more is read, so the answer comes at once. The first parse
    // may have stopped at an error before it reached the limit, so the whole file is measured
    // (one streaming pass that builds nothing).
    let measured = serde_saphyr::from_str_with_options::<IgnoredAny>(&file.text, yaml::options());
    let too_large = budget_diagnostic(file, first).or_else(|| {
        measured
            .err()
            .and_then(|error| budget_diagnostic(file, &error))
    });
    if let Some(too_large) = too_large {
        return only(too_large);
    }
    let first = shape_diagnostic(file, first, 0);
    let documents = match yaml::outline(&file.text) {
        Ok(documents) => documents,
        Err(syntax) => {
            return only(syntax_diagnostic(
                file,
                &syntax,
                "fix the YAML syntax first (indentation, quotes, brackets); nothing else is checked until it parses",
            ));
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
    let mut steps_entry = None;
    for (entry, (key, value)) in entries.iter().enumerate() {
        let steps = key.scalar() == Some("steps");
        match value.as_seq() {
            Some(items) if steps => {
                let mut good = Vec::new();
                for (index, item) in items.iter().enumerate() {
                    match check_alone::<Step>(&file.text, item.start, item.end) {
                        Ok(()) => good.push(index),
                        Err(error) => {
                            found.push(shape_diagnostic(
                                file,
                                &error,
                                item.start.line.saturating_sub(1),
                            ));
                            let kind = item
                                .as_map()
                                .filter(|entries| entries.len() == 1)
                                .and_then(|entries| entries[0].0.scalar())
                                .map(str::to_owned);
                            broken.broken_steps.push(kind);
                        }
                    }
                }
                steps_entry.get_or_insert((entry, good));
            }
            _ => {
                if let Err(error) = check_alone::<Scenario>(&file.text, key.start, value.end) {
                    // With one entry alone every other required field is missing; only an error
                    // inside the entry is about the entry.
                    let inside = error.location().is_some_and(|location| {
                        let at = (
                            (location.line() as usize + key.start.line).saturating_sub(1),
                            location.column() as usize,
                        );
                        at >= (key.start.line, key.start.column)
                            && at <= (value.end.line, value.end.column)
                    });
                    if inside && !is_missing_field(&error) {
                        found.push(shape_diagnostic(
                            file,
                            &error,
                            key.start.line.saturating_sub(1),
                        ));
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
    if let Some((entry, good)) = steps_entry {
        broken.steps = parse_good_steps(&file.text, entries, entry, &good);
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

/// Only the steps, for reading the good ones of a broken file in one parse.
#[derive(serde::Deserialize)]
struct StepsOnly {
    steps: Vec<Step>,
}

/// The steps at `good` (indices into the `steps` entry, the `entry`th of `entries`), read with
/// their positions in the file. They are read in one parse of the file with every other entry
/// and every broken step blanked out (spaces keep all lines and columns), so the cost does not
/// grow with the number of broken steps times the file's length. Step lists in flow style
/// (`steps: [...]`), where a step cannot be blanked out alone, are read one at a time instead.
fn parse_good_steps(
    source: &str,
    entries: &[(Node, Node)],
    entry: usize,
    good: &[usize],
) -> Vec<(usize, Step)> {
    let Some(items) = entries[entry].1.as_seq() else {
        return Vec::new();
    };
    if good.is_empty() {
        return Vec::new();
    }
    let mut blank = Vec::new();
    for (at, (key, value)) in entries.iter().enumerate() {
        if at != entry {
            blank.push(key.start.byte..value.end.byte);
        }
    }
    let mut block_style = true;
    let mut wanted = good.iter().peekable();
    for (index, item) in items.iter().enumerate() {
        if wanted.peek() == Some(&&index) {
            wanted.next();
            continue;
        }
        let before = source[..item.start.byte.min(source.len())].trim_end();
        if before.ends_with('-') {
            blank.push(before.len() - 1..item.end.byte);
        } else {
            block_style = false;
        }
    }
    let one_by_one = || {
        good.iter()
            .filter_map(|&index| {
                let item = &items[index];
                check_unit::<Step>(source, item.start, item.end)
                    .ok()
                    .map(|step| (index, step))
            })
            .collect()
    };
    if !block_style {
        return one_by_one();
    }
    let text = blanked(source, &blank);
    match serde_saphyr::from_str_with_options::<StepsOnly>(&text, yaml::options()) {
        Ok(only) if only.steps.len() == good.len() => {
            good.iter().copied().zip(only.steps).collect()
        }
        _ => one_by_one(),
    }
}

/// `source` with every character in `ranges` but line breaks turned into a space, so every
/// position outside them keeps its line and column.
fn blanked(source: &str, ranges: &[std::ops::Range<usize>]) -> String {
    let mut blank = vec![false; source.len()];
    for range in ranges {
        let end = range.end.min(source.len());
        let start = range.start.min(end);
        blank[start..end].iter_mut().for_each(|b| *b = true);
    }
    source
        .char_indices()
        .map(|(at, c)| if blank[at] && c != '\n' { ' ' } else { c })
        .collect()
}

/// Checks the part of `source` between `start` and `end` alone. It is parsed as a text of its
/// own starting at the same column (so columns hold and the cost is the part's own size); error
/// lines are `start.line - 1` short of the file's.
fn check_alone<T: DeserializeOwned>(
    source: &str,
    start: Pos,
    end: Pos,
) -> Result<(), serde_saphyr::Error> {
    let start_byte = start.byte.min(source.len());
    let end_byte = end.byte.clamp(start_byte, source.len());
    let body = &source[start_byte..end_byte];
    let mut text = String::with_capacity(start.column + body.len());
    text.extend(std::iter::repeat_n(' ', start.column.saturating_sub(1)));
    text.push_str(body);
    serde_saphyr::from_str_with_options::<T>(&text, yaml::options()).map(drop)
}

/// Deserializes the part of `source` between `start` and `end` alone, at its original position,
/// so the positions it carries are the file's.
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

/// The outline of a loaded scenario file, for meaning checks that point inside steps.
pub fn outline_root(text: &str) -> Option<Node> {
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
