//! Benchmark support for postsource: deterministic SSE corpora and one adapter per
//! parser (postsource and its peers), shared by the `parse` benchmark and the
//! agreement tests so that both measure and check exactly the same code paths.
//!
//! The peers are ordinary dependencies of this unpublished crate (not of
//! `postsource`), because the adapters live here and serve both the bench and the
//! tests.
//!
//! - [`corpus`]: the generated streams (a)–(e) and the chunking;
//! - [`peers`]: [`peers::Impl`], each parser behind the same two calls: a cheap
//!   [`tally`](peers::Impl::tally) for timing and a full
//!   [`collect`](peers::Impl::collect) for comparing events.
#![warn(missing_docs)]

pub mod corpus;
pub mod peers;
