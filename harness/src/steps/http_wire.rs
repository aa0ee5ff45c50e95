//! One HTTP/1.1 GET over an already open byte stream (the port-forward to a pod), spoken by
//! hyper's client connection: hyper writes the request and reads the response (Content-Length,
//! chunked or until the connection closes). The path comes parsed, from the step's
//! [`PathTemplate`](crate::scenario::model::PathTemplate).

use bytes::Bytes;
use http::header::{ACCEPT, CONNECTION, HOST, HeaderValue, USER_AGENT};
use http::uri::PathAndQuery;
use http::{Request, Uri};
use http_body_util::{BodyExt, Empty, LengthLimitError, Limited};
use hyper_util::rt::TokioIo;
use std::error::Error as StdError;
use tokio::io::{AsyncRead, AsyncWrite};

/// A complete response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Response {
    pub status: u16,
    pub reason: String,
    pub body: Vec<u8>,
}

impl Response {
    pub(crate) fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Why no complete response was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NoResponse {
    pub why: String,
    /// Whether it failed before a response head arrived: a port-forward that could not connect
    /// closes the stream at once and gives its reason on its error channel.
    pub before_head: bool,
}

impl NoResponse {
    fn before_head(why: String) -> Self {
        Self {
            why,
            before_head: true,
        }
    }

    fn in_body(why: String) -> Self {
        Self {
            why,
            before_head: false,
        }
    }
}

/// Sends `GET path` with `Host: host` and `Connection: close` over `stream`, and reads the
/// response, refusing a body longer than `body_limit` bytes.
pub(crate) async fn get<S>(
    stream: S,
    host: &str,
    path: &PathAndQuery,
    body_limit: usize,
) -> Result<Response, NoResponse>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let host = HeaderValue::from_str(host)
        .map_err(|_| NoResponse::before_head(format!("{host:?} is not a valid Host header")))?;
    let request = Request::get(Uri::from(path.clone()))
        .header(HOST, host)
        .header(USER_AGENT, "petset")
        .header(ACCEPT, "*/*")
        .header(CONNECTION, "close")
        .body(Empty::<Bytes>::new())
        .map_err(|error| {
            NoResponse::before_head(format!("failed to build the request: {error}"))
        })?;
    let (mut sender, connection) = hyper::client::conn::http1::Builder::new()
        // Header names as most servers write them, for old servers that compare them exactly.
        .title_case_headers(true)
        .handshake(TokioIo::new(stream))
        .await
        .map_err(|error| NoResponse::before_head(describe(&error)))?;
    let exchange = async move {
        let response = sender
            .send_request(request)
            .await
            .map_err(|error| NoResponse::before_head(describe(&error)))?;
        let (head, body) = response.into_parts();
        let body = Limited::new(body, body_limit)
            .collect()
            .await
            .map_err(|error| NoResponse::in_body(describe_body_error(&*error, body_limit)))?
            .to_bytes();
        let reason = head
            .extensions
            .get::<hyper::ext::ReasonPhrase>()
            .map(|reason| String::from_utf8_lossy(reason.as_bytes()).into_owned())
            .or_else(|| head.status.canonical_reason().map(str::to_owned))
            .unwrap_or_default();
        Ok(Response {
            status: head.status.as_u16(),
            reason,
            body: body.to_vec(),
        })
    };
    // The connection does the reading and writing; it is driven here, not spawned, so a caller's
    // deadline that drops this future ends the connection too. When it ends first (the peer
    // closed, or sent something that is not HTTP), the exchange still learns how it ended.
    tokio::pin!(exchange);
    tokio::select! {
        outcome = &mut exchange => outcome,
        _ = connection => exchange.await,
    }
}

/// A hyper error as the report says it.
fn describe(error: &hyper::Error) -> String {
    if error.is_incomplete_message() || error.is_canceled() || error.is_closed() {
        "the connection closed without a response".to_owned()
    } else if error.is_parse() {
        format!("the answer is not an HTTP/1.x response: {}", chain(error))
    } else {
        format!("failed to exchange the request: {}", chain(error))
    }
}

