//! `dns`: resolve a name from inside the cluster (exec into the `from` pod, or into the probe
//! pod) and compare the answer with live state: the IPs of the named or ready selected pods, a
//! Service's cluster IP, the SRV targets `<hostname>.<service>.<namespace>.svc.<domain>` of a
//! headless Service's ready pods, or no such name. With `forEach`, once per pod with `${pod}` set.

use super::dispatch::Execute;
use super::dns_answer::{Answer, list, normalize_name, parse, record_name, resolve_command};
use super::dns_probe::ensure_probe;
use super::eventually::{tried, until_ok};
use super::pods::{default_container, is_ready, live_pods, more, pod_name};
use super::{StepContext, StepReport, StepResult, Variables};
use crate::api::{list_target, to_value};
use crate::events::Failure;
use crate::expect::object_name;
use crate::expect::{Requirement, Selector};
use crate::net::pod_exec::{CommandOutput, run_in_pod};
use crate::scenario::kinds;
use crate::scenario::model::{
    DnsExpect, DnsStep, Kind, ParsedSelector, RecordType, ResolvedTarget, Target,
};
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use serde_json::Value;
use std::collections::BTreeSet;
use std::net::IpAddr;
use tokio::time::Instant;

/// What the answer must be, and where that comes from (for the report).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Wanted {
    Addresses(BTreeSet<IpAddr>, String),
    Targets(BTreeSet<String>, String),
    NotFound,
}

impl Wanted {
    fn describe(&self) -> String {
        match self {
            Wanted::Addresses(addresses, source) => format!(
                "{} ({source})",
                list(addresses.iter().map(ToString::to_string))
            ),
            Wanted::Targets(targets, source) => {
                format!("{} ({source})", list(targets.iter().cloned()))
            }
            Wanted::NotFound => "no such name".to_owned(),
        }
    }

    fn accepts(&self, answer: &Answer) -> bool {
        match (self, answer) {
            (Wanted::Addresses(wanted, _), Answer::Addresses(got)) => wanted == got,
            (Wanted::Targets(wanted, _), Answer::Targets(got)) => wanted == got,
            (Wanted::NotFound, Answer::NotFound) => true,
            _ => false,
        }
    }
}

/// One lookup that did not give the wanted answer.
#[derive(Debug)]
struct Miss {
    name: String,
    from: String,
    wanted: String,
    answer: String,
    output: Option<CommandOutput>,
}

impl Execute for kinds::Dns {
    async fn run(step: &DnsStep, ctx: &mut StepContext) -> StepResult {
        run(step, ctx).await
    }
}

async fn run(step: &DnsStep, ctx: &StepContext) -> StepResult {
    let deadline = ctx.deadline_after(step.eventually.map(|d| d.as_std()));
    let pods_api: Api<Pod> = Api::namespaced(ctx.client.clone(), &ctx.namespace);
    let record = record_name(step.record);
    let timed_out = || {
        vec![Miss {
            name: step.name.clone(),
            from: String::new(),
            wanted: String::new(),
            answer: "no answer before the deadline".to_owned(),
            output: None,
        }]
    };
    let attempts = until_ok(step.eventually.is_some(), deadline, timed_out, || {
        attempt(step, ctx, &pods_api, deadline)
    })
    .await;
    let retried = tried(&attempts);
    match attempts.last {
        Ok(lookups) => Ok(StepReport::detail(lookups.join("; "))),
        Err(misses) => {
            let first = &misses[0];
            let more = match misses.len() {
                1 => String::new(),
                n => format!(" (and {} failed)", more(n - 1, "lookup", "lookups")),
            };
            let from = if first.from.is_empty() {
                String::new()
            } else {
                format!(" from pod/{}", first.from)
            };
            let mut expected = String::new();
            let mut actual = String::new();
            for miss in &misses {
                expected.push_str(&format!("{} {record}: {}\n", miss.name, miss.wanted));
                actual.push_str(&format!("{} {record}: {}\n", miss.name, miss.answer));
                if let Some(output) = &miss.output {
                    for line in output.render().lines() {
                        actual.push_str("  ");
                        actual.push_str(line);
                        actual.push('\n');
                    }
                }
            }
            Err(Failure::new(format!(
                "dns {} ({record}){from}: expected {}, got {}{more}{retried}",
                first.name, first.wanted, first.answer
            ))
            .with_expected(expected)
            .with_actual(actual))
        }
    }
}

