//! Cluster selection from settings: the automatic choice, kubeconfig contexts, unreachable
//! clusters, and the safety guard that refuses contexts that are not local test clusters.

use std::time::{Duration, Instant};

use crate::cluster_support::{
    StandIns, VersionServer, assert_teardown, closed_port_url, connected, kubeconfig_yaml,
    settings, settings_with_context, unavailable,
};
use crate::support::test_cluster::{assert_contains, assert_ends, assert_starts};
use petset::cluster::{
    ClusterError, Provider, Selection, TeardownOutcome, check_context, connect, looks_local,
};

fn assert_names_the_three_ways(reason: &str) {
    for needle in [
        "a kind cluster",
        "PETSET_CLUSTER=kind",
        "a k3d cluster",
        "PETSET_CLUSTER=k3d",
        "a Docker engine",
        "PETSET_CLUSTER=k3s",
        "PETSET_CONTEXT",
        "PETSET_ALLOW_CONTEXT",
        "PETSET_KEEP_CLUSTER",
        "PETSET_PRELOAD",
    ] {
        assert_contains(reason, needle);
    }
}

#[tokio::test]
async fn with_no_kubeconfig_and_no_docker_selection_is_unavailable_quickly() {
    let bin = StandIns::new(); // an empty PATH: no docker, no kind, no k3d
    let started = Instant::now();
    let u = unavailable(connect(&settings(&[]), &bin.runner()).await);
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
    let reason = u.reason();
    assert_starts(&reason, "no Kubernetes cluster to run against:");
    assert_contains(
        &reason,
        "no kubeconfig (KUBECONFIG=/nonexistent/petset-test-kubeconfig does not exist)",
    );
    assert_contains(
        &reason,
        "no Docker engine for the embedded k3s: `docker` not found on PATH",
    );
    assert_names_the_three_ways(&reason);
}

#[tokio::test]
async fn a_stopped_docker_engine_makes_selection_unavailable_with_dockers_words() {
    let bin = StandIns::with_docker(false);
    let started = Instant::now();
    let u = unavailable(connect(&settings(&[]), &bin.runner()).await);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert_contains(
        &u.reason(),
        "Cannot connect to the Docker daemon at unix:///var/run/docker.sock",
    );
    assert_eq!(bin.calls(), ["docker version --format {{.Server.Version}}"]);
}

#[tokio::test]
async fn a_reachable_local_current_context_is_used_as_is() {
    let api = VersionServer::start(31).await;
    let bin = StandIns::new();
    let settings = settings_with_context(&bin, &[], "kind-dev", api.url());
    let cluster = connected(connect(&settings, &bin.runner()).await);
    assert_eq!(cluster.context(), "kind-dev");
    assert_eq!(cluster.provider(), &Provider::Context);
    assert_eq!(cluster.server_version().minor, 31);
    assert!(!cluster.created_by_petset());
    assert_teardown(cluster, TeardownOutcome::NotOwned).await;
    assert!(
        bin.calls().is_empty(),
        "docker must not be asked: {:?}",
        bin.calls()
    );
}

#[tokio::test]
async fn kubeconfig_lists_are_merged_and_petset_context_picks_one() {
    let api = VersionServer::start(30).await;
    let bin = StandIns::new();
    let first = bin.file("a", &kubeconfig_yaml("kind-a", &closed_port_url()));
    let second = bin.file("b", &kubeconfig_yaml("k3d-b", api.url()));
    let mut settings = settings(&[("PETSET_CLUSTER", "current"), ("PETSET_CONTEXT", "k3d-b")]);
    let list = std::env::join_paths([first, bin.dir().join("missing"), second]).expect("join");
    settings.kubeconfig = Some(list);
    let cluster = connected(connect(&settings, &bin.runner()).await);
    assert_eq!(cluster.context(), "k3d-b");
}

#[tokio::test]
async fn an_unreachable_context_gives_one_message_with_context_server_and_cause() {
    let bin = StandIns::new();
    let server = closed_port_url();
    let settings =
        settings_with_context(&bin, &[("PETSET_CLUSTER", "current")], "kind-gone", &server);
    let started = Instant::now();
    let err = connect(&settings, &bin.runner())
        .await
        .expect_err("unreachable");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    let text = err.to_string();
    assert_starts(
        &text,
        &format!("failed to reach the cluster of context `kind-gone` at {server}: "),
    );
    assert!(
        text.to_lowercase().contains("refused"),
        "the cause is missing: {text}"
    );
}

#[tokio::test]
async fn an_unreachable_current_context_falls_through_when_nothing_was_asked_for() {
    let bin = StandIns::new();
    let settings = settings_with_context(&bin, &[], "kind-gone", &closed_port_url());
    let u = unavailable(connect(&settings, &bin.runner()).await);
    assert_contains(
        &u.reason(),
        "failed to reach the cluster of context `kind-gone`",
    );
    assert_names_the_three_ways(&u.reason());
}

#[tokio::test]
async fn an_unknown_context_lists_the_ones_there_are() {
    let bin = StandIns::new();
    let settings = settings_with_context(
        &bin,
        &[("PETSET_CLUSTER", "current"), ("PETSET_CONTEXT", "nope")],
        "kind-a",
        "http://127.0.0.1:1",
    );
    let err = connect(&settings, &bin.runner())
        .await
        .expect_err("no such context");
    assert_eq!(
        err.to_string(),
        "failed to find context `nope` in the kubeconfig (it has: kind-a)"
    );
}

// --- the safety guard ---

