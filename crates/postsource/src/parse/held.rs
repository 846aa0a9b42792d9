//! The line buffer: the start of a line that its chunk cut, held until a later
//! chunk ends the line.
//!
//! It knows whether what it holds is UTF-8 (whole characters): each piece is
//! judged as it arrives, most often for free (a chunk's tail lies in the span of
//! the chunk already checked), so that a completed line is not read a second time
//! just to check it. That second pass over every held line was a tenth of the
//! parse with 1 KiB chunks, and more with 64 B ones.

use core::ops::Deref;

use bytes::{Bytes, BytesMut};

use super::is_utf8;

/// The line buffer's memory is given back after a line longer than this.
const KEPT_CAPACITY: usize = 64 * 1024;

/// The held start of a line. Lines are split off it as `Bytes` that their values
/// slice without copying, and it goes on in the rest of the same allocation
/// (reclaimed once those are dropped).
#[derive(Debug)]
pub(super) struct HeldLine {
    bytes: BytesMut,
    /// Every byte held is known to be part of a whole UTF-8 character: false after
    /// any piece that was not known to be UTF-8 by itself (a character split
    /// between chunks, invalid bytes, a piece no one checked).
    utf8: bool,
}

impl HeldLine {
    pub(super) fn new() -> Self {
        HeldLine {
            bytes: BytesMut::new(),
            utf8: true,
        }
    }

    /// Whether everything held is known to be UTF-8, whole characters; then the
    /// stream's next byte starts a character.
    #[inline]
    pub(super) fn is_utf8(&self) -> bool {
        self.utf8
    }

    /// Appends `piece`. `utf8`: the caller knows `piece` to be UTF-8 by itself
    /// (whole characters); pass false when it is not known.
    #[inline]
    pub(super) fn push(&mut self, piece: &[u8], utf8: bool) {
        self.utf8 &= utf8;
        self.bytes.extend_from_slice(piece);
    }

    /// Appends `piece`, checking it for UTF-8 unless what is held already is not.
    #[inline]
    pub(super) fn push_checked(&mut self, piece: &[u8]) {
        let utf8 = self.utf8 && is_utf8(piece);
        self.push(piece, utf8);
    }

    /// The held line completed by `rest`, split off as `Bytes`. The buffer is then
    /// empty, and goes on in the rest of its allocation unless the line was long.
    /// (Whether the line is UTF-8 is for the caller to tell first: what is held is
    /// if [`is_utf8`](HeldLine::is_utf8), and `rest` may be.)
    #[inline]
    pub(super) fn take(&mut self, rest: &[u8]) -> Bytes {
        self.bytes.extend_from_slice(rest);
        let line = self.bytes.split().freeze();
        if line.len() > KEPT_CAPACITY {
            self.bytes = BytesMut::new();
        }
        self.utf8 = true;
        line
    }

    /// Empties the buffer, giving its memory back after a long line.
    pub(super) fn clear(&mut self) {
        self.bytes.clear();
        if self.bytes.capacity() > KEPT_CAPACITY {
            self.bytes = BytesMut::new();
        }
        self.utf8 = true;
    }
}

impl Deref for HeldLine {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_utf8_only_while_every_piece_was() {
        let mut held = HeldLine::new();
        held.push(b"data: caf", true);
        held.push_checked("é".as_bytes());
        assert!(held.is_utf8());
        // Half a character: not UTF-8 by itself, and it stays unknown to the end.
        held.push_checked(&"日".as_bytes()[..1]);
        held.push_checked(&"日".as_bytes()[1..]);
        assert!(!held.is_utf8());
        assert_eq!(&held.take(b"!")[..], "data: café日!".as_bytes());
        // Taking (or clearing) starts afresh.
        assert!(held.is_utf8() && held.is_empty());
        held.push(b"x", false);
        assert!(!held.is_utf8());
        held.clear();
        assert!(held.is_utf8() && held.is_empty());
    }
}
