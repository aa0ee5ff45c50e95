//! The meaning pass: a loaded scenario checked against the catalogue, the fixtures and itself.

use super::combinations::{self, Combos};
use super::manifests::{self, Created, Fixture};
use super::references::Objects;
use super::steps;
use crate::catalogue::Catalogue;
use crate::diagnostic::{Diagnostic, SourceFile};
use crate::load::outline_root;
use crate::model::{Scenario, Step};
use crate::similar;
use crate::yaml::{Node, PathPart, Point};
use serde_saphyr::Spanned;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

/// Checks scenarios of one repository: knows its catalogue and reads each fixture once.
pub struct Checker {
    root: PathBuf,
    /// `None` for a suite without a catalogue: `covers` is then optional and unchecked.
    catalogue: Option<Catalogue>,
    fixtures: RefCell<BTreeMap<String, Rc<Fixture>>>,
    fixture_names: RefCell<Option<Vec<String>>>,
}

/// Where step `index` is in the scenario file, for pointing into it.
pub(crate) struct StepAt<'a> {
    pub file: &'a SourceFile,
    pub item: Option<&'a Node>,
    pub body: Option<&'a Node>,
}

impl<'a> StepAt<'a> {
    /// The `index`th step of the list `node` (the `steps` or the `finally` of a scenario).
    fn of(file: &'a SourceFile, node: Option<&'a [Node]>, index: usize) -> Self {
        let item = node.and_then(|items| items.get(index));
        let body = item
            .and_then(Node::as_map)
            .and_then(|entries| entries.first())
            .map(|(_, value)| value);
        StepAt { file, item, body }
    }

    /// The span of a field of the step's body (`["target"]`), or the step itself.
    pub fn span(&self, path: &[&str], point: Point) -> Range<usize> {
        let Some(body) = self.body else {
            return self.whole();
        };
        let parts: Vec<PathPart> = path
            .iter()
            .map(|p| PathPart::Key((*p).to_owned()))
            .collect();
        body.walk(&parts, point).0.label_range(&self.file.text)
    }

    pub fn whole(&self) -> Range<usize> {
        match self.item {
            Some(item) => item.label_range(&self.file.text),
            None => 0..0,
        }
    }
}

impl Checker {
    pub fn new(root: impl Into<PathBuf>, catalogue: impl Into<Option<Catalogue>>) -> Self {
        Self {
            root: root.into(),
            catalogue: catalogue.into(),
            fixtures: RefCell::new(BTreeMap::new()),
            fixture_names: RefCell::new(None),
        }
    }

