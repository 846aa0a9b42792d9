//! What a [`Session`](super::Session) is told up front: the reconnection policy,
//! the backoff, the limits and the timeouts, and where to resume from.
//!
//! Plain data with public fields and spec defaults, so a shell (tokio, wasm) maps
//! its own builder onto it field by field and nothing is hidden from tests.

use alloc::string::String;

/// Whether the stream is re-established after the connection ends (EOF or a
/// network error). A rejected response (status, content type) never reconnects.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reconnect {
    /// Reconnect only when it is safe: the method is idempotent (GET, HEAD, PUT,
    /// DELETE, OPTIONS), or the server has issued an event id in this session (and
    /// the last one is not empty), so the request can resume instead of repeating
    /// work. A POST without ids is never re-sent, nor one that only carries an id
    /// restored from a [`ResumeState`] until the server sends one of its own.
    #[default]
    Auto,
    /// Always reconnect (the spec's `EventSource`, for any method).
    Always,
    /// Never reconnect: the first end of the connection ends the stream.
    Never,
    /// Ask the shell: the session emits [`Output::AskReconnect`](super::Output::AskReconnect)
    /// and waits for [`Session::answer_reconnect`](super::Session::answer_reconnect).
    Ask,
}

/// Where a stream resumes from: what a client saves to survive a restart.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResumeState {
    /// The last event id ("" for none). Sent as `Last-Event-ID` when not empty.
    pub last_event_id: String,
    /// The reconnection time in milliseconds, if the server set one with `retry:`.
    pub retry_ms: Option<u64>,
}

/// The reconnection time the spec suggests when the server sets none: 3 s.
pub const DEFAULT_RETRY_MS: u64 = 3000;
/// The default cap on one backoff delay: 30 s (a server's longer `retry:` wins).
pub const DEFAULT_MAX_DELAY_MS: u64 = 30_000;

/// Everything a [`Session`](super::Session) needs to know before it starts.
///
/// Times are milliseconds; `None` means "no limit".
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// The request method is idempotent (see [`is_idempotent`](super::is_idempotent)).
    pub idempotent: bool,
    /// The reconnection policy.
    pub reconnect: Reconnect,
    /// The initial reconnection time (default [`DEFAULT_RETRY_MS`]); a server's
    /// `retry:` replaces it.
    pub retry_ms: u64,
    /// The cap on one backoff delay (default [`DEFAULT_MAX_DELAY_MS`]).
    pub max_delay_ms: u64,
    /// Randomise the backoff of repeated failures (the first reconnection after a
    /// healthy stream waits exactly the reconnection time, as the spec says).
    pub jitter: bool,
    /// At most this many reconnection attempts in a row; an event resets the count.
    pub max_retries: Option<u32>,
    /// Give up when reconnecting has gone on this long without an event.
    pub max_elapsed_ms: Option<u64>,
    /// Treat 429 and 503 as "try again later" (honouring `Retry-After`) instead of
    /// a failure.
    pub retry_unavailable: bool,
    /// From sending a request to its response head.
    pub response_timeout_ms: Option<u64>,
    /// With the stream open: no bytes at all for this long (comments count).
    pub idle_timeout_ms: Option<u64>,
    /// With the stream open: no event for this long (comments do not count).
    pub event_timeout_ms: Option<u64>,
    /// The whole run, from the session's start.
    pub total_timeout_ms: Option<u64>,
    /// End normally after an event whose data equals this (e.g. `[DONE]`).
    pub until_data: Option<String>,
    /// Report comment lines.
    pub comments: bool,
    /// The parser's line limit, in bytes.
    pub max_line_len: usize,
    /// The parser's event size limit, in bytes.
    pub max_event_size: usize,
    /// The initial resume state (last event id for the first request, retry).
    pub resume: ResumeState,
    /// Seed for the backoff jitter: the shell passes a random value.
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            idempotent: true,
            reconnect: Reconnect::Auto,
            retry_ms: DEFAULT_RETRY_MS,
            max_delay_ms: DEFAULT_MAX_DELAY_MS,
            jitter: true,
            max_retries: None,
            max_elapsed_ms: None,
            retry_unavailable: false,
            response_timeout_ms: None,
            idle_timeout_ms: None,
            event_timeout_ms: None,
            total_timeout_ms: None,
            until_data: None,
            comments: false,
            max_line_len: crate::parse::DEFAULT_MAX_LINE_LEN,
            max_event_size: crate::parse::DEFAULT_MAX_EVENT_SIZE,
            resume: ResumeState::default(),
            seed: 0,
        }
    }
}

impl Config {
    /// The defaults for a request with this method.
    pub fn for_method(method: &str) -> Self {
        Config {
            idempotent: super::is_idempotent(method),
            ..Config::default()
        }
    }
}

/// No limit, as a time: later than any `now` a shell can pass.
pub(super) const NEVER: u64 = u64::MAX;

/// A time as the API reports it: `None` for [`NEVER`].
pub(super) fn finite(at: u64) -> Option<u64> {
    (at != NEVER).then_some(at)
}

/// What a session keeps of its [`Config`] once started: the rules it applies on
/// every step, with deadlines as plain numbers ([`NEVER`] for none). The parser's
/// limits, the resume state and the seed are used once and not kept: a client
/// holds one session per open stream, for as long as the stream lives.
#[derive(Debug)]
pub(super) struct Policy {
    pub idempotent: bool,
    pub reconnect: Reconnect,
    pub jitter: bool,
    pub retry_unavailable: bool,
    pub max_retries: Option<u32>,
    pub max_delay_ms: u64,
    pub max_elapsed_ms: u64,
    pub response_timeout_ms: u64,
    pub idle_timeout_ms: u64,
    pub event_timeout_ms: u64,
    /// The end of the whole run (absolute).
    pub total_deadline: u64,
    pub until_data: Option<alloc::boxed::Box<str>>,
}

impl Policy {
    pub fn new(config: Config, now: u64) -> Self {
        let limit = |ms: Option<u64>| ms.unwrap_or(NEVER);
        Policy {
            idempotent: config.idempotent,
            reconnect: config.reconnect,
            jitter: config.jitter,
            retry_unavailable: config.retry_unavailable,
            max_retries: config.max_retries,
            max_delay_ms: config.max_delay_ms,
            max_elapsed_ms: limit(config.max_elapsed_ms),
            response_timeout_ms: limit(config.response_timeout_ms),
            idle_timeout_ms: limit(config.idle_timeout_ms),
            event_timeout_ms: limit(config.event_timeout_ms),
            total_deadline: config
                .total_timeout_ms
                .map_or(NEVER, |ms| now.saturating_add(ms)),
            until_data: config.until_data.map(String::into_boxed_str),
        }
    }
}
