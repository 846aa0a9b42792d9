//! The fast paths: the shapes most streams are made of, parsed without going
//! through the general line-by-line machinery when they lie whole in the current
//! chunk.
//!
//! - an event that is one `data:` line (LLM token streams are nothing else) is cut
//!   out with one search;
//! - a small block of `event:`, `id:`, one `data:` line and comments (ticks,
//!   presence updates) is read with its fields in locals and becomes an event in
//!   one step;
//! - the body of a large event, a run of `data:` lines, is appended in one loop;
//! - with small chunks: an event of one `data:` line held over chunks is made in one
//!   step when its line ends, and a small block cut by the chunk's end is carried
//!   into the next chunk to be read there whole.
//!
//! In the browser (wasm) they are left out: there the parser is never the
//! bottleneck, and every kilobyte of the module is downloaded (they are about 2 KB
//! gzipped).
//!
//! Each handles only lines ended by LF or CRLF whose text lies in the chunk's
//! known-UTF-8 span, within the limits; at anything else it stops before it has
//! changed anything, and the general path takes over from the same place. So they
//! can only be faster, never different (the differential tests and the fuzz target
//! hold both paths to the reference).

use super::scan::Scanner;
use bytes::BytesMut;

use super::{Chunk, Event, Frame, PARTIAL_KEPT, Parsed, Parser, fields, known_utf8, utf8_span};

/// Whether the fast paths are compiled in (see the module docs).
const ENABLED: bool = !cfg!(target_family = "wasm");

/// The longest end of a chunk that `block_event` carries into the next one: a few
/// small events' worth (ticks, presence updates). Larger blocks are no cheaper read
/// whole than line by line.
const CARRY_MAX: usize = 256;

impl Parser {
    /// The fast paths for a whole event, in turn: true when one wrote an event into
    /// `out` (built there, in place, not moved: moving an event that was just
    /// written stalls the CPU's store forwarding, see `fields::store`).
    #[inline]
    pub(super) fn fast_event(&mut self, out: &mut Parsed) -> bool {
        if !ENABLED {
            return false;
        }
        if !self.partial.is_empty() {
            return self.held_single_line_event(out).is_some();
        }
        self.single_line_event(out).is_some() || self.block_event(out).is_some()
    }

    /// `single_line_event` for small chunks, where the event's `data:` line began in
    /// an earlier chunk and is held in the line buffer: when this chunk ends the line
    /// and the blank line after it, the event is made at once, without the general
    /// path's two line interpretations and dispatch.
    #[inline]
    fn held_single_line_event(&mut self, out: &mut Parsed) -> Option<()> {
        if self.skipping_line || !self.partial.starts_with(b"data:") || !self.fields.is_idle() {
            return None;
        }
        let cur = &mut self.cur;
        let bytes: &[u8] = &cur.bytes;
        let mut scanner = cur.scanner;
        let (end, next) = next_line(&mut scanner, bytes, cur.start)??;
        let (blank, event_end) = next_line(&mut scanner, bytes, next)??;
        let line_len = self.partial.len() + (end - cur.start);
        if blank != next
            || line_len > self.limits.max_line_len
            || line_len - 5 > self.limits.max_event_size
        {
            return None;
        }
        self.partial.extend_from_slice(&bytes[cur.start..end]);
        cur.start = event_end;
        cur.scanner = scanner;
        let line = self.partial.split().freeze();
        if line.len() > PARTIAL_KEPT {
            self.partial = BytesMut::new();
        }
        let data = Chunk {
            utf8: utf8_span(&line, 0),
            bytes: &line,
        }
        .text(fields::strip_one_space(&line[5..]));
        *out = Some(Ok(Frame::Event(Event {
            event: fields::MESSAGE,
            data,
            last_event_id: self.fields.settle_id(None),
        })));
        Some(())
    }

