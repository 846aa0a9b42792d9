//! The event-stream parser: bytes in, [`Frame`]s out, exactly as the WHATWG HTML
//! standard ("Server-sent events", §9.2.6 *Interpreting an event stream*) says.
//!
//! It is sans-IO in the style of `httparse`: it never reads a socket or looks at a
//! clock. You [`feed`](Parser::feed) it chunks as they arrive, drain the frames it has
//! completed (it is an [`Iterator`]), and tell it when the stream has ended with
//! [`finish`](Parser::finish). "Not enough bytes yet" is simply an empty iterator.
//!
//! Three layers, each in its own module:
//! - `scan` finds line endings (CR, LF, CRLF — also a CRLF split across two chunks);
//! - this module cuts chunks into lines, strips the BOM, enforces the limits and keeps a
//!   line that spans chunks;
//! - `fields` interprets a line (`data`, `event`, `id`, `retry`, comments) and
//!   dispatches events on blank lines.
//!
//! Data that lies within one chunk is handed out as a zero-copy slice of that chunk;
//! only data split over chunks or over several `data:` lines is copied, once.
//!
//! ```
//! use postsource::parse::{Frame, Parser};
//!
//! let mut parser = Parser::new();
//! parser.feed_slice(b"event: greeting\nid: 1\ndata: hello\ndata: wor");
//! assert!(parser.next().is_none()); // the event is not complete yet
//! parser.feed_slice(b"ld\n\n");
//! let Some(Ok(Frame::Event(event))) = parser.next() else { panic!() };
//! assert_eq!(event.event, "greeting");
//! assert_eq!(event.data, "hello\nworld");
//! assert_eq!(event.last_event_id, "1");
//! ```

mod fields;
mod scan;

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use bytes::Bytes;

use crate::Utf8Bytes;
use fields::Fields;

/// The default for [`Parser::with_max_line_len`]: 16 MiB.
pub const DEFAULT_MAX_LINE_LEN: usize = 16 * 1024 * 1024;
/// The default for [`Parser::with_max_event_size`]: 16 MiB.
pub const DEFAULT_MAX_EVENT_SIZE: usize = 16 * 1024 * 1024;

/// One thing the parser found in the stream, in stream order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// A dispatched event (a block with data, ended by a blank line).
    Event(Event),
    /// A comment line (`: text`), with one leading space removed. Only produced when
    /// asked for with [`Parser::with_comments`]; servers use them as heartbeats.
    Comment(Utf8Bytes),
    /// A valid `retry:` field: the server's new reconnection time, in milliseconds.
    /// The spec applies it at once, not at dispatch, and so does the parser.
    Retry(u64),
}

/// A dispatched event, as `EventSource` would fire it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The event type: the last `event:` field of the block, or `message`.
    pub event: Utf8Bytes,
    /// The `data:` lines of the block joined with LF.
    pub data: Utf8Bytes,
    /// The last event id *at dispatch*: the latest `id:` seen in this or an earlier
    /// block ("" if none, or after an empty `id:`).
    pub last_event_id: Utf8Bytes,
}

/// A limit was exceeded. The parser drops the offending line and the event it belongs
/// to, reports this once, and goes on with the next event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// A line (without its line ending) grew longer than the limit.
    #[error("line longer than {limit} bytes")]
    LineTooLong {
        /// The limit in force, in bytes.
        limit: usize,
    },
    /// An event's data grew larger than the limit.
    #[error("event data larger than {limit} bytes")]
    EventTooLarge {
        /// The limit in force, in bytes.
        limit: usize,
    },
}

/// How a stream ended, from [`Parser::finish`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamEnd {
    /// Nothing was pending: every event sent was dispatched.
    Clean,
    /// The stream stopped inside a line or a block that was never ended by a blank
    /// line. That event is discarded and its `id:` is not applied, as the spec says.
    Truncated,
}

/// Whether the UTF-8 byte order mark at the start of the stream is still possible.
#[derive(Clone, Copy, Debug)]
enum Bom {
    /// This many bytes of `EF BB BF` have matched so far (and are held back).
    Matching(u8),
    Done,
}

const BOM: &[u8; 3] = b"\xEF\xBB\xBF";

/// The streaming parser. See the [module docs](self) for an example.
#[derive(Debug)]
pub struct Parser {
    fields: Fields,
    out: VecDeque<Result<Frame, ParseError>>,
    /// The start of a line that continues in a later chunk.
    partial: Vec<u8>,
    /// Dropping bytes up to the next line ending (the line went over the limit).
    skipping_line: bool,
    /// The previous chunk ended in CR: an LF at the start of the next one is its pair.
    pending_cr: bool,
    bom: Bom,
    limits: Limits,
}

#[derive(Clone, Copy, Debug)]
struct Limits {
    max_line_len: usize,
    max_event_size: usize,
    comments: bool,
}

impl Default for Parser {
    fn default() -> Self {
        Parser::new()
    }
}

impl Parser {
    /// A parser with the default limits that does not report comments.
    pub fn new() -> Self {
        Parser {
            fields: Fields::new(),
            out: VecDeque::new(),
            partial: Vec::new(),
            skipping_line: false,
            pending_cr: false,
            bom: Bom::Matching(0),
            limits: Limits {
                max_line_len: DEFAULT_MAX_LINE_LEN,
                max_event_size: DEFAULT_MAX_EVENT_SIZE,
                comments: false,
            },
        }
    }

    /// Report comment lines as [`Frame::Comment`].
    pub fn with_comments(mut self, comments: bool) -> Self {
        self.limits.comments = comments;
        self
    }

