//! Telling a refused websocket upgrade (exec, port-forward) apart from other failures, and
//! saying which subprotocols were offered.
//!
//! kube-rs 5 offers `v5.channel.k8s.io, v4.channel.k8s.io` on every upgrade (kube-client's
//! `StreamProtocol::add_to_headers`) and accepts only those two back. Kubernetes 1.28–1.35
//! answers exec with v5 (the API server's stream translator, 1.30+) or v4 (the kubelet), and
//! port-forward with v4 (the kubelet). A server or proxy that speaks neither refuses in one of
//! two ways: the kubelet's websocket handshake answers `403` with an empty body (no `Status`),
//! and a proxy that drops the `Sec-WebSocket-Protocol` header makes kube-rs report
//! "Sec-WebSocket-Protocol mismatched".

use kube::client::UpgradeConnectionError;

/// The subprotocols kube-rs offers, in its order of preference.
pub(crate) const OFFERED_SUBPROTOCOLS: &str = "v5.channel.k8s.io, v4.channel.k8s.io";

/// Why the server would not speak a subprotocol kube-rs offers for `what` (`port-forward`,
/// `exec`), when that is what `error` says; `None` for every other failure.
pub(crate) fn subprotocol_refusal(what: &str, error: &kube::Error) -> Option<String> {
    let reason = match error {
        kube::Error::UpgradeConnection(UpgradeConnectionError::SecWebSocketProtocolMismatch) => {
            "the server switched to a websocket but named none of them \
             (Sec-WebSocket-Protocol mismatched)"
                .to_owned()
        }
        kube::Error::UpgradeConnection(UpgradeConnectionError::ProtocolSwitch(status)) => {
            format!("the server answered {status} instead of switching to a websocket")
        }
        // RBAC's 403 is a `Status` with reason `Forbidden`; the handshake's refusal has no body,
        // which kube-rs turns into a `Status` with an empty message.
        kube::Error::Api(status)
            if status.code == 403 && status.reason != "Forbidden" && status.message.is_empty() =>
        {
            "the server refused the websocket upgrade with 403 and no reason, as the kubelet \
             does when it speaks none of them"
                .to_owned()
        }
        _ => return None,
    };
    Some(format!(
        "{what} could not agree on a websocket subprotocol: kube offered {OFFERED_SUBPROTOCOLS}; {reason}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;

    #[test]
    fn refusals_name_the_offer_and_the_answer() {
        let dropped =
            kube::Error::UpgradeConnection(UpgradeConnectionError::SecWebSocketProtocolMismatch);
        assert_eq!(
            subprotocol_refusal("port-forward", &dropped).as_deref(),
            Some(
                "port-forward could not agree on a websocket subprotocol: kube offered \
                 v5.channel.k8s.io, v4.channel.k8s.io; the server switched to a websocket but \
                 named none of them (Sec-WebSocket-Protocol mismatched)"
            )
        );
        let empty_403 = kube::Error::Api(
            Status::failure("", "Failed to parse error data")
                .with_code(403)
                .boxed(),
        );
        let text = subprotocol_refusal("exec", &empty_403).unwrap_or_default();
        assert!(text.contains("403 and no reason"), "{text}");
    }

    #[test]
    fn rbac_and_other_errors_are_not_refusals() {
        let rbac = kube::Error::Api(
            Status::failure(
                "pods \"web-0\" is forbidden: cannot create pods/portforward",
                "Forbidden",
            )
            .with_code(403)
            .boxed(),
        );
        assert_eq!(subprotocol_refusal("port-forward", &rbac), None);
        let missing = kube::Error::Api(
            Status::failure("not found", "NotFound")
                .with_code(404)
                .boxed(),
        );
        assert_eq!(subprotocol_refusal("port-forward", &missing), None);
    }
}
