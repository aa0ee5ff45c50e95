//! Label selectors and request paths are read by one grammar each, whether written in the file
//! (`petset lint` judges them) or put in by a `${...}` variable (the step judges them when it
//! runs): a table of texts goes through both, and the verdicts and reasons agree. A value that
//! breaks the grammar fails the step, naming the variable, before any API call.

use crate::checks_support::{TestResult, World};
use petset::events::{Failure, FailureKind};
use petset::scenario::{Checker, Diagnostic, SourceFile, check_source, load_catalogue, repo_root};
use serde_json::json;

const NS: &str = "petset-templates";

/// Selectors kubectl takes and selectors it refuses, one of each mistake the grammar names.
const SELECTORS: &[&str] = &[
    "app=web",
    "app==web,tier!=db",
    "app in (web,db)",
    "tier notin (db)",
    "app.kubernetes.io/name=web",
    "canary,!legacy",
    "app in web",
    "app=web,",
    "a b=c",
    "app=(x)",
    "Bad_Prefix/x=y",
    "a in (x",
    "a > 3",
];

/// Request paths a request line can carry and paths it cannot.
const PATHS: &[&str] = &[
    "/",
    "healthz",
    "/a%20b",
    "/q?x=1&y=2",
    "/a b",
    "/x\r\nX-Injected: 1",
    "/tab\there",
];

/// What `petset lint` says about `step` (a step written as YAML) under `code`, with its reason.
fn lint(step: &str, code: &str) -> Option<String> {
    let root = repo_root().expect("the repository root");
    let checker = Checker::new(&root, load_catalogue(&root).expect("the catalogue"));
    let text = format!("description: one template\ncovers: [STS-NAME-1]\nsteps:\n  - {step}\n");
    let checked = check_source(&checker, SourceFile::new("scenarios/t/template.yaml", text));
    let found: Vec<&Diagnostic> = checked
        .diagnostics
        .iter()
        .filter(|d| d.code == code)
        .collect();
    assert!(found.len() <= 1, "{found:?}");
    found.first().map(|d| {
        assert_eq!(
            (d.line, d.path.display().to_string()),
            (4, "scenarios/t/template.yaml".into())
        );
        d.message.clone()
    })
}

/// The step's verdict on a value put in by a variable: `Some(message)` when it refuses the
/// value as a mistake in the scenario, `None` when the step went on to ask the cluster.
fn refused(outcome: Result<petset::steps::StepReport, Failure>) -> Option<String> {
    match outcome {
        Err(failure) if failure.kind == FailureKind::InvalidScenario => Some(failure.message),
        _ => None,
    }
}

/// The reason after the quoted text in a lint message (`... \`app in web\`: REASON`; a message
/// is one line, so a line break in the text reads as a space there).
fn reason(message: &str) -> &str {
    message
        .split_once("`: ")
        .map_or(message, |(_, reason)| reason)
}

/// Runs every text of `table` through lint (written in `step`'s `{}`, diagnostics under `code`)
/// and through the step (put in by `${var}`), and lists where they disagree: on whether the text
/// is valid, on the reason, or on whether the step called the API before refusing.
async fn disagreements(
    world: &mut World,
    table: &[&str],
    step: &str,
    code: &str,
    var: &str,
) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let mut found = Vec::new();
    for text in table {
        let linted = lint(&step.replace("{}", &serde_json::to_string(text)?), code);
        world.ctx.vars.set(var, *text);
        let before = world.fake.request_counts();
        let through_variable = format!("\"${{{var}}}\"");
        let ran = refused(world.run(&step.replace("{}", &through_variable)).await);
        match (&linted, &ran) {
            (None, None) => {}
            (Some(lint), Some(engine)) => {
                let why = reason(lint);
                if !engine.contains(&format!("once `${{{var}}}` is `{text}`: {why}")) {
                    found.push(format!("{text:?}: lint says {lint:?}, the step {engine:?}"));
                }
                if world.fake.request_counts() != before {
                    found.push(format!("{text:?}: the step called the API before refusing"));
                }
            }
            _ => found.push(format!("{text:?}: lint {linted:?}, the step {ran:?}")),
        }
    }
    Ok(found)
}

#[tokio::test]
async fn lint_and_the_engine_agree_on_selectors() -> TestResult {
    let mut world = World::start(NS).await?;
    world.pod("web-0", json!({"app": "web"}))?;
    let step = "assert: {target: {kind: pod, selector: {}}, count: 1}";
    let found = disagreements(&mut world, SELECTORS, step, "step::selector", "sel").await?;
    assert!(found.is_empty(), "{found:#?}");
    Ok(())
}

#[tokio::test]
async fn lint_and_the_engine_agree_on_request_paths() -> TestResult {
    let mut world = World::start(NS).await?;
    let step = "http: {target: pod/web-0, port: 8080, path: {}}";
    let found = disagreements(&mut world, PATHS, step, "step::http-path", "path").await?;
    assert!(found.is_empty(), "{found:#?}");
    Ok(())
}

/// A captured value that breaks a selector fails the step as a mistake in the scenario, naming
/// the variable and its value, and no list is sent with it.
#[tokio::test]
async fn a_value_that_breaks_a_selector_names_the_variable() -> TestResult {
    let mut world = World::start(NS).await?;
    world.ctx.vars.set("app", "web");
    world.ctx.vars.set("tier", "front end");
    let before = world.fake.request_counts();
    let failure = world
        .fails("assert: {target: {kind: pod, selector: \"app=${app},tier=${tier}\"}, count: 1}")
        .await;
    assert_eq!(
        failure.message,
        "pods -l app=${app},tier=${tier}: the label selector `app=${app},tier=${tier}` is \
         `app=web,tier=front end` once `${tier}` is `front end`: invalid label value `front end`: \
         use letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit"
    );
    assert_eq!(failure.kind, FailureKind::InvalidScenario);
    assert_eq!(world.fake.request_counts(), before, "no API call was made");
    Ok(())
}
