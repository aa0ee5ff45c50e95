//! Per-step meaning common to every kind (targets, references to objects, variables) and the [`StepCheck`] a kind's own checks write to; the checks of each kind are
//! in [`kinds`](crate::kinds).

use super::check::StepAt;
use super::references::Objects;
use super::variables::{Scope, check_variables};
use crate::diagnostic::Diagnostic;
use crate::model::{Kind, Step, Target, TextMatch};
use crate::similar;
use crate::yaml::Point;
use std::collections::{BTreeMap, BTreeSet};

/// Variables every step may use.
pub const BUILTIN_VARIABLES: &[&str] = &["namespace", "clusterDomain", "pod"];

/// Which checks across steps can be trusted (all of them, unless some steps did not parse).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Gates {
    pub references: bool,
    pub variables: bool,
    pub marks: bool,
}

/// What earlier steps defined: captured variables and timeline marks.
#[derive(Debug, Default)]
pub(crate) struct Flow {
    pub(crate) captures: BTreeSet<String>,
    pub(crate) marks: BTreeSet<String>,
    /// Every variable some step captures, with the first step that does (`step 4 (line 12)`),
    /// so that a use before it says where it comes from.
    pub(crate) later: BTreeMap<String, String>,
}

pub(crate) fn check_step(
    at: &StepAt<'_>,
    step: &Step,
    objects: &Objects,
    gates: &Gates,
    flow: &mut Flow,
    out: &mut Vec<Diagnostic>,
) {
    let mut report = Report { at, out };
    if gates.variables {
        check_variables(&mut report, flow, Scope::Step);
    }
    for (target, path) in step.targets() {
        check_target(&mut report, objects, gates, target, path);
    }
    step.check(&mut StepCheck {
        report,
        objects,
        gates,
        flow,
    });
    if let Some(name) = step.captures() {
        flow.captures.insert(name.to_owned());
    }
    if let Some(name) = step.mark() {
        flow.marks.insert(name.to_owned());
    }
}

/// What a step kind's own checks see (where the step is, what the scenario creates, which
/// checks across steps can be trusted, what earlier steps defined) and where they report.
pub struct StepCheck<'a, 'b> {
    pub(crate) report: Report<'a, 'b>,
    pub(crate) objects: &'a Objects,
    pub(crate) gates: &'a Gates,
    pub(crate) flow: &'a Flow,
}

impl StepCheck<'_, '_> {
    /// An error at a field of the step's body, e.g. `&["target"]`.
    pub(crate) fn error(
        &mut self,
        path: &[&str],
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.report.error(path, message, help);
    }

    /// An error about the step as a whole.
    pub(crate) fn whole(&mut self, message: impl Into<String>, help: impl Into<String>) {
        self.report.whole(message, help);
    }

    /// An error with its own code and label at a field of the step's body.
    pub(crate) fn located(
        &mut self,
        code: &'static str,
        path: &[&str],
        message: impl Into<String>,
        label: impl Into<String>,
        help: impl Into<String>,
    ) {
        let span = self.report.at.span(path, Point::Value);
        let diagnostic = self.report.at.file.error(code, span, message);
        self.report.out.push(diagnostic.label(label).help(help));
    }

    /// The target must be one named object.
    pub(crate) fn single(&mut self, target: &Target, field: &str, step: &str) {
        single(&mut self.report, target, field, step);
    }

    /// The target must be pods.
    pub(crate) fn pods_only(&mut self, target: &Target, field: &str, step: &str) {
        pods_only(&mut self.report, target, field, step);
    }

    /// The `$`-operators of a partial object at `field`.
    pub(crate) fn operators(&mut self, field: &[&str], partial: &serde_json::Value) {
        operators(&mut self.report, field, partial);
    }

    /// The regular expression of a text expectation at `field`.
    pub(crate) fn text(&mut self, field: &str, expected: Option<&TextMatch>) {
        text(&mut self.report, field, expected);
    }
}

