//! `postsource serve`: the OpenAI- and Anthropic-shaped model endpoints, CORS, keep-alive,
//! `--replay` of a `--record`ing, `--web`, graceful shutdown — and `postsource demo`.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

#[test]
fn chat_completions_stream_is_openai_shaped() {
    let serve = Serve::start(&["--pace-ms", "1"]);
    let body = r#"{"model":"m1","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hello there"}]}"#;
    let url = serve.url("/v1/chat/completions");
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
    let events = out.events();
    for (i, event) in events.iter().enumerate() {
        assert_eq!(event["id"], i.to_string(), "an id on every event");
        assert_eq!(event["event"], "message");
    }
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e["data"].as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(events.last().unwrap()["data"], "[DONE]");
    let first = &chunks[0];
    assert_eq!(first["object"], "chat.completion.chunk");
    assert_eq!(first["model"], "m1");
    assert_eq!(first["choices"][0]["delta"]["role"], "assistant");
    let id = first["id"].as_str().unwrap();
    assert!(id.starts_with("chatcmpl-"));
    let mut text = String::new();
    let mut finish = None;
    for chunk in &chunks {
        assert_eq!(chunk["id"], id);
        if let Some(choice) = chunk["choices"].get(0) {
            if let Some(t) = choice["delta"]["content"].as_str() {
                text.push_str(t);
            }
            if !choice["finish_reason"].is_null() {
                finish = Some(choice["finish_reason"].clone());
            }
        }
    }
    assert_eq!(finish, Some(json!("stop")));
    assert!(text.contains("hello there"), "{text}");
    let usage = &chunks.last().unwrap()["usage"];
    assert_eq!(usage["prompt_tokens"], 2);
    assert!(usage["completion_tokens"].as_u64().unwrap() > 10);

    // The same request resumed after id 5 goes on with the same answer.
    let resumed = run(&[
        "-o",
        "jsonl",
        "--json",
        body,
        "--last-event-id",
        "5",
        "--until-data",
        "[DONE]",
        &url,
    ]);
    assert_eq!(resumed.events()[0]["id"], "6");
    // Same chunk (the `created` second may differ between the two requests).
    let chunk = |e: &Value| -> Value {
        let mut v: Value = serde_json::from_str(e["data"].as_str().unwrap()).unwrap();
        v.as_object_mut().unwrap().remove("created");
        v
    };
    assert_eq!(chunk(&resumed.events()[0]), chunk(&events[6]));

    // Resumed after the last id ([DONE]'s): nothing is left, 204 says stop.
    let last = events.last().unwrap()["id"].as_str().unwrap().to_owned();
    let (status, _, rest) = http(
        "POST",
        &url,
        &[
            ("content-type", "application/json"),
            ("last-event-id", &last),
        ],
        body,
    );
    assert_eq!((status, rest.as_str()), (204, ""));
    // So a client that keeps the EventSource rules (reconnect after EOF, as the
    // server sent ids) and does not stop at [DONE] ends after one reconnection.
    let whole = run(&["-o", "jsonl", "--json", body, "--retry", "10", &url]);
    assert_eq!(whole.code, Some(0), "{whole:?}");
    assert_eq!(whole.events().len(), events.len());
    let kinds: Vec<Value> = whole.lines().iter().map(|l| l["type"].clone()).collect();
    assert_eq!(
        kinds.iter().filter(|k| *k == "reconnect").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(whole.lines().last().unwrap()["reason"], "no_content");

    // Non-streaming: one chat.completion with the whole text.
    let plain = r#"{"messages":[{"role":"user","content":"hello there"}]}"#;
    let (status, _, reply) = http("POST", &url, &[("content-type", "application/json")], plain);
    assert_eq!(status, 200);
    let completion: Value = serde_json::from_str(&reply).unwrap();
    assert_eq!(completion["object"], "chat.completion");
    assert_eq!(completion["choices"][0]["message"]["content"], text);
    assert_eq!(completion["choices"][0]["finish_reason"], "stop");

    // ?error_after=3: the role chunk, 3 tokens, then OpenAI's in-stream error chunk
    // (no id), and the stream ends without [DONE].
    let failing = serve.url("/v1/chat/completions?error_after=3");
    let failed = run(&[
        "-o",
        "jsonl",
        "--json",
        body,
        "--reconnect",
        "never",
        &failing,
    ]);
    assert_eq!(failed.code, Some(0), "{failed:?}");
    let got = failed.events();
    assert_eq!(got.len(), 5);
    let error: Value = serde_json::from_str(got[4]["data"].as_str().unwrap()).unwrap();
    assert_eq!(error["error"]["type"], "server_error");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("after 3 tokens")
    );
    assert_eq!(
        got[4]["id"], "3",
        "the error has no id: the last id stays the token's"
    );
    // A client that resumes (the POST had ids) gets the rest of the same answer.
    let resumed = run(&[
        "-o",
        "jsonl",
        "--json",
        body,
        "--until-data",
        "[DONE]",
        "--retry",
        "10",
        &failing,
    ]);
    assert_eq!(resumed.code, Some(0), "{resumed:?}");
    let kinds: Vec<Value> = resumed.lines().iter().map(|l| l["type"].clone()).collect();
    assert_eq!(
        kinds.iter().filter(|k| *k == "reconnect").count(),
        1,
        "{kinds:?}"
    );
    let tokens: String = resumed
        .events()
        .iter()
        .filter_map(|e| serde_json::from_str::<Value>(e["data"].as_str().unwrap()).ok())
        .filter_map(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(
        tokens, text,
        "every token once, in order, across the failure"
    );
}

#[test]
fn chat_completions_errors_are_openai_shaped() {
    let serve = Serve::start(&[]);
    let url = serve.url("/v1/chat/completions");
    for bad in [
        "{not json",
        r#"{"model":"m"}"#,
        r#"{"messages":[]}"#,
        r#"{"messages":[{"role":"user","content":"hi"}],"max_tokens":"5"}"#,
    ] {
        let (status, headers, body) =
            http("POST", &url, &[("content-type", "application/json")], bad);
        assert_eq!(status, 400, "{bad}");
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        let error: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(error["error"]["type"], "invalid_request_error");
        assert!(error["error"]["message"].as_str().unwrap().len() > 10);
        assert!(error["error"].as_object().unwrap().contains_key("param"));
        assert!(error["error"].as_object().unwrap().contains_key("code"));
    }
    // A field of the wrong type is named, as `param` and in the message.
    let bad = r#"{"messages":[{"role":"user","content":"hi"}],"max_tokens":"5"}"#;
    let (_, _, body) = http("POST", &url, &[("content-type", "application/json")], bad);
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["error"]["param"], "max_tokens");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'max_tokens'")
    );
    // Through the CLI: an error line with status and the JSON body.
    let out = run(&["-o", "jsonl", "--json", "{not json", &url]);
    assert_eq!(out.code, Some(1));
    assert_eq!(out.lines()[0]["status"], 400);
    assert!(
        out.lines()[0]["body"]
            .as_str()
            .unwrap()
            .contains("invalid_request_error")
    );
    let (status, _, body) = http("GET", &serve.url("/v1/models"), &[], "");
    assert_eq!(status, 200);
    assert!(body.contains("postsource-sim"));
    let (status, _, body) = http("GET", &serve.url("/v1/models/postsource-sim"), &[], "");
    assert_eq!(status, 200);
    let model: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (&model["object"], &model["type"]),
        (&json!("model"), &json!("model"))
    );
    let (status, _, body) = http("GET", &serve.url("/v1/models/gpt-9"), &[], "");
    assert_eq!(status, 404);
    let error: Value = serde_json::from_str(&body).unwrap();
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("gpt-9")
    );
}

