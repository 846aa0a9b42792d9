//! `Utf8Bytes`: a cheaply cloneable, immutable UTF-8 string backed by [`Bytes`].
//!
//! The parser hands out event data, types and ids without copying them out of the
//! chunk they arrived in; a `Utf8Bytes` is such a slice plus the guarantee that it is
//! valid UTF-8, so callers get a `&str` for free and clones are a reference-count bump.

use alloc::string::String;
use alloc::vec::Vec;
use core::borrow::Borrow;
use core::fmt;
use core::ops::Deref;

use bytes::Bytes;

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
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Utf8Bytes(Bytes);

impl Utf8Bytes {
    /// An empty string.
    pub const fn new() -> Self {
        Utf8Bytes(Bytes::new())
    }

    /// A string from a `'static` literal, without allocating.
    pub const fn from_static(s: &'static str) -> Self {
        Utf8Bytes(Bytes::from_static(s.as_bytes()))
    }

    /// Checks that `bytes` is UTF-8 and wraps it without copying.
    pub fn try_from_bytes(bytes: Bytes) -> Result<Self, core::str::Utf8Error> {
        core::str::from_utf8(&bytes)?;
        Ok(Utf8Bytes(bytes))
    }

    /// Wraps `bytes` without checking it.
    ///
    /// # Safety
    /// `bytes` must be valid UTF-8.
    pub(crate) unsafe fn from_utf8_unchecked(bytes: Bytes) -> Self {
        Utf8Bytes(bytes)
    }

    /// Decodes `bytes` as UTF-8, replacing each invalid sequence with U+FFFD as the
    /// WHATWG "UTF-8 decode" does. Valid input is wrapped without copying.
    pub fn from_bytes_lossy(bytes: Bytes) -> Self {
        match core::str::from_utf8(&bytes) {
            Ok(_) => Utf8Bytes(bytes),
            Err(_) => Utf8Bytes::from(String::from_utf8_lossy(&bytes).into_owned()),
        }
    }

    /// Decodes a borrowed slice as [`Utf8Bytes::from_bytes_lossy`] does, copying it.
    pub fn from_slice_lossy(bytes: &[u8]) -> Self {
        match core::str::from_utf8(bytes) {
            Ok(s) => Utf8Bytes(Bytes::copy_from_slice(s.as_bytes())),
            Err(_) => Utf8Bytes::from(String::from_utf8_lossy(bytes).into_owned()),
        }
    }

    /// The string.
    pub fn as_str(&self) -> &str {
        // SAFETY: every constructor checks or guarantees UTF-8, and `Bytes` is immutable.
        unsafe { core::str::from_utf8_unchecked(&self.0) }
    }

    /// The underlying bytes.
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }

    /// Gives up the UTF-8 guarantee and returns the bytes.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }
}

impl Deref for Utf8Bytes {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Utf8Bytes {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for Utf8Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Borrow<str> for Utf8Bytes {
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
        Utf8Bytes(Bytes::from(s.into_bytes()))
    }
}

impl From<&str> for Utf8Bytes {
    fn from(s: &str) -> Self {
        Utf8Bytes(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl From<Utf8Bytes> for Bytes {
    fn from(s: Utf8Bytes) -> Bytes {
        s.0
    }
}

impl From<Utf8Bytes> for String {
    fn from(s: Utf8Bytes) -> String {
        String::from(s.as_str())
    }
}

impl From<Utf8Bytes> for Vec<u8> {
    fn from(s: Utf8Bytes) -> Vec<u8> {
        s.0.into()
    }
}

impl PartialEq<str> for Utf8Bytes {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Utf8Bytes {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Utf8Bytes {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<Utf8Bytes> for str {
    fn eq(&self, other: &Utf8Bytes) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Utf8Bytes> for &str {
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
    fn valid_input_is_not_copied() {
        let b = Bytes::from_static(b"hello");
        let s = Utf8Bytes::from_bytes_lossy(b.clone());
        assert_eq!(s.as_bytes().as_ptr(), b.as_ptr());
    }
}