/// Runs every lookup once; `Ok` with one account per lookup when all gave the wanted answer.
async fn attempt(
    step: &DnsStep,
    ctx: &StepContext,
    pods_api: &Api<Pod>,
    deadline: Instant,
) -> Result<Vec<String>, Vec<Miss>> {
    let setup = |failure: Failure| {
        vec![Miss {
            name: step.name.clone(),
            from: String::new(),
            wanted: String::new(),
            answer: failure.message,
            output: None,
        }]
    };
    let rounds: Vec<Variables> = match &step.for_each {
        None => vec![ctx.vars.clone()],
        Some(each) => {
            let each = ctx.resolve(each).map_err(setup)?;
            let pods = live_pods(ctx, &each, deadline).await.map_err(setup)?;
            pods.iter()
                .map(|pod| {
                    let mut vars = ctx.vars.clone();
                    vars.set("pod", pod_name(pod));
                    vars
                })
                .collect()
        }
    };
    let (from, container) = resolver_pod(step, ctx, deadline).await.map_err(setup)?;
    let mut passed = Vec::new();
    let mut misses = Vec::new();
    for vars in rounds {
        let name = vars
            .substitute(&step.name)
            .map_err(|error| setup(Failure::new(error)))?;
        let wanted = match wanted(&step.expect, step.record, &name, ctx, &vars, deadline).await {
            Ok(wanted) => wanted,
            Err(why) => {
                misses.push(Miss {
                    name,
                    from: from.clone(),
                    wanted: "(could not be worked out)".to_owned(),
                    answer: why,
                    output: None,
                });
                continue;
            }
        };
        let output = run_in_pod(
            pods_api,
            &from,
            container.as_deref(),
            resolve_command(&name, step.record),
            deadline,
        )
        .await;
        let answer = parse(step.record, &output);
        if wanted.accepts(&answer) {
            passed.push(format!("{name} -> {}", answer.describe()));
        } else {
            misses.push(Miss {
                name,
                from: from.clone(),
                wanted: wanted.describe(),
                answer: answer.describe(),
                output: Some(output),
            });
        }
    }
    if misses.is_empty() {
        Ok(passed)
    } else {
        Err(misses)
    }
}

/// The pod (and container) the resolver runs in: `from` (the first ready pod, for a selector),
/// else the probe.
async fn resolver_pod(
    step: &DnsStep,
    ctx: &StepContext,
    deadline: Instant,
) -> Result<(String, Option<String>), Failure> {
    let Some(from) = &step.from else {
        return Ok((ensure_probe(ctx, deadline).await?, None));
    };
    let from = ctx.resolve(from)?;
    let pods = live_pods(ctx, &from, deadline).await?;
    let pod = if from.is_single() {
        pods.first()
    } else {
        pods.iter().find(|pod| is_ready(pod))
    };
    pod.map(|pod| (pod_name(pod), default_container(pod)))
        .ok_or_else(|| Failure::new(format!("no ready pod matches {from} to resolve from")))
}

