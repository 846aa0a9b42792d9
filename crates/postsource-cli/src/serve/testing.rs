//! `/test/...`: the misbehaviours a conforming client has to survive.
//!
//! Each endpoint is one situation from the EventSource rules or from real networks —
//! an error status with a JSON body, a 2xx that is not a stream, 204, a redirect, a
//! stream written one byte at a time, a connection closed in the middle of an event or
//! aborted, an oversized event, a stall without keep-alive, slow response headers —
//! so client behaviour can be checked against a real server instead of mocks.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::stream::{self, StreamExt};
use postsource::encode::{self, Message};
use serde_json::json;

use super::sse::{self, Out};
use super::{App, ReqInfo};

type Params = Query<HashMap<String, String>>;

/// A JSON error response: `{"error": {"message", "type", "code"}}`.
pub(crate) fn json_error(status: StatusCode, message: &str) -> Response {
    let body =
        json!({"error": {"message": message, "type": "postsource_test", "code": status.as_u16()}});
    (status, axum::Json(body)).into_response()
}

/// A query parameter that did not parse; answers 400 naming it.
pub(crate) struct BadParam {
    key: String,
    message: String,
}

impl BadParam {
    /// What is wrong, for endpoints that answer in an error shape of their own.
    pub(crate) fn message(&self) -> &str {
        &self.message
    }

    /// The parameter at fault.
    pub(crate) fn key(&self) -> &str {
        &self.key
    }
}

impl IntoResponse for BadParam {
    fn into_response(self) -> Response {
        json_error(StatusCode::BAD_REQUEST, &self.message)
    }
}

/// A query parameter, or its default when absent.
pub(crate) fn parse_param<T: FromStr>(
    q: &HashMap<String, String>,
    key: &str,
    default: T,
) -> Result<T, BadParam> {
    match q.get(key) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| BadParam {
            key: key.to_owned(),
            message: format!("query parameter `{key}`: cannot parse {v:?}"),
        }),
    }
}

/// A request header that sets a parameter, `None` when absent. A value that does
/// not parse is refused as a bad query parameter is, not ignored.
pub(crate) fn parse_header<T: FromStr>(
    headers: &axum::http::HeaderMap,
    name: &str,
) -> Result<Option<T>, BadParam> {
    let Some(value) = headers.get(name) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .map(Some)
        .ok_or_else(|| BadParam {
            key: name.to_owned(),
            message: format!("header `{name}`: cannot parse {value:?}"),
        })
}

/// `param!(query, "name", default)`: the value, or return the 400 response.
macro_rules! param {
    ($q:expr, $key:literal, $default:expr) => {
        match $crate::serve::testing::parse_param(&$q, $key, $default) {
            Ok(value) => value,
            Err(bad) => return axum::response::IntoResponse::into_response(bad),
        }
    };
}
pub(crate) use param;

/// `ANY /test/status/{code}`: that status, with a JSON error body (none for 204, 205
/// and 304, which may not have one). A 1xx is refused: it is never a final response,
/// and hyper cannot send one as such.
pub(crate) async fn status(Path(code): Path<String>) -> Response {
    let status = code
        .parse()
        .ok()
        .filter(|code| (200..=999).contains(code))
        .and_then(|code| StatusCode::from_u16(code).ok());
    let Some(status) = status else {
        return json_error(StatusCode::BAD_REQUEST, "status code must be 200-999");
    };
    if [
        StatusCode::NO_CONTENT,
        StatusCode::RESET_CONTENT,
        StatusCode::NOT_MODIFIED,
    ]
    .contains(&status)
    {
        return status.into_response();
    }
    let reason = status.canonical_reason().unwrap_or("unknown");
    json_error(status, &format!("simulated {code} {reason}"))
}

