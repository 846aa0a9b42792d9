//! Field interpretation: one complete line at a time, the buffers of the block being
//! read, and dispatch on a blank line (WHATWG "Interpreting an event stream" and
//! "Dispatch the event").

use alloc::string::String;
use core::mem;

use super::{Chunk, Event, Frame, Limits, ParseError, is_utf8};
use crate::Utf8Bytes;

pub(super) const MESSAGE: Utf8Bytes = Utf8Bytes::from_static("message");

/// The spec's data buffer, without the trailing LF it would strip at dispatch.
#[derive(Debug, Default)]
enum Data {
    /// No `data` field yet: a blank line dispatches nothing.
    #[default]
    None,
    /// Exactly one `data` line: kept as a zero-copy slice where it can be.
    One(Utf8Bytes),
    /// Several lines, joined with LF.
    Many(String),
}

#[derive(Debug)]
pub(super) struct Fields {
    data: Data,
    data_len: usize,
    /// `None` stands for the empty event type buffer (dispatched as `message`).
    event_type: Option<Utf8Bytes>,
    /// The spec's "last event ID buffer" where this block set it with `id:`; else the
    /// buffer equals `last_id` (it is never reset, only overwritten).
    block_id: Option<Utf8Bytes>,
    /// The event source's "last event ID string", set from the buffer at dispatch.
    last_id: Utf8Bytes,
    /// The stream has set `last_id` at a dispatch (with `id:`), ever: the server
    /// does ids (a preset id, see `set_last_event_id`, is not the server's).
    dispatched_an_id: bool,
    retry: Option<u64>,
    /// The block went over a limit: it is dropped at its blank line.
    dropping: bool,
}

impl Fields {
    pub(super) fn new() -> Self {
        Fields {
            data: Data::None,
            data_len: 0,
            event_type: None,
            block_id: None,
            last_id: Utf8Bytes::new(),
            dispatched_an_id: false,
            retry: None,
            dropping: false,
        }
    }

    pub(super) fn last_event_id(&self) -> &Utf8Bytes {
        &self.last_id
    }

    pub(super) fn dispatched_an_id(&self) -> bool {
        self.dispatched_an_id
    }

    pub(super) fn set_last_event_id(&mut self, id: Utf8Bytes) {
        self.block_id = None;
        self.last_id = id;
    }

    /// Copies the last event id if it is a slice of `chunk` (see
    /// `Parser::release_chunk`).
    pub(super) fn detach_last_id(&mut self, chunk: &[u8]) {
        let id = self.last_id.as_bytes();
        if !id.is_empty() && chunk.as_ptr_range().contains(&id.as_ptr()) {
            self.last_id = Utf8Bytes::from(self.last_id.as_str());
        }
    }

    pub(super) fn retry(&self) -> Option<u64> {
        self.retry
    }

    /// Something in the current block would be lost if the stream ended now.
    pub(super) fn pending(&self) -> bool {
        !matches!(self.data, Data::None)
            || self.event_type.is_some()
            || self.block_id.is_some()
            || self.dropping
    }

    /// No field of a block has been read: the next event starts from scratch.
    pub(super) fn is_idle(&self) -> bool {
        self.has_no_data() && self.event_type.is_none() && self.block_id.is_none()
    }

    /// No `data` line has been read in this block (nor was it dropped): only its
    /// `event` and `id` may be set.
    pub(super) fn has_no_data(&self) -> bool {
        matches!(self.data, Data::None) && !self.dropping
    }

    /// The event type and id the block has set so far, taken out of the buffers
    /// (for the fast path to finish the block).
    #[inline(always)]
    pub(super) fn take_type_and_id(&mut self) -> (Option<Utf8Bytes>, Option<Utf8Bytes>) {
        (self.event_type.take(), self.block_id.take())
    }

    /// Dispatch's part for the id: the block's `id` (if it set one) becomes the
    /// last event id, which is returned for the event. The id is cloned from the
    /// value in hand, not read back from `last_id` just after storing it (see
    /// `store`).
    #[inline(always)]
    pub(super) fn settle_id(&mut self, id: Option<Utf8Bytes>) -> Utf8Bytes {
        match id {
            Some(id) => {
                store(&mut self.last_id, id.clone());
                self.dispatched_an_id = true;
                id
            }
            None => self.last_id.clone(),
        }
    }

    /// Dispatch's part for an id the block set, when the caller has its own copy
    /// for the event: it becomes the last event id.
    #[inline(always)]
    pub(super) fn set_dispatched_id(&mut self, id: Utf8Bytes) {
        store(&mut self.last_id, id);
        self.dispatched_an_id = true;
    }

    /// A block that went over a limit is discarded whole, at its blank line.
    pub(super) fn drop_event(&mut self) {
        self.data = Data::None;
        self.data_len = 0;
        self.dropping = true;
    }

