//! What a run prints, independent of how the client produced it.
//!
//! The client's items are first turned into [`Item`]s — the vocabulary of the jsonl
//! contract plus comments and `retry:` — and every [`Sink`] (the selected
//! output mode, `--verbose` on stderr, `--record`) renders the same sequence. Keeping
//! the writers away from the client's types makes each of them a small, testable
//! function of its input, and lets `serve --replay` read back what `--record` wrote.

mod data;
mod jsonl;
mod pretty;
mod raw;
mod status;
mod verbose;

use std::io::{self, IsTerminal, Write};
use std::time::Instant;

use clap::ValueEnum;

pub use jsonl::to_json;
pub use pretty::{Palette, Pretty};
pub use status::StatusLine;
pub use verbose::Verbose;

/// The response that opened the stream.
#[derive(Clone, Debug)]
pub struct Open {
    /// HTTP status (always 200 for an opened stream).
    pub status: u16,
    /// The final URL, after redirects.
    pub url: String,
    /// Response headers, names lowercase, in the order received.
    pub headers: Vec<(String, String)>,
}

/// A terminal failure, in the contract's terms.
#[derive(Clone, Debug)]
pub struct Failure {
    /// One of connect, timeout, idle_timeout, status, content_type, too_large, io.
    pub kind: &'static str,
    /// A one-line human message.
    pub message: String,
    /// The HTTP status, when a response was received.
    pub status: Option<u16>,
    /// The first bytes of an error response's body, when one was received.
    pub body: Option<String>,
    /// The headers of that response (shown by `-i` and `-v`; not in jsonl).
    pub headers: Vec<(String, String)>,
}

/// Why a run ended (the `reason` of the `close` line).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Close {
    /// The stream ended and no reconnection follows.
    Eof,
    /// Interrupted (SIGINT).
    Aborted,
    /// `--max-events` reached.
    MaxEvents,
    /// `--until-data` matched.
    UntilData,
    /// The server answered 204.
    NoContent,
    /// After an `error` line.
    Error,
}

impl Close {
    /// The contract's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Close::Eof => "eof",
            Close::Aborted => "aborted",
            Close::MaxEvents => "max_events",
            Close::UntilData => "until_data",
            Close::NoContent => "no_content",
            Close::Error => "error",
        }
    }

    /// The process exit code that goes with it.
    pub fn exit_code(self) -> i32 {
        match self {
            Close::Eof | Close::MaxEvents | Close::UntilData | Close::NoContent => 0,
            Close::Error => 1,
            Close::Aborted => 130,
        }
    }
}

/// One thing that happened during a run, in order.
#[derive(Clone, Debug)]
pub enum Item {
    /// The stream opened (on every successful connection).
    Open(Open),
    /// An event was dispatched.
    Event(postsource::Event),
    /// A comment line (`: text`).
    Comment(String),
    /// The server set the reconnection time (ms).
    Retry(u64),
    /// About to wait `delay_ms`, then make reconnection attempt `attempt`.
    Reconnect {
        /// 1 for the first attempt after a success.
        attempt: u64,
        /// The wait before it.
        delay_ms: u64,
    },
    /// A terminal failure.
    Error(Failure),
    /// The run ended.
    Close(Close),
}

/// Something that renders the run.
pub trait Sink: Send {
    /// Renders one item (and flushes, so every line is out as soon as it is written).
    fn write(&mut self, item: &Item) -> io::Result<()>;
}

/// `-o/--output`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// For people: event type, id and data laid out, JSON pretty-printed, colours on a terminal.
    Pretty,
    /// One JSON object per line, the stable format for programs (see the contract).
    Jsonl,
    /// Only each event's data, one event per line (for `| jq`).
    Data,
    /// The response body bytes as received.
    Raw,
}

/// `--color`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal and NO_COLOR is not set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// NO_COLOR is set (to anything but the empty string): <https://no-color.org>
pub fn no_color_env() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

impl ColorChoice {
    /// Whether to colour stdout.
    pub fn enabled(self) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => io::stdout().is_terminal() && !no_color_env(),
        }
    }
}

/// Options the writers share.
#[derive(Clone, Debug)]
pub struct Options {
    /// `-i`: show the status and response headers.
    pub include: bool,
    /// Colour stdout (pretty mode).
    pub color: bool,
    /// Show the spinner status line on stderr (pretty mode on a terminal).
    pub status_line: bool,
    /// Dim the status line (no NO_COLOR, no `--color never`).
    pub status_styled: bool,
}

/// The sink for the chosen output mode, writing to stdout.
pub fn for_mode(mode: Mode, opts: &Options, status: Option<StatusLine>) -> Box<dyn Sink> {
    let out: Box<dyn Write + Send> = Box::new(io::stdout());
    match mode {
        Mode::Jsonl => Box::new(jsonl::Jsonl::new(out)),
        Mode::Data => Box::new(data::Data::new(out, opts.include)),
        Mode::Raw => Box::new(raw::Raw::new(out, opts.include)),
        Mode::Pretty => Box::new(Pretty::new(
            out,
            opts.include,
            Palette::new(opts.color),
            status,
            Instant::now(),
        )),
    }
}

/// The usual first line of a human-readable response: `HTTP 200 OK`.
pub(crate) fn status_text(status: u16) -> String {
    let reason = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    format!("{status} {reason}").trim_end().to_owned()
}
