//! Ctrl-C at every phase: mid-stream, while connecting, while waiting to reconnect,
//! while reading the body from stdin. Each time: a `close` line with reason
//! `aborted` as the last line, exit 130, within a second of the signal — and, mid-
//! stream, the server sees the client go away.

mod common;

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::response::Response;
use axum::routing::any;
use common::*;
use futures::StreamExt;
use serde_json::json;

/// Interrupts `running` and checks the contract's ending.
fn interrupt_and_check(mut running: Running) {
    sigint(&running.child);
    let sent = Instant::now();
    let code = wait(&mut running.child, DEADLINE).expect("exited after SIGINT");
    let took = sent.elapsed();
    assert_eq!(code, Some(130), "exit status after SIGINT");
    assert!(
        took < Duration::from_secs(1),
        "took {took:?} to exit after SIGINT"
    );
    let rest = running.lines.rest();
    let last = rest
        .last()
        .or(running.lines.seen.last())
        .expect("a close line");
    let last: serde_json::Value = serde_json::from_str(last).unwrap();
    assert_eq!(last, json!({"type": "close", "reason": "aborted"}));
}

/// Sets the flag when dropped: hyper drops the body when the client goes away.
struct Guard(Arc<AtomicBool>);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn sigint_mid_stream_exits_130_and_the_server_sees_the_disconnect() {
    let gone = Arc::new(AtomicBool::new(false));
    let flag = gone.clone();
    let server = TestServer::start(Router::new().route(
        "/",
        any(move || {
            let guard = Guard(flag.clone());
            async move {
                let ticks = futures::stream::unfold((0u64, guard), |(n, guard)| async move {
                    if n > 0 {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    let chunk = format!("id: {n}\ndata: {n}\n\n");
                    Some((Ok::<_, std::io::Error>(chunk), (n + 1, guard)))
                });
                Response::builder()
                    .header("content-type", "text/event-stream")
                    .body(Body::from_stream(ticks.boxed()))
                    .unwrap()
            }
        }),
    ));
    let mut running = spawn(&["-o", "jsonl", "--json", "{}", &server.url("/")]);
    running.lines.until(r#""type":"event""#);
    running.lines.until(r#""data":"2""#);
    assert!(!gone.load(Ordering::SeqCst));
    interrupt_and_check(running);
    let start = Instant::now();
    while !gone.load(Ordering::SeqCst) && start.elapsed() < DEADLINE {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        gone.load(Ordering::SeqCst),
        "the server never saw the disconnect"
    );
}

#[test]
fn sigint_mid_stream_stops_generation_in_serve() {
    let mut serve = Serve::start(&["--pace-ms", "50"]);
    let body = r#"{"stream":true,"messages":[{"role":"user","content":"a long answer please"}]}"#;
    let mut running = spawn(&[
        "-o",
        "jsonl",
        "--json",
        body,
        &serve.url("/v1/chat/completions"),
    ]);
    running.lines.until(r#""id":"2""#);
    interrupt_and_check(running);
    let line = serve.log.until("client disconnected");
    assert!(line.contains("stopped generating"), "{line}");
}

#[test]
fn sigint_while_waiting_for_the_response() {
    let serve = Serve::start(&[]);
    let mut running = spawn(&["-o", "jsonl", "-v", &serve.url("/test/slow?delay_ms=20000")]);
    // -v prints the request line once Ctrl-C is handled and the request is going out.
    let mut stderr = Lines::new(running.stderr.take().unwrap());
    stderr.until("> GET");
    std::thread::sleep(Duration::from_millis(100));
    assert!(running.child.try_wait().unwrap().is_none());
    interrupt_and_check(running);
}

#[test]
fn sigint_while_waiting_to_reconnect() {
    let url = format!("http://127.0.0.1:{}/", closed_port());
    let mut running = spawn(&["-o", "jsonl", "--retry", "60000", &url]);
    running.lines.until(r#""type":"reconnect""#);
    interrupt_and_check(running);
}

#[test]
fn sigint_while_reading_the_body_from_stdin() {
    let serve = Serve::start(&[]);
    // stdin is a pipe that stays open: the body never ends.
    let mut running = spawn_with_stdin(
        &["-o", "jsonl", "-v", "-d", "@-", &serve.url("/echo")],
        Stdio::piped(),
    );
    let mut stderr = Lines::new(running.stderr.take().unwrap());
    stderr.until("> POST");
    std::thread::sleep(Duration::from_millis(100));
    interrupt_and_check(running);
}