#[test]
fn responses_stream_is_openai_responses_shaped() {
    let serve = Serve::start(&["--pace-ms", "1"]);
    let url = serve.url("/v1/responses");
    let request = |max: Option<u64>, stream: bool| {
        json!({"model": "gpt-sim", "input": "hello there", "instructions": "be brief",
               "max_output_tokens": max, "stream": stream})
        .to_string()
    };
    let out = run(&["-o", "jsonl", "--json", &request(None, true), &url]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.lines().last().unwrap()["reason"], "eof");
    let events = out.events();
    let data: Vec<Value> = events
        .iter()
        .map(|e| serde_json::from_str(e["data"].as_str().unwrap()).unwrap())
        .collect();
    for (i, (event, data)) in events.iter().zip(&data).enumerate() {
        assert_eq!(
            data["type"], event["event"],
            "the data's type is the event name"
        );
        assert_eq!(data["sequence_number"], i);
        assert_eq!(event["id"], "", "no ids");
    }
    let deltas = events.len() - 8;
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    .into_iter()
    .chain(std::iter::repeat_n("response.output_text.delta", deltas))
    .chain([
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ])
    .collect();
    assert_eq!(names, expected);
    let text: String = data[4..4 + deltas]
        .iter()
        .map(|d| d["delta"].as_str().unwrap())
        .collect();
    assert!(text.contains("hello there"), "{text}");
    assert_eq!(data[4 + deltas]["text"], text);
    let started = &data[0]["response"];
    let done = &data.last().unwrap()["response"];
    assert_eq!(started["status"], "in_progress");
    assert_eq!(started["id"], done["id"]);
    assert_eq!(done["status"], "completed");
    assert_eq!(done["model"], "gpt-sim");
    assert_eq!(done["output"][0]["content"][0]["text"], text);
    assert_eq!(done["usage"]["input_tokens"], 4, "instructions counted");
    assert_eq!(done["usage"]["output_tokens"], deltas);

    // max_output_tokens cuts the answer: the stream ends in response.incomplete.
    let cut = run(&["-o", "jsonl", "--json", &request(Some(16), true), &url]).events();
    assert_eq!(cut.len(), 8 + 16);
    let end: Value = serde_json::from_str(cut.last().unwrap()["data"].as_str().unwrap()).unwrap();
    assert_eq!(end["type"], "response.incomplete");
    assert_eq!(
        end["response"]["incomplete_details"]["reason"],
        "max_output_tokens"
    );

    // Without stream: the completed response itself.
    let (status, _, body) = http(
        "POST",
        &url,
        &[("content-type", "application/json")],
        &request(None, false),
    );
    assert_eq!(status, 200);
    let response: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(response["object"], "response");
    assert_eq!(response["output"][0]["content"][0]["text"], text);

    // ?error_after=1: one delta, then an `error` event ends the stream.
    let failing = serve.url("/v1/responses?error_after=1");
    let failed = run(&["-o", "jsonl", "--json", &request(None, true), &failing]).events();
    assert_eq!(failed.len(), 4 + 1 + 1);
    let error: Value = serde_json::from_str(failed[5]["data"].as_str().unwrap()).unwrap();
    assert_eq!(
        (&error["type"], &error["code"]),
        (&json!("error"), &json!("server_error"))
    );
    assert_eq!(error["sequence_number"], 5);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("after 1 token,")
    );

    // Errors are OpenAI-shaped and name the parameter.
    for (bad, param) in [
        (r#"{"model":"m"}"#, "input"),
        (r#"{"input":5}"#, "input"),
        (
            r#"{"input":"hi","max_output_tokens":15}"#,
            "max_output_tokens",
        ),
    ] {
        let (status, _, body) = http("POST", &url, &[("content-type", "application/json")], bad);
        assert_eq!(status, 400, "{bad}");
        let error: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(error["error"]["type"], "invalid_request_error", "{bad}");
        assert_eq!(error["error"]["param"], param, "{bad}");
    }
}

#[test]
fn messages_stream_is_anthropic_shaped() {
    let serve = Serve::start(&["--pace-ms", "1"]);
    let url = serve.url("/v1/messages");
    let request = |max_tokens: u64, stream: bool| {
        json!({
            "model": "claude-sim", "max_tokens": max_tokens, "stream": stream,
            "system": "be brief",
            "messages": [{"role": "user", "content": [{"type": "text", "text": "hello there"}]}],
        })
        .to_string()
    };
    let out = run(&["-o", "jsonl", "--json", &request(1000, true), &url]);
    assert_eq!(out.code, Some(0), "{out:?}");
    // Named events from start to end, no ids: the POST ends with the stream.
    let kinds: Vec<Value> = out.lines().iter().map(|l| l["type"].clone()).collect();
    assert!(!kinds.contains(&json!("reconnect")), "{kinds:?}");
    assert_eq!(out.lines().last().unwrap()["reason"], "eof");
    let events = out.events();
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    let deltas = names.len() - 6;
    assert!(deltas > 10, "{names:?}");
    let expected: Vec<&str> = ["message_start", "content_block_start", "ping"]
        .into_iter()
        .chain(std::iter::repeat_n("content_block_delta", deltas))
        .chain(["content_block_stop", "message_delta", "message_stop"])
        .collect();
    assert_eq!(names, expected);
    let data: Vec<Value> = events
        .iter()
        .map(|e| serde_json::from_str(e["data"].as_str().unwrap()).unwrap())
        .collect();
    for (event, data) in events.iter().zip(&data) {
        assert_eq!(
            data["type"], event["event"],
            "the data's type is the event name"
        );
        assert_eq!(event["id"], "");
    }
    let message = &data[0]["message"];
    assert!(message["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(message["model"], "claude-sim");
    assert_eq!(message["role"], "assistant");
    assert_eq!(message["usage"]["input_tokens"], 4, "system prompt counted");
    let text: String = data[3..3 + deltas]
        .iter()
        .map(|d| d["delta"]["text"].as_str().unwrap())
        .collect();
    assert!(text.contains("hello there"), "{text}");
    let end = &data[deltas + 4];
    assert_eq!(end["delta"]["stop_reason"], "end_turn");
    assert_eq!(end["usage"]["output_tokens"], deltas);

    // max_tokens cuts the answer: stop reason max_tokens.
    let short = run(&["-o", "jsonl", "--json", &request(3, true), &url]);
    let short = short.events();
    assert_eq!(short.len(), 6 + 3);
    assert!(
        short[7]["data"]
            .as_str()
            .unwrap()
            .contains(r#""stop_reason":"max_tokens""#)
    );

    // Without stream: one message with the same text.
    let (status, _, body) = http(
        "POST",
        &url,
        &[("content-type", "application/json")],
        &request(1000, false),
    );
    assert_eq!(status, 200);
    let message: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(message["type"], "message");
    assert_eq!(message["content"][0]["text"], text);
    assert_eq!(message["stop_reason"], "end_turn");
    assert_eq!(message["usage"]["output_tokens"], deltas);

    // ?error_after=2: two deltas, then Anthropic's `error` event ends the stream.
    let failing = serve.url("/v1/messages?error_after=2");
    let failed = run(&["-o", "jsonl", "--json", &request(1000, true), &failing]);
    let got = failed.events();
    let names: Vec<&str> = got.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "ping",
            "content_block_delta",
            "content_block_delta",
            "error"
        ]
    );
    let error: Value = serde_json::from_str(got[5]["data"].as_str().unwrap()).unwrap();
    assert_eq!(error["error"]["type"], "overloaded_error");
    assert_eq!(failed.lines().last().unwrap()["reason"], "eof");
}

#[test]
fn messages_errors_are_anthropic_shaped() {
    let serve = Serve::start(&[]);
    let url = serve.url("/v1/messages");
    let user = r#"[{"role":"user","content":"hi"}]"#;
    for (bad, says) in [
        ("{not json".to_owned(), "Invalid request body"),
        (
            format!(r#"{{"model":"m","max_tokens":"5","messages":{user}}}"#),
            "max_tokens",
        ),
        (format!(r#"{{"max_tokens":5,"messages":{user}}}"#), "model"),
        (
            format!(r#"{{"model":"m","messages":{user}}}"#),
            "max_tokens",
        ),
        (
            format!(r#"{{"model":"m","max_tokens":0,"messages":{user}}}"#),
            "max_tokens",
        ),
        (r#"{"model":"m","max_tokens":5}"#.to_owned(), "messages"),
        (
            r#"{"model":"m","max_tokens":5,"messages":[]}"#.to_owned(),
            "messages",
        ),
    ] {
        let (status, _, body) = http("POST", &url, &[("content-type", "application/json")], &bad);
        assert_eq!(status, 400, "{bad}");
        let error: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(error["type"], "error", "{bad}");
        assert_eq!(error["error"]["type"], "invalid_request_error", "{bad}");
        assert!(
            error["error"]["message"].as_str().unwrap().contains(says),
            "{bad}: {body}"
        );
    }
    // Through the CLI: an error line with the status and the JSON body.
    let out = run(&["-o", "jsonl", "--json", r#"{"model":"m"}"#, &url]);
    assert_eq!(out.code, Some(1));
    assert_eq!(out.lines()[0]["kind"], "status");
    assert_eq!(out.lines()[0]["status"], 400);
    assert!(
        out.lines()[0]["body"]
            .as_str()
            .unwrap()
            .contains("invalid_request_error")
    );
}

#[test]
fn cors_preflight_and_exposed_headers() {
    let serve = Serve::start(&[]);
    let url = serve.url("/v1/chat/completions");
    let (status, headers, _) = http(
        "OPTIONS",
        &url,
        &[
            ("origin", "http://localhost:3000"),
            ("access-control-request-method", "POST"),
            ("access-control-request-headers", "content-type, x-custom"),
        ],
        "",
    );
    assert!((200..300).contains(&status), "preflight status {status}");
    let get = |name: &str| {
        headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_lowercase())
            .unwrap_or_default()
    };
    assert_eq!(get("access-control-allow-origin"), "http://localhost:3000");
    assert!(get("access-control-allow-methods").contains("post"));
    assert!(get("access-control-allow-headers").contains("x-custom"));
    assert!(get("access-control-allow-headers").contains("content-type"));
    assert_eq!(get("access-control-allow-credentials"), "true");

    let (status, headers, _) = http(
        "GET",
        &serve.url("/test/status/500"),
        &[("origin", "http://a.example")],
        "",
    );
    assert_eq!(status, 500);
    assert_eq!(headers["access-control-allow-origin"], "http://a.example");
    assert!(
        headers["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .contains("content-type")
    );
}

#[test]
fn keep_alive_comments_on_idle_streams() {
    let serve = Serve::start(&["--keep-alive", "0.1"]);
    let url = serve.url("/ticks?interval_ms=5000");
    let out = run(&["-o", "raw", "--timeout", "1", &url]);
    assert_eq!(out.code, Some(1), "ended by --timeout");
    // A comment line between events, never a block of its own (see serve/sse.rs).
    assert!(out.stdout.contains(": keep-alive\n"), "{}", out.stdout);
    assert!(!out.stdout.contains(": keep-alive\n\n"), "{}", out.stdout);
}

/// `url` of a fresh `serve`, read once and recorded (`--record`) into a file in `dir`:
/// the file's path and the run.
fn record(dir: &tempfile::TempDir, url: &str) -> (String, Output) {
    let file = dir.path().join("rec.jsonl").to_str().unwrap().to_owned();
    let serve = Serve::start(&[]);
    let original = run(&[
        "-o",
        "jsonl",
        "--reconnect",
        "never",
        "--record",
        &file,
        &serve.url(url),
    ]);
    assert_eq!(original.code, Some(0), "{original:?}");
    (file, original)
}

#[test]
fn record_then_replay_reproduces_the_events() {
    let dir = tempfile::tempdir().unwrap();
    let (file, original) = record(&dir, "/test/events");
    let file_arg = file.as_str();
    let recorded = std::fs::read_to_string(&file).unwrap();
    assert!(
        recorded.starts_with(r#"{"postsource_recording":1"#),
        "{recorded}"
    );
    assert!(recorded.contains(r#""type":"retry","retry_ms":1500"#));
    assert!(recorded.contains(r#""at_ms":"#));

    let replay = Serve::start(&["--replay", file_arg, "--speed", "2"]);
    let start = Instant::now();
    let replayed = run(&[
        "-o",
        "jsonl",
        "--reconnect",
        "never",
        &replay.url("/replay"),
    ]);
    assert_eq!(replayed.code, Some(0), "{replayed:?}");
    assert!(start.elapsed() < Duration::from_secs(20));
    let strip = |out: &Output| -> Vec<Value> { out.events() };
    assert_eq!(
        strip(&replayed),
        strip(&original),
        "same events, types, data and ids"
    );

    // Raw output of the replay carries the recorded retry: and comment.
    let raw = run(&["-o", "raw", "--reconnect", "never", &replay.url("/replay")]);
    assert!(
        raw.stdout
            .starts_with("retry: 1500\ndata: plain message\n\n"),
        "{}",
        raw.stdout
    );
    assert!(raw.stdout.contains(": a comment between events\n"));

    // A client resuming with Last-Event-ID gets what follows that id.
    let resumed = run(&[
        "-o",
        "jsonl",
        "--reconnect",
        "never",
        "--last-event-id",
        "a1",
        &replay.url("/replay"),
    ]);
    assert_eq!(resumed.data(), original.data()[2..].to_vec());
}

#[test]
fn a_replay_resumed_after_its_last_event_is_204() {
    let dir = tempfile::tempdir().unwrap();
    let (file, _) = record(&dir, "/ticks?interval_ms=10&count=3");
    let replay = Serve::start(&["--replay", &file, "--speed", "0"]);
    let resume = |id: &str| http("GET", &replay.url("/replay"), &[("last-event-id", id)], "");
    let (status, _, body) = resume("2");
    assert_eq!(status, 200);
    assert!(body.contains("data: 3\n"), "{body}");
    let (status, _, body) = resume("3");
    assert_eq!((status, body.as_str()), (204, ""));
}

#[test]
fn a_replay_is_also_served_at_the_recorded_path() {
    let server = TestServer::start(axum::Router::new().route(
        "/api/stream",
        axum::routing::post(|| async { sse("id: 7\nevent: part\ndata: one\n\ndata: two\n\n") }),
    ));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rec.jsonl");
    let file_arg = file.to_str().unwrap();
    let original = run(&[
        "-o",
        "jsonl",
        "-d",
        "q",
        "--reconnect",
        "never",
        "--record",
        file_arg,
        &server.url("/api/stream"),
    ]);
    assert_eq!(original.code, Some(0), "{original:?}");
    let replay = Serve::start(&["--replay", file_arg, "--speed", "0"]);
    let replayed = run(&[
        "-o",
        "jsonl",
        "-d",
        "q",
        "--reconnect",
        "never",
        &replay.url("/api/stream"),
    ]);
    assert_eq!(replayed.code, Some(0), "{replayed:?}");
    assert_eq!(replayed.events(), original.events());
    assert_eq!(original.events()[1]["id"], "7", "the id persists");
}

#[test]
fn replay_of_a_missing_or_bad_file_fails_to_start() {
    let out = run(&[
        "serve",
        "--port",
        "0",
        "--replay",
        "/definitely/not/here.jsonl",
    ]);
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains("not/here.jsonl"), "{}", out.stderr);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.jsonl");
    std::fs::write(&file, "hello\n").unwrap();
    let out = run(&["serve", "--port", "0", "--replay", file.to_str().unwrap()]);
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains("bad.jsonl:1"), "{}", out.stderr);
}

#[test]
fn web_serves_static_files_at_the_root() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "<h1>demo page</h1>").unwrap();
    std::fs::write(dir.path().join("app.js"), "console.log(1)").unwrap();
    let serve = Serve::start(&["--web", dir.path().to_str().unwrap()]);
    let (status, headers, body) = http("GET", &serve.url("/"), &[], "");
    assert_eq!(status, 200);
    assert_eq!(body, "<h1>demo page</h1>");
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let (status, headers, _) = http("GET", &serve.url("/app.js"), &[], "");
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .contains("javascript")
    );
    // The API is still there.
    let out = run(&["-o", "data", "-n", "1", &serve.url("/ticks")]);
    assert_eq!(out.stdout, "1\n");
    // Without --web, / lists the endpoints.
    let plain = Serve::start(&[]);
    let (_, _, body) = http("GET", &plain.url("/"), &[], "");
    assert!(body.contains("/v1/chat/completions"));
}

#[test]
fn ctrl_c_and_sigterm_shut_the_server_down_gracefully() {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        let mut serve = Serve::start(&[]);
        let mut client = spawn(&[
            "-o",
            "jsonl",
            "--reconnect",
            "never",
            &serve.url("/ticks?interval_ms=100"),
        ]);
        client.lines.until(r#""type":"event""#);
        let pid = serve.child.id() as libc::pid_t;
        // SAFETY: kill(2) on our own child's pid has no memory-safety preconditions.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
        let code = wait(&mut serve.child, DEADLINE).expect("serve exits after the signal");
        assert_eq!(code, Some(0), "signal {signal}: not killed by it");
        // The open stream was ended at an event boundary, not cut mid-chunk.
        let out = finish(client.child, DEADLINE);
        assert_eq!(out.code, Some(0));
        let last = client.lines.rest().pop().unwrap();
        assert_eq!(last, r#"{"type":"close","reason":"eof"}"#);
        serve.log.until("shutting down");
    }
}

#[test]
fn demo_streams_a_simulated_llm_answer_and_exits_0() {
    let start = Instant::now();
    let out = run(&["demo", "--pace-ms", "5"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(start.elapsed() < Duration::from_secs(20));
    assert!(
        out.stdout.starts_with("200 OK · text/event-stream"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("role: assistant"));
    assert!(
        out.stdout.contains("\" simulated\""),
        "tokens shown as they arrive"
    );
    assert!(out.stdout.contains("[DONE]"));
    assert!(
        out.stdout
            .trim_end()
            .lines()
            .last()
            .unwrap()
            .starts_with("closed: until_data")
    );
    assert!(!out.stdout.contains('\x1b'), "plain when not a terminal");
    let out = run(&["demo", "--pace-ms", "1", "-o", "jsonl"]);
    assert_eq!(out.code, Some(0));
    assert_eq!(out.last()["reason"], "until_data");
}
