//! # postsource-web
//!
//! `PostSource` for the browser: an `EventSource` that can POST, compiled from the
//! same Rust as the native client. The parsing and every connection rule are the
//! core's (`postsource::protocol::Session`, a sans-IO state machine over the
//! `postsource::parse::Parser`); this crate is only the shell that does I/O and
//! time with the browser's `fetch`, `ReadableStream`, `AbortController` and
//! `setTimeout`.
//!
//! The JavaScript entry point is `js/postsource.js` (copied next to the generated
//! glue by `scripts/build-web`): a small `class PostSource extends EventTarget`
//! that drives the wasm [`Core`](crate) and turns its callbacks into `open`,
//! `message`/named, `error` and `close` events, plus the `XhrSource` function.
//! wasm-bindgen cannot make an exported Rust type subclass `EventTarget`, which is
//! why that one thin layer is JavaScript.
//!
//! Layout:
//! - [`report`]: the names and sentences the core's outcomes get in JS (pure
//!   Rust, tested natively); every connection rule is the core's
//!   `postsource::protocol::Session`, shared with the native client;
//! - `js` (wasm only): the handful of browser functions bound directly;
//! - `wait` (wasm only): one timer per stream and a future that ends early when
//!   the stream is closed or its deadline passes;
//! - `options` (wasm only): the options as the JS wrapper normalises them,
//!   mapped onto the core's `Config`, and the request of each attempt;
//! - `runtime` (wasm only): the allocator and, in the shipped `no_std` build
//!   (feature `bundle`), the panic handler;
//! - `source` (wasm only): the exported `Core`, which feeds the `Session` what
//!   `fetch` and the body reader report and carries out what it asks.
#![cfg_attr(all(target_arch = "wasm32", feature = "bundle"), no_std)]
#![warn(missing_docs)]

extern crate alloc;

pub mod report;

#[cfg(target_arch = "wasm32")]
mod js;
#[cfg(target_arch = "wasm32")]
mod options;
#[cfg(target_arch = "wasm32")]
mod runtime;
#[cfg(target_arch = "wasm32")]
mod source;
#[cfg(target_arch = "wasm32")]
mod wait;

#[cfg(target_arch = "wasm32")]
pub use js::Sink;
#[cfg(target_arch = "wasm32")]
pub use source::Core;