fn describe_body_error(error: &(dyn StdError + 'static), body_limit: usize) -> String {
    if error.is::<LengthLimitError>() {
        format!("the response is larger than {body_limit} bytes")
    } else {
        format!(
            "the connection ended in the middle of the response body: {}",
            chain(error)
        )
    }
}

/// An error with its sources, `outer: inner: innermost`.
fn chain(error: &(dyn StdError + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream, duplex};
    use tokio::task::JoinHandle;

    /// A peer that reads the request head, answers `answer` and closes (or, with `close: false`,
    /// keeps the connection open). Hands back the request it read.
    fn peer(mut server: DuplexStream, answer: Vec<u8>, close: bool) -> JoinHandle<String> {
        tokio::spawn(async move {
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match server.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let _ = server.write_all(&answer).await;
            if close {
                drop(server);
            } else {
                // Hold the connection open until the client is done with it.
                let _ = server.read(&mut buf).await;
            }
            String::from_utf8_lossy(&request).into_owned()
        })
    }

    async fn exchange(
        answer: impl Into<Vec<u8>>,
        close: bool,
    ) -> (Result<Response, NoResponse>, String) {
        let (client, server) = duplex(64 * 1024);
        let peer = peer(server, answer.into(), close);
        let path = PathAndQuery::from_static("/hostname");
        let outcome = get(client, "web-0", &path, 1024).await;
        let request = peer.await.expect("the peer ran");
        (outcome, request)
    }

    #[tokio::test]
    async fn sends_a_plain_get_and_reads_a_content_length_body() {
        // The peer keeps the connection open: Content-Length alone says the response is whole.
        let (outcome, request) = exchange(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nweb-0",
            false,
        )
        .await;
        assert!(
            request.starts_with("GET /hostname HTTP/1.1\r\n"),
            "{request}"
        );
        for header in [
            "Host: web-0\r\n",
            "User-Agent: petset\r\n",
            "Connection: close\r\n",
        ] {
            assert!(request.contains(header), "{header} in {request}");
        }
        let response = outcome.expect("a response");
        assert_eq!((response.status, response.reason.as_str()), (200, "OK"));
        assert_eq!(response.body_text(), "web-0");
    }

    #[tokio::test]
    async fn chunked_bodies_are_joined() {
        let (outcome, _) = exchange(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nweb\r\n2;x=y\r\n-0\r\n0\r\n\r\n",
            false,
        )
        .await;
        assert_eq!(outcome.map(|r| r.body_text()), Ok("web-0".to_owned()));
    }

    #[tokio::test]
    async fn close_delimited_and_bodiless_responses() {
        let (outcome, _) =
            exchange(b"HTTP/1.0 503 Service Unavailable\r\n\r\nnot ready", true).await;
        let response = outcome.expect("complete at close");
        assert_eq!(
            (
                response.status,
                response.reason.as_str(),
                response.body_text().as_str()
            ),
            (503, "Service Unavailable", "not ready")
        );
        let (outcome, _) = exchange(b"HTTP/1.1 204 No Content\r\n\r\n", false).await;
        let response = outcome.expect("204 has no body");
        assert_eq!(response.status, 204);
        assert!(response.body.is_empty());
        // A reason the server words its own way is kept as it was sent.
        let (outcome, _) = exchange(b"HTTP/1.1 404 Nope\r\nContent-Length: 0\r\n\r\n", false).await;
        assert_eq!(outcome.map(|r| r.reason), Ok("Nope".to_owned()));
    }

    #[tokio::test]
    async fn garbage_and_early_close_are_no_response() {
        let (outcome, _) = exchange(b"SSH-2.0-OpenSSH\r\n\r\n", true).await;
        let error = outcome.expect_err("not HTTP");
        assert!(error.why.contains("not an HTTP/1.x response"), "{error:?}");
        let (outcome, _) = exchange(b"", true).await;
        assert_eq!(
            outcome,
            Err(NoResponse::before_head(
                "the connection closed without a response".to_owned()
            ))
        );
        let (outcome, _) = exchange(b"HTTP/1.1 200", true).await;
        assert!(outcome.is_err_and(|error| error.before_head));
    }

    #[tokio::test]
    async fn a_short_or_oversized_body_is_no_response() {
        let (outcome, _) =
            exchange(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nweb-", true).await;
        let error = outcome.expect_err("one byte short");
        assert!(
            !error.before_head && error.why.contains("in the middle of the response body"),
            "{error:?}"
        );
        let oversized = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: 2048\r\n\r\n{}",
            "x".repeat(2048)
        );
        let (outcome, _) = exchange(oversized, false).await;
        assert_eq!(
            outcome.map_err(|error| error.why),
            Err("the response is larger than 1024 bytes".to_owned())
        );
    }
}
