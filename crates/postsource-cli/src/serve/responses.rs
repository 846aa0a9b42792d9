//! `/v1/responses`: the simulated model in the shape of OpenAI's Responses API.
//!
//! The Responses API is OpenAI's newer interface (the Agents SDK speaks it), and
//! unlike chat completions it streams named events, each with a `sequence_number`:
//! `response.created`, `response.in_progress`, `response.output_item.added`,
//! `response.content_part.added`, one `response.output_text.delta` per token,
//! `response.output_text.done`, `response.content_part.done`,
//! `response.output_item.done`, and `response.completed` with the whole response
//! (`response.incomplete` when `max_output_tokens` cut it). No `[DONE]` and no ids,
//! as the API sends them: the stream just ends. Errors use OpenAI's JSON shape;
//! `?error_after=N` ends the stream after N tokens with an `error` event.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::BytesRejection;
use axum::extract::{Extension, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};

use super::chat::{bad_body, bad_param, invalid_request, unread_body};
use super::model::{self, Answer, MODEL, Streaming, Turn};
use super::sse;
use super::{App, ReqInfo};

/// The API's least `max_output_tokens`.
const MIN_OUTPUT_TOKENS: u64 = 16;

#[derive(Deserialize)]
struct ResponsesRequest {
    model: Option<String>,
    input: Option<Value>,
    #[serde(default)]
    instructions: Value,
    max_output_tokens: Option<u64>,
    #[serde(default)]
    stream: bool,
}

/// The conversation in `input`: a string (one user turn) or a list of items, of
/// which those with a role are turns.
fn turns(input: Value) -> Option<Vec<Turn>> {
    match input {
        Value::String(_) => Some(vec![Turn {
            role: "user".to_owned(),
            content: input,
        }]),
        Value::Array(items) => Some(
            items
                .into_iter()
                .filter_map(|item| serde_json::from_value(item).ok())
                .collect(),
        ),
        _ => None,
    }
}

/// `POST /v1/responses` (`?pace_ms=` or `x-postsource-pace-ms` override the pace)
pub(crate) async fn responses(
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
    let request: ResponsesRequest = match model::read_body(&body) {
        Ok(r) => r,
        Err(bad) => return bad_body(bad),
    };
    let Some(input) = request.input else {
        return invalid_request("Missing required parameter: 'input'.", Some("input"));
    };
    let Some(turns) = turns(input) else {
        return invalid_request(
            "Invalid type for 'input': expected a string or an array of input items.",
            Some("input"),
        );
    };
    if let Some(n) = request.max_output_tokens.filter(|&n| n < MIN_OUTPUT_TOKENS) {
        return invalid_request(
            &format!(
                "Invalid 'max_output_tokens': integer below minimum value. \
                 Expected a value >= {MIN_OUTPUT_TOKENS}, but got {n} instead."
            ),
            Some("max_output_tokens"),
        );
    }
    let Streaming { pace, error_after } = match Streaming::of(&app, &headers, &q) {
        Ok(streaming) => streaming,
        Err(bad) => return bad_param(&bad),
    };
    let answer = Answer::to(&turns, &request.instructions, request.max_output_tokens);
    let answer_id = model::answer_id(&body);
    let item_id = format!("msg_{answer_id}");
    let created_at = model::unix_time();
    let (status, ended) = match answer.truncated {
        false => ("completed", "response.completed"),
        true => ("incomplete", "response.incomplete"),
    };
    let text = answer.text();
    let part = |text: &str| json!({"type": "output_text", "text": text, "annotations": [], "logprobs": []});
    let incomplete = json!({"reason": "max_output_tokens"});
    let item = |status: &str, content: Value| {
        json!({"id": item_id, "type": "message", "status": status, "role": "assistant",
               "content": content})
    };
    // The response object, at the start and at the end of the stream.
    let response = |status: &str, output: Value, usage: Value| {
        json!({
            "id": format!("resp_{answer_id}"),
            "object": "response",
            "created_at": created_at,
            "status": status,
            "error": null,
            "incomplete_details": (status == "incomplete").then_some(&incomplete),
            "instructions": request.instructions,
            "max_output_tokens": request.max_output_tokens,
            "model": request.model.as_deref().unwrap_or(MODEL),
            "output": output,
            "parallel_tool_calls": true,
            "previous_response_id": null,
            "reasoning": {"effort": null, "summary": null},
            "store": false,
            "temperature": 1.0,
            "text": {"format": {"type": "text"}},
            "tool_choice": "auto",
            "tools": [],
            "top_p": 1.0,
            "truncation": "disabled",
            "usage": usage,
            "user": null,
            "metadata": {},
        })
    };
    let done = response(
        status,
        json!([item(status, json!([part(&text)]))]),
        json!({
            "input_tokens": answer.input_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": answer.tokens.len(),
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": answer.input_tokens + answer.tokens.len(),
        }),
    );
    if !request.stream {
        return axum::Json(done).into_response();
    }

    // An event about the one content part of the one output item.
    let on_part = |kind: &str, fields: Value| {
        let mut event =
            json!({"type": kind, "item_id": item_id, "output_index": 0, "content_index": 0});
        let object = event.as_object_mut().expect("an object");
        object.extend(fields.as_object().expect("an object").clone());
        event
    };
    let started = response("in_progress", json!([]), Value::Null);
    let mut events = vec![
        (
            Duration::ZERO,
            json!({"type": "response.created", "response": started}),
        ),
        (
            Duration::ZERO,
            json!({"type": "response.in_progress", "response": started}),
        ),
        (
            Duration::ZERO,
            json!({"type": "response.output_item.added", "output_index": 0,
                   "item": item("in_progress", json!([]))}),
        ),
        (
            Duration::ZERO,
            on_part("response.content_part.added", json!({"part": part("")})),
        ),
    ];
    events.extend(answer.tokens.iter().map(|token| {
        let delta = on_part(
            "response.output_text.delta",
            json!({"delta": token, "logprobs": []}),
        );
        (pace, delta)
    }));
    let ending = [
        (
            pace,
            on_part(
                "response.output_text.done",
                json!({"text": text, "logprobs": []}),
            ),
        ),
        (
            Duration::ZERO,
            on_part("response.content_part.done", json!({"part": part(&text)})),
        ),
        (
            Duration::ZERO,
            json!({"type": "response.output_item.done", "output_index": 0,
                   "item": item(status, json!([part(&text)]))}),
        ),
        (Duration::ZERO, json!({"type": ended, "response": done})),
    ];
    // The failure is the Responses API's `error` event, the end of the stream.
    if let Some(after) = error_after.filter(|&n| n < answer.tokens.len()) {
        events.truncate(4 + after);
        let error = json!({"type": "error", "code": "server_error",
                           "message": model::error_message(after), "param": null});
        events.push((pace, error));
    } else {
        events.extend(ending);
    }
    let numbered = events
        .into_iter()
        .enumerate()
        .map(|(n, (delay, mut data))| {
            data["sequence_number"] = json!(n);
            (delay, data)
        });
    sse::response(&app, info, model::named_by_type(numbered))
}
