//! `/echo`: streams the request back, so a client can see exactly what it sent.
//!
//! One event per part — `method`, `url`, one `header` per header line, `body` — and a
//! last `request` event with all of it as one JSON object for scripts (`jq`). Then the
//! stream ends; clients that reconnect on EOF (GET, by the rules) get a fresh echo.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::BytesRejection;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use bytes::Bytes;
use postsource::encode::Message;
use serde_json::json;

use super::body::Unread;
use super::sse::{self, Out};
use super::testing::json_error;
use super::{App, ReqInfo};

/// `ANY /echo`
pub(crate) async fn echo(
    State(app): State<Arc<App>>,
    Extension(info): Extension<ReqInfo>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            let unread = Unread::from(rejection);
            return json_error(unread.status, &unread.message);
        }
    };
    let body = String::from_utf8_lossy(&body).into_owned();
    let target = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let mut out = vec![
        Message::new(method.as_str()).event("method").to_bytes(),
        Message::new(&target).event("url").to_bytes(),
    ];
    let mut header_json = serde_json::Map::new();
    for (name, value) in &headers {
        let value = String::from_utf8_lossy(value.as_bytes());
        out.push(
            Message::new(&format!("{name}: {value}"))
                .event("header")
                .to_bytes(),
        );
        // Repeated headers become an array in the JSON summary.
        match header_json.get_mut(name.as_str()) {
            Some(serde_json::Value::Array(values)) => values.push(json!(value)),
            Some(first) => *first = json!([first.take(), value]),
            None => {
                header_json.insert(name.as_str().to_owned(), json!(value));
            }
        }
    }
    out.push(Message::new(&body).event("body").to_bytes());
    let summary = json!({
        "method": method.as_str(),
        "url": target,
        "headers": header_json,
        "body": body,
    })
    .to_string();
    out.push(Message::new(&summary).event("request").to_bytes());
    let items = out
        .into_iter()
        .map(|bytes| {
            let bytes = bytes.expect("event names and data without ids always encode");
            (Duration::ZERO, Out::Event(bytes))
        })
        .collect();
    sse::response(&app, info, sse::paced(items))
}
