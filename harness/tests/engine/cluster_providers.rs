//! The command runner and the kind/k3d providers, driven through stand-in `kind`, `k3d` and
//! `docker` executables that record their arguments and print what the real ones print.

use std::time::{Duration, Instant};

use crate::cluster_support::{
    StandIns, VersionServer, assert_teardown, connected, failed, kubeconfig_yaml, settings,
};
use crate::support::test_cluster::{assert_contains, assert_starts};
use petset::cluster::{Provider, RunError, Selection, TeardownOutcome, connect};

/// A heredoc printing a kubeconfig; `context` may use the script's arguments (`kind-$4`).
fn kubeconfig_script(context: &str, server: &str) -> String {
    format!(
        "/bin/cat <<YAML\n{}YAML\n",
        kubeconfig_yaml(context, server)
    )
}

const KIND_CREATE_OK: &str = r#"echo 'Creating cluster "petset" ...' >&2
echo ' ✓ Ensuring node image (kindest/node:v1.33.1) 🖼' >&2
echo ' ✓ Preparing nodes 📦 📦 📦' >&2
echo 'Set kubectl context to "kind-petset"' >&2"#;

/// Stand-ins for a machine with Docker and kind, whose `kind get clusters` prints `existing`.
fn kind_machine(existing: &[&str], server: &str) -> StandIns {
    let bin = StandIns::with_docker(true);
    let list = if existing.is_empty() {
        "echo 'No kind clusters found.' >&2".to_string()
    } else {
        format!("printf '%s\\n' {}", existing.join(" "))
    };
    bin.script(
        "kind",
        &format!(
            "case \"$1 $2\" in\n\
             'get clusters') {list} ;;\n\
             'get kubeconfig') {} ;;\n\
             'create cluster') {KIND_CREATE_OK} ;;\n\
             'delete cluster') echo 'Deleting cluster \"petset\" ...' >&2 ;;\n\
             *) echo \"unexpected: $*\" >&2; exit 2 ;;\n\
             esac",
            kubeconfig_script("kind-$4", server)
        ),
    );
    bin
}

#[tokio::test]
async fn runner_stops_a_program_at_its_deadline_and_keeps_what_it_printed() {
    let bin = StandIns::new();
    bin.script("slow", "echo started; echo warming >&2; exec /bin/sleep 30");
    let started = Instant::now();
    let err = bin
        .runner()
        .run("slow", &["--flag"], Duration::from_millis(500))
        .await
        .expect_err("must time out");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    let RunError::TimedOut { output, .. } = &err else {
        panic!("expected a timeout, got {err}");
    };
    assert_eq!(output.exit_code, None);
    assert_eq!(output.stdout, "started\n");
    assert_eq!(output.stderr, "warming\n");
    assert_contains(&err.to_string(), "`slow --flag` did not finish within 0.5s");
}

#[tokio::test]
async fn runner_hands_its_own_path_and_env_to_the_program() {
    let bin = StandIns::new();
    bin.script("show", "echo \"$PATH|$PETSET_PROBE\"; exit 3");
    let output = bin
        .runner()
        .env("PETSET_PROBE", "yes")
        .run("show", &[], Duration::from_secs(5))
        .await
        .expect("runs");
    assert_eq!(output.stdout.trim(), format!("{}|yes", bin.dir().display()));
    assert_eq!(output.exit_code, Some(3));
    let err = output
        .into_result()
        .expect_err("non-zero exit is a failure");
    assert_starts(&err.to_string(), "`show` failed (exit code 3)");
}

#[tokio::test]
async fn runner_names_a_missing_program_and_how_to_get_it() {
    let bin = StandIns::new();
    let err = bin
        .runner()
        .run("kind", &["get", "clusters"], Duration::from_secs(5))
        .await
        .expect_err("kind is not there");
    let text = err.to_string();
    assert_starts(
        &text,
        "`kind` not found on PATH; install it from https://kind.sigs.k8s.io/",
    );
    assert_contains(&text, "PETSET_CLUSTER=k3d, k3s or current");
}

#[tokio::test]
async fn kind_reuses_a_running_cluster_and_never_deletes_it() {
    let api = VersionServer::start(33).await;
    let bin = kind_machine(&["other", "petset"], api.url());
    let settings = settings(&[("PETSET_CLUSTER", "kind")]);
    let cluster = connected(connect(&settings, &bin.runner()).await);
    assert!(!cluster.created_by_petset());
    assert_eq!(cluster.context(), "kind-petset");
    assert_eq!(
        cluster.provider(),
        &Provider::Kind {
            name: "petset".into()
        }
    );
    assert_eq!(cluster.server_version().minor, 33);
    assert!(!bin.called("kind create"), "{:?}", bin.calls());
    assert_teardown(cluster, TeardownOutcome::NotOwned).await;
    assert_eq!(
        bin.calls(),
        [
            "docker version --format {{.Server.Version}}",
            "kind get clusters",
            "kind get kubeconfig --name petset",
        ]
    );
}

