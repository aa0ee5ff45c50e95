//! Per-step meaning: fields that only make sense together, targets of the right kind, label
//! selectors, references to objects, variables and marks.

use super::check::StepAt;
use super::references::Objects;
use super::sql_dns::{check_dns, check_secret, check_sql};
use super::variables::check_variables;
use crate::expect::Selector;
use crate::scenario::diagnostic::Diagnostic;
use crate::scenario::model::*;
use crate::scenario::similar;
use crate::scenario::yaml::Point;
use std::collections::BTreeSet;

/// Variables every step may use.
pub(crate) const BUILTIN_VARIABLES: &[&str] = &["namespace", "clusterDomain", "pod"];

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
    pub(super) captures: BTreeSet<String>,
    marks: BTreeSet<String>,
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
        check_variables(&mut report, flow);
    }
    for (target, path) in targets(step) {
        check_target(&mut report, objects, gates, target, &path);
    }
    match step {
        Step::Apply(_) | Step::Delete(_) => {}
        Step::Scale(scale) => {
            if !matches!(
                scale.target.kind,
                Kind::StatefulSet | Kind::Deployment | Kind::ReplicaSet
            ) {
                report.error(
                    &["target"],
                    format!("cannot scale a {}", scale.target.kind.name()),
                    "scale works on sts, deploy and rs",
                );
            }
            if scale.replicas < 0 {
                report.error(
                    &["replicas"],
                    "replicas cannot be negative",
                    "use 0 or more",
                );
            }
        }
        Step::Patch(patch) => {
            if patch.patch.is_none() && patch.image.is_empty() {
                report.whole(
                    "this `patch` changes nothing",
                    "give `patch: {...}` or `image: {container: image:tag}`",
                );
            }
            if patch.patch_type == PatchType::Json {
                if patch.patch.as_ref().is_some_and(|p| !p.is_array()) {
                    report.error(
                        &["patch"],
                        "a JSON patch is a list of operations",
                        "write `patch: [{op: replace, path: /spec/replicas, value: 3}]`, or use `type: merge`",
                    );
                }
                if !patch.image.is_empty() {
                    report.error(
                        &["image"],
                        "`image` cannot be combined with `type: json`",
                        "set images with a strategic or merge patch",
                    );
                }
            }
            single(&mut report, &patch.target, "target", "patch");
        }
        Step::Rollout(rollout) => {
            if !matches!(rollout.undo.kind, Kind::Deployment | Kind::StatefulSet) {
                report.error(
                    &["undo"],
                    format!("cannot roll back a {}", rollout.undo.kind.name()),
                    "rollout undo works on deploy and sts",
                );
            }
            if rollout.to_revision.is_some_and(|revision| revision < 1) {
                report.error(
                    &["toRevision"],
                    "revisions start at 1",
                    "omit `toRevision` to go back one revision",
                );
            }
            single(&mut report, &rollout.undo, "undo", "rollout");
        }
        Step::Wait(wait) => {
            check_wait(&mut report, wait);
            if let WaitFor::Matches(partial) = &wait.until {
                operators(&mut report, &["for", "matches"], partial);
            }
        }
        Step::Exec(exec) => {
            if exec.command.is_empty() {
                report.error(
                    &["command"],
                    "the command is empty",
                    "write e.g. `command: [cat, /data/log]`",
                );
            }
            pods_only(&mut report, &exec.target, "target", "exec");
            text(&mut report, "stdout", exec.stdout.as_ref());
            text(&mut report, "stderr", exec.stderr.as_ref());
            if exec.capture_stdout.is_some() && !exec.target.is_single() {
                report.error(
                    &["captureStdout"],
                    "`captureStdout` needs a single pod",
                    "target one pod (`pod/web-0`); with a selector the command runs in several",
                );
            }
        }
        Step::Sql(sql) => {
            check_sql(&mut report, sql);
            if gates.references {
                check_secret(&mut report, objects, sql);
            }
        }
        Step::Dns(dns) => check_dns(&mut report, dns),
        Step::Http(http) => {
            pods_only(&mut report, &http.target, "target", "http");
            text(&mut report, "body", http.body.as_ref());
        }
        Step::Assert(assert) => {
            check_assert(&mut report, assert);
            for (field, partial) in [("matches", &assert.matches), ("each", &assert.each)] {
                if let Some(partial) = partial {
                    operators(&mut report, &[field], partial);
                }
            }
            for item in &assert.items {
                operators(&mut report, &["items"], item);
            }
        }
        Step::Timeline(timeline) => check_timeline(&mut report, timeline, objects, gates, flow),
        Step::Capture(capture) => {
            single(&mut report, &capture.target, "target", "capture");
            if !is_field_path(&capture.field) {
                report.error(
                    &["field"],
                    format!("`{}` is not a field path", capture.field),
                    "write a dotted path such as `spec.volumeName` or `status.containerStatuses[0].restartCount`",
                );
            }
            if !is_variable_name(&capture.name)
                || BUILTIN_VARIABLES.contains(&capture.name.as_str())
            {
                report.error(
                    &["as"],
                    format!("`{}` cannot be a variable name", capture.name),
                    "use letters, digits, `_` and `-`, starting with a letter, and not `namespace` or `pod`",
                );
            }
        }
        Step::Mark(name) => {
            if flow.marks.contains(name) {
                report.whole(
                    format!("the mark `{name}` is set twice"),
                    "give each mark its own name, so `timeline: {since: ...}` is unambiguous",
                );
            }
        }
        Step::Cordon(node) | Step::Uncordon(node) => {
            node_choice(&mut report, node.node.as_ref(), node.node_of.as_ref());
        }
        Step::Drain(drain) => node_choice(&mut report, drain.node.as_ref(), drain.node_of.as_ref()),
        Step::Observe(observe) => {
            if !observe.absent && observe.count.is_none() && observe.keeps.is_none() {
                report.whole(
                    "this `observe` checks nothing",
                    "give `absent: true`, `count: N` or `keeps: {...}`",
                );
            }
            if let Some(keeps) = &observe.keeps {
                operators(&mut report, &["keeps"], keeps);
            }
            if observe.absent && (observe.count.is_some() || observe.keeps.is_some()) {
                report.whole(
                    "`absent: true` contradicts `count`/`keeps`",
                    "an absent object has no count or fields; keep one expectation",
                );
            }
        }
    }
    match step {
        Step::Capture(capture) => {
            flow.captures.insert(capture.name.clone());
        }
        Step::Exec(ExecStep {
            capture_stdout: Some(name),
            ..
        }) => {
            flow.captures.insert(name.clone());
        }
        Step::Mark(name) => {
            flow.marks.insert(name.clone());
        }
        _ => {}
    }
}