    pub fn catalogue(&self) -> Option<&Catalogue> {
        self.catalogue.as_ref()
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Problems found in fixture files read so far, each file once.
    pub fn fixture_problems(&self) -> Vec<(PathBuf, Vec<Diagnostic>)> {
        // A file checked both as written and with a matrix's values lists each problem once.
        let mut by_file: BTreeMap<PathBuf, Vec<Diagnostic>> = BTreeMap::new();
        for (key, fixture) in self.fixtures.borrow().iter() {
            let name = key.split('\n').next().unwrap_or(key);
            let problems = by_file.entry(fixture_display(name)).or_default();
            for problem in &fixture.problems {
                let same = |known: &Diagnostic| {
                    (known.line, known.column, known.code, &known.message)
                        == (problem.line, problem.column, problem.code, &problem.message)
                };
                if !problems.iter().any(same) {
                    problems.push(problem.clone());
                }
            }
        }
        by_file
            .into_iter()
            .filter(|(_, problems)| !problems.is_empty())
            .map(|(path, mut problems)| {
                problems.sort_by_key(|d| (d.line, d.column));
                (path, problems)
            })
            .collect()
    }

    /// Everything wrong with what a scenario means. Problems inside fixture files are not
    /// included (see [`Checker::fixture_problems`]); the scenario gets one error per broken
    /// fixture it applies.
    pub fn check(&self, file: &SourceFile, scenario: &Scenario) -> Vec<Diagnostic> {
        let steps: Vec<(usize, &Step)> = scenario
            .steps
            .iter()
            .enumerate()
            .map(|(index, step)| (index, &step.value))
            .collect();
        let finally: Vec<(usize, &Step)> = scenario
            .finally
            .iter()
            .enumerate()
            .map(|(index, step)| (index, &step.value))
            .collect();
        let root = outline_root(&file.text);
        let parts = Parts {
            steps: &steps,
            finally: &finally,
        };
        let mut out = self.check_parts(file, root.as_ref(), Some(&scenario.covers), parts, &[]);
        check_collectors(file, root.as_ref(), &scenario.on_failure, &mut out);
        out
    }

    /// Checks the parts of a scenario that parsed. `broken` holds the kind key of each step
    /// that did not (if it had one): checks across steps that such a step could have changed
    /// (objects it applies, variables it captures, marks it sets) are skipped rather than
    /// guessed.
    pub(crate) fn check_parts(
        &self,
        file: &SourceFile,
        root: Option<&Node>,
        covers: Option<&[Spanned<String>]>,
        parts: Parts<'_, '_>,
        broken: &[Option<String>],
    ) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let steps = parts.steps;
        let steps_node = root.and_then(|r| r.get("steps")).and_then(Node::as_seq);
        let finally_node = root.and_then(|r| r.get("finally")).and_then(Node::as_seq);
        // A step with a misspelt kind is taken to be the kind it is closest to.
        let could_be = |kinds: &[&str]| {
            broken.iter().any(|kind| {
                let meant = kind.as_deref().and_then(|kind| {
                    if Step::KIND_NAMES.contains(&kind) {
                        Some(kind)
                    } else {
                        similar::closest(kind, Step::KIND_NAMES.iter().copied())
                    }
                });
                meant.is_none_or(|meant| kinds.contains(&meant))
            })
        };
        let gates = steps::Gates {
            // A program (`helm install`) may create anything: references are then not judged.
            references: !could_be(&["apply", "command"])
                && !steps
                    .iter()
                    .any(|(_, step)| matches!(step, Step::Command(_))),
            variables: !could_be(&["capture", "exec", "command"]),
            marks: !could_be(&["mark"]),
        };

        if let Some(covers) = covers {
            self.check_covers(file, root, covers, &mut out);
        }
        super::matrix::check_matrix(file, root, &mut out);
        let combos = Combos::of(root);

        let at_in = |node, index| StepAt::of(file, node, index);
        let at = |index: usize| at_in(steps_node, index);

        // Pass one: what the scenario creates, from every apply step. When some manifest could
        // not be read, what it would have created is unknown: references are then not judged,
        // so one broken input gives one error rather than one per step that uses its objects.
        let mut created: Vec<Created> = Vec::new();
        let mut all_read = true;
        for &(index, step) in steps {
            if let Step::Apply(apply) = step {
                let step_at = at(index);
                if apply.files.is_empty() && apply.manifests.is_empty() {
                    out.push(
                        file.error("step::empty", step_at.whole(), "this `apply` applies nothing")
                            .label("no files, no manifests")
                            .help("give `files: [topic/manifest.yaml]` (under fixtures/) or `manifests: [...]`"),
                    );
                }
                for spanned in &apply.files {
                    let span = located(file, &spanned.referenced, &spanned.value);
                    match self.fixture(file, &spanned.value, span, &combos, &mut out) {
                        Some(fixture) => {
                            all_read &= !fixture.incomplete;
                            created.extend(fixture.objects.iter().cloned());
                        }
                        None => all_read = false,
                    }
                }
                for (position, spanned) in apply.manifests.iter().enumerate() {
                    let node = step_at.body.map(|body| {
                        body.walk(
                            &[PathPart::Key("manifests".into()), PathPart::Index(position)],
                            Point::Value,
                        )
                        .0
                    });
                    let fallback = location_byte(file, &spanned.referenced);
                    let check = |value: &serde_json::Value, out: &mut Vec<Diagnostic>| {
                        manifests::check_manifest(file, node, value, fallback, out)
                    };
                    let object = if combos.used_in(&spanned.value.to_string()) {
                        combinations::manifest(file, &combos, &spanned.value, check, &mut out)
                    } else {
                        check(&spanned.value, &mut out)
                    };
                    match object {
                        Some(object) => created.push(object),
                        None => all_read = false,
                    }
                }
            }
        }

        // Pass two: every step on its own and against what came before it.
        let gates = steps::Gates {
            references: gates.references && all_read,
            ..gates
        };
        let objects = Objects::new(created);
        let mut flow = steps::Flow::default();
        // The matrix's variables are set in every combination, before the first step.
        flow.captures.extend(super::matrix::matrix_names(root));
        let place = |what: &str, step_at: StepAt<'_>, index: usize| {
            let (line, _) = file.line_column(step_at.whole().start);
            format!("{what} {} (line {line})", index + 1)
        };
        let mut later = BTreeMap::new();
        for &(index, step) in steps {
            if let Some(name) = step.captures() {
                later
                    .entry(name.to_owned())
                    .or_insert_with(|| place("step", at(index), index));
            }
        }
        let mut finally_later = BTreeMap::new();
        for &(index, step) in parts.finally {
            if let Some(name) = step.captures() {
                finally_later
                    .entry(name.to_owned())
                    .or_insert_with(|| place("finally step", at_in(finally_node, index), index));
            }
        }
        flow.later = later;
        for (name, place) in &finally_later {
            flow.later
                .entry(name.clone())
                .or_insert_with(|| place.clone());
        }
        for &(index, step) in steps {
            steps::check_step(&at(index), step, &objects, &gates, &mut flow, &mut out);
        }
        // Collectors run right after a failure: what the steps capture may be set, what
        // `finally` captures is not.
        if gates.variables {
            let collectors = steps::Flow {
                captures: flow.captures.clone(),
                later: finally_later,
                ..steps::Flow::default()
            };
            let items = root.and_then(|r| r.get("onFailure")).and_then(Node::as_seq);
            for index in 0..items.map_or(0, <[Node]>::len) {
                steps::check_collector(&at_in(items, index), &collectors, &mut out);
            }
        }
        // `finally` steps follow the steps: they may use what the steps captured and created.
        for &(index, step) in parts.finally {
            let step_at = at_in(finally_node, index);
            steps::check_step(&step_at, step, &objects, &gates, &mut flow, &mut out);
        }
        // Selectors written with matrix variables, as each combination has them.
        let lists = [(steps, steps_node), (parts.finally, finally_node)];
        for (list, node) in lists {
            for &(index, step) in list {
                for (target, path) in step.targets() {
                    if let Some(selector) = target.selector.as_ref().map(|s| s.as_str())
                        && combos.used_in(selector)
                    {
                        let span = at_in(node, index).span(path, Point::Value);
                        combinations::selector(file, &combos, selector, span, &mut out);
                    }
                }
            }
        }
        out.sort_by_key(|d| (d.path != file.path, d.line, d.column));
        out
    }

    fn check_covers(
        &self,
        file: &SourceFile,
        root: Option<&Node>,
        covers: &[Spanned<String>],
        out: &mut Vec<Diagnostic>,
    ) {
        // Without a catalogue `covers` is optional and its ids are the suite's own.
        let catalogue = self.catalogue.as_ref();
        if covers.is_empty() && catalogue.is_some() {
            let span = root
                .and_then(|root| root.entry("covers").map(|(k, _)| k.label_range(&file.text)))
                .unwrap_or(0..0);
            out.push(
                file.error("covers::empty", span, "the scenario covers no behaviour")
                    .label("empty")
                    .help("name the catalogue ids it proves, e.g. `covers: [STS-ORDER-1]` (see `petset coverage`)")
                    .warning(),
            );
        }
        let mut seen = BTreeMap::new();
        for id in covers {
            let span = located(file, &id.referenced, &id.value);
            if let Some(catalogue) = catalogue
                && !catalogue.contains(&id.value)
            {
                out.push(
                    file.error(
                        "covers::unknown",
                        span.clone(),
                        format!("`{}` is not in the behaviour catalogue", id.value),
                    )
                    .label("unknown behaviour id")
                    .help(
                        similar::did_you_mean(&id.value, catalogue.ids()).unwrap_or_else(|| {
                            "`petset coverage` lists every id; new ones go in catalogue.yaml"
                                .to_owned()
                        }),
                    ),
                );
            }
            if seen.insert(id.value.as_str(), ()).is_some() {
                out.push(
                    file.error(
                        "covers::duplicate",
                        span,
                        format!("`{}` is listed twice", id.value),
                    )
                    .label("again")
                    .help("remove the repeated id")
                    .warning(),
                );
            }
        }
    }

    /// Reads a fixture file (once) and reports in the scenario when it is missing or broken.
    fn fixture(
        &self,
        file: &SourceFile,
        name: &str,
        span: Range<usize>,
        combos: &Combos<'_>,
        out: &mut Vec<Diagnostic>,
    ) -> Option<Rc<Fixture>> {
        let relative = Path::new(name);
        let escapes = relative
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir));
        if name.contains("${") || escapes || name.is_empty() {
            out.push(
                file.error("fixture::path", span, format!("`{name}` is not a path under fixtures/"))
                    .label("not a fixture path")
                    .help("fixture paths are relative to fixtures/, e.g. `web/statefulset.yaml`, without `..` or variables"),
            );
            return None;
        }
        if !combos.all.is_empty() {
            // Checked once per scenario file and matrix: what only some combinations have is
            // reported in the scenario, at its matrix.
            let key = format!("{name}\n{}\n{}", file.path.display(), combos.key());
            let cached = self.fixtures.borrow().get(&key).cloned();
            let fixture = match cached {
                Some(fixture) => fixture,
                None => {
                    let text = self.fixture_text(name, span.clone(), file, out)?;
                    if !combos.used_in(&text) {
                        return self.fixture(file, name, span, &Combos::default(), out);
                    }
                    let fixture = Rc::new(combinations::fixture(
                        file,
                        combos,
                        &SourceFile::new(fixture_display(name), text),
                    ));
                    self.fixtures.borrow_mut().insert(key, fixture.clone());
                    fixture
                }
            };
            out.extend(fixture.by_combination.iter().cloned());
            return Some(self.report_broken(file, name, span, fixture, out));
        }
        if let Some(fixture) = self.fixtures.borrow().get(name) {
            return Some(self.report_broken(file, name, span, fixture.clone(), out));
        }
        let text = self.fixture_text(name, span.clone(), file, out)?;
        let fixture = Rc::new(manifests::check_fixture(&SourceFile::new(
            fixture_display(name),
            text,
        )));
        self.fixtures
            .borrow_mut()
            .insert(name.to_owned(), fixture.clone());
        Some(self.report_broken(file, name, span, fixture, out))
    }

    /// The text of fixture file `name`, or an error in `file` saying why there is none.
    fn fixture_text(
        &self,
        name: &str,
        span: Range<usize>,
        file: &SourceFile,
        out: &mut Vec<Diagnostic>,
    ) -> Option<String> {
        let path = self.root.join("fixtures").join(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => Some(text),
            Err(error) => {
                let (message, help) = if error.kind() == std::io::ErrorKind::NotFound {
                    let names = self.fixture_names();
                    (
                        format!("fixture file `{name}` does not exist"),
                        similar::did_you_mean(name, names.iter().map(String::as_str))
                            .unwrap_or_else(|| format!("there is no fixtures/{name}; fixture paths are relative to fixtures/")),
                    )
                } else {
                    (
                        format!("failed to read fixture file `{name}`: {error}"),
                        "check the file's permissions".to_owned(),
                    )
                };
                out.push(
                    file.error("fixture::missing", span, message)
                        .label("no such file")
                        .help(help),
                );
                None
            }
        }
    }

    fn report_broken(
        &self,
        file: &SourceFile,
        name: &str,
        span: Range<usize>,
        fixture: Rc<Fixture>,
        out: &mut Vec<Diagnostic>,
    ) -> Rc<Fixture> {
        let errors = fixture.problems.iter().filter(|p| p.is_error()).count();
        if errors > 0 {
            out.push(
                file.error(
                    "fixture::invalid",
                    span,
                    format!(
                        "fixture `{name}` has {errors} problem{}",
                        if errors == 1 { "" } else { "s" }
                    ),
                )
                .label("broken manifest file")
                .help(format!(
                    "see the diagnostics for {}",
                    fixture_display(name).display()
                )),
            );
        }
        fixture
    }

    /// Every fixture file name, relative to fixtures/, for "did you mean".
    fn fixture_names(&self) -> Vec<String> {
        if let Some(names) = self.fixture_names.borrow().as_ref() {
            return names.clone();
        }
        let base = self.root.join("fixtures");
        let mut names = Vec::new();
        let mut pending = vec![base.clone()];
        while let Some(dir) = pending.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    pending.push(path);
                } else if let Ok(relative) = path.strip_prefix(&base) {
                    names.push(relative.to_string_lossy().replace('\\', "/"));
                }
            }
        }
        names.sort();
        *self.fixture_names.borrow_mut() = Some(names.clone());
        names
    }
}

