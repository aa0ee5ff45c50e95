//! `command` against the fake API server: real local programs (sh, printf, kubectl, a script in
//! a suite) run with a kubeconfig for the scenario's cluster, their output checked, bounded,
//! masked, and their whole process group ended at the deadline.

use crate::checks_support::{TestResult, World};
use crate::support::test_cluster::until;
use serde_json::json;
use std::path::Path;

const NS: &str = "petset-local";

/// A world whose fixtures folder sits in a suite folder holding `scripts/`.
async fn suite() -> Result<(World, tempfile::TempDir), Box<dyn std::error::Error>> {
    let mut world = World::start(NS).await?;
    let suite = tempfile::tempdir()?;
    std::fs::create_dir_all(suite.path().join("fixtures"))?;
    std::fs::create_dir_all(suite.path().join("scripts"))?;
    world.ctx.fixtures_dir = suite.path().join("fixtures");
    Ok((world, suite))
}

fn script(suite: &Path, name: &str, text: &str) -> Result<(), Box<dyn std::error::Error>> {
    use std::os::unix::fs::PermissionsExt;
    let path = suite.join("scripts").join(name);
    std::fs::write(&path, text)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    Ok(())
}

#[tokio::test]
async fn the_program_gets_the_namespace_variables_and_a_kubeconfig_for_the_cluster() -> TestResult {
    let (mut world, _suite) = suite().await?;
    world.ctx.vars.set("release", "db-1");
    let report = world
        .passes(
            r#"command:
  run: [sh, -c, 'printf "%s %s %s" "$PETSET_NAMESPACE" "$release" "$GREETING"']
  env: {GREETING: "hello ${release}"}
  stdout: {equals: "petset-local db-1 hello db-1"}
"#,
        )
        .await;
    assert!(
        report.detail.contains("petset-local db-1 hello db-1"),
        "{}",
        report.detail
    );
    // kubectl, given only the KUBECONFIG petset wrote, reads the scenario's namespace from the
    // fake: the file names the server and the namespace as the context's default.
    world.fake.create(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "seen", "namespace": NS},
        "data": {"answer": "42"},
    }))?;
    world
        .passes(
            r#"command:
  run: [kubectl, get, configmap, seen, -o, "jsonpath={.data.answer}"]
  stdout: {equals: "42"}
  captureStdout: answer
"#,
        )
        .await;
    assert_eq!(world.ctx.vars.get("answer"), Some("42"));
    // Nothing but the scenario's context: petset's own KUBECONFIG does not reach the program.
    world
        .passes(
            r#"command:
  run: [sh, -c, 'case "$KUBECONFIG" in *petset-kubeconfig-*) echo private;; *) echo "$KUBECONFIG";; esac']
  stdout: {equals: "private"}
"#,
        )
        .await;
    Ok(())
}

#[tokio::test]
async fn a_script_in_the_suite_runs_from_the_suite_folder_and_the_kubeconfig_goes_after()
-> TestResult {
    let (mut world, suite) = suite().await?;
    script(
        suite.path(),
        "where.sh",
        "#!/bin/sh\npwd\necho \"$KUBECONFIG\"\necho \"arg=$1\"\n",
    )?;
    world
        .passes("command: {run: [./scripts/where.sh, one], captureStdout: where}")
        .await;
    let printed = world.ctx.vars.get("where").unwrap_or_default().to_owned();
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(lines.len(), 3, "{printed}");
    assert_eq!(
        std::fs::canonicalize(lines[0])?,
        std::fs::canonicalize(suite.path())?
    );
    assert!(
        !Path::new(lines[1]).exists(),
        "the kubeconfig outlived the step: {}",
        lines[1]
    );
    assert_eq!(lines[2], "arg=one");
    Ok(())
}

