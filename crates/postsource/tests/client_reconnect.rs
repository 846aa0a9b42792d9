//! Reconnection against real local servers: a connection cut mid-event (the
//! partial event is dropped, the reconnect carries the last complete id), POSTs
//! that must not be re-sent, resuming with GET + Last-Event-ID (MCP), a server
//! restart, refused connections, the server's `retry:`, 503 + Retry-After, the
//! timeouts, and saved resume state.
#![cfg(feature = "client")]

mod client_support;

use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::routing::any;
use postsource::client::{
    CloseReason, ErrorKind, EventSource, Interruption, Reconnect, SseItem, Timeout,
};

use client_support::*;

fn reconnects(items: &[Result<SseItem, postsource::client::Error>]) -> Vec<(u32, u64)> {
    items
        .iter()
        .filter_map(|i| match i {
            Ok(SseItem::Reconnecting { attempt, delay }) => {
                Some((*attempt, delay.as_millis() as u64))
            }
            _ => None,
        })
        .collect()
}

/// A server whose n-th request plays `scripts[n]` (204 after the last).
async fn scripted(scripts: Vec<Vec<Step>>) -> (TestServer, Log) {
    let log = Log::default();
    let l = log.clone();
    let app = Router::new().route(
        "/s",
        any(move |req: Request| {
            let l = l.clone();
            let scripts = scripts.clone();
            async move {
                let (n, _) = l.next(req).await;
                match scripts.get(n) {
                    Some(steps) => sse(steps.clone(), None),
                    None => respond(204, "text/plain", ""),
                }
            }
        }),
    );
    (TestServer::start(app).await, log)
}

#[tokio::test]
async fn cut_mid_event_drops_the_partial_event_and_resumes_from_the_last_id() {
    for end in [Step::Cut, Step::Send("")] {
        let (server, log) = scripted(vec![
            vec![
                Step::Send("retry: 30\nid: 1\ndata: a\n\nid: 2\ndata: part"),
                end.clone(),
            ],
            vec![Step::Send("id: 3\ndata: b\n\n")],
        ])
        .await;
        let mut source = EventSource::get(server.url("/s")).build().unwrap();
        let items = collect(&mut source, 20).await;
        assert_eq!(datas(&items), ["a", "b"], "{end:?}");
        assert_eq!(
            reconnects(&items),
            [(1, 30), (1, 30)],
            "server retry: is the delay; an event resets the count"
        );
        assert!(matches!(
            terminal(&items),
            Ok(SseItem::Closed(CloseReason::NoContent))
        ));
        let seen = log.all();
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[0].header("last-event-id"), None);
        assert_eq!(
            seen[1].header("last-event-id"),
            Some("1"),
            "not the partial event's id"
        );
        assert_eq!(seen[2].header("last-event-id"), Some("3"));
        let opens = items
            .iter()
            .filter(|i| matches!(i, Ok(SseItem::Open { .. })))
            .count();
        assert_eq!(opens, 2);
    }
}

#[tokio::test]
async fn auto_never_resends_a_post_without_ids() {
    let (server, log) = scripted(vec![vec![Step::Send("data: a\n\n")]]).await;
    let mut source = EventSource::post(server.url("/s"))
        .body("job")
        .retry(Duration::from_millis(1))
        .build()
        .unwrap();
    let items = collect(&mut source, 5).await;
    assert!(
        matches!(terminal(&items), Ok(SseItem::Closed(CloseReason::Eof))),
        "{items:?}"
    );
    assert_eq!(log.count(), 1);

    let (server, log) = scripted(vec![vec![Step::Send("data: a\n\n"), Step::Cut]]).await;
    let mut source = EventSource::post(server.url("/s"))
        .body("job")
        .retry(Duration::from_millis(1))
        .build()
        .unwrap();
    let items = collect(&mut source, 5).await;
    assert_eq!(datas(&items), ["a"]);
    assert_eq!(terminal(&items).as_ref().unwrap_err().kind(), ErrorKind::Io);
    assert_eq!(log.count(), 1);
}

#[tokio::test]
async fn auto_resumes_a_post_once_it_has_an_id() {
    let (server, log) = scripted(vec![vec![Step::Send("id: 5\ndata: a\n\n")]]).await;
    let mut source = EventSource::post(server.url("/s"))
        .body("job")
        .retry(Duration::from_millis(5))
        .build()
        .unwrap();
    let items = collect(&mut source, 10).await;
    assert!(matches!(
        terminal(&items),
        Ok(SseItem::Closed(CloseReason::NoContent))
    ));
    let seen = log.all();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        (seen[1].method.as_str(), &seen[1].body[..]),
        ("POST", &b"job"[..])
    );
    assert_eq!(seen[1].header("last-event-id"), Some("5"));
}

