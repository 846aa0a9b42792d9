//! `/v1/messages`: the simulated model in the shape of Anthropic's Messages API.
//!
//! Anthropic client code (the SDKs, `curl` recipes) can be pointed at
//! `http://127.0.0.1:PORT`. Where the OpenAI shape sends unnamed events and a
//! `[DONE]` sentinel, this one is named events from start to end, as the API sends
//! them: `message_start`, `content_block_start`, a `ping`, one `content_block_delta`
//! per token, `content_block_stop`, `message_delta` (stop reason, usage) and
//! `message_stop`, each with a JSON `data` whose `type` repeats the event name. Like
//! the API, it sends no ids, so nothing resumes: a client ends at the end of the
//! stream (a POST without an id is not sent again). Errors use Anthropic's JSON
//! shape: `{"type": "error", "error": {"type", "message"}}`, also the in-stream
//! `error` event that `?error_after=N` sends after N tokens.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::BytesRejection;
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};

use super::body::Unread;
use super::model::{self, Answer, BadBody, Streaming, Turn};
use super::sse;
use super::{App, ReqInfo};

#[derive(Deserialize)]
struct MessagesRequest {
    model: Option<String>,
    max_tokens: Option<i64>,
    messages: Option<Vec<Turn>>,
    #[serde(default)]
    system: Value,
    #[serde(default)]
    stream: bool,
}

/// Anthropic's error shape, with its `type` for the status.
fn anthropic_error(status: StatusCode, kind: &str, message: &str) -> Response {
    let body = json!({"type": "error", "error": {"type": kind, "message": message}});
    (status, axum::Json(body)).into_response()
}

/// Anthropic's 400 for a request it refuses.
fn invalid(message: &str) -> Response {
    anthropic_error(StatusCode::BAD_REQUEST, "invalid_request_error", message)
}

/// Anthropic's 405 for a method other than POST, with `Allow`.
pub(crate) async fn wrong_method(method: Method) -> Response {
    let message = format!("Method Not Allowed: {method} /v1/messages (use POST)");
    let mut response = anthropic_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "invalid_request_error",
        &message,
    );
    let allow = HeaderValue::from_static("POST");
    response.headers_mut().insert(header::ALLOW, allow);
    response
}

/// `POST /v1/messages` (`?pace_ms=` or `x-postsource-pace-ms` override the pace)
pub(crate) async fn messages(
    State(app): State<Arc<App>>,
    Extension(info): Extension<ReqInfo>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            let unread = Unread::from(rejection);
            let kind = match unread.too_large() {
                true => "request_too_large",
                false => "invalid_request_error",
            };
            return anthropic_error(unread.status, kind, &unread.message);
        }
    };
    let request: MessagesRequest = match model::read_body(&body) {
        Ok(r) => r,
        Err(BadBody { field, reason }) => {
            let at = field.unwrap_or_else(|| "Invalid request body".to_owned());
            return invalid(&format!("{at}: {reason}"));
        }
    };
    // Required as by the API, so that a request tried here works there too.
    let Some(model) = request.model else {
        return invalid("model: Field required");
    };
    let Some(max_tokens) = request.max_tokens else {
        return invalid("max_tokens: Field required");
    };
    if max_tokens < 1 {
        return invalid("max_tokens: Input should be greater than or equal to 1");
    }
    let Some(turns) = request.messages else {
        return invalid("messages: Field required");
    };
    if turns.is_empty() {
        return invalid("messages: at least one message is required");
    }
    let Streaming { pace, error_after } = match Streaming::of(&app, &headers, &q) {
        Ok(streaming) => streaming,
        Err(bad) => return invalid(bad.message()),
    };
    let answer = Answer::to(&turns, &request.system, Some(max_tokens as u64));
    let stop_reason = if answer.truncated {
        "max_tokens"
    } else {
        "end_turn"
    };
    let id = format!("msg_{}", model::answer_id(&body));

    if !request.stream {
        return axum::Json(json!({
            "id": id,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": answer.text()}],
            "stop_reason": stop_reason,
            "stop_sequence": null,
            "usage": {"input_tokens": answer.input_tokens, "output_tokens": answer.tokens.len()},
        }))
        .into_response();
    }

    let start = json!({
        "type": "message_start",
        "message": {
            "id": id,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": null,
            "stop_sequence": null,
            "usage": {"input_tokens": answer.input_tokens, "output_tokens": 1},
        },
    });
    let mut events = vec![
        (Duration::ZERO, start),
        (
            Duration::ZERO,
            json!({"type": "content_block_start", "index": 0,
                   "content_block": {"type": "text", "text": ""}}),
        ),
        (Duration::ZERO, json!({"type": "ping"})),
    ];
    events.extend(answer.tokens.iter().map(|token| {
        let delta = json!({"type": "content_block_delta", "index": 0,
                           "delta": {"type": "text_delta", "text": token}});
        (pace, delta)
    }));
    let ending = [
        (pace, json!({"type": "content_block_stop", "index": 0})),
        (
            Duration::ZERO,
            json!({"type": "message_delta",
                   "delta": {"stop_reason": stop_reason, "stop_sequence": null},
                   "usage": {"output_tokens": answer.tokens.len()}}),
        ),
        (Duration::ZERO, json!({"type": "message_stop"})),
    ];
    // The failure is Anthropic's `error` event, the end of the stream.
    if let Some(after) = error_after.filter(|&n| n < answer.tokens.len()) {
        events.truncate(3 + after);
        let error = json!({"type": "error",
                           "error": {"type": "overloaded_error", "message": model::error_message(after)}});
        events.push((pace, error));
    } else {
        events.extend(ending);
    }
    sse::response(&app, info, model::named_by_type(events))
}
