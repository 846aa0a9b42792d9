//! The exported `Core`: the browser shell around the core's sans-IO
//! `protocol::Session`. The session decides everything (response checks,
//! reconnection, backoff, `retry:`, Last-Event-ID, timeouts, limits, the
//! end-of-data sentinel); this loop only feeds it what `fetch` and the body
//! reader report, with `now`, and carries out what it asks: send a request,
//! deliver an event, wait, stop. Its one deadline (`poll_timeout`) is the one
//! timer of [`Signal`].
//!
//! Everything that reaches JS goes through [`Inner`], which guarantees the event
//! order of the JS API: nothing once CLOSED, `error` before the `close` of the
//! same cause, `close` exactly once. The session lives in the loop (never
//! shared), so a listener that calls `close()` while an event is delivered
//! re-enters only [`Inner`], whose cells are never borrowed across a call to JS.

use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};

use bytes::Bytes;
use js_sys::Uint8Array;
use postsource::protocol::{Failure, Interruption, Output, Session, Verdict, parse_retry_after};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{
    AbortController, ReadableStreamDefaultReader, ReadableStreamReadResult, RequestInit, Response,
};

use crate::js::{self, Sink};
use crate::options::Options;
use crate::report;
use crate::wait::{Outcome, Signal};

const CONNECTING: u16 = 0;
const OPEN: u16 = 1;
const CLOSED: u16 = 2;

/// How long reading an error response's body may take when no timeout is set.
const ERROR_BODY_WAIT_MS: f64 = 10_000.0;

/// The wasm half of one `PostSource` (the JS wrapper in `js/postsource.js` owns
/// the `EventTarget`). Starts connecting as soon as it is constructed.
#[wasm_bindgen]
pub struct Core {
    inner: Rc<Inner>,
}

struct Inner {
    sink: Sink,
    signal: Rc<Signal>,
    state: Cell<u16>,
    controller: RefCell<Option<AbortController>>,
    last_event_id: RefCell<String>,
}

#[wasm_bindgen]
impl Core {
    /// Start the stream of `url`; `sink` receives `open`/`message`/`error`/`close`
    /// calls. The other arguments are the options as `js/postsource.js`
    /// normalises them (see `options.rs`): the `method` (normalised as fetch does), the
    /// `RequestInit` (method, `Headers`, body, credentials, cache), the numbers in
    /// `Setting` order, `untilData`, the initial last event id, and the `RequestInit`
    /// of reconnections when they differ (`resumeWithGet`). Throws the `TypeError` of
    /// a request that cannot be built (URL, method, header).
    // The arguments are positional because they cross from JS one by one: an
    // options object would cost a reflective read per field in the module.
    #[allow(clippy::too_many_arguments)]
    #[wasm_bindgen(constructor)]
    pub fn new(
        sink: Sink,
        url: &str,
        method: &str,
        init: RequestInit,
        settings: &[f64],
        until_data: Option<String>,
        last_event_id: String,
        resume: Option<RequestInit>,
    ) -> Result<Core, JsValue> {
        let options = Options::new(url, method, init, settings, until_data, last_event_id)?
            .resume_with(resume)?;
        let inner = Rc::new(Inner {
            sink,
            signal: Signal::new(),
            state: Cell::new(CONNECTING),
            controller: RefCell::new(None),
            last_event_id: RefCell::new(options.config.resume.last_event_id.clone()),
        });
        spawn_local(run(inner.clone(), options));
        Ok(Core { inner })
    }

    /// 0 CONNECTING, 1 OPEN, 2 CLOSED.
    #[wasm_bindgen(getter, js_name = readyState)]
    pub fn ready_state(&self) -> u16 {
        self.inner.state.get()
    }

    /// The last event id: sent as `Last-Event-ID` on the next reconnection.
    #[wasm_bindgen(getter, js_name = lastEventId)]
    pub fn last_event_id(&self) -> String {
        self.inner.last_event_id.borrow().clone()
    }

    /// Abort the request and end the stream now: `close` with reason `aborted`,
    /// then nothing. Does nothing once CLOSED.
    pub fn close(&self) {
        self.inner.finish("aborted");
    }

    /// The caller's `AbortSignal` fired: an `error` of kind `aborted`, then `close`.
    pub fn abort(&self) {
        self.inner.fail("aborted", report::ABORTED, 0, "");
    }
}

impl Inner {
    fn live(&self) -> bool {
        self.state.get() != CLOSED
    }

    fn abort_request(&self) {
        let controller = self.controller.borrow_mut().take();
        if let Some(controller) = controller {
            controller.abort();
        }
    }

