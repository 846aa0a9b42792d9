//! The reqwest-style builder: it reads like the request (method, URL, headers,
//! body), then the EventSource behaviour (reconnection, timeouts, limits). Usage
//! errors are kept and reported once, by [`EventSourceBuilder::build`].

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http::Method;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use url::Url;

use super::error::Error;
use super::request::{Parts, ReconnectRequest, set_last_event_id};
use super::{EventSource, RedirectPolicy};
use crate::protocol::{self, Config, ReconnectInfo, ResumeState};

/// Whether to reconnect after the connection ends (EOF or a network error).
#[derive(Clone, Default)]
pub enum Reconnect {
    /// Only when safe: an idempotent method (GET, HEAD, PUT, DELETE, OPTIONS), or
    /// the server has sent an event id in this stream (an id set with
    /// `last_event_id` or `resume` alone does not count). A POST without ids is
    /// never re-sent.
    #[default]
    Auto,
    /// Always (as the browser's `EventSource`).
    Always,
    /// Never.
    Never,
    /// Ask a function; see [`Reconnect::custom`].
    Custom(Decide),
}

impl Reconnect {
    /// Decide with a function of why the connection ended, the attempt number, the
    /// last event id and what `Auto` would do.
    pub fn custom(f: impl Fn(&ReconnectInfo) -> bool + Send + Sync + 'static) -> Self {
        Reconnect::Custom(Arc::new(f))
    }
}

impl fmt::Debug for Reconnect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Reconnect::Auto => "Auto",
            Reconnect::Always => "Always",
            Reconnect::Never => "Never",
            Reconnect::Custom(_) => "Custom(..)",
        })
    }
}

/// The function behind [`Reconnect::Custom`].
pub type Decide = Arc<dyn Fn(&ReconnectInfo) -> bool + Send + Sync>;

pub(super) type ReconnectHook = Arc<dyn Fn(&mut ReconnectRequest) + Send + Sync>;
pub(super) type BytesTap = Arc<dyn Fn(&Bytes) + Send + Sync>;

/// The caller's functions, behind one pointer in the source: most sources have
/// none, and a source lives as long as its stream.
pub(super) struct Callbacks {
    pub decide: Option<Decide>,
    pub hook: Option<ReconnectHook>,
    pub tap: Option<BytesTap>,
}

impl Callbacks {
    /// A source without callbacks.
    pub const NONE: Callbacks = Callbacks {
        decide: None,
        hook: None,
        tap: None,
    };

    fn boxed(self) -> Option<Box<Self>> {
        let any = self.decide.is_some() || self.hook.is_some() || self.tap.is_some();
        any.then(|| Box::new(self))
    }
}

/// Builds an [`EventSource`]. Start with [`EventSource::get`], [`EventSource::post`],
/// [`EventSource::new`] or [`EventSource::from_request`].
#[must_use = "a builder does nothing until .build()"]
pub struct EventSourceBuilder {
    client: Option<reqwest::Client>,
    parts: Result<Parts, Error>,
    config: Config,
    reconnect: Reconnect,
    connect_timeout: Option<Duration>,
    insecure: bool,
    compressed: bool,
    max_error_body: usize,
    redirect: Option<RedirectPolicy>,
    hook: Option<ReconnectHook>,
    tap: Option<BytesTap>,
}

impl fmt::Debug for EventSourceBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventSourceBuilder")
            .field(
                "request",
                &self.parts.as_ref().map(|p| (&p.method, p.url.as_str())),
            )
            .field("config", &self.config)
            .field("reconnect", &self.reconnect)
            .finish_non_exhaustive()
    }
}

/// The default for [`EventSourceBuilder::max_error_body`]: 64 KiB.
pub const DEFAULT_MAX_ERROR_BODY: usize = 64 * 1024;

