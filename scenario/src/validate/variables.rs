//! `${name}` in a step's or an `onFailure` collector's values: every variable must be built in,
//! a matrix variable or captured by an earlier step, and every `${` closed. Only values are
//! read, so comments may mention variables freely.

use super::steps::{BUILTIN_VARIABLES, Flow, Report};
use crate::similar;
use crate::yaml::{Node, NodeValue};

/// The source ranges of every scalar under `node`: what variables can be written in (comments
/// between and after values are not).
fn scalar_ranges(node: &Node, out: &mut Vec<std::ops::Range<usize>>) {
    match &node.value {
        NodeValue::Scalar { .. } => out.push(node.start.byte..node.end.byte),
        NodeValue::Seq(items) => items.iter().for_each(|item| scalar_ranges(item, out)),
        NodeValue::Map(entries) => entries.iter().for_each(|(key, value)| {
            scalar_ranges(key, out);
            scalar_ranges(value, out);
        }),
        NodeValue::Alias => {}
    }
}

/// Where the variables are written, which decides what is set when they are substituted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// A step (or a `finally` step): `${pod}` is set while a step runs once per pod.
    Step,
    /// An `onFailure` collector: run once, right after the failure and before `finally`, so
    /// neither `${pod}` nor what `finally` captures is set.
    Collector,
}

impl Scope {
    fn builtins(self) -> impl Iterator<Item = &'static str> {
        BUILTIN_VARIABLES
            .iter()
            .copied()
            .filter(move |name| self == Scope::Step || *name != "pod")
    }
}

/// Reports `${name}` uses whose name no earlier step defines.
pub(super) fn check_variables(report: &mut Report<'_, '_>, flow: &Flow, scope: Scope) {
    let Some(item) = report.at.item else { return };
    let mut ranges = Vec::new();
    scalar_ranges(item, &mut ranges);
    for range in ranges {
        if check_variables_in(report, flow, scope, range).is_break() {
            return;
        }
    }
}

/// Checks the variables written in one scalar; breaks on an unclosed `${`.
fn check_variables_in(
    report: &mut Report<'_, '_>,
    flow: &Flow,
    scope: Scope,
    range: std::ops::Range<usize>,
) -> std::ops::ControlFlow<()> {
    let text = &report.at.file.text;
    let start = range.start.min(text.len());
    let end = range.end.clamp(start, text.len());
    let body = &text[start..end];
    let mut offset = 0;
    while let Some(found) = body[offset..].find("${") {
        let open = offset + found;
        let Some(close) = body[open..].find('}') else {
            let at = start + open;
            report.out.push(
                report
                    .at
                    .file
                    .error("step::variable", at..at + 2, "`${` is never closed")
                    .label("unclosed")
                    .help("write variables as `${name}`"),
            );
            return std::ops::ControlFlow::Break(());
        };
        let name = &body[open + 2..open + close];
        offset = open + close + 1;
        if scope.builtins().any(|known| known == name) || flow.captures.contains(name) {
            continue;
        }
        let span = start + open..start + offset;
        let file = report.at.file;
        if scope == Scope::Collector && name == "pod" {
            report.out.push(
                file.error("step::variable", span, "`${pod}` is not set in an `onFailure` collector")
                    .label("no pod here")
                    .help("`${pod}` is set only while `exec`, `http` or `dns` with `forEach` run per pod; name the pod, e.g. `pod/web-0`"),
            );
            continue;
        }
        if let Some(place) = flow.later.get(name) {
            let help = match scope {
                Scope::Step => {
                    format!("move this step after {place}, or capture `{name}` before it")
                }
                Scope::Collector => format!(
                    "collectors run right after the failure, before `finally`; capture `{name}` in a step instead"
                ),
            };
            report.out.push(
                file.error(
                    "step::variable",
                    span,
                    format!("`${{{name}}}` is captured only later, by {place}"),
                )
                .label("not captured yet")
                .help(help),
            );
            continue;
        }
        let mut known: Vec<&str> = scope.builtins().collect();
        known.extend(flow.captures.iter().map(String::as_str));
        let label = match scope {
            Scope::Step => "not defined before this step",
            Scope::Collector => "not defined by any step",
        };
        report.out.push(
            file.error("step::variable", span, format!("unknown variable `${{{name}}}`"))
                .label(label)
                .help(similar::did_you_mean(name, known.iter().copied()).unwrap_or_else(|| {
                    format!(
                        "known here: {}; define others with `capture: {{..., as: {name}}}` or `exec: {{captureStdout: {name}}}` in an earlier step",
                        known.iter().map(|k| format!("${{{k}}}")).collect::<Vec<_>>().join(", ")
                    )
                })),
        );
    }
    std::ops::ControlFlow::Continue(())
}
