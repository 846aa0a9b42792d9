//! How the core's outcomes are told to JavaScript: the `kind` names of `error`
//! events, the `reason` of `close` events, and the short English sentence each
//! `error` carries.
//!
//! Every rule (response checks, reconnection, backoff, timeouts, limits) lives in
//! the core's sans-IO `postsource::protocol::Session`, shared with the native
//! client; this module only names its [`Failure`]s, [`Interruption`]s and
//! [`End`]s. It is pure Rust, so it is tested natively. Sentences are built with
//! `push_str` rather than `format!` to keep `core::fmt` out of the wasm.

use alloc::string::String;

use postsource::ParseError;
use postsource::protocol::{End, Failure, Interruption};

/// The `kind` of an `error` event, as the CLI names kinds where they overlap.
pub fn interruption_kind(why: Interruption) -> &'static str {
    match why {
        Interruption::Eof => "eof",
        Interruption::Connect | Interruption::Io => "network",
        Interruption::ConnectTimeout | Interruption::ResponseTimeout => "timeout",
        Interruption::IdleTimeout | Interruption::EventTimeout => "idle_timeout",
        Interruption::Unavailable { .. } => "status",
    }
}

/// The `kind` of the `error` event for a terminal failure.
pub fn failure_kind(failure: &Failure) -> &'static str {
    match failure {
        Failure::Status { .. } => "status",
        Failure::ContentType => "content_type",
        Failure::TooLarge(_) => "too_large",
        Failure::Interrupted(why) | Failure::GaveUp { last: why, .. } => interruption_kind(*why),
        Failure::TotalTimeout => "timeout",
    }
}

/// The `reason` of the `close` event for a normal end.
pub fn end_reason(end: End) -> &'static str {
    match end {
        End::Eof => "eof",
        End::NoContent => "no_content",
        End::UntilData => "until_data",
        End::Aborted => "aborted",
    }
}

/// The timeouts in force, for the sentences that name one.
#[derive(Clone, Copy, Debug, Default)]
pub struct Limits {
    /// `timeout` (ms).
    pub total_ms: Option<u64>,
    /// `idleTimeout` (ms).
    pub idle_ms: Option<u64>,
    /// `responseTimeout` (ms).
    pub response_ms: Option<u64>,
}

/// Why a connection ended, as a sentence; `detail` is the browser's message.
pub fn interruption_reason(why: Interruption, limits: &Limits, detail: &str) -> String {
    let mut s = String::new();
    match why {
        Interruption::Eof => s.push_str("The server ended the stream."),
        Interruption::Connect | Interruption::Io => {
            s.push_str(if why == Interruption::Connect {
                "The request failed (network error"
            } else {
                "The connection broke (network error"
            });
            if !detail.is_empty() {
                s.push_str(": ");
                s.push_str(detail);
            }
            s.push_str(").");
        }
        Interruption::ConnectTimeout | Interruption::ResponseTimeout => {
            s.push_str("No response within ");
            push_ms(&mut s, limits.response_ms);
        }
        Interruption::IdleTimeout => {
            s.push_str("No data arrived for ");
            push_ms(&mut s, limits.idle_ms);
        }
        Interruption::EventTimeout => s.push_str("No event arrived in time."),
        Interruption::Unavailable { status } => {
            s.push_str("The server is unavailable (HTTP ");
            push_u64(&mut s, status.into());
            s.push_str(").");
        }
    }
    s
}

