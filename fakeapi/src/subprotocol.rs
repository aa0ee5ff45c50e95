//! Websocket subprotocol negotiation for `pods/exec` and `pods/portforward`, as Kubernetes
//! 1.28–1.35 answers it.
//!
//! What a real cluster accepts depends on who terminates the websocket:
//! - exec asking for `v5.channel.k8s.io` on 1.30+ is answered by the API server's stream
//!   translator (KEP-4006, gate `TranslateStreamCloseWebsocketRequests`, beta and on from 1.30),
//!   which speaks v5 only;
//! - everything else is proxied to the kubelet, whose `wsstream` server accepts for exec `""`,
//!   `channel.k8s.io`, `base64.channel.k8s.io`, `v4.channel.k8s.io` and
//!   `v4.base64.channel.k8s.io`, and for port-forward `""`, `v4.channel.k8s.io` and
//!   `v4.base64.channel.k8s.io` (kubelet `cri/streaming/{remotecommand,portforward}/websocket.go`);
//! - port-forward asking for the SPDY tunnel `SPDY/3.1+portforward.k8s.io` (the KEP's
//!   "v2.portforward.k8s.io"; gate `PortForwardWebsockets`, beta and on from 1.31) is tunnelled
//!   by the API server. The fake does not speak SPDY and says so.
//!
//! `wsstream` picks the first protocol *in the client's order* that it supports, and refuses a
//! request offering none with `403 Forbidden` and an empty body (the `golang.org/x/net/websocket`
//! handshake refusal), which kube-rs turns into a `Status` it could not parse.
//!
//! kube-rs 5 offers `v5.channel.k8s.io, v4.channel.k8s.io` for both exec and port-forward
//! (`kube-client` `StreamProtocol::add_to_headers`) and needs one of them back.

use axum::body::Body;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{FromRequestParts, Request};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;

use crate::handle::Handle;
use crate::status::ApiError;

pub(crate) const V5: &str = "v5.channel.k8s.io";
pub(crate) const V4: &str = "v4.channel.k8s.io";
const V4_BASE64: &str = "v4.base64.channel.k8s.io";
const PRE_V4: &str = "channel.k8s.io";
const PRE_V4_BASE64: &str = "base64.channel.k8s.io";
/// The port-forward SPDY tunnel; any protocol with this prefix selects the tunnel.
const SPDY_TUNNEL_PREFIX: &str = "SPDY/3.1+";

/// The minor version whose streaming behaviour the fake shows by default (as `/version` says).
pub(crate) const DEFAULT_MINOR: u32 = 33;

/// Which streaming subresource is being upgraded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    Exec,
    PortForward,
}

/// How a test makes the fake refuse port-forward, as awkward servers and proxies do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortForwardRefusal {
    /// `403 Forbidden` with an empty body: the server accepts none of the offered subprotocols
    /// (as a `wsstream` server that only tunnels SPDY answers kube-rs).
    NoCommonSubprotocol,
    /// `101 Switching Protocols` without a `Sec-WebSocket-Protocol` header, as a proxy that drops
    /// it answers; kube-rs reports "Sec-WebSocket-Protocol mismatched".
    SubprotocolDropped,
}

/// The fake's answer to an upgrade request's subprotocols.
#[derive(Debug)]
pub(crate) enum Negotiated {
    /// Upgrade and speak this channel protocol (`v5.channel.k8s.io` or `v4.channel.k8s.io`).
    Speak(&'static str),
    /// Upgrade without naming a subprotocol (the [`PortForwardRefusal::SubprotocolDropped`] fault).
    Unnamed,
    /// Answer this instead of upgrading.
    Refuse(Response),
}

/// An upgrade request, negotiated: the websocket upgrade to answer, naming the picked
/// subprotocol, or the answer that refuses it.
pub(crate) async fn upgrade(
    h: &Handle,
    req: Request,
    stream: Stream,
) -> Result<Result<WebSocketUpgrade, Response>, ApiError> {
    // Clients that find no websocket subprotocol in common (kubectl's fallback executor) retry
    // with a SPDY upgrade, which real servers take and the fake does not.
    let spdy = req
        .headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_uppercase().starts_with("SPDY/"));
    if spdy {
        return Ok(Err(not_emulated_response("SPDY/3.1 streaming")));
    }
    let negotiated = negotiate(
        stream,
        req.headers(),
        h.stream_minor_version(),
        h.faults().port_forward_refusal(),
    );
    let (mut parts, _) = req.into_parts();
    let ws = WebSocketUpgrade::from_request_parts(&mut parts, &())
        .await
        .map_err(|e| ApiError::bad_request(format!("Upgrade request required: {e}")))?;
    Ok(match negotiated {
        Negotiated::Speak(protocol) => Ok(ws.protocols([protocol])),
        Negotiated::Unnamed => Ok(ws),
        Negotiated::Refuse(response) => Err(response),
    })
}