    /// The fast path for the commonest event of all, `data: ...` and a blank line
    /// (LLM token streams are nothing else): when the whole event lies in the current
    /// chunk and no other field is pending, it is cut out in one search, without
    /// going line by line. Anything else is left to the general path.
    #[inline]
    fn single_line_event(&mut self, out: &mut Parsed) -> Option<()> {
        let cur = &mut self.cur;
        let bytes: &[u8] = &cur.bytes;
        let line = bytes.get(cur.start..)?;
        if self.skipping_line
            || !self.partial.is_empty()
            || !line.starts_with(b"data:")
            || !self.fields.is_idle()
        {
            return None;
        }
        let value_end = cur.start + 5 + memchr::memchr2(b'\n', b'\r', &line[5..])?;
        let event_end = value_end
            + match &bytes[value_end..] {
                [b'\n', b'\n', ..] => 2,
                [b'\r', b'\n', b'\n', ..] => 3,
                [b'\r', b'\n', b'\r', b'\n', ..] => 4,
                _ => return None,
            };
        let value = fields::strip_one_space(&bytes[cur.start + 5..value_end]);
        if value_end - cur.start > self.limits.max_line_len
            || value.len() > self.limits.max_event_size
        {
            return None;
        }
        let utf8 = known_utf8(&mut cur.utf8, bytes, cur.start);
        let data = Chunk {
            bytes: &cur.bytes,
            utf8,
        }
        .text(value);
        cur.start = event_end;
        cur.scanner = Scanner::at(event_end);
        *out = Some(Ok(Frame::Event(Event {
            event: fields::MESSAGE,
            data,
            last_event_id: self.fields.settle_id(None),
        })));
        Some(())
    }

    /// Parses the blocks that lie whole in the current chunk and hold only `event`,
    /// `id`, comments (when not reported) and one `data` line, up to the first that
    /// makes an event; a block without data only updates the last event id, as the
    /// spec's dispatch does. Returns `None`, with the rest left to the general path,
    /// at the first block it does not handle.
    #[inline]
    fn block_event(&mut self, out: &mut Parsed) -> Option<()> {
        if self.skipping_line || !self.partial.is_empty() || !self.fields.has_no_data() {
            return None;
        }
        // The general path may have read the first lines of the block (a line split
        // over chunks): this goes on from the `event` and `id` it set.
        let started = !self.fields.is_idle();
        let cur = &mut self.cur;
        let bytes: &[u8] = &cur.bytes;
        if cur.start >= cur.unended_from {
            return None;
        }
        // A block that starts with `data:` is `single_line_event`'s (when that fails,
        // this mostly would too: the block goes on into the next chunk), and a blank
        // line is no block.
        match bytes.get(cur.start) {
            Some(b'e' | b'i' | b':') => {}
            Some(b'd') if started => {}
            _ => return None,
        }
        let utf8 = known_utf8(&mut cur.utf8, bytes, cur.start);
        if cur.start < utf8.start {
            return None;
        }
        loop {
            let mut scanner = cur.scanner;
            let block_start = cur.start;
            let mut start = block_start;
            let (mut event, mut id, mut data) = (None, None, None);
            loop {
                let Some(line) = next_line(&mut scanner, bytes, start) else {
                    cur.unended_from = block_start;
                    // A short block cut by the chunk's end is carried whole into the
                    // next chunk, to be read there in one step, rather than line by
                    // line now and then. Not when the block started the chunk (the
                    // carry of the chunk before, say): each byte is carried at most
                    // once, so one-byte chunks cost no more than they would.
                    let tail = &bytes[block_start..];
                    if block_start > 0 && tail.len() <= CARRY_MAX && self.fields.is_idle() {
                        self.carry.extend_from_slice(tail);
                        cur.start = bytes.len();
                        cur.scanner = Scanner::at(bytes.len());
                    }
                    return None;
                };
                let (end, next) = line?;
                let line = &bytes[start..end];
                if end > utf8.end || line.len() > self.limits.max_line_len {
                    return None;
                }
                start = next;
                match line.first() {
                    // A blank line first is not a block (it may even be the LF of a
                    // CRLF whose CR the general path took).
                    None if end == block_start => return None,
                    None => break,
                    Some(b'd') if data.is_none() => {
                        data = Some(fields::strip_one_space(line.strip_prefix(b"data:")?));
                    }
                    Some(b'e') => {
                        event = Some(fields::strip_one_space(line.strip_prefix(b"event:")?));
                    }
                    Some(b'i') => {
                        let value = fields::strip_one_space(line.strip_prefix(b"id:")?);
                        if value.contains(&0) {
                            return None;
                        }
                        id = Some(value);
                    }
                    Some(b':') if !self.limits.comments => {}
                    _ => return None,
                }
            }
            if data.is_some_and(|data| data.len() > self.limits.max_event_size) {
                return None;
            }
            let chunk = Chunk {
                bytes: &cur.bytes,
                utf8: utf8.clone(),
            };
            cur.start = start;
            cur.scanner = scanner;
            let (held_type, held_id) = match started {
                true => self.fields.take_type_and_id(),
                false => (None, None),
            };
            let id = id.map(|id| chunk.text(id)).or(held_id);
            let Some(data) = data else {
                // "If the data buffer is an empty string, set the data buffer and the
                // event type buffer to the empty string and return" — the id stays.
                self.fields.settle_id(id);
                continue;
            };
            let event = match event {
                Some(event) if !event.is_empty() => chunk.text(event),
                Some(_) => fields::MESSAGE,
                None => held_type.unwrap_or(fields::MESSAGE),
            };
            *out = Some(Ok(Frame::Event(Event {
                event,
                data: chunk.text(data),
                last_event_id: self.fields.settle_id(id),
            })));
            return Some(());
        }
    }

