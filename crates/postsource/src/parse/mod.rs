//! The event-stream parser: bytes in, [`Frame`]s out, exactly as the WHATWG HTML
//! standard ("Server-sent events", §9.2.6 *Interpreting an event stream*) says.
//!
//! It is sans-IO in the style of `httparse`: it never reads a socket or looks at a
//! clock. You [`feed`](Parser::feed) it chunks as they arrive, drain the frames it has
//! completed (it is an [`Iterator`]), and tell it when the stream has ended with
//! [`finish`](Parser::finish). "Not enough bytes yet" is simply an empty iterator.
//!
//! The layers, each in its own module:
//! - `scan` finds line endings (CR, LF, CRLF — also a CRLF split across two chunks);
//! - this module cuts chunks into lines, strips the BOM, enforces the limits and keeps a
//!   line that spans chunks;
//! - `fields` interprets a line (`data`, `event`, `id`, `retry`, comments) and
//!   dispatches events on blank lines;
//! - `fast` takes the commonest shapes (one-line events, small blocks, runs of `data:`
//!   lines) in one step when they lie whole in a chunk, and leaves the rest to the
//!   general path.
//!
//! Values that lie within one chunk are handed out as zero-copy slices of that chunk
//! (or inline, when short). A line split over chunks is copied once, into a line
//! buffer that its values are then sliced from; only data of several `data:` lines is
//! joined into a new string. A short block that a small chunk cuts is carried whole
//! into the next chunk instead, so that it too is read in one step.
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

mod fast;
mod fields;
mod held;
mod scan;

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::ops::Range;

use bytes::Bytes;

use crate::Utf8Bytes;
use fields::Fields;
use held::HeldLine;

/// The default for [`Parser::with_max_line_len`]: 16 MiB.
pub const DEFAULT_MAX_LINE_LEN: usize = 16 * 1024 * 1024;
/// The default for [`Parser::with_max_event_size`]: 16 MiB.
pub const DEFAULT_MAX_EVENT_SIZE: usize = 16 * 1024 * 1024;

/// What parsing on yields: a frame, an error, or nothing until more is fed.
type Parsed = Option<Result<Frame, ParseError>>;

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
/// to, reports this once, and goes on with the next event. The dropped block's `id:`
/// still becomes the last event id (its blank line dispatches nothing, as for a block
/// without data). An over-long line that the spec would ignore anyway — a comment,
/// `retry`, an unknown field — is skipped without an error and costs no event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// A line (without its line ending) grew longer than the limit.
    #[error("line longer than {limit} bytes")]
    LineTooLong {
        /// The limit in force, in bytes.
        limit: usize,
    },
    /// An event's data grew larger than the limit. This is reported as soon as a
    /// `data` line takes it over, while that line is still arriving: it is not held
    /// up to the line limit.
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

/// A line that has outgrown every short field (`event`, `id`, a heartbeat) is taken
/// to be one that may span many chunks (see `joined_long_line`).
const LONG_LINE: usize = 16;

/// The largest chunk that the carried end of the previous one (see `carry`) is
/// joined with.
const JOIN_MAX: usize = 1024;

const BOM: &[u8; 3] = b"\xEF\xBB\xBF";

/// The streaming parser. See the [module docs](self) for an example.
///
/// Parsing is lazy: [`feed`](Parser::feed) only queues the chunk, and each call of
/// [`next`](Iterator::next) parses just far enough to return one frame.
#[derive(Debug)]
pub struct Parser {
    fields: Fields,
    /// The chunk being parsed.
    cur: Cursor,
    /// Chunks fed but not reached yet.
    queued: VecDeque<Bytes>,
    /// Frames of a stream that [`finish`](Parser::finish) parsed before ending it.
    backlog: VecDeque<Result<Frame, ParseError>>,
    /// The start of a line that continues in a later chunk.
    partial: HeldLine,
    /// The end of the previous chunk, not parsed yet: a short block that it cut
    /// (see `fast::block_event`). It is put in front of the next chunk.
    carry: Vec<u8>,
    /// Dropping bytes up to the next line ending (the line went over the limit).
    skipping_line: bool,
    /// The previous chunk ended in CR: an LF at the start of the next one is its pair.
    pending_cr: bool,
    bom: Bom,
    limits: Limits,
}