/// `ANY /test/no-content`: 204, which tells an EventSource to stop for good.
pub(crate) async fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// `ANY /test/content-type?type=text/plain`: a 200 that is not an event stream.
pub(crate) async fn content_type(Query(q): Params) -> Response {
    let kind = q.get("type").map_or("text/plain", String::as_str);
    let Ok(value) = HeaderValue::from_str(kind) else {
        return json_error(
            StatusCode::BAD_REQUEST,
            "`type` is not a valid header value",
        );
    };
    (
        [(header::CONTENT_TYPE, value)],
        "data: this is not an event stream\n\n",
    )
        .into_response()
}

/// `ANY /test/redirect?to=/echo&status=307`: a redirect (307/308 keep the method and body).
pub(crate) async fn redirect(Query(q): Params) -> Response {
    let to = q.get("to").map_or("/echo", String::as_str);
    let code: u16 = param!(q, "status", 307u16);
    let Ok(location) = HeaderValue::from_str(to) else {
        return json_error(StatusCode::BAD_REQUEST, "`to` is not a valid header value");
    };
    match StatusCode::from_u16(code) {
        Ok(status) if status.is_redirection() => {
            (status, [(header::LOCATION, location)]).into_response()
        }
        _ => json_error(StatusCode::BAD_REQUEST, "`status` must be a 3xx code"),
    }
}

/// The events `/test/drip` writes: CRLF and CR line endings, a comment, a multi-byte
/// character and an id, all of which must survive being split at every byte.
const DRIP: &[&str] = &[
    "id: 1\r\ndata: caf\u{e9} \u{1f600}\r\n\r\n",
    ": a comment\revent: named\rdata: two\rdata: lines\r\r",
    "id: 3\ndata: last\n\n",
];

/// `ANY /test/drip?delay_ms=5`: three events written one byte per write.
pub(crate) async fn drip(
    State(app): State<Arc<App>>,
    Extension(info): Extension<ReqInfo>,
    Query(q): Params,
) -> Response {
    let delay = Duration::from_millis(param!(q, "delay_ms", 5u64));
    let mut items = Vec::new();
    for event in DRIP {
        let bytes = event.as_bytes();
        for (i, byte) in bytes.iter().enumerate() {
            let chunk = Bytes::copy_from_slice(std::slice::from_ref(byte));
            let out = if i + 1 == bytes.len() {
                Out::Event(chunk)
            } else {
                Out::Meta(chunk)
            };
            items.push((delay, out));
        }
    }
    sse::response(&app, info, sse::paced(items))
}

/// `ANY /test/close-mid-event`: one complete event (id 1), then half of one, then EOF.
/// The half event must be discarded, and its id not applied.
pub(crate) async fn close_mid_event(
    State(app): State<Arc<App>>,
    Extension(info): Extension<ReqInfo>,
) -> Response {
    let items = vec![
        (
            Duration::ZERO,
            Out::Event(sse::event(Message::new("complete").id("1"))),
        ),
        (
            Duration::from_millis(20),
            Out::Meta(Bytes::from_static(b"id: 2\ndata: cut off")),
        ),
    ];
    sse::response(&app, info, sse::paced(items))
}

/// The most events `/test/abort` and `/test/stall` send: plenty to test a client
/// with; beyond it a request only makes the server busy.
const MAX_EVENTS: u64 = 100_000;

/// The `events` parameter, at most [`MAX_EVENTS`].
fn event_count(q: &HashMap<String, String>, default: u64) -> Result<u64, BadParam> {
    match parse_param(q, "events", default)? {
        n if n <= MAX_EVENTS => Ok(n),
        _ => Err(BadParam {
            key: "events".to_owned(),
            message: format!("query parameter `events`: at most {MAX_EVENTS}"),
        }),
    }
}

