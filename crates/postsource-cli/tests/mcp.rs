//! `postsource serve`'s `/mcp`, a Model Context Protocol server (Streamable HTTP),
//! with `postsource` and the library's client as MCP clients: the session, replies
//! streamed with event ids, resuming a cut reply by GET with Last-Event-ID, and the
//! refusals the transport prescribes.

mod common;

use std::time::Duration;

use common::*;
use postsource::client::{EventSource, SseItem};
use serde_json::{Value, json};

const ACCEPT: &str = "Accept: application/json, text/event-stream";

fn initialize(version: &str) -> String {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
           "params": {"protocolVersion": version, "capabilities": {},
                      "clientInfo": {"name": "test", "version": "0"}}})
    .to_string()
}

fn countdown(id: u64, steps: u64) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
           "params": {"name": "countdown", "arguments": {"steps": steps},
                      "_meta": {"progressToken": "p"}}})
    .to_string()
}

/// POSTs one JSON-RPC message with the CLI, as an MCP client that does not
/// reconnect: `-o jsonl`, both types in Accept, and the session's header if any.
fn post(url: &str, session: Option<&str>, message: &str) -> Output {
    let header = session.map(|id| format!("mcp-session-id: {id}"));
    let mut args = vec!["-o", "jsonl", "--reconnect", "never", "-H", ACCEPT];
    if let Some(header) = &header {
        args.extend(["-H", header]);
    }
    args.extend(["--json", message, url]);
    run(&args)
}

