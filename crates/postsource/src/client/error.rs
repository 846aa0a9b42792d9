//! The client's error: one type whose [`kind`](Error::kind) says what went wrong in
//! the terms of the CLI contract, carrying the context a caller needs to act on it
//! (status, headers and the first bytes of an error body, the URL, which timeout,
//! how many reconnection attempts), with the transport error as its `source`.

use std::borrow::Cow;
use std::fmt;

use http::{HeaderMap, StatusCode};
use url::Url;

use crate::protocol::Limit;

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What kind of failure an [`Error`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request could not be built (bad URL, header, body): a usage error.
    Builder,
    /// The connection could not be made (refused, DNS, TLS).
    Connect,
    /// A connect, response-head or total timeout (see [`Error::timeout`]).
    Timeout,
    /// No bytes, or no event, for the idle time (see [`Error::timeout`]).
    IdleTimeout,
    /// The response status was not 200 (nor 204).
    Status,
    /// A 200 response whose content type is not `text/event-stream`.
    ContentType,
    /// The server went over the line or event size limit.
    TooLarge,
    /// The connection failed or ended and the policy did not reconnect.
    Io,
    /// A redirect could not be followed (limit, method change refused, bad URL).
    Redirect,
}

impl ErrorKind {
    /// The name of this kind in the CLI contract's `error` lines (`connect`,
    /// `timeout`, `idle_timeout`, `status`, `content_type`, `too_large`, `io`;
    /// `usage` for builder errors, `redirect` for redirect failures).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Builder => "usage",
            ErrorKind::Connect => "connect",
            ErrorKind::Timeout => "timeout",
            ErrorKind::IdleTimeout => "idle_timeout",
            ErrorKind::Status => "status",
            ErrorKind::ContentType => "content_type",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::Io => "io",
            ErrorKind::Redirect => "redirect",
        }
    }
}

/// Which timeout expired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Timeout {
    /// Connecting (TCP and TLS) took too long.
    Connect,
    /// No response head in time.
    Response,
    /// No bytes in time (a keep-alive comment counts).
    Idle,
    /// No event in time (comments do not count).
    Event,
    /// The whole run took too long.
    Total,
}

/// A failure of an [`EventSource`](super::EventSource). Terminal: the stream ends
/// after it.
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    message: Cow<'static, str>,
    timeout: Option<Timeout>,
    status: Option<StatusCode>,
    headers: Option<HeaderMap>,
    body: Option<String>,
    url: Option<Url>,
    gave_up: Option<(Limit, u32)>,
    source: Option<BoxError>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Error {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
                timeout: None,
                status: None,
                headers: None,
                body: None,
                url: None,
                gave_up: None,
                source: None,
            }),
        }
    }

    pub(crate) fn builder(message: impl Into<Cow<'static, str>>) -> Self {
        Error::new(ErrorKind::Builder, message)
    }

    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.inner.source = Some(source.into());
        self
    }

    pub(crate) fn with_timeout(mut self, timeout: Timeout) -> Self {
        self.inner.timeout = Some(timeout);
        self
    }

    pub(crate) fn with_url(mut self, url: Option<Url>) -> Self {
        self.inner.url = url;
        self
    }

    pub(crate) fn with_response(
        mut self,
        status: StatusCode,
        headers: HeaderMap,
        body: Option<String>,
    ) -> Self {
        self.inner.status = Some(status);
        self.inner.headers = Some(headers);
        self.inner.body = body;
        self
    }

    pub(crate) fn with_gave_up(mut self, limit: Limit, attempts: u32) -> Self {
        self.inner.gave_up = Some((limit, attempts));
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The status of a rejected response (kinds `Status`, `ContentType`).
    pub fn status(&self) -> Option<StatusCode> {
        self.inner.status
    }

    /// The headers of a rejected response.
    pub fn headers(&self) -> Option<&HeaderMap> {
        self.inner.headers.as_ref()
    }

    /// The first bytes of a rejected response's body (up to the builder's
    /// `max_error_body`), lossily decoded as UTF-8: e.g. an API's JSON error.
    pub fn body(&self) -> Option<&str> {
        self.inner.body.as_deref()
    }

    /// The URL of the request that failed (after redirects).
    pub fn url(&self) -> Option<&Url> {
        self.inner.url.as_ref()
    }

    /// Which timeout expired, for the timeout kinds.
    pub fn timeout(&self) -> Option<Timeout> {
        self.inner.timeout
    }

    /// The reconnection attempts made in a row, when the client gave up because
    /// `max_retries` or `max_elapsed` ran out.
    pub fn retries_exhausted(&self) -> Option<u32> {
        self.inner.gave_up.map(|(_, attempts)| attempts)
    }

    /// A timeout of any kind.
    pub fn is_timeout(&self) -> bool {
        self.inner.timeout.is_some()
    }
}

/// The URL first (as curl and git name what they could not reach), then what went
/// wrong, the status and the start of an error body (on one line, at most 200
/// characters). The transport error that caused it is not repeated here: it is
/// [`source`](std::error::Error::source), for error reporters to walk, as the Rust
/// API guidelines ask.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use postsource::client::{ErrorKind, EventSource, Reconnect};
///
/// // A port that nothing listens on.
/// let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
/// let url = format!("http://127.0.0.1:{port}/");
/// let mut source = EventSource::get(&url).reconnect(Reconnect::Never).build().unwrap();
/// let error = loop {
///     match source.next().await {
///         Some(Err(error)) => break error,
///         Some(Ok(_)) => continue,
///         None => panic!("the stream ended without an error"),
///     }
/// };
/// assert_eq!(error.kind(), ErrorKind::Connect);
/// assert_eq!(error.to_string(), format!("{url}: cannot connect"));
/// assert!(std::error::Error::source(&error).is_some());
/// # }
/// ```
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        if let Some((limit, attempts)) = inner.gave_up {
            let why = match limit {
                Limit::MaxRetries => "reconnection attempts used up",
                Limit::MaxElapsed => "reconnecting took too long",
            };
            write!(f, "{why} after {attempts} in a row; last: ")?;
        }
        if let Some(url) = &inner.url {
            write!(f, "{url}: ")?;
        }
        f.write_str(&inner.message)?;
        if let Some(status) = inner.status {
            write!(f, " (HTTP {status})")?;
        }
        if let Some(body) = inner.body.as_deref().filter(|b| !b.trim().is_empty()) {
            let one_line: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
            let cut: String = one_line.chars().take(200).collect();
            let more = if cut.len() < one_line.len() {
                "…"
            } else {
                ""
            };
            write!(f, ": {cut}{more}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        let mut d = f.debug_struct("Error");
        d.field("kind", &inner.kind)
            .field("message", &inner.message);
        if let Some(t) = inner.timeout {
            d.field("timeout", &t);
        }
        if let Some(s) = inner.status {
            d.field("status", &s);
        }
        if let Some(u) = &inner.url {
            d.field("url", &u.as_str());
        }
        if let Some(b) = &inner.body {
            d.field("body", b);
        }
        if let Some(g) = &inner.gave_up {
            d.field("gave_up", g);
        }
        if let Some(s) = &inner.source {
            d.field("source", s);
        }
        d.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.source.as_ref().map(|e| &**e as _)
    }
}
