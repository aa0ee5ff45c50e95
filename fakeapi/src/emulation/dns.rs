//! The resolver the DNS probe pod sees: Service names (a headless Service resolves to its ready
//! pods, any other to its cluster IP), per-pod names `<hostname>.<subdomain>` of pods behind a
//! headless Service, and SRV records of a Service's ports. Answers look like `dig +short`.

use super::config::Fault;
use super::kubelet::POD_INDEX;
use super::objects::{arr, create_missing, int, name, pod_ready, s};
use super::state::Shared;
use crate::exec::ExecOutput;
use crate::handle::{Handle, lock};

const DOMAIN: &str = "svc.cluster.local";

/// Creates the `kube-dns` Service this resolver stands behind, if missing, so a capability
/// probe finds cluster DNS as on a cluster.
pub(crate) fn ensure_service(h: &Handle) {
    create_missing(
        h,
        serde_json::json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "kube-dns", "namespace": "kube-system"},
            "spec": {"ports": [{"name": "dns", "port": 53, "protocol": "UDP"}]},
        }),
    );
}

pub(crate) fn answer(shared: &Shared, namespace: &str, query: &str, record: &str) -> ExecOutput {
    let lines = lookup(shared, namespace, query, record);
    let mut text = lines.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    ExecOutput::stdout(text)
}

/// Strips the search-path suffixes a pod in `namespace` would try.
fn relative<'a>(namespace: &str, query: &'a str) -> (&'a str, String) {
    let q = query.trim_end_matches('.');
    for suffix in [
        format!(".{namespace}.{DOMAIN}"),
        format!(".{namespace}.svc"),
        format!(".{namespace}"),
    ] {
        if let Some(rest) = q.strip_suffix(&suffix) {
            return (rest, namespace.to_string());
        }
    }
    (q, namespace.to_string())
}

fn lookup(shared: &Shared, namespace: &str, query: &str, record: &str) -> Vec<String> {
    let (rel, ns) = relative(namespace, query);
    let h = &shared.handle;
    let parts: Vec<&str> = rel.split('.').collect();
    let pods = h.list("v1", "Pod", Some(&ns));
    let missing = |pod: &serde_json::Value| {
        shared.config.has(Fault::PodDnsNameMissing) && name(pod).ends_with("-1")
    };
    match parts.as_slice() {
        [service] => {
            let Some(svc) = h.get("v1", "Service", Some(&ns), service) else {
                return Vec::new();
            };
            let selector = svc.pointer("/spec/selector").cloned().unwrap_or_default();
            let cluster_ip = s(&svc, "/spec/clusterIP");
            let answers_unready = shared.config.has(Fault::UnreadyPodStaysInDns);
            let backing: Vec<&serde_json::Value> = pods
                .iter()
                .filter(|p| super::objects::selects(&selector, p))
                .filter(|p| pod_ready(p) || answers_unready && cluster_ip == "None")
                .filter(|p| !super::objects::deleting(p))
                .collect();
            if record == "SRV" {
                let port = arr(&svc, "/spec/ports")
                    .first()
                    .and_then(|p| int(p, "/port"))
                    .unwrap_or(0);
                if cluster_ip == "None" {
                    // Under the fault, the pod with the highest ordinal is left out.
                    let last = backing
                        .iter()
                        .filter_map(|p| super::objects::label(p, POD_INDEX))
                        .filter_map(|i| i.parse::<u32>().ok())
                        .max()
                        .filter(|_| shared.config.has(Fault::SrvTargetMissing));
                    let left_out = |p: &serde_json::Value| {
                        last.is_some()
                            && super::objects::label(p, POD_INDEX)
                                .and_then(|i| i.parse::<u32>().ok())
                                == last
                    };
                    return backing
                        .iter()
                        .filter(|p| s(p, "/spec/subdomain") == *service && !missing(p))
                        .filter(|p| !left_out(p))
                        .map(|p| {
                            let host = s(p, "/spec/hostname");
                            format!("0 100 {port} {host}.{service}.{ns}.{DOMAIN}.")
                        })
                        .collect();
                }
                return vec![format!("0 100 {port} {service}.{ns}.{DOMAIN}.")];
            }
            if cluster_ip == "None" || cluster_ip.is_empty() {
                backing
                    .iter()
                    .map(|p| s(p, "/status/podIP").to_string())
                    .filter(|ip| !ip.is_empty())
                    .collect()
            } else {
                vec![cluster_ip.to_string()]
            }
        }
        [host, subdomain] if record != "SRV" => {
            let headless = h
                .get("v1", "Service", Some(&ns), subdomain)
                .is_some_and(|svc| s(&svc, "/spec/clusterIP") == "None");
            if !headless {
                return Vec::new();
            }
            let ips: Vec<String> = pods
                .iter()
                .filter(|p| {
                    s(p, "/spec/hostname") == *host
                        && s(p, "/spec/subdomain") == *subdomain
                        && pod_ready(p)
                        && !missing(p)
                })
                .map(|p| s(p, "/status/podIP").to_string())
                .filter(|ip| !ip.is_empty())
                .collect();
            let key = (ns.clone(), format!("{host}.{subdomain}"));
            let mut first = lock(&shared.first_pod_ips);
            if let Some(ip) = ips.first() {
                first.entry(key.clone()).or_insert_with(|| ip.clone());
            }
            match first.get(&key) {
                Some(ip) if shared.config.has(Fault::PodDnsNameStale) => vec![ip.clone()],
                _ => ips,
            }
        }
        _ => Vec::new(),
    }
}
