//! The meaning checks of the steps that reach into pods: `sql` (how it logs in, what it runs
//! and expects) and `dns` (what a lookup is compared with).

use super::references::Objects;
use super::steps::{Report, pods_only};
use crate::model::*;
use crate::yaml::Point;

pub(super) fn check_secret(report: &mut Report<'_, '_>, objects: &Objects, sql: &SqlStep) {
    let Some(from) = &sql.password_from else {
        return;
    };
    if let Err((unknown, key_wrong)) = objects.check_secret_key(&from.secret, &from.key) {
        let field = if key_wrong { "key" } else { "secret" };
        let span = report.at.span(&["passwordFrom", field], Point::Value);
        report.out.push(
            report
                .at
                .file
                .error("step::unknown-secret", span, unknown.message)
                .label(if key_wrong {
                    "no such key"
                } else {
                    "no such Secret"
                })
                .help(unknown.help),
        );
    }
}

pub(super) fn check_sql(report: &mut Report<'_, '_>, sql: &SqlStep) {
    pods_only(report, &sql.target, "target", "sql");
    if sql.password.is_some() && sql.password_from.is_some() {
        report.error(
            &["password"],
            "give `password` or `passwordFrom`, not both",
            "prefer `passwordFrom: {secret: ..., key: ...}`",
        );
    }
    if sql.statements.is_empty() && sql.query.is_none() {
        report.whole(
            "this `sql` step runs nothing",
            "give `statements: [...]` and/or `query: ...`",
        );
    }
    if sql.query.is_none() {
        for (present, field) in [
            (sql.expect.is_some(), "expect"),
            (sql.repeat.is_some(), "repeat"),
        ] {
            if present {
                report.error(
                    &[field],
                    format!("`{field}` needs a `query`"),
                    "add `query: SELECT ...`",
                );
            }
        }
    }
    if sql.expect.is_some() && sql.expect_error.is_some() {
        report.error(
            &["expectError"],
            "`expectError` contradicts `expect` (rows)",
            "a failing statement returns no rows; keep one of the two",
        );
    }
}

pub(super) fn check_dns(report: &mut Report<'_, '_>, dns: &DnsStep) {
    if let Some(from) = &dns.from {
        pods_only(report, from, "from", "dns");
    }
    if dns.for_each.is_some() && !dns.name.contains("${pod}") {
        report.error(
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
        report.error(
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
        report.error(
            &["expect"],
            "`srvTargets` goes with `type: SRV`, and only with it",
            "use `type: SRV` with `srvTargets`, `podIps`/`serviceIp` with A records",
        );
    }
}