#[tokio::test]
async fn kind_creates_a_missing_cluster_from_the_fixture_and_deletes_it_at_the_end() {
    let api = VersionServer::start(33).await;
    let bin = kind_machine(&["other"], api.url());
    let settings = settings(&[("PETSET_CLUSTER", "kind")]);
    let cluster = connected(connect(&settings, &bin.runner()).await);
    assert!(cluster.created_by_petset());
    let config = settings
        .repo_root
        .as_ref()
        .expect("repo root")
        .join("fixtures/clusters/kind.yaml");
    let create = format!(
        "kind create cluster --name petset --config {} --wait 180s",
        config.display()
    );
    assert!(bin.calls().contains(&create), "{:?}", bin.calls());
    assert!(
        cluster
            .commands()
            .iter()
            .any(|c| c.stderr.contains("Creating cluster"))
    );
    assert!(!bin.called("kind delete"));
    assert_teardown(cluster, TeardownOutcome::Deleted).await;
    assert_eq!(
        bin.calls().last().map(String::as_str),
        Some("kind delete cluster --name petset")
    );
}

#[tokio::test]
async fn without_creation_a_missing_kind_cluster_is_named_and_not_created() {
    let api = VersionServer::start(33).await;
    let bin = kind_machine(&["other"], api.url());
    let mut settings = settings(&[("PETSET_CLUSTER", "kind")]);
    settings.may_create = false;
    let err = failed(connect(&settings, &bin.runner()).await);
    let text = err.describe();
    assert_starts(
        &text,
        "failed to find kind cluster `petset`: under cargo-nextest",
    );
    assert_contains(
        &text,
        "create it first: kind create cluster --name petset --config",
    );
    assert!(!bin.called("kind create"), "{:?}", bin.calls());
    assert_eq!(
        bin.calls(),
        [
            "docker version --format {{.Server.Version}}",
            "kind get clusters"
        ]
    );
}

#[tokio::test]
async fn without_creation_a_running_kind_cluster_is_still_used() {
    let api = VersionServer::start(33).await;
    let bin = kind_machine(&["petset"], api.url());
    let mut settings = settings(&[("PETSET_CLUSTER", "kind")]);
    settings.may_create = false;
    let cluster = connected(connect(&settings, &bin.runner()).await);
    assert!(!cluster.created_by_petset());
    assert_eq!(cluster.context(), "kind-petset");
}

#[tokio::test]
async fn without_creation_no_k3s_container_is_started() {
    let bin = StandIns::with_docker(true);
    let mut explicit = settings(&[("PETSET_CLUSTER", "k3s")]);
    explicit.may_create = false;
    let err = failed(connect(&explicit, &bin.runner()).await);
    assert_contains(&err.describe(), "under cargo-nextest petset only connects");
    let mut auto = settings(&[]);
    auto.may_create = false;
    match connect(&auto, &bin.runner()).await {
        Ok(Selection::Unavailable(u)) => {
            assert_contains(&u.reason(), "no k3s container: under cargo-nextest");
        }
        other => panic!("expected no cluster, got {other:?}"),
    }
    assert!(
        bin.calls().is_empty(),
        "docker was asked: {:?}",
        bin.calls()
    );
}

#[tokio::test]
async fn a_created_cluster_is_kept_when_asked() {
    let api = VersionServer::start(33).await;
    let bin = kind_machine(&[], api.url());
    let settings = settings(&[("PETSET_CLUSTER", "kind:ci"), ("PETSET_KEEP_CLUSTER", "1")]);
    let cluster = connected(connect(&settings, &bin.runner()).await);
    assert!(
        bin.called("kind create cluster --name ci "),
        "{:?}",
        bin.calls()
    );
    assert_teardown(cluster, TeardownOutcome::Kept).await;
    assert!(!bin.called("kind delete"));
}

#[tokio::test]
async fn a_failing_create_reports_what_kind_printed_and_deletes_nothing() {
    let bin = StandIns::with_docker(true);
    bin.script(
        "kind",
        "case \"$1\" in\n\
         get) echo 'No kind clusters found.' >&2 ;;\n\
         create) echo 'Creating cluster \"petset\" ...' >&2\n\
         echo 'ERROR: failed to create cluster: failed to pull image \"kindest/node:v1.33.1\"' >&2\n\
         exit 1 ;;\n\
         esac",
    );
    let settings = settings(&[("PETSET_CLUSTER", "kind")]);
    let err = failed(connect(&settings, &bin.runner()).await);
    let text = err.describe();
    assert_starts(&text, "failed to create kind cluster `petset` from ");
    assert_contains(&text, "failed (exit code 1)");
    assert_contains(
        &text,
        "ERROR: failed to create cluster: failed to pull image",
    );
    assert!(!bin.called("kind delete"), "{:?}", bin.calls());
}

