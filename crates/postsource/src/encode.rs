//! The encoder: what a server writes to produce an event stream.
//!
//! Its one promise is the round trip: whatever it accepts, [`Parser`](crate::Parser)
//! gives back exactly (with the line breaks inside data normalised to LF). So data may
//! hold any text — each CR, LF or CRLF starts a new `data:` line — while an event type
//! or id that would break the framing (a line break, or NUL in an id) is refused with
//! an [`EncodeError`], never written.
//!
//! ```
//! use postsource::encode::{self, Message};
//!
//! let event = Message::new("line one\nline two").event("update").id("7").retry(2000);
//! assert_eq!(
//!     event.to_bytes()?,
//!     "event: update\nid: 7\nretry: 2000\ndata: line one\ndata: line two\n\n"
//! );
//! assert_eq!(encode::comment("heartbeat"), ": heartbeat\n");
//! assert!(Message::new("x").id("a\nb").to_bytes().is_err());
//! # Ok::<(), encode::EncodeError>(())
//! ```

use bytes::{BufMut, Bytes, BytesMut};

/// A field value that would break the stream's framing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The event type contains CR or LF.
    #[error("event type contains a line break")]
    LineBreakInEvent,
    /// The id contains CR or LF.
    #[error("event id contains a line break")]
    LineBreakInId,
    /// The id contains NUL, which makes clients ignore it.
    #[error("event id contains NUL")]
    NulInId,
}

/// One event to encode. Build it, then [`to_bytes`](Message::to_bytes) or
/// [`encode_into`](Message::encode_into) a buffer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Message<'a> {
    data: &'a str,
    event: &'a str,
    id: Option<&'a str>,
    retry: Option<u64>,
}

impl<'a> Message<'a> {
    /// An event of type `message` carrying `data` (any text; it may be empty).
    #[must_use = "a Message is a value: use the one returned"]
    pub fn new(data: &'a str) -> Self {
        Message {
            data,
            ..Message::default()
        }
    }

    /// The event type. Empty means the default, `message`.
    #[must_use = "a Message is a value: use the one returned"]
    pub fn event(mut self, event: &'a str) -> Self {
        self.event = event;
        self
    }

    /// The event id, which clients send back as `Last-Event-ID` when they reconnect.
    /// An empty id resets the client's last event id.
    #[must_use = "a Message is a value: use the one returned"]
    pub fn id(mut self, id: &'a str) -> Self {
        self.id = Some(id);
        self
    }

    /// Tell the client to wait this many milliseconds before reconnecting.
    #[must_use = "a Message is a value: use the one returned"]
    pub fn retry(mut self, ms: u64) -> Self {
        self.retry = Some(ms);
        self
    }

    /// Checks the fields without writing anything.
    pub fn validate(&self) -> Result<(), EncodeError> {
        if has_line_break(self.event) {
            return Err(EncodeError::LineBreakInEvent);
        }
        if let Some(id) = self.id {
            if has_line_break(id) {
                return Err(EncodeError::LineBreakInId);
            }
            if id.contains('\0') {
                return Err(EncodeError::NulInId);
            }
        }
        Ok(())
    }

    /// Appends the encoded event, ended by its blank line, to `out`. Nothing is
    /// written when the event is refused.
    pub fn encode_into(&self, out: &mut impl BufMut) -> Result<(), EncodeError> {
        self.validate()?;
        if !self.event.is_empty() {
            field(out, b"event", self.event);
        }
        if let Some(id) = self.id {
            field(out, b"id", id);
        }
        if let Some(ms) = self.retry {
            put_retry(out, ms);
        }
        for line in Lines::new(self.data) {
            field(out, b"data", line);
        }
        out.put_u8(b'\n');
        Ok(())
    }

    /// The encoded event.
    pub fn to_bytes(&self) -> Result<Bytes, EncodeError> {
        let mut out = BytesMut::with_capacity(self.data.len() + self.event.len() + 32);
        self.encode_into(&mut out)?;
        Ok(out.freeze())
    }
}