    /// EOF: pending data is discarded and the next stream starts from the last event
    /// id that was actually dispatched.
    pub(super) fn end_of_stream(&mut self) {
        self.data = Data::None;
        self.data_len = 0;
        self.event_type = None;
        self.dropping = false;
        self.block_id = None;
    }

    /// Interpret one line (without its line ending). `chunk` is the buffer `line`
    /// lies in, so values can be sliced out of it without copying.
    #[inline]
    pub(super) fn line(
        &mut self,
        line: &[u8],
        chunk: &Chunk<'_>,
        limits: &Limits,
    ) -> Option<Result<Frame, ParseError>> {
        // The common case first: `data:` with a value.
        if let Some(value) = line.strip_prefix(b"data:") {
            return self.push_data(strip_one_space(value), chunk, limits);
        }
        if line.is_empty() {
            return self.dispatch().map(Ok);
        }
        // Every field name the spec knows is at most five bytes long, so a colon
        // further in means a field to ignore: no need to search the whole line.
        let head = &line[..line.len().min(6)];
        let (name, value) = match head.iter().position(|&b| b == b':') {
            Some(0) => {
                return limits
                    .comments
                    .then(|| Ok(Frame::Comment(chunk.text(strip_one_space(&line[1..])))));
            }
            Some(colon) => (&line[..colon], strip_one_space(&line[colon + 1..])),
            // The empty value is sliced from the line so that it lies in the chunk.
            None if line.len() <= 5 => (line, &line[line.len()..]),
            None => return None,
        };
        match name {
            b"data" => self.push_data(value, chunk, limits),
            b"event" => {
                store(
                    &mut self.event_type,
                    (!value.is_empty()).then(|| chunk.text(value)),
                );
                None
            }
            // "If the field value does not contain U+0000 NULL, then set the last event
            // ID buffer to the field value. Otherwise, ignore the field."
            // (A plain loop: ids are short, and a search call costs more than it saves.)
            b"id" if value.iter().all(|&b| b != 0) => {
                store(&mut self.block_id, Some(chunk.text(value)));
                None
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                let ms = value.iter().fold(0u64, |ms, d| {
                    ms.saturating_mul(10).saturating_add(u64::from(d - b'0'))
                });
                self.retry = Some(ms);
                Some(Ok(Frame::Retry(ms)))
            }
            _ => None,
        }
    }

    #[inline]
    fn push_data(
        &mut self,
        value: &[u8],
        chunk: &Chunk<'_>,
        limits: &Limits,
    ) -> Option<Result<Frame, ParseError>> {
        if self.dropping {
            return None;
        }
        let len = self.data_used() + value.len();
        if let Err(too_large) = self.check_size(len, limits) {
            return Some(Err(too_large));
        }
        if matches!(self.data, Data::None) {
            self.data_len = len;
            self.data = Data::One(chunk.text(value));
        } else {
            match chunk.as_known_utf8(value) {
                Some(known) => self.join_data(known, len),
                None => self.join_parts(value, &[], false, len),
            }
        }
        None
    }

    /// A `data` line whose start was held in the line buffer (`head`, its value so
    /// far) and whose rest is `tail`, for a block that has data already: both are
    /// appended to the data as they are, without first being joined into one line.
    /// Returns `None`, having done nothing, for a block without data (its first
    /// line is kept as a slice of the line, see `push_data`).
    #[inline]
    pub(super) fn push_held_data(
        &mut self,
        head: &[u8],
        tail: &[u8],
        utf8: bool,
        limits: &Limits,
    ) -> Option<Result<(), ParseError>> {
        if matches!(self.data, Data::None) || self.dropping {
            return None;
        }
        let len = self.data_len + 1 + head.len() + tail.len();
        Some(
            self.check_size(len, limits)
                .map(|()| self.join_parts(head, tail, utf8, len)),
        )
    }

    /// Appends the line `head` + `tail` to data that has a line already; `len` is the
    /// data's new length. `utf8`: the caller knows the line to be UTF-8; else it is
    /// checked here.
    fn join_parts(&mut self, head: &[u8], tail: &[u8], utf8: bool, len: usize) {
        if let Data::One(first) = &self.data {
            let mut joined = String::with_capacity(len.max(64));
            joined.push_str(first);
            self.data = Data::Many(joined);
        }
        let Data::Many(joined) = &mut self.data else {
            // Callers check for data first.
            return;
        };
        self.data_len = len;
        let at = joined.len() + 1;
        // SAFETY: the bytes appended are known to be UTF-8 (`utf8`) or checked just
        // below, before anything else reads the string, and replaced by their lossy
        // decoding if they are not UTF-8.
        let bytes = unsafe { joined.as_mut_vec() };
        bytes.push(b'\n');
        bytes.extend_from_slice(head);
        bytes.extend_from_slice(tail);
        if !utf8 && !is_utf8(&bytes[at..]) {
            let line = bytes.split_off(at);
            joined.push_str(&String::from_utf8_lossy(&line));
        }
    }

