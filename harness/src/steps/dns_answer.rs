//! Reading a resolver's output: `dig +short`, `nslookup` (BIND's and BusyBox's, old and new
//! formats) and `getent hosts`, into the addresses or SRV targets found, "no such name", or a
//! failure to ask at all.
//!
//! The formats are told apart by their content rather than by which tool ran, so a pod with any
//! of the three tools can be the `from` of a `dns` step.

use crate::net::pod_exec::CommandOutput;
use crate::scenario::model::RecordType;
use std::collections::BTreeSet;
use std::net::IpAddr;

/// The shell script run in the pod: the first of dig, nslookup and getent that exists answers.
/// Arguments: the name, then the record type (`A` or `SRV`).
pub(crate) const RESOLVE_SCRIPT: &str = r#"name=$1; type=$2
if command -v dig >/dev/null 2>&1; then
  exec dig +search +short +time=2 +tries=2 "$name" "$type"
elif command -v nslookup >/dev/null 2>&1; then
  exec nslookup -type="$type" "$name"
elif [ "$type" = A ] && command -v getent >/dev/null 2>&1; then
  exec getent hosts "$name"
fi
echo "no dig, nslookup or getent (for A records) in this container" >&2
exit 127
"#;

/// The command that resolves `name` for `record` inside a pod.
pub(crate) fn resolve_command(name: &str, record: RecordType) -> Vec<String> {
    [
        "sh",
        "-c",
        RESOLVE_SCRIPT,
        "petset-dns",
        name,
        record_name(record),
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

pub(crate) fn record_name(record: RecordType) -> &'static str {
    match record {
        RecordType::A => "A",
        RecordType::Srv => "SRV",
    }
}

/// What the resolver said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer {
    /// A records (IPv4 addresses).
    Addresses(BTreeSet<IpAddr>),
    /// SRV targets, lowercase, without the trailing dot.
    Targets(BTreeSet<String>),
    /// The name does not exist or has no records of the type.
    NotFound,
    /// The question could not be asked or answered (no resolver tool, DNS unreachable, SERVFAIL).
    Failed(String),
}

impl Answer {
    pub(crate) fn describe(&self) -> String {
        match self {
            Answer::Addresses(addresses) => list(addresses.iter().map(ToString::to_string)),
            Answer::Targets(targets) => list(targets.iter().cloned()),
            Answer::NotFound => "no such name (no records)".to_owned(),
            Answer::Failed(why) => format!("no answer: {why}"),
        }
    }
}

pub(crate) fn list(items: impl Iterator<Item = String>) -> String {
    let items: Vec<String> = items.collect();
    if items.is_empty() {
        "(none)".to_owned()
    } else {
        items.join(", ")
    }
}

/// Markers of a resolver that could not get an answer; checked before "not found", since
/// BusyBox reports SERVFAIL as "can't find ...: SERVFAIL".
const FAILED: &[&str] = &[
    "servfail",
    "connection timed out",
    "no servers could be reached",
    "communications error",
    "refused",
    "network unreachable",
];

const NOT_FOUND: &[&str] = &["nxdomain", "can't find", "no answer", "not found"];

/// Interprets the resolver's output for `record`.
pub(crate) fn parse(record: RecordType, output: &CommandOutput) -> Answer {
    if let Some(failure) = &output.failure {
        return Answer::Failed(failure.clone());
    }
    let text = format!("{}\n{}", output.stdout, output.stderr);
    let lower = text.to_ascii_lowercase();
    if let Some(marker) = FAILED.iter().find(|m| lower.contains(*m)) {
        return Answer::Failed(format!(
            "the resolver reports {marker:?}: {}",
            first_lines(&text)
        ));
    }
    match record {
        RecordType::A => {
            let addresses = addresses(&output.stdout);
            if !addresses.is_empty() {
                return Answer::Addresses(addresses);
            }
        }
        RecordType::Srv => {
            let targets = srv_targets(&output.stdout);
            if !targets.is_empty() {
                return Answer::Targets(targets);
            }
        }
    }
    // dig +short prints nothing for NXDOMAIN and NODATA, and exits 0; getent exits 2.
    let not_found = NOT_FOUND.iter().any(|m| lower.contains(m));
    match output.exit_code {
        Some(0) => Answer::NotFound,
        Some(1) if not_found => Answer::NotFound,
        Some(2) if output.stdout.trim().is_empty() => Answer::NotFound,
        _ if not_found => Answer::NotFound,
        code => Answer::Failed(format!(
            "the resolver exited with {}: {}",
            code.map_or_else(|| "an unknown status".to_owned(), |c| c.to_string()),
            first_lines(&text)
        )),
    }
}

