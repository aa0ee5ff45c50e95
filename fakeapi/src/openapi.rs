//! A minimal OpenAPI v3 document per group/version: just enough for kubectl to see that
//! PATCH accepts `fieldValidation`, so it leaves validation to the server instead of
//! downloading full schemas (which the fake does not have).

use axum::Json;
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::resources::{self, GROUPS, ResourceType};
use crate::status::ApiError;

/// `/openapi/v3`: the group/version documents on offer.
pub(crate) async fn root() -> Json<Value> {
    let mut paths = Map::new();
    let gvs = std::iter::once(("", "v1")).chain(GROUPS.iter().copied());
    for (g, v) in gvs {
        let p = gv_path(g, v);
        paths.insert(
            p.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{p}?hash=petset-fake")}),
        );
    }
    Json(json!({ "paths": paths }))
}

/// `/openapi/v3/api/v1` and `/openapi/v3/apis/{group}/{version}`.
pub(crate) async fn group_version(Path(path): Path<String>) -> Response {
    let (group, version) = match path.split('/').collect::<Vec<_>>().as_slice() {
        ["api", v] => ("", *v),
        ["apis", g, v] => (*g, *v),
        _ => return ApiError::no_such_resource().into_response(),
    };
    let known = (group.is_empty() && version == "v1")
        || GROUPS.iter().any(|(g, v)| *g == group && *v == version);
    if !known {
        return ApiError::no_such_resource().into_response();
    }
    let mut paths = Map::new();
    for rt in resources::in_group_version(group, version) {
        paths.insert(item_path(rt), path_item(rt));
    }
    Json(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.33.0"},
        "paths": paths,
        "components": {"schemas": {}},
    }))
    .into_response()
}

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

fn item_path(rt: &ResourceType) -> String {
    let ns = if rt.namespaced {
        "namespaces/{namespace}/"
    } else {
        ""
    };
    format!(
        "/{}/{ns}{}/{{name}}",
        gv_path(rt.group, rt.version),
        rt.plural
    )
}

fn path_item(rt: &ResourceType) -> Value {
    let query = |name: &str| json!({"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": true}});
    json!({
        "patch": {
            "operationId": format!("patch{}", rt.kind),
            "x-kubernetes-action": "patch",
            "x-kubernetes-group-version-kind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
            "parameters": [query("dryRun"), query("fieldManager"), query("fieldValidation"), query("force")],
            "responses": {"200": {"description": "OK"}},
        },
    })
}
