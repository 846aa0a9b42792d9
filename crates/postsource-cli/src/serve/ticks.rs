//! `/ticks`: a stream with ids that resumes where the client left off.
//!
//! It exercises the reconnection half of EventSource: every event carries an id, the
//! first one also `retry:`, a reconnecting client's `Last-Event-ID` makes it
//! continue with the next number, `count` ends each connection early so clients have
//! to reconnect, and once `total` events have been sent the server answers 204 — the
//! standard way to tell an EventSource to stop reconnecting.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::stream::{self, StreamExt};
use postsource::encode::Message;

use super::sse::{self, Out};
use super::testing::param;
use super::{App, ReqInfo};

/// `ANY /ticks?interval_ms=1000&count=0&total=0&retry=2000`
pub(crate) async fn ticks(
    State(app): State<Arc<App>>,
    Extension(info): Extension<ReqInfo>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let interval_ms = param!(q, "interval_ms", 1000u64);
    let count = param!(q, "count", 0u64);
    let total = param!(q, "total", 0u64);
    let retry = param!(q, "retry", 2000u64);
    let last = sse::last_event_number(&headers).unwrap_or(0);
    // No tick follows `total`, nor the largest id.
    let first = match last.checked_add(1) {
        Some(first) if total == 0 || first <= total => first,
        _ => return StatusCode::NO_CONTENT.into_response(),
    };
    let interval = Duration::from_millis(interval_ms);
    // The first tick goes out at once so a client sees its resume point immediately.
    let numbers = stream::iter(first..=u64::MAX).take_while(move |n| {
        let within_connection = count == 0 || *n - first < count;
        let within_total = total == 0 || *n <= total;
        std::future::ready(within_connection && within_total)
    });
    let events = numbers
        .then(move |n| async move {
            let text = n.to_string();
            let mut msg = Message::new(&text).event("tick").id(&text);
            if n == first {
                msg = msg.retry(retry);
            } else {
                tokio::time::sleep(interval).await;
            }
            Ok(Out::Event(sse::event(msg)))
        })
        .boxed();
    sse::response(&app, info, events)
}