pub(super) struct Report<'a, 'b> {
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

/// Every target a step names, with the path of its field.
fn targets(step: &Step) -> Vec<(&Target, Vec<&'static str>)> {
    let mut found = Vec::new();
    match step {
        Step::Delete(s) => found.push((&s.target, vec!["target"])),
        Step::Scale(s) => found.push((&s.target, vec!["target"])),
        Step::Patch(s) => found.push((&s.target, vec!["target"])),
        Step::Rollout(s) => found.push((&s.undo, vec!["undo"])),
        Step::Wait(s) => found.push((&s.target, vec!["target"])),
        Step::Exec(s) => found.push((&s.target, vec!["target"])),
        Step::Sql(s) => found.push((&s.target, vec!["target"])),
        Step::Http(s) => found.push((&s.target, vec!["target"])),
        Step::Assert(s) => found.push((&s.target, vec!["target"])),
        Step::Timeline(s) => found.push((&s.target, vec!["target"])),
        Step::Capture(s) => found.push((&s.target, vec!["target"])),
        Step::Observe(s) => found.push((&s.target, vec!["target"])),
        Step::Dns(s) => {
            if let Some(from) = &s.from {
                found.push((from, vec!["from"]));
            }
            if let Some(each) = &s.for_each {
                found.push((each, vec!["forEach"]));
            }
            match &s.expect {
                DnsExpect::PodIps(t) => found.push((t, vec!["expect", "podIps"])),
                DnsExpect::ServiceIp(t) => found.push((t, vec!["expect", "serviceIp"])),
                DnsExpect::SrvTargets(t) => found.push((t, vec!["expect", "srvTargets"])),
                DnsExpect::NotFound => {}
            }
        }
        Step::Cordon(s) | Step::Uncordon(s) => {
            if let Some(pod) = &s.node_of {
                found.push((pod, vec!["nodeOf"]));
            }
        }
        Step::Drain(s) => {
            if let Some(pod) = &s.node_of {
                found.push((pod, vec!["nodeOf"]));
            }
        }
        Step::Apply(_) | Step::Mark(_) => {}
    }
    found
}

fn check_target(
    report: &mut Report<'_, '_>,
    objects: &Objects,
    gates: &Gates,
    target: &Target,
    path: &[&str],
) {
    if let Some(selector) = &target.selector
        && !selector.contains("${")
        && let Err(error) = Selector::parse(selector)
    {
        let span = report.at.span(path, Point::Value);
        report.out.push(
            report
                .at
                .file
                .error("step::selector", span, error.to_string())
                .label("invalid selector")
                .help("write it as for `kubectl get -l`: `app=web`, `app=web,tier!=db`, `env in (a,b)`"),
        );
        return;
    }
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

pub(super) fn pods_only(report: &mut Report<'_, '_>, target: &Target, field: &str, step: &str) {
    if target.kind != Kind::Pod {
        report.error(
            &[field],
            format!("`{step}` runs in pods, not in a {}", target.kind.name()),
            "target `pod/<name>` or `{kind: pod, selector: ...}`",
        );
    }
}

fn node_choice(report: &mut Report<'_, '_>, node: Option<&String>, node_of: Option<&Target>) {
    match (node, node_of) {
        (Some(_), Some(_)) => report.whole(
            "give `node` or `nodeOf`, not both",
            "`nodeOf: pod/web-0` names the node that pod runs on",
        ),
        (None, None) => report.whole(
            "which node? give `node: <name>` or `nodeOf: pod/<name>`",
            "`nodeOf: pod/web-0` names the node that pod runs on",
        ),
        (None, Some(pod)) if pod.kind != Kind::Pod || !pod.is_single() => report.error(
            &["nodeOf"],
            "`nodeOf` names one pod",
            "write `nodeOf: pod/web-0`",
        ),
        _ => {}
    }
}

fn check_wait(report: &mut Report<'_, '_>, wait: &WaitStep) {
    let kind = wait.target.kind;
    match &wait.until {
        WaitFor::RolledOut if !matches!(kind, Kind::StatefulSet | Kind::Deployment) => report
            .error(
                &["for"],
                format!("a {} has no rollout to wait for", kind.name()),
                "wait for `rolledOut` on sts or deploy; use `ready` for pods",
            ),
        WaitFor::Bound if kind != Kind::PersistentVolumeClaim => report.error(
            &["for"],
            format!("a {} is never `bound`", kind.name()),
            "wait for `bound` on pvc; use `{phase: Bound}` for a pv",
        ),
        WaitFor::Count(_) | WaitFor::ReadyCount(_) if wait.target.is_single() => report.error(
            &["for"],
            "counting needs a set of objects, not one named object",
            "target `{kind: pod, selector: app=web}`",
        ),
        _ => {}
    }
    let every_object = matches!(
        wait.until,
        WaitFor::Ready
            | WaitFor::RolledOut
            | WaitFor::Bound
            | WaitFor::Phase(_)
            | WaitFor::Condition(_)
            | WaitFor::Matches(_)
    );
    if wait.target.is_single() && wait.count.is_some() {
        report.error(
            &["count"],
            "`count` needs a set of objects, not one named object",
            "drop `count`, or target `{kind: pod, selector: app=web}`",
        );
    } else if !wait.target.is_single() && every_object && wait.count.is_none() {
        report.error(
            &["target"],
            "a wait over a selector must say how many objects it expects",
            "add `count: N` beside `for`: the wait then also needs exactly N matching objects",
        );
    }
}

/// `passwordFrom` names a Secret and key the scenario applies (petset reads it from the
/// scenario's own namespace, so nothing else can provide it).
fn check_assert(report: &mut Report<'_, '_>, assert: &AssertStep) {
    let has_items = !assert.items.is_empty();
    let checks =
        assert.matches.is_some() || assert.count.is_some() || assert.each.is_some() || has_items;
    if !assert.absent && !checks {
        report.whole(
            "this `assert` checks nothing",
            "give `matches`, `count`, `each`, `items` or `absent: true`",
        );
    }
    if assert.absent && checks {
        report.whole(
            "`absent: true` contradicts the other expectations",
            "an absent object has no fields or count; keep one",
        );
    }
    if assert.matches.is_some() && !assert.target.is_single() {
        report.error(
            &["matches"],
            "`matches` compares one object; the target is a set",
            "use `each` (every object) or `items` (a list) with a selector",
        );
    }
    if (has_items || assert.each.is_some() || assert.count.is_some()) && assert.target.is_single() {
        report.error(
            &["target"],
            "`count`, `each` and `items` need a set of objects, not one named object",
            "target `{kind: pod, selector: app=web}`, or use `matches` for one object",
        );
    }
}

fn check_timeline(
    report: &mut Report<'_, '_>,
    timeline: &TimelineStep,
    objects: &Objects,
    gates: &Gates,
    flow: &Flow,
) {
    if timeline.expect.is_empty() {
        report.error(
            &["expect"],
            "the timeline expects nothing",
            "list at least one expectation, e.g. `- createdInOrder: [web-0, web-1]`",
        );
    }
    if let Some(since) = &timeline.since
        && gates.marks
        && !flow.marks.contains(since)
    {
        report.error(
            &["since"],
            format!("no `mark: {since}` comes before this step"),
            similar::did_you_mean(since, flow.marks.iter().map(String::as_str))
                .unwrap_or_else(|| format!("add `- mark: {since}` before the steps to look at")),
        );
    }
    for expectation in timeline.expect.iter().filter(|_| gates.references) {
        let names = match expectation {
            TimelineExpect::CreatedInOrder(names)
            | TimelineExpect::DeletedInOrder(names)
            | TimelineExpect::ReadyBeforeNextCreated(names)
            | TimelineExpect::GoneBeforeNextDeleted(names)
            | TimelineExpect::CreatedWithoutWaiting(names) => names,
            _ => continue,
        };
        for name in names {
            let target = Target::object(timeline.target.kind, name.clone());
            if let Err(unknown) = objects.check(&target) {
                let span = report.at.span(&["expect"], Point::Value);
                report.out.push(
                    report
                        .at
                        .file
                        .error("step::unknown-object", span, unknown.message)
                        .label("in this list")
                        .help(unknown.help),
                );
            }
        }
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
