//! Whether a cluster meets a scenario's `requires`; a scenario that is not met is ignored with
//! the reason, never failed or passed.

use std::fmt;

use super::handle::parse_major_minor;
use super::probe::Capabilities;
use crate::scenario::model::Requires;

/// The requirements a cluster does not meet, each as a short reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unmet {
    pub reasons: Vec<String>,
}

impl fmt::Display for Unmet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reasons.join("; "))
    }
}

/// `Ok` when `caps` meet every requirement, else every unmet one, e.g.
/// "needs 2 schedulable nodes, cluster has 1".
pub fn evaluate(requires: &Requires, caps: &Capabilities) -> Result<(), Unmet> {
    let mut reasons = Vec::new();
    if let Some(nodes) = requires.nodes
        && caps.schedulable_nodes < nodes
    {
        reasons.push(format!(
            "needs {nodes} schedulable {}, cluster has {}",
            plural(nodes, "node", "nodes"),
            caps.schedulable_nodes
        ));
    }
    if requires.default_storage_class && caps.default_storage_class.is_none() {
        reasons.push("needs a default StorageClass, cluster has none".to_string());
    }
    if requires.cluster_dns && caps.cluster_dns.is_none() {
        reasons.push(
            "needs cluster DNS (a kube-dns or coredns Service in kube-system), cluster has none"
                .to_string(),
        );
    }
    if let Some(wanted) = &requires.min_server_version {
        let have = (caps.server_version.major, caps.server_version.minor);
        match parse_major_minor(wanted) {
            Some(min) if have < min => reasons.push(format!(
                "needs Kubernetes {}.{} or newer, cluster runs {}.{}",
                min.0, min.1, have.0, have.1
            )),
            Some(_) => {}
            None => reasons.push(format!(
                "needs Kubernetes {wanted:?}, which is not a version like \"1.29\""
            )),
        }
    }
    if reasons.is_empty() {
        Ok(())
    } else {
        Err(Unmet { reasons })
    }
}

fn plural(n: u32, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::ServerVersion;

    fn caps(schedulable: u32, class: bool, dns: bool, minor: u32) -> Capabilities {
        Capabilities {
            server_version: ServerVersion {
                major: 1,
                minor,
                git_version: format!("v1.{minor}.0"),
                platform: "linux/amd64".into(),
            },
            nodes: schedulable + 1,
            schedulable_nodes: schedulable,
            default_storage_class: class.then(|| "standard".to_string()),
            cluster_dns: dns.then(|| "kube-dns".to_string()),
            architectures: vec!["amd64".into()],
        }
    }

    fn requires(nodes: Option<u32>, class: bool, dns: bool, min: Option<&str>) -> Requires {
        Requires {
            nodes,
            default_storage_class: class,
            cluster_dns: dns,
            min_server_version: min.map(str::to_string),
        }
    }

    #[test]
    fn nothing_required_is_always_met() {
        assert_eq!(
            evaluate(&Requires::default(), &caps(0, false, false, 20)),
            Ok(())
        );
    }

    #[test]
    fn each_unmet_requirement_says_what_was_needed_and_found() {
        let all = requires(Some(2), true, true, Some("1.30"));
        assert_eq!(evaluate(&all, &caps(2, true, true, 30)), Ok(()));
        let unmet = evaluate(&all, &caps(1, false, false, 29)).err();
        assert_eq!(
            unmet.map(|u| u.to_string()),
            Some(
                "needs 2 schedulable nodes, cluster has 1; needs a default StorageClass, \
                 cluster has none; needs cluster DNS (a kube-dns or coredns Service in \
                 kube-system), cluster has none; needs Kubernetes 1.30 or newer, cluster runs 1.29"
                    .to_string()
            )
        );
        let one = evaluate(
            &requires(Some(1), false, false, None),
            &caps(0, true, true, 33),
        );
        assert_eq!(
            one.err().map(|u| u.reasons),
            Some(vec!["needs 1 schedulable node, cluster has 0".to_string()])
        );
    }

    #[test]
    fn versions_compare_by_minor_numerically() {
        let needs_1_9 = requires(None, false, false, Some("1.9"));
        assert_eq!(evaluate(&needs_1_9, &caps(1, true, true, 10)), Ok(()));
        let needs_2_0 = requires(None, false, false, Some("v2.0"));
        assert!(evaluate(&needs_2_0, &caps(1, true, true, 99)).is_err());
        let garbled = evaluate(
            &requires(None, false, false, Some("latest")),
            &caps(1, true, true, 33),
        );
        assert!(garbled.is_err());
    }
}
