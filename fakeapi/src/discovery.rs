//! Discovery documents: `/version`, `/api`, `/api/v1`, `/apis`, `/apis/{group}[/{version}]`.

use axum::Json;
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::resources::{self, GROUPS, ResourceType};
use crate::status::ApiError;

pub(crate) async fn version() -> Json<Value> {
    Json(json!({
        "major": "1",
        "minor": "33",
        "gitVersion": "v1.33.0-petset-fake",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-01-01T00:00:00Z",
        "goVersion": "go1.24",
        "compiler": "gc",
        "platform": "linux/amd64",
    }))
}

pub(crate) async fn core_versions() -> Json<Value> {
    Json(json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}],
    }))
}

pub(crate) async fn core_resources() -> Json<Value> {
    Json(resource_list("", "v1"))
}

pub(crate) async fn groups() -> Json<Value> {
    let groups: Vec<Value> = GROUPS.iter().map(|(g, v)| group_doc(g, v)).collect();
    Json(json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}))
}

pub(crate) async fn group(Path(group): Path<String>) -> Response {
    match GROUPS.iter().find(|(g, _)| *g == group) {
        Some((g, v)) => {
            let mut doc = group_doc(g, v);
            doc["kind"] = json!("APIGroup");
            doc["apiVersion"] = json!("v1");
            Json(doc).into_response()
        }
        None => ApiError::no_such_resource().into_response(),
    }
}

pub(crate) async fn group_resources(Path((group, version)): Path<(String, String)>) -> Response {
    if GROUPS.iter().any(|(g, v)| *g == group && *v == version) {
        Json(resource_list(&group, &version)).into_response()
    } else {
        ApiError::no_such_resource().into_response()
    }
}

fn group_doc(group: &str, version: &str) -> Value {
    let gv = json!({"groupVersion": format!("{group}/{version}"), "version": version});
    json!({"name": group, "versions": [gv.clone()], "preferredVersion": gv})
}

/// The `APIResourceList` of one group/version, subresources included.
fn resource_list(group: &str, version: &str) -> Value {
    let mut list = Vec::new();
    for rt in resources::in_group_version(group, version) {
        list.push(json!({
            "name": rt.plural,
            "singularName": rt.singular,
            "namespaced": rt.namespaced,
            "kind": rt.kind,
            "verbs": rt.verbs(),
            "shortNames": rt.short_names,
            "storageVersionHash": "",
        }));
        if rt.status {
            list.push(sub(
                rt,
                "status",
                None,
                rt.kind,
                &["get", "patch", "update"],
            ));
        }
        if rt.scale {
            list.push(sub(
                rt,
                "scale",
                Some(("autoscaling", "v1")),
                "Scale",
                &["get", "patch", "update"],
            ));
        }
        if rt.is_pod() {
            list.push(sub(
                rt,
                "eviction",
                Some(("policy", "v1")),
                "Eviction",
                &["create"],
            ));
            list.push(sub(rt, "exec", None, "PodExecOptions", &["create", "get"]));
            list.push(sub(
                rt,
                "portforward",
                None,
                "PodPortForwardOptions",
                &["create", "get"],
            ));
            list.push(sub(rt, "log", None, "Pod", &["get"]));
        }
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": list})
}

fn sub(
    rt: &ResourceType,
    name: &str,
    gv: Option<(&str, &str)>,
    kind: &str,
    verbs: &[&str],
) -> Value {
    let mut doc = json!({
        "name": format!("{}/{name}", rt.plural),
        "singularName": "",
        "namespaced": rt.namespaced,
        "kind": kind,
        "verbs": verbs,
    });
    if let Some((g, v)) = gv {
        doc["group"] = json!(g);
        doc["version"] = json!(v);
    }
    doc
}
