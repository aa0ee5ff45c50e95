//! `dns`: resolve a name from inside the cluster, like `host web-0.nginx` in a throw-away pod,
//! and compare the answer with live pod and service IPs.

use super::{KindRules, Named};
use crate::model::{Duration, Kind, Target};
use crate::validate::StepCheck;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The DNS record type a `dns` step asks for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum RecordType {
    #[default]
    A,
    #[serde(rename = "SRV")]
    Srv,
}

/// `dns`: resolve a name from inside the cluster, like `host web-0.nginx` in a throw-away pod.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DnsStep {
    /// The name to resolve, e.g. `web-0.nginx` or `nginx.${namespace}.svc.cluster.local`.
    pub name: String,
    #[serde(default, rename = "type")]
    pub record: RecordType,
    /// Resolve from this pod (exec); by default from a small probe pod petset starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Target>,
    /// Repeat for every pod matching this selector, with `${pod}` set to its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub for_each: Option<Target>,
    pub expect: DnsExpect,
    /// Retry until the answer matches or this long has passed (DNS caches lag).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eventually: Option<Duration>,
}

/// What a DNS answer must be.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub enum DnsExpect {
    /// Exactly the current IPs of these pods (ready ones, for a selector).
    PodIps(Target),
    /// Exactly the cluster IP of this Service.
    ServiceIp(Target),
    /// SRV: one target per pod, named `<pod>.<service>.<namespace>.svc.<domain>`.
    SrvTargets(Target),
    /// The name does not resolve.
    NotFound,
}

impl KindRules for super::Dns {
    fn summary(dns: &DnsStep) -> String {
        format!("dns {}", dns.name)
    }

    fn targets(dns: &DnsStep) -> Named<'_> {
        let mut found: Named<'_> = Vec::new();
        if let Some(from) = &dns.from {
            found.push((from, &["from"]));
        }
        if let Some(each) = &dns.for_each {
            found.push((each, &["forEach"]));
        }
        match &dns.expect {
            DnsExpect::PodIps(t) => found.push((t, &["expect", "podIps"])),
            DnsExpect::ServiceIp(t) => found.push((t, &["expect", "serviceIp"])),
            DnsExpect::SrvTargets(t) => found.push((t, &["expect", "srvTargets"])),
            DnsExpect::NotFound => {}
        }
        found
    }

    /// The pods the lookups run in; the expected answer's objects are read by the step itself.
    fn about(dns: &DnsStep) -> Vec<Target> {
        dns.from.iter().chain(&dns.for_each).cloned().collect()
    }

    fn time_limit(dns: &DnsStep, default: std::time::Duration) -> std::time::Duration {
        dns.eventually
            .map_or(default, |eventually| eventually.as_std())
    }

    fn check(dns: &DnsStep, check: &mut StepCheck<'_, '_>) {
        if let Some(from) = &dns.from {
            check.pods_only(from, "from", "dns");
        }
        if dns.for_each.is_some() && !dns.name.contains("${pod}") {
            check.error(
                &["name"],
                "`forEach` repeats the lookup per pod, but the name does not use `${pod}`",
                "write e.g. `name: ${pod}.nginx`",
            );
        }
        let (field, target, want) = match &dns.expect {
            DnsExpect::PodIps(t) => ("podIps", t, Kind::Pod),
            DnsExpect::ServiceIp(t) => ("serviceIp", t, Kind::Service),
            DnsExpect::SrvTargets(t) => ("srvTargets", t, Kind::Pod),
            DnsExpect::NotFound => return,
        };
        if target.kind != want {
            check.error(
                &["expect", field],
                format!(
                    "`{field}` takes {}, not a {}",
                    want.plural(),
                    target.kind.name()
                ),
                format!("write `{field}: {want}/<name>` or a {want} selector"),
            );
        }
        let srv = matches!(dns.expect, DnsExpect::SrvTargets(_));
        if srv != (dns.record == RecordType::Srv) {
            check.error(
                &["expect"],
                "`srvTargets` goes with `type: SRV`, and only with it",
                "use `type: SRV` with `srvTargets`, `podIps`/`serviceIp` with A records",
            );
        }
    }
}
