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

/// The MIME type essence is `text/event-stream`, in any case, with any parameters.
pub fn is_event_stream(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("");
    essence
        .trim_matches(|c: char| c.is_ascii_whitespace())
        .eq_ignore_ascii_case("text/event-stream")
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
