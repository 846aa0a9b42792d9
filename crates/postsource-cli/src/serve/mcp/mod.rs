//! `/mcp`: a Model Context Protocol server on the Streamable HTTP transport, for
//! trying MCP clients (and `postsource` as one) against a server that streams.
//!
//! MCP is the case SSE over POST was made for: the client POSTs a JSON-RPC request
//! and the answer comes back as an event stream, progress notifications first and
//! the result last. This endpoint speaks the transport as the handshake revisions
//! (2024-11-05 to 2025-11-25) define it, close to what the official SDKs' servers do:
//! `initialize` opens a session (`Mcp-Session-Id`), notifications get 202, every
//! message has an event id, a GET with `Last-Event-ID` resumes a reply where its
//! connection was cut, a GET without one is the server's own (quiet) stream,
//! `notifications/cancelled` stops a reply, and DELETE ends the session. Two
//! tools: `countdown`, paced like the model's tokens, and `echo`.
//!
//! Replies are kept as what they are to say, not as the bytes said: a reply is a
//! pure function of its request and of when it started, so resuming one costs no
//! buffer of sent events, and memory stays bounded by the number of sessions and
//! replies kept.
//!
//! - this module: the transport (sessions by header, the refusals it prescribes,
//!   replies streamed as events, resumption by GET);
//! - `reply`: what a request is answered with, and when each message is due;
//! - `sessions`: the bounded table of sessions and their resumable replies.

mod reply;
mod sessions;

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::BytesRejection;
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::stream::{self, StreamExt};
use postsource::encode::Message;
use serde_json::{Value, json};

use super::body::Unread;
use super::model::Streaming;
use super::sse::{self, Out};
use super::testing::parse_param;
use super::{App, ReqInfo};
use reply::{Reply, ReplyBody, answer};
pub(crate) use sessions::Sessions;

