//! Reading the objects a step's target names, with retries.

use super::{ApiError, api_resource, dynamic_api, with_retry};
use crate::scenario::model::{Kind, ResolvedTarget};
use kube::Client;
use kube::api::{Api, DynamicObject, ListParams, TypeMeta};
use tokio::time::Instant;

/// `kind/name`, the way kubectl and reports name an object.
pub fn object_ref(kind: Kind, name: &str) -> String {
    format!("{kind}/{name}")
}

/// One object, or `None` when it does not exist.
pub async fn get_opt(
    api: &Api<DynamicObject>,
    kind: Kind,
    name: &str,
    deadline: Instant,
) -> Result<Option<DynamicObject>, ApiError> {
    with_retry(&format!("get {}", object_ref(kind, name)), deadline, || {
        api.get_opt(name)
    })
    .await
}

/// The live objects `target` names (its name and selector already substituted), sorted by name.
/// A named object that does not exist gives an empty list.
pub async fn list_target(
    client: &Client,
    namespace: &str,
    target: &ResolvedTarget,
    deadline: Instant,
) -> Result<Vec<DynamicObject>, ApiError> {
    let api = dynamic_api(client, target.kind, namespace);
    if let Some(name) = &target.name {
        return Ok(get_opt(&api, target.kind, name, deadline)
            .await?
            .into_iter()
            .collect());
    }
    let mut params = ListParams::default();
    if let Some(selector) = &target.selector {
        params = params.labels(selector.as_str());
    }
    let list = with_retry(&format!("list {target}"), deadline, || api.list(&params)).await?;
    let mut items = list.items;
    items.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    // List items come without `apiVersion` and `kind`; put them back, so a report shows what
    // each object is and a Secret is known as one when it is rendered.
    let resource = api_resource(target.kind);
    for item in items.iter_mut().filter(|item| item.types.is_none()) {
        item.types = Some(TypeMeta {
            api_version: resource.api_version.clone(),
            kind: resource.kind.clone(),
        });
    }
    Ok(items)
}