impl EventSourceBuilder {
    pub(super) fn new(method: Method, url: &str) -> Self {
        let parts = Url::parse(url)
            .map_err(|e| Error::builder(format!("invalid URL {url:?}: {e}")))
            .map(|url| Parts {
                method,
                url,
                headers: HeaderMap::new(),
                body: None,
            });
        Self::from_parts(None, parts)
    }

    pub(super) fn from_request(request: reqwest::RequestBuilder) -> Self {
        let (client, request) = request.build_split();
        let parts = request
            .map_err(|e| Error::builder("invalid request").with_source(e))
            .and_then(|req| {
                let body = match req.body() {
                    None => None,
                    Some(body) => Some(Bytes::copy_from_slice(body.as_bytes().ok_or_else(
                        || {
                            Error::builder(
                                "a streaming request body cannot be sent again on reconnection",
                            )
                        },
                    )?)),
                };
                Ok(Parts {
                    method: req.method().clone(),
                    url: req.url().clone(),
                    headers: req.headers().clone(),
                    body,
                })
            });
        Self::from_parts(Some(client), parts)
    }

    fn from_parts(client: Option<reqwest::Client>, parts: Result<Parts, Error>) -> Self {
        EventSourceBuilder {
            client,
            parts,
            config: Config::default(),
            reconnect: Reconnect::Auto,
            connect_timeout: None,
            insecure: false,
            compressed: false,
            max_error_body: DEFAULT_MAX_ERROR_BODY,
            redirect: None,
            hook: None,
            tap: None,
        }
    }

    fn edit(mut self, f: impl FnOnce(&mut Parts) -> Result<(), Error>) -> Self {
        if let Ok(parts) = &mut self.parts {
            if let Err(e) = f(parts) {
                self.parts = Err(e);
            }
        }
        self
    }

    /// Use this client (its TLS, proxy, pool and redirect settings apply; see
    /// [`RedirectPolicy`]). Default: a shared client with rustls, HTTP/2 and
    /// redirects handled by this crate. To keep this crate's POST-aware redirects
    /// with your client, build it with `reqwest::redirect::Policy::none()` and set
    /// [`redirect_policy`](Self::redirect_policy) explicitly.
    pub fn client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// The method.
    pub fn method(self, method: Method) -> Self {
        self.edit(|p| {
            p.method = method;
            Ok(())
        })
    }

    /// Add a header (repeatable; `Accept` and `Cache-Control` given here replace
    /// the defaults).
    pub fn header<K, V>(self, name: K, value: V) -> Self
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
    {
        self.edit(|p| {
            let name = HeaderName::try_from(name)
                .map_err(|e| Error::builder("invalid header name").with_source(e.into()))?;
            let value = HeaderValue::try_from(value).map_err(|e| {
                Error::builder(format!("invalid value for header {name}")).with_source(e.into())
            })?;
            p.headers.append(name, value);
            Ok(())
        })
    }

    /// Add all these headers.
    pub fn headers(self, headers: HeaderMap) -> Self {
        self.edit(|p| {
            let mut last = None;
            for (name, value) in headers {
                let name = name
                    .or_else(|| last.clone())
                    .expect("HeaderMap yields a name first");
                p.headers.append(name.clone(), value);
                last = Some(name);
            }
            Ok(())
        })
    }

    /// `Authorization: Bearer <token>` (marked sensitive).
    pub fn bearer_auth(self, token: impl fmt::Display) -> Self {
        self.edit(|p| {
            let mut value = HeaderValue::try_from(format!("Bearer {token}"))
                .map_err(|e| Error::builder("invalid bearer token").with_source(e))?;
            value.set_sensitive(true);
            p.headers.insert(header::AUTHORIZATION, value);
            Ok(())
        })
    }

    /// The request body, sent as is (and again on each reconnection).
    pub fn body(self, body: impl Into<Bytes>) -> Self {
        self.edit(|p| {
            p.body = Some(body.into());
            Ok(())
        })
    }

