//! Cleanup after a scenario, whatever its outcome: uncordon the nodes it cordoned, delete its
//! namespace and the cluster-scoped objects it owns (PVs bound to its claims with a Retain
//! policy, PVs and StorageClasses it applied), and wait for them to go. A namespace that does not
//! go is reported with the objects and finalizers holding it.

use crate::api::{claims, dynamic_api, with_retry, with_retry_on_conflict};
use crate::scenario::model::{Kind, ResolvedTarget};
use crate::steps::manifest::OWNER_NAMESPACE_LABEL;
use crate::wait::{WaitVerdict, Watched, wait_for};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::time::Instant;

/// Puts `nodes` back into scheduling. Returns one problem line per node that could not be.
pub(crate) async fn uncordon(
    client: &kube::Client,
    nodes: &[String],
    deadline: Instant,
) -> Vec<String> {
    let api = dynamic_api(client, Kind::Node, "");
    let patch = Patch::Merge(json!({"spec": {"unschedulable": false}}));
    let params = PatchParams::default();
    let mut problems = Vec::new();
    for node in nodes {
        if let Err(error) =
            with_retry_on_conflict(&format!("uncordon node/{node}"), deadline, || {
                api.patch(node, &params, &patch)
            })
            .await
        {
            problems.push(format!("{error}; run `kubectl uncordon {node}`"));
        }
    }
    problems
}

/// The cluster-scoped objects a scenario namespace owns: PVs bound to its claims that are not
/// deleted with them (Retain), and PVs or StorageClasses it applied itself.
pub(crate) async fn owned_cluster_objects(
    client: &kube::Client,
    namespace: &str,
    deadline: Instant,
) -> Result<Vec<(Kind, String)>, String> {
    let mut owned = Vec::new();
    let pvs = dynamic_api(client, Kind::PersistentVolume, "");
    let params = ListParams::default();
    let list = with_retry("list persistentvolumes", deadline, || pvs.list(&params))
        .await
        .map_err(|error| error.to_string())?;
    for pv in list.items {
        let value = serde_json::to_value(&pv).unwrap_or(Value::Null);
        let claimed_here = value
            .pointer("/spec/claimRef/namespace")
            .and_then(Value::as_str)
            == Some(namespace);
        let retained = value
            .pointer("/spec/persistentVolumeReclaimPolicy")
            .and_then(Value::as_str)
            == Some("Retain");
        let applied_here = labelled(&pv, namespace);
        if (claimed_here && retained) || applied_here {
            owned.push((Kind::PersistentVolume, pv.metadata.name.unwrap_or_default()));
        }
    }
    let classes = dynamic_api(client, Kind::StorageClass, "");
    let params = ListParams::default().labels(&format!("{OWNER_NAMESPACE_LABEL}={namespace}"));
    let list = with_retry("list storageclasses", deadline, || classes.list(&params))
        .await
        .map_err(|error| error.to_string())?;
    for class in list.items {
        if labelled(&class, namespace) {
            owned.push((Kind::StorageClass, class.metadata.name.unwrap_or_default()));
        }
    }
    Ok(owned)
}

fn labelled(object: &DynamicObject, namespace: &str) -> bool {
    object
        .metadata
        .labels
        .as_ref()
        .and_then(|labels| labels.get(OWNER_NAMESPACE_LABEL))
        .is_some_and(|owner| owner == namespace)
}

fn namespaces_api(client: &kube::Client) -> Api<DynamicObject> {
    Api::all_with(client.clone(), &ApiResource::erase::<Namespace>(&()))
}

