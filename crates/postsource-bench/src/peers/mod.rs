//! One adapter per parser, all behind [`Impl`], so the benchmark and the agreement
//! tests drive every parser the same way: the same pre-split `Bytes` chunks in, a
//! [`Tally`] (for timing) or a list of [`Item`]s (for comparing) out.
//!
//! Stream-based peers are driven with `futures::executor::block_on` over
//! `futures::stream::iter(chunks)`, so the async overhead their users pay is part of
//! what is measured. Each adapter turns its parser's output into EventSource terms
//! (event type, data, last event id), e.g. `sse-stream` yields raw blocks, so its
//! adapter skips blocks without data and carries the id forward as a browser would.

mod chunk_handoff;
mod eventsource_stream;
mod memchr_scan;
mod postsource;
mod sse_stream;
mod sseer;
mod utf8_check;

use std::convert::Infallible;
use std::ops::ControlFlow;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use futures::{Stream, StreamExt};

/// A dispatched event in EventSource terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ev {
    /// The event type (`message` unless the block set one).
    pub event: String,
    /// The data lines joined with LF.
    pub data: String,
    /// The last event id as of this event ("" if none).
    pub id: String,
}

impl Ev {
    /// An event from borrowed parts.
    pub fn new(event: &str, data: &str, id: &str) -> Self {
        Ev {
            event: event.to_owned(),
            data: data.to_owned(),
            id: id.to_owned(),
        }
    }
}

/// Something a parser reported, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// An event was dispatched.
    Event(Ev),
    /// A `retry:` value was accepted (peers that attach it to a block or event
    /// report it just before that event).
    Retry(u64),
    /// The parser reported an error (its `Display`, or `Debug` where it has none).
    Error(String),
    /// The parser panicked; the text is the panic message.
    Panic(String),
}

/// What the benchmark keeps of a run: enough to check the work and to stop the
/// optimiser from discarding it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Events dispatched.
    pub events: u64,
    /// Total bytes of event data (or, for the memchr scan, LFs found).
    pub data_bytes: u64,
}

/// The parsers compared by the benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Impl {
    /// `postsource::Parser`: feed each chunk, then drain the frames.
    Postsource,
    /// `eventsource-stream` 0.2 (the parser under `reqwest-eventsource`).
    EventsourceStream,
    /// `sse-stream` 0.3 (`SseByteStream`; the parser of the MCP Rust SDK).
    SseStream,
    /// `sseer` (`EventStream`).
    Sseer,
    /// Not a parser: `memchr::memchr_iter(b'\n', chunk).count()` over every chunk,
    /// the floor any SSE parser has to scan through.
    MemchrScan,
    /// Not a parser: each chunk cloned and dropped (see `chunk_handoff`), the part
    /// of every parser's time spent on taking chunks in.
    ChunkHandoff,
    /// Not a parser: each chunk checked for UTF-8 with `simdutf8` (see `utf8_check`),
    /// the least reading of the bytes the spec's decoding asks for.
    Utf8Check,
}

impl Impl {
    /// Every SSE parser (without the memchr baseline).
    pub const PARSERS: [Impl; 4] = [
        Impl::Postsource,
        Impl::EventsourceStream,
        Impl::SseStream,
        Impl::Sseer,
    ];
    /// The peers of postsource.
    pub const PEERS: [Impl; 3] = [Impl::EventsourceStream, Impl::SseStream, Impl::Sseer];
    /// Everything the benchmark runs, in table order.
    pub const ALL: [Impl; 7] = [
        Impl::Postsource,
        Impl::EventsourceStream,
        Impl::SseStream,
        Impl::Sseer,
        Impl::MemchrScan,
        Impl::ChunkHandoff,
        Impl::Utf8Check,
    ];

    /// Whether this is a baseline (the memchr scan, the chunk handoff, the UTF-8
    /// check), not a parser.
    pub fn is_baseline(self) -> bool {
        matches!(
            self,
            Impl::MemchrScan | Impl::ChunkHandoff | Impl::Utf8Check
        )
    }