/// Where parsing stands in the current chunk.
#[derive(Debug, Default)]
struct Cursor {
    bytes: Bytes,
    /// The start of the next line.
    start: usize,
    scanner: scan::Scanner,
    /// Where an LF would complete the CRLF ended by the previous line.
    crlf_at: usize,
    /// No block that starts at or after this offset ends in the chunk (the fast path
    /// found no blank line after it), so the fast path need not look again.
    unended_from: usize,
    /// A span of the chunk known to be UTF-8, checked once when first needed.
    utf8: Option<Range<usize>>,
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
            cur: Cursor::default(),
            queued: VecDeque::new(),
            backlog: VecDeque::new(),
            partial: HeldLine::new(),
            carry: Vec::new(),
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
    /// Larger events are [`ParseError::EventTooLarge`]. The bytes are counted as they
    /// arrive, before invalid UTF-8 is replaced: a U+FFFD that stands for one bad byte
    /// counts as one (the data handed out is at most three times the limit).
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
    /// `Last-Event-ID` (when it is not empty). Frames not yet taken with
    /// [`next`](Iterator::next) have not been dispatched.
    pub fn last_event_id(&self) -> &Utf8Bytes {
        self.fields.last_event_id()
    }

    /// Whether the stream has set the last event id (with an `id:` field, at a
    /// dispatch) since the parser was made, across [`finish`](Parser::finish): the
    /// server does ids, so a request can resume. An id given with
    /// [`with_last_event_id`](Parser::with_last_event_id) does not count.
    pub(crate) fn stream_set_an_id(&self) -> bool {
        self.fields.dispatched_an_id()
    }

    /// The latest valid `retry:` value seen, in milliseconds.
    pub fn retry(&self) -> Option<u64> {
        self.fields.retry()
    }

    /// Add a chunk of the stream. Complete frames become available from
    /// [`next`](Iterator::next); an unfinished line waits for the next chunk.
    ///
    /// Parsing happens as frames are taken, so the memory bound of the limits holds
    /// for the usual loop — feed a chunk, drain the frames — and a caller that feeds
    /// without draining holds what it fed.
    pub fn feed(&mut self, chunk: Bytes) {
        if chunk.is_empty() {
            return;
        }
        if self.cur.start < self.cur.bytes.len() || !self.queued.is_empty() {
            self.queued.push_back(chunk);
        } else if !self.joined_long_line(&chunk) {
            self.begin(chunk);
        }
    }

    /// A chunk in the middle of a long line (a large event dripping in) that ends no
    /// line joins the line at once, or is dropped if the line is being skipped: it
    /// never becomes the current chunk. Returns false, having done nothing, for any
    /// other chunk, and when the line would go over the limit (that is reported by
    /// the general path, as a frame).
    fn joined_long_line(&mut self, chunk: &[u8]) -> bool {
        // A line that is short, or short beside the chunk, is most likely ended by
        // it: the search would be wasted (an LLM token event held over 1 KiB chunks
        // is, every chunk).
        if !(self.skipping_line || self.partial.len() >= LONG_LINE.max(chunk.len() / 4))
            || self.pending_cr
            || !matches!(self.bom, Bom::Done)
            || scan::has_line_end(chunk)
        {
            return false;
        }
        if self.skipping_line {
            return true;
        }
        let len = self.partial.len() + chunk.len();
        if len > self.limits.max_line_len
            || held_data_overflows(&self.partial, len, &self.fields, &self.limits)
        {
            return false;
        }
        self.partial.push_checked(chunk);
        true
    }

    /// Add a borrowed chunk (copied once into a [`Bytes`]).
    pub fn feed_slice(&mut self, chunk: &[u8]) {
        self.feed(Bytes::copy_from_slice(chunk));
    }