    /// The longest line accepted, in bytes, not counting its line ending
    /// (default [`DEFAULT_MAX_LINE_LEN`]). Longer lines are [`ParseError::LineTooLong`].
    pub fn with_max_line_len(mut self, bytes: usize) -> Self {
        self.limits.max_line_len = bytes;
        self
    }

    /// The largest event data accepted, in bytes (default [`DEFAULT_MAX_EVENT_SIZE`]).
    /// Larger events are [`ParseError::EventTooLarge`].
    pub fn with_max_event_size(mut self, bytes: usize) -> Self {
        self.limits.max_event_size = bytes;
        self
    }

    /// Start from a known last event id, e.g. one saved before a restart.
    pub fn with_last_event_id(mut self, id: impl Into<Utf8Bytes>) -> Self {
        self.set_last_event_id(id);
        self
    }

    /// Replace the last event id (and the id of the block being read).
    pub fn set_last_event_id(&mut self, id: impl Into<Utf8Bytes>) {
        self.fields.set_last_event_id(id.into());
    }

    /// The last event id as of the latest dispatch: what a reconnection sends as
    /// `Last-Event-ID` (when it is not empty).
    pub fn last_event_id(&self) -> &Utf8Bytes {
        self.fields.last_event_id()
    }

    /// The latest valid `retry:` value seen, in milliseconds.
    pub fn retry(&self) -> Option<u64> {
        self.fields.retry()
    }

    /// Parse a chunk of the stream. Complete frames become available from
    /// [`next`](Iterator::next); an unfinished line is kept for the next chunk.
    pub fn feed(&mut self, chunk: Bytes) {
        let bytes: &[u8] = &chunk;
        let mut pos = match self.bom {
            Bom::Done => 0,
            Bom::Matching(_) => match self.skip_bom(bytes) {
                Some(pos) => pos,
                None => return,
            },
        };
        if self.pending_cr && pos < bytes.len() {
            self.pending_cr = false;
            if bytes[pos] == b'\n' {
                pos += 1;
            }
        }
        while pos < bytes.len() {
            let rest = &bytes[pos..];
            let Some(len) = scan::find_line_end(rest) else {
                self.keep_partial(rest);
                return;
            };
            let line = &rest[..len];
            if self.skipping_line {
                self.skipping_line = false;
            } else if self.partial.is_empty() {
                if line.len() > self.limits.max_line_len {
                    self.line_too_long();
                } else {
                    self.fields
                        .line(line, Some(&chunk), &self.limits, &mut self.out);
                }
            } else if self.partial.len() + line.len() > self.limits.max_line_len {
                self.partial.clear();
                self.line_too_long();
            } else {
                self.partial.extend_from_slice(line);
                self.fields
                    .line(&self.partial, None, &self.limits, &mut self.out);
                self.clear_partial();
            }
            pos += len + 1;
            if rest[len] == b'\r' {
                if pos == bytes.len() {
                    self.pending_cr = true;
                } else if bytes[pos] == b'\n' {
                    pos += 1;
                }
            }
        }
    }

    /// Parse a borrowed chunk (copied once into a [`Bytes`]).
    pub fn feed_slice(&mut self, chunk: &[u8]) {
        self.feed(Bytes::copy_from_slice(chunk));
    }

    /// The stream has ended (EOF, or the connection dropped). Anything not yet
    /// dispatched is discarded, as the spec requires, and the parser is ready for a
    /// new stream (a reconnection): the last event id and `retry` are kept, and a
    /// BOM is allowed again. Frames already produced stay available.
    pub fn finish(&mut self) -> StreamEnd {
        let truncated = !self.partial.is_empty() || self.skipping_line || self.fields.pending();
        self.partial.clear();
        self.clear_partial();
        self.skipping_line = false;
        self.pending_cr = false;
        self.bom = Bom::Matching(0);
        self.fields.end_of_stream();
        if truncated {
            StreamEnd::Truncated
        } else {
            StreamEnd::Clean
        }
    }

    /// Frames produced and not yet taken.
    pub fn pending_frames(&self) -> usize {
        self.out.len()
    }

    /// Returns `None` when the chunk ended while the BOM might still be arriving.
    fn skip_bom(&mut self, bytes: &[u8]) -> Option<usize> {
        let Bom::Matching(mut seen) = self.bom else {
            return Some(0);
        };
        let mut pos = 0;
        while usize::from(seen) < BOM.len() {
            let Some(&b) = bytes.get(pos) else {
                self.bom = Bom::Matching(seen);
                return None;
            };
            if b != BOM[usize::from(seen)] {
                // Not a BOM after all: the bytes held back start the first line.
                self.partial.extend_from_slice(&BOM[..usize::from(seen)]);
                break;
            }
            seen += 1;
            pos += 1;
        }
        self.bom = Bom::Done;
        Some(pos)
    }

    fn keep_partial(&mut self, rest: &[u8]) {
        if self.skipping_line {
            return;
        }
        if self.partial.len() + rest.len() > self.limits.max_line_len {
            self.partial.clear();
            self.clear_partial();
            self.line_too_long();
            self.skipping_line = true;
        } else {
            self.partial.extend_from_slice(rest);
        }
    }

    fn line_too_long(&mut self) {
        self.fields.drop_event();
        self.out.push_back(Err(ParseError::LineTooLong {
            limit: self.limits.max_line_len,
        }));
    }

    /// Empty the line buffer, and give its memory back after a long line.
    fn clear_partial(&mut self) {
        self.partial.clear();
        if self.partial.capacity() > 64 * 1024 {
            self.partial = Vec::new();
        }
    }
}

impl Iterator for Parser {
    type Item = Result<Frame, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.out.pop_front()
    }
}