#[tokio::test]
async fn mcp_style_resume_with_get_and_last_event_id() {
    let (server, log) = scripted(vec![
        vec![Step::Send("id: 1\ndata: {\"progress\":1}\n\n"), Step::Cut],
        vec![Step::Send("id: 2\ndata: {\"result\":2}\n\n")],
    ])
    .await;
    let mut source = EventSource::post(server.url("/s"))
        .header("mcp-session-id", "abc")
        .json(&serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call"}))
        .retry(Duration::from_millis(5))
        .reconnect_request(|req| {
            req.into_get();
            let attempt = req.attempt().to_string();
            req.headers.insert("x-attempt", attempt.parse().unwrap());
        })
        .build()
        .unwrap();
    let items = collect(&mut source, 10).await;
    assert_eq!(datas(&items), ["{\"progress\":1}", "{\"result\":2}"]);
    let seen = log.all();
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].header("content-type"), Some("application/json"));
    for resumed in &seen[1..] {
        assert_eq!(resumed.method, "GET");
        assert!(resumed.body.is_empty());
        assert_eq!(resumed.header("content-type"), None);
        assert_eq!(resumed.header("mcp-session-id"), Some("abc"));
        assert_eq!(resumed.header("accept"), Some("text/event-stream"));
        assert_eq!(resumed.header("x-attempt"), Some("1"));
    }
    assert_eq!(seen[1].header("last-event-id"), Some("1"));
    assert_eq!(seen[2].header("last-event-id"), Some("2"));
}

#[tokio::test]
async fn refused_connections_use_up_max_retries_with_backoff() {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut source = EventSource::get(format!("http://{addr}/"))
        .retry(Duration::from_millis(10))
        .jitter(false)
        .max_retries(3)
        .build()
        .unwrap();
    let items = collect(&mut source, 10).await;
    assert_eq!(reconnects(&items), [(1, 10), (2, 20), (3, 40)]);
    let Err(e) = terminal(&items) else { panic!() };
    assert_eq!(e.kind(), ErrorKind::Connect);
    assert_eq!(e.retries_exhausted(), Some(3));
    assert!(e.to_string().contains("used up"), "{e}");
}

#[tokio::test]
async fn max_retries_resets_on_each_event() {
    let one = vec![Step::Send("data: x\n\n")];
    let (server, log) = scripted(vec![one.clone(), one.clone(), one]).await;
    let mut source = EventSource::get(server.url("/s"))
        .retry(Duration::from_millis(5))
        .max_retries(1)
        .build()
        .unwrap();
    let items = collect(&mut source, 20).await;
    assert_eq!(datas(&items).len(), 3);
    assert!(matches!(
        terminal(&items),
        Ok(SseItem::Closed(CloseReason::NoContent))
    ));
    assert_eq!(log.count(), 4);
}

#[tokio::test]
async fn server_restart_on_the_same_port() {
    let log = Log::default();
    let app = |first: bool, log: Log| {
        Router::new().route(
            "/s",
            any(move |req: Request| {
                let log = log.clone();
                async move {
                    let (n, _) = log.next(req).await;
                    match (first, n) {
                        (true, _) => sse(
                            vec![Step::Send("id: 1\ndata: a\n\n"), Step::Sleep(50), Step::Cut],
                            None,
                        ),
                        (false, 0) => sse(vec![Step::Send("id: 2\ndata: b\n\n")], None),
                        (false, _) => respond(204, "text/plain", ""),
                    }
                }
            }),
        )
    };
    let old = TestServer::start(app(true, log.clone())).await;
    let addr = old.addr;
    let mut source = EventSource::get(old.url("/s"))
        .retry(Duration::from_millis(20))
        .jitter(false)
        .build()
        .unwrap();
    let mut old = Some(old);
    let mut new = None;
    let new_log = Log::default();
    let mut items = Vec::new();
    bounded(async {
        while let Some(item) = source.next().await {
            if matches!(&item, Ok(SseItem::Event(e)) if e.data == "a") {
                old.take().unwrap().stop().await;
            }
            if matches!(&item, Ok(SseItem::Reconnecting { attempt: 2, .. })) && new.is_none() {
                new = Some(TestServer::start_at(app(false, new_log.clone()), addr).await);
            }
            items.push(item);
            assert!(items.len() < 50, "{items:?}");
        }
    })
    .await;
    assert_eq!(datas(&items), ["a", "b"]);
    assert!(
        matches!(
            terminal(&items),
            Ok(SseItem::Closed(CloseReason::NoContent))
        ),
        "{items:?}"
    );
    assert_eq!(log.count(), 1);
    assert_eq!(new_log.all()[0].header("last-event-id"), Some("1"));
}