    /// The stream has ended (EOF, or the connection dropped). Everything fed is
    /// parsed; what was not dispatched is discarded, as the spec requires; and the
    /// parser is ready for a new stream (a reconnection): the last event id and
    /// `retry` are kept, and a BOM is allowed again. Frames not yet taken stay
    /// available from [`next`](Iterator::next).
    pub fn finish(&mut self) -> StreamEnd {
        loop {
            while let Some(frame) = self.parse_next() {
                self.backlog.push_back(frame);
            }
            if !fast::ENABLED || self.carry.is_empty() {
                break;
            }
            // The carried block never ends: it is read line by line (it is not carried
            // again: it starts the chunk).
            let carried = Bytes::from(core::mem::take(&mut self.carry));
            self.begin(carried);
        }
        // Bytes of a BOM still held back are an unterminated line (U+FFFD) too.
        let held_bom = matches!(self.bom, Bom::Matching(seen) if seen > 0);
        let truncated =
            held_bom || !self.partial.is_empty() || self.skipping_line || self.fields.pending();
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

    /// Make `chunk` the current one: past a BOM at the start of the stream, and
    /// past the LF of a CRLF that the previous chunk split.
    fn begin(&mut self, chunk: Bytes) {
        // (Only the fast paths carry: in the browser build this is all left out.)
        let chunk = match !fast::ENABLED || self.carry.is_empty() {
            true => chunk,
            // A small chunk is copied after the carried bytes; a large one is not worth
            // copying, so the carried bytes are parsed first, on their own.
            false if chunk.len() <= JOIN_MAX => {
                let mut joined = Vec::with_capacity(self.carry.len() + chunk.len());
                joined.extend_from_slice(&self.carry);
                joined.extend_from_slice(&chunk);
                self.carry.clear();
                Bytes::from(joined)
            }
            false => {
                self.queued.push_front(chunk);
                Bytes::from(core::mem::take(&mut self.carry))
            }
        };
        let mut start = match self.bom {
            Bom::Done => 0,
            Bom::Matching(_) => self.skip_bom(&chunk),
        };
        if self.pending_cr && start < chunk.len() {
            self.pending_cr = false;
            if chunk[start] == b'\n' {
                start += 1;
            }
        }
        self.cur = Cursor {
            bytes: chunk,
            start,
            scanner: scan::Scanner::at(start),
            crlf_at: usize::MAX,
            unended_from: usize::MAX,
            utf8: None,
        };
    }

    /// Parse until one frame is complete, or everything fed is used up.
    fn parse_next(&mut self) -> Parsed {
        let mut out = None;
        self.parse_into(&mut out);
        out
    }

    /// `parse_next`, writing the frame into `out` (which is `None`): the fast paths
    /// build their events there, in the caller's frame (see `fast_event`).
    fn parse_into(&mut self, out: &mut Parsed) {
        if self.cur.start >= self.cur.bytes.len() && self.queued.is_empty() {
            // Nothing to parse (the common case after `joined_long_line`).
            if !self.cur.bytes.is_empty() {
                self.release_chunk();
            }
            return;
        }
        loop {
            if self.fast_event(out) {
                return;
            }
            let cur = &mut self.cur;
            let bytes: &[u8] = &cur.bytes;
            let Some(end) = cur.scanner.next(bytes) else {
                // The chunk is used up: keep its unfinished line, move on.
                let rest = bytes.len().saturating_sub(cur.start);
                let overflow = self.keep_partial_of_current(rest);
                self.cur.start = self.cur.bytes.len();
                if overflow.is_some() {
                    *out = overflow;
                    return;
                }
                let Some(next) = self.queued.pop_front() else {
                    self.release_chunk();
                    return;
                };
                self.begin(next);
                continue;
            };
            let start = cur.start;
            cur.start = end + 1;
            if bytes[end] == b'\r' {
                if end + 1 == bytes.len() {
                    self.pending_cr = true;
                } else {
                    cur.crlf_at = end + 1;
                }
            } else if end == cur.crlf_at {
                continue;
            }
            let line = &bytes[start..end];
            let data_line = line.starts_with(b"data:");
            if self.skipping_line {
                self.skipping_line = false;
                continue;
            }
            let frame = if self.partial.is_empty() {
                if line.len() > self.limits.max_line_len {
                    line_too_long(&mut self.fields, &self.limits, line, &[])
                } else {
                    let chunk = Chunk {
                        utf8: known_utf8(&mut cur.utf8, bytes, start),
                        bytes: &cur.bytes,
                    };
                    self.fields.line(line, &chunk, &self.limits)
                }
            } else if self.partial.len() + line.len() > self.limits.max_line_len {
                let frame = line_too_long(&mut self.fields, &self.limits, &self.partial, line);
                self.clear_partial();
                frame
            } else {
                let utf8 = held_rest_is_utf8(&self.partial, &mut cur.utf8, bytes, start, end);
                let joined = fast::ENABLED
                    .then(|| {
                        held_data_line(
                            &mut self.partial,
                            &mut self.fields,
                            &self.limits,
                            line,
                            utf8,
                        )
                    })
                    .flatten();
                match joined {
                    // (Not a frame: a small result, as moving a just-built frame stalls
                    // the CPU's store forwarding; see `fields::store`.)
                    Some(joined) => joined.err().map(Err),
                    None => {
                        let line = self.partial.take(line);
                        self.fields
                            .line(&line, &Chunk::held(&line, utf8), &self.limits)
                    }
                }
            };
            if frame.is_some() {
                *out = frame;
                return;
            }
            if data_line {
                self.more_data_lines();
            }
        }
    }

    /// Lets go of the used-up chunk, and copies the last event id out of it, so that
    /// a parser waiting for more holds no part of it: for the client, the chunk is a
    /// slice of the connection's read buffer, which would otherwise stay pinned (and
    /// make hyper allocate a new one) for as long as the stream idles.
    fn release_chunk(&mut self) {
        self.fields.detach_last_id(&self.cur.bytes);
        self.cur = Cursor::default();
    }

    /// Returns the BOM's length when the chunk starts with (the rest of) one.
    fn skip_bom(&mut self, bytes: &[u8]) -> usize {
        let Bom::Matching(mut seen) = self.bom else {
            return 0;
        };
        let mut pos = 0;
        while usize::from(seen) < BOM.len() {
            let Some(&b) = bytes.get(pos) else {
                // The chunk ended while the BOM might still be arriving.
                self.bom = Bom::Matching(seen);
                return pos;
            };
            if b != BOM[usize::from(seen)] {
                // Not a BOM after all: the bytes held back start the first line.
                self.partial.push(&BOM[..usize::from(seen)], false);
                break;
            }
            seen += 1;
            pos += 1;
        }
        self.bom = Bom::Done;
        pos
    }

    /// Keep the last `len` bytes of the current chunk as the start of a line.
    fn keep_partial_of_current(&mut self, len: usize) -> Option<Result<Frame, ParseError>> {
        if self.skipping_line || len == 0 {
            return None;
        }
        let bytes = &self.cur.bytes;
        let from = bytes.len() - len;
        let rest = &bytes[from..];
        if self.partial.len() + len > self.limits.max_line_len {
            let frame = line_too_long(&mut self.fields, &self.limits, &self.partial, rest);
            self.clear_partial();
            self.skipping_line = true;
            return frame;
        }
        // Most often the chunk's span was checked for the lines before: free.
        let utf8 = held_rest_is_utf8(&self.partial, &mut self.cur.utf8, bytes, from, bytes.len());
        self.partial.push(rest, utf8);
        if held_data_overflows(
            &self.partial,
            self.partial.len(),
            &self.fields,
            &self.limits,
        ) {
            return Some(Err(self.cut_held_data_line()));
        }
        None
    }

    /// The held `data:` line took its event over the size limit: the rest of the
    /// line is skipped, and the event dropped.
    #[cold]
    #[inline(never)]
    fn cut_held_data_line(&mut self) -> ParseError {
        self.clear_partial();
        self.skipping_line = true;
        self.fields.data_overflowed(&self.limits)
    }

    fn clear_partial(&mut self) {
        self.partial.clear();
    }
}

/// A `data:` line held in the line buffer, ended by `rest`, that joins the data of
/// its block: appended from the buffer and `rest`, without joining the two first;
/// the buffer is then reused as it is. `None`, with nothing changed, for any other
/// held line.
fn held_data_line(
    partial: &mut HeldLine,
    fields: &mut Fields,
    limits: &Limits,
    rest: &[u8],
    utf8: bool,
) -> Option<Result<(), ParseError>> {
    let held = partial.strip_prefix(b"data:")?;
    // The one space the value loses may be the first byte of `rest`.
    let (head, tail) = match held {
        [] => (held, fields::strip_one_space(rest)),
        _ => (fields::strip_one_space(held), rest),
    };
    let joined = fields.push_held_data(head, tail, utf8, limits)?;
    partial.clear();
    Some(joined)
}

/// Whether `chunk[start..end]`, which goes on the line held in `partial` (its end,
/// or the chunk's tail when the line goes on further), is known to be UTF-8 by
/// itself (`known` is the chunk's span, see `known_utf8`). Only asked while the held
/// bytes are: then `start` begins a character, and the chunk's span is checked from
/// there (once: the lines after this one use it too).
#[inline]
fn held_rest_is_utf8(
    partial: &HeldLine,
    known: &mut Option<Range<usize>>,
    chunk: &[u8],
    start: usize,
    end: usize,
) -> bool {
    partial.is_utf8() && {
        let span = known_utf8(known, chunk, start);
        span.start <= start && end <= span.end
    }
}

/// A line went over the limit; it starts with `first` then `then`. A line the
/// spec ignores whatever it holds (a comment, `retry`, an unknown field) is just
/// skipped; a `data`, `event` or `id` line costs its event, and is reported. A
/// `data` line that took the event over its size limit before it reached the line
/// limit is reported as that (see `held_data_overflows`).
#[cold]
fn line_too_long(
    fields: &mut Fields,
    limits: &Limits,
    first: &[u8],
    then: &[u8],
) -> Option<Result<Frame, ParseError>> {
    // Judge by the same bytes however the line was chunked: an over-long line has
    // at least `limit + 1` of them.
    let mut head = [0u8; 6];
    let len = head.len().min(limits.max_line_len + 1);
    for (slot, &b) in head[..len].iter_mut().zip(first.iter().chain(then)) {
        *slot = b;
    }
    if fields::is_ignored_whatever_follows(&head[..len]) {
        return None;
    }
    if data_value_len(&head[..len], limits.max_line_len)
        .is_some_and(|value_len| fields.data_would_overflow(value_len, limits))
    {
        return Some(Err(fields.data_overflowed(limits)));
    }
    fields.drop_event();
    Some(Err(ParseError::LineTooLong {
        limit: limits.max_line_len,
    }))
}

/// The length of the value of a `data:` line whose first `len` bytes are known
/// (`head` is the first six of them, or all if fewer): what the line adds to its
/// event's data so far. `None` when those bytes do not start a `data:` line.
fn data_value_len(head: &[u8], len: usize) -> Option<usize> {
    if len < 5 || !head.starts_with(b"data:") {
        return None;
    }
    let space = len > 5 && head.get(5) == Some(&b' ');
    Some(len - 5 - usize::from(space))
}

/// Whether the line held in `partial`, grown to `len` bytes (and going on in a later
/// chunk), is a `data:` line that has already taken its event over the size limit.
/// It is then cut off there rather than held up to the line limit: what a line adds
/// to the data only grows with it, so the event is lost whatever follows, and memory
/// stays bounded by the (usually much smaller) event limit. The same line whole in
/// one chunk is reported the same (see `line_too_long`), so chunking changes nothing.
#[inline(always)]
fn held_data_overflows(partial: &[u8], len: usize, fields: &Fields, limits: &Limits) -> bool {
    // The value is shorter than the line by `data:` at least: most lines are nowhere
    // near the limit, and this is asked for every chunk of a long line.
    len > fields.data_room(limits).saturating_add(5)
        && held_data_line_overflows(partial, len, fields, limits)
}

#[cold]
#[inline(never)]
fn held_data_line_overflows(partial: &[u8], len: usize, fields: &Fields, limits: &Limits) -> bool {
    len <= limits.max_line_len
        && data_value_len(&partial[..partial.len().min(6)], len)
            .is_some_and(|value_len| fields.data_would_overflow(value_len, limits))
}

/// A chunk that lines are sliced out of, and the part of it known to be UTF-8
/// (so values inside it need no check of their own).
pub(crate) struct Chunk<'a> {
    bytes: &'a Bytes,
    utf8: Range<usize>,
}

