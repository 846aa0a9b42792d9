//! The rules for a response head and a request method, as pure functions: whether
//! a response opens the stream (WHATWG: 200 and `text/event-stream`), ends it
//! (204), or fails it, and which methods may be repeated safely.
//!
//! Plain `u16` and `&str` in, so the tokio shell and the browser's `fetch` shell
//! feed the same function and cannot disagree.

/// What a response head means for the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// 200 with `text/event-stream`: read the body as an event stream.
    Open,
    /// 204 No Content: the server asks the client to stop; end, no reconnect.
    NoContent,
    /// The status is not 200 (nor 204): fail, no reconnect.
    BadStatus,
    /// 200 but the content type is not `text/event-stream`: fail, no reconnect.
    BadContentType,
    /// 429 or 503 with [`Config::retry_unavailable`](super::Config::retry_unavailable):
    /// try again after the delay (from `Retry-After`, else the backoff).
    RetryLater,
}

/// Judge a response head. `retry_unavailable` turns 429 and 503 into
/// [`Verdict::RetryLater`].
pub fn check_response(status: u16, content_type: Option<&str>, retry_unavailable: bool) -> Verdict {
    match status {
        200 if content_type.is_some_and(is_event_stream) => Verdict::Open,
        200 => Verdict::BadContentType,
        204 => Verdict::NoContent,
        429 | 503 if retry_unavailable => Verdict::RetryLater,
        _ => Verdict::BadStatus,
    }
}

/// Whether a `Content-Type` is `text/event-stream` (any case, any parameters), read
/// as Fetch's "extract a MIME type" reads it: the header's values joined with ", "
/// (as `Headers.get` gives them), of which the last that parses as a MIME type
/// counts, `*/*` aside. So a server that sends `Content-Type` twice is judged by the
/// second, as a browser judges it.
pub fn is_event_stream(content_type: &str) -> bool {
    // Bytes, not `str` slicing: in the browser build a `str` slice would bring in the
    // formatting of its char-boundary panic, kilobytes of wasm.
    split_values(content_type.as_bytes())
        .filter_map(mime_essence)
        .filter(|&(kind, subtype)| (kind, subtype) != (&b"*"[..], &b"*"[..]))
        .last()
        .is_some_and(|(kind, subtype)| {
            kind.eq_ignore_ascii_case(b"text") && subtype.eq_ignore_ascii_case(b"event-stream")
        })
}

/// A header value split at the commas outside quoted strings (Fetch's "get,
/// decode, and split").
fn split_values(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    let (mut quoted, mut escaped) = (false, false);
    value.split(move |&b| match b {
        _ if escaped => {
            escaped = false;
            false
        }
        b'\\' if quoted => {
            escaped = true;
            false
        }
        b'"' => {
            quoted = !quoted;
            false
        }
        b',' => !quoted,
        _ => false,
    })
}

/// The type and subtype of a MIME type, when `value` parses as one (WHATWG MIME
/// Sniffing, "parse a MIME type": both non-empty HTTP tokens, whitespace around
/// them allowed, parameters after `;` not looked at).
fn mime_essence(value: &[u8]) -> Option<(&[u8], &[u8])> {
    let value = trim_http_space(value);
    let slash = value.iter().position(|&b| b == b'/')?;
    let (kind, rest) = value.split_at_checked(slash)?;
    let subtype = trim_end_http_space(rest.get(1..)?.split(|&b| b == b';').next()?);
    let token = |part: &[u8]| {
        !part.is_empty()
            && part
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b))
    };
    (token(kind) && token(subtype)).then_some((kind, subtype))
}

/// HTTP whitespace: space, tab, CR, LF.
fn is_http_space(b: &u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// `value` without HTTP whitespace at either end.
fn trim_http_space(value: &[u8]) -> &[u8] {
    let start = value
        .iter()
        .position(|b| !is_http_space(b))
        .unwrap_or(value.len());
    trim_end_http_space(value.get(start..).unwrap_or_default())
}

/// `value` without HTTP whitespace at its end.
fn trim_end_http_space(value: &[u8]) -> &[u8] {
    let end = value
        .iter()
        .rposition(|b| !is_http_space(b))
        .map_or(0, |at| at + 1);
    value.get(..end).unwrap_or_default()
}

/// GET, HEAD, PUT, DELETE and OPTIONS (and TRACE): sending them twice has the
/// effect of sending them once (RFC 9110 §9.2.2), so `Auto` may reconnect.
pub fn is_idempotent(method: &str) -> bool {
    ["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"]
        .iter()
        .any(|m| m.eq_ignore_ascii_case(method))
}

/// `Retry-After` as delay-seconds, in milliseconds. An HTTP date needs a wall
/// clock, which the core does not have: the shell converts one itself.
pub fn parse_retry_after(value: &str) -> Option<u64> {
    let secs: u64 = value.trim().parse().ok()?;
    Some(secs.saturating_mul(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        assert!(is_event_stream("text/event-stream"));
        assert!(is_event_stream("Text/Event-Stream; charset=utf-8"));
        assert!(is_event_stream(" text/event-stream ;x=y"));
        assert!(!is_event_stream("text/event-streams"));
        assert!(!is_event_stream("application/json"));
        assert!(!is_event_stream(""));
        assert!(!is_event_stream("text /event-stream"));
        assert!(!is_event_stream("text/ event-stream"));
        assert!(!is_event_stream("text/event-stream/x"));
        // Sent twice (joined with ", "): the last MIME type that parses counts.
        assert!(is_event_stream("text/plain, text/event-stream"));
        assert!(!is_event_stream("text/event-stream, text/plain"));
        assert!(is_event_stream("text/event-stream, */*"));
        assert!(is_event_stream("text/event-stream, nonsense"));
        // A comma inside a quoted parameter does not split.
        assert!(is_event_stream(r#"text/event-stream; x="a, text/plain""#));
        assert!(!is_event_stream(
            r#"text/plain; x="a, \" text/event-stream""#
        ));
    }

    #[test]
    fn verdicts() {
        let sse = Some("text/event-stream");
        assert_eq!(check_response(200, sse, false), Verdict::Open);
        assert_eq!(check_response(200, None, false), Verdict::BadContentType);
        assert_eq!(
            check_response(200, Some("text/plain"), false),
            Verdict::BadContentType
        );
        assert_eq!(check_response(204, sse, false), Verdict::NoContent);
        assert_eq!(check_response(201, sse, false), Verdict::BadStatus);
        assert_eq!(check_response(500, sse, false), Verdict::BadStatus);
        assert_eq!(check_response(503, None, false), Verdict::BadStatus);
        assert_eq!(check_response(503, None, true), Verdict::RetryLater);
        assert_eq!(check_response(429, None, true), Verdict::RetryLater);
    }

    #[test]
    fn methods_and_retry_after() {
        assert!(is_idempotent("GET") && is_idempotent("delete") && is_idempotent("PUT"));
        assert!(!is_idempotent("POST") && !is_idempotent("PATCH"));
        assert_eq!(parse_retry_after(" 2 "), Some(2000));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}