/// The protocol revisions an `initialize` can agree on, oldest first.
const VERSIONS: &[&str] = &["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];
/// The revision offered to a client that asks for one not in [`VERSIONS`].
const LATEST: &str = "2025-11-25";
/// The first revision whose clients take a priming event (an id and empty data;
/// the dated revisions sort as text).
const PRIMING_SINCE: &str = "2025-11-25";
/// The reconnection delay the priming event suggests.
const RETRY_MS: u64 = 500;

const SESSION_HEADER: &str = "mcp-session-id";
const VERSION_HEADER: &str = "mcp-protocol-version";

// JSON-RPC error codes of refusals.
const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;

/// A JSON-RPC error as an HTTP response, for requests refused before any stream.
fn refuse(status: StatusCode, code: i64, message: &str) -> Response {
    let body = json!({"jsonrpc": "2.0", "id": null, "error": {"code": code, "message": message}});
    (status, axum::Json(body)).into_response()
}

/// `ANY /mcp`
pub(crate) async fn mcp(
    State(app): State<Arc<App>>,
    Extension(info): Extension<ReqInfo>,
    Query(q): Query<HashMap<String, String>>,
    method: Method,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let Some(origin) = headers.get(header::ORIGIN)
        && !is_local_origin(origin)
    {
        // The transport asks servers to refuse other origins (DNS rebinding).
        return refuse(
            StatusCode::FORBIDDEN,
            INVALID_REQUEST,
            "Forbidden: this server only takes requests from local origins",
        );
    }
    // postsource's own query parameters; a bad one is refused as JSON-RPC, as the
    // client at the other end reads errors.
    let params = Streaming::of(&app, &headers, &q)
        .and_then(|streaming| Ok((streaming.pace, parse_param(&q, "abort_after", u64::MAX)?)));
    let (pace, abort_after) = match params {
        Ok(params) => params,
        Err(bad) => return refuse(StatusCode::BAD_REQUEST, INVALID_REQUEST, bad.message()),
    };
    match method {
        Method::POST => match body {
            Ok(body) => post(&app, info, &headers, &body, pace, abort_after),
            Err(rejection) => {
                let unread = Unread::from(rejection);
                refuse(unread.status, INVALID_REQUEST, &unread.message)
            }
        },
        Method::GET => get(&app, info, &headers, abort_after),
        Method::DELETE => delete(&app, &headers),
        _ => {
            let mut response = refuse(
                StatusCode::METHOD_NOT_ALLOWED,
                INVALID_REQUEST,
                "Method Not Allowed: /mcp takes POST, GET and DELETE",
            );
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, POST, DELETE"));
            response
        }
    }
}

/// Whether an `Origin` is this machine (any port): a page served on loopback.
fn is_local_origin(origin: &HeaderValue) -> bool {
    let host = origin
        .to_str()
        .ok()
        .and_then(|o| o.parse::<Uri>().ok())
        .and_then(|uri| uri.host().map(str::to_owned));
    matches!(
        host.as_deref(),
        Some("localhost" | "127.0.0.1" | "[::1]" | "::1")
    )
}

/// Which media types an `Accept` takes: (JSON, event stream), wildcards included.
fn accepts(headers: &HeaderMap) -> (bool, bool) {
    let types: Vec<String> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| {
            t.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .collect();
    let takes = |exact: &str, family: &str| {
        types
            .iter()
            .any(|t| t == "*/*" || t == exact || t == family)
    };
    (
        takes("application/json", "application/*"),
        takes("text/event-stream", "text/*"),
    )
}

/// A JSON-RPC message as the transport sorts them.
enum Incoming {
    Request {
        id: Value,
        method: String,
        params: Value,
    },
    /// A notification or a response to a server request: 202, nothing to answer.
    /// `notifications/cancelled` names the request whose reply is to stop.
    NoReply { cancels: Option<Value> },
}

fn classify(message: &Value) -> Option<Incoming> {
    let object = message.as_object()?;
    if object.get("jsonrpc") != Some(&json!("2.0")) {
        return None;
    }
    let id = object
        .get("id")
        .filter(|id| id.is_string() || id.is_number());
    match (object.get("method").and_then(Value::as_str), id) {
        (Some(method), Some(id)) => Some(Incoming::Request {
            id: id.clone(),
            method: method.to_owned(),
            params: object.get("params").cloned().unwrap_or(Value::Null),
        }),
        (Some(method), None) if !object.contains_key("id") => Some(Incoming::NoReply {
            cancels: (method == "notifications/cancelled")
                .then(|| message["params"].get("requestId").cloned())
                .flatten(),
        }),
        (None, Some(_)) if object.contains_key("result") || object.contains_key("error") => {
            Some(Incoming::NoReply { cancels: None })
        }
        _ => None,
    }
}

/// `POST /mcp`. `abort_after`: the connection is cut after that many messages of
/// the reply, which goes on without it (for testing resumption); so is each GET
/// that resumes it.
fn post(
    app: &Arc<App>,
    info: ReqInfo,
    headers: &HeaderMap,
    body: &[u8],
    pace: Duration,
    abort_after: u64,
) -> Response {
    if accepts(headers) != (true, true) {
        return refuse(
            StatusCode::NOT_ACCEPTABLE,
            INVALID_REQUEST,
            "Not Acceptable: Client must accept both application/json and text/event-stream",
        );
    }
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            INVALID_REQUEST,
            "Unsupported Media Type: Content-Type must be application/json",
        );
    }
    let message: Value = match serde_json::from_slice(body) {
        Ok(message) => message,
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                PARSE_ERROR,
                &format!("Parse error: {e}"),
            );
        }
    };
    let Some(incoming) = classify(&message) else {
        let what = if message.is_array() {
            "Invalid Request: batches are not supported (one JSON-RPC message per POST)"
        } else {
            "Invalid Request: not a JSON-RPC 2.0 request, notification or response"
        };
        return refuse(StatusCode::BAD_REQUEST, INVALID_REQUEST, what);
    };
    let (id, method, params) = match incoming {
        Incoming::Request { id, method, params } if method == "initialize" => {
            return initialize(app, info, id, &params, abort_after);
        }
        Incoming::Request { id, method, params } => (id, method, params),
        Incoming::NoReply { cancels } => {
            return match session_of(app, headers) {
                Ok((session_id, _)) => {
                    if let Some(request) = cancels {
                        app.mcp.cancel(&session_id, &request);
                    }
                    StatusCode::ACCEPTED.into_response()
                }
                Err(refused) => refused.into_response(),
            };
        }
    };
    let (session_id, version) = match session_of(app, headers) {
        Ok(session) => session,
        Err(refused) => return refused.into_response(),
    };
    let reply = Reply::new(pace, primes(&version), id, answer(&method, &params));
    start(app, info, &session_id, reply, abort_after)
}

