//! The retry policy against the fake API server answering as a loaded real one does: a forced
//! apply that loses a race (409), throttling with `Retry-After` (429), a one-off 503, a dropped
//! connection. Each is retried and counted in the step's report; the server's real answers
//! (400, 403, 404, 422) fail at once.

use crate::support::test_cluster::{TestCluster, step, within};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::Api;
use petset::steps::run_step;
use petset_fakeapi::{Lasting, RequestFilter, Transient, Verb};
use serde_json::json;
use std::time::Duration;

const APPLY: &str = "apply: {manifests: [{apiVersion: v1, kind: ConfigMap, metadata: {name: settings}, data: {a: '1'}}]}";

fn patches_of_configmaps() -> RequestFilter {
    RequestFilter::any()
        .verb(Verb::Patch)
        .resource("configmaps")
}

/// Runs the apply step with `transient` injected once; returns its report's detail.
async fn apply_through(transient: Transient) -> (String, u64) {
    let fake = TestCluster::start().await;
    let mut ctx = fake.ctx("ns");
    fake.handle()
        .inject_transient(patches_of_configmaps(), transient, Lasting::Requests(1));
    let report = within(20, run_step(&step(APPLY), &mut ctx))
        .await
        .unwrap_or_else(|failure| panic!("{transient:?} is retried: {}", failure.message));
    assert!(
        fake.get("v1", "ConfigMap", Some("ns"), "settings")
            .is_some()
    );
    let patches = fake.handle().request_count(Verb::Patch, "configmaps");
    (report.detail, patches)
}

#[tokio::test]
async fn a_forced_apply_that_loses_a_race_is_sent_again_and_counted() {
    let (detail, patches) = apply_through(Transient::Conflict).await;
    assert_eq!(detail, "applied configmap/settings (retried 1 time: 409)");
    assert_eq!(patches, 2);
}

#[tokio::test]
async fn a_throttled_call_is_retried_after_the_servers_pause() {
    let (detail, patches) = apply_through(Transient::Throttle {
        retry_after_seconds: 1,
    })
    .await;
    assert_eq!(detail, "applied configmap/settings (retried 1 time: 429)");
    assert_eq!(patches, 2);
}

#[tokio::test]
async fn a_dropped_connection_is_retried_and_counted() {
    let (detail, patches) = apply_through(Transient::DropConnection).await;
    assert_eq!(
        detail,
        "applied configmap/settings (retried 1 time: connection lost)"
    );
    assert_eq!(patches, 2);
}

#[tokio::test]
async fn a_one_off_503_is_retried_and_counted() {
    let fake = TestCluster::start().await;
    let mut ctx = fake.ctx("ns");
    fake.handle()
        .fail_requests(patches_of_configmaps(), 503, Lasting::Requests(1));
    let report = within(20, run_step(&step(APPLY), &mut ctx))
        .await
        .unwrap_or_else(|failure| panic!("a 503 is retried: {}", failure.message));
    assert_eq!(
        report.detail,
        "applied configmap/settings (retried 1 time: 503)"
    );
}

#[tokio::test]
async fn the_servers_answers_fail_at_once() {
    for code in [400, 403, 404, 422] {
        let fake = TestCluster::start().await;
        let mut ctx = fake.ctx("ns");
        fake.handle()
            .fail_requests(patches_of_configmaps(), code, Lasting::Always);
        let failure = within(20, run_step(&step(APPLY), &mut ctx))
            .await
            .expect_err("the answer stands");
        assert_eq!(
            fake.handle().request_count(Verb::Patch, "configmaps"),
            1,
            "{code} is not retried"
        );
        assert!(
            failure.message.contains(&code.to_string()) && !failure.message.contains("retried"),
            "{}",
            failure.message
        );
    }
}

#[tokio::test]
async fn a_retry_the_deadline_leaves_no_room_for_is_not_attempted() {
    let fake = TestCluster::start().await;
    let mut ctx = fake.ctx("ns");
    ctx.default_timeout = Duration::from_secs(5);
    fake.handle().inject_transient(
        patches_of_configmaps(),
        Transient::Throttle {
            retry_after_seconds: 60,
        },
        Lasting::Always,
    );
    let failure = within(20, run_step(&step(APPLY), &mut ctx))
        .await
        .expect_err("the server's pause is past the deadline");
    assert_eq!(fake.handle().request_count(Verb::Patch, "configmaps"), 1);
    assert!(
        failure
            .message
            .contains("no time left to retry before the deadline")
            && failure.message.contains("429"),
        "{}",
        failure.message
    );
}

#[tokio::test]
async fn the_client_carries_retry_after_into_the_error() {
    let fake = TestCluster::start().await;
    fake.namespace("ns");
    fake.handle().inject_transient(
        RequestFilter::any().verb(Verb::Get),
        Transient::Throttle {
            retry_after_seconds: 7,
        },
        Lasting::Requests(1),
    );
    let api: Api<ConfigMap> = Api::namespaced(fake.client.clone(), "ns");
    let error = within(10, api.get_opt("settings"))
        .await
        .expect_err("throttled");
    let kube::Error::Api(status) = &error else {
        panic!("an API error: {error:?}");
    };
    assert_eq!(
        (status.code, status.reason.as_str()),
        (429, "TooManyRequests")
    );
    assert_eq!(
        status.details.as_ref().map(|d| d.retry_after_seconds),
        Some(7)
    );
    assert_eq!(
        petset::api::server_pause(&error),
        Some(Duration::from_secs(7))
    );
}

#[tokio::test]
async fn the_sql_password_is_read_through_a_transient_503() {
    let fake = TestCluster::start().await;
    fake.namespace("ns");
    fake.create(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "mysql-app", "namespace": "ns"},
        "data": {"password": "czNjcjN0"},
    }));
    fake.handle().fail_requests(
        RequestFilter::any().verb(Verb::Get).resource("secrets"),
        503,
        Lasting::Requests(1),
    );
    let secrets: Api<Secret> = Api::namespaced(fake.client.clone(), "ns");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let password = within(
        20,
        petset::sql::password_from_secret(
            &secrets,
            "ns",
            "mysql-app",
            "password",
            &petset::redact::SecretValues::default(),
            deadline,
        ),
    )
    .await
    .unwrap_or_else(|error| panic!("a 503 is retried: {error}"));
    assert_eq!(password.expose(), "s3cr3t");
    assert_eq!(fake.handle().request_count(Verb::Get, "secrets"), 2);
}