/// Works out the wanted answer from live state, with `vars` (for `${pod}`) substituted.
async fn wanted(
    expect: &DnsExpect,
    record: RecordType,
    name: &str,
    ctx: &StepContext,
    vars: &Variables,
    deadline: Instant,
) -> Result<Wanted, String> {
    let resolve = |target: &Target| target.resolve(vars).map_err(|error| error.to_string());
    let check_type = |wanted: RecordType| {
        if record == wanted {
            Ok(())
        } else {
            Err(format!(
                "this expectation needs `type: {}`, the step asks for {}",
                record_name(wanted),
                record_name(record)
            ))
        }
    };
    match expect {
        DnsExpect::NotFound => Ok(Wanted::NotFound),
        DnsExpect::PodIps(target) => {
            check_type(RecordType::A)?;
            let target = resolve(target)?;
            let pods = objects(ctx, &target, Kind::Pod, deadline).await?;
            let chosen: Vec<&Value> = if target.is_single() {
                pods.iter().collect()
            } else {
                pods.iter().filter(|pod| is_ready(pod)).collect()
            };
            if chosen.is_empty() {
                return Err(format!(
                    "no {} pods match {target}, so there is nothing to compare the answer with",
                    if target.is_single() {
                        "existing"
                    } else {
                        "ready"
                    }
                ));
            }
            let mut addresses = BTreeSet::new();
            for pod in &chosen {
                let ips = pod_ips(pod);
                if ips.is_empty() {
                    return Err(format!("pod/{} has no IP yet", pod_name(pod)));
                }
                addresses.extend(ips);
            }
            let names: Vec<String> = chosen.iter().map(|pod| pod_name(pod)).collect();
            Ok(Wanted::Addresses(
                addresses,
                format!("pods {}", names.join(", ")),
            ))
        }
        DnsExpect::ServiceIp(target) => {
            check_type(RecordType::A)?;
            let target = resolve(target)?;
            let services = objects(ctx, &target, Kind::Service, deadline).await?;
            let [service] = services.as_slice() else {
                return Err(format!(
                    "{target} names {} services, not one",
                    services.len()
                ));
            };
            let ips = cluster_ips(service);
            if ips.is_empty() {
                return Err(format!(
                    "{target} has no cluster IP (it is headless: clusterIP None); compare with podIps instead"
                ));
            }
            Ok(Wanted::Addresses(
                ips,
                format!("the cluster IP of {target}"),
            ))
        }
        DnsExpect::SrvTargets(target) => {
            check_type(RecordType::Srv)?;
            let target = resolve(target)?;
            let (service, pods) = if target.kind == Kind::Service {
                let services = objects(ctx, &target, Kind::Service, deadline).await?;
                let [service] = services.as_slice() else {
                    return Err(format!(
                        "{target} names {} services, not one",
                        services.len()
                    ));
                };
                let selector = service_selector(service)
                    .ok_or_else(|| format!("{target} has no pod selector"))?;
                let pods_target = ResolvedTarget {
                    kind: Kind::Pod,
                    name: None,
                    selector: Some(selector),
                };
                let pods = objects(ctx, &pods_target, Kind::Pod, deadline).await?;
                (object_name(service, 0), pods)
            } else {
                let pods = objects(ctx, &target, Kind::Pod, deadline).await?;
                (service_of(name), pods)
            };
            let ready: Vec<&Value> = pods.iter().filter(|pod| is_ready(pod)).collect();
            if ready.is_empty() {
                return Err(format!(
                    "no ready pods behind {target}, so no SRV targets to expect"
                ));
            }
            let mut targets = BTreeSet::new();
            for pod in &ready {
                let host =
                    hostname(pod).ok_or_else(|| format!("pod/{} has no IP yet", pod_name(pod)))?;
                targets.insert(normalize_name(&format!(
                    "{host}.{service}.{}.svc.{}",
                    ctx.namespace, ctx.cluster_domain
                )));
            }
            Ok(Wanted::Targets(
                targets,
                format!("one per ready pod behind service {service}"),
            ))
        }
    }
}

async fn objects(
    ctx: &StepContext,
    target: &ResolvedTarget,
    kind: Kind,
    deadline: Instant,
) -> Result<Vec<Value>, String> {
    if target.kind != kind {
        return Err(format!("{target} should be a {kind}"));
    }
    let found = list_target(&ctx.client, &ctx.namespace, target, deadline)
        .await
        .map_err(|error| error.to_string())?;
    if found.is_empty() {
        return Err(format!("{target} does not exist"));
    }
    Ok(found.iter().map(to_value).collect())
}