/// Picks the subprotocol a `minor` API server would pick for `offered` (the request's
/// `Sec-WebSocket-Protocol` values), or the refusal it would answer.
pub(crate) fn negotiate(
    stream: Stream,
    headers: &HeaderMap,
    minor: u32,
    refusal: Option<PortForwardRefusal>,
) -> Negotiated {
    if stream == Stream::PortForward {
        match refusal {
            Some(PortForwardRefusal::NoCommonSubprotocol) => return Negotiated::Refuse(forbidden()),
            Some(PortForwardRefusal::SubprotocolDropped) => return Negotiated::Unnamed,
            None => {}
        }
    }
    let offered = offered(headers);
    match stream {
        Stream::Exec if minor >= 30 && offered.iter().any(|p| p == V5) => Negotiated::Speak(V5),
        Stream::PortForward
            if minor >= 31 && offered.iter().any(|p| p.starts_with(SPDY_TUNNEL_PREFIX)) =>
        {
            not_emulated("the SPDY/3.1 port-forward tunnel")
        }
        _ => {
            let accepted: &[&str] = match stream {
                Stream::Exec => &["", PRE_V4, PRE_V4_BASE64, V4, V4_BASE64],
                Stream::PortForward => &["", V4, V4_BASE64],
            };
            let wanted = if offered.is_empty() {
                vec![String::new()]
            } else {
                offered
            };
            match wanted.iter().find(|p| accepted.contains(&p.as_str())) {
                Some(p) if p == V4 => Negotiated::Speak(V4),
                Some(p) if p.is_empty() => not_emulated("the unnamed pre-v4 channel protocol"),
                Some(p) => not_emulated(p),
                None => Negotiated::Refuse(forbidden()),
            }
        }
    }
}

/// The comma-separated `Sec-WebSocket-Protocol` values, in the client's order.
fn offered(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// The `wsstream` handshake refusal: no body, no `Status`.
fn forbidden() -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::FORBIDDEN;
    response
}

/// A protocol a real server accepts but the fake does not speak: said plainly rather than
/// spoken wrongly.
fn not_emulated(what: &str) -> Negotiated {
    Negotiated::Refuse(not_emulated_response(what))
}

fn not_emulated_response(what: &str) -> Response {
    let error = ApiError::new(
        501,
        "NotImplemented",
        format!("petset-fakeapi does not emulate {what}; it speaks {V5} and {V4} over websockets"),
    );
    axum::response::IntoResponse::into_response(error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(protocols: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if !protocols.is_empty() {
            headers.insert(
                header::SEC_WEBSOCKET_PROTOCOL,
                HeaderValue::from_str(protocols).unwrap_or(HeaderValue::from_static("")),
            );
        }
        headers
    }

    fn pick(stream: Stream, protocols: &str, minor: u32) -> String {
        match negotiate(stream, &headers(protocols), minor, None) {
            Negotiated::Speak(p) => p.to_string(),
            Negotiated::Unnamed => "(unnamed)".to_string(),
            Negotiated::Refuse(r) => r.status().as_u16().to_string(),
        }
    }

    #[test]
    fn exec_gets_v5_from_the_translator_on_1_30_and_later_and_v4_from_older_kubelets() {
        let kube = "v5.channel.k8s.io, v4.channel.k8s.io";
        for minor in 30..=35 {
            assert_eq!(pick(Stream::Exec, kube, minor), V5, "1.{minor}");
        }
        for minor in 28..=29 {
            assert_eq!(pick(Stream::Exec, kube, minor), V4, "1.{minor}");
        }
        // The translator takes v5 wherever the client lists it.
        assert_eq!(
            pick(Stream::Exec, "v4.channel.k8s.io, v5.channel.k8s.io", 33),
            V5
        );
        assert_eq!(pick(Stream::Exec, "v5.channel.k8s.io", 29), "403");
    }

    #[test]
    fn port_forward_gets_v4_from_the_kubelet_on_every_version() {
        for minor in 28..=35 {
            let kube = "v5.channel.k8s.io, v4.channel.k8s.io";
            assert_eq!(pick(Stream::PortForward, kube, minor), V4, "1.{minor}");
            assert_eq!(pick(Stream::PortForward, "v5.channel.k8s.io", minor), "403");
        }
        assert_eq!(
            pick(Stream::PortForward, "SPDY/3.1+portforward.k8s.io", 31),
            "501"
        );
        assert_eq!(
            pick(Stream::PortForward, "SPDY/3.1+portforward.k8s.io", 30),
            "403",
            "before 1.31 the tunnel is off and the kubelet does not know it"
        );
        assert_eq!(
            pick(Stream::PortForward, "v4.base64.channel.k8s.io", 33),
            "501"
        );
        assert_eq!(pick(Stream::Exec, "", 33), "501");
    }

    #[test]
    fn the_refusal_faults_apply_to_port_forward_only() {
        let kube = headers("v5.channel.k8s.io, v4.channel.k8s.io");
        let refuse = Some(PortForwardRefusal::NoCommonSubprotocol);
        assert!(matches!(
            negotiate(Stream::PortForward, &kube, 33, refuse),
            Negotiated::Refuse(r) if r.status() == StatusCode::FORBIDDEN
        ));
        assert!(matches!(
            negotiate(Stream::Exec, &kube, 33, refuse),
            Negotiated::Speak(V5)
        ));
        assert!(matches!(
            negotiate(
                Stream::PortForward,
                &kube,
                33,
                Some(PortForwardRefusal::SubprotocolDropped)
            ),
            Negotiated::Unnamed
        ));
    }
}
