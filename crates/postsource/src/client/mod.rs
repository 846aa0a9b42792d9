//! An `EventSource` for tokio and reqwest, over any HTTP method (feature `client`).
//!
//! [`EventSource`] is a [`futures_core::Stream`] of [`SseItem`]s. It is a thin
//! shell: the rules (response checks, reconnection, backoff, Last-Event-ID,
//! timeouts, the end sentinel) live in the sans-IO [`protocol`] module
//! session, and this module only does the I/O and keeps one timer for the
//! session's earliest deadline. It is a single poll-driven state machine that
//! owns the request future or the response body: no task is spawned, so dropping
//! the stream drops the connection, and [`CloseHandle::close`] takes effect at
//! the next poll, which it triggers itself.
//!
//! ```no_run
//! use postsource::client::{EventSource, SseItem};
//! # async fn run() -> Result<(), postsource::client::Error> {
//! let mut source = EventSource::post("http://127.0.0.1:8080/v1/chat/completions")
//!     .bearer_auth("sk-...")
//!     .json(&serde_json::json!({ "model": "m", "stream": true, "messages": [] }))
//!     .until_data("[DONE]")
//!     .build()?;
//! while let Some(item) = source.next().await {
//!     match item? {
//!         SseItem::Event(event) if event.data != "[DONE]" => println!("{}", event.data),
//!         SseItem::Closed(reason) => println!("closed: {}", reason.as_str()),
//!         _ => {}
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! Items: one [`SseItem::Open`] per connection; events; comments when asked for;
//! `retry:` changes; [`SseItem::Reconnecting`] before each wait; then exactly one
//! terminal item, `Ok(SseItem::Closed(_))` or `Err(Error)`, after which the stream
//! yields `None`. A clean end of the body is never an error.

mod builder;
mod close;
mod error;
mod item;
mod redirect;
mod request;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http_body::Body as _;
use tokio::time::{Instant, Sleep};

pub use builder::{DEFAULT_MAX_ERROR_BODY, EventSourceBuilder, Reconnect};
pub use close::CloseHandle;
pub use error::{Error, ErrorKind, Timeout};
pub use item::{CloseReason, EventJson, SseItem};
pub use redirect::RedirectPolicy;
pub use request::ReconnectRequest;

use crate::protocol::{self, End, Failure, Output, Session, Verdict};
pub use crate::protocol::{Interruption, ReconnectInfo, ResumeState};
/// The HTTP types of the API, re-exported so callers need not depend on them.
pub use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use request::Parts;
/// The reqwest this crate is built on (0.13), for [`EventSourceBuilder::client`]
/// and [`EventSource::from_request`]: a client from another reqwest version is
/// another type.
pub use reqwest;
pub use url::Url;

/// Polls in a row that make progress before yielding to other tasks.
const BUDGET: usize = 64;
/// How long reading a rejected response's body may take (close() still ends it at once).
const ERROR_BODY_TIME: Duration = Duration::from_secs(10);

type ResponseFuture = Pin<Box<dyn Future<Output = reqwest::Result<reqwest::Response>> + Send>>;

/// A stream of server-sent events over any HTTP method. Build one with
/// [`EventSource::get`], [`EventSource::post`], [`EventSource::new`] or
/// [`EventSource::from_request`]; see the [module docs](self).
pub struct EventSource {
    session: Session,
    client: reqwest::Client,
    /// The original request; reconnections start from it.
    parts: Parts,
    callbacks: Option<Box<builder::Callbacks>>,
    redirect: RedirectPolicy,
    max_error_body: usize,
    conn: Conn,
    /// The reqwest error behind the latest `connection_lost`, for the final error.
    last_error: Option<reqwest::Error>,
    /// The headers of the latest 429 or 503 that is retried.
    unavailable: Option<Box<HeaderMap>>,
    /// The URL of the latest request or response, for errors: `None` before the
    /// first, `Some(None)` while it is the original request's (the usual case, kept
    /// without a copy: a source lives as long as its stream).
    url: Option<Option<Box<Url>>>,
    origin: Instant,
    /// Made on first use: a `Sleep` needs a runtime, and `build()` may run outside one.
    timer: Option<Pin<Box<Sleep>>>,
    close: CloseHandle,
    /// The terminal item is out: nothing follows.
    done: bool,
}

