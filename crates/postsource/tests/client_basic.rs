//! The client against real local servers: opening, events, request headers and
//! bodies, response checks (204, 404, 500 with a JSON body, wrong content type),
//! limits, the end sentinel, and a clean EOF that is not an error.
#![cfg(feature = "client")]

mod client_support;

use axum::Router;
use axum::extract::Request;
use axum::routing::{any, get};
use postsource::client::{CloseReason, ErrorKind, EventJson, EventSource, Reconnect, SseItem};
use std::time::Duration;

use client_support::*;

#[tokio::test]
async fn events_then_clean_eof_is_not_an_error() {
    let log = Log::default();
    let l = log.clone();
    let app = Router::new().route(
        "/s",
        any(move |req: Request| async move {
            l.record(req).await;
            sse(vec![Step::Send("retry: 50\nid: 1\nevent: greet\ndata: hello\ndata: world\n\n: ping\n\ndata: two\n\n")], None)
        }),
    );
    let server = TestServer::start(app).await;
    let mut source = EventSource::get(server.url("/s"))
        .reconnect(Reconnect::Never)
        .build()
        .unwrap();
    let items = collect(&mut source, 10).await;
    let Ok(SseItem::Open {
        status,
        headers,
        url,
    }) = &items[0]
    else {
        panic!("{items:?}")
    };
    assert_eq!(status.as_u16(), 200);
    assert_eq!(headers["content-type"], "text/event-stream");
    assert_eq!(url.as_str(), server.url("/s"));
    assert!(matches!(items[1], Ok(SseItem::Retry(d)) if d == Duration::from_millis(50)));
    let Ok(SseItem::Event(e)) = &items[2] else {
        panic!("{items:?}")
    };
    assert_eq!(
        (&*e.event, &*e.data, &*e.last_event_id),
        ("greet", "hello\nworld", "1")
    );
    let Ok(SseItem::Event(e)) = &items[3] else {
        panic!("{items:?}")
    };
    assert_eq!(
        (&*e.event, &*e.data, &*e.last_event_id),
        ("message", "two", "1")
    );
    assert!(matches!(
        terminal(&items),
        Ok(SseItem::Closed(CloseReason::Eof))
    ));
    assert_eq!(
        items.len(),
        5,
        "comments are not reported by default: {items:?}"
    );
    assert_eq!(source.last_event_id(), "1");

    let seen = &log.all()[0];
    assert_eq!(seen.method, "GET");
    assert_eq!(seen.header("accept"), Some("text/event-stream"));
    assert_eq!(seen.header("cache-control"), Some("no-cache"));
    assert_eq!(seen.header("last-event-id"), None);
}

#[tokio::test]
async fn post_with_json_body_headers_and_initial_id() {
    let log = Log::default();
    let l = log.clone();
    let app = Router::new().route(
        "/chat",
        any(move |req: Request| async move {
            l.record(req).await;
            sse(
                vec![
                    Step::Send("data: {\"n\":1}\n\ndata:\n\ndata: [DONE]\n\n"),
                    Step::Stall,
                ],
                None,
            )
        }),
    );
    let server = TestServer::start(app).await;
    let mut source = EventSource::post(server.url("/chat"))
        .header("accept", "text/event-stream, application/json")
        .header("x-custom", "1")
        .bearer_auth("secret")
        .json(&serde_json::json!({"model": "m", "stream": true}))
        .last_event_id("41")
        .until_data("[DONE]")
        .build()
        .unwrap();
    let items = collect(&mut source, 10).await;
    assert_eq!(datas(&items), ["{\"n\":1}", "", "[DONE]"]);
    assert!(matches!(
        terminal(&items),
        Ok(SseItem::Closed(CloseReason::UntilData))
    ));
    let events: Vec<_> = items
        .iter()
        .filter_map(|i| match i {
            Ok(SseItem::Event(e)) => Some(e.try_json::<serde_json::Value>()),
            _ => None,
        })
        .collect();
    assert_eq!(events[0].as_ref().unwrap().as_ref().unwrap()["n"], 1);
    assert!(events[1].is_none(), "blank data is skipped by try_json");
    assert!(events[2].as_ref().unwrap().is_err(), "[DONE] is not JSON");

    let seen = &log.all()[0];
    assert_eq!(seen.method, "POST");
    assert_eq!(
        seen.header("accept"),
        Some("text/event-stream, application/json")
    );
    assert_eq!(
        seen.headers.get_all("accept").iter().count(),
        1,
        "an override replaces the default"
    );
    assert_eq!(seen.header("cache-control"), Some("no-cache"));
    assert_eq!(seen.header("authorization"), Some("Bearer secret"));
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(seen.header("x-custom"), Some("1"));
    assert_eq!(seen.header("last-event-id"), Some("41"));
    let body: serde_json::Value = serde_json::from_slice(&seen.body).unwrap();
    assert_eq!(body["model"], "m");
}

