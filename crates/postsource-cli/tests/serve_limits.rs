//! `postsource serve` at the edges of its parameters: numbers at the end of their
//! range, request bodies over the limit, bad query parameters and methods in each
//! API's own error shape, and keep-alive comments on a stream written byte by byte.
//! No value a client can send may panic the server or make it buffer without bound.

mod common;

use common::*;
use postsource::parse::{Frame, Parser};
use serde_json::{Value, json};

const JSON: (&str, &str) = ("content-type", "application/json");
const MAX: &str = "18446744073709551615";

fn json_of(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body:?}"))
}

/// The /test endpoints' own error shape, with that status.
fn assert_test_error(status: u16, body: &str, expected: u16) {
    assert_eq!(status, expected, "{body}");
    let error = json_of(body);
    assert_eq!(error["error"]["type"], "postsource_test", "{body}");
    assert_eq!(error["error"]["code"], expected, "{body}");
    assert!(!error["error"]["message"].as_str().unwrap().is_empty());
}

/// A GET's status and the body bytes it sent, read to the end.
fn raw_get(url: &str) -> (u16, Vec<u8>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut resp = tokio::time::timeout(DEADLINE, reqwest::get(url))
            .await
            .unwrap()
            .unwrap();
        let status = resp.status().as_u16();
        let mut bytes = Vec::new();
        while let Some(chunk) = tokio::time::timeout(DEADLINE, resp.chunk())
            .await
            .unwrap()
            .unwrap()
        {
            bytes.extend_from_slice(&chunk);
        }
        (status, bytes)
    })
}

#[test]
fn abort_and_stall_cap_their_event_count() {
    let mut serve = Serve::start(&[]);
    for endpoint in ["/test/abort", "/test/stall"] {
        let (status, _, body) = http(
            "GET",
            &serve.url(&format!("{endpoint}?events=100001")),
            &[],
            "",
        );
        assert_test_error(status, &body, 400);
        assert!(body.contains("events"), "{body}");
    }
    // At the cap, the stream starts at once: its events are made as they are sent.
    let out = run(&[
        "-o",
        "jsonl",
        "-n",
        "3",
        "--timeout",
        "20",
        &serve.url("/test/stall?events=100000"),
    ]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.data(), ["1", "2", "3"]);
    serve.assert_no_panic();
}

#[test]
fn keep_alive_comments_never_split_a_line() {
    // A keep-alive period shorter than the gap between drip's bytes: every gap is
    // idle, but a comment may only go where a line has ended.
    let serve = Serve::start(&["--keep-alive", "0.02"]);
    let (status, bytes) = raw_get(&serve.url("/test/drip?delay_ms=50"));
    assert_eq!(status, 200);
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains(": keep-alive\n"), "{text:?}");
    for (at, _) in text.match_indices(": keep-alive\n") {
        assert!(
            at == 0 || text[..at].ends_with('\n') || text[..at].ends_with("\r\r"),
            "a keep-alive after a partial line: {text:?}"
        );
    }
    let mut parser = Parser::new();
    parser.feed_slice(&bytes);
    let events: Vec<(String, String, String)> = parser
        .by_ref()
        .map(|frame| match frame.unwrap() {
            Frame::Event(e) => (
                e.event.to_string(),
                e.data.to_string(),
                e.last_event_id.to_string(),
            ),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        events,
        [
            ("message", "caf\u{e9} \u{1f600}", "1"),
            ("named", "two\nlines", "1"),
            ("message", "last", "3"),
        ]
        .map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()))
    );
    assert_eq!(parser.finish(), postsource::parse::StreamEnd::Clean);
}

/// A body of `size` bytes for each endpoint that reads one: valid JSON that a
/// padding field makes that long.
fn padded(size: usize) -> String {
    let prefix = r#"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"input":"hi","pad":""#;
    let mut body = String::with_capacity(size);
    body.push_str(prefix);
    body.push_str(&"x".repeat(size - prefix.len() - 2));
    body.push_str("\"}");
    body
}