/// `ANY /test/abort?events=2`: that many events (ids 1..), then the connection is
/// aborted without the end of the chunked body — a network error mid-stream.
pub(crate) async fn abort(
    State(app): State<Arc<App>>,
    Extension(info): Extension<ReqInfo>,
    Query(q): Params,
) -> Response {
    let events = match event_count(&q, 2) {
        Ok(n) => n,
        Err(bad) => return bad.into_response(),
    };
    // Made as they are sent, not all up front.
    let events = stream::iter(1..=events)
        .map(|n| {
            let text = n.to_string();
            Ok(Out::Event(sse::event(Message::new(&text).id(&text))))
        })
        .chain(stream::once(async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Err(std::io::Error::other("aborted on purpose"))
        }))
        .boxed();
    sse::response(&app, info, events)
}

/// `ANY /test/large?bytes=100000`: a small event, one event with that many bytes of
/// data, then a small event again (a client with a size limit drops only the middle one).
pub(crate) async fn large(
    State(app): State<Arc<App>>,
    Extension(info): Extension<ReqInfo>,
    Query(q): Params,
) -> Response {
    let size: usize = param!(q, "bytes", 100_000usize);
    if size > 64 * 1024 * 1024 {
        return json_error(StatusCode::BAD_REQUEST, "`bytes` is at most 64 MiB");
    }
    let big = "x".repeat(size);
    let items = vec![
        (
            Duration::ZERO,
            Out::Event(sse::event(Message::new("before"))),
        ),
        (
            Duration::ZERO,
            Out::Event(sse::event(Message::new(&big).event("large"))),
        ),
        (
            Duration::ZERO,
            Out::Event(sse::event(Message::new("after"))),
        ),
    ];
    sse::response(&app, info, sse::paced(items))
}

/// `ANY /test/stall?events=1`: that many events, then silence (no keep-alive) until
/// the client gives up — for idle timeouts.
pub(crate) async fn stall(
    State(app): State<Arc<App>>,
    Extension(info): Extension<ReqInfo>,
    Query(q): Params,
) -> Response {
    let events = match event_count(&q, 1) {
        Ok(n) => n,
        Err(bad) => return bad.into_response(),
    };
    let events = stream::iter(1..=events)
        .map(|n| Ok(Out::Event(sse::event(Message::new(&n.to_string())))))
        .chain(stream::pending())
        .boxed();
    sse::response_without_keep_alive(&app, info, events)
}

/// `ANY /test/slow?delay_ms=2000`: waits before sending the response headers, then
/// one event — for connect and whole-run timeouts.
pub(crate) async fn slow(
    State(app): State<Arc<App>>,
    Extension(info): Extension<ReqInfo>,
    Query(q): Params,
) -> Response {
    let delay: u64 = param!(q, "delay_ms", 2000u64);
    tokio::time::sleep(Duration::from_millis(delay)).await;
    let items = vec![(
        Duration::ZERO,
        Out::Event(sse::event(Message::new("finally"))),
    )];
    sse::response(&app, info, sse::paced(items))
}

/// `ANY /test/events`: a tour of the format — named events, multi-line and empty data,
/// ids and an id reset, comments, `retry:` — then the end. The `retry:` and the
/// comment are blocks of their own on purpose, unlike on every other stream (see
/// `sse`): a spec parser must dispatch nothing for them.
pub(crate) async fn events(
    State(app): State<Arc<App>>,
    Extension(info): Extension<ReqInfo>,
) -> Response {
    let items = vec![
        Out::Meta(encode::retry(1500)),
        Out::Event(sse::event(Message::new("plain message"))),
        Out::Event(sse::event(
            Message::new("{\"json\": [1, 2, 3]}")
                .event("update")
                .id("a1"),
        )),
        Out::Meta(encode::comment("a comment between events")),
        Out::Event(sse::event(Message::new("line one\nline two"))),
        Out::Event(sse::event(Message::new(""))),
        Out::Event(sse::event(Message::new("id was reset").id(""))),
    ];
    let items = items
        .into_iter()
        .map(|out| (Duration::from_millis(5), out))
        .collect();
    sse::response(&app, info, sse::paced(items))
}