#[tokio::test]
async fn idle_timeout_drops_a_stalled_stream_and_reconnects() {
    let probe = Probe::default();
    let p = probe.clone();
    let log = Log::default();
    let l = log.clone();
    let app = Router::new().route(
        "/s",
        any(move |req: Request| {
            let (l, p) = (l.clone(), p.clone());
            async move {
                match l.next(req).await.0 {
                    0 => sse(
                        vec![Step::Send("data: a\n\n"), Step::Stall],
                        Some(p.guard()),
                    ),
                    1 => sse(vec![Step::Send("data: b\n\n")], None),
                    _ => respond(204, "text/plain", ""),
                }
            }
        }),
    );
    let server = TestServer::start(app).await;
    let mut source = EventSource::get(server.url("/s"))
        .idle_timeout(Duration::from_millis(200))
        .retry(Duration::from_millis(5))
        .build()
        .unwrap();
    let items = collect(&mut source, 20).await;
    assert_eq!(datas(&items), ["a", "b"]);
    assert_eq!(reconnects(&items).len(), 2);
    assert!(
        probe.wait(|p| p.ended() == 1).await,
        "the stalled connection was dropped"
    );

    // Without reconnection it is an idle timeout error.
    let app = Router::new().route(
        "/s",
        any(|| async { sse(vec![Step::Send("data: a\n\n"), Step::Stall], None) }),
    );
    let server = TestServer::start(app).await;
    let mut source = EventSource::get(server.url("/s"))
        .idle_timeout(Duration::from_millis(100))
        .reconnect(Reconnect::Never)
        .build()
        .unwrap();
    let items = collect(&mut source, 5).await;
    let Err(e) = terminal(&items) else { panic!() };
    assert_eq!(
        (e.kind(), e.kind().as_str(), e.timeout()),
        (ErrorKind::IdleTimeout, "idle_timeout", Some(Timeout::Idle))
    );
}

#[tokio::test]
async fn event_timeout_ignores_comments_and_idle_timeout_does_not_fire_on_keep_alives() {
    let app = Router::new().route(
        "/s",
        any(|| async { sse(vec![Step::Send("data: a\n\n"), Step::KeepAlive(20)], None) }),
    );
    let server = TestServer::start(app).await;
    let mut source = EventSource::get(server.url("/s"))
        .idle_timeout(Duration::from_millis(150))
        .event_timeout(Duration::from_millis(400))
        .reconnect(Reconnect::Never)
        .comments(true)
        .build()
        .unwrap();
    let items = collect(&mut source, 1000).await;
    assert!(
        items
            .iter()
            .filter(|i| matches!(i, Ok(SseItem::Comment(_))))
            .count()
            >= 3
    );
    let Err(e) = terminal(&items) else { panic!() };
    assert_eq!(
        (e.kind(), e.timeout()),
        (ErrorKind::IdleTimeout, Some(Timeout::Event))
    );
}

#[tokio::test]
async fn total_and_response_timeouts() {
    let app = Router::new().route("/s", any(|| async { sse(vec![Step::KeepAlive(20)], None) }));
    let server = TestServer::start(app).await;
    let mut source = EventSource::get(server.url("/s"))
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let items = collect(&mut source, 5).await;
    let Err(e) = terminal(&items) else { panic!() };
    assert_eq!(
        (e.kind(), e.kind().as_str(), e.timeout()),
        (ErrorKind::Timeout, "timeout", Some(Timeout::Total))
    );

    // A server that accepts and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = silent.accept().await {
            held.push(sock);
        }
    });
    let mut source = EventSource::get(format!("http://{addr}/"))
        .response_timeout(Duration::from_millis(200))
        .reconnect(Reconnect::Never)
        .build()
        .unwrap();
    let items = collect(&mut source, 5).await;
    let Err(e) = terminal(&items) else { panic!() };
    assert_eq!(
        (e.kind(), e.timeout()),
        (ErrorKind::Timeout, Some(Timeout::Response))
    );
    hold.abort();
}