/// A comment: `: text`, one line per line of `text`. Clients ignore it; it keeps
/// proxies and idle timers from closing a quiet stream.
///
/// Lines only, with no blank line after them: a blank line ends a block, and the
/// decoders in the openai SDK and httpx-sse turn a block with no data (after an
/// id, say) into an empty event. Written between events, as [`Message`]s end
/// their own blocks, a comment line is complete as it is.
pub fn comment(text: &str) -> Bytes {
    let mut out = BytesMut::with_capacity(text.len() + 4);
    for line in Lines::new(text) {
        if line.is_empty() {
            out.put_slice(b":\n");
        } else {
            out.put_slice(b": ");
            out.put_slice(line.as_bytes());
            out.put_u8(b'\n');
        }
    }
    out.freeze()
}

/// The keep-alive comment servers send on idle streams: the line `: keep-alive`
/// (a line, not a block, as [`comment`] explains).
pub fn keep_alive() -> Bytes {
    Bytes::from_static(b": keep-alive\n")
}

/// A lone `retry:` line, to set the reconnection time. Clients apply it as they
/// read it; no blank line follows (see [`comment`]).
pub fn retry(ms: u64) -> Bytes {
    let mut out = BytesMut::with_capacity(16);
    put_retry(&mut out, ms);
    out.freeze()
}

fn field(out: &mut impl BufMut, name: &[u8], value: &str) {
    out.put_slice(name);
    if value.is_empty() {
        out.put_slice(b":\n");
    } else {
        out.put_slice(b": ");
        out.put_slice(value.as_bytes());
        out.put_u8(b'\n');
    }
}

fn put_retry(out: &mut impl BufMut, ms: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    let mut n = ms;
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.put_slice(b"retry: ");
    out.put_slice(&digits[start..]);
    out.put_u8(b'\n');
}

fn has_line_break(s: &str) -> bool {
    memchr::memchr2(b'\n', b'\r', s.as_bytes()).is_some()
}

/// The lines of `s`, split at CRLF, CR or LF; "" is one empty line, and a trailing
/// line break leaves an empty last line (so `"a\n"` is `["a", ""]`).
struct Lines<'a> {
    rest: Option<&'a str>,
}

impl<'a> Lines<'a> {
    fn new(s: &'a str) -> Self {
        Lines { rest: Some(s) }
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        match memchr::memchr2(b'\n', b'\r', rest.as_bytes()) {
            None => {
                self.rest = None;
                Some(rest)
            }
            Some(i) => {
                let skip = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
                self.rest = Some(&rest[i + skip..]);
                Some(&rest[..i])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_line_breaks_become_data_lines() {
        let bytes = Message::new("a\r\nb\rc\nd\n").to_bytes().unwrap();
        assert_eq!(bytes, "data: a\ndata: b\ndata: c\ndata: d\ndata:\n\n");
    }

    #[test]
    fn empty_data_is_one_empty_data_line() {
        assert_eq!(Message::new("").to_bytes().unwrap(), "data:\n\n");
    }

    #[test]
    fn framing_breakers_are_refused() {
        assert_eq!(
            Message::new("x").event("a\rb").to_bytes(),
            Err(EncodeError::LineBreakInEvent)
        );
        assert_eq!(
            Message::new("x").id("a\nb").to_bytes(),
            Err(EncodeError::LineBreakInId)
        );
        assert_eq!(
            Message::new("x").id("a\0b").to_bytes(),
            Err(EncodeError::NulInId)
        );
    }

    #[test]
    fn refused_events_write_nothing() {
        let mut out = BytesMut::new();
        assert!(Message::new("x").id("\n").encode_into(&mut out).is_err());
        assert!(out.is_empty());
    }

    #[test]
    fn retry_digits() {
        assert_eq!(retry(0), "retry: 0\n");
        assert_eq!(retry(u64::MAX), "retry: 18446744073709551615\n");
    }

    #[test]
    fn multi_line_comment() {
        assert_eq!(comment("a\nb"), ": a\n: b\n");
        assert_eq!(comment(""), ":\n");
    }
}
