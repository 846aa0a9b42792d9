//! `Utf8Bytes`: a cheaply cloneable, immutable UTF-8 string backed by [`Bytes`].
//!
//! The parser hands out event data, types and ids without copying them out of the
//! chunk they arrived in; a `Utf8Bytes` is such a slice plus the guarantee that it is
//! valid UTF-8, so callers get a `&str` for free and clones are a reference-count bump.
//! Short strings — event types, ids, small data — are kept inline instead: copying
//! two dozen bytes is cheaper than the atomic reference counting of a shared slice,
//! and most fields of most streams are that short.

use alloc::string::String;
use alloc::vec::Vec;
use core::borrow::Borrow;
use core::cmp::Ordering;
use core::fmt;
use core::hash::{Hash, Hasher};
use core::ops::Deref;

use bytes::Bytes;

/// Strings up to this many bytes are stored inline (it keeps `Utf8Bytes` the size
/// of a `Bytes`).
const INLINE: usize = 23;

/// An inline string: its bytes, then its length in the last byte, held as three
/// words. It is built from three word loads and stored as three words: a byte-wise
/// build on the stack that is then read back as words stalls the CPU's store
/// forwarding, once per field, which costs more than the parsing itself.
#[derive(Clone, Copy)]
struct Inline([u64; 3]);

impl Inline {
    /// `words` holds the string's bytes in memory order; the bytes past `len` are
    /// ignored, the last one is overwritten with `len`.
    #[inline(always)]
    const fn from_words(words: [u64; 3], len: usize) -> Self {
        let mut last = words[2].to_ne_bytes();
        last[7] = len as u8;
        Inline([words[0], words[1], u64::from_ne_bytes(last)])
    }

    /// Reads up to `INLINE` bytes; `bytes` must not be longer.
    #[inline(always)]
    fn from_short(bytes: &[u8]) -> Self {
        let mut buf = [0u8; INLINE + 1];
        buf[..bytes.len()].copy_from_slice(bytes);
        Inline::from_words(words_of(&buf), bytes.len())
    }

    #[inline]
    fn as_slice(&self) -> &[u8] {
        // SAFETY: three `u64`s are 24 initialised bytes, in memory order.
        let bytes: &[u8; INLINE + 1] = unsafe { &*self.0.as_ptr().cast() };
        &bytes[..usize::from(bytes[INLINE])]
    }
}

/// The 24 bytes of `window` as three words in memory order.
#[inline(always)]
const fn words_of(window: &[u8; INLINE + 1]) -> [u64; 3] {
    let mut words = [0u64; 3];
    let mut i = 0;
    while i < 3 {
        let mut word = [0u8; 8];
        let mut j = 0;
        while j < 8 {
            word[j] = window[8 * i + j];
            j += 1;
        }
        words[i] = u64::from_ne_bytes(word);
        i += 1;
    }
    words
}

/// An immutable UTF-8 string that shares its bytes (see [`Bytes`]).
///
/// It dereferences to `&str`, compares with `str` and `String`, and clones in O(1).
///
/// ```
/// use postsource::Utf8Bytes;
///
/// let s = Utf8Bytes::from("hello");
/// assert_eq!(s, "hello");
/// assert_eq!(s.len(), 5);
/// assert!(s.starts_with("he"));
/// ```
#[derive(Clone)]
pub struct Utf8Bytes(Repr);

#[derive(Clone)]
enum Repr {
    Inline(Inline),
    Shared(Bytes),
}

impl Utf8Bytes {
    /// An empty string.
    pub const fn new() -> Self {
        Utf8Bytes(Repr::Inline(Inline([0; 3])))
    }

    /// A string from a `'static` literal, without allocating.
    pub const fn from_static(s: &'static str) -> Self {
        let bytes = s.as_bytes();
        if bytes.len() > INLINE {
            return Utf8Bytes(Repr::Shared(Bytes::from_static(bytes)));
        }
        let mut buf = [0; INLINE + 1];
        let mut i = 0;
        while i < bytes.len() {
            buf[i] = bytes[i];
            i += 1;
        }
        Utf8Bytes(Repr::Inline(Inline::from_words(
            words_of(&buf),
            bytes.len(),
        )))
    }

