//! A minimal HTTP/1.1 client's wire format: one GET request, and a response parser that knows
//! when the response is complete (Content-Length, chunked, or the connection closing), so the
//! reader can stop without waiting for the port-forward to close.

/// The bytes of `GET <path>` with `Connection: close`.
pub(crate) fn get_request(path: &str, host: &str) -> Vec<u8> {
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: petset\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    )
    .into_bytes()
}

/// A parsed response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Response {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    pub(crate) fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Where parsing stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Parsed {
    /// More bytes are needed.
    Incomplete,
    Complete(Response),
    Invalid(String),
}

/// Parses what has arrived so far; `closed` says the peer has closed its side.
pub(crate) fn parse_response(buf: &[u8], closed: bool) -> Parsed {
    let Some((head_len, body_start)) = find_head_end(buf) else {
        return if closed {
            Parsed::Invalid(if buf.is_empty() {
                "the connection closed without a response".to_owned()
            } else {
                format!(
                    "the connection closed before the response headers ended: {:?}",
                    String::from_utf8_lossy(&buf[..buf.len().min(200)])
                )
            })
        } else {
            Parsed::Incomplete
        };
    };
    let head = String::from_utf8_lossy(&buf[..head_len]);
    let mut lines = head.lines();
    let status_line = lines.next().unwrap_or_default();
    let (status, reason) = match parse_status_line(status_line) {
        Ok(parts) => parts,
        Err(why) => return Parsed::Invalid(why),
    };
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| {
            let (name, value) = line.split_once(':')?;
            Some((name.trim().to_owned(), value.trim().to_owned()))
        })
        .collect();
    let mut response = Response {
        status,
        reason,
        headers,
        body: Vec::new(),
    };
    let rest = &buf[body_start..];
    if status == 204 || status == 304 || (100..200).contains(&status) {
        return Parsed::Complete(response);
    }
    let chunked = response
        .header("transfer-encoding")
        .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"));
    if chunked {
        return match decode_chunked(rest) {
            Ok(Some(body)) => {
                response.body = body;
                Parsed::Complete(response)
            }
            Ok(None) if closed => {
                Parsed::Invalid("the connection closed in the middle of a chunked body".to_owned())
            }
            Ok(None) => Parsed::Incomplete,
            Err(why) => Parsed::Invalid(why),
        };
    }
    if let Some(length) = response.header("content-length") {
        let Ok(length) = length.parse::<usize>() else {
            return Parsed::Invalid(format!("invalid Content-Length {length:?}"));
        };
        if rest.len() >= length {
            response.body = rest[..length].to_vec();
            return Parsed::Complete(response);
        }
        return if closed {
            Parsed::Invalid(format!(
                "the connection closed after {} of {length} body bytes",
                rest.len()
            ))
        } else {
            Parsed::Incomplete
        };
    }
    if closed {
        response.body = rest.to_vec();
        Parsed::Complete(response)
    } else {
        Parsed::Incomplete
    }
}

/// The end of the header block: (length of the head, start of the body).
fn find_head_end(buf: &[u8]) -> Option<(usize, usize)> {
    let crlf = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, i + 4));
    let lf = buf
        .windows(2)
        .position(|w| w == b"\n\n")
        .map(|i| (i, i + 2));
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

fn parse_status_line(line: &str) -> Result<(u16, String), String> {
    let mut parts = line.trim_end().splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(format!("not an HTTP/1.x response: {line:?}"));
    }
    let status = parts
        .next()
        .and_then(|code| code.parse::<u16>().ok())
        .filter(|code| (100..1000).contains(code))
        .ok_or_else(|| format!("no status code in {line:?}"))?;
    Ok((status, parts.next().unwrap_or_default().to_owned()))
}

/// The body of a chunked message, `None` while incomplete.
fn decode_chunked(mut rest: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let mut body = Vec::new();
    loop {
        let Some(line_end) = rest.windows(2).position(|w| w == b"\r\n") else {
            return Ok(None);
        };
        let size_text = String::from_utf8_lossy(&rest[..line_end]);
        let size_hex = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_hex, 16)
            .map_err(|_| format!("invalid chunk size {size_hex:?}"))?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            // Trailers, if any, end with an empty line.
            return Ok(rest.windows(2).position(|w| w == b"\r\n").map(|_| body));
        }
        if rest.len() < size + 2 {
            return Ok(None);
        }
        body.extend_from_slice(&rest[..size]);
        if &rest[size..size + 2] != b"\r\n" {
            return Err("a chunk does not end with CRLF".to_owned());
        }
        rest = &rest[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_is_a_plain_get() {
        let request = String::from_utf8(get_request("hostname", "web-0")).expect("ascii");
        assert!(
            request.starts_with("GET /hostname HTTP/1.1\r\nHost: web-0\r\n"),
            "{request}"
        );
        assert!(request.ends_with("Connection: close\r\n\r\n"));
    }

    #[test]
    fn content_length_decides_completeness() {
        let full = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nweb-0";
        let Parsed::Complete(response) = parse_response(full, false) else {
            panic!("complete")
        };
        assert_eq!((response.status, response.reason.as_str()), (200, "OK"));
        assert_eq!(response.body_text(), "web-0");
        assert_eq!(response.header("content-type"), Some("text/plain"));
        assert_eq!(
            parse_response(&full[..full.len() - 1], false),
            Parsed::Incomplete
        );
        assert!(
            matches!(parse_response(&full[..full.len() - 1], true), Parsed::Invalid(why) if why.contains("4 of 5"))
        );
    }

    #[test]
    fn chunked_bodies_are_joined() {
        let text = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nweb\r\n2;x=y\r\n-0\r\n0\r\n\r\n";
        let Parsed::Complete(response) = parse_response(text, false) else {
            panic!("complete")
        };
        assert_eq!(response.body_text(), "web-0");
        assert_eq!(
            parse_response(&text[..text.len() - 2], false),
            Parsed::Incomplete
        );
        let bad = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
        assert!(matches!(parse_response(bad, false), Parsed::Invalid(_)));
    }

    #[test]
    fn close_delimited_and_bodiless_responses() {
        let text = b"HTTP/1.0 503 Service Unavailable\r\n\r\nnot ready";
        assert_eq!(parse_response(text, false), Parsed::Incomplete);
        let Parsed::Complete(response) = parse_response(text, true) else {
            panic!("complete at close")
        };
        assert_eq!(
            (response.status, response.body_text().as_str()),
            (503, "not ready")
        );
        let Parsed::Complete(empty) = parse_response(b"HTTP/1.1 204 No Content\r\n\r\n", false)
        else {
            panic!("204 has no body")
        };
        assert!(empty.body.is_empty());
    }

    #[test]
    fn garbage_and_early_close_are_invalid() {
        assert!(matches!(
            parse_response(b"SSH-2.0-OpenSSH\r\n\r\n", false),
            Parsed::Invalid(_)
        ));
        assert!(
            matches!(parse_response(b"", true), Parsed::Invalid(why) if why.contains("without a response"))
        );
        assert!(matches!(
            parse_response(b"HTTP/1.1 200", true),
            Parsed::Invalid(_)
        ));
    }
}
