//! The loopback SSE server of the client benchmarks (an axum app on 127.0.0.1) and
//! the three clients measured against it, each driven the way its docs show.
//!
//! Routes:
//! - `GET /llm`: an LLM-like stream, corpus (a) of `postsource_bench::corpus` at
//!   [`LLM_BYTES`], written one event per body frame as a model server would,
//!   ending with `data: [DONE]`;
//! - `GET /idle`: one event, then nothing, forever (an idle open stream).

#![allow(dead_code)] // Each bench uses part of this module.

use std::convert::Infallible;
use std::ops::ControlFlow;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use bytes::Bytes;
use futures::StreamExt;

/// The size of the `/llm` stream.
pub const LLM_BYTES: usize = 512 * 1024;

/// Corpus (a) cut into its events (each ends with its blank line).
pub fn llm_events() -> Vec<Bytes> {
    let body = postsource_bench::corpus::llm(LLM_BYTES);
    let mut events = Vec::new();
    let mut start = 0;
    for end in memchr::memmem::find_iter(&body, b"\n\n") {
        events.push(body.slice(start..end + 2));
        start = end + 2;
    }
    assert_eq!(start, body.len(), "corpus (a) ends with a blank line");
    events
}

fn sse(body: Body) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
}

/// The benchmark server's routes.
pub fn router() -> Router {
    let events = Arc::new(llm_events());
    Router::new()
        .route(
            "/llm",
            get(move || {
                let events = Arc::clone(&events);
                async move {
                    let frames =
                        (0..events.len()).map(move |i| Ok::<_, Infallible>(events[i].clone()));
                    sse(Body::from_stream(futures::stream::iter(frames)))
                }
            }),
        )
        .route(
            "/idle",
            get(|| async {
                let first = futures::stream::once(async {
                    Ok::<_, Infallible>(Bytes::from_static(b"data: hello\n\n"))
                });
                sse(Body::from_stream(first.chain(futures::stream::pending())))
            }),
        )
}

/// Serves [`router`] on 127.0.0.1 (an OS-chosen port) from a runtime on its own
/// thread, and returns the base URL. The server lives as long as the process.
pub fn spawn_server(worker_threads: usize) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    listener
        .set_nonblocking(true)
        .expect("non-blocking listener");
    let addr = listener.local_addr().expect("local address");
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(worker_threads)
            .enable_all()
            .build()
            .expect("server runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
            axum::serve(listener, router()).await.expect("serve");
        });
    });
    format!("http://{addr}")
}

/// The clients compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientKind {
    /// `postsource::client::EventSource`.
    Postsource,
    /// `reqwest-eventsource` 0.6 (on reqwest 0.12), with one shared `reqwest::Client`.
    ReqwestEventsource,
    /// LaunchDarkly's `eventsource-client` 0.16 (on hyper 0.14), one client per URL
    /// as its API is built (`ClientBuilder::for_url(..).build_http()`).
    EventsourceClient,
}

impl ClientKind {
    /// Every client, in table order.
    pub const ALL: [ClientKind; 3] = [
        ClientKind::Postsource,
        ClientKind::ReqwestEventsource,
        ClientKind::EventsourceClient,
    ];

    /// The name in benchmark ids and tables.
    pub fn name(self) -> &'static str {
        match self {
            ClientKind::Postsource => "postsource",
            ClientKind::ReqwestEventsource => "reqwest-eventsource",
            ClientKind::EventsourceClient => "eventsource-client",
        }
    }

    /// The client named `name`.
    pub fn from_name(name: &str) -> Option<ClientKind> {
        ClientKind::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// Opens `url` with `client` (no reconnection) and hands each event's data to
/// `on_event` until it breaks or the response ends; returns the number of events.
/// Errors panic: the server is local, so a failure means the benchmark is broken.
///
/// Each client's future is boxed, so that a task holds only the state of the
/// client it runs: one `async fn` with the three inline would be as large as the
/// largest of them for every client, and the idle-memory bench counts it.
pub async fn consume(
    client: ClientKind,
    url: &str,
    shared: &reqwest012::Client,
    on_event: impl FnMut(&str) -> ControlFlow<()>,
) -> u64 {
    match client {
        ClientKind::Postsource => Box::pin(consume_postsource(url, on_event)).await,
        ClientKind::ReqwestEventsource => {
            Box::pin(consume_reqwest_eventsource(url, shared, on_event)).await
        }
        ClientKind::EventsourceClient => Box::pin(consume_eventsource_client(url, on_event)).await,
    }
}

async fn consume_postsource(url: &str, mut on_event: impl FnMut(&str) -> ControlFlow<()>) -> u64 {
    use postsource::client::{EventSource, Reconnect, SseItem};
    let mut n = 0;
    let mut source = EventSource::get(url)
        .reconnect(Reconnect::Never)
        .build()
        .expect("postsource EventSource");
    while let Some(item) = source.next().await {
        match item.expect("postsource stream") {
            SseItem::Event(event) => {
                n += 1;
                if on_event(&event.data).is_break() {
                    break;
                }
            }
            SseItem::Closed(_) => break,
            _ => {}
        }
    }
    n
}

async fn consume_reqwest_eventsource(
    url: &str,
    shared: &reqwest012::Client,
    mut on_event: impl FnMut(&str) -> ControlFlow<()>,
) -> u64 {
    use reqwest_eventsource::{Error, Event, EventSource};
    let mut n = 0;
    let mut source = EventSource::new(shared.get(url)).expect("reqwest-eventsource EventSource");
    while let Some(item) = source.next().await {
        match item {
            Ok(Event::Message(m)) => {
                n += 1;
                if on_event(&m.data).is_break() {
                    break;
                }
            }
            Ok(Event::Open) => {}
            // It reports the end of the body as an error (and would reconnect).
            Err(Error::StreamEnded) => break,
            Err(err) => panic!("reqwest-eventsource stream: {err}"),
        }
    }
    source.close();
    n
}

async fn consume_eventsource_client(
    url: &str,
    mut on_event: impl FnMut(&str) -> ControlFlow<()>,
) -> u64 {
    use eventsource_client::{Client as _, ClientBuilder, Error, ReconnectOptions, SSE};
    let mut n = 0;
    let client = ClientBuilder::for_url(url)
        .expect("eventsource-client builder")
        .reconnect(ReconnectOptions::reconnect(false).build())
        .build_http();
    let mut stream = client.stream();
    while let Some(item) = stream.next().await {
        match item {
            Ok(SSE::Event(e)) => {
                n += 1;
                if on_event(&e.data).is_break() {
                    break;
                }
            }
            Ok(_) => {}
            Err(Error::Eof) => break,
            Err(err) => panic!("eventsource-client stream: {err}"),
        }
    }
    n
}