    /// The bytes of data a next `data` line's value goes after: the data so far and
    /// the LF that joins it, or nothing for the block's first line.
    #[inline(always)]
    fn data_used(&self) -> usize {
        match self.data {
            Data::None => 0,
            _ => self.data_len + 1,
        }
    }

    /// How long the value of a next `data` line may be within the event size limit.
    #[inline(always)]
    pub(super) fn data_room(&self, limits: &Limits) -> usize {
        limits.max_event_size.saturating_sub(self.data_used())
    }

    /// Whether a `data` line whose value has (at least) `value_len` bytes takes the
    /// block's data over the limit. (Not when the block is being dropped: its data
    /// lines are ignored.)
    pub(super) fn data_would_overflow(&self, value_len: usize, limits: &Limits) -> bool {
        !self.dropping && self.data_used() + value_len > limits.max_event_size
    }

    /// A `data` line went over the event size limit before it ended: the block is
    /// dropped, as when a whole line does.
    pub(super) fn data_overflowed(&mut self, limits: &Limits) -> ParseError {
        self.drop_event();
        ParseError::EventTooLarge {
            limit: limits.max_event_size,
        }
    }

    /// Data of `len` bytes is within the limit; else the event is dropped.
    #[inline]
    fn check_size(&mut self, len: usize, limits: &Limits) -> Result<(), ParseError> {
        if len > limits.max_event_size {
            self.drop_event();
            return Err(ParseError::EventTooLarge {
                limit: limits.max_event_size,
            });
        }
        Ok(())
    }

    /// Appends one more `data` line to a block that already has data, when that
    /// stays within the limits; else it changes nothing and returns false, for
    /// [`Fields::line`] to report. (The parser's loop over a run of `data:` lines.)
    #[inline]
    pub(super) fn push_more_data(&mut self, value: &str, limits: &Limits) -> bool {
        let len = self.data_len + 1 + value.len();
        if matches!(self.data, Data::None) || self.dropping || len > limits.max_event_size {
            return false;
        }
        self.join_data(value, len);
        true
    }

    /// Adds a line to existing data; `len` is the data's new length.
    #[inline]
    fn join_data(&mut self, value: &str, len: usize) {
        self.data_len = len;
        match &mut self.data {
            // A run of `data:` lines comes through here once per line. Only appending
            // into room already there stays inline: the out-of-line rest allocates
            // anyway (once per multi-line event, then amortized growth).
            Data::Many(joined) if joined.capacity() - joined.len() > value.len() => {
                joined.push('\n');
                joined.push_str(value);
            }
            _ => self.join_data_growing(value, len),
        }
    }

    /// `join_data` when the joined data has to be started (from the block's first
    /// line) or grown.
    #[cold]
    #[inline(never)]
    fn join_data_growing(&mut self, value: &str, len: usize) {
        match &mut self.data {
            Data::Many(joined) => {
                joined.push('\n');
                joined.push_str(value);
            }
            Data::One(first) => {
                let mut joined = String::with_capacity(len.max(64));
                joined.push_str(first);
                joined.push('\n');
                joined.push_str(value);
                self.data = Data::Many(joined);
            }
            // Callers check for data first; were it missing, this line would start it.
            Data::None => self.data = Data::One(Utf8Bytes::from(value)),
        }
    }

    fn dispatch(&mut self) -> Option<Frame> {
        let block_id = self.block_id.take();
        let last_event_id = self.settle_id(block_id);
        let event_type = self.event_type.take();
        let data = mem::take(&mut self.data);
        self.data_len = 0;
        if mem::take(&mut self.dropping) {
            return None;
        }
        let data = match data {
            Data::None => return None,
            Data::One(data) => data,
            Data::Many(joined) => Utf8Bytes::from(joined),
        };
        Some(Frame::Event(Event {
            event: event_type.unwrap_or(MESSAGE),
            data,
            last_event_id,
        }))
    }
}

/// Whether a line starting with `head` (its first bytes, up to six) is one the spec
/// ignores, whatever the rest of it: a comment, `retry` (whose value this long cannot
/// matter), or a field with a name the spec does not know.
pub(super) fn is_ignored_whatever_follows(head: &[u8]) -> bool {
    match head.iter().position(|&b| b == b':') {
        Some(0) => true,
        Some(colon) => !matches!(&head[..colon], b"data" | b"event" | b"id"),
        // No colon in six bytes: a name longer than any the spec knows.
        None => head.len() > 5,
    }
}

/// `*slot = value`, written so that `value` goes straight from registers into the
/// slot: a plain assignment builds it on the stack, drops the old value (a call), then
/// copies it over in wider loads than it was stored with — a store-forwarding stall
/// that costs more than parsing the field.
#[inline(always)]
fn store<T>(slot: &mut T, value: T) {
    drop(mem::replace(slot, value));
}

/// "If value starts with a U+0020 SPACE character, remove it from value."
pub(super) fn strip_one_space(value: &[u8]) -> &[u8] {
    value.strip_prefix(b" ").unwrap_or(value)
}