    /// Checks that `bytes` is UTF-8 and wraps it without copying.
    pub fn try_from_bytes(bytes: Bytes) -> Result<Self, core::str::Utf8Error> {
        core::str::from_utf8(&bytes)?;
        // SAFETY: checked just above.
        Ok(unsafe { Utf8Bytes::from_utf8_unchecked(bytes) })
    }

    /// Wraps `bytes` without checking it.
    ///
    /// # Safety
    /// `bytes` must be valid UTF-8.
    pub(crate) unsafe fn from_utf8_unchecked(bytes: Bytes) -> Self {
        if bytes.len() <= INLINE {
            // SAFETY: the caller's promise.
            unsafe { Utf8Bytes::inline_unchecked(&bytes) }
        } else {
            Utf8Bytes(Repr::Shared(bytes))
        }
    }

    /// A short string, copied inline.
    ///
    /// # Safety
    /// `bytes` must be valid UTF-8 and at most `INLINE` bytes long.
    unsafe fn inline_unchecked(bytes: &[u8]) -> Self {
        Utf8Bytes(Repr::Inline(Inline::from_short(bytes)))
    }

    /// `chunk[start..end]` as text, without checking it: inline when short, else a
    /// shared slice of `chunk`.
    ///
    /// # Safety
    /// `chunk[start..end]` must be valid UTF-8.
    #[inline(always)]
    pub(crate) unsafe fn from_chunk_range_unchecked(
        chunk: &Bytes,
        start: usize,
        end: usize,
    ) -> Self {
        let len = end - start;
        if len > INLINE {
            return Utf8Bytes(Repr::Shared(chunk.slice(start..end)));
        }
        let inline = match chunk.get(start..start + INLINE + 1) {
            // Three word loads; the bytes past `len` are never read.
            Some(window) => Inline::from_words(words_of(window.try_into().unwrap()), len),
            None => Inline::from_short(&chunk[start..end]),
        };
        Utf8Bytes(Repr::Inline(inline))
    }

    /// `bytes[start..]` as text, taking `bytes` over rather than slicing a borrowed
    /// one: a line completed in the parser's line buffer is its own `Bytes`, and
    /// moving it into the value spares the reference-count increment of a slice and
    /// the decrement of dropping the line after it.
    ///
    /// # Safety
    /// `bytes[start..]` must be valid UTF-8.
    #[inline(always)]
    pub(crate) unsafe fn from_owned_tail_unchecked(mut bytes: Bytes, start: usize) -> Self {
        if bytes.len() - start > INLINE {
            bytes::Buf::advance(&mut bytes, start);
            return Utf8Bytes(Repr::Shared(bytes));
        }
        Utf8Bytes(Repr::Inline(Inline::from_short(&bytes[start..])))
    }

    /// Decodes `bytes` as UTF-8, replacing each invalid sequence with U+FFFD as the
    /// WHATWG "UTF-8 decode" does. Valid input is wrapped without copying.
    pub fn from_bytes_lossy(bytes: Bytes) -> Self {
        match core::str::from_utf8(&bytes) {
            // SAFETY: checked by the match.
            Ok(_) => unsafe { Utf8Bytes::from_utf8_unchecked(bytes) },
            Err(_) => Utf8Bytes::from(String::from_utf8_lossy(&bytes).into_owned()),
        }
    }

    /// Decodes a borrowed slice as [`Utf8Bytes::from_bytes_lossy`] does, copying it.
    pub fn from_slice_lossy(bytes: &[u8]) -> Self {
        match core::str::from_utf8(bytes) {
            Ok(s) => Utf8Bytes::from(s),
            Err(_) => Utf8Bytes::from(String::from_utf8_lossy(bytes).into_owned()),
        }
    }

