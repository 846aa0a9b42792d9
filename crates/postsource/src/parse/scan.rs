//! Finding line endings. The spec ends a line at CR, at LF, or at the CRLF pair; the
//! caller pairs CRLF (also across chunks), so the scan only reports every CR and LF.
//!
//! Each 64-byte block is classified at once into a bitmask (on x86_64 with four SSE2
//! compares, as simdjson does; elsewhere a loop the compiler vectorises), and the
//! line ends are then read off the mask with `trailing_zeros`. Short lines — tiny
//! events, `id:` and `event:` fields — cost a few instructions each instead of a
//! search call apiece.

/// Reports the offsets of every CR and LF in a slice, in order. It does not borrow
/// the slice (the parser keeps it next to the chunk it scans): pass the same slice to
/// every call of [`next`](Scanner::next).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Scanner {
    /// Offset of the block `mask` describes.
    block: usize,
    /// One bit per byte of the block that is CR or LF, not yet reported.
    mask: u64,
    /// `mask` describes `block` (false before the first call).
    loaded: bool,
}

impl Scanner {
    /// A scanner that reports the line ends at or after `offset`.
    pub(super) fn at(offset: usize) -> Self {
        Scanner {
            block: offset,
            mask: 0,
            loaded: false,
        }
    }

    /// The next CR or LF in `bytes`.
    #[inline(always)]
    pub(super) fn next(&mut self, bytes: &[u8]) -> Option<usize> {
        // Inlined, as it is called for every line: most calls only read the next
        // bit of the block in hand.
        if self.mask == 0 {
            // The next line end is most often in the very next block, when that is
            // whole: classified here, without a call.
            let next = self.block + 64;
            if self.loaded && next + 64 <= bytes.len() {
                self.block = next;
                self.mask = classify_block(&bytes[next..]);
            }
            if self.mask == 0 && !self.next_block(bytes) {
                return None;
            }
        }
        let bit = self.mask.trailing_zeros() as usize;
        self.mask &= self.mask - 1;
        Some(self.block + bit)
    }

    /// Moves to the next block with a line end (or loads the first); false when none
    /// is left.
    #[inline(never)]
    fn next_block(&mut self, bytes: &[u8]) -> bool {
        if !self.loaded {
            self.loaded = true;
            self.mask = classify(bytes, self.block);
        }
        while self.mask == 0 {
            if self.block + 64 >= bytes.len() {
                return false;
            }
            self.block += 64;
            self.mask = classify(bytes, self.block);
        }
        true
    }
}

/// Whether `bytes` holds a CR or LF. A chunk of a few blocks is classified whole
/// (the last block overlapping the one before): cheaper than a search call.
#[inline]
pub(super) fn has_line_end(bytes: &[u8]) -> bool {
    if !(64..=256).contains(&bytes.len()) {
        return memchr::memchr2(b'\n', b'\r', bytes).is_some();
    }
    let mut mask = classify_block(&bytes[bytes.len() - 64..]);
    let mut at = 0;
    while at + 64 < bytes.len() {
        mask |= classify_block(&bytes[at..]);
        at += 64;
    }
    mask != 0
}

/// The CR/LF bitmask of the (up to) 64 bytes at `start`.
#[inline]
fn classify(bytes: &[u8], start: usize) -> u64 {
    let start = start.min(bytes.len());
    let len = bytes.len() - start;
    if len >= 64 {
        return classify_block(&bytes[start..]);
    }
    if len == 0 {
        return 0;
    }
    // The tail of a chunk (every chunk's, when chunks are small): classify the last
    // 64 bytes of the slice, or the tail padded to 64, and keep the bits of the tail.
    if bytes.len() >= 64 {
        return classify_block(&bytes[bytes.len() - 64..]) >> (64 - len);
    }
    let mut padded = [0u8; 64];
    padded[..len].copy_from_slice(&bytes[start..]);
    classify_block(&padded)
}

/// The CR/LF bitmask of `block[..64]`: a loop the compiler vectorises.
#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn classify_block(block: &[u8]) -> u64 {
    block[..64].iter().enumerate().fold(0, |mask, (i, &b)| {
        mask | (u64::from(b == b'\n' || b == b'\r') << i)
    })
}

/// The CR/LF bitmask of `block[..64]`.
#[cfg(target_arch = "x86_64")]
#[inline]
fn classify_block(block: &[u8]) -> u64 {
    use core::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    assert!(block.len() >= 64);
    // SAFETY: SSE2 is part of the x86_64 baseline, and the four 16-byte loads read
    // `block[0..64]`, in bounds by the assertion.
    unsafe {
        let lf = _mm_set1_epi8(b'\n' as i8);
        let cr = _mm_set1_epi8(b'\r' as i8);
        let p = block.as_ptr();
        let mut mask = 0u64;
        for i in 0..4 {
            let v = _mm_loadu_si128(p.add(16 * i).cast::<__m128i>());
            let hits = _mm_or_si128(_mm_cmpeq_epi8(v, lf), _mm_cmpeq_epi8(v, cr));
            mask |= u64::from(_mm_movemask_epi8(hits) as u16) << (16 * i);
        }
        mask
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn has_line_end_sees_a_cr_or_lf_anywhere() {
        for len in 0..300 {
            let mut bytes = alloc::vec![b'a'; len];
            assert!(!has_line_end(&bytes), "len {len}");
            for at in 0..len {
                for end in [b'\n', b'\r'] {
                    bytes[at] = end;
                    assert!(has_line_end(&bytes), "len {len}, at {at}");
                    bytes[at] = b'a';
                }
            }
        }
    }

    #[test]
    fn finds_every_cr_and_lf_across_blocks() {
        for len in [0, 1, 15, 63, 64, 65, 127, 128, 200] {
            for offset in 0..3 {
                let bytes: Vec<u8> = (0..len)
                    .map(|i| match (i * 7 + offset) % 11 {
                        0 => b'\n',
                        1 => b'\r',
                        _ => b'a',
                    })
                    .collect();
                let expected: Vec<usize> = bytes
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| **b == b'\n' || **b == b'\r')
                    .map(|(i, _)| i)
                    .collect();
                let mut scanner = Scanner::at(0);
                let found: Vec<usize> = core::iter::from_fn(|| scanner.next(&bytes)).collect();
                assert_eq!(found, expected, "len {len}");
            }
        }
    }
}
