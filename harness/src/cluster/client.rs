//! The one way petset builds a Kubernetes client, for runs and tests alike.
//!
//! kube's own retry layer is off: petset retries every API call itself (`api::retry`), inside
//! the step's deadline and counted in the step's report, and must see a PodDisruptionBudget's
//! 429. Instead, a small response layer carries a server's `Retry-After` header into the error
//! the call fails with, so that policy can honour it.

use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use kube::client::{ClientBuilder, DynBody};
use serde_json::{Value, json};
use tower::BoxError;
use tower::util::MapFutureLayer;

/// How much of a non-`Status` error body is kept as the message.
const MESSAGE_CHARS: usize = 500;

/// Builds the client for `config` as every run and every test does.
pub fn client_from_config(mut config: kube::Config) -> Result<kube::Client, kube::Error> {
    config.default_retry = false;
    let layer = MapFutureLayer::new(|answer| async move { carry_retry_after(answer.await?).await });
    Ok(ClientBuilder::try_from(config)?.with_layer(&layer).build())
}

/// A 429 or 503 answer with `Retry-After: <seconds>` gets that delay as the `Status`'s
/// `details.retryAfterSeconds`, which kube keeps in its error (the header it drops).
///
/// The API server's own throttling errors carry both (`errors.NewTooManyRequests`), but API
/// Priority and Fairness rejects with a plain-text body and only the header
/// (k8s.io/apiserver/pkg/server/filters/maxinflight.go, `tooManyRequests`); that body becomes a
/// `Status` here, as a client reading the header would see it.
async fn carry_retry_after(
    answer: Response<Box<DynBody>>,
) -> Result<Response<Box<DynBody>>, BoxError> {
    let status = answer.status();
    let throttled =
        status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE;
    let Some(seconds) = throttled.then(|| retry_after(answer.headers())).flatten() else {
        return Ok(answer);
    };
    let (mut parts, body) = answer.into_parts();
    let text = body.collect().await?.to_bytes();
    let folded = status_with_retry_after(&text, status.as_u16(), seconds);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    let body: Box<DynBody> =
        Box::new(Full::new(Bytes::from(folded)).map_err(|never| match never {}));
    Ok(Response::from_parts(parts, body))
}

/// `Retry-After` in seconds, the form the API server sends (an HTTP date is left alone).
fn retry_after(headers: &HeaderMap) -> Option<u32> {
    headers
        .get(header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The error body as a `Status` carrying `retryAfterSeconds` (a `Status` that already names a
/// delay keeps its own).
fn status_with_retry_after(body: &[u8], code: u16, seconds: u32) -> Vec<u8> {
    let mut status = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) if map.get("kind").and_then(Value::as_str) == Some("Status") => {
            Value::Object(map)
        }
        _ => {
            let text = String::from_utf8_lossy(body);
            json!({
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "message": text.trim().chars().take(MESSAGE_CHARS).collect::<String>(),
                "reason": if code == 429 { "TooManyRequests" } else { "ServiceUnavailable" },
                "code": code,
            })
        }
    };
    let details = &mut status["details"];
    if !details.is_object() {
        *details = json!({});
    }
    let named = details
        .get("retryAfterSeconds")
        .and_then(Value::as_u64)
        .is_some_and(|s| s > 0);
    if !named {
        details["retryAfterSeconds"] = json!(seconds);
    }
    serde_json::to_vec(&status).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;

    fn parsed(body: &[u8], code: u16, seconds: u32) -> Status {
        let folded = status_with_retry_after(body, code, seconds);
        serde_json::from_slice(&folded).unwrap_or_else(|e| panic!("a Status: {e}"))
    }

    #[test]
    fn a_plain_text_throttle_becomes_a_status_with_the_delay() {
        let status = parsed(b"Too many requests, please try again later.\n", 429, 3);
        assert_eq!(status.code, 429);
        assert_eq!(status.reason, "TooManyRequests");
        assert_eq!(status.message, "Too many requests, please try again later.");
        assert_eq!(status.details.map(|d| d.retry_after_seconds), Some(3));
    }

    #[test]
    fn a_status_keeps_its_message_and_its_own_delay() {
        let body = br#"{"kind":"Status","apiVersion":"v1","status":"Failure","code":429,
            "reason":"TooManyRequests","message":"slow down","details":{"retryAfterSeconds":7}}"#;
        let status = parsed(body, 429, 2);
        assert_eq!(status.message, "slow down");
        assert_eq!(status.details.map(|d| d.retry_after_seconds), Some(7));
        let without =
            br#"{"kind":"Status","code":503,"reason":"ServiceUnavailable","message":"m"}"#;
        let status = parsed(without, 503, 2);
        assert_eq!(status.details.map(|d| d.retry_after_seconds), Some(2));
    }

    #[test]
    fn reads_retry_after_in_seconds_only() {
        let mut headers = HeaderMap::new();
        headers.insert(header::RETRY_AFTER, http::HeaderValue::from_static(" 4"));
        assert_eq!(retry_after(&headers), Some(4));
        headers.insert(
            header::RETRY_AFTER,
            http::HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&headers), None);
    }
}