#[tokio::test]
async fn an_unmet_expectation_shows_the_output_and_what_differs() -> TestResult {
    let (mut world, _suite) = suite().await?;
    let failure = world
        .fails(
            r#"command:
  run: [sh, -c, 'echo made it; echo oops >&2; exit 3']
  stdout: {contains: [ready]}
"#,
        )
        .await;
    assert!(
        failure.message.starts_with("command `sh -c"),
        "{}",
        failure.message
    );
    assert!(failure.message.contains("exit code"), "{}", failure.message);
    assert!(
        failure.expected.contains("exit code: 0"),
        "{}",
        failure.expected
    );
    assert!(
        failure.actual.contains("exit code: 3"),
        "{}",
        failure.actual
    );
    assert!(failure.actual.contains("  made it"), "{}", failure.actual);
    assert!(failure.actual.contains("  oops"), "{}", failure.actual);
    assert!(failure.actual.contains("ready"), "{}", failure.actual);
    Ok(())
}

#[tokio::test]
async fn a_missing_program_is_one_error_naming_it() -> TestResult {
    let (mut world, _suite) = suite().await?;
    let failure = world
        .fails("command: {run: [petset-no-such-program, --version]}")
        .await;
    assert!(
        failure
            .actual
            .contains("the program `petset-no-such-program` was not found"),
        "{}",
        failure.actual
    );
    assert!(
        failure.message.contains("petset-no-such-program"),
        "{}",
        failure.message
    );
    Ok(())
}

#[tokio::test]
async fn the_deadline_kills_the_whole_process_group() -> TestResult {
    let (mut world, suite) = suite().await?;
    // The shell starts a child in the background, writes its pid, and waits for it.
    let failure = world
        .fails(
            r#"command:
  run: [sh, -c, 'sleep 60 & echo $! > child.pid; wait']
  timeout: 1s
"#,
        )
        .await;
    assert!(
        failure
            .actual
            .contains("did not end before its deadline; its process group was killed"),
        "{}",
        failure.actual
    );
    let pid: u32 = std::fs::read_to_string(suite.path().join("child.pid"))?
        .trim()
        .parse()?;
    let proc_entry = Path::new("/proc").join(pid.to_string());
    until(|| !alive(&proc_entry)).await;
    Ok(())
}

#[tokio::test]
async fn what_a_passed_program_leaves_running_ends_with_it() -> TestResult {
    let (mut world, _suite) = suite().await?;
    world
        .passes("command: {run: [sh, -c, 'sleep 60 & echo $!'], captureStdout: child}")
        .await;
    let printed = world.ctx.vars.get("child").unwrap_or_default();
    let pid: u32 = printed
        .parse()
        .unwrap_or_else(|_| panic!("stdout is the child's pid, not {printed:?}"));
    until(|| !alive(&Path::new("/proc").join(pid.to_string()))).await;
    Ok(())
}

/// Whether the process is alive: a /proc entry that is not a zombie.
fn alive(proc_entry: &Path) -> bool {
    std::fs::read_to_string(proc_entry.join("stat"))
        .map(|stat| {
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            !state.starts_with('Z')
        })
        .unwrap_or(false)
}

#[tokio::test]
async fn eventually_runs_again_until_the_program_succeeds() -> TestResult {
    let (mut world, _suite) = suite().await?;
    let report = world
        .passes(
            r#"command:
  run: [sh, -c, 'n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; echo "try $n"; [ $n -ge 3 ]']
  stdout: {contains: ["try 3"]}
  eventually: 20s
"#,
        )
        .await;
    assert!(report.detail.contains("try 3"), "{}", report.detail);
    Ok(())
}

#[tokio::test]
async fn secrets_in_the_output_are_masked_and_the_output_is_bounded() -> TestResult {
    let (mut world, _suite) = suite().await?;
    world.ctx.secrets.register("s3cr3t-pw");
    let failure = world
        .fails(
            r#"command:
  run: [sh, -c, 'echo "password is s3cr3t-pw"; head -c 200000 /dev/zero | tr "\0" x; exit 1']
"#,
        )
        .await;
    assert!(!failure.actual.contains("s3cr3t-pw"), "a secret leaked");
    assert!(
        failure.actual.contains("password is"),
        "{}",
        &failure.actual[..200]
    );
    assert!(
        failure.actual.len() < 80 * 1024,
        "{} bytes",
        failure.actual.len()
    );
    assert!(
        failure.actual.contains("more bytes not kept"),
        "the cut is said"
    );
    Ok(())
}