#[test]
fn request_bodies_up_to_32_mib_are_read_and_larger_ones_refused_in_each_shape() {
    let mut serve = Serve::start(&[]);
    // 3 MB, more than axum's default limit: an ordinary request for a real API.
    let big = padded(3_000_000);
    for path in ["/v1/messages", "/v1/chat/completions", "/v1/responses"] {
        let (status, _, body) = http("POST", &serve.url(path), &[JSON], &big);
        assert_eq!(status, 200, "{path}: {body}");
    }
    let (status, _, body) = http("POST", &serve.url("/echo"), &[], &big);
    assert_eq!(status, 200);
    assert!(body.contains("xxxxxxxxxx"));

    let over = padded(32 * 1024 * 1024 + 1);
    let (status, headers, body) = http("POST", &serve.url("/v1/messages"), &[JSON], &over);
    assert_eq!(status, 413, "{body}");
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let error = json_of(&body);
    assert_eq!(error["type"], "error");
    assert_eq!(error["error"]["type"], "request_too_large");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("32 MiB")
    );
    for path in ["/v1/chat/completions", "/v1/responses"] {
        let (status, _, body) = http("POST", &serve.url(path), &[JSON], &over);
        assert_eq!(status, 413, "{path}: {body}");
        let error = json_of(&body);
        assert_eq!(error["error"]["type"], "invalid_request_error", "{path}");
        assert!(error["error"]["param"].is_null(), "{path}");
        assert!(error["error"]["code"].is_string(), "{path}: {body}");
        assert!(
            error["error"]["message"]
                .as_str()
                .unwrap()
                .contains("32 MiB")
        );
    }
    let (status, _, body) = http(
        "POST",
        &serve.url("/mcp"),
        &[JSON, ("accept", "application/json, text/event-stream")],
        &over,
    );
    assert_eq!(status, 413, "{body}");
    let error = json_of(&body);
    assert_eq!(error["jsonrpc"], "2.0");
    assert!(error["error"]["code"].is_i64(), "{body}");
    let (status, _, body) = http("POST", &serve.url("/echo"), &[], &over);
    assert_test_error(status, &body, 413);
    serve.assert_no_panic();
}

#[test]
fn bad_query_parameters_and_methods_get_each_api_s_error_shape() {
    let serve = Serve::start(&[]);
    let messages = r#"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#;
    for query in ["pace_ms=-1", "error_after=x"] {
        let url = serve.url(&format!("/v1/messages?{query}"));
        let (status, _, body) = http("POST", &url, &[JSON], messages);
        assert_eq!(status, 400, "{body}");
        let error = json_of(&body);
        assert_eq!(error["type"], "error", "{body}");
        assert_eq!(error["error"]["type"], "invalid_request_error", "{body}");
        let name = query.split('=').next().unwrap();
        assert!(error["error"]["message"].as_str().unwrap().contains(name));
    }
    let chat = r#"{"messages":[{"role":"user","content":"hi"}]}"#;
    let responses = r#"{"input":"hi"}"#;
    for (path, body) in [("/v1/chat/completions", chat), ("/v1/responses", responses)] {
        for (query, param) in [("pace_ms=-1", "pace_ms"), ("error_after=x", "error_after")] {
            let url = serve.url(&format!("{path}?{query}"));
            let (status, _, reply) = http("POST", &url, &[JSON], body);
            assert_eq!(status, 400, "{path}?{query}: {reply}");
            let error = json_of(&reply);
            assert_eq!(
                error,
                json!({"error": {"message": error["error"]["message"],
                                 "type": "invalid_request_error", "param": param, "code": null}}),
                "{path}?{query}"
            );
        }
    }
    // The pace header is refused as the query parameter is, not ignored.
    let pace = ("x-postsource-pace-ms", "soon");
    let (status, _, reply) = http(
        "POST",
        &serve.url("/v1/chat/completions"),
        &[JSON, pace],
        chat,
    );
    assert_eq!(status, 400, "{reply}");
    assert_eq!(json_of(&reply)["error"]["param"], "x-postsource-pace-ms");
    let (status, _, reply) = http("POST", &serve.url("/v1/messages"), &[JSON, pace], messages);
    assert_eq!(status, 400, "{reply}");
    assert_eq!(json_of(&reply)["error"]["type"], "invalid_request_error");
    for path in ["/v1/messages", "/v1/chat/completions", "/v1/responses"] {
        let (status, headers, body) = http("GET", &serve.url(path), &[], "");
        assert_eq!(status, 405, "{path}");
        assert_eq!(headers["allow"], "POST", "{path}");
        let error = json_of(&body);
        if path == "/v1/messages" {
            assert_eq!(error["type"], "error");
            assert_eq!(error["error"]["type"], "invalid_request_error");
        } else {
            assert_eq!(error["error"]["type"], "invalid_request_error");
            assert!(error["error"]["code"].is_null() || error["error"]["code"].is_string());
        }
        assert!(
            error["error"]["message"].as_str().unwrap().contains("GET"),
            "{body}"
        );
    }
}

