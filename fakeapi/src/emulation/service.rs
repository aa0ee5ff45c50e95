//! Services: EndpointSlices and Endpoints from the pods each Service selects (ready or not, as
//! the conditions say), kept up to date as pods come, go and change readiness.

use serde_json::{Value, json};

use super::config::Fault;
use super::objects::{arr, deleting, name, pod_ready, s, selects, uid};
use super::state::Shared;

pub(crate) fn reconcile(shared: &Shared, namespace: &str, pods: &[Value]) {
    let h = &shared.handle;
    for svc in h.list("v1", "Service", Some(namespace)) {
        if deleting(&svc) {
            continue;
        }
        let svc_name = name(&svc);
        if shared.config.has(Fault::HeadlessGetsClusterIp) && s(&svc, "/spec/clusterIP") == "None" {
            let ip = format!("10.96.200.{}", (uid(&svc).len() + svc_name.len()) % 250 + 1);
            let _ = h.patch(
                "v1",
                "Service",
                Some(namespace),
                svc_name,
                json!({"spec": {"clusterIP": ip, "clusterIPs": [ip]}}),
            );
        }
        let Some(selector) = svc.pointer("/spec/selector") else {
            continue;
        };
        let mut backing: Vec<&Value> = pods
            .iter()
            .filter(|p| selects(selector, p) && !deleting(p))
            .filter(|p| !s(p, "/status/podIP").is_empty())
            .collect();
        backing.sort_by_key(|p| name(p).to_string());
        let ports: Vec<Value> = arr(&svc, "/spec/ports")
            .iter()
            .map(|p| {
                json!({"name": s(p, "/name"), "port": p.pointer("/port").cloned().unwrap_or(json!(0)), "protocol": "TCP"})
            })
            .collect();
        let endpoints: Vec<Value> = backing
            .iter()
            .map(|p| {
                let ready = pod_ready(p) || shared.config.has(Fault::UnreadyPodStaysInEndpoints);
                let mut e = json!({
                    "addresses": [s(p, "/status/podIP")],
                    "conditions": {"ready": ready, "serving": ready, "terminating": false},
                    "nodeName": s(p, "/spec/nodeName"),
                    "targetRef": {"kind": "Pod", "namespace": namespace, "name": name(p), "uid": uid(p)},
                });
                let host = s(p, "/spec/hostname");
                if !host.is_empty() && s(p, "/spec/subdomain") == svc_name {
                    e["hostname"] = json!(host);
                }
                e
            })
            .collect();
        let slice_name = format!("{svc_name}-emulated");
        let slice = json!({
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "name": slice_name,
                "namespace": namespace,
                "labels": {"kubernetes.io/service-name": svc_name, "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"},
                "ownerReferences": [super::objects::owner_ref(&svc)],
            },
            "addressType": "IPv4",
            "endpoints": endpoints,
            "ports": ports,
        });
        sync(
            shared,
            "discovery.k8s.io/v1",
            "EndpointSlice",
            namespace,
            &slice_name,
            slice,
            &["endpoints", "ports"],
        );
        let listed_ready =
            |p: &Value| pod_ready(p) || shared.config.has(Fault::UnreadyPodStaysInEndpoints);
        let ready: Vec<Value> = backing
            .iter()
            .filter(|p| listed_ready(p))
            .map(|p| json!({"ip": s(p, "/status/podIP"), "targetRef": {"kind": "Pod", "name": name(p), "namespace": namespace}}))
            .collect();
        let not_ready: Vec<Value> = backing
            .iter()
            .filter(|p| !listed_ready(p))
            .map(|p| json!({"ip": s(p, "/status/podIP"), "targetRef": {"kind": "Pod", "name": name(p), "namespace": namespace}}))
            .collect();
        let mut subset = json!({"ports": arr(&svc, "/spec/ports").iter().map(|p| json!({"name": s(p, "/name"), "port": p.pointer("/port").cloned().unwrap_or(json!(0))})).collect::<Vec<_>>()});
        if !ready.is_empty() {
            subset["addresses"] = json!(ready);
        }
        if !not_ready.is_empty() {
            subset["notReadyAddresses"] = json!(not_ready);
        }
        let subsets = if backing.is_empty() {
            json!([])
        } else {
            json!([subset])
        };
        let ep = json!({
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {"name": svc_name, "namespace": namespace, "labels": {"kubernetes.io/service-name": svc_name}, "ownerReferences": [super::objects::owner_ref(&svc)]},
            "subsets": subsets,
        });
        sync(
            shared,
            "v1",
            "Endpoints",
            namespace,
            svc_name,
            ep,
            &["subsets"],
        );
    }
}

/// Creates `object`, or updates the listed top-level fields when they differ.
fn sync(
    shared: &Shared,
    api_version: &str,
    kind: &str,
    namespace: &str,
    object_name: &str,
    object: Value,
    fields: &[&str],
) {
    let h = &shared.handle;
    match h.get(api_version, kind, Some(namespace), object_name) {
        None => {
            let _ = h.create(object);
        }
        Some(current) => {
            let differs = fields.iter().any(|f| current.get(*f) != object.get(*f));
            if differs {
                let patch: serde_json::Map<String, Value> = fields
                    .iter()
                    .map(|f| {
                        (
                            (*f).to_string(),
                            object.get(*f).cloned().unwrap_or(Value::Null),
                        )
                    })
                    .collect();
                let _ = h.patch(
                    api_version,
                    kind,
                    Some(namespace),
                    object_name,
                    Value::Object(patch),
                );
            }
        }
    }
}