#[tokio::test]
async fn url_credentials_empty_bodies_and_a_doubled_content_type() {
    // Credentials in the URL go as Basic auth, and not into the `open` URL; a POST
    // without a body, or with an empty one, says `Content-Length: 0` (as fetch does); a
    // response that sends Content-Type twice is judged by the last (as fetch does).
    let log = Log::default();
    let l = log.clone();
    let app = Router::new().route(
        "/s",
        any(move |req: Request| async move {
            l.record(req).await;
            axum::response::Response::builder()
                .header("content-type", "text/plain")
                .header("content-type", "text/event-stream")
                .body(axum::body::Body::from("data: hi\n\n"))
                .unwrap()
        }),
    );
    let server = TestServer::start(app).await;
    let with_credentials = server
        .url("/s")
        .replace("http://", "http://Aladdin:open%20sesame@");
    let mut source = EventSource::post(&with_credentials)
        .reconnect(Reconnect::Never)
        .build()
        .unwrap();
    let items = collect(&mut source, 10).await;
    let Ok(SseItem::Open { url, .. }) = &items[0] else {
        panic!("{items:?}")
    };
    assert_eq!(url.as_str(), server.url("/s"), "no credentials in the URL");
    assert_eq!(datas(&items), ["hi"]);
    let mut empty = EventSource::post(server.url("/s"))
        .body("")
        .header("authorization", "Bearer mine")
        .reconnect(Reconnect::Never)
        .build()
        .unwrap();
    collect(&mut empty, 10).await;
    let mut get = EventSource::get(server.url("/s"))
        .reconnect(Reconnect::Never)
        .build()
        .unwrap();
    collect(&mut get, 10).await;

    let seen = log.all();
    // "Aladdin:open sesame", RFC 7617's example.
    assert_eq!(
        seen[0].header("authorization"),
        Some("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
    );
    assert_eq!(seen[0].header("content-length"), Some("0"));
    assert_eq!(seen[1].header("authorization"), Some("Bearer mine"));
    assert_eq!(seen[1].header("content-length"), Some("0"));
    assert_eq!(seen[2].header("content-length"), None, "a GET has no body");
    assert_eq!(seen[2].header("authorization"), None);
}

#[tokio::test]
async fn one_byte_per_write() {
    let app = Router::new().route(
        "/drip",
        get(|| async {
            sse(
                vec![Step::Drip(
                    "id: 7\r\ndata: a\r\ndata: b\r\n\r\n:c\rdata: x\r\r",
                )],
                None,
            )
        }),
    );
    let server = TestServer::start(app).await;
    let mut source = EventSource::get(server.url("/drip"))
        .reconnect(Reconnect::Never)
        .comments(true)
        .build()
        .unwrap();
    let items = collect(&mut source, 10).await;
    assert_eq!(datas(&items), ["a\nb", "x"]);
    assert!(
        items
            .iter()
            .any(|i| matches!(i, Ok(SseItem::Comment(c)) if c == "c"))
    );
    assert!(matches!(
        terminal(&items),
        Ok(SseItem::Closed(CloseReason::Eof))
    ));
    assert_eq!(source.last_event_id(), "7");
}

#[tokio::test]
async fn no_content_ends_cleanly_without_reconnecting() {
    let log = Log::default();
    let l = log.clone();
    let app = Router::new().route(
        "/gone",
        any(move |req: Request| async move {
            l.record(req).await;
            respond(204, "text/event-stream", "")
        }),
    );
    let server = TestServer::start(app).await;
    let mut source = EventSource::get(server.url("/gone"))
        .reconnect(Reconnect::Always)
        .retry(Duration::from_millis(1))
        .build()
        .unwrap();
    let items = collect(&mut source, 3).await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert!(matches!(
        terminal(&items),
        Ok(SseItem::Closed(CloseReason::NoContent))
    ));
    assert_eq!(log.count(), 1);
}

#[tokio::test]
async fn error_status_carries_status_headers_and_json_body() {
    const OPENAI: &str = r#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}"#;
    let log = Log::default();
    let l = log.clone();
    let app = Router::new()
        .route(
            "/500",
            any(move |req: Request| async move {
                l.record(req).await;
                respond(500, "application/json", OPENAI)
            }),
        )
        .route(
            "/big",
            get(|| async { respond(401, "application/json", OPENAI) }),
        );
    let server = TestServer::start(app).await;
    let mut source = EventSource::post(server.url("/500"))
        .reconnect(Reconnect::Always)
        .body("x")
        .build()
        .unwrap();
    let items = collect(&mut source, 3).await;
    assert_eq!(items.len(), 1, "{items:?}");
    let Err(e) = terminal(&items) else { panic!() };
    assert_eq!(e.kind(), ErrorKind::Status);
    assert_eq!(e.kind().as_str(), "status");
    assert_eq!(e.status().map(|s| s.as_u16()), Some(500));
    assert_eq!(e.body(), Some(OPENAI));
    assert_eq!(e.headers().unwrap()["content-type"], "application/json");
    assert_eq!(e.url().unwrap().as_str(), server.url("/500"));
    assert!(e.to_string().contains("Incorrect API key provided"), "{e}");
    assert_eq!(log.count(), 1, "a status error never reconnects");

    // The body kept is bounded.
    let mut source = EventSource::get(server.url("/big"))
        .max_error_body(10)
        .build()
        .unwrap();
    let items = collect(&mut source, 3).await;
    let Err(e) = terminal(&items) else { panic!() };
    assert_eq!(
        (e.status().unwrap().as_u16(), e.body()),
        (401, Some(&OPENAI[..10]))
    );
}

#[tokio::test]
async fn not_found_and_wrong_content_type() {
    let app = Router::new()
        .route(
            "/json",
            get(|| async { respond(200, "application/json", "{\"a\":1}") }),
        )
        .route(
            "/ok",
            get(|| async { respond(200, "Text/Event-Stream; charset=utf-8", "data: fine\n\n") }),
        );
    let server = TestServer::start(app).await;

    let mut source = EventSource::get(server.url("/missing")).build().unwrap();
    let items = collect(&mut source, 3).await;
    let Err(e) = terminal(&items) else { panic!() };
    assert_eq!(
        (e.kind(), e.status().unwrap().as_u16()),
        (ErrorKind::Status, 404)
    );

    let mut source = EventSource::get(server.url("/json")).build().unwrap();
    let items = collect(&mut source, 3).await;
    let Err(e) = terminal(&items) else { panic!() };
    assert_eq!(e.kind(), ErrorKind::ContentType);
    assert_eq!(e.kind().as_str(), "content_type");
    assert_eq!(e.body(), Some("{\"a\":1}"));

    let mut source = EventSource::get(server.url("/ok"))
        .reconnect(Reconnect::Never)
        .build()
        .unwrap();
    let items = collect(&mut source, 3).await;
    assert_eq!(datas(&items), ["fine"]);
}

#[tokio::test]
async fn over_limit_event_is_a_typed_error_after_the_complete_events() {
    let app = Router::new()
        .route(
            "/big",
            get(|| async {
                sse(
                    vec![
                        Step::Send("data: ok\n\ndata: 0123456789abcdef\n\n"),
                        Step::Stall,
                    ],
                    None,
                )
            }),
        )
        .route(
            "/endless",
            get(|| async {
                sse(
                    vec![
                        Step::Send("data: ok\n\ndata: "),
                        Step::Repeat("0123456789abcdef", 1),
                    ],
                    None,
                )
            }),
        );
    let server = TestServer::start(app).await;
    let mut source = EventSource::get(server.url("/big"))
        .max_event_size(8)
        .build()
        .unwrap();
    let items = collect(&mut source, 5).await;
    assert_eq!(datas(&items), ["ok"]);
    let Err(e) = terminal(&items) else { panic!() };
    assert_eq!(
        (e.kind(), e.kind().as_str()),
        (ErrorKind::TooLarge, "too_large")
    );

    // A line that never ends: a typed error once it passes the limit, not memory growth.
    let mut source = EventSource::get(server.url("/endless"))
        .max_line_len(64)
        .build()
        .unwrap();
    let items = collect(&mut source, 5).await;
    assert_eq!(datas(&items), ["ok"]);
    assert_eq!(
        terminal(&items).as_ref().unwrap_err().kind(),
        ErrorKind::TooLarge
    );
}

#[tokio::test]
async fn refused_connection_is_a_connect_error() {
    // Bind and drop: nothing listens on the port afterwards.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut source = EventSource::post(format!("http://{addr}/x"))
        .body("job")
        .build()
        .unwrap();
    let items = collect(&mut source, 3).await;
    assert_eq!(
        items.len(),
        1,
        "a POST without ids is not retried: {items:?}"
    );
    let Err(e) = terminal(&items) else { panic!() };
    assert_eq!(
        (e.kind(), e.kind().as_str()),
        (ErrorKind::Connect, "connect")
    );
    assert!(std::error::Error::source(e).is_some());
}

#[tokio::test]
async fn builder_errors() {
    let e = EventSource::get("not a url").build().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Builder);
    let e = EventSource::get("ftp://127.0.0.1/").build().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Builder);
    let e = EventSource::get("http://127.0.0.1/")
        .header("bad name", "v")
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Builder);
}

