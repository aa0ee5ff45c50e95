//! The safety guard: petset creates, scales and deletes things, so it only talks to contexts
//! that look like throw-away local test clusters unless the user names one explicitly.
//!
//! Accepted without asking:
//! - `kind-*` and `k3d-*`: the names kind and k3d give the contexts of their clusters;
//! - [`K3S_CONTEXT`]: the name petset gives the context of the k3s container it starts;
//! - [`FAKE_CONTEXT`] (and names starting with it) *only* when served from a loopback address:
//!   the in-process fake API server petset's own tests use.
//!
//! A loopback server alone is not enough: `kubectl port-forward`, SSH tunnels and bastion
//! proxies put real clusters on 127.0.0.1 too.

use std::net::IpAddr;

/// The context name petset gives the k3s container it starts.
pub const K3S_CONTEXT: &str = "petset-k3s";

/// The context name (prefix) of the in-process fake API server used by petset's own tests.
pub const FAKE_CONTEXT: &str = "fake";

/// The environment variable that allows one named context past the guard.
pub const ALLOW_CONTEXT_VAR: &str = "PETSET_ALLOW_CONTEXT";

/// A context was refused because it does not look like a local test cluster.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "refusing to run against context `{context}` (server {server}): it does not look like a \
     local test cluster (kind-*, k3d-*, {K3S_CONTEXT}); petset creates and deletes objects there. \
     To run against it anyway, set {ALLOW_CONTEXT_VAR}={context}"
)]
pub struct GuardError {
    pub context: String,
    pub server: String,
}

/// Whether `context` (served at `server`) looks like a local, throw-away test cluster.
pub fn looks_local(context: &str, server: &str) -> bool {
    context.starts_with("kind-")
        || context.starts_with("k3d-")
        || context == K3S_CONTEXT
        || (context.starts_with(FAKE_CONTEXT) && is_loopback_url(server))
}

/// Accepts a local-looking context, or exactly the one `allowed` names
/// (the value of `PETSET_ALLOW_CONTEXT`); refuses anything else.
pub fn check_context(context: &str, server: &str, allowed: Option<&str>) -> Result<(), GuardError> {
    if looks_local(context, server) || allowed == Some(context) {
        Ok(())
    } else {
        Err(GuardError {
            context: context.to_string(),
            server: server.to_string(),
        })
    }
}

/// Whether a server URL's host is `localhost` or a loopback IP address.
pub(crate) fn is_loopback_url(server: &str) -> bool {
    let rest = server.split_once("://").map_or(server, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let host = if let Some(bracketed) = host_port.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_recognised() {
        assert!(is_loopback_url("https://127.0.0.1:6443"));
        assert!(is_loopback_url("http://127.0.0.5"));
        assert!(is_loopback_url("https://[::1]:8443/api"));
        assert!(is_loopback_url("https://localhost:1234"));
        assert!(is_loopback_url("https://user@localhost"));
        assert!(!is_loopback_url("https://10.0.0.1:6443"));
        assert!(!is_loopback_url("https://127.0.0.1.example.com:6443"));
        assert!(!is_loopback_url("https://[2001:db8::1]:6443"));
        assert!(!is_loopback_url(""));
    }
}