/// `initialize`: a new session, and the server's side of the handshake.
fn initialize(
    app: &Arc<App>,
    info: ReqInfo,
    id: Value,
    params: &Value,
    abort_after: u64,
) -> Response {
    let asked = params.get("protocolVersion").and_then(Value::as_str);
    let version = asked
        .filter(|v| VERSIONS.contains(v))
        .unwrap_or(LATEST)
        .to_owned();
    let result = json!({
        "protocolVersion": version,
        "capabilities": {"tools": {"listChanged": false}},
        "serverInfo": {"name": "postsource-serve", "title": "postsource serve",
                       "version": env!("CARGO_PKG_VERSION")},
        "instructions": "A test server: `countdown` streams progress notifications before its \
                         result; a reply cut off can be resumed by GET with Last-Event-ID.",
    });
    let session_id = app.mcp.open(&version);
    let body = ReplyBody::Now(json!({"result": result}));
    let reply = Reply::new(Duration::ZERO, primes(&version), id, body);
    start(app, info, &session_id, reply, abort_after)
}

/// Whether clients of `version` take a priming event.
fn primes(version: &str) -> bool {
    version >= PRIMING_SINCE
}

/// Keeps `reply` in the session, for resumption, and streams it.
fn start(
    app: &Arc<App>,
    info: ReqInfo,
    session_id: &str,
    reply: Reply,
    abort_after: u64,
) -> Response {
    let reply = Arc::new(reply);
    let Some(stream) = app.mcp.keep(session_id, reply.clone()) else {
        return session_gone().into_response();
    };
    stream_reply(app, info, session_id, stream, reply, 0..abort_after)
}

/// The session a request names: its id and revision, or the refusal the
/// transport prescribes (400 without a session id, 404 for an unknown one).
fn session_of(app: &App, headers: &HeaderMap) -> Result<(String, String), Refused> {
    if let Some(asked) = headers.get(VERSION_HEADER) {
        let asked = asked.to_str().unwrap_or("");
        if !VERSIONS.contains(&asked) {
            let message = format!(
                "Bad Request: unsupported {VERSION_HEADER} {asked:?} (supported: {})",
                VERSIONS.join(", ")
            );
            return Err(Refused(StatusCode::BAD_REQUEST, message));
        }
    }
    let Some(id) = headers.get(SESSION_HEADER).and_then(|v| v.to_str().ok()) else {
        let message = "Bad Request: Missing session ID (send initialize first)";
        return Err(Refused(StatusCode::BAD_REQUEST, message.to_owned()));
    };
    match app.mcp.version(id) {
        Some(version) => Ok((id.to_owned(), version)),
        None => Err(session_gone()),
    }
}

/// A request refused for its session or revision: an Invalid Request error.
struct Refused(StatusCode, String);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        refuse(self.0, INVALID_REQUEST, &self.1)
    }
}

fn session_gone() -> Refused {
    let message = "Not Found: Invalid or expired session ID";
    Refused(StatusCode::NOT_FOUND, message.to_owned())
}