/// Checks the `${...}` of an `onFailure` collector: `flow` holds what the steps capture.
pub(crate) fn check_collector(at: &StepAt<'_>, flow: &Flow, out: &mut Vec<Diagnostic>) {
    check_variables(&mut Report { at, out }, flow, Scope::Collector);
}

pub(crate) struct Report<'a, 'b> {
    pub(super) at: &'a StepAt<'b>,
    pub(super) out: &'a mut Vec<Diagnostic>,
}

impl Report<'_, '_> {
    pub(super) fn error(
        &mut self,
        path: &[&str],
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        let span = self.at.span(path, Point::Value);
        self.out.push(
            self.at
                .file
                .error("step::invalid", span, message)
                .label("here")
                .help(help),
        );
    }

    pub(super) fn whole(&mut self, message: impl Into<String>, help: impl Into<String>) {
        let span = self.at.whole();
        self.out.push(
            self.at
                .file
                .error("step::invalid", span, message)
                .label("in this step")
                .help(help),
        );
    }
}

/// Checks the `$`-operators of a partial object (`$regex`, `$gt`, ...) with the matcher's own
/// rules, pointing at each bad one.
fn operators(report: &mut Report<'_, '_>, field: &[&str], partial: &serde_json::Value) {
    let Err(mismatch) = crate::expect::validate(partial) else {
        return;
    };
    for difference in mismatch.differences {
        let mut path: Vec<String> = field.iter().map(|f| (*f).to_owned()).collect();
        path.extend(
            difference
                .path
                .split(['.', '['])
                .filter(|part| !part.is_empty() && !part.ends_with(']'))
                .map(str::to_owned),
        );
        let path: Vec<&str> = path.iter().map(String::as_str).collect();
        let span = report.at.span(&path, Point::Value);
        let unknown = difference
            .actual
            .strip_prefix("unknown operator `")
            .and_then(|rest| rest.split('`').next());
        let help = unknown
            .and_then(|name| similar::did_you_mean(name, crate::expect::OPERATORS.iter().copied()))
            .unwrap_or_else(|| format!("operators are {}", crate::expect::OPERATORS.join(", ")));
        report.out.push(
            report
                .at
                .file
                .error(
                    "step::operator",
                    span,
                    format!("invalid expectation: {}", difference.actual),
                )
                .label("here")
                .help(help),
        );
    }
}

/// Checks a text expectation's regular expression.
fn text(report: &mut Report<'_, '_>, field: &str, expected: Option<&TextMatch>) {
    if let Some(expected) = expected
        && let Err(message) = crate::expect::validate_text(expected)
    {
        // The regex crate explains with a multi-line drawing; its last line says what is wrong.
        let reason = message.lines().last().unwrap_or_default().trim();
        let reason = reason.strip_prefix("error: ").unwrap_or(reason);
        let pattern = expected.regex.as_deref().unwrap_or_default();
        report.error(
            &[field, "regex"],
            format!("invalid regex /{pattern}/: {reason}"),
            "write the pattern in Rust regex syntax (like RE2; no look-around)",
        );
    }
}

fn check_target(
    report: &mut Report<'_, '_>,
    objects: &Objects,
    gates: &Gates,
    target: &Target,
    path: &[&str],
) {
    if !gates.references {
        return;
    }
    if let Err(unknown) = objects.check(target) {
        let span = report.at.span(path, Point::Value);
        report.out.push(
            report
                .at
                .file
                .error("step::unknown-object", span, unknown.message)
                .label("not created by any `apply`")
                .help(unknown.help),
        );
    }
}

fn single(report: &mut Report<'_, '_>, target: &Target, field: &str, step: &str) {
    if !target.is_single() {
        report.error(
            &[field],
            format!("`{step}` needs one object, not a selector"),
            "name the object: `sts/web`, `pod/web-0`",
        );
    }
}

fn pods_only(report: &mut Report<'_, '_>, target: &Target, field: &str, step: &str) {
    if target.kind != Kind::Pod {
        report.error(
            &[field],
            format!("`{step}` runs in pods, not in a {}", target.kind.name()),
            "target `pod/<name>` or `{kind: pod, selector: ...}`",
        );
    }
}
