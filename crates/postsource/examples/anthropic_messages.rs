//! A streamed answer from Anthropic's Messages API, printed token by token: named
//! events, dispatched on their type.
//!
//! It runs against `postsource serve` by default (its simulated model):
//!
//! ```text
//! postsource serve &                        # listens on 127.0.0.1:8080
//! cargo run -p postsource --example anthropic_messages -- "Say hello"
//! ```
//!
//! and against the real API with `ANTHROPIC_BASE_URL=https://api.anthropic.com`,
//! `ANTHROPIC_API_KEY=...` (and optionally `ANTHROPIC_MODEL`).
//!
//! Unlike OpenAI's chat stream, there is no `[DONE]` sentinel: `message_stop` is the
//! last event and the server then ends the stream. The API sends no ids, so a POST
//! is not sent again when the stream ends (`Reconnect::Auto`), and the source closes
//! with reason `eof`.

use std::io::Write;
use std::time::Duration;

use postsource::client::{EventJson, EventSource, SseItem};
use serde::Deserialize;

/// The fields of the events this example reads (`content_block_delta`,
/// `message_delta`, `error`); serde skips the rest.
#[derive(Deserialize)]
struct Payload {
    delta: Option<Delta>,
    error: Option<ApiError>,
}

#[derive(Deserialize)]
struct Delta {
    text: Option<String>,
    stop_reason: Option<String>,
}

#[derive(Deserialize)]
struct ApiError {
    #[serde(rename = "type")]
    kind: String,
    message: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base =
        std::env::var("ANTHROPIC_BASE_URL").unwrap_or_else(|_| "http://127.0.0.1:8080".into());
    let model = std::env::var("ANTHROPIC_MODEL").unwrap_or_else(|_| "claude-sonnet-4-5".into());
    let prompt = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "Tell me about server-sent events.".into());

    let mut builder = EventSource::post(format!("{}/v1/messages", base.trim_end_matches('/')))
        .header("anthropic-version", "2023-06-01")
        .json(&serde_json::json!({
            "model": model,
            "max_tokens": 1024,
            "stream": true,
            "messages": [{ "role": "user", "content": prompt }],
        }))
        .connect_timeout(Duration::from_secs(10))
        .event_timeout(Duration::from_secs(60));
    if let Ok(key) = std::env::var("ANTHROPIC_API_KEY") {
        builder = builder.header("x-api-key", key);
    }
    let mut source = builder.build()?;

    let mut out = std::io::stdout();
    while let Some(item) = source.next().await {
        let event = match item {
            Ok(SseItem::Event(event)) => event,
            Ok(SseItem::Closed(reason)) => {
                writeln!(out, "\n[{}]", reason.as_str())?;
                break;
            }
            Ok(_) => continue,
            Err(e) => {
                // A rejected request keeps the API's own explanation.
                eprintln!("\nrequest failed: {e}");
                if let Some(body) = e.body() {
                    eprintln!("status {:?}, body: {body}", e.status());
                }
                std::process::exit(1);
            }
        };
        // The event type says what the data holds: skip the others unread.
        if !matches!(
            &*event.event,
            "content_block_delta" | "message_delta" | "error"
        ) {
            continue;
        }
        let Some(payload) = event.try_json::<Payload>() else {
            continue;
        };
        let payload = payload?;
        if let Some(error) = payload.error {
            // An error after the 200: the API reports it in the stream.
            eprintln!("\nstream error ({}): {}", error.kind, error.message);
            std::process::exit(1);
        }
        match payload.delta {
            Some(Delta {
                text: Some(text), ..
            }) => {
                write!(out, "{text}")?;
                out.flush()?;
            }
            Some(Delta {
                stop_reason: Some(reason),
                ..
            }) => write!(out, " <{reason}>")?,
            _ => {}
        }
    }
    Ok(())
}