pub(crate) struct Setup {
    client: reqwest::Client,
    parts: Parts,
    config: protocol::Config,
    callbacks: Option<Box<builder::Callbacks>>,
    redirect: RedirectPolicy,
    max_error_body: usize,
}

enum Conn {
    Idle,
    Requesting(Box<Requesting>),
    Reading {
        body: reqwest::Body,
        /// The body ends when the connection does (HTTP/1 with neither a length
        /// nor chunking, nor a content coding that could be cut short).
        close_delimited: bool,
    },
    ErrorBody(Box<ErrorBody>),
}

struct Requesting {
    response: ResponseFuture,
    parts: Parts,
    hops: usize,
}

struct ErrorBody {
    body: reqwest::Body,
    buf: Vec<u8>,
    error: Error,
    /// When reading must end, whatever arrives: `ERROR_BODY_TIME`, or the total timeout.
    deadline: Instant,
    /// The idle timeout, counted from the last bytes read.
    idle: Option<Duration>,
    last_bytes: Instant,
}

impl ErrorBody {
    fn deadline(&self) -> Instant {
        match self.idle {
            Some(idle) => self.deadline.min(self.last_bytes + idle),
            None => self.deadline,
        }
    }
}

enum Step {
    /// Something changed: go round again.
    Progress,
    /// Waiting on I/O or time (a waker is registered).
    Blocked,
    /// An item to yield.
    Item(Result<SseItem, Error>),
}

impl EventSource {
    /// A GET source.
    pub fn get(url: impl AsRef<str>) -> EventSourceBuilder {
        EventSourceBuilder::new(Method::GET, url.as_ref())
    }

    /// A POST source.
    pub fn post(url: impl AsRef<str>) -> EventSourceBuilder {
        EventSourceBuilder::new(Method::POST, url.as_ref())
    }