    /// A JSON body, with `Content-Type: application/json` unless already set.
    pub fn json<T: serde::Serialize + ?Sized>(self, value: &T) -> Self {
        self.edit(|p| {
            let bytes = serde_json::to_vec(value)
                .map_err(|e| Error::builder("cannot serialize the JSON body").with_source(e))?;
            p.body = Some(bytes.into());
            p.headers
                .entry(header::CONTENT_TYPE)
                .or_insert(HeaderValue::from_static("application/json"));
            Ok(())
        })
    }

    /// The last event id for the first request (sent as `Last-Event-ID`).
    pub fn last_event_id(mut self, id: impl Into<String>) -> Self {
        self.config.resume.last_event_id = id.into();
        self
    }

    /// Resume from a saved [`EventSource::resume_state`] (last id and `retry:`).
    pub fn resume(mut self, state: ResumeState) -> Self {
        self.config.resume = state;
        self
    }

    /// The reconnection policy (default [`Reconnect::Auto`]).
    pub fn reconnect(mut self, policy: Reconnect) -> Self {
        self.reconnect = policy;
        self
    }

    /// Build each reconnection request with this function: it receives the
    /// original request with `Last-Event-ID` set, and may change anything (e.g.
    /// [`ReconnectRequest::into_get`] to resume a POST's stream with a GET, or
    /// fresh credentials).
    pub fn reconnect_request(
        mut self,
        hook: impl Fn(&mut ReconnectRequest) + Send + Sync + 'static,
    ) -> Self {
        self.hook = Some(Arc::new(hook));
        self
    }

    /// At most this many reconnection attempts in a row without an event.
    pub fn max_retries(mut self, n: u32) -> Self {
        self.config.max_retries = Some(n);
        self
    }

    /// Stop reconnecting when it has gone on this long without an event.
    pub fn max_elapsed(mut self, limit: Duration) -> Self {
        self.config.max_elapsed_ms = Some(ms(limit));
        self
    }

    /// The initial reconnection time (default 3 s; the server's `retry:` replaces it).
    pub fn retry(mut self, delay: Duration) -> Self {
        self.config.retry_ms = ms(delay);
        self
    }

    /// The cap on one backoff delay (default 30 s; a longer server `retry:` wins).
    pub fn max_retry_delay(mut self, cap: Duration) -> Self {
        self.config.max_delay_ms = ms(cap);
        self
    }

    /// Randomise repeated backoff delays (default on).
    pub fn jitter(mut self, on: bool) -> Self {
        self.config.jitter = on;
        self
    }

    /// Retry 429 and 503 responses after their `Retry-After` (or the backoff),
    /// counting as reconnection attempts. Default off: they are `Status` errors.
    pub fn retry_unavailable(mut self, on: bool) -> Self {
        self.config.retry_unavailable = on;
        self
    }

