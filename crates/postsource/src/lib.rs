//! # postsource
//!
//! Server-Sent Events over any HTTP method.
//!
//! The browser's `EventSource` can only GET. Real applications POST a prompt, a
//! JSON-RPC message or a job, and stream the answer back as SSE. This crate is the
//! protocol done exactly as the WHATWG standard describes it, in layers:
//!
//! - [`parse`]: a sans-IO streaming parser — bytes in, events out, no I/O, no clock,
//!   `no_std` with `alloc`. Bring your own HTTP stack.
//! - [`encode`]: the server side — events to bytes, refusing anything that would
//!   break the framing.
//! - [`protocol`]: the connection policy (response checks, reconnection, backoff,
//!   Last-Event-ID, timeouts) as a sans-IO state machine with time as an input,
//!   shared by the native client and the browser build.
//! - `client` (feature `client`, on by default): an `EventSource` for tokio and
//!   reqwest over any HTTP method, a `futures::Stream` of events with a close handle.
//!
//! ```
//! use postsource::encode::Message;
//! use postsource::parse::{Frame, Parser};
//!
//! // A server writes an event...
//! let bytes = Message::new("hello\nworld").event("greeting").id("42").to_bytes()?;
//!
//! // ...and a client parses it, however the bytes are chunked.
//! let mut parser = Parser::new();
//! for chunk in bytes.chunks(3) {
//!     parser.feed_slice(chunk);
//! }
//! let Some(Ok(Frame::Event(event))) = parser.next() else { panic!() };
//! assert_eq!((&*event.event, &*event.data, &*event.last_event_id), ("greeting", "hello\nworld", "42"));
//! # Ok::<(), postsource::encode::EncodeError>(())
//! ```
#![cfg_attr(not(feature = "std"), no_std)]
#![warn(missing_docs)]

extern crate alloc;

#[cfg(feature = "client")]
pub mod client;
pub mod encode;
pub mod parse;
pub mod protocol;
mod text;

pub use parse::{Event, Frame, ParseError, Parser, StreamEnd};
pub use text::Utf8Bytes;

/// The README's Rust examples, compiled and run as doctests.
#[cfg(all(doctest, feature = "client"))]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