impl<'a> Chunk<'a> {
    /// A line completed in the line buffer: known to be UTF-8 as a whole (`utf8`,
    /// see `held_rest_is_utf8`), or else checked now.
    fn held(line: &'a Bytes, utf8: bool) -> Self {
        Chunk {
            utf8: match utf8 {
                true => 0..line.len(),
                false => utf8_span(line, 0),
            },
            bytes: line,
        }
    }

    /// `line[start..]` as text, for a line completed in the line buffer that is
    /// wanted for this one value: `line` is moved into it, not sliced (see
    /// `Utf8Bytes::from_owned_tail_unchecked`). `utf8` as for [`Chunk::held`].
    #[inline(always)]
    fn held_tail(mut line: Bytes, utf8: bool, start: usize) -> Utf8Bytes {
        if utf8 {
            // SAFETY: `line` is UTF-8 as a whole (`utf8`), and `start` follows an
            // ASCII byte (`data:` or the space after it), so its tail is too.
            return unsafe { Utf8Bytes::from_owned_tail_unchecked(line, start) };
        }
        bytes::Buf::advance(&mut line, start);
        Utf8Bytes::from_bytes_lossy(line)
    }

    /// Where `value`, a subslice of this chunk, lies in it, and whether that is
    /// inside the span known to be UTF-8 (so, cut at ASCII bytes — line ends, `:`,
    /// space — it is UTF-8 itself).
    #[inline(always)]
    fn locate(&self, value: &[u8]) -> (Range<usize>, bool) {
        let start = value.as_ptr() as usize - self.bytes.as_ptr() as usize;
        let end = start + value.len();
        let known = self.utf8.start <= start && end <= self.utf8.end;
        (start..end, known)
    }

