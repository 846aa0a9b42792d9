//! The cancellation contract against real local servers: `close()` from another
//! task or thread ends the stream promptly in every phase (before connecting,
//! while connecting to a server that never answers, during a backoff wait,
//! mid-read), with exactly one `Closed(Aborted)` and nothing after it; the server
//! observes the disconnect; dropping the stream hangs up too.
#![cfg(feature = "client")]

mod client_support;

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Request;
use axum::routing::any;
use postsource::client::{CloseReason, EventSource, Reconnect, SseItem};
use tokio::io::AsyncReadExt;

use client_support::*;

/// Prompt, on a loaded machine: well under any delay the source was waiting on.
const PROMPT: Duration = Duration::from_secs(3);

fn assert_aborted(items: &[Result<SseItem, postsource::client::Error>]) {
    assert!(
        matches!(terminal(items), Ok(SseItem::Closed(CloseReason::Aborted))),
        "{items:?}"
    );
}

#[tokio::test]
async fn close_before_connecting_sends_nothing() {
    let log = Log::default();
    let l = log.clone();
    let app = Router::new().route(
        "/s",
        any(move |req: Request| async move {
            l.record(req).await;
            sse(vec![Step::Send("data: a\n\n")], None)
        }),
    );
    let server = TestServer::start(app).await;
    let mut source = EventSource::get(server.url("/s")).build().unwrap();
    source.close_handle().close();
    let items = collect(&mut source, 3).await;
    assert_eq!(items.len(), 1);
    assert_aborted(&items);
    // Give a request that should not exist time to arrive.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(log.count(), 0);
}

/// A TCP server that accepts and never answers; reports when a peer hangs up.
async fn silent_server() -> (String, tokio::sync::mpsc::Receiver<&'static str>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let _ = tx.send("accepted").await;
                let mut buf = [0u8; 4096];
                while matches!(sock.read(&mut buf).await, Ok(n) if n > 0) {}
                let _ = tx.send("hung up").await;
            });
        }
    });
    (url, rx)
}

#[tokio::test]
async fn close_while_connecting_to_a_server_that_never_answers() {
    let (url, mut events) = silent_server().await;
    let mut source = EventSource::get(url).build().unwrap();
    let close = source.close_handle();
    let reader = tokio::spawn(async move { collect(&mut source, 3).await });
    assert_eq!(bounded(events.recv()).await, Some("accepted"));
    let t = Instant::now();
    close.close();
    let items = bounded(reader).await.unwrap();
    assert!(t.elapsed() < PROMPT);
    assert_aborted(&items);
    assert_eq!(items.len(), 1);
    assert_eq!(
        bounded(events.recv()).await,
        Some("hung up"),
        "the connection was closed"
    );
}

#[tokio::test]
async fn close_during_a_backoff_wait() {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut source = EventSource::get(format!("http://{addr}/"))
        .retry(Duration::from_secs(60))
        .build()
        .unwrap();
    let close = source.close_handle();
    let first = bounded(source.next()).await.unwrap();
    assert!(
        matches!(first, Ok(SseItem::Reconnecting { attempt: 1, .. })),
        "{first:?}"
    );
    let t = Instant::now();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        close.close();
    });
    let items = collect(&mut source, 3).await;
    assert!(t.elapsed() < PROMPT, "not after the 60 s wait");
    assert_eq!(items.len(), 1);
    assert_aborted(&items);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_mid_read_from_another_thread() {
    let probe = Probe::default();
    let p = probe.clone();
    let app = Router::new().route(
        "/s",
        any(move || {
            let p = p.clone();
            async move {
                sse(
                    vec![Step::Send("id: 1\ndata: a\n\n"), Step::Stall],
                    Some(p.guard()),
                )
            }
        }),
    );
    let server = TestServer::start(app).await;
    let mut source = EventSource::get(server.url("/s")).build().unwrap();
    let close = source.close_handle();
    assert!(matches!(
        bounded(source.next()).await,
        Some(Ok(SseItem::Open { .. }))
    ));
    assert!(matches!(
        bounded(source.next()).await,
        Some(Ok(SseItem::Event(_)))
    ));
    let t = Instant::now();
    let closer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        close.close();
        close.close();
    });
    let items = collect(&mut source, 3).await;
    closer.join().unwrap();
    assert!(t.elapsed() < PROMPT);
    assert_eq!(items.len(), 1);
    assert_aborted(&items);
    assert!(
        probe.wait(|p| p.ended() == 1).await,
        "the server saw the disconnect"
    );
    // Closing again, or after the end, changes nothing.
    source.close();
    assert!(source.next().await.is_none());
}

#[tokio::test]
async fn dropping_the_stream_hangs_up() {
    let probe = Probe::default();
    let p = probe.clone();
    let app = Router::new().route(
        "/s",
        any(move || {
            let p = p.clone();
            async move {
                sse(
                    vec![Step::Send("data: a\n\n"), Step::Stall],
                    Some(p.guard()),
                )
            }
        }),
    );
    let server = TestServer::start(app).await;
    let mut source = EventSource::get(server.url("/s")).build().unwrap();
    assert!(matches!(
        bounded(source.next()).await,
        Some(Ok(SseItem::Open { .. }))
    ));
    assert!(matches!(
        bounded(source.next()).await,
        Some(Ok(SseItem::Event(_)))
    ));
    assert_eq!((probe.started(), probe.ended()), (1, 0));
    drop(source);
    assert!(
        probe.wait(|p| p.ended() == 1).await,
        "the server saw the disconnect"
    );
}

#[tokio::test]
async fn close_after_the_end_adds_nothing() {
    let app = Router::new().route(
        "/s",
        any(|| async { sse(vec![Step::Send("data: a\n\n")], None) }),
    );
    let server = TestServer::start(app).await;
    let mut source = EventSource::get(server.url("/s"))
        .reconnect(Reconnect::Never)
        .build()
        .unwrap();
    let close = source.close_handle();
    let items = collect(&mut source, 5).await;
    assert!(matches!(
        terminal(&items),
        Ok(SseItem::Closed(CloseReason::Eof))
    ));
    close.close();
    assert!(close.is_closed());
    assert!(source.next().await.is_none());
}

#[tokio::test]
async fn close_with_events_pending_ends_at_once() {
    // Many events already buffered: close() wins over delivering them.
    let app = Router::new().route(
        "/s",
        any(|| async {
            sse(
                vec![
                    Step::Send("data: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\n"),
                    Step::Stall,
                ],
                None,
            )
        }),
    );
    let server = TestServer::start(app).await;
    let mut source = EventSource::get(server.url("/s")).build().unwrap();
    assert!(matches!(
        bounded(source.next()).await,
        Some(Ok(SseItem::Open { .. }))
    ));
    assert!(matches!(
        bounded(source.next()).await,
        Some(Ok(SseItem::Event(_)))
    ));
    source.close();
    let items = collect(&mut source, 5).await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_aborted(&items);
}