/// IPv4 addresses in the answer section. In nslookup output (it starts with `Server:`) the
/// server's own `Address` lines come before the first `Name:` and are skipped; in dig and getent
/// output every line starts with an address (dig's CNAME lines do not, and are skipped).
fn addresses(stdout: &str) -> BTreeSet<IpAddr> {
    let lines: Vec<&str> = stdout.lines().map(str::trim).collect();
    let nslookup = lines.iter().any(|line| starts_with_word(line, "server"));
    let mut found = BTreeSet::new();
    let mut in_answer = !nslookup;
    for line in lines {
        if nslookup {
            if starts_with_word(line, "name") {
                in_answer = true;
                continue;
            }
            if !in_answer || !starts_with_word(line, "address") {
                continue;
            }
            // `Address: 10.0.0.5`, `Address 1: 10.0.0.5 web-0.nginx...`, `Address:\t10.0.0.5#53`.
            let Some((_, rest)) = line.split_once(':') else {
                continue;
            };
            if let Some(ip) = first_ip(rest) {
                found.insert(ip);
            }
        } else if let Some(ip) = first_ip(line) {
            found.insert(ip);
        }
    }
    found.retain(IpAddr::is_ipv4);
    found
}

fn starts_with_word(line: &str, word: &str) -> bool {
    line.len() >= word.len()
        && line[..word.len()].eq_ignore_ascii_case(word)
        && line[word.len()..]
            .chars()
            .next()
            .is_some_and(|c| c == ':' || c == ' ' || c == '\t')
}

fn first_ip(text: &str) -> Option<IpAddr> {
    let token = text.split_whitespace().next()?;
    let token = token.split('#').next().unwrap_or(token);
    token.parse().ok()
}

/// SRV targets from `dig +short` (`0 50 80 web-0.nginx.ns.svc.cluster.local.`) or nslookup
/// (`... service = 0 50 80 web-0.nginx.ns.svc.cluster.local.`).
fn srv_targets(stdout: &str) -> BTreeSet<String> {
    stdout
        .lines()
        .filter_map(|line| {
            let record = line.split_once("service =").map_or(line, |(_, rest)| rest);
            let tokens: Vec<&str> = record.split_whitespace().collect();
            match tokens.as_slice() {
                [priority, weight, port, target, ..]
                    if [priority, weight, port]
                        .iter()
                        .all(|n| n.parse::<u32>().is_ok()) =>
                {
                    Some(normalize_name(target))
                }
                _ => None,
            }
        })
        .collect()
}