#[tokio::test]
async fn on_bytes_sees_the_raw_body_of_every_connection() {
    let log = Log::default();
    let l = log.clone();
    let app = Router::new().route(
        "/s",
        any(move |req: Request| {
            let l = l.clone();
            async move {
                match l.next(req).await.0 {
                    0 => sse(
                        vec![Step::Send("id: 1\r\ndata: a\r\n\r\n"), Step::Send(": x\n")],
                        None,
                    ),
                    _ => respond(204, "text/plain", "not tapped"),
                }
            }
        }),
    );
    let server = TestServer::start(app).await;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let s = seen.clone();
    let mut source = EventSource::get(server.url("/s"))
        .retry(Duration::from_millis(1))
        .on_bytes(move |b| s.lock().unwrap().extend_from_slice(b))
        .build()
        .unwrap();
    let items = collect(&mut source, 10).await;
    assert!(matches!(
        terminal(&items),
        Ok(SseItem::Closed(CloseReason::NoContent))
    ));
    assert_eq!(&seen.lock().unwrap()[..], b"id: 1\r\ndata: a\r\n\r\n: x\n");
}

#[test]
fn build_outside_a_runtime_then_run_inside_one() {
    let mut source = EventSource::get("http://127.0.0.1:9/")
        .reconnect(Reconnect::Never)
        .idle_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let first = rt.block_on(source.next()).unwrap();
    assert_eq!(first.unwrap_err().kind(), ErrorKind::Connect);
}

