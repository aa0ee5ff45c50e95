//! The shipped fixtures are valid Kubernetes objects: every document under `fixtures/` parses
//! into its k8s-openapi type with nothing lost (no unknown or misspelt field), and every image
//! is pinned by tag or digest, never `:latest`, and is one of the vetted multi-arch images.

use crate::support::manifests::{
    MULTI_ARCH_IMAGES, images, load_fixtures, lost_in_round_trip, typed_round_trip, unpinned,
};
use serde_json::json;

#[test]
fn every_fixture_parses_into_its_type_without_unknown_fields() {
    let manifests = load_fixtures().expect("fixtures load");
    assert!(
        manifests.len() >= 10,
        "expected the suite's fixtures, found {} documents",
        manifests.len()
    );
    let mut problems = Vec::new();
    for manifest in &manifests {
        if manifest.name().is_empty() {
            problems.push(format!("{}: no metadata.name", manifest.label()));
        }
        match typed_round_trip(&manifest.value) {
            Ok(typed) => problems.extend(
                lost_in_round_trip(&manifest.value, &typed)
                    .into_iter()
                    .map(|p| format!("{}: {p}", manifest.label())),
            ),
            Err(e) => problems.push(format!("{}: {e}", manifest.label())),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_fixture_image_is_pinned_and_multi_arch() {
    let manifests = load_fixtures().expect("fixtures load");
    let mut seen = 0;
    let mut problems = Vec::new();
    for manifest in &manifests {
        for image in images(&manifest.value) {
            seen += 1;
            if let Some(problem) = unpinned(&image) {
                problems.push(format!("{}: {problem}", manifest.label()));
            }
            if !MULTI_ARCH_IMAGES.contains(&image.as_str()) {
                problems.push(format!(
                    "{}: `{image}` is not among the images checked to exist for amd64 and arm64",
                    manifest.label()
                ));
            }
        }
    }
    assert!(
        seen >= 10,
        "expected the fixtures' containers, found {seen}"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_vetted_images_are_pinned() {
    for image in MULTI_ARCH_IMAGES {
        assert_eq!(unpinned(image), None, "{image}");
    }
}

#[test]
fn the_round_trip_finds_misspelt_and_misplaced_fields() {
    let doc = json!({
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "web"},
        "spec": {
            "replica": 3,
            "serviceName": "web",
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "busybox:1.36.1", "imagePullPolice": "Always"}]}
            }
        }
    });
    let typed = typed_round_trip(&doc).expect("a StatefulSet");
    let lost = lost_in_round_trip(&doc, &typed);
    assert_eq!(
        lost,
        [
            "unknown field `spec.replica`",
            "unknown field `spec.template.spec.containers[0].imagePullPolice`"
        ]
    );
}

#[test]
fn the_round_trip_rejects_wrong_types_and_unknown_kinds() {
    let wrong_type = json!({
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
        "spec": {"ports": [{"port": "eighty"}]}
    });
    assert!(typed_round_trip(&wrong_type).is_err());
    let unknown_kind = json!({"apiVersion": "v1", "kind": "Serivce", "metadata": {"name": "s"}});
    let error = typed_round_trip(&unknown_kind).expect_err("unknown kind");
    assert!(error.contains("Serivce"), "{error}");
}

#[test]
fn image_pinning_rules() {
    assert_eq!(unpinned("busybox:1.36.1"), None);
    assert_eq!(
        unpinned("registry.k8s.io/e2e-test-images/agnhost:2.53"),
        None
    );
    assert_eq!(unpinned("localhost:5000/web:v2"), None);
    let digest = format!("busybox@sha256:{}", "a".repeat(64));
    assert_eq!(unpinned(&digest), None);
    assert!(unpinned("busybox").is_some());
    assert!(unpinned("busybox:latest").is_some());
    assert!(unpinned("localhost:5000/web").is_some());
    assert!(unpinned("busybox@sha256:abc").is_some());
    assert!(unpinned("busybox:").is_some());
}

#[test]
fn images_are_found_in_init_containers_and_pod_templates() {
    let doc = json!({"spec": {"template": {"spec": {
        "initContainers": [{"name": "a", "image": "busybox:1.36.1"}],
        "containers": [{"name": "b", "image": "mariadb:11.4"}]
    }}}});
    let mut found = images(&doc);
    found.sort();
    assert_eq!(found, ["busybox:1.36.1", "mariadb:11.4"]);
}