/// A DNS name compared the way DNS does: case-insensitively, trailing dot or not.
pub(crate) fn normalize_name(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

fn first_lines(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .take(3)
        .collect();
    lines.join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(stdout: &str, stderr: &str, code: i32) -> CommandOutput {
        CommandOutput {
            stdout: stdout.to_owned(),
            stderr: stderr.to_owned(),
            exit_code: Some(code),
            failure: None,
        }
    }

    fn ips(list: &[&str]) -> Answer {
        Answer::Addresses(list.iter().map(|ip| ip.parse().expect("ip")).collect())
    }

    #[test]
    fn dig_short_addresses_skip_cnames() {
        let output = out("web.ns.svc.cluster.local.\n10.244.1.7\n10.244.2.9\n", "", 0);
        assert_eq!(
            parse(RecordType::A, &output),
            ips(&["10.244.1.7", "10.244.2.9"])
        );
        assert_eq!(parse(RecordType::A, &out("", "", 0)), Answer::NotFound);
    }

    #[test]
    fn bind_nslookup_skips_the_server_address() {
        let text = "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10#53\n\nName:\tnginx.default.svc.cluster.local\nAddress: 10.244.0.5\nName:\tnginx.default.svc.cluster.local\nAddress: 10.244.0.6\n\n";
        assert_eq!(
            parse(RecordType::A, &out(text, "", 0)),
            ips(&["10.244.0.5", "10.244.0.6"])
        );
        let missing = "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10#53\n\n** server can't find web-9.nginx: NXDOMAIN\n\n";
        assert_eq!(parse(RecordType::A, &out(missing, "", 1)), Answer::NotFound);
    }

    #[test]
    fn busybox_nslookup_old_and_new_formats() {
        let old = "Server:    10.96.0.10\nAddress 1: 10.96.0.10 kube-dns.kube-system.svc.cluster.local\n\nName:      web-0.nginx\nAddress 1: 10.244.1.5 web-0.nginx.default.svc.cluster.local\n";
        assert_eq!(parse(RecordType::A, &out(old, "", 0)), ips(&["10.244.1.5"]));
        let new = "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\nName:\tweb-0.nginx.default.svc.cluster.local\nAddress: 10.244.1.5\n\n";
        assert_eq!(parse(RecordType::A, &out(new, "", 0)), ips(&["10.244.1.5"]));
        let servfail = "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n** server can't find web-0.nginx: SERVFAIL\n";
        assert!(
            matches!(parse(RecordType::A, &out(servfail, "", 1)), Answer::Failed(why) if why.contains("servfail"))
        );
    }

    #[test]
    fn getent_hosts_and_its_not_found_exit() {
        let text = "10.244.1.5      web-0.nginx.default.svc.cluster.local\n";
        assert_eq!(
            parse(RecordType::A, &out(text, "", 0)),
            ips(&["10.244.1.5"])
        );
        assert_eq!(parse(RecordType::A, &out("", "", 2)), Answer::NotFound);
    }

    #[test]
    fn ipv6_answers_are_not_a_records() {
        let text = "fd00::5\n10.0.0.5\n";
        assert_eq!(parse(RecordType::A, &out(text, "", 0)), ips(&["10.0.0.5"]));
    }

    #[test]
    fn srv_from_dig_and_nslookup() {
        let dig = "0 50 80 web-0.nginx.default.svc.cluster.local.\n0 50 80 WEB-1.nginx.default.svc.cluster.local.\n";
        let expected: BTreeSet<String> = [
            "web-0.nginx.default.svc.cluster.local",
            "web-1.nginx.default.svc.cluster.local",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        assert_eq!(
            parse(RecordType::Srv, &out(dig, "", 0)),
            Answer::Targets(expected.clone())
        );
        let nslookup = "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10#53\n\nnginx.default.svc.cluster.local\tservice = 0 50 80 web-0.nginx.default.svc.cluster.local.\nnginx.default.svc.cluster.local\tservice = 0 50 80 web-1.nginx.default.svc.cluster.local.\n";
        assert_eq!(
            parse(RecordType::Srv, &out(nslookup, "", 0)),
            Answer::Targets(expected)
        );
    }

    #[test]
    fn failures_are_not_not_found() {
        let timeout = ";; connection timed out; no servers could be reached\n";
        assert!(matches!(
            parse(RecordType::A, &out(timeout, "", 9)),
            Answer::Failed(_)
        ));
        let no_tool = out(
            "",
            "no dig, nslookup or getent (for A records) in this container\n",
            127,
        );
        assert!(
            matches!(parse(RecordType::A, &no_tool), Answer::Failed(why) if why.contains("127"))
        );
        let broken = CommandOutput {
            failure: Some("pod gone".into()),
            ..CommandOutput::default()
        };
        assert_eq!(
            parse(RecordType::A, &broken),
            Answer::Failed("pod gone".into())
        );
    }

    #[test]
    fn the_command_passes_name_and_type_as_arguments() {
        let command = resolve_command("web-0.nginx", RecordType::Srv);
        assert_eq!(command[..2], ["sh", "-c"]);
        assert_eq!(command[3..], ["petset-dns", "web-0.nginx", "SRV"]);
    }
}