    /// `value`, a subslice of this chunk, as `&str` when it lies in the span known to
    /// be UTF-8.
    #[inline(always)]
    fn as_known_utf8<'v>(&self, value: &'v [u8]) -> Option<&'v str> {
        // SAFETY: see `locate`.
        self.locate(value)
            .1
            .then(|| unsafe { core::str::from_utf8_unchecked(value) })
    }

    /// `value`, a subslice of this chunk, as text: zero-copy, checked only when it
    /// lies outside the span already known to be UTF-8.
    #[inline(always)]
    fn text(&self, value: &[u8]) -> Utf8Bytes {
        match self.locate(value) {
            // SAFETY: see `locate`.
            (range, true) => unsafe {
                Utf8Bytes::from_chunk_range_unchecked(self.bytes, range.start, range.end)
            },
            (range, false) => Utf8Bytes::from_bytes_lossy(self.bytes.slice(range)),
        }
    }
}

/// Whether `bytes` is UTF-8: with SIMD natively (std's check is a third of the
/// parse of an LLM stream), with std's in the browser build (see `fast`).
#[inline]
fn is_utf8(bytes: &[u8]) -> bool {
    // A short ASCII slice (a tiny event, a small chunk) is checked faster by std's
    // ASCII test than SIMD validation can be set up.
    if bytes.len() < SIMD_UTF8_MIN && bytes.is_ascii() {
        return true;
    }
    #[cfg(not(target_family = "wasm"))]
    let valid = simdutf8::basic::from_utf8(bytes).is_ok();
    #[cfg(target_family = "wasm")]
    let valid = core::str::from_utf8(bytes).is_ok();
    valid
}