    /// The body of a large event is a run of `data:` lines: after the first, the
    /// rest that lie in the current chunk are appended in one tight loop.
    pub(super) fn more_data_lines(&mut self) {
        if !ENABLED || self.skipping_line || !self.partial.is_empty() {
            return;
        }
        let cur = &mut self.cur;
        let bytes: &[u8] = &cur.bytes;
        let Some(utf8) = cur.utf8.clone() else {
            return;
        };
        let chunk = Chunk {
            bytes: &cur.bytes,
            utf8,
        };
        while bytes[cur.start..].starts_with(b"data:") {
            let mut scanner = cur.scanner;
            let Some(line) = next_line(&mut scanner, bytes, cur.start) else {
                // No line end is left: the general path need not look again.
                cur.scanner = scanner;
                return;
            };
            let Some((end, next)) = line else {
                return;
            };
            if end - cur.start > self.limits.max_line_len {
                return;
            }
            let value = fields::strip_one_space(&bytes[cur.start + 5..end]);
            let Some(value) = chunk.as_known_utf8(value) else {
                return;
            };
            if !self.fields.push_more_data(value, &self.limits) {
                return;
            }
            cur.scanner = scanner;
            cur.start = next;
        }
    }
}

/// The line starting at `start`: where it ends and where the next one starts.
/// `None` when no line end is left in `bytes`; `Some(None)` when the line ends in a
/// lone CR, or in a CR at the end of the chunk (its LF may be in the next), which
/// the fast paths leave to the general one.
#[inline(always)]
fn next_line(scanner: &mut Scanner, bytes: &[u8], start: usize) -> Option<Option<(usize, usize)>> {
    let end = scanner.next(bytes)?;
    debug_assert!(end >= start);
    if bytes[end] == b'\n' {
        return Some(Some((end, end + 1)));
    }
    // A CR: only the CRLF pair, whose LF is the scanner's next line end.
    let crlf = bytes.get(end + 1) == Some(&b'\n') && scanner.next(bytes) == Some(end + 1);
    Some(crlf.then_some((end, end + 2)))
}