/// Opens a session at `version` with the CLI; its id and the run.
fn open_session(url: &str, version: &str) -> (String, Output) {
    let out = post(url, None, &initialize(version));
    assert_eq!(out.code, Some(0), "{out:?}");
    let open = &out.lines()[0];
    let session = open["headers"]["mcp-session-id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(session.len(), 32, "128 bits in hex: {session}");
    (session, out)
}

/// The JSON-RPC messages among a run's events (the priming event has no data).
fn messages(out: &Output) -> Vec<Value> {
    out.data()
        .iter()
        .filter(|d| !d.is_empty())
        .map(|d| serde_json::from_str(d).unwrap())
        .collect()
}

#[test]
fn a_session_streams_progress_then_the_result_and_resumes_by_get() {
    let serve = Serve::start(&["--pace-ms", "5"]);
    let url = serve.url("/mcp");
    let (session, out) = open_session(&url, "2025-11-25");
    // The priming event first: an id and empty data, then the result.
    let events = out.events();
    assert_eq!(
        (events[0]["data"].as_str(), events[0]["id"].as_str()),
        (Some(""), Some("0-0"))
    );
    let result = &messages(&out)[0];
    assert_eq!(result["id"], 1);
    assert_eq!(result["result"]["protocolVersion"], "2025-11-25");
    assert_eq!(result["result"]["serverInfo"]["name"], "postsource-serve");
    assert_eq!(out.last()["reason"], "eof");

    let with_session = format!("mcp-session-id: {session}");
    let notified = http(
        "POST",
        &url,
        &[
            ("accept", "application/json, text/event-stream"),
            ("content-type", "application/json"),
            ("mcp-session-id", &session),
            ("mcp-protocol-version", "2025-11-25"),
        ],
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    );
    assert_eq!((notified.0, notified.2.as_str()), (202, ""));

    let session_args = ["-H", ACCEPT, "-H", &with_session];
    let list = r#"{"jsonrpc":"2.0","id":"l","method":"tools/list"}"#;
    let listed = post(&url, Some(&session), list);
    let listed = messages(&listed);
    let tools: Vec<&str> = listed[0]["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(tools, ["countdown", "echo"]);

    // The server cuts the POST after the first progress notification: an I/O error
    // for a client that does not reconnect.
    let cut_url = format!("{url}?abort_after=1");
    let cut = post(&cut_url, Some(&session), &countdown(2, 3));
    assert_eq!(cut.code, Some(1), "{cut:?}");
    let first = messages(&cut);
    assert_eq!(first.len(), 1, "{cut:?}");
    assert_eq!(first[0]["params"]["progress"], 1);
    let cut_events = cut.events();
    let last_id = cut_events.last().unwrap()["id"].as_str().unwrap();
    assert_eq!(last_id, "2-1");
    let errors: Vec<Value> = cut
        .lines()
        .into_iter()
        .filter(|l| l["type"] == "error")
        .collect();
    assert_eq!(errors[0]["kind"], "io", "{cut:?}");

    // A GET with that id gets the rest; resumed once more after the result, the
    // reply has nothing left: 204, and the client stops.
    let resumed = run(&[
        &["-o", "jsonl", "--retry", "10"][..],
        &session_args,
        &["--last-event-id", last_id, &url],
    ]
    .concat());
    assert_eq!(resumed.code, Some(0), "{resumed:?}");
    let rest = messages(&resumed);
    let progress: Vec<&Value> = rest[..2].iter().map(|m| &m["params"]["progress"]).collect();
    assert_eq!(progress, [2, 3]);
    assert_eq!(rest[2]["id"], 2);
    assert_eq!(rest[2]["result"]["content"][0]["text"], "counted 3");
    assert_eq!(rest.len(), 3, "{resumed:?}");
    let ids: Vec<Value> = resumed.events().iter().map(|e| e["id"].clone()).collect();
    assert_eq!(ids, ["2-2", "2-3", "2-4"]);
    assert_eq!(resumed.last()["reason"], "no_content");

    // DELETE ends the session: its id is unknown from then on.
    let headers = [("mcp-session-id", session.as_str())];
    assert_eq!(http("DELETE", &url, &headers, "").0, 200);
    let after = http(
        "POST",
        &url,
        &[
            ("accept", "application/json, text/event-stream"),
            ("content-type", "application/json"),
            ("mcp-session-id", &session),
        ],
        &countdown(3, 1),
    );
    assert_eq!(after.0, 404, "{after:?}");
}

#[test]
fn the_library_client_resumes_a_cut_reply_with_a_get() {
    let serve = Serve::start(&["--pace-ms", "5"]);
    let url = serve.url("/mcp");
    let (session, _) = open_session(&url, "2025-11-25");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (progress, result, reconnects) = rt.block_on(async {
        // Every connection of the reply is cut after 2 messages: the POST, then
        // each GET that resumes it.
        let mut source = EventSource::post(format!("{url}?abort_after=2"))
            .header("accept", "application/json, text/event-stream")
            .header("mcp-session-id", &session)
            .body(countdown(7, 5))
            .header("content-type", "application/json")
            .retry(Duration::from_millis(10))
            .max_retries(5)
            .reconnect_request(|req| req.into_get())
            .build()
            .unwrap();
        let (mut progress, mut result, mut reconnects) = (Vec::new(), None, 0);
        let deadline = tokio::time::Instant::now() + DEADLINE;
        while let Ok(Some(item)) = tokio::time::timeout_at(deadline, source.next()).await {
            match item {
                Ok(SseItem::Event(event)) if !event.data.is_empty() => {
                    let message: Value = serde_json::from_str(&event.data).unwrap();
                    if message.get("result").is_some() {
                        result = Some(message);
                        source.close();
                    } else {
                        progress.push(message["params"]["progress"].as_u64().unwrap());
                    }
                }
                Ok(SseItem::Reconnecting { .. }) => reconnects += 1,
                Ok(SseItem::Closed(_)) => break,
                Ok(_) => {}
                Err(e) => panic!("{e}"),
            }
        }
        (progress, result, reconnects)
    });
    assert_eq!(progress, [1, 2, 3, 4, 5], "each once, in order");
    let result = result.expect("the result arrives");
    assert_eq!(result["id"], 7);
    assert_eq!(result["result"]["content"][0]["text"], "counted 5");
    // Six messages, two per connection: the POST and two GETs.
    assert_eq!(reconnects, 2);
}

#[test]
fn older_revisions_get_no_priming_event_and_unknown_ones_the_latest() {
    let serve = Serve::start(&[]);
    let url = serve.url("/mcp");
    let (_, out) = open_session(&url, "2025-03-26");
    let events = out.events();
    assert_eq!(
        events.len(),
        1,
        "no priming event before 2025-11-25: {out:?}"
    );
    assert_eq!(events[0]["id"], "0-1");
    assert_eq!(messages(&out)[0]["result"]["protocolVersion"], "2025-03-26");
    let (_, out) = open_session(&url, "1999-01-01");
    assert_eq!(messages(&out)[0]["result"]["protocolVersion"], "2025-11-25");
}

#[test]
fn requests_the_transport_refuses() {
    let serve = Serve::start(&[]);
    let url = serve.url("/mcp");
    let (session, _) = open_session(&url, "2025-11-25");
    let both = ("accept", "application/json, text/event-stream");
    let json_body = ("content-type", "application/json");
    let in_session = ("mcp-session-id", session.as_str());
    let list = r#"{"jsonrpc":"2.0","id":5,"method":"tools/list"}"#;
    // (method, headers, body, status, JSON-RPC error code)
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str, u16, i64);
    let cases: &[Case] = &[
        (
            "POST",
            &[("accept", "text/event-stream"), json_body, in_session],
            list,
            406,
            -32600,
        ),
        (
            "POST",
            &[both, ("content-type", "text/plain"), in_session],
            list,
            415,
            -32600,
        ),
        (
            "POST",
            &[both, json_body, in_session],
            "{not json",
            400,
            -32700,
        ),
        (
            "POST",
            &[both, json_body, in_session],
            &format!("[{list}]"),
            400,
            -32600,
        ),
        (
            "POST",
            &[both, json_body, in_session],
            r#"{"id":1,"method":"ping"}"#,
            400,
            -32600,
        ),
        ("POST", &[both, json_body], list, 400, -32600),
        (
            "POST",
            &[both, json_body, ("mcp-session-id", "nope")],
            list,
            404,
            -32600,
        ),
        (
            "POST",
            &[
                both,
                json_body,
                in_session,
                ("mcp-protocol-version", "2026-07-28"),
            ],
            list,
            400,
            -32600,
        ),
        (
            "POST",
            &[
                both,
                json_body,
                in_session,
                ("origin", "http://evil.example"),
            ],
            list,
            403,
            -32600,
        ),
        ("PUT", &[both, json_body, in_session], list, 405, -32600),
        (
            "GET",
            &[("accept", "application/json"), in_session],
            "",
            406,
            -32600,
        ),
        (
            "GET",
            &[both, in_session, ("last-event-id", "9-1")],
            "",
            400,
            -32600,
        ),
        (
            "GET",
            &[both, in_session, ("last-event-id", "x")],
            "",
            400,
            -32600,
        ),
        ("DELETE", &[], "", 400, -32600),
    ];
    for (method, headers, body, status, code) in cases {
        let (got, response_headers, text) = http(method, &url, headers, body);
        assert_eq!(got, *status, "{method} {headers:?} {body}: {text}");
        let error: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(error["jsonrpc"], "2.0");
        assert_eq!(error["error"]["code"], *code, "{text}");
        if *status == 405 {
            assert_eq!(response_headers["allow"], "GET, POST, DELETE");
        }
    }
    // postsource's own query parameters, refused in the same JSON-RPC shape.
    let bad = http(
        "POST",
        &format!("{url}?abort_after=x"),
        &[both, json_body, in_session],
        list,
    );
    assert_eq!(bad.0, 400);
    let error: Value = serde_json::from_str(&bad.2).unwrap();
    assert_eq!(error["error"]["code"], -32600);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("abort_after")
    );
    // A page on this machine may call it; an unknown method and an unknown tool are
    // JSON-RPC errors in the reply stream.
    let local = ("origin", "http://localhost:5173");
    for (call, code) in [
        (
            r#"{"jsonrpc":"2.0","id":6,"method":"resources/list"}"#,
            -32601,
        ),
        (
            r#"{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"nope"}}"#,
            -32602,
        ),
    ] {
        let (status, headers, text) =
            http("POST", &url, &[both, json_body, in_session, local], call);
        assert_eq!(status, 200, "{text}");
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        let error_line = text.lines().find(|l| l.starts_with("data: {")).unwrap();
        let error: Value = serde_json::from_str(&error_line[6..]).unwrap();
        assert_eq!(
            (error["id"].as_i64(), error["error"]["code"].as_i64()),
            (Some(6), Some(code))
        );
    }
}

