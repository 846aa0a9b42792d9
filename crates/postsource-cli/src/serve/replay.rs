//! `/replay`: plays back a `--record` recording with its original timing.
//!
//! Events are re-encoded with `postsource::encode`; an `id:` field is written whenever
//! the recorded last event id changes, so a client sees the same types, data and ids
//! as the recorded one did. `--speed` divides the gaps (0: no gaps). A client that
//! reconnects with `Last-Event-ID` resumes after the first event that carried it —
//! possibly repeating events that shared the id, never skipping one — and gets 204
//! No Content when no event follows it, so that it stops reconnecting.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use postsource::encode::{self, Message};

use super::sse::{self, Out};
use super::testing::json_error;
use super::{App, ReqInfo};
use crate::record::Entry;

/// `ANY /replay`
pub(crate) async fn replay(
    State(app): State<Arc<App>>,
    Extension(info): Extension<ReqInfo>,
    headers: HeaderMap,
) -> Response {
    let Some(recording) = app.replay.clone() else {
        return json_error(
            StatusCode::NOT_FOUND,
            "no recording: start the server with `postsource serve --replay FILE`",
        );
    };
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let entries = &recording.entries;
    let start = resume
        .as_deref()
        .and_then(|lei| {
            entries
                .iter()
                .position(|(_, e)| matches!(e, Entry::Event { id, .. } if id == lei))
        })
        .map_or(0, |i| i + 1);
    let rest = &entries[start.min(entries.len())..];
    if start > 0 && !rest.iter().any(|(_, e)| matches!(e, Entry::Event { .. })) {
        return StatusCode::NO_CONTENT.into_response();
    }
    let mut last_id = if start > 0 {
        resume.unwrap_or_default()
    } else {
        String::new()
    };
    let mut previous_at = entries.get(start).map_or(0, |(at, _)| *at);
    let mut items = Vec::with_capacity(entries.len() - start.min(entries.len()));
    // A `retry:` rides on the next event (see `sse`); one left at the end stands alone.
    let mut pending_retry: Option<u64> = None;
    let mut carried = Duration::ZERO;
    for (at, entry) in entries.iter().skip(start) {
        let gap = at.saturating_sub(previous_at);
        previous_at = *at;
        let delay = if app.speed == 0.0 {
            Duration::ZERO
        } else {
            // A tiny speed makes a gap longer than any Duration: wait "forever".
            Duration::try_from_secs_f64(gap as f64 / 1000.0 / app.speed).unwrap_or(Duration::MAX)
        };
        let out = match entry {
            Entry::Event { event, data, id } => {
                let mut msg = Message::new(data);
                if event != "message" {
                    msg = msg.event(event);
                }
                if *id != last_id {
                    msg = msg.id(id);
                    last_id.clone_from(id);
                }
                if let Some(ms) = pending_retry.take() {
                    msg = msg.retry(ms);
                }
                match msg.to_bytes() {
                    Ok(bytes) => Out::Event(bytes),
                    Err(_) => continue, // a hand-edited line that cannot be framed
                }
            }
            Entry::Comment(text) => Out::Meta(encode::comment(text)),
            Entry::Retry(ms) => {
                pending_retry = Some(*ms);
                carried = carried.saturating_add(delay);
                continue;
            }
        };
        items.push((delay.saturating_add(std::mem::take(&mut carried)), out));
    }
    if let Some(ms) = pending_retry {
        items.push((Duration::ZERO, Out::Meta(encode::retry(ms))));
    }
    sse::response(&app, info, sse::paced(items))
}