    /// Become CLOSED: stop the timer, the task and the request. False if it
    /// already was.
    fn shut(&self) -> bool {
        if !self.live() {
            return false;
        }
        self.state.set(CLOSED);
        self.signal.close();
        self.abort_request();
        true
    }

    /// Become CLOSED and tell JS, once.
    fn finish(&self, reason: &str) {
        if self.shut() {
            self.sink.close(reason);
        }
    }

    /// A terminal failure: CLOSED first (as `EventSource`, so `onerror` sees
    /// `readyState === CLOSED`), then `error`, then `close`. A `close()` from the
    /// error listener finds it CLOSED already, so `close` still fires once.
    fn fail(&self, kind: &str, reason: &str, status: u16, body: &str) {
        if self.shut() {
            self.sink.error(kind, reason, status, body, -1.0);
            self.sink.close("error");
        }
    }

    fn set_last_event_id(&self, id: &str) {
        let changed = *self.last_event_id.borrow() != id;
        if changed {
            *self.last_event_id.borrow_mut() = String::from(id);
        }
    }
}

/// What the current connection is doing.
enum Conn {
    /// No request out (waiting to reconnect, or about to start one).
    Idle,
    /// `fetch` is pending.
    Fetching(JsFuture),
    /// Reading the body of an open stream.
    Reading(ReadableStreamDefaultReader),
}

/// What is known about a rejected response, for the `error` event that the
/// session's `Failed` output turns into.
#[derive(Default)]
struct Rejected {
    status: u16,
    body: String,
    content_type: String,
}

/// The status of a 429 or 503 that is retried (`retryUnavailable`), else 0.
fn unavailable_status(after: Interruption) -> u16 {
    match after {
        Interruption::Unavailable { status } => status,
        _ => 0,
    }
}

fn message_of(error: &JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .unwrap_or_default()
}

fn chunk_bytes(chunk: &ReadableStreamReadResult) -> Vec<u8> {
    Uint8Array::new(&chunk.get_value()).to_vec()
}

async fn run(inner: Rc<Inner>, options: Options) {
    let origin = js::now();
    let now = || (js::now() - origin).max(0.0) as u64;
    let mut session = Session::new(options.config.clone(), 0);
    let mut conn = Conn::Idle;
    let mut rejected = Rejected::default();
    // The browser's message for the latest network error, for the sentences.
    let mut detail = String::new();
    loop {
        while let Some(output) = session.poll() {
            if !inner.live() {
                return;
            }
            match output {
                Output::Connect {
                    attempt,
                    last_event_id,
                } => {
                    inner.state.set(CONNECTING);
                    match send(&inner, &options, attempt, &last_event_id) {
                        Ok(fetch) => conn = Conn::Fetching(fetch),
                        Err(e) => {
                            detail = message_of(&e);
                            session.connection_lost(now(), Interruption::Connect);
                        }
                    }
                }
                Output::Event(event) => {
                    inner.set_last_event_id(&event.last_event_id);
                    inner
                        .sink
                        .message(&event.event, &event.data, &event.last_event_id);
                }
                Output::Reconnecting {
                    delay_ms, after, ..
                } => {
                    inner.abort_request();
                    conn = Conn::Idle;
                    inner.state.set(CONNECTING);
                    let why = report::interruption_reason(after, &options.limits, &detail);
                    let status = unavailable_status(after);
                    inner.sink.error(
                        report::interruption_kind(after),
                        &why,
                        status,
                        "",
                        delay_ms as f64,
                    );
                }
                // Never configured (`Reconnect::Ask`); answer as `never` would.
                Output::AskReconnect(_) => session.answer_reconnect(now(), false),
                Output::Closed(end) => return inner.finish(report::end_reason(end)),
                Output::Failed(failure) => {
                    let why = report::failure_reason(
                        &failure,
                        &options.limits,
                        &rejected.body,
                        &rejected.content_type,
                        &detail,
                    );
                    let status = match failure {
                        Failure::Status { status } => status,
                        Failure::GaveUp { last, .. } | Failure::Interrupted(last) => {
                            unavailable_status(last)
                        }
                        _ => rejected.status,
                    };
                    return inner.fail(
                        report::failure_kind(&failure),
                        &why,
                        status,
                        &rejected.body,
                    );
                }
                _ => {}
            }
        }
        // An id-only block moves the last event id without an event.
        inner.set_last_event_id(session.last_event_id());
        if !inner.live() {
            return;
        }
        let deadline = session
            .poll_timeout()
            .map_or(f64::INFINITY, |t| origin + t as f64);
        match &mut conn {
            Conn::Idle => {
                let pause = core::future::pending::<()>();
                match inner.signal.until(deadline, pause).await {
                    Outcome::Closed => return,
                    _ => session.handle_timeout(now()),
                }
            }
            Conn::Fetching(fetch) => match inner.signal.until(deadline, fetch).await {
                Outcome::Closed => return,
                Outcome::Deadline => session.handle_timeout(now()),
                Outcome::Done(Err(e)) => {
                    conn = Conn::Idle;
                    detail = message_of(&e);
                    session.connection_lost(now(), Interruption::Connect);
                }
                Outcome::Done(Ok(value)) => {
                    let response: Response = value.unchecked_into();
                    conn = respond(
                        &inner,
                        &options,
                        &mut session,
                        &response,
                        &mut rejected,
                        now,
                    )
                    .await;
                }
            },
            Conn::Reading(reader) => {
                let read = JsFuture::from(reader.read());
                match inner.signal.until(deadline, read).await {
                    Outcome::Closed => return,
                    Outcome::Deadline => session.handle_timeout(now()),
                    Outcome::Done(Err(e)) => {
                        conn = Conn::Idle;
                        detail = message_of(&e);
                        session.connection_lost(now(), Interruption::Io);
                    }
                    Outcome::Done(Ok(value)) => {
                        let chunk: ReadableStreamReadResult = value.unchecked_into();
                        if chunk.get_done().unwrap_or(false) {
                            conn = Conn::Idle;
                            session.connection_lost(now(), Interruption::Eof);
                        } else {
                            session.on_bytes(now(), Bytes::from(chunk_bytes(&chunk)));
                        }
                    }
                }
            }
        }
    }
}

