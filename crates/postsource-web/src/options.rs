//! The `PostSource` options, as the JS wrapper hands them over, mapped onto the
//! core's `protocol::Config`; and the `fetch` request built from them for each
//! connection attempt.
//!
//! Reading and validating the JS options object happens in `js/postsource.js`
//! (so a bad option throws a `TypeError` at `new PostSource(...)`, as
//! `new EventSource("bad url")` throws): there it is a few lines, while reading a
//! JS object field by field from wasm costs a binding and glue per field. What
//! arrives here is already normal: the method as fetch normalises it, a `RequestInit` with
//! method, headers (a `Headers`), body, credentials and `cache: "no-store"`, and the
//! numbers in the fixed order of [`Setting`] (`-1` for "not set").

use alloc::string::String;

use wasm_bindgen::prelude::*;
use web_sys::{AbortSignal, Headers, Request, RequestInit};

use postsource::protocol::{Config, Reconnect};

use crate::report::Limits;

/// How much of an error response's body `error.body` keeps, by default.
const DEFAULT_MAX_ERROR_BODY: usize = 64 * 1024;

/// The index of each number in the `settings` array from the JS wrapper (the
/// same order as its `SETTINGS` list).
#[derive(Clone, Copy)]
pub enum Setting {
    /// 0 `auto`, 1 `always`, 2 `never`.
    Reconnect,
    /// 1 to treat 429 and 503 as "try again later".
    RetryUnavailable,
    /// `retry` (ms).
    Retry,
    /// `maxRetries`.
    MaxRetries,
    /// `maxElapsed` (ms).
    MaxElapsed,
    /// `timeout` (ms).
    Timeout,
    /// `idleTimeout` (ms).
    IdleTimeout,
    /// `responseTimeout` (ms).
    ResponseTimeout,
    /// `maxEventSize` (bytes).
    MaxEventSize,
    /// `maxErrorBody` (bytes).
    MaxErrorBody,
}

/// The validated options of one stream.
pub struct Options {
    url: String,
    first: Attempt,
    /// The request of reconnections, when it differs (`resumeWithGet`).
    resume: Option<Attempt>,
    /// The policy, limits and timeouts, for the core's `Session`.
    pub config: Config,
    /// The timeouts, for the sentences of `error` events.
    pub limits: Limits,
    /// How many bytes of an error response's body to keep.
    pub max_error_body: usize,
}

impl Options {
    /// Map the wrapper's normalised options onto the core's `Config`, and build
    /// (and drop) one request so that a bad URL, method or header throws now.
    pub fn new(
        url: &str,
        method: &str,
        init: RequestInit,
        settings: &[f64],
        until_data: Option<String>,
        last_event_id: String,
    ) -> Result<Options, JsValue> {
        // A missing or negative entry is "not set"; `as` saturates.
        let get = |s: Setting| settings.get(s as usize).copied().filter(|n| *n >= 0.0);
        let ms = |s: Setting| get(s).map(|n| n as u64);
        let mut config = Config::for_method(method);
        config.reconnect = match get(Setting::Reconnect) {
            Some(1.0) => Reconnect::Always,
            Some(2.0) => Reconnect::Never,
            _ => Reconnect::Auto,
        };
        if let Some(retry) = ms(Setting::Retry) {
            config.retry_ms = retry;
        }
        config.max_retries = ms(Setting::MaxRetries).map(|n| n.min(u32::MAX.into()) as u32);
        config.max_elapsed_ms = ms(Setting::MaxElapsed);
        config.retry_unavailable = get(Setting::RetryUnavailable) == Some(1.0);
        config.total_timeout_ms = ms(Setting::Timeout);
        config.idle_timeout_ms = ms(Setting::IdleTimeout);
        // "No bytes for this long" also covers waiting for the response head.
        config.response_timeout_ms = ms(Setting::ResponseTimeout).or(config.idle_timeout_ms);
        config.until_data = until_data;
        if let Some(limit) = ms(Setting::MaxEventSize) {
            config.max_event_size = limit as usize;
            config.max_line_len = limit as usize;
        }
        config.resume.last_event_id = last_event_id;
        config.seed = (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64;
        let limits = Limits {
            total_ms: config.total_timeout_ms,
            idle_ms: config.idle_timeout_ms,
            response_ms: config.response_timeout_ms,
        };
        let options = Options {
            url: String::from(url),
            first: Attempt::new(init),
            resume: None,
            config,
            limits,
            max_error_body: ms(Setting::MaxErrorBody)
                .map_or(DEFAULT_MAX_ERROR_BODY, |n| n as usize),
        };
        options.request(0, "", None)?;
        Ok(options)
    }

    /// Reconnections are sent with `init` instead (built and dropped once here, as
    /// the first request is, so that a bad one throws now).
    pub fn resume_with(mut self, init: Option<RequestInit>) -> Result<Options, JsValue> {
        self.resume = init.map(Attempt::new);
        self.request(1, "", None)?;
        Ok(self)
    }

    /// The request for `attempt` (0 the first, then reconnections): the caller's
    /// headers plus `Accept` (unless set) and `Last-Event-ID` when one is known.
    /// `cache: "no-store"` (set by the wrapper in the `RequestInit`) stands in for
    /// the native client's `Cache-Control: no-cache`, which, as a request header,
    /// would force a CORS preflight on every cross-origin stream.
    pub fn request(
        &self,
        attempt: u32,
        last_event_id: &str,
        signal: Option<&AbortSignal>,
    ) -> Result<Request, JsValue> {
        let Attempt { init, headers } = match &self.resume {
            Some(resume) if attempt > 0 => resume,
            _ => &self.first,
        };
        let headers = Headers::new_with_headers(headers)?;
        if !headers.has("accept")? {
            headers.set("accept", "text/event-stream")?;
        }
        if !last_event_id.is_empty() {
            headers.set("last-event-id", &byte_string(last_event_id))?;
        }
        init.set_headers(&headers);
        init.set_signal(signal);
        Request::new_with_str_and_init(&self.url, init)
    }
}

/// A `RequestInit` and the caller's headers in it, which each attempt copies.
struct Attempt {
    init: RequestInit,
    headers: Headers,
}

impl Attempt {
    fn new(init: RequestInit) -> Attempt {
        let headers = init.get_headers().unchecked_into();
        Attempt { init, headers }
    }
}

/// `text`'s UTF-8 bytes as a JS "ByteString", one character per byte: how fetch
/// takes a header value's bytes. The spec sends `Last-Event-ID` as UTF-8; given
/// the id itself, `Headers` would throw on any character above U+00FF, and send
/// the rest as Latin-1.
fn byte_string(text: &str) -> String {
    text.bytes().map(char::from).collect()
}