/// The pod's IPv4 addresses (`status.podIPs`, or `status.podIP`).
fn pod_ips(pod: &Value) -> BTreeSet<IpAddr> {
    let mut ips: BTreeSet<IpAddr> = pod
        .pointer("/status/podIPs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.get("ip").and_then(Value::as_str))
        .chain(pod.pointer("/status/podIP").and_then(Value::as_str))
        .filter_map(|ip| ip.parse().ok())
        .collect();
    ips.retain(IpAddr::is_ipv4);
    ips
}

/// The Service's IPv4 cluster IPs; none for a headless Service.
fn cluster_ips(service: &Value) -> BTreeSet<IpAddr> {
    let mut ips: BTreeSet<IpAddr> = service
        .pointer("/spec/clusterIPs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .chain(service.pointer("/spec/clusterIP").and_then(Value::as_str))
        .filter_map(|ip| ip.parse().ok())
        .collect();
    ips.retain(IpAddr::is_ipv4);
    ips
}

/// `spec.selector` as a label selector string.
fn service_selector(service: &Value) -> Option<ParsedSelector> {
    let selector = service.pointer("/spec/selector")?.as_object()?;
    if selector.is_empty() {
        return None;
    }
    let requirements = selector
        .iter()
        .filter_map(|(key, value)| {
            let value = value.as_str()?;
            Some(Requirement::Equals(key.clone(), value.to_owned()))
        })
        .collect();
    Some(Selector { requirements }.into())
}

/// The SRV target host of a pod, as the cluster DNS names it: its `spec.hostname` (a
/// StatefulSet pod's name), or its IP with dashes for a pod without one.
fn hostname(pod: &Value) -> Option<String> {
    if let Some(host) = pod.pointer("/spec/hostname").and_then(Value::as_str)
        && !host.is_empty()
    {
        return Some(host.to_owned());
    }
    pod_ips(pod)
        .into_iter()
        .next()
        .map(|ip| ip.to_string().replace('.', "-"))
}

/// The Service a queried name belongs to: `_http._tcp.nginx.ns.svc...` and `nginx` both give
/// `nginx`.
fn service_of(name: &str) -> String {
    name.split('.')
        .find(|label| !label.starts_with('_'))
        .unwrap_or(name)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pod_and_service_addresses() {
        let pod = json!({"status": {"podIP": "10.0.0.5", "podIPs": [{"ip": "10.0.0.5"}, {"ip": "fd00::5"}]}});
        assert_eq!(
            pod_ips(&pod)
                .into_iter()
                .map(|ip| ip.to_string())
                .collect::<Vec<_>>(),
            ["10.0.0.5"]
        );
        let headless = json!({"spec": {"clusterIP": "None", "clusterIPs": ["None"]}});
        assert!(cluster_ips(&headless).is_empty());
        let normal = json!({"spec": {"clusterIP": "10.96.4.2"}});
        assert_eq!(cluster_ips(&normal).len(), 1);
    }

    #[test]
    fn srv_hosts_and_service_names() {
        assert_eq!(
            hostname(&json!({"spec": {"hostname": "web-0"}})),
            Some("web-0".into())
        );
        assert_eq!(
            hostname(&json!({"spec": {}, "status": {"podIP": "10.1.2.3"}})),
            Some("10-1-2-3".into())
        );
        assert_eq!(service_of("_web._tcp.nginx.ns.svc.cluster.local"), "nginx");
        assert_eq!(service_of("nginx"), "nginx");
        assert_eq!(
            service_selector(&json!({"spec": {"selector": {"app": "web", "tier": "front"}}}))
                .map(|selector| selector.to_string()),
            Some("app=web,tier=front".to_owned())
        );
    }

    #[test]
    fn wanted_compares_sets_and_not_found() {
        let ip = |s: &str| -> IpAddr { s.parse().expect("ip") };
        let wanted = Wanted::Addresses([ip("10.0.0.1"), ip("10.0.0.2")].into(), "pods".into());
        assert!(wanted.accepts(&Answer::Addresses([ip("10.0.0.2"), ip("10.0.0.1")].into())));
        assert!(!wanted.accepts(&Answer::Addresses([ip("10.0.0.1")].into())));
        assert!(!wanted.accepts(&Answer::NotFound));
        assert!(Wanted::NotFound.accepts(&Answer::NotFound));
        assert!(!Wanted::NotFound.accepts(&Answer::Failed("timeout".into())));
        assert_eq!(wanted.describe(), "10.0.0.1, 10.0.0.2 (pods)");
    }
}