    /// The string.
    #[inline]
    pub fn as_str(&self) -> &str {
        // SAFETY: every constructor checks or guarantees UTF-8, and both
        // representations are immutable.
        unsafe { core::str::from_utf8_unchecked(self.as_bytes()) }
    }

    /// The underlying bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline(inline) => inline.as_slice(),
            Repr::Shared(bytes) => bytes,
        }
    }

    /// Gives up the UTF-8 guarantee and returns the bytes (a short string is copied).
    pub fn into_bytes(self) -> Bytes {
        match self.0 {
            Repr::Inline(inline) => Bytes::copy_from_slice(inline.as_slice()),
            Repr::Shared(bytes) => bytes,
        }
    }
}

impl Default for Utf8Bytes {
    fn default() -> Self {
        Utf8Bytes::new()
    }
}

impl PartialEq for Utf8Bytes {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Utf8Bytes {}

impl PartialOrd for Utf8Bytes {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Utf8Bytes {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for Utf8Bytes {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl Deref for Utf8Bytes {
    type Target = str;
    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Utf8Bytes {
    #[inline]
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for Utf8Bytes {
    #[inline]
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl Borrow<str> for Utf8Bytes {
    #[inline]
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl From<String> for Utf8Bytes {
    fn from(s: String) -> Self {
        // SAFETY: a `String` is UTF-8.
        unsafe { Utf8Bytes::from_utf8_unchecked(Bytes::from(s.into_bytes())) }
    }
}

impl From<&str> for Utf8Bytes {
    fn from(s: &str) -> Self {
        if s.len() <= INLINE {
            // SAFETY: a `str` is UTF-8, and it fits inline.
            unsafe { Utf8Bytes::inline_unchecked(s.as_bytes()) }
        } else {
            Utf8Bytes(Repr::Shared(Bytes::copy_from_slice(s.as_bytes())))
        }
    }
}

impl From<Utf8Bytes> for Bytes {
    fn from(s: Utf8Bytes) -> Bytes {
        s.into_bytes()
    }
}

impl From<Utf8Bytes> for String {
    fn from(s: Utf8Bytes) -> String {
        String::from(s.as_str())
    }
}

impl From<Utf8Bytes> for Vec<u8> {
    fn from(s: Utf8Bytes) -> Vec<u8> {
        s.as_bytes().to_vec()
    }
}

impl PartialEq<str> for Utf8Bytes {
    #[inline]
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Utf8Bytes {
    #[inline]
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Utf8Bytes {
    #[inline]
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<Utf8Bytes> for str {
    #[inline]
    fn eq(&self, other: &Utf8Bytes) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Utf8Bytes> for &str {
    #[inline]
    fn eq(&self, other: &Utf8Bytes) -> bool {
        *self == other.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lossy_replaces_invalid_sequences() {
        let s = Utf8Bytes::from_bytes_lossy(Bytes::from_static(b"a\xffb\xe2\x82"));
        assert_eq!(s, "a\u{FFFD}b\u{FFFD}");
    }

    #[test]
    fn long_valid_input_is_not_copied() {
        let b = Bytes::from_static(b"a string longer than the inline buffer");
        let s = Utf8Bytes::from_bytes_lossy(b.clone());
        assert_eq!(s.as_bytes().as_ptr(), b.as_ptr());
    }

    #[test]
    fn short_strings_are_inline_and_equal_to_shared_ones() {
        let inline = Utf8Bytes::from("tick");
        assert!(matches!(inline.0, Repr::Inline(_)));
        assert_eq!(inline, Utf8Bytes::from_static("tick"));
        assert_eq!(Utf8Bytes::from("x".repeat(INLINE)).len(), INLINE);
        assert!(matches!(
            Utf8Bytes::from("x".repeat(INLINE + 1)).0,
            Repr::Shared(_)
        ));
        assert_eq!(
            core::mem::size_of::<Utf8Bytes>(),
            core::mem::size_of::<Bytes>()
        );
    }
}
