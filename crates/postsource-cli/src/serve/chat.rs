//! `/v1/chat/completions`: the simulated model, OpenAI-compatible.
//!
//! Real OpenAI client code (SDKs, `curl` recipes) can be pointed at
//! `http://127.0.0.1:PORT/v1`. The answer of the simulated `model` is streamed as
//! `chat.completion.chunk` objects exactly as the API does: a role delta first, one
//! content delta per token, a final chunk with `finish_reason`, an optional usage
//! chunk (`stream_options.include_usage`), then `data: [DONE]`. Every event carries an id
//! (its index), and because the answer is a pure function of the request, a client
//! that reconnects with `Last-Event-ID` gets the rest of the same answer; once it has
//! had all of it, 204 No Content, which tells an EventSource-style client to stop
//! (an empty 200 would have it reconnect forever).
//! Errors use OpenAI's JSON shape: `{"error": {"message", "type", "param", "code"}}`,
//! also the in-stream one that `?error_after=N` sends after N tokens.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::BytesRejection;
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use postsource::encode::Message;
use serde::Deserialize;
use serde_json::{Value, json};

use super::body::Unread;
use super::model::{self, Answer, BadBody, MODEL, Streaming, Turn};
use super::sse::{self, Out};
use super::testing::BadParam;
use super::{App, ReqInfo};

#[derive(Deserialize)]
struct ChatRequest {
    model: Option<String>,
    messages: Option<Vec<Turn>>,
    #[serde(default)]
    stream: bool,
    max_tokens: Option<u64>,
    max_completion_tokens: Option<u64>,
    stream_options: Option<StreamOptions>,
}

#[derive(Deserialize)]
struct StreamOptions {
    #[serde(default)]
    include_usage: bool,
}