    /// The name used in benchmark ids and tables.
    pub fn name(self) -> &'static str {
        match self {
            Impl::Postsource => "postsource",
            Impl::EventsourceStream => "eventsource-stream",
            Impl::SseStream => "sse-stream",
            Impl::Sseer => "sseer",
            Impl::MemchrScan => "memchr-scan",
            Impl::ChunkHandoff => "chunk-handoff",
            Impl::Utf8Check => "utf8-check",
        }
    }

    /// Parse `chunks` as one stream and count what came out (the timed path).
    pub fn tally(self, chunks: &[Bytes]) -> Tally {
        match self {
            Impl::Postsource => postsource::tally(chunks),
            Impl::EventsourceStream => eventsource_stream::tally(chunks),
            Impl::SseStream => sse_stream::tally(chunks),
            Impl::Sseer => sseer::tally(chunks),
            Impl::MemchrScan => memchr_scan::tally(chunks),
            Impl::ChunkHandoff => chunk_handoff::tally(chunks),
            Impl::Utf8Check => utf8_check::tally(chunks),
        }
    }

    /// Parse `chunks` as one stream and keep everything reported, stopping after
    /// [`MAX_ITEMS`] items or [`MAX_ERRORS`] errors (a parser that repeats an error
    /// forever must not hang a test), and turning a panic into [`Item::Panic`].
    /// The baselines are not parsers and report nothing.
    pub fn collect(self, chunks: &[Bytes]) -> Vec<Item> {
        self.run(chunks, Drive::ToEnd)
    }

    /// What the parser has reported once `chunks` have arrived while the stream is
    /// still open (more bytes may come): the events a live client would see now.
    /// Bounded like [`collect`](Impl::collect).
    pub fn ready(self, chunks: &[Bytes]) -> Vec<Item> {
        self.run(chunks, Drive::UntilPending)
    }

    fn run(self, chunks: &[Bytes], drive: Drive) -> Vec<Item> {
        let mut items = Vec::new();
        let mut sink = Sink {
            items: &mut items,
            errors: 0,
        };
        let run = catch_unwind(AssertUnwindSafe(|| match self {
            // The sans-IO parser has no "open" state to poll: it reports what it has.
            Impl::Postsource => postsource::collect(chunks, &mut sink),
            Impl::EventsourceStream => {
                eventsource_stream::collect(open_input(chunks, drive), drive, &mut sink)
            }
            Impl::SseStream => sse_stream::collect(open_input(chunks, drive), drive, &mut sink),
            Impl::Sseer => sseer::collect(open_input(chunks, drive), drive, &mut sink),
            Impl::MemchrScan | Impl::ChunkHandoff | Impl::Utf8Check => {}
        }));
        if let Err(panic) = run {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            items.push(Item::Panic(msg));
        }
        items
    }
}

/// [`Impl::collect`] stops after this many items.
pub const MAX_ITEMS: usize = 1_000_000;
/// [`Impl::collect`] stops after this many errors.
pub const MAX_ERRORS: usize = 8;

/// Where adapters put what they collect; it tells them when to stop.
struct Sink<'a> {
    items: &'a mut Vec<Item>,
    errors: usize,
}

impl Sink<'_> {
    fn push(&mut self, item: Item) -> ControlFlow<()> {
        if matches!(item, Item::Error(_)) {
            self.errors += 1;
        }
        self.items.push(item);
        if self.items.len() >= MAX_ITEMS || self.errors >= MAX_ERRORS {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}

/// The chunks as the `Stream` an HTTP body would be.
fn input(chunks: &[Bytes]) -> impl Stream<Item = Result<Bytes, Infallible>> + '_ {
    futures::stream::iter(chunks.iter().cloned().map(Ok))
}

/// How a Stream-based parser is polled.
#[derive(Clone, Copy, Debug)]
enum Drive {
    /// The input ends after the last chunk; poll to the end of the stream.
    ToEnd,
    /// The input stays open after the last chunk (it is followed by a stream that
    /// is forever pending); poll until the parser is pending too.
    UntilPending,
}

/// Poll `stream` to its end on this thread, handing each item to `on` until it
/// breaks.
fn drive<S: Stream>(stream: S, mut on: impl FnMut(S::Item) -> ControlFlow<()>) {
    futures::executor::block_on(async {
        let mut stream = std::pin::pin!(stream);
        while let Some(item) = stream.next().await {
            if on(item).is_break() {
                break;
            }
        }
    });
}

/// The chunks as an HTTP body stream; with [`Drive::UntilPending`] it stays open
/// after the last chunk.
type Input<'a> = futures::stream::LocalBoxStream<'a, Result<Bytes, Infallible>>;

fn open_input(chunks: &[Bytes], how: Drive) -> Input<'_> {
    match how {
        Drive::ToEnd => input(chunks).boxed_local(),
        Drive::UntilPending => input(chunks)
            .chain(futures::stream::pending())
            .boxed_local(),
    }
}

/// Poll a parser stream built over [`open_input`] as `how` says.
fn poll<S: Stream>(stream: S, how: Drive, on: impl FnMut(S::Item) -> ControlFlow<()>) {
    match how {
        Drive::ToEnd => drive(stream, on),
        Drive::UntilPending => poll_until_pending(stream, on),
    }
}

fn poll_until_pending<S: Stream>(stream: S, mut on: impl FnMut(S::Item) -> ControlFlow<()>) {
    let mut stream = std::pin::pin!(stream);
    let mut cx = Context::from_waker(Waker::noop());
    while let Poll::Ready(Some(item)) = stream.as_mut().poll_next(&mut cx) {
        if on(item).is_break() {
            break;
        }
    }
}

/// The EventSource type of an event whose type field is `event`.
fn event_type(event: &str) -> &str {
    if event.is_empty() { "message" } else { event }
}