/// Start the request of one attempt, with its own `AbortController`.
fn send(
    inner: &Inner,
    options: &Options,
    attempt: u32,
    last_event_id: &str,
) -> Result<JsFuture, JsValue> {
    let controller = AbortController::new()?;
    let request = options.request(attempt, last_event_id, Some(&controller.signal()))?;
    *inner.controller.borrow_mut() = Some(controller);
    Ok(JsFuture::from(js::fetch_request(&request)))
}

/// Hand a response head to the session; on a rejected one, read the start of the
/// body first (the session has queued the failure, which is reported next).
async fn respond(
    inner: &Inner,
    options: &Options,
    session: &mut Session,
    response: &Response,
    rejected: &mut Rejected,
    now: impl Fn() -> u64,
) -> Conn {
    let status = response.status();
    let headers = response.headers();
    let content_type = headers.get("content-type").ok().flatten();
    let retry_after = headers
        .get("retry-after")
        .ok()
        .flatten()
        .and_then(|v| parse_retry_after(&v));
    match session.on_response(now(), status, content_type.as_deref(), retry_after) {
        Verdict::Open => {
            let Some(body) = response.body() else {
                session.connection_lost(now(), Interruption::Eof);
                return Conn::Idle;
            };
            inner.state.set(OPEN);
            inner.sink.open(status, &headers, &response.url());
            Conn::Reading(body.get_reader().unchecked_into())
        }
        Verdict::BadStatus | Verdict::BadContentType => {
            *rejected = Rejected {
                status,
                body: read_error_body(
                    inner,
                    response,
                    options.max_error_body,
                    session.idle_timeout(),
                )
                .await,
                content_type: content_type.unwrap_or_default(),
            };
            Conn::Idle
        }
        Verdict::NoContent | Verdict::RetryLater => Conn::Idle,
    }
}

/// The first `max` bytes of an error response's body, as text (lossy UTF-8), read
/// for at most `ERROR_BODY_WAIT_MS`, and no longer than `idle_ms` without bytes.
async fn read_error_body(
    inner: &Inner,
    response: &Response,
    max: usize,
    idle_ms: Option<u64>,
) -> String {
    let Some(body) = response.body() else {
        return String::new();
    };
    let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let deadline = js::now() + ERROR_BODY_WAIT_MS;
    let mut bytes = Vec::new();
    while bytes.len() < max {
        let read = JsFuture::from(reader.read());
        let wait_until = idle_ms.map_or(deadline, |idle| deadline.min(js::now() + idle as f64));
        let Outcome::Done(Ok(value)) = inner.signal.until(wait_until, read).await else {
            break;
        };
        let chunk: ReadableStreamReadResult = value.unchecked_into();
        if chunk.get_done().unwrap_or(false) {
            break;
        }
        bytes.extend_from_slice(&chunk_bytes(&chunk));
    }
    bytes.truncate(max);
    String::from_utf8_lossy(&bytes).into_owned()
}
