//! MCP-style resumable streams: POST a JSON-RPC request, read its SSE reply, and
//! when the connection drops, resume with a GET carrying `Last-Event-ID`, as the
//! Model Context Protocol's streamable HTTP transport specifies.
//!
//! ```text
//! cargo run -p postsource --example mcp_resume            # against a built-in demo server
//! MCP_URL=http://127.0.0.1:3000/mcp cargo run -p postsource --example mcp_resume
//! ```
//!
//! The built-in server streams progress notifications with event ids and cuts
//! the first connection halfway; the client resumes from the last id it saw, and
//! no event is lost or repeated.

use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use postsource::client::{EventJson, EventSource, SseItem};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = match std::env::var("MCP_URL") {
        Ok(url) => url,
        Err(_) => demo_server().await?,
    };
    let mut source = EventSource::post(&url)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-session-id", "demo-session")
        .json(&serde_json::json!({
            "jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": { "name": "count", "arguments": { "to": 6 } }
        }))
        .retry(Duration::from_millis(200))
        .max_retries(5)
        // Each reconnection is a GET to the same endpoint with Last-Event-ID
        // (set by the client) and the session header, without the POST body.
        .reconnect_request(|req| req.into_get())
        .build()?;

    while let Some(item) = source.next().await {
        match item? {
            SseItem::Open { url, .. } => println!("open {url}"),
            SseItem::Event(event) => {
                let Some(message) = event.try_json::<serde_json::Value>() else {
                    continue;
                };
                let message = message?;
                println!("id {:>2}: {message}", event.last_event_id);
                if message.get("result").is_some() {
                    // The JSON-RPC response ends the exchange.
                    source.close();
                }
            }
            SseItem::Reconnecting { attempt, delay } => {
                println!(
                    "connection lost; resuming after id {:?} (attempt {attempt}, in {delay:?})",
                    source.last_event_id()
                )
            }
            SseItem::Closed(reason) => println!("closed: {}", reason.as_str()),
            _ => {}
        }
    }
    Ok(())
}

/// A tiny MCP-like endpoint: POST starts a call and streams events 1..=6, cutting
/// the connection after 3; GET with `Last-Event-ID: n` resumes from n + 1.
async fn demo_server() -> std::io::Result<String> {
    async fn stream(headers: HeaderMap, first: bool) -> Response {
        let after: u32 = headers
            .get("last-event-id")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let events = (after + 1..=6).map(move |n| {
            let message = if n == 6 {
                serde_json::json!({"jsonrpc": "2.0", "id": 1, "result": {"content": [{"type": "text", "text": "done"}]}})
            } else {
                serde_json::json!({"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progress": n, "total": 6}})
            };
            // An empty priming event first (the id alone), as MCP servers send.
            let priming = if n == after + 1 { format!("id: {after}\ndata:\n\n") } else { String::new() };
            (n, format!("{priming}id: {n}\ndata: {message}\n\n"))
        });
        let body = futures::stream::unfold(events, move |mut events| async move {
            let (n, text) = events.next()?;
            tokio::time::sleep(Duration::from_millis(100)).await;
            if first && n == 4 {
                return Some((Err(std::io::Error::other("connection cut")), events));
            }
            Some((Ok::<_, std::io::Error>(Bytes::from(text)), events))
        });
        Response::builder()
            .header("content-type", "text/event-stream")
            .body(Body::from_stream(body))
            .unwrap()
    }
    let app = Router::new().route(
        "/mcp",
        post(|headers: HeaderMap| stream(headers, true))
            .get(|headers: HeaderMap| stream(headers, false)),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/mcp", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(url)
}
