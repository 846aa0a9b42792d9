//! The simulated model behind the LLM-shaped endpoints, and `/v1/models`, its
//! listing. `chat` and `responses` answer in the shapes of OpenAI's two APIs,
//! `messages` in Anthropic's. All stream the same answer, so what one SDK shows can
//! be compared with another.
//!
//! The answer is deterministic text derived from the last user message, split into
//! word tokens. Being a pure function of the request, it is the same when a client
//! sends the request again (to resume it, say), and tests can predict it.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use postsource::encode::Message;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::App;
use super::sse::{self, Out};
use super::testing::{BadParam, parse_header, parse_param};

/// The model name reported when the request names none.
pub(crate) const MODEL: &str = "postsource-sim";

/// A message of the conversation, as each of the APIs sends it.
#[derive(Deserialize)]
pub(crate) struct Turn {
    pub(crate) role: String,
    #[serde(default)]
    pub(crate) content: Value,
}

/// What the model answers a conversation with.
pub(crate) struct Answer {
    /// Word tokens, each but the first with its leading space.
    pub(crate) tokens: Vec<String>,
    /// The token limit cut the answer short.
    pub(crate) truncated: bool,
    /// Words in the conversation (`extra` included), reported as input tokens.
    pub(crate) input_tokens: usize,
}

impl Answer {
    /// The answer to the last user turn of `turns`, at most `limit` tokens long.
    /// `extra` is text the API sends beside the turns (a system prompt), which only
    /// counts as input.
    pub(crate) fn to(turns: &[Turn], extra: &Value, limit: Option<u64>) -> Answer {
        let prompt = turns
            .iter()
            .rev()
            .find(|t| t.role == "user")
            .map(|t| text_of(&t.content))
            .unwrap_or_default();
        let input_tokens = turns
            .iter()
            .map(|t| &t.content)
            .chain([extra])
            .map(|content| text_of(content).split_whitespace().count())
            .sum();
        let mut tokens = answer_tokens(&prompt);
        let keep = limit.map_or(tokens.len(), |limit| {
            tokens
                .len()
                .min(usize::try_from(limit).unwrap_or(usize::MAX))
        });
        let truncated = keep < tokens.len();
        tokens.truncate(keep);
        Answer {
            tokens,
            truncated,
            input_tokens,
        }
    }

    /// The whole text.
    pub(crate) fn text(&self) -> String {
        self.tokens.concat()
    }
}

/// The text of a message: a string, or the text parts of a content array.
fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

/// The simulated answer to `prompt`, as tokens (words with their leading space).
fn answer_tokens(prompt: &str) -> Vec<String> {
    let words: Vec<&str> = prompt.split_whitespace().collect();
    let quoted = if words.is_empty() {
        "nothing at all".to_owned()
    } else if words.len() <= 8 {
        format!("\u{201c}{}\u{201d}", words.join(" "))
    } else {
        format!("\u{201c}{} \u{2026}\u{201d}", words[..8].join(" "))
    };
    let text = format!(
        "Hello! This is postsource's simulated model. You wrote {quoted} ({} {}). \
         Each word of this answer is its own server-sent event, paced like a real model, \
         so you can watch a POST stream arrive token by token and stop it at any moment.",
        words.len(),
        if words.len() == 1 { "word" } else { "words" }
    );
    let mut tokens = Vec::new();
    for (i, word) in text.split(' ').enumerate() {
        tokens.push(if i == 0 {
            word.to_owned()
        } else {
            format!(" {word}")
        });
    }
    tokens
}

/// How the simulated model streams, as the request asks.
pub(crate) struct Streaming {
    /// The delay between tokens: `?pace_ms=N`, else an `x-postsource-pace-ms: N`
    /// header, else the server's `--pace-ms`.
    pub(crate) pace: Duration,
    /// `?error_after=N`: the stream fails after N tokens with the API's own
    /// in-stream error event (`None`: it does not fail). For testing how a client
    /// handles an error that arrives after the 200.
    pub(crate) error_after: Option<usize>,
}

