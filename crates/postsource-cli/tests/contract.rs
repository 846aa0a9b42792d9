//! The jsonl contract, line type by line type, close reason by close reason, error
//! kind by error kind, with the exit status of each — against `postsource serve` and
//! purpose-built servers.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::routing::any;
use common::*;
use serde_json::json;

#[test]
fn open_event_reconnect_close_lines_have_the_contract_shapes() {
    let serve = Serve::start(&[]);
    let url = serve.url("/ticks?interval_ms=10&count=2&retry=50");
    let out = run(&["-o", "jsonl", "-n", "3", &url]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(
        out.types(),
        [
            "open",
            "event",
            "event",
            "reconnect",
            "open",
            "event",
            "close"
        ]
    );
    let lines = out.lines();
    let open = &lines[0];
    assert_eq!(open["status"], 200);
    assert_eq!(open["url"], url);
    assert_eq!(open["headers"]["content-type"], "text/event-stream");
    for name in open["headers"].as_object().unwrap().keys() {
        assert_eq!(name, &name.to_lowercase(), "header names are lowercase");
    }
    assert_eq!(
        lines[1],
        json!({"type": "event", "event": "tick", "data": "1", "id": "1"})
    );
    // The server's retry: sets the first reconnection delay.
    assert_eq!(
        lines[3],
        json!({"type": "reconnect", "attempt": 1, "delay_ms": 50})
    );
    // Resumed with Last-Event-ID: 2, so the stream goes on at 3.
    assert_eq!(lines[5]["id"], "3");
    assert_eq!(lines[6], json!({"type": "close", "reason": "max_events"}));
    // Keys in the documented order.
    assert!(
        out.stdout
            .lines()
            .nth(1)
            .unwrap()
            .starts_with(r#"{"type":"event","event":"tick","data":"1","id":"1"}"#)
    );
}

#[test]
fn id_is_empty_when_none_was_sent_and_persists_across_events() {
    let serve = Serve::start(&[]);
    let out = run(&[
        "-o",
        "jsonl",
        "--reconnect",
        "never",
        &serve.url("/test/events"),
    ]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let ids: Vec<_> = out
        .events()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["", "a1", "a1", "a1", ""]);
    let events: Vec<_> = out
        .events()
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        events,
        ["message", "update", "message", "message", "message"]
    );
    assert_eq!(out.data()[2], "line one\nline two");
    assert_eq!(out.data()[3], "");
    assert_eq!(out.last(), json!({"type": "close", "reason": "eof"}));
}

#[test]
fn eof_without_reconnect_is_close_eof_exit_0_and_a_cut_event_is_dropped() {
    let serve = Serve::start(&[]);
    let out = run(&[
        "-o",
        "jsonl",
        "--reconnect",
        "never",
        &serve.url("/test/close-mid-event"),
    ]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.types(), ["open", "event", "close"]);
    assert_eq!(out.data(), ["complete"]);
    assert_eq!(out.last()["reason"], "eof");
}

#[test]
fn post_without_ids_does_not_reconnect_under_auto() {
    let serve = Serve::start(&[]);
    let out = run(&["-o", "jsonl", "-d", "x", &serve.url("/echo")]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(!out.types().contains(&"reconnect".to_owned()));
    assert_eq!(out.last()["reason"], "eof");
}

#[test]
fn status_error_has_status_and_body_and_never_reconnects() {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let server = TestServer::start(Router::new().route(
        "/",
        any(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            async {
                (
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    [("content-type", "application/json")],
                    r#"{"error":"busy"}"#,
                )
            }
        }),
    ));
    let out = run(&[
        "-o",
        "jsonl",
        "--reconnect",
        "always",
        "--retry",
        "10",
        &server.url("/"),
    ]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(out.types(), ["error", "close"]);
    let error = &out.lines()[0];
    assert_eq!(error["kind"], "status");
    assert_eq!(error["status"], 503);
    assert_eq!(error["body"], r#"{"error":"busy"}"#);
    assert!(error["message"].as_str().unwrap().contains("503"));
    assert_eq!(out.last(), json!({"type": "close", "reason": "error"}));
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "no reconnection after a status error"
    );
}

#[test]
fn a_2xx_other_than_200_is_a_status_error() {
    let serve = Serve::start(&[]);
    let out = run(&["-o", "jsonl", &serve.url("/test/status/201")]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(out.lines()[0]["kind"], "status");
    assert_eq!(out.lines()[0]["status"], 201);
}

#[test]
fn wrong_content_type_is_a_content_type_error() {
    let serve = Serve::start(&[]);
    let out = run(&[
        "-o",
        "jsonl",
        &serve.url("/test/content-type?type=application/json"),
    ]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(out.types(), ["error", "close"]);
    assert_eq!(out.lines()[0]["kind"], "content_type");
    assert_eq!(out.lines()[0]["status"], 200);
    assert!(
        out.lines()[0]["body"]
            .as_str()
            .unwrap()
            .contains("not an event stream")
    );
}

#[test]
fn content_type_parameters_are_allowed() {
    let server = TestServer::start(Router::new().route(
        "/",
        any(|| async {
            (
                [("content-type", "text/event-stream; charset=utf-8")],
                "data: ok\n\n",
            )
        }),
    ));
    let out = run(&["-o", "jsonl", "--reconnect", "never", &server.url("/")]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.data(), ["ok"]);
}

#[test]
fn no_content_closes_with_no_content_exit_0() {
    let serve = Serve::start(&[]);
    let out = run(&["-o", "jsonl", &serve.url("/test/no-content")]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(
        out.lines(),
        [json!({"type": "close", "reason": "no_content"})]
    );
}

#[test]
fn ticks_total_ends_with_204_after_reconnections() {
    let serve = Serve::start(&[]);
    let url = serve.url("/ticks?interval_ms=5&count=2&total=4&retry=10");
    let out = run(&["-o", "jsonl", &url]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.data(), ["1", "2", "3", "4"]);
    assert_eq!(out.last()["reason"], "no_content");
}

#[test]
fn connect_error_kind_and_exit_1() {
    let url = format!("http://127.0.0.1:{}/", closed_port());
    let out = run(&["-o", "jsonl", "--reconnect", "never", &url]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(out.types(), ["error", "close"]);
    assert_eq!(out.lines()[0]["kind"], "connect");
    assert!(out.lines()[0].get("status").is_none());
}

#[test]
fn max_retries_used_up_is_an_error_then_close_error() {
    let url = format!("http://127.0.0.1:{}/", closed_port());
    let out = run(&["-o", "jsonl", "--max-retries", "2", "--retry", "10", &url]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(out.types(), ["reconnect", "reconnect", "error", "close"]);
    assert_eq!(out.lines()[0]["attempt"], 1);
    assert_eq!(out.lines()[0]["delay_ms"], 10);
    assert_eq!(out.lines()[1]["attempt"], 2);
    assert_eq!(out.lines()[2]["kind"], "connect");
    assert_eq!(out.last()["reason"], "error");
}

#[test]
fn max_retries_zero_after_eof_fails() {
    let serve = Serve::start(&[]);
    let out = run(&["-o", "jsonl", "--max-retries", "0", &serve.url("/echo")]);
    assert_eq!(out.code, Some(1), "{out:?}");
    let types = out.types();
    assert_eq!(&types[types.len() - 2..], ["error", "close"]);
    assert!(!types.contains(&"reconnect".to_owned()));
}

#[test]
fn an_event_resets_the_retry_count() {
    let serve = Serve::start(&[]);
    // Each connection gives one event then ends: with --max-retries 1 the run goes on
    // (every attempt succeeds with an event) until -n.
    let url = serve.url("/ticks?interval_ms=5&count=1&retry=5");
    let out = run(&["-o", "jsonl", "--max-retries", "1", "-n", "4", &url]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.data(), ["1", "2", "3", "4"]);
}

#[test]
fn io_error_mid_stream_without_reconnect() {
    let serve = Serve::start(&[]);
    let out = run(&[
        "-o",
        "jsonl",
        "--reconnect",
        "never",
        &serve.url("/test/abort?events=2"),
    ]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(out.types(), ["open", "event", "event", "error", "close"]);
    assert_eq!(out.lines()[3]["kind"], "io");
}

#[test]
fn too_large_event_is_an_error_and_earlier_events_are_kept() {
    let serve = Serve::start(&[]);
    let url = serve.url("/test/large?bytes=5000");
    let out = run(&["-o", "jsonl", "--max-event-size", "1000", &url]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(out.types(), ["open", "event", "error", "close"]);
    assert_eq!(out.data(), ["before"]);
    assert_eq!(out.lines()[2]["kind"], "too_large");
    assert_eq!(out.last()["reason"], "error");
    // Under the limit, everything arrives.
    let out = run(&[
        "-o",
        "jsonl",
        "--max-event-size",
        "6000",
        "--reconnect",
        "never",
        &url,
    ]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.data().len(), 3);
}

#[test]
fn one_data_line_over_the_event_limit_fails_before_it_ends() {
    // The line never ends (the server stalls inside it), so only the event limit can end
    // the run: it must fail as the line passes 1000 bytes, not wait for its end.
    let app = Router::new().route(
        "/",
        any(|| async {
            let head = futures::stream::iter([
                Ok::<_, std::convert::Infallible>(bytes::Bytes::from_static(
                    b"data: before\n\ndata: ",
                )),
                Ok(bytes::Bytes::from(vec![b'x'; 64 * 1024])),
            ]);
            let body = futures::StreamExt::chain(head, futures::stream::pending());
            axum::response::Response::builder()
                .header("content-type", "text/event-stream")
                .body(axum::body::Body::from_stream(body))
                .unwrap()
        }),
    );
    let server = TestServer::start(app);
    let out = run(&[
        "-o",
        "jsonl",
        "--max-event-size",
        "1000",
        "--timeout",
        "20",
        &server.url("/"),
    ]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(out.types(), ["open", "event", "error", "close"]);
    assert_eq!(out.data(), ["before"]);
    assert_eq!(out.lines()[2]["kind"], "too_large");
}

#[test]
fn idle_timeout_ends_a_stalled_error_body() {
    // A 503 whose body stalls after its first bytes: the status error is reported with
    // what arrived once the idle time passes, not when the error body's own bound (10 s)
    // runs out.
    let app = Router::new().route(
        "/",
        any(|| async {
            let head = futures::stream::iter([Ok::<_, std::convert::Infallible>(
                bytes::Bytes::from_static(b"busy"),
            )]);
            let body = futures::StreamExt::chain(head, futures::stream::pending());
            axum::response::Response::builder()
                .status(503)
                .header("content-type", "text/plain")
                .body(axum::body::Body::from_stream(body))
                .unwrap()
        }),
    );
    let server = TestServer::start(app);
    let started = std::time::Instant::now();
    let out = run(&["-o", "jsonl", "--idle-timeout", "0.5", &server.url("/")]);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(8),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(out.types(), ["error", "close"]);
    assert_eq!(out.lines()[0]["kind"], "status");
    assert_eq!(out.lines()[0]["status"], 503);
    assert_eq!(out.lines()[0]["body"], "busy");
}

#[test]
fn whole_run_timeout_is_a_timeout_error() {
    let serve = Serve::start(&[]);
    let out = run(&[
        "-o",
        "jsonl",
        "--timeout",
        "1.5",
        &serve.url("/test/stall?events=1"),
    ]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(out.types(), ["open", "event", "error", "close"]);
    assert_eq!(out.lines()[2]["kind"], "timeout");
}

#[test]
fn idle_timeout_without_reconnect_is_an_idle_timeout_error() {
    let serve = Serve::start(&[]);
    let url = serve.url("/test/stall?events=1");
    let out = run(&[
        "-o",
        "jsonl",
        "--idle-timeout",
        "0.8",
        "--reconnect",
        "never",
        &url,
    ]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(out.types(), ["open", "event", "error", "close"]);
    assert_eq!(out.lines()[2]["kind"], "idle_timeout");
}

#[test]
fn idle_timeout_reconnects_per_policy() {
    let serve = Serve::start(&[]);
    let url = serve.url("/test/stall?events=1");
    let out = run(&[
        "-o",
        "jsonl",
        "--idle-timeout",
        "0.3",
        "--retry",
        "10",
        "-n",
        "2",
        &url,
    ]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(
        out.types(),
        ["open", "event", "reconnect", "open", "event", "close"]
    );
}

#[test]
fn response_timeout_while_waiting_for_headers() {
    let serve = Serve::start(&[]);
    let url = serve.url("/test/slow?delay_ms=20000");
    let out = run(&["-o", "jsonl", "--timeout", "0.5", &url]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(out.types(), ["error", "close"]);
    assert_eq!(out.lines()[0]["kind"], "timeout");
}

#[test]
fn until_data_ends_after_the_sentinel_event() {
    let serve = Serve::start(&[]);
    let body = r#"{"stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
    let url = serve.url("/v1/chat/completions?pace_ms=1");
    let out = run(&[
        "-o",
        "jsonl",
        "--json",
        body,
        "--until-data",
        "[DONE]",
        &url,
    ]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let data = out.data();
    assert_eq!(data.last().unwrap(), "[DONE]");
    assert_eq!(out.last(), json!({"type": "close", "reason": "until_data"}));
}

#[test]
fn max_events_stops_after_n() {
    let serve = Serve::start(&[]);
    let out = run(&["-o", "jsonl", "-n", "2", &serve.url("/ticks?interval_ms=5")]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.types(), ["open", "event", "event", "close"]);
    assert_eq!(out.last()["reason"], "max_events");
}

#[test]
fn every_line_is_flushed_as_written() {
    // The first event must be readable long before the stream ends.
    let serve = Serve::start(&[]);
    let mut running = spawn(&[
        "-o",
        "jsonl",
        "-n",
        "2",
        &serve.url("/ticks?interval_ms=3000"),
    ]);
    let start = std::time::Instant::now();
    running.lines.until(r#""type":"event""#);
    assert!(
        start.elapsed() < std::time::Duration::from_millis(2500),
        "first event was buffered"
    );
    let out = finish(running.child, DEADLINE);
    assert_eq!(out.code, Some(0));
}

#[test]
fn connect_timeout_is_a_timeout_error() {
    use std::os::fd::AsRawFd;
    // A listener whose accept queue is full: the kernel drops further SYNs, so a
    // connection attempt hangs until the client's connect timeout.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    // SAFETY: listen(2) on a socket we own; only its backlog changes.
    assert_eq!(unsafe { libc::listen(listener.as_raw_fd(), 0) }, 0);
    let addr = listener.local_addr().unwrap();
    let fill: Vec<_> = (0..4)
        .filter_map(|_| {
            std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(300)).ok()
        })
        .collect();
    assert!(!fill.is_empty());
    let url = format!("http://{addr}/");
    let out = run(&[
        "-o",
        "jsonl",
        "--connect-timeout",
        "0.5",
        "--reconnect",
        "never",
        &url,
    ]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(out.types(), ["error", "close"]);
    assert_eq!(out.lines()[0]["kind"], "timeout");
    drop(fill);
}

#[test]
fn an_id_a_header_cannot_carry_is_not_sent_and_verbose_says_so() {
    // `7\x01x` is a valid id for the parser (only NUL, CR and LF end it), but no HTTP
    // header can hold \x01: the reconnection goes without Last-Event-ID, and -v says why.
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let app = Router::new().route(
        "/",
        any(move |headers: axum::http::HeaderMap| {
            let log = log.clone();
            async move {
                log.lock()
                    .unwrap()
                    .push(headers.contains_key("last-event-id"));
                sse("id: 7\x01x\ndata: a\n\n")
            }
        }),
    );
    let server = TestServer::start(app);
    let out = run(&[
        "-o",
        "jsonl",
        "-v",
        "--retry",
        "10",
        "-n",
        "2",
        &server.url("/"),
    ]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.events()[0]["id"], "7\u{1}x");
    assert_eq!(*seen.lock().unwrap(), [false, false]);
    assert!(
        out.stderr
            .contains(r#"without last-event-id: "7\u{1}x" holds a control character"#),
        "{}",
        out.stderr
    );
}