/// The SSE response for messages `sent` of `reply`, each at its time: the priming
/// event first on a new reply (when the client's revision takes it). When the
/// range ends before the reply does, the connection is then cut; when the reply is
/// cancelled, the stream ends there.
fn stream_reply(
    app: &Arc<App>,
    info: ReqInfo,
    session_id: &str,
    stream: u64,
    reply: Arc<Reply>,
    sent: Range<u64>,
) -> Response {
    let cut = (sent.end < reply.len()).then(|| {
        let cancelled = reply.cancelled.clone();
        async move {
            // A moment for what was sent to be flushed first. A cancelled reply
            // just ends.
            tokio::time::sleep(Duration::from_millis(20)).await;
            let cut = std::io::Error::other("abort_after: the connection is cut mid-reply");
            (!cancelled.is_cancelled()).then_some(Err(cut))
        }
    });
    let priming = (sent.start == 0 && reply.priming).then(|| {
        let id = format!("{stream}-0");
        Ok(Out::Event(sse::event(
            Message::new("").id(&id).retry(RETRY_MS),
        )))
    });
    let cancelled = reply.cancelled.clone().cancelled_owned();
    let messages = stream::iter(sent.start..sent.end.min(reply.len())).then(move |k| {
        let reply = reply.clone();
        async move {
            let (due, message) = reply.message(k);
            // A wait, not an instant: `started + due` may be past the clock's end.
            tokio::time::sleep(due.saturating_sub(reply.started.elapsed())).await;
            let id = format!("{stream}-{}", k + 1);
            Ok(Out::Event(sse::event(
                Message::new(&message.to_string()).id(&id),
            )))
        }
    });
    let events = stream::iter(priming)
        .chain(messages.take_until(cancelled))
        .chain(stream::iter(cut).filter_map(|cut| cut))
        .boxed();
    with_session(sse::response(app, info, events), session_id)
}

fn with_session(mut response: Response, session_id: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(session_id) {
        response.headers_mut().insert(SESSION_HEADER, v);
    }
    response
}

/// `GET /mcp`: with `Last-Event-ID`, the rest of that reply (204 when nothing is
/// left); without, the server's own stream, which this server never writes to (it
/// sends no requests of its own), kept open with keep-alive comments until the
/// session ends.
fn get(app: &Arc<App>, info: ReqInfo, headers: &HeaderMap, abort_after: u64) -> Response {
    if !accepts(headers).1 {
        return refuse(
            StatusCode::NOT_ACCEPTABLE,
            INVALID_REQUEST,
            "Not Acceptable: Client must accept text/event-stream",
        );
    }
    let (session_id, _) = match session_of(app, headers) {
        Ok(session) => session,
        Err(refused) => return refused.into_response(),
    };
    let Some(last) = headers.get(header::HeaderName::from_static("last-event-id")) else {
        let Some(ended) = app.mcp.ended(&session_id) else {
            return session_gone().into_response();
        };
        let quiet = stream::pending()
            .take_until(ended.cancelled_owned())
            .boxed();
        return with_session(sse::response(app, info, quiet), &session_id);
    };
    let resumed = last
        .to_str()
        .ok()
        .and_then(|id| id.split_once('-'))
        .and_then(|(stream, k)| Some((stream.parse().ok()?, k.parse().ok()?)))
        .and_then(|(stream, k): (u64, u64)| {
            let reply = app.mcp.reply(&session_id, stream)?;
            (k <= reply.len()).then_some((stream, reply, k))
        });
    match resumed {
        // All was sent (or the request was cancelled): 204 tells an EventSource-like
        // client to stop, rather than ask again and again for what follows the end.
        Some((_, reply, k)) if k == reply.len() || reply.cancelled.is_cancelled() => {
            StatusCode::NO_CONTENT.into_response()
        }
        Some((stream, reply, k)) => {
            let sent = k..k.saturating_add(abort_after);
            stream_reply(app, info, &session_id, stream, reply, sent)
        }
        None => refuse(
            StatusCode::BAD_REQUEST,
            INVALID_REQUEST,
            "Bad Request: Last-Event-ID names no reply of this session that can be resumed",
        ),
    }
}

/// `DELETE /mcp`: the session ends; its id is refused from then on.
fn delete(app: &App, headers: &HeaderMap) -> Response {
    let (session_id, _) = match session_of(app, headers) {
        Ok(session) => session,
        Err(refused) => return refused.into_response(),
    };
    app.mcp.close(&session_id);
    StatusCode::OK.into_response()
}