/// A terminal failure as a sentence. `body` is the start of an error response's
/// body, `content_type` its content type, `detail` the browser's message.
pub fn failure_reason(
    failure: &Failure,
    limits: &Limits,
    body: &str,
    content_type: &str,
    detail: &str,
) -> String {
    let mut s = String::new();
    match failure {
        Failure::Status { status } => {
            s.push_str("The server answered HTTP ");
            push_u64(&mut s, (*status).into());
            if body.trim().is_empty() {
                s.push('.');
            } else {
                s.push_str(": ");
                s.push_str(body.trim());
            }
        }
        Failure::ContentType => {
            s.push_str("The response is not an event stream (content type ");
            s.push_str(if content_type.is_empty() {
                "none"
            } else {
                content_type
            });
            s.push_str(").");
        }
        Failure::TooLarge(
            ParseError::EventTooLarge { limit } | ParseError::LineTooLong { limit },
        ) => {
            s.push_str("An event was larger than ");
            push_u64(&mut s, *limit as u64);
            s.push_str(" bytes.");
        }
        Failure::Interrupted(why) => s.push_str(&interruption_reason(*why, limits, detail)),
        Failure::GaveUp { last, attempts, .. } => {
            s.push_str("Gave up after ");
            push_u64(&mut s, (*attempts).into());
            s.push_str(" reconnection attempts. ");
            s.push_str(&interruption_reason(*last, limits, detail));
        }
        Failure::TotalTimeout => {
            s.push_str("The request timed out after ");
            push_ms(&mut s, limits.total_ms);
        }
    }
    s
}

/// The sentence for the caller's `AbortSignal`.
pub const ABORTED: &str = "The request was aborted.";

fn push_ms(s: &mut String, ms: Option<u64>) {
    push_u64(s, ms.unwrap_or(0));
    s.push_str(" ms.");
}

/// Append the decimal digits of `n`.
pub fn push_u64(s: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        s.push(char::from(d));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use postsource::protocol::Limit;

    const LIMITS: Limits = Limits {
        total_ms: Some(250),
        idle_ms: Some(300),
        response_ms: Some(400),
    };

    #[test]
    fn status_reasons_carry_the_body() {
        let f = Failure::Status { status: 500 };
        assert_eq!(
            failure_reason(&f, &LIMITS, "{\"error\":\"boom\"}\n", "", ""),
            "The server answered HTTP 500: {\"error\":\"boom\"}"
        );
        assert_eq!(
            failure_reason(&Failure::Status { status: 404 }, &LIMITS, " ", "", ""),
            "The server answered HTTP 404."
        );
        assert_eq!(failure_kind(&f), "status");
    }

    #[test]
    fn timeouts_name_their_limit() {
        assert_eq!(
            failure_reason(&Failure::TotalTimeout, &LIMITS, "", "", ""),
            "The request timed out after 250 ms."
        );
        assert_eq!(
            interruption_reason(Interruption::IdleTimeout, &LIMITS, ""),
            "No data arrived for 300 ms."
        );
        assert_eq!(failure_kind(&Failure::TotalTimeout), "timeout");
        assert_eq!(
            failure_kind(&Failure::Interrupted(Interruption::IdleTimeout)),
            "idle_timeout"
        );
    }

    #[test]
    fn other_failures() {
        assert_eq!(
            failure_reason(&Failure::ContentType, &LIMITS, "", "text/plain", ""),
            "The response is not an event stream (content type text/plain)."
        );
        let big = Failure::TooLarge(ParseError::EventTooLarge { limit: 1000 });
        assert_eq!(
            failure_reason(&big, &LIMITS, "", "", ""),
            "An event was larger than 1000 bytes."
        );
        let gave_up = Failure::GaveUp {
            last: Interruption::Connect,
            attempts: 2,
            limit: Limit::MaxRetries,
        };
        assert_eq!(
            failure_reason(&gave_up, &LIMITS, "", "", "Failed to fetch"),
            "Gave up after 2 reconnection attempts. The request failed (network error: Failed to fetch)."
        );
        assert_eq!(failure_kind(&gave_up), "network");
        assert_eq!(interruption_kind(Interruption::Eof), "eof");
        assert_eq!(end_reason(End::NoContent), "no_content");
    }

    #[test]
    fn digits() {
        let mut s = String::new();
        push_u64(&mut s, 0);
        push_u64(&mut s, u64::MAX);
        assert_eq!(s, "018446744073709551615");
    }
}