#[tokio::test]
async fn unavailable_is_retried_after_retry_after_when_enabled() {
    let log = Log::default();
    let l = log.clone();
    let app = Router::new().route(
        "/s",
        any(move |req: Request| {
            let l = l.clone();
            async move {
                match l.next(req).await.0 {
                    0 => {
                        let mut r = respond(503, "text/plain", "busy");
                        r.headers_mut().insert("retry-after", "0".parse().unwrap());
                        r
                    }
                    1 => sse(vec![Step::Send("data: ok\n\n")], None),
                    _ => respond(204, "text/plain", ""),
                }
            }
        }),
    );
    let server = TestServer::start(app).await;
    let mut source = EventSource::post(server.url("/s"))
        .body("x")
        .retry_unavailable(true)
        .retry(Duration::from_millis(5))
        .reconnect(Reconnect::Always)
        .build()
        .unwrap();
    let items = collect(&mut source, 10).await;
    assert_eq!(reconnects(&items)[0], (1, 0));
    assert_eq!(datas(&items), ["ok"]);
    assert_eq!(log.count(), 3);
}

#[tokio::test]
async fn custom_policy_sees_why_and_what_auto_would_do() {
    let (server, log) = scripted(vec![
        vec![Step::Send("data: a\n\n")],
        vec![Step::Send("data: b\n\n")],
    ])
    .await;
    let mut source = EventSource::post(server.url("/s"))
        .body("x")
        .retry(Duration::from_millis(5))
        .reconnect(Reconnect::custom(|info| {
            assert_eq!(info.after, Interruption::Eof);
            assert!(!info.auto);
            info.attempt <= 1
        }))
        .build()
        .unwrap();
    let items = collect(&mut source, 10).await;
    assert_eq!(datas(&items), ["a", "b"]);
    assert!(matches!(
        terminal(&items),
        Ok(SseItem::Closed(CloseReason::NoContent))
    ));
    assert_eq!(log.count(), 3);
}

#[tokio::test]
async fn resume_state_survives_a_restart_of_the_client() {
    let (server, log) = scripted(vec![vec![Step::Send("retry: 1234\nid: 9\ndata: a\n\n")]]).await;
    let mut source = EventSource::get(server.url("/s"))
        .reconnect(Reconnect::Never)
        .build()
        .unwrap();
    collect(&mut source, 5).await;
    let state = source.resume_state();
    assert_eq!(
        (state.last_event_id.as_str(), state.retry_ms),
        ("9", Some(1234))
    );
    drop(source);
    let mut source = EventSource::get(server.url("/s"))
        .resume(state)
        .build()
        .unwrap();
    let items = collect(&mut source, 5).await;
    assert!(matches!(
        terminal(&items),
        Ok(SseItem::Closed(CloseReason::NoContent))
    ));
    assert_eq!(log.all()[1].header("last-event-id"), Some("9"));
}

#[tokio::test]
async fn connect_timeout_against_a_full_accept_queue() {
    // A listener that never accepts, with its queue filled: Linux then drops new
    // SYNs, so connecting hangs until the client's connect timeout.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(1).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..8 {
        let Ok(Ok(s)) = tokio::time::timeout(
            Duration::from_millis(200),
            tokio::net::TcpStream::connect(addr),
        )
        .await
        else {
            break;
        };
        fillers.push(s);
    }
    let mut source = EventSource::get(format!("http://{addr}/"))
        .connect_timeout(Duration::from_millis(300))
        .reconnect(Reconnect::Never)
        .build()
        .unwrap();
    let items = collect(&mut source, 3).await;
    let Err(e) = terminal(&items) else {
        panic!("{items:?}")
    };
    assert_eq!(
        (e.kind(), e.timeout()),
        (ErrorKind::Timeout, Some(Timeout::Connect)),
        "{e}"
    );
    drop(listener);
}

#[tokio::test]
async fn a_last_event_id_header_is_the_initial_id() {
    let (server, log) = scripted(vec![vec![Step::Send("data: a\n\n")]]).await;
    let mut source = EventSource::get(server.url("/s"))
        .header("last-event-id", "7")
        .retry(Duration::from_millis(5))
        .build()
        .unwrap();
    collect(&mut source, 10).await;
    let ids: Vec<_> = log
        .all()
        .iter()
        .map(|s| s.header("last-event-id").map(str::to_owned))
        .collect();
    assert_eq!(ids, [Some("7".to_owned()), Some("7".to_owned())]);
}