/// See `is_utf8`.
const SIMD_UTF8_MIN: usize = 128;

/// The span of `chunk` known to be UTF-8, `*known`, or if that is not known yet,
/// the span from `from` that is.
#[inline(always)]
fn known_utf8(known: &mut Option<Range<usize>>, chunk: &[u8], from: usize) -> Range<usize> {
    match known {
        Some(span) => span.clone(),
        None => check_utf8(known, chunk, from),
    }
}

/// See `known_utf8`: once per chunk, so kept out of the callers' loops.
#[inline(never)]
fn check_utf8(known: &mut Option<Range<usize>>, chunk: &[u8], from: usize) -> Range<usize> {
    known.insert(utf8_span(chunk, from)).clone()
}

/// The longest UTF-8 prefix of `bytes[from..]`, as a range of `bytes`.
fn utf8_span(bytes: &[u8], from: usize) -> Range<usize> {
    let rest = &bytes[from..];
    if is_utf8(rest) {
        return from..bytes.len();
    }
    // Invalid bytes are rare: only now find where they start.
    let valid = match core::str::from_utf8(rest) {
        Ok(_) => rest.len(),
        Err(e) => e.valid_up_to(),
    };
    from..from + valid
}

impl Iterator for Parser {
    type Item = Result<Frame, ParseError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        // One local, returned from every path: it is the caller's own slot, which
        // the fast paths write their events into.
        let mut out = self.backlog.pop_front();
        if out.is_none() {
            self.parse_into(&mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn frames(parser: &mut Parser, chunks: &[&[u8]]) -> Vec<Result<Frame, ParseError>> {
        let mut out = Vec::new();
        for chunk in chunks {
            parser.feed_slice(chunk);
            out.extend(&mut *parser);
        }
        out
    }

    /// Held lines are not checked again once complete (see `held`): what is known
    /// of each piece must add up, whatever the chunking — a character split between
    /// chunks, invalid bytes before or after the split, a line held over many chunks.
    #[test]
    fn held_lines_decode_as_the_spec_says_however_they_are_split() {
        let long = "x".repeat(40);
        let l = long.as_bytes();
        let cases: [(Vec<u8>, Vec<String>); 4] = [
            (
                format!("data: {long}caf\u{e9} \u{65e5}\ndata: b\u{1f600}\n\n").into_bytes(),
                vec![format!("{long}caf\u{e9} \u{65e5}\nb\u{1f600}|")],
            ),
            (
                [&b"data: "[..], l, b"\xff\xe6\x97\n\n"].concat(),
                vec![format!("{long}\u{fffd}\u{fffd}|")],
            ),
            (
                [&b"data: a\ndata: "[..], l, b"\xe6\x97\xa5\xe6\n\n"].concat(),
                vec![format!("a\n{long}\u{65e5}\u{fffd}|")],
            ),
            (
                [&b"id: "[..], l, b"\xc3\xa9\ndata: \xc3\n\n"].concat(),
                vec![format!("\u{fffd}|{long}\u{e9}")],
            ),
        ];
        for (stream, expected) in &cases {
            for size in [1, 2, 3, 5, 7, 16, 17, 31, 64, stream.len()] {
                for skew in 0..size.min(4) {
                    let mut parts = vec![&stream[..skew]];
                    parts.extend(stream[skew..].chunks(size));
                    let mut parser = Parser::new();
                    let got: Vec<String> = frames(&mut parser, &parts)
                        .into_iter()
                        .map(|f| match f {
                            Ok(Frame::Event(e)) => format!("{}|{}", e.data, e.last_event_id),
                            other => panic!("{other:?}"),
                        })
                        .collect();
                    assert_eq!(&got, expected, "size {size}, skew {skew}");
                }
            }
        }
    }

    #[test]
    fn an_over_long_comment_or_unknown_line_costs_no_event() {
        let stream: &[u8] =
            b": a very long comment\nunknown-field: long too\nretry: 00000000001\ndata: x\n\n";
        for split in 0..stream.len() {
            let mut parser = Parser::new().with_max_line_len(8);
            let out = frames(&mut parser, &[&stream[..split], &stream[split..]]);
            assert_eq!(out.len(), 1, "split at {split}: {out:?}");
            assert!(matches!(&out[0], Ok(Frame::Event(e)) if e.data == "x"));
        }
    }

    #[test]
    fn an_over_long_data_line_drops_its_event_only() {
        let stream: &[u8] = b"data: 0123456789\ndata: y\n\ndata: z\n\n";
        let mut parser = Parser::new().with_max_line_len(8);
        let out = frames(&mut parser, &[stream]);
        assert_eq!(out[0], Err(ParseError::LineTooLong { limit: 8 }));
        assert!(matches!(&out[1], Ok(Frame::Event(e)) if e.data == "z"));
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn a_run_of_data_lines_keeps_every_rule_of_the_general_path() {
        // Mixed line endings, a non-UTF-8 byte and another field inside the run.
        let stream: &[u8] = b"data: a\ndata:b\r\ndata:  c\rdata: \xFF\nid: 7\ndata: d\n\n";
        for split in 0..stream.len() {
            let mut parser = Parser::new();
            let out = frames(&mut parser, &[&stream[..split], &stream[split..]]);
            let [Ok(Frame::Event(event))] = &out[..] else {
                panic!("split at {split}: {out:?}");
            };
            assert_eq!(event.data, "a\nb\n c\n\u{FFFD}\nd", "split at {split}");
            assert_eq!(event.last_event_id, "7");
        }
        // The event size limit is hit in the middle of a run: reported once, the
        // event dropped, the next one whole.
        let stream: &[u8] = b"data: 1234\ndata: 5678\ndata: 9\n\ndata: ok\n\n";
        for split in 0..stream.len() {
            let mut parser = Parser::new().with_max_event_size(9);
            let out = frames(&mut parser, &[&stream[..split], &stream[split..]]);
            assert_eq!(out.len(), 2, "split at {split}: {out:?}");
            assert_eq!(out[0], Err(ParseError::EventTooLarge { limit: 9 }));
            assert!(matches!(&out[1], Ok(Frame::Event(e)) if e.data == "ok"));
        }
    }

    #[test]
    fn a_parser_waiting_for_more_holds_no_part_of_the_chunk() {
        // The client's chunks are slices of the connection's read buffer: an idle
        // stream must not pin it, also when the last id is too long to be inline.
        let id = "0123456789abcdef0123456789abcdef";
        let chunk = Bytes::from(alloc::format!(
            "id: {id}\ndata: {}\n\ndata: par",
            "x".repeat(40)
        ));
        let mut parser = Parser::new();
        parser.feed(chunk.clone());
        let events: Vec<_> = (&mut parser).collect();
        assert_eq!(events.len(), 1);
        drop(events);
        assert!(chunk.is_unique(), "the parser still refers to the chunk");
        assert_eq!(parser.last_event_id(), id);
        parser.feed_slice(b"tial\n\n");
        let Some(Ok(Frame::Event(event))) = parser.next() else {
            panic!("the partial line was lost");
        };
        assert_eq!(event.data, "partial");
        assert_eq!(event.last_event_id, id);
    }

    #[test]
    fn a_block_cut_by_a_chunk_end_is_the_same_read_whole_or_carried() {
        // The chunk ends inside the second block, which is carried into the next
        // chunk (small or large), or ends the stream there.
        let stream: &[u8] = b"id: 1\ndata: a\n\nevent: tick\nid: 2\n: hi\ndata: b\n\nretry: 5\n\n";
        let mut whole = Parser::new();
        let expected = frames(&mut whole, &[stream]);
        assert_eq!(expected.len(), 3);
        let large = [stream, &[b':'; 2000][..], b"\n\n"].concat();
        for split in 1..stream.len() {
            let (head, tail) = stream.split_at(split);
            let mut parser = Parser::new();
            assert_eq!(
                frames(&mut parser, &[head, tail]),
                expected,
                "split at {split}"
            );
            let mut parser = Parser::new();
            assert_eq!(frames(&mut parser, &[head, &large[split..]]), expected);
            let mut parser = Parser::new();
            let before_end: Vec<_> = frames(&mut parser, &[head]);
            let clean = parser.finish() == StreamEnd::Clean;
            let at_end: Vec<_> = (&mut parser).collect();
            let seen = [before_end, at_end].concat();
            assert_eq!(seen, expected[..seen.len()], "split at {split}");
            // Only a blank line, or the line of a block that holds `retry` alone, ends
            // everything sent.
            let ended = head.ends_with(b"\n\n") || head.ends_with(b"retry: 5\n");
            assert_eq!(clean, ended, "split at {split}");
            let id = match seen.len() {
                0 => "",
                1 => "1",
                _ => "2",
            };
            assert_eq!(parser.last_event_id(), id, "split at {split}");
        }
    }

    #[test]
    fn the_rest_of_a_skipped_line_is_not_an_event() {
        // Found by proptest: the `data:` fast path must not start inside a line that is
        // being skipped for its length.
        let stream: &[u8] = b"\0event: :000:iddata::data: \n\n";
        let mut whole = Parser::new().with_max_line_len(6);
        assert!(frames(&mut whole, &[stream]).is_empty());
        let mut split = Parser::new().with_max_line_len(6);
        assert!(frames(&mut split, &[&stream[..22], &stream[22..]]).is_empty());
        assert_eq!(split.finish(), StreamEnd::Clean);
    }
}
