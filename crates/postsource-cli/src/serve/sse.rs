//! Turning a stream of encoded events into an SSE response, the same way everywhere.
//!
//! Endpoints describe *what* to send as a stream of [`Out`] chunks (already encoded
//! with `postsource::encode`). [`SseBody`] adds what every stream needs: a
//! `: keep-alive` comment after a quiet period, an end when the server shuts down,
//! and one log line when the response ends — including when the client goes away.
//!
//! Comments and `retry:` are never written as blocks of their own (`: x\n\n`,
//! `retry: n\n\n`): a spec parser ignores such a block, but the decoder shared by
//! the openai SDK and httpx-sse turns a blank line into an empty event once an id or
//! a retry has been seen, and then fails on `json.loads("")`. So a comment is a lone
//! line between events, and `retry:` rides on the next event. (`/test/events` breaks
//! this on purpose: it is test material for spec parsers.)
//! A keep-alive only goes where a line has ended — after a complete event or a chunk
//! ending in LF — never after a partial line or a CR that a LF may follow (`/test/drip`
//! writes one byte at a time): there, a comment would become part of a field.
//! Generation is lazy (`futures` streams are only polled while hyper wants bytes), so
//! when a client disconnects and hyper drops the body, the endpoint's stream is
//! dropped with it and no further token is produced: cancellation is immediate.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use futures::stream::{self, BoxStream, Stream, StreamExt};
use tokio::time::Sleep;
use tokio_util::sync::WaitForCancellationFutureOwned;

use super::{App, ReqInfo};

/// One chunk an endpoint writes.
pub(crate) enum Out {
    /// Bytes that complete an event (counted in the log).
    Event(Bytes),
    /// Anything else: a `retry:` field, a comment, part of an event.
    Meta(Bytes),
}

/// What an endpoint streams; an `Err` aborts the connection mid-response.
pub(crate) type Gen = BoxStream<'static, Result<Out, std::io::Error>>;

/// Yields each chunk after its delay. Dropping the stream cancels the pending delay.
pub(crate) fn paced(items: Vec<(Duration, Out)>) -> Gen {
    stream::iter(items)
        .then(|(delay, out)| async move {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            Ok(out)
        })
        .boxed()
}

/// How an SSE response ended, for its log line.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    Running,
    Completed,
    Shutdown,
    Aborted,
}

/// Writes the log line when the response body is dropped, whatever the reason.
struct Log {
    app: Arc<App>,
    info: ReqInfo,
    started: Instant,
    events: u64,
    end: End,
}

impl Drop for Log {
    fn drop(&mut self) {
        let how = match self.end {
            End::Completed => "completed",
            End::Shutdown => "ended by server shutdown",
            End::Aborted => "connection aborted on purpose",
            End::Running => "client disconnected; stopped generating",
        };
        let plural = if self.events == 1 { "" } else { "s" };
        self.app.log(format_args!(
            "#{} {} {} {how} after {} event{plural} in {:.2}s",
            self.info.id,
            self.info.method,
            self.info.target,
            self.events,
            self.started.elapsed().as_secs_f64()
        ));
    }
}

/// The response body: an endpoint's stream plus keep-alive, shutdown and logging.
pub(crate) struct SseBody {
    inner: Gen,
    keep_alive: Option<(Duration, Pin<Box<Sleep>>)>,
    /// What was written so far ends where a comment line may go.
    at_line_start: bool,
    shutdown: Pin<Box<WaitForCancellationFutureOwned>>,
    log: Log,
}

impl Stream for SseBody {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.log.end != End::Running {
            return Poll::Ready(None);
        }
        if this.shutdown.as_mut().poll(cx).is_ready() {
            this.log.end = End::Shutdown;
            return Poll::Ready(None);
        }
        match this.inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(out))) => {
                this.reset_keep_alive();
                Poll::Ready(Some(Ok(match out {
                    Out::Event(bytes) => {
                        this.log.events += 1;
                        this.at_line_start = true;
                        bytes
                    }
                    Out::Meta(bytes) => {
                        if let Some(&last) = bytes.last() {
                            this.at_line_start = last == b'\n';
                        }
                        bytes
                    }
                })))
            }
            Poll::Ready(Some(Err(e))) => {
                this.log.end = End::Aborted;
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(None) => {
                this.log.end = End::Completed;
                Poll::Ready(None)
            }
            Poll::Pending => {
                let idle = match &mut this.keep_alive {
                    Some((_, sleep)) => sleep.as_mut().poll(cx).is_ready(),
                    None => false,
                };
                if idle && this.at_line_start {
                    this.reset_keep_alive();
                    Poll::Ready(Some(Ok(postsource::encode::keep_alive())))
                } else {
                    Poll::Pending
                }
            }
        }
    }
}

impl SseBody {
    fn reset_keep_alive(&mut self) {
        if let Some((period, sleep)) = &mut self.keep_alive {
            match tokio::time::Instant::now().checked_add(*period) {
                Some(due) => sleep.as_mut().reset(due),
                // A period past the clock's end: never idle for that long.
                None => self.keep_alive = None,
            }
        }
    }
}

/// A `200 text/event-stream` response streaming `inner`, with keep-alive comments.
pub(crate) fn response(app: &Arc<App>, info: ReqInfo, inner: Gen) -> Response {
    build(app, info, inner, Some(app.keep_alive))
}

/// Like [`response`], but silent when idle (for idle-timeout tests).
pub(crate) fn response_without_keep_alive(app: &Arc<App>, info: ReqInfo, inner: Gen) -> Response {
    build(app, info, inner, None)
}

fn build(app: &Arc<App>, info: ReqInfo, inner: Gen, keep_alive: Option<Duration>) -> Response {
    let body = SseBody {
        inner,
        keep_alive: keep_alive
            .filter(|d| !d.is_zero())
            .map(|d| (d, Box::pin(tokio::time::sleep(d)))),
        at_line_start: true,
        shutdown: Box::pin(app.shutdown.clone().cancelled_owned()),
        log: Log {
            app: app.clone(),
            info,
            started: Instant::now(),
            events: 0,
            end: End::Running,
        },
    };
    let mut response = Response::new(Body::from_stream(body));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // Tells nginx-style proxies not to buffer the stream.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// Encodes an event; the endpoints only pass fields they built themselves, so a
/// refused field is a bug in this crate.
pub(crate) fn event(msg: postsource::encode::Message<'_>) -> Bytes {
    msg.to_bytes()
        .expect("serve endpoints only encode well-formed fields")
}

/// A numeric `Last-Event-ID` (the endpoints whose ids count up): `None` when absent
/// or not a number. A number too large for `u64` is `u64::MAX`, past every end.
pub(crate) fn last_event_number(headers: &HeaderMap) -> Option<u64> {
    let id = headers.get("last-event-id")?.to_str().ok()?.trim();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(id.parse().unwrap_or(u64::MAX))
}