    /// A source with any method.
    #[allow(
        clippy::new_ret_no_self,
        reason = "reqwest-style: new() starts the builder"
    )]
    pub fn new(method: Method, url: impl AsRef<str>) -> EventSourceBuilder {
        EventSourceBuilder::new(method, url.as_ref())
    }

    /// A source from your own reqwest request, so your client's TLS, proxy, auth
    /// and redirect settings apply. The body must be bytes (not a stream), since a
    /// reconnection sends it again. The request's method, URL, headers and body are
    /// kept; its own `timeout` and `version` are not (a reqwest timeout covers the
    /// whole body, which would cut a stream): use the builder's timeouts.
    pub fn from_request(request: reqwest::RequestBuilder) -> EventSourceBuilder {
        EventSourceBuilder::from_request(request)
    }

    fn start(setup: Setup) -> Self {
        let origin = Instant::now();
        EventSource {
            session: Session::new(setup.config, 0),
            client: setup.client,
            parts: setup.parts,
            callbacks: setup.callbacks,
            redirect: setup.redirect,
            max_error_body: setup.max_error_body,
            conn: Conn::Idle,
            last_error: None,
            unavailable: None,
            url: None,
            origin,
            timer: None,
            close: CloseHandle::default(),
            done: false,
        }
    }

    /// A handle that closes this source from any task or thread.
    pub fn close_handle(&self) -> CloseHandle {
        self.close.clone()
    }

    /// Close the source (as [`CloseHandle::close`]).
    pub fn close(&self) {
        self.close.close();
    }

    /// The last event id ("" for none).
    pub fn last_event_id(&self) -> &str {
        self.session.last_event_id()
    }

    /// What to save to resume later with [`EventSourceBuilder::resume`].
    pub fn resume_state(&self) -> ResumeState {
        self.session.resume_state()
    }

    /// The next item, without needing `futures::StreamExt`.
    pub async fn next(&mut self) -> Option<Result<SseItem, Error>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_item(cx)).await
    }

    fn callbacks(&self) -> &builder::Callbacks {
        self.callbacks
            .as_deref()
            .unwrap_or(&builder::Callbacks::NONE)
    }

    fn now(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<SseItem, Error>>> {
        if self.done {
            return Poll::Ready(None);
        }
        // Register before checking the flag, so a close() in between still wakes us.
        self.close.register(cx.waker());
        for _ in 0..BUDGET {
            if self.close.is_closed()
                && let Some(item) = self.abort()
            {
                return Poll::Ready(Some(item));
            }
            if let Some(out) = self.session.poll() {
                if let Some(item) = self.on_output(out) {
                    return Poll::Ready(Some(item));
                }
                continue;
            }
            match self.poll_conn(cx) {
                Step::Item(item) => return Poll::Ready(Some(item)),
                Step::Progress => continue,
                Step::Blocked => {}
            }
            match self.poll_timer(cx) {
                Step::Item(item) => return Poll::Ready(Some(item)),
                Step::Progress => continue,
                Step::Blocked => return Poll::Pending,
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// close(): one `Closed(Aborted)`, unless a terminal item is already out. The
    /// session makes that item, except for a failure decided before the close,
    /// which is returned here with what was read of its error body.
    fn abort(&mut self) -> Option<Result<SseItem, Error>> {
        if self.done {
            return None;
        }
        if let Conn::ErrorBody(body) = std::mem::replace(&mut self.conn, Conn::Idle) {
            let item = Err(finish_error_body(*body, self.max_error_body));
            return Some(self.terminal(item));
        }
        self.session.close();
        None
    }

    /// Ends the source: the connection is dropped and `item` is the last one.
    fn terminal(&mut self, item: Result<SseItem, Error>) -> Result<SseItem, Error> {
        self.conn = Conn::Idle;
        self.session.close();
        while self.session.poll().is_some() {}
        self.done = true;
        item
    }

    fn on_output(&mut self, out: Output) -> Option<Result<SseItem, Error>> {
        match out {
            Output::Connect {
                attempt,
                last_event_id,
            } => {
                let parts = if attempt == 0 {
                    self.parts.clone()
                } else {
                    let mut req = self.parts.resume(attempt, &last_event_id);
                    if let Some(hook) = &self.callbacks().hook {
                        hook(&mut req);
                    }
                    Parts::from(req)
                };
                tracing::debug!(method = %parts.method, url = %parts.url, attempt, "postsource: connecting");
                self.send(parts, 0);
                None
            }
            Output::Event(event) => Some(Ok(SseItem::Event(event))),
            Output::Comment(text) => Some(Ok(SseItem::Comment(text))),
            Output::Retry(ms) => Some(Ok(SseItem::Retry(Duration::from_millis(ms)))),
            Output::Reconnecting {
                attempt,
                delay_ms,
                after,
            } => {
                self.conn = Conn::Idle;
                tracing::info!(attempt, delay_ms, ?after, "postsource: reconnecting");
                Some(Ok(SseItem::Reconnecting {
                    attempt,
                    delay: Duration::from_millis(delay_ms),
                }))
            }
            Output::AskReconnect(info) => {
                self.conn = Conn::Idle;
                let yes = self.callbacks().decide.as_ref().is_some_and(|f| f(&info));
                let now = self.now();
                self.session.answer_reconnect(now, yes);
                None
            }
            Output::Closed(end) => {
                let reason = match end {
                    End::Eof => CloseReason::Eof,
                    End::NoContent => CloseReason::NoContent,
                    End::UntilData => CloseReason::UntilData,
                    End::Aborted => CloseReason::Aborted,
                };
                tracing::debug!(reason = reason.as_str(), "postsource: closed");
                Some(self.terminal(Ok(SseItem::Closed(reason))))
            }
            Output::Failed(failure) => {
                let error = self.failure_error(failure);
                tracing::warn!(error = %error, "postsource: failed");
                Some(self.terminal(Err(error)))
            }
        }
    }

    fn send(&mut self, parts: Parts, hops: usize) {
        let response = Box::pin(self.client.execute(parts.to_reqwest()));
        self.conn = Conn::Requesting(Box::new(Requesting {
            response,
            parts,
            hops,
        }));
    }

    fn poll_conn(&mut self, cx: &mut Context<'_>) -> Step {
        match &mut self.conn {
            Conn::Idle => Step::Blocked,
            Conn::Requesting(req) => match req.response.as_mut().poll(cx) {
                Poll::Pending => Step::Blocked,
                Poll::Ready(result) => {
                    let Conn::Requesting(req) = std::mem::replace(&mut self.conn, Conn::Idle)
                    else {
                        unreachable!()
                    };
                    let Requesting { parts, hops, .. } = *req;
                    match result {
                        Ok(response) => self.on_response(response, parts, hops),
                        Err(e) => {
                            let why = if e.is_connect() && e.is_timeout() {
                                Interruption::ConnectTimeout
                            } else if e.is_connect() {
                                Interruption::Connect
                            } else if e.is_timeout() {
                                Interruption::ResponseTimeout
                            } else {
                                Interruption::Io
                            };
                            tracing::debug!(error = %e, ?why, "postsource: request failed");
                            self.url = Some(self.other_url(&parts.url));
                            self.lost(why, Some(e));
                            Step::Progress
                        }
                    }
                }
            },
            Conn::Reading {
                body,
                close_delimited,
            } => match Pin::new(body).poll_frame(cx) {
                Poll::Pending => Step::Blocked,
                Poll::Ready(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        if let Some(tap) = &self.callbacks().tap {
                            tap(&data);
                        }
                        let now = self.now();
                        self.session.on_bytes(now, data);
                    }
                    Step::Progress
                }
                // A TLS server that closes such a body without close_notify has
                // still ended it (curl and browsers agree); events are framed by
                // blank lines, so nothing half-received can pass as complete.
                Poll::Ready(Some(Err(e))) if *close_delimited && is_unexpected_eof(&e) => {
                    tracing::debug!(error = %e, "postsource: end of a close-delimited body");
                    self.lost(Interruption::Eof, None);
                    Step::Progress
                }
                Poll::Ready(Some(Err(e))) => {
                    tracing::debug!(error = %e, "postsource: connection lost");
                    self.lost(Interruption::Io, Some(e));
                    Step::Progress
                }
                Poll::Ready(None) => {
                    self.lost(Interruption::Eof, None);
                    Step::Progress
                }
            },
            Conn::ErrorBody(eb) => {
                let done = loop {
                    if eb.buf.len() >= self.max_error_body {
                        break true;
                    }
                    match Pin::new(&mut eb.body).poll_frame(cx) {
                        Poll::Pending => break false,
                        Poll::Ready(Some(Ok(frame))) => {
                            if let Ok(data) = frame.into_data() {
                                let room = self.max_error_body - eb.buf.len();
                                eb.buf.extend_from_slice(&data[..data.len().min(room)]);
                                eb.last_bytes = Instant::now();
                            }
                        }
                        Poll::Ready(Some(Err(_)) | None) => break true,
                    }
                };
                if done || Instant::now() >= eb.deadline() {
                    let Conn::ErrorBody(eb) = std::mem::replace(&mut self.conn, Conn::Idle) else {
                        unreachable!()
                    };
                    let error = finish_error_body(*eb, self.max_error_body);
                    tracing::warn!(error = %error, "postsource: failed");
                    return Step::Item(self.terminal(Err(error)));
                }
                Step::Blocked
            }
        }
    }

    fn lost(&mut self, why: Interruption, error: Option<reqwest::Error>) {
        self.conn = Conn::Idle;
        // Our error names the URL already; reqwest's would repeat it.
        self.last_error = error.map(reqwest::Error::without_url);
        let now = self.now();
        self.session.connection_lost(now, why);
    }

    fn on_response(&mut self, response: reqwest::Response, parts: Parts, hops: usize) -> Step {
        let status = response.status();
        let url = response.url().clone();
        if status.is_redirection() {
            match self.redirect.next(&parts, status, response.headers(), hops) {
                Ok(Some(next)) => {
                    tracing::debug!(%status, from = %parts.url, to = %next.url, "postsource: redirect");
                    self.send(next, hops + 1);
                    return Step::Progress;
                }
                Ok(None) => {}
                Err(e) => {
                    return Step::Item(self.terminal(Err(e)));
                }
            }
        }
        let headers = response.headers().clone();
        // All of them, joined as fetch's `Headers.get` joins them (see
        // `is_event_stream`), each byte one char as in a browser (isomorphic decode).
        let content_type = headers
            .get_all(http::header::CONTENT_TYPE)
            .iter()
            .map(|v| {
                v.as_bytes()
                    .iter()
                    .map(|&b| char::from(b))
                    .collect::<String>()
            })
            .reduce(|all, one| all + ", " + &one);
        let retry_after = headers
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(protocol::parse_retry_after);
        let now = self.now();
        self.url = Some(self.other_url(&url));
        match self
            .session
            .on_response(now, status.as_u16(), content_type.as_deref(), retry_after)
        {
            Verdict::Open => {
                tracing::debug!(%url, "postsource: open");
                self.conn = Conn::Reading {
                    close_delimited: is_close_delimited(response.version(), &headers),
                    body: http::Response::from(response).into_body(),
                };
                Step::Item(Ok(SseItem::Open {
                    status,
                    headers,
                    url,
                }))
            }
            Verdict::BadStatus | Verdict::BadContentType => {
                let Some(Output::Failed(failure)) = self.session.poll() else {
                    // Closed meanwhile: the session has its terminal output queued.
                    return Step::Progress;
                };
                let error = self
                    .failure_error(failure)
                    .with_response(status, headers, None);
                let body = http::Response::from(response).into_body();
                let mut deadline = Instant::now() + ERROR_BODY_TIME;
                if let Some(total) = self.session.total_deadline() {
                    deadline = deadline.min(self.origin + Duration::from_millis(total));
                }
                self.conn = Conn::ErrorBody(Box::new(ErrorBody {
                    body,
                    buf: Vec::new(),
                    error,
                    deadline,
                    idle: self.session.idle_timeout().map(Duration::from_millis),
                    last_bytes: Instant::now(),
                }));
                Step::Progress
            }
            Verdict::RetryLater => {
                // For the error of giving up (its Retry-After, say), if it comes to that.
                self.unavailable = Some(Box::new(headers));
                Step::Progress
            }
            Verdict::NoContent => Step::Progress,
        }
    }

    /// `url` as kept in `self.url`: nothing when it is the original request's.
    fn other_url(&self, url: &Url) -> Option<Box<Url>> {
        (*url != self.parts.url).then(|| Box::new(url.clone()))
    }

    fn poll_timer(&mut self, cx: &mut Context<'_>) -> Step {
        let deadline = match &self.conn {
            Conn::ErrorBody(eb) => Some(eb.deadline()),
            _ => self
                .session
                .poll_timeout()
                .map(|at| self.origin + Duration::from_millis(at)),
        };
        let Some(deadline) = deadline else {
            return Step::Blocked;
        };
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if timer.deadline() != deadline {
            timer.as_mut().reset(deadline);
        }
        if timer.as_mut().poll(cx).is_pending() {
            return Step::Blocked;
        }
        if !matches!(self.conn, Conn::ErrorBody(_)) {
            let at = u64::try_from((deadline - self.origin).as_millis()).unwrap_or(u64::MAX);
            let now = self.now().max(at);
            self.session.handle_timeout(now);
        }
        Step::Progress
    }

    fn failure_error(&mut self, failure: Failure) -> Error {
        // The last URL a response came from, else the one asked (a timeout before
        // any response still says where it was waiting).
        let url = self
            .url
            .as_ref()
            .and_then(|url| url.as_deref())
            .unwrap_or(&self.parts.url)
            .clone();
        let error = match failure {
            Failure::Status { status } => Error::new(
                ErrorKind::Status,
                "the server answered with an error status",
            )
            .with_response(
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                HeaderMap::new(),
                None,
            ),
            Failure::ContentType => Error::new(
                ErrorKind::ContentType,
                "the response is not text/event-stream",
            ),
            Failure::TooLarge(limit) => Error::new(
                ErrorKind::TooLarge,
                format!("the server went over a limit: {limit}"),
            ),
            Failure::Interrupted(why) => self.interruption_error(why),
            Failure::GaveUp {
                last,
                attempts,
                limit,
            } => self.interruption_error(last).with_gave_up(limit, attempts),
            Failure::TotalTimeout => Error::new(
                ErrorKind::Timeout,
                "the whole run took longer than the timeout",
            )
            .with_timeout(Timeout::Total),
        };
        error.with_url(Some(url))
    }

    fn interruption_error(&mut self, why: Interruption) -> Error {
        let error = match why {
            Interruption::Eof => Error::new(ErrorKind::Io, "the server ended the stream"),
            Interruption::Connect => Error::new(ErrorKind::Connect, "cannot connect"),
            Interruption::ConnectTimeout => Error::new(ErrorKind::Timeout, "connecting timed out")
                .with_timeout(Timeout::Connect),
            Interruption::Io => Error::new(ErrorKind::Io, "the connection failed"),
            Interruption::ResponseTimeout => Error::new(ErrorKind::Timeout, "no response in time")
                .with_timeout(Timeout::Response),
            Interruption::IdleTimeout => {
                Error::new(ErrorKind::IdleTimeout, "no data in time").with_timeout(Timeout::Idle)
            }
            Interruption::EventTimeout => {
                Error::new(ErrorKind::IdleTimeout, "no event in time").with_timeout(Timeout::Event)
            }
            Interruption::Unavailable { status } => {
                Error::new(ErrorKind::Status, "the server is unavailable").with_response(
                    StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
                    self.unavailable.take().map(|h| *h).unwrap_or_default(),
                    None,
                )
            }
        };
        match self.last_error.take() {
            Some(source)
                if matches!(
                    why,
                    Interruption::Connect | Interruption::ConnectTimeout | Interruption::Io
                ) =>
            {
                error.with_source(source)
            }
            _ => error,
        }
    }
}

fn finish_error_body(eb: ErrorBody, limit: usize) -> Error {
    let mut buf = eb.buf;
    buf.truncate(limit);
    let body = (limit > 0).then(|| String::from_utf8_lossy(&buf).into_owned());
    let status = eb.error.status().unwrap_or(StatusCode::OK);
    let headers = eb.error.headers().cloned().unwrap_or_default();
    eb.error.with_response(status, headers, body)
}

impl futures_core::Stream for EventSource {
    type Item = Result<SseItem, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_item(cx)
    }
}

impl futures_core::FusedStream for EventSource {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl std::fmt::Debug for EventSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventSource")
            .field("method", &self.parts.method)
            .field("url", &self.parts.url.as_str())
            .field("last_event_id", &self.session.last_event_id())
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

fn is_close_delimited(version: http::Version, headers: &http::HeaderMap) -> bool {
    use http::header::{CONTENT_ENCODING, CONTENT_LENGTH, TRANSFER_ENCODING};
    matches!(version, http::Version::HTTP_10 | http::Version::HTTP_11)
        && ![CONTENT_LENGTH, TRANSFER_ENCODING, CONTENT_ENCODING]
            .iter()
            .any(|name| headers.contains_key(name))
}

/// Whether an I/O error of kind `UnexpectedEof` is among the error's causes.
fn is_unexpected_eof(e: &reqwest::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::UnexpectedEof)
        {
            return true;
        }
        cause = c.source();
    }
    false
}