fn fixture_display(name: &str) -> PathBuf {
    Path::new("fixtures").join(name)
}

/// The byte offset of a serde-saphyr location in `file`.
pub(crate) fn location_byte(file: &SourceFile, location: &serde_saphyr::Location) -> usize {
    if location.line() == 0 {
        return 0;
    }
    file.byte_offset(location.line() as usize, location.column() as usize)
}

/// The span of a located scalar, as long as its text (or its quoted form) appears there.
pub(crate) fn located(
    file: &SourceFile,
    location: &serde_saphyr::Location,
    text: &str,
) -> Range<usize> {
    let start = location_byte(file, location);
    let rest = &file.text[start..];
    let len = if rest.starts_with(text) {
        text.len()
    } else {
        rest.find(['\n', ',', ']', '}'])
            .unwrap_or(rest.len())
            .min(rest.trim_end().len())
    };
    start..start + len
}

/// The steps of a scenario that parsed, each with its index in its list.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Parts<'a, 'b> {
    pub steps: &'a [(usize, &'b Step)],
    pub finally: &'a [(usize, &'b Step)],
}

/// `onFailure:` collectors whose target cannot give what they collect.
fn check_collectors(
    file: &SourceFile,
    root: Option<&Node>,
    collectors: &[crate::model::Collector],
    out: &mut Vec<Diagnostic>,
) {
    use crate::model::{Collector, Kind};
    let items = root.and_then(|r| r.get("onFailure")).and_then(Node::as_seq);
    for (index, collector) in collectors.iter().enumerate() {
        let span = items
            .and_then(|items| items.get(index))
            .map_or(0..0, |item| item.label_range(&file.text));
        let problem = match collector {
            Collector::Logs(logs) if logs.target.kind != Kind::Pod || !logs.target.is_single() => {
                Some((
                    "`logs` reads one pod's logs",
                    "target one pod, e.g. `pod/web-0`",
                ))
            }
            Collector::Command(command) if command.run.is_empty() => Some((
                "the command names no program",
                "write e.g. `run: [kubectl, describe, pod, web-0]`",
            )),
            _ => None,
        };
        if let Some((message, help)) = problem {
            out.push(
                file.error("collector::invalid", span, message)
                    .label("here")
                    .help(help),
            );
        }
    }
}