#[test]
fn numbers_at_the_end_of_their_range_do_not_wrap() {
    let mut serve = Serve::start(&[]);
    // An unbounded count is no count: the ticks go on (here until `total`).
    let url = serve.url(&format!("/ticks?count={MAX}&total=3&interval_ms=1"));
    let (status, _, body) = http("GET", &url, &[], "");
    assert_eq!(status, 200);
    assert!(body.contains("data: 3\n"), "{body}");
    // No tick follows the largest id, however it is written: 204, stop.
    for last in [MAX, "99999999999999999999999"] {
        let (status, _, body) = http(
            "GET",
            &serve.url("/ticks?count=1"),
            &[("last-event-id", last)],
            "",
        );
        assert_eq!((status, body.as_str()), (204, ""), "{last}");
        let chat = r#"{"stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
        let url = serve.url("/v1/chat/completions?pace_ms=0");
        let (status, _, body) = http("POST", &url, &[JSON, ("last-event-id", last)], chat);
        assert_eq!((status, body.as_str()), (204, ""), "{last}");
    }
    // Huge paces and delays wait (the client gives up), they do not panic.
    let chat = r#"{"stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
    let out = run(&[
        "-o",
        "jsonl",
        "--timeout",
        "1",
        "--json",
        chat,
        &serve.url(&format!("/v1/chat/completions?pace_ms={MAX}")),
    ]);
    assert_eq!(out.last()["reason"], "error", "{out:?}");
    assert_eq!(
        out.lines()[out.lines().len() - 2]["kind"],
        "timeout",
        "{out:?}"
    );
    assert_eq!(out.events().len(), 1, "the role chunk, then the wait");
    serve.assert_no_panic();
}

#[test]
fn a_huge_keep_alive_period_does_not_panic() {
    let mut serve = Serve::start(&["--keep-alive", "1.8e19"]);
    let out = run(&[
        "-o",
        "jsonl",
        "--reconnect",
        "never",
        &serve.url("/test/drip?delay_ms=0"),
    ]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.events().len(), 3);
    serve.assert_no_panic();
}

#[test]
fn status_codes_that_cannot_be_final_are_400_and_205_has_no_body() {
    let serve = Serve::start(&[]);
    for code in ["100", "101", "103", "199", "1000", "abc"] {
        let (status, headers, body) =
            http("GET", &serve.url(&format!("/test/status/{code}")), &[], "");
        assert_test_error(status, &body, 400);
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
    }
    for code in [204, 205, 304] {
        let (status, _, body) = http("GET", &serve.url(&format!("/test/status/{code}")), &[], "");
        assert_eq!((status, body.as_str()), (code, ""));
    }
    let (status, _, body) = http("GET", &serve.url("/test/status/200"), &[], "");
    assert_eq!(status, 200);
    assert!(body.contains("simulated 200"), "{body}");
}

#[test]
fn chat_refuses_a_zero_token_limit_as_openai_does() {
    let serve = Serve::start(&[]);
    let url = serve.url("/v1/chat/completions");
    for param in ["max_tokens", "max_completion_tokens"] {
        let body = format!(r#"{{"messages":[{{"role":"user","content":"hi"}}],"{param}":0}}"#);
        let (status, _, reply) = http("POST", &url, &[JSON], &body);
        assert_eq!(status, 400, "{param}: {reply}");
        let error = json_of(&reply);
        assert_eq!(error["error"]["type"], "invalid_request_error");
        assert_eq!(error["error"]["param"], param);
        assert!(error["error"]["message"].as_str().unwrap().contains(param));
    }
    let one = r#"{"messages":[{"role":"user","content":"hi"}],"max_tokens":1}"#;
    let (status, _, reply) = http("POST", &url, &[JSON], one);
    assert_eq!(status, 200, "{reply}");
    assert_eq!(json_of(&reply)["choices"][0]["finish_reason"], "length");
}

#[test]
fn replay_at_a_tiny_speed_waits_instead_of_panicking() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rec.jsonl");
    std::fs::write(
        &file,
        concat!(
            r#"{"postsource_recording":1,"method":"GET","url":"http://127.0.0.1:1/x"}"#,
            "\n",
            r#"{"at_ms":0,"type":"event","event":"message","data":"one","id":"1"}"#,
            "\n",
            r#"{"at_ms":10,"type":"retry","retry_ms":100}"#,
            "\n",
            r#"{"at_ms":20,"type":"event","event":"message","data":"two","id":"2"}"#,
            "\n",
        ),
    )
    .unwrap();
    let mut serve = Serve::start(&["--replay", file.to_str().unwrap(), "--speed", "1e-300"]);
    let out = run(&["-o", "jsonl", "--timeout", "1", &serve.url("/replay")]);
    assert_eq!(out.types(), ["open", "event", "error", "close"], "{out:?}");
    assert_eq!(out.data(), ["one"]);
    assert_eq!(out.lines()[2]["kind"], "timeout");
    serve.assert_no_panic();
}