/// OpenAI's error for a request it refuses, naming the parameter at fault; `code`
/// is a string or null, never a number.
fn openai_error(
    status: StatusCode,
    message: &str,
    param: Option<&str>,
    code: Option<&str>,
) -> Response {
    let body = json!({
        "error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    });
    (status, axum::Json(body)).into_response()
}

/// OpenAI's 400 for a request it refuses, naming the parameter at fault.
pub(crate) fn invalid_request(message: &str, param: Option<&str>) -> Response {
    openai_error(StatusCode::BAD_REQUEST, message, param, None)
}

/// OpenAI's 400 for a postsource query parameter (`?pace_ms=`) that did not parse.
pub(crate) fn bad_param(bad: &BadParam) -> Response {
    invalid_request(bad.message(), Some(bad.key()))
}

/// OpenAI's error for a body that was not read (413 when too large).
pub(crate) fn unread_body(unread: Unread) -> Response {
    let code = unread.too_large().then_some("request_too_large");
    openai_error(unread.status, &unread.message, None, code)
}

/// OpenAI's 405 for a method other than POST, with `Allow`.
pub(crate) async fn wrong_method(method: Method, uri: Uri) -> Response {
    let message = format!("Invalid method for URL ({method} {})", uri.path());
    let mut response = openai_error(StatusCode::METHOD_NOT_ALLOWED, &message, None, None);
    let allow = HeaderValue::from_static("POST");
    response.headers_mut().insert(header::ALLOW, allow);
    response
}

/// OpenAI's 400 for a request body that could not be read.
pub(crate) fn bad_body(bad: BadBody) -> Response {
    let message = match &bad.field {
        Some(field) => format!("Invalid value for '{field}': {}", bad.reason),
        None => format!(
            "We could not parse the JSON body of your request: {}",
            bad.reason
        ),
    };
    invalid_request(&message, bad.field.as_deref())
}

/// `POST /v1/chat/completions` (`?pace_ms=` or `x-postsource-pace-ms` override the pace)
pub(crate) async fn completions(
    State(app): State<Arc<App>>,
    Extension(info): Extension<ReqInfo>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) => return unread_body(rejection.into()),
    };
    let request: ChatRequest = match model::read_body(&body) {
        Ok(r) => r,
        Err(bad) => return bad_body(bad),
    };
    let Some(messages) = request.messages else {
        return invalid_request("Missing required parameter: 'messages'.", Some("messages"));
    };
    if messages.is_empty() {
        return invalid_request(
            "Invalid 'messages': empty array. Expected an array with minimum length 1.",
            Some("messages"),
        );
    }
    // As the API: a limit, when given, is at least 1.
    for (param, limit) in [
        ("max_tokens", request.max_tokens),
        ("max_completion_tokens", request.max_completion_tokens),
    ] {
        if limit == Some(0) {
            return invalid_request(
                &format!(
                    "Invalid '{param}': integer below minimum value. \
                     Expected a value >= 1, but got 0 instead."
                ),
                Some(param),
            );
        }
    }
    let Streaming { pace, error_after } = match Streaming::of(&app, &headers, &q) {
        Ok(streaming) => streaming,
        Err(bad) => return bad_param(&bad),
    };
    let answer = Answer::to(
        &messages,
        &Value::Null,
        request.max_completion_tokens.or(request.max_tokens),
    );
    let tokens = &answer.tokens;
    let finish = if answer.truncated { "length" } else { "stop" };
    let model = request.model.unwrap_or_else(|| MODEL.to_owned());
    let id = format!("chatcmpl-{}", model::answer_id(&body));
    let created = model::unix_time();
    let usage = json!({
        "prompt_tokens": answer.input_tokens,
        "completion_tokens": tokens.len(),
        "total_tokens": answer.input_tokens + tokens.len(),
    });

    if !request.stream {
        let body = json!({
            "id": id,
            "object": "chat.completion",
            "created": created,
            "model": model,
            "system_fingerprint": "fp_postsource",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": answer.text(), "refusal": null},
                "logprobs": null,
                "finish_reason": finish,
            }],
            "usage": usage,
        });
        return axum::Json(body).into_response();
    }

    let chunk = |delta: Value, finish_reason: Value| {
        json!({
            "id": id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": "fp_postsource",
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish_reason}],
        })
    };
    let mut payloads = vec![chunk(
        json!({"role": "assistant", "content": "", "refusal": null}),
        Value::Null,
    )];
    payloads.extend(
        tokens
            .iter()
            .map(|t| chunk(json!({"content": t}), Value::Null)),
    );
    payloads.push(chunk(json!({}), json!(finish)));
    if request.stream_options.is_some_and(|o| o.include_usage) {
        payloads.push(json!({
            "id": id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": "fp_postsource",
            "choices": [],
            "usage": usage,
        }));
    }
    let mut data: Vec<String> = payloads.iter().map(Value::to_string).collect();
    data.push("[DONE]".to_owned());

    // Past the end (however large the id): 204 below.
    let start = sse::last_event_number(&headers).map_or(0, |i| {
        usize::try_from(i.saturating_add(1)).unwrap_or(usize::MAX)
    });
    if start >= data.len() {
        return StatusCode::NO_CONTENT.into_response();
    }
    let mut items: Vec<_> = data
        .iter()
        .enumerate()
        .skip(start)
        .map(|(i, d)| {
            // Tokens and the finish chunk are paced; the rest follows at once, and so
            // does the first chunk of a resumed stream.
            let paced = (1..=tokens.len() + 1).contains(&i) && !(i == start && start > 0);
            let delay = if paced { pace } else { Duration::ZERO };
            let bytes = sse::event(Message::new(d).id(&i.to_string()));
            (delay, Out::Event(bytes))
        })
        .collect();
    // The failure is OpenAI's `{"error": ...}` chunk, without an id: a client that
    // resumes after the last token it had gets the rest (resumed, it does not fail).
    if let Some(after) = error_after.filter(|&n| start == 0 && n < tokens.len()) {
        items.truncate(1 + after);
        let error = json!({"error": {"message": model::error_message(after),
                                     "type": "server_error", "param": null, "code": null}});
        let bytes = sse::event(Message::new(&error.to_string()));
        items.push((pace, Out::Event(bytes)));
    }
    sse::response(&app, info, sse::paced(items))
}