    /// The whole run, from `build()`: then a [`Timeout::Total`](super::Timeout::Total) error.
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.config.total_timeout_ms = Some(ms(limit));
        self
    }

    /// Connecting (TCP and TLS), per attempt. Only for the builder's own client.
    pub fn connect_timeout(mut self, limit: Duration) -> Self {
        self.connect_timeout = Some(limit);
        self
    }

    /// From sending a request to its response head, per attempt.
    pub fn response_timeout(mut self, limit: Duration) -> Self {
        self.config.response_timeout_ms = Some(ms(limit));
        self
    }

    /// No bytes for this long (a keep-alive comment resets it): the connection is
    /// dropped and reconnected per the policy, else an `IdleTimeout` error.
    pub fn idle_timeout(mut self, limit: Duration) -> Self {
        self.config.idle_timeout_ms = Some(ms(limit));
        self
    }

    /// No event for this long (comments do not reset it): as `idle_timeout`.
    pub fn event_timeout(mut self, limit: Duration) -> Self {
        self.config.event_timeout_ms = Some(ms(limit));
        self
    }

    /// The largest event data accepted, in bytes (then a `TooLarge` error).
    pub fn max_event_size(mut self, bytes: usize) -> Self {
        self.config.max_event_size = bytes;
        self
    }

    /// The longest line accepted, in bytes (then a `TooLarge` error).
    pub fn max_line_len(mut self, bytes: usize) -> Self {
        self.config.max_line_len = bytes;
        self
    }

    /// Yield comment lines as [`SseItem::Comment`](super::SseItem::Comment).
    pub fn comments(mut self, on: bool) -> Self {
        self.config.comments = on;
        self
    }

    /// End normally after an event whose data equals `sentinel` (e.g. `[DONE]`);
    /// that event is yielded, then `Closed(UntilData)`.
    pub fn until_data(mut self, sentinel: impl Into<String>) -> Self {
        self.config.until_data = Some(sentinel.into());
        self
    }

    /// How many bytes of a rejected response's body an error keeps (default
    /// [`DEFAULT_MAX_ERROR_BODY`]; 0 keeps none). The body is read for at most 10 s,
    /// and no longer than the idle timeout without bytes or the total timeout; the
    /// error then carries what had arrived.
    pub fn max_error_body(mut self, bytes: usize) -> Self {
        self.max_error_body = bytes;
        self
    }

    /// How redirects are followed (default [`RedirectPolicy::default`]; with
    /// your own [`client`](Self::client), only when set here).
    pub fn redirect_policy(mut self, policy: RedirectPolicy) -> Self {
        self.redirect = Some(policy);
        self
    }

    /// Accept any TLS certificate (self-signed, expired, wrong host). Dangerous;
    /// for tests and local development. Only for the builder's own client.
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.insecure = accept;
        self
    }

    /// Ask for and decode gzip, brotli and deflate responses (default off: an
    /// event stream is usually sent as is, and compressing proxies may buffer it).
    /// Only for the builder's own client; needs the `compression` feature.
    #[cfg(feature = "compression")]
    pub fn compressed(mut self, on: bool) -> Self {
        self.compressed = on;
        self
    }

    /// See every chunk of an opened stream's body exactly as read, before it is
    /// parsed (on every connection; not for rejected responses' bodies).
    pub fn on_bytes(mut self, tap: impl Fn(&Bytes) + Send + Sync + 'static) -> Self {
        self.tap = Some(Arc::new(tap));
        self
    }

    /// Check everything and make the source. Nothing is sent until it is polled.
    ///
    /// # Errors
    /// [`ErrorKind::Builder`](super::ErrorKind::Builder) for an invalid URL,
    /// header or body, or a client that cannot be made (TLS setup).
    pub fn build(self) -> Result<EventSource, Error> {
        let mut parts = self.parts?;
        if !matches!(parts.url.scheme(), "http" | "https") {
            return Err(Error::builder(format!("not an HTTP URL: {}", parts.url)));
        }
        parts.take_url_credentials();
        if self.client.is_some()
            && (self.connect_timeout.is_some() || self.insecure || self.compressed)
        {
            return Err(Error::builder(
                "connect_timeout, danger_accept_invalid_certs and compressed are settings of \
                 the builder's own client: set them on the reqwest client given to client()",
            ));
        }
        let mut config = self.config;
        if config.resume.last_event_id.is_empty() {
            // A Last-Event-ID header given by hand is the initial id: the session
            // must know it too, to keep sending it until the server sends another.
            if let Some(id) = parts
                .headers
                .get("last-event-id")
                .and_then(|v| v.to_str().ok())
            {
                config.resume.last_event_id = id.to_owned();
            }
        }
        set_last_event_id(&mut parts.headers, &config.resume.last_event_id);
        parts.headers = compact(std::mem::take(&mut parts.headers));
        let redirect = match (&self.client, self.redirect) {
            (_, Some(policy)) => policy,
            (None, None) => RedirectPolicy::default(),
            (Some(_), None) => RedirectPolicy::none(),
        };
        let client = match self.client {
            Some(client) => client,
            None => default_client(ClientKey {
                connect_timeout: self.connect_timeout,
                insecure: self.insecure,
                compressed: self.compressed,
            })?,
        };
        config.idempotent = protocol::is_idempotent(parts.method.as_str());
        config.reconnect = match self.reconnect {
            Reconnect::Auto => protocol::Reconnect::Auto,
            Reconnect::Always => protocol::Reconnect::Always,
            Reconnect::Never => protocol::Reconnect::Never,
            Reconnect::Custom(_) => protocol::Reconnect::Ask,
        };
        config.seed = fastrand::u64(..);
        let decide = match self.reconnect {
            Reconnect::Custom(f) => Some(f),
            _ => None,
        };
        Ok(EventSource::start(super::Setup {
            client,
            parts,
            config,
            callbacks: Callbacks {
                decide,
                hook: self.hook,
                tap: self.tap,
            }
            .boxed(),
            redirect,
            max_error_body: self.max_error_body,
        }))
    }
}