#[test]
fn local_test_cluster_contexts_are_accepted() {
    for (context, server) in [
        ("kind-petset", "https://127.0.0.1:40123"),
        ("k3d-dev", "https://0.0.0.0:6550"),
        ("petset-k3s", "https://localhost:49153"),
        ("fake", "http://127.0.0.1:38001"),
    ] {
        assert!(looks_local(context, server), "{context} should look local");
        assert_eq!(check_context(context, server, None), Ok(()));
    }
}

#[test]
fn other_contexts_are_refused_even_on_loopback() {
    for (context, server) in [
        ("prod-eu", "https://k8s.example.com:6443"),
        ("docker-desktop", "https://127.0.0.1:6443"),
        ("fake", "https://10.1.2.3:6443"),
        ("minikube", "https://192.168.49.2:8443"),
    ] {
        let err = check_context(context, server, None).expect_err("must be refused");
        let text = err.to_string();
        assert_starts(
            &text,
            &format!("refusing to run against context `{context}` (server {server})"),
        );
        assert_ends(&text, &format!("set PETSET_ALLOW_CONTEXT={context}"));
    }
}

#[test]
fn only_the_exact_allowed_name_passes() {
    let server = "https://k8s.example.com:6443";
    assert_eq!(check_context("staging", server, Some("staging")), Ok(()));
    assert!(check_context("staging", server, Some("staging-2")).is_err());
    assert!(check_context("staging", server, Some("Staging")).is_err());
    assert!(check_context("staging-2", server, Some("staging")).is_err());
}

#[tokio::test]
async fn an_explicitly_chosen_non_local_context_is_refused_without_contacting_it() {
    let api = VersionServer::start(33).await;
    let bin = StandIns::new();
    let settings = settings_with_context(&bin, &[("PETSET_CLUSTER", "current")], "prod", api.url());
    let err = connect(&settings, &bin.runner())
        .await
        .expect_err("refused");
    assert!(matches!(err, ClusterError::Guard(_)), "{err}");
    assert_ends(&err.to_string(), "set PETSET_ALLOW_CONTEXT=prod");
    assert_eq!(api.hits(), 0, "a refused cluster must not be contacted");
}

#[tokio::test]
async fn a_refused_current_context_is_skipped_with_the_reason_when_nothing_was_asked_for() {
    let api = VersionServer::start(33).await;
    let bin = StandIns::new();
    let settings = settings_with_context(&bin, &[], "prod", api.url());
    let u = unavailable(connect(&settings, &bin.runner()).await);
    assert_contains(&u.reason(), "refusing to run against context `prod`");
    assert_contains(&u.reason(), "PETSET_ALLOW_CONTEXT=prod");
    assert_eq!(api.hits(), 0);
}

#[tokio::test]
async fn a_refused_current_context_is_named_in_the_one_line_reason_of_ignored_trials() {
    let api = VersionServer::start(33).await;
    let bin = StandIns::new();
    let settings = settings_with_context(&bin, &[], "prod", api.url());
    let u = unavailable(connect(&settings, &bin.runner()).await);
    // The one line is what JUnit and coverage carry for every ignored trial.
    let short = u.short();
    assert!(!short.contains('\n'), "{short}");
    assert_starts(&short, "no Kubernetes cluster");
    // It names the refused context, its server and why it was refused.
    assert_contains(&short, "refused context `prod`");
    assert_contains(&short, api.url());
    assert_contains(&short, "does not look like a local test cluster");
    assert_contains(&short, "PETSET_ALLOW_CONTEXT=prod");
}

#[tokio::test]
async fn an_allowed_non_local_context_is_used() {
    let api = VersionServer::start(33).await;
    let bin = StandIns::new();
    let settings = settings_with_context(
        &bin,
        &[
            ("PETSET_CLUSTER", "current"),
            ("PETSET_ALLOW_CONTEXT", "prod"),
        ],
        "prod",
        api.url(),
    );
    let cluster = connected(connect(&settings, &bin.runner()).await);
    assert_eq!(cluster.context(), "prod");
    assert!(api.hits() >= 1);
    assert_teardown(cluster, TeardownOutcome::NotOwned).await;
}

/// The real environment of this machine (run with `--ignored`; it contacts whatever your
/// kubeconfig and Docker offer, so it is not run by default): selection ends in an answer a
/// user can act on. A cluster is connected, described, and torn down as petset would leave it;
/// or none is available and the reason says what was tried and how to get one. The time it took
/// is printed for people, not asserted.
#[tokio::test]
#[ignore = "uses this machine's real kubeconfig, PATH and Docker engine"]
async fn selection_in_this_environment() {
    let started = Instant::now();
    let selection = petset::cluster::select().await;
    let elapsed = started.elapsed();
    match selection {
        Ok(Selection::Connected(cluster)) => {
            let summary = cluster.summary();
            println!("connected: {summary}");
            assert!(
                !summary.trim().is_empty(),
                "a connected cluster is described"
            );
            let teardown = cluster.teardown().await;
            assert!(teardown.is_ok(), "teardown: {teardown:?}");
        }
        Ok(Selection::Unavailable(unavailable)) => {
            let reason = unavailable.reason();
            println!("unavailable:\n{reason}");
            assert!(
                !unavailable.tried.is_empty(),
                "says what was tried: {reason}"
            );
            assert!(
                reason.contains("PETSET_CLUSTER"),
                "says how to get one: {reason}"
            );
        }
        Err(error) => panic!("selection failed: {}", error.describe()),
    }
    println!("selection took {:.3}s", elapsed.as_secs_f64());
}