#[tokio::test]
async fn a_create_that_overruns_its_deadline_is_stopped_and_cleaned_up() {
    let bin = StandIns::with_docker(true);
    bin.script(
        "kind",
        "case \"$1\" in\n\
         get) echo 'No kind clusters found.' >&2 ;;\n\
         create) echo 'Creating cluster \"petset\" ...' >&2; exec /bin/sleep 60 ;;\n\
         delete) echo 'Deleting cluster \"petset\" ...' >&2 ;;\n\
         esac",
    );
    let mut settings = settings(&[("PETSET_CLUSTER", "kind")]);
    settings.create_deadline = Duration::from_secs(1);
    let started = Instant::now();
    let err = failed(connect(&settings, &bin.runner()).await);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "took {:?}",
        started.elapsed()
    );
    let text = err.describe();
    assert_contains(&text, "did not finish within 1s and was stopped");
    assert_contains(&text, "Creating cluster");
    assert_eq!(
        bin.calls().last().map(String::as_str),
        Some("kind delete cluster --name petset")
    );
}

#[tokio::test]
async fn a_created_cluster_that_cannot_be_reached_is_deleted_again() {
    let bin = kind_machine(&[], &crate::cluster_support::closed_port_url());
    let mut settings = settings(&[("PETSET_CLUSTER", "kind")]);
    settings.command_deadline = Duration::from_secs(2);
    let err = failed(connect(&settings, &bin.runner()).await);
    assert_starts(
        &err.to_string(),
        "failed to reach the cluster of context `kind-petset`",
    );
    assert!(bin.called("kind create"));
    assert_eq!(
        bin.calls().last().map(String::as_str),
        Some("kind delete cluster --name petset")
    );
}

#[tokio::test]
async fn a_missing_kind_is_named_before_docker_is_asked() {
    let bin = StandIns::with_docker(true);
    let err = failed(connect(&settings(&[("PETSET_CLUSTER", "kind")]), &bin.runner()).await);
    assert_contains(&err.describe(), "`kind` not found on PATH; install it from");
    assert!(bin.calls().is_empty(), "{:?}", bin.calls());
}

#[tokio::test]
async fn a_stopped_docker_engine_gives_one_clear_message() {
    let bin = StandIns::with_docker(false);
    bin.script("k3d", "exit 0");
    let err = failed(connect(&settings(&[("PETSET_CLUSTER", "k3d")]), &bin.runner()).await);
    let text = err.to_string();
    assert_starts(
        &text,
        "failed to reach the Docker engine, which k3d (PETSET_CLUSTER=k3d:petset) needs",
    );
    assert_contains(&text, "Cannot connect to the Docker daemon");
    assert!(
        !bin.called("k3d"),
        "k3d must not run without an engine: {:?}",
        bin.calls()
    );
}

/// Stand-ins for a machine with Docker and k3d, whose cluster list holds `existing`.
fn k3d_machine(existing: &[&str], server: &str) -> StandIns {
    let bin = StandIns::with_docker(true);
    let list: Vec<String> = existing
        .iter()
        .map(|n| format!(r#"{{"name":"{n}","serversCount":1,"serversRunning":1,"agentsCount":2}}"#))
        .collect();
    bin.script(
        "k3d",
        &format!(
            "case \"$1 $2\" in\n\
             'cluster list') echo '[{}]' ;;\n\
             'kubeconfig get') {} ;;\n\
             'cluster create') echo 'INFO[0000] Using config file fixtures/clusters/k3d.yaml' >&2 ;;\n\
             'cluster delete') echo \"INFO[0000] Deleting cluster '$3'\" >&2 ;;\n\
             *) echo \"unexpected: $*\" >&2; exit 2 ;;\n\
             esac",
            list.join(","),
            kubeconfig_script("k3d-$3", server)
        ),
    );
    bin
}

#[tokio::test]
async fn k3d_reuses_a_running_cluster_and_never_deletes_it() {
    let api = VersionServer::start(33).await;
    let bin = k3d_machine(&["dev"], api.url());
    let cluster =
        connected(connect(&settings(&[("PETSET_CLUSTER", "k3d:dev")]), &bin.runner()).await);
    assert!(!cluster.created_by_petset());
    assert_eq!(cluster.context(), "k3d-dev");
    assert_teardown(cluster, TeardownOutcome::NotOwned).await;
    assert_eq!(
        bin.calls(),
        [
            "docker version --format {{.Server.Version}}",
            "k3d cluster list -o json",
            "k3d kubeconfig get dev",
        ]
    );
}

#[tokio::test]
async fn k3d_creates_a_missing_cluster_and_deletes_only_that() {
    let api = VersionServer::start(33).await;
    let bin = k3d_machine(&["someone-elses"], api.url());
    let settings = settings(&[("PETSET_CLUSTER", "k3d:dev")]);
    let cluster = connected(connect(&settings, &bin.runner()).await);
    assert!(cluster.created_by_petset());
    assert!(
        bin.called("k3d cluster create dev --config "),
        "{:?}",
        bin.calls()
    );
    assert_teardown(cluster, TeardownOutcome::Deleted).await;
    let deletes: Vec<String> = bin
        .calls()
        .into_iter()
        .filter(|c| c.contains("delete"))
        .collect();
    assert_eq!(deletes, ["k3d cluster delete dev"]);
}