/// The same headers in a map sized to them: the source keeps its request for
/// its whole life (reconnections resend it), and a map grown one header at a time
/// holds room for six (about 600 bytes for the usual two).
fn compact(headers: HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::with_capacity(headers.len());
    let mut last: Option<HeaderName> = None;
    for (name, value) in headers {
        if name.is_some() {
            last = name;
        }
        let name = last.clone().expect("HeaderMap yields a name first");
        out.append(name, value);
    }
    out
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// What distinguishes the clients the builder makes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct ClientKey {
    connect_timeout: Option<Duration>,
    insecure: bool,
    compressed: bool,
}

/// Response headers the builder's own client reads before it gives up on a head.
const MAX_RESPONSE_HEADERS: usize = 1000;

/// One shared client per set of settings: a client owns a pool and a TLS
/// configuration, which are costly to make for every stream.
fn default_client(key: ClientKey) -> Result<reqwest::Client, Error> {
    static CLIENTS: OnceLock<Mutex<HashMap<ClientKey, reqwest::Client>>> = OnceLock::new();
    let mut clients = CLIENTS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(client) = clients.get(&key) {
        return Ok(client.clone());
    }
    // Decoding stays off unless asked for, even when another crate in the build
    // enables reqwest's codecs. Response heads that curl and browsers read are read
    // too: folded header lines (RFC 9112 5.2 asks a client to unfold them), a space
    // before the colon, and more than hyper's 100 headers.
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_gzip()
        .no_brotli()
        .no_deflate()
        .no_zstd()
        .http1_allow_obsolete_multiline_headers_in_responses(true)
        .http1_allow_spaces_after_header_name_in_responses(true)
        .http1_max_headers(MAX_RESPONSE_HEADERS)
        .danger_accept_invalid_certs(key.insecure);
    if let Some(limit) = key.connect_timeout {
        builder = builder.connect_timeout(limit);
    }
    #[cfg(feature = "compression")]
    {
        builder = builder
            .gzip(key.compressed)
            .brotli(key.compressed)
            .deflate(key.compressed);
    }
    let client = builder
        .build()
        .map_err(|e| Error::builder("cannot make the HTTP client").with_source(e))?;
    clients.insert(key, client.clone());
    Ok(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_keeps_every_value_in_order() {
        let mut headers = HeaderMap::new();
        headers.append("x-a", HeaderValue::from_static("1"));
        headers.append(
            header::ACCEPT,
            HeaderValue::from_static("text/event-stream"),
        );
        headers.append("x-a", HeaderValue::from_static("2"));
        let mut secret = HeaderValue::from_static("Bearer t");
        secret.set_sensitive(true);
        headers.insert(header::AUTHORIZATION, secret);
        let out = compact(headers.clone());
        assert_eq!(out, headers);
        let a: Vec<_> = out.get_all("x-a").iter().collect();
        assert_eq!(a, ["1", "2"]);
        assert!(out[header::AUTHORIZATION].is_sensitive());
        assert!(compact(HeaderMap::new()).is_empty());
    }
}