#[test]
fn the_source_can_move_between_tasks_and_the_handle_is_shared() {
    fn send<T: Send + Unpin + 'static>() {}
    fn shared<T: Send + Sync + Clone + 'static>() {}
    send::<EventSource>();
    shared::<postsource::client::CloseHandle>();
    shared::<postsource::client::Reconnect>();
    fn error<T: std::error::Error + Send + Sync + 'static>() {}
    error::<postsource::client::Error>();
}

#[cfg(feature = "compression")]
#[tokio::test]
async fn compressed_asks_for_compression_only_when_set() {
    let log = Log::default();
    let l = log.clone();
    let app = Router::new().route(
        "/s",
        any(move |req: Request| async move {
            l.record(req).await;
            respond(204, "text/plain", "")
        }),
    );
    let server = TestServer::start(app).await;
    for on in [false, true] {
        let mut source = EventSource::get(server.url("/s"))
            .compressed(on)
            .build()
            .unwrap();
        collect(&mut source, 3).await;
    }
    let seen = log.all();
    assert!(
        !seen[0]
            .header("accept-encoding")
            .unwrap_or("")
            .contains("gzip")
    );
    assert!(seen[1].header("accept-encoding").unwrap().contains("gzip"));
}

#[tokio::test]
async fn from_a_users_reqwest_request() {
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
    let client = reqwest::Client::builder()
        .user_agent("mine/1")
        .build()
        .unwrap();
    let request = client
        .post(server.url("/s"))
        .header("x-a", "b")
        .body("payload");
    let mut source = EventSource::from_request(request)
        .reconnect(Reconnect::Never)
        .build()
        .unwrap();
    let items = collect(&mut source, 5).await;
    assert_eq!(datas(&items), ["a"]);
    let seen = &log.all()[0];
    assert_eq!(
        (seen.method.as_str(), &seen.body[..]),
        ("POST", &b"payload"[..])
    );
    assert_eq!(
        seen.header("user-agent"),
        Some("mine/1"),
        "the user's client was used"
    );
    assert_eq!(seen.header("x-a"), Some("b"));
    assert_eq!(seen.header("accept"), Some("text/event-stream"));
}
