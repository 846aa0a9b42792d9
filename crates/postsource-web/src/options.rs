//! The `PostSource` options, read once from the JS object, validated, and mapped
//! onto the core's `protocol::Config`; and the `fetch` request built from them
//! for each connection attempt.
//!
//! Validation happens in the constructor so that a bad option throws a
//! `TypeError` at `new PostSource(...)`, as `new EventSource("bad url")` throws,
//! instead of surfacing later as an `error` event.

use alloc::string::String;

use js_sys::{Reflect, TypeError};
use wasm_bindgen::prelude::*;
use web_sys::{AbortSignal, Headers, Request, RequestCache, RequestCredentials, RequestInit};

use postsource::protocol::{Config, Reconnect};

use crate::report::Limits;

/// How much of an error response's body `error.body` keeps, by default.
const DEFAULT_MAX_ERROR_BODY: usize = 64 * 1024;

/// The validated options of one stream.
pub struct Options {
    url: String,
    method: String,
    headers: Headers,
    body: JsValue,
    credentials: RequestCredentials,
    /// The policy, limits and timeouts, for the core's `Session`.
    pub config: Config,
    /// The timeouts, for the sentences of `error` events.
    pub limits: Limits,
    /// How many bytes of an error response's body to keep.
    pub max_error_body: usize,
}

fn get(options: &JsValue, key: &str) -> Result<JsValue, JsValue> {
    if options.is_object() {
        Reflect::get(options, &JsValue::from_str(key))
    } else {
        Ok(JsValue::UNDEFINED)
    }
}

fn bad(message: &str) -> JsValue {
    TypeError::new(message).into()
}

fn opt_string(options: &JsValue, key: &str) -> Result<Option<String>, JsValue> {
    let value = get(options, key)?;
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value.as_string().map(Some).ok_or_else(|| bad(key))
}

/// A non-negative number of milliseconds (or bytes); `undefined`/`null`/`Infinity`
/// mean "no limit".
fn opt_number(options: &JsValue, key: &str) -> Result<Option<f64>, JsValue> {
    let value = get(options, key)?;
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    match value.as_f64() {
        Some(n) if n.is_infinite() && n > 0.0 => Ok(None),
        Some(n) if n >= 0.0 => Ok(Some(n)),
        _ => Err(bad(key)),
    }
}

impl Options {
    /// Read and check `options` (any object; unknown keys are ignored).
    pub fn read(url: &str, options: &JsValue) -> Result<Options, JsValue> {
        let body = get(options, "body")?;
        let has_body = !(body.is_undefined() || body.is_null());
        let method = match opt_string(options, "method")? {
            Some(m) => m.to_ascii_uppercase(),
            None if has_body => String::from("POST"),
            None => String::from("GET"),
        };
        let headers = get(options, "headers")?;
        let headers = match headers.dyn_into::<Headers>() {
            Ok(h) => Headers::new_with_headers(&h)?,
            Err(h) if h.is_undefined() || h.is_null() => Headers::new()?,
            Err(h) => match h.dyn_into::<js_sys::Array>() {
                Ok(pairs) => Headers::new_with_str_sequence_sequence(&pairs)?,
                Err(h) => Headers::new_with_record_from_str_to_str(h.unchecked_ref())?,
            },
        };
        let with_credentials = get(options, "withCredentials")?.is_truthy();
        let credentials = match opt_string(options, "credentials")?.as_deref() {
            Some("omit") => RequestCredentials::Omit,
            Some("include") => RequestCredentials::Include,
            Some("same-origin") => RequestCredentials::SameOrigin,
            None if with_credentials => RequestCredentials::Include,
            None => RequestCredentials::SameOrigin,
            Some(_) => return Err(bad("credentials")),
        };
        let reconnect = get(options, "reconnect")?;
        let reconnect = if reconnect.is_undefined() || reconnect.is_null() {
            Reconnect::Auto
        } else if let Some(b) = reconnect.as_bool() {
            if b {
                Reconnect::Always
            } else {
                Reconnect::Never
            }
        } else {
            match reconnect.as_string().as_deref() {
                Some("auto") => Reconnect::Auto,
                Some("always") => Reconnect::Always,
                Some("never") => Reconnect::Never,
                _ => return Err(bad("reconnect")),
            }
        };
        let ms = |key| opt_number(options, key).map(|n| n.map(|n| n as u64));
        let mut config = Config::for_method(&method);
        config.reconnect = reconnect;
        if let Some(retry) = ms("retry")? {
            config.retry_ms = retry;
        }
        config.max_retries = ms("maxRetries")?.map(|n| n.min(u32::MAX.into()) as u32);
        config.max_elapsed_ms = ms("maxElapsed")?;
        config.retry_unavailable = get(options, "retryUnavailable")?.is_truthy();
        config.total_timeout_ms = ms("timeout")?;
        config.idle_timeout_ms = ms("idleTimeout")?;
        // "No bytes for this long" also covers waiting for the response head.
        config.response_timeout_ms = ms("responseTimeout")?.or(config.idle_timeout_ms);
        config.until_data = opt_string(options, "untilData")?;
        if let Some(limit) = ms("maxEventSize")? {
            config.max_event_size = limit as usize;
            config.max_line_len = limit as usize;
        }
        config.resume.last_event_id = opt_string(options, "lastEventId")?.unwrap_or_default();
        config.seed = (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64;
        let limits = Limits {
            total_ms: config.total_timeout_ms,
            idle_ms: config.idle_timeout_ms,
            response_ms: config.response_timeout_ms,
        };
        let options = Options {
            url: String::from(url),
            method,
            headers,
            body,
            credentials,
            config,
            limits,
            max_error_body: ms("maxErrorBody")?.map_or(DEFAULT_MAX_ERROR_BODY, |n| n as usize),
        };
        // Build (and drop) one request now so a bad URL, method or header throws here.
        options.request("", None)?;
        Ok(options)
    }

    /// The request for one attempt: the caller's headers plus `Accept` (unless
    /// set) and `Last-Event-ID` when one is known. `cache: "no-store"` stands in
    /// for the native client's `Cache-Control: no-cache`, which, as a request
    /// header, would force a CORS preflight on every cross-origin stream.
    pub fn request(
        &self,
        last_event_id: &str,
        signal: Option<&AbortSignal>,
    ) -> Result<Request, JsValue> {
        let headers = Headers::new_with_headers(&self.headers)?;
        if !headers.has("accept")? {
            headers.set("accept", "text/event-stream")?;
        }
        if !last_event_id.is_empty() {
            headers.set("last-event-id", last_event_id)?;
        }
        let init = RequestInit::new();
        init.set_method(&self.method);
        init.set_headers(&headers);
        if !(self.body.is_undefined() || self.body.is_null()) {
            init.set_body(&self.body);
        }
        init.set_credentials(self.credentials);
        init.set_cache(RequestCache::NoStore);
        init.set_signal(signal);
        Request::new_with_str_and_init(&self.url, &init)
    }
}