impl Streaming {
    pub(crate) fn of(
        app: &App,
        headers: &HeaderMap,
        query: &HashMap<String, String>,
    ) -> Result<Streaming, BadParam> {
        let from_header = parse_header(headers, "x-postsource-pace-ms")?;
        let default =
            from_header.unwrap_or(u64::try_from(app.pace.as_millis()).unwrap_or(u64::MAX));
        let pace = Duration::from_millis(parse_param(query, "pace_ms", default)?);
        let error_after = parse_param(query, "error_after", usize::MAX)?;
        Ok(Streaming {
            pace,
            error_after: (error_after != usize::MAX).then_some(error_after),
        })
    }
}

/// A request body that could not be read: where, and why.
pub(crate) struct BadBody {
    /// The field at fault (`max_tokens`, `messages[0]`), or `None` when the body is
    /// not JSON or the fault is in the whole of it.
    pub(crate) field: Option<String>,
    pub(crate) reason: String,
}

/// Reads a request body as `T`, naming the field at fault when it cannot.
pub(crate) fn read_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, BadBody> {
    let mut json = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut json).map_err(|e| {
        let field = e.path().to_string();
        // Broken JSON has no field at fault, whatever it was inside.
        let named = field != "." && e.inner().classify() == serde_json::error::Category::Data;
        BadBody {
            field: named.then_some(field),
            reason: e.into_inner().to_string(),
        }
    })
}

/// The events of the APIs that name each event by its data's `type` field
/// (Anthropic's, OpenAI's Responses), each after its delay: `event: <type>` and the
/// JSON as `data:`.
pub(crate) fn named_by_type(events: impl IntoIterator<Item = (Duration, Value)>) -> sse::Gen {
    let items = events
        .into_iter()
        .map(|(delay, data)| {
            let name = data["type"].as_str().unwrap_or_default().to_owned();
            let bytes = sse::event(Message::new(&data.to_string()).event(&name));
            (delay, Out::Event(bytes))
        })
        .collect();
    sse::paced(items)
}

/// What the in-stream error says.
pub(crate) fn error_message(after: usize) -> String {
    let tokens = if after == 1 { "token" } else { "tokens" };
    format!(
        "The simulated model failed after {after} {tokens}, as asked with ?error_after={after}."
    )
}

/// Now, in seconds since the Unix epoch: the APIs' `created` times.
pub(crate) fn unix_time() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// An id for the answer to `body` (16 hex digits): the same for the same request,
/// so a resumed stream belongs to the answer it resumes.
pub(crate) fn answer_id(body: &[u8]) -> String {
    let mut hasher = DefaultHasher::new();
    body.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// The model as both APIs list it: OpenAI's fields (`object`, `created`, `owned_by`)
/// beside Anthropic's (`type`, `display_name`, `created_at`), so that either SDK
/// reads it.
fn model_info() -> Value {
    json!({
        "id": MODEL,
        "object": "model",
        "created": 0,
        "owned_by": "postsource",
        "type": "model",
        "display_name": "postsource simulated model",
        "created_at": "1970-01-01T00:00:00Z",
    })
}

/// `GET /v1/models`: a list page in both APIs' shapes.
pub(crate) async fn models() -> Response {
    axum::Json(json!({
        "object": "list",
        "data": [model_info()],
        "has_more": false,
        "first_id": MODEL,
        "last_id": MODEL,
    }))
    .into_response()
}

/// `GET /v1/models/{id}`: the model, or 404 with an error both APIs' SDKs read.
pub(crate) async fn model(Path(id): Path<String>) -> Response {
    if id == MODEL {
        return axum::Json(model_info()).into_response();
    }
    let message = format!("The model `{id}` does not exist; this server has `{MODEL}`.");
    let body = json!({
        "type": "error",
        "error": {"type": "not_found_error", "message": message, "param": null,
                  "code": "model_not_found"},
    });
    (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
}