/// Deletes `namespace` and the cluster objects it owns, then waits (until `deadline`) for all of
/// it to go. `Err` says what is left and what holds it.
pub async fn delete_namespace(
    client: &kube::Client,
    namespace: &str,
    deadline: Instant,
) -> Result<String, String> {
    let mut problems = Vec::new();
    let owned = match owned_cluster_objects(client, namespace, deadline).await {
        Ok(owned) => owned,
        Err(error) => {
            problems.push(format!("could not look for PVs the scenario owns: {error}"));
            Vec::new()
        }
    };
    let params = DeleteParams::default();
    for (kind, name) in &owned {
        let api = dynamic_api(client, *kind, "");
        match with_retry(&format!("delete {kind}/{name}"), deadline, || {
            api.delete(name, &params)
        })
        .await
        {
            Ok(_) => {}
            Err(error) if error.is_not_found() => {}
            Err(error) => problems.push(error.to_string()),
        }
    }
    let namespaces = namespaces_api(client);
    match with_retry(&format!("delete namespace {namespace}"), deadline, || {
        namespaces.delete(namespace, &params)
    })
    .await
    {
        Ok(_) => {}
        Err(error) if error.is_not_found() => {}
        Err(error) => {
            problems.push(error.to_string());
            return Err(problems.join("; "));
        }
    }

    let started = Instant::now();
    let watched = Watched::from_api(
        namespaces,
        ApiResource::erase::<Namespace>(&()),
        Some(namespace.to_owned()),
        None,
    );
    let gone = wait_for(&watched, deadline, |left| {
        if left.is_empty() {
            WaitVerdict::Met("gone".to_owned())
        } else {
            WaitVerdict::NotYet("still terminating".to_owned())
        }
    })
    .await;
    if gone.is_err() {
        problems.push(format!(
            "namespace {namespace} was not deleted within {:.0}s; {}",
            started.elapsed().as_secs_f64(),
            what_holds(client, namespace).await
        ));
    }
    for (kind, name) in &owned {
        let watched = Watched::new(client, "", &ResolvedTarget::object(*kind, name));
        let gone = wait_for(&watched, deadline, |left| match left.first() {
            None => WaitVerdict::Met("gone".to_owned()),
            Some(object) => WaitVerdict::NotYet(finalizers(object)),
        })
        .await;
        if let Err(error) = gone {
            problems.push(format!(
                "{kind}/{name} (owned by the scenario) was not deleted: {}",
                error.observation().reason
            ));
        }
    }
    if problems.is_empty() {
        let owned_text = if owned.is_empty() {
            String::new()
        } else {
            let names: Vec<String> = owned.iter().map(|(k, n)| format!("{k}/{n}")).collect();
            format!(" with {}", names.join(", "))
        };
        Ok(format!(
            "deleted namespace {namespace}{owned_text} in {:.1}s",
            started.elapsed().as_secs_f64()
        ))
    } else {
        Err(problems.join("; "))
    }
}

/// Why an object is still in a terminating namespace: a pod in its grace period, a claim that
/// pvc-protection holds for the pods still using it, or its finalizers.
fn why_left(kind: Kind, object: &DynamicObject, pods: &[&DynamicObject]) -> String {
    let held = finalizers(object);
    if kind == Kind::Pod && object.metadata.deletion_timestamp.is_some() {
        let grace = object
            .metadata
            .deletion_grace_period_seconds
            .map(|s| format!(", grace period {s}s"))
            .unwrap_or_default();
        return format!("terminating{grace}; {held}");
    }
    let name = object.metadata.name.as_deref().unwrap_or_default();
    match claims::held_by_protection(kind, object)
        .then(|| claims::protection_note(name, pods.iter().copied()))
        .flatten()
    {
        Some(note) => format!("{held}; {note}"),
        None => held,
    }
}

fn finalizers(object: &DynamicObject) -> String {
    match object.metadata.finalizers.as_deref() {
        Some(list) if !list.is_empty() => format!("finalizers: {}", list.join(", ")),
        _ => "no finalizers".to_owned(),
    }
}

/// Which objects are left in a terminating namespace and what holds them (finalizers, a pod's
/// grace period, the pods using a protected claim), plus the namespace's own conditions (the
/// API server explains itself there).
pub(crate) async fn what_holds(client: &kube::Client, namespace: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut left = Vec::new();
    // Events are removed with the namespace and never hold it; listing them only adds noise.
    for kind in Kind::all().filter(|k| k.namespaced() && *k != Kind::Event) {
        let api = dynamic_api(client, kind, namespace);
        let params = ListParams::default();
        let Ok(list) = with_retry(&format!("list {}", kind.plural()), deadline, || {
            api.list(&params)
        })
        .await
        else {
            continue;
        };
        left.extend(list.items.into_iter().map(|object| (kind, object)));
    }
    let pods: Vec<&DynamicObject> = left
        .iter()
        .filter(|(kind, _)| *kind == Kind::Pod)
        .map(|(_, pod)| pod)
        .collect();
    let held: Vec<String> = left
        .iter()
        .map(|(kind, object)| {
            let name = object.metadata.name.clone().unwrap_or_default();
            format!("{kind}/{name} ({})", why_left(*kind, object, &pods))
        })
        .collect();
    let mut text = if held.is_empty() {
        "no objects are left in it".to_owned()
    } else {
        format!("still there: {}", held.join(", "))
    };
    let namespaces = namespaces_api(client);
    if let Ok(Some(ns)) =
        with_retry("get namespace", deadline, || namespaces.get_opt(namespace)).await
    {
        let value = serde_json::to_value(&ns).unwrap_or(Value::Null);
        if let Some(list) = value.pointer("/spec/finalizers").and_then(Value::as_array)
            && !list.is_empty()
        {
            let names: Vec<&str> = list.iter().filter_map(Value::as_str).collect();
            text.push_str(&format!("; namespace finalizers: {}", names.join(", ")));
        }
        for condition in value
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if condition.get("status").and_then(Value::as_str) == Some("True") {
                let field = |key| condition.get(key).and_then(Value::as_str).unwrap_or("");
                text.push_str(&format!("; {}: {}", field("type"), field("message")));
            }
        }
    }
    text
}