#[test]
fn the_cli_resumes_a_cut_reply_by_get_with_resume_with_get() {
    let serve = Serve::start(&["--pace-ms", "5"]);
    let url = serve.url("/mcp");
    let (session, _) = open_session(&url, "2025-11-25");
    let with_session = format!("mcp-session-id: {session}");
    // Every connection is cut after 2 messages: the POST, then each GET.
    let out = run(&[
        "-o",
        "jsonl",
        "-v",
        "--retry",
        "10",
        "--resume-with-get",
        "-H",
        ACCEPT,
        "-H",
        &with_session,
        "--json",
        &countdown(4, 5),
        &format!("{url}?abort_after=2"),
    ]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let got = messages(&out);
    let progress: Vec<&Value> = got[..5].iter().map(|m| &m["params"]["progress"]).collect();
    assert_eq!(progress, [1, 2, 3, 4, 5], "each once, in order: {out:?}");
    assert_eq!(got[5]["result"]["content"][0]["text"], "counted 5");
    assert_eq!(got.len(), 6);
    // Two cuts, then the end of the reply, resumed once more: 204, and the run ends.
    let reconnects = out.types().iter().filter(|t| *t == "reconnect").count();
    assert_eq!(reconnects, 3, "{out:?}");
    let opens: Vec<Value> = out
        .lines()
        .into_iter()
        .filter(|l| l["type"] == "open")
        .collect();
    assert_eq!(
        opens.len(),
        3,
        "the POST and two GETs opened streams: {out:?}"
    );
    assert_eq!(out.last()["reason"], "no_content");
    assert!(
        out.stderr
            .contains("(attempt 1) as a GET without the body with last-event-id: 1-2\n"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_cancelled_request_and_an_ended_session_stop_their_replies() {
    let mut serve = Serve::start(&["--pace-ms", "20"]);
    let url = serve.url("/mcp");
    let (session, _) = open_session(&url, "2025-11-25");
    let headers = [
        ("accept", "application/json, text/event-stream"),
        ("content-type", "application/json"),
        ("mcp-session-id", session.as_str()),
    ];
    // The session's own GET stream, quiet until the session ends.
    let quiet = {
        let (url, header) = (format!("{url}?quiet"), format!("mcp-session-id: {session}"));
        std::thread::spawn(move || {
            run(&[
                "-o",
                "jsonl",
                "--reconnect",
                "never",
                "-H",
                ACCEPT,
                "-H",
                &header,
                &url,
            ])
        })
    };
    serve.log.until("GET /mcp?quiet 200 streaming");
    // A countdown of 100 steps (2 s at this pace), cancelled once it streams, and
    // another of the same length, whose session is ended (and the quiet stream with
    // it).
    for (request, stop) in [
        (
            8,
            r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":8,"reason":"enough"}}"#,
        ),
        (9, ""),
    ] {
        let call = {
            let (url, session) = (format!("{url}?call={request}"), session.clone());
            std::thread::spawn(move || post(&url, Some(&session), &countdown(request, 100)))
        };
        serve
            .log
            .until(&format!("POST /mcp?call={request} 200 streaming"));
        std::thread::sleep(Duration::from_millis(100));
        let status = match stop {
            "" => http("DELETE", &url, &headers[2..], "").0,
            cancel => http("POST", &url, &headers, cancel).0,
        };
        assert_eq!(status, if stop.is_empty() { 200 } else { 202 });
        let out = call.join().unwrap();
        assert_eq!(out.code, Some(0), "{out:?}");
        let got = messages(&out);
        assert!(got.len() < 100, "stopped early: {} messages", got.len());
        assert!(got.iter().all(|m| m.get("result").is_none()), "no response");
        assert_eq!(out.last()["reason"], "eof");
        if stop.is_empty() {
            let quiet = quiet.join().unwrap();
            assert_eq!(quiet.code, Some(0), "{quiet:?}");
            assert_eq!(quiet.events().len(), 0);
            assert_eq!(quiet.last()["reason"], "eof");
            break;
        }
        // Resuming a cancelled reply: nothing more will come.
        let last = out.events().last().unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let resumed = http(
            "GET",
            &url,
            &[headers[0], headers[2], ("last-event-id", &last)],
            "",
        );
        assert_eq!(resumed.0, 204);
    }
}

#[test]
fn a_huge_pace_makes_a_reply_wait_and_never_panics() {
    let mut serve = Serve::start(&[]);
    let url = serve.url(&format!("/mcp?pace_ms={}", u64::MAX));
    let (session, _) = open_session(&url, "2025-11-25");
    let with_session = format!("mcp-session-id: {session}");
    // Waits a client gives up on: the first progress is due at once, the second a
    // pace later, the result of 10000 steps without progress 10000 paces later.
    let waits_at = |url: &str, args: &[&str]| {
        let base = ["-o", "jsonl", "--reconnect", "never", "--timeout", "1"];
        let out = run(&[
            &base[..],
            &["-H", ACCEPT, "-H", &with_session],
            args,
            &[url],
        ]
        .concat());
        let lines = out.lines();
        assert_eq!(lines[lines.len() - 2]["kind"], "timeout", "{out:?}");
        out
    };
    let waits = |args: &[&str]| waits_at(&url, args);
    let out = waits(&["--json", &countdown(2, 1000)]);
    let sent = messages(&out);
    assert_eq!(sent.len(), 1, "{out:?}");
    assert_eq!(sent[0]["params"]["progress"], 1);
    assert_eq!(
        out.events()[0]["id"],
        "1-0",
        "the priming event of stream 1"
    );
    let quiet = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                       "params": {"name": "countdown", "arguments": {"steps": 10000}}});
    let out = waits(&["--json", &quiet.to_string()]);
    assert!(messages(&out).is_empty(), "{out:?}");
    let long = waits(&["--json", &countdown(4, 10000)]);
    assert_eq!(long.events()[0]["id"], "3-0");
    // Resuming near the end of that reply: its next message is 9999 paces away.
    let out = waits(&["--last-event-id", "3-9999"]);
    assert!(messages(&out).is_empty(), "{out:?}");
    // The pace header takes the same path.
    let header = format!("x-postsource-pace-ms: {}", u64::MAX);
    let out = waits_at(
        &serve.url("/mcp"),
        &["-H", &header, "--json", &countdown(5, 2)],
    );
    assert_eq!(messages(&out).len(), 1, "{out:?}");
    serve.assert_no_panic();
}
