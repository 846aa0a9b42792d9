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
use core::ops::Range;

use super::{Chunk, Event, Frame, Limits, Parsed, Parser, fields, held_rest_is_utf8, known_utf8};

/// Whether the fast paths are compiled in (see the module docs).
pub(super) const ENABLED: bool = !cfg!(target_family = "wasm");

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
        let start = cur.start;
        // The line's end and the blank line after it, found with the scanner in place
        // (see `more_data_lines`).
        let ends = next_line(&mut cur.scanner, bytes, start)
            .flatten()
            .and_then(|(end, next)| {
                let (blank, event_end) = next_line(&mut cur.scanner, bytes, next).flatten()?;
                (blank == next).then_some((end, event_end))
            });
        let line_len = |end| self.partial.len() + (end - start);
        let Some((end, event_end)) = ends.filter(|&(end, _)| {
            line_len(end) <= self.limits.max_line_len
                && line_len(end) - 5 <= self.limits.max_event_size
        }) else {
            cur.scanner = Scanner::at(start);
            return None;
        };
        let utf8 = held_rest_is_utf8(&self.partial, &mut cur.utf8, bytes, start, end);
        let line = self.partial.take(&bytes[start..end]);
        cur.start = event_end;
        let value_start = line.len() - fields::strip_one_space(&line[5..]).len();
        let data = Chunk::held_tail(line, utf8, value_start);
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
        // Where this stops, the general path goes on with its scanner past what the
        // search has seen: the line is not scanned twice.
        let Some(found) = memchr::memchr2(b'\n', b'\r', &line[5..]) else {
            cur.scanner = Scanner::at(bytes.len());
            return None;
        };
        let value_end = cur.start + 5 + found;
        let event_end = value_end
            + match &bytes[value_end..] {
                [b'\n', b'\n', ..] => 2,
                [b'\r', b'\n', b'\n', ..] => 3,
                [b'\r', b'\n', b'\r', b'\n', ..] => 4,
                _ => {
                    cur.scanner = Scanner::at(value_end);
                    return None;
                }
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
            let block_start = cur.start;
            // The scanner is used in place, never copied (see `more_data_lines`); a
            // block left to the general path gets a new one, from its start.
            let block = match read_block(&mut cur.scanner, bytes, block_start, &utf8, &self.limits)
            {
                Ok(block) => block,
                Err(stop) => {
                    cur.scanner = Scanner::at(block_start);
                    if stop == Stop::Unended {
                        cur.unended_from = block_start;
                        // A short block cut by the chunk's end is carried whole into
                        // the next chunk, to be read there in one step, rather than
                        // line by line now and then. Not when the block started the
                        // chunk (the carry of the chunk before, say): each byte is
                        // carried at most once, so one-byte chunks cost no more.
                        let tail = &bytes[block_start..];
                        if block_start > 0 && tail.len() <= CARRY_MAX && self.fields.is_idle() {
                            self.carry.extend_from_slice(tail);
                            cur.start = bytes.len();
                            cur.scanner = Scanner::at(bytes.len());
                        }
                    }
                    return None;
                }
            };
            let chunk = Chunk {
                bytes: &cur.bytes,
                utf8: utf8.clone(),
            };
            cur.start = block.end;
            let (held_type, held_id) = match started {
                true => self.fields.take_type_and_id(),
                false => (None, None),
            };
            // A new id is sliced twice rather than cloned: a clone would read back
            // the value just built, which stalls store forwarding (see `fields::store`).
            let last_event_id = match block.id {
                Some(id) => {
                    self.fields.set_dispatched_id(chunk.text(id));
                    chunk.text(id)
                }
                None => self.fields.settle_id(held_id),
            };
            let Some(data) = block.data else {
                // "If the data buffer is an empty string, set the data buffer and the
                // event type buffer to the empty string and return" — the id stays.
                continue;
            };
            let event = match block.event {
                Some(event) if !event.is_empty() => chunk.text(event),
                Some(_) => fields::MESSAGE,
                None => held_type.unwrap_or(fields::MESSAGE),
            };
            *out = Some(Ok(Frame::Event(Event {
                event,
                data: chunk.text(data),
                last_event_id,
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
        // The scanner is used in place, never copied: a scanner read back just after
        // it was stored stalls the CPU's store forwarding, once per line. A line left
        // to the general path gets a new scanner, from its start.
        let scanner = &mut cur.scanner;
        let mut start = cur.start;
        while bytes[start..].starts_with(b"data:") {
            let Some(line) = next_line(scanner, bytes, start) else {
                // No line end is left: the general path need not look again.
                break;
            };
            let taken = line.and_then(|(end, next)| {
                if end - start > self.limits.max_line_len {
                    return None;
                }
                let value = fields::strip_one_space(&bytes[start + 5..end]);
                let value = chunk.as_known_utf8(value)?;
                self.fields
                    .push_more_data(value, &self.limits)
                    .then_some(next)
            });
            let Some(next) = taken else {
                *scanner = Scanner::at(start);
                break;
            };
            start = next;
        }
        cur.start = start;
    }
}

/// The fields of a small block, as `block_event` reads them.
struct Block<'a> {
    /// Where the next block starts.
    end: usize,
    event: Option<&'a [u8]>,
    id: Option<&'a [u8]>,
    data: Option<&'a [u8]>,
}

/// Why `read_block` left a block to the general path.
#[derive(PartialEq, Eq)]
enum Stop {
    /// The chunk ends before the block does.
    Unended,
    /// Anything else it does not handle.
    Other,
}

/// Reads the block at `block_start` when it lies whole in `bytes`, within the limits
/// and the span known to be UTF-8, and holds only `event`, `id`, comments (when not
/// reported) and one `data` line. `scanner` reports the line ends from there.
#[inline(always)]
fn read_block<'a>(
    scanner: &mut Scanner,
    bytes: &'a [u8],
    block_start: usize,
    utf8: &Range<usize>,
    limits: &Limits,
) -> Result<Block<'a>, Stop> {
    let mut block = Block {
        end: block_start,
        event: None,
        id: None,
        data: None,
    };
    loop {
        let start = block.end;
        let (end, next) = next_line(scanner, bytes, start)
            .ok_or(Stop::Unended)?
            .ok_or(Stop::Other)?;
        let line = &bytes[start..end];
        if end > utf8.end || line.len() > limits.max_line_len {
            return Err(Stop::Other);
        }
        block.end = next;
        let value = |name: &[u8]| {
            line.strip_prefix(name)
                .map(fields::strip_one_space)
                .ok_or(Stop::Other)
        };
        match line.first() {
            // A blank line first is not a block (it may even be the LF of a CRLF
            // whose CR the general path took).
            None if end == block_start => return Err(Stop::Other),
            None => break,
            Some(b'd') if block.data.is_none() => block.data = Some(value(b"data:")?),
            Some(b'e') => block.event = Some(value(b"event:")?),
            Some(b'i') => {
                let id = value(b"id:")?;
                if id.contains(&0) {
                    return Err(Stop::Other);
                }
                block.id = Some(id);
            }
            Some(b':') if !limits.comments => {}
            _ => return Err(Stop::Other),
        }
    }
    if block
        .data
        .is_some_and(|data| data.len() > limits.max_event_size)
    {
        return Err(Stop::Other);
    }
    Ok(block)
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
