//! A streaming chat completion from an OpenAI-compatible API, printed token by
//! token.
//!
//! It runs against `postsource serve` by default (its simulated model):
//!
//! ```text
//! postsource serve &                        # listens on 127.0.0.1:8080
//! cargo run -p postsource --example openai_chat -- "Say hello"
//! ```
//!
//! and against a real API with `OPENAI_BASE_URL=https://api.openai.com/v1`,
//! `OPENAI_API_KEY=sk-...` (and optionally `OPENAI_MODEL`). An error response
//! (a bad key, an unknown model) is printed with its status and JSON body.

use std::io::Write;
use std::time::Duration;

use postsource::client::{EventJson, EventSource, SseItem};
use serde::Deserialize;

#[derive(Deserialize)]
struct Chunk {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    delta: Delta,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Delta {
    content: Option<String>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base =
        std::env::var("OPENAI_BASE_URL").unwrap_or_else(|_| "http://127.0.0.1:8080/v1".into());
    let model = std::env::var("OPENAI_MODEL").unwrap_or_else(|_| "gpt-4o-mini".into());
    let prompt = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "Tell me about server-sent events.".into());

    let mut builder = EventSource::post(format!("{}/chat/completions", base.trim_end_matches('/')))
        .json(&serde_json::json!({
            "model": model,
            "stream": true,
            "messages": [{ "role": "user", "content": prompt }],
        }))
        // The stream ends with `data: [DONE]`: a normal end, no reconnection.
        .until_data("[DONE]")
        .connect_timeout(Duration::from_secs(10))
        .event_timeout(Duration::from_secs(60));
    if let Ok(key) = std::env::var("OPENAI_API_KEY") {
        builder = builder.bearer_auth(key);
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
                // A failed connection says why in its causes (refused, DNS, TLS).
                let mut cause = std::error::Error::source(&e);
                while let Some(c) = cause {
                    eprintln!("  caused by: {c}");
                    cause = c.source();
                }
                std::process::exit(1);
            }
        };
        if event.data == "[DONE]" {
            continue;
        }
        let Some(chunk) = event.try_json::<Chunk>() else {
            continue;
        };
        for choice in chunk?.choices {
            if let Some(text) = choice.delta.content {
                write!(out, "{text}")?;
                out.flush()?;
            }
            if let Some(reason) = choice.finish_reason {
                write!(out, " <{reason}>")?;
            }
        }
    }
    Ok(())
}
