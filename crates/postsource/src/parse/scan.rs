//! Finding line endings. The spec ends a line at CR, at LF, or at the CRLF pair;
//! the caller handles the pair (also when it is split across chunks), so the scan
//! only has to find the first CR or LF.

/// The offset of the first CR or LF in `bytes`.
#[inline]
pub(super) fn find_line_end(bytes: &[u8]) -> Option<usize> {
    memchr::memchr2(b'\n', b'\r', bytes)
}
