//! Each request option, checked by what the server received (`/echo` streams the
//! request back), and each output mode and output option.

mod common;

use common::*;
use serde_json::Value;

/// The `request` summary event of an `/echo` run.
fn echoed(out: &Output) -> Value {
    assert_eq!(out.code, Some(0), "{out:?}");
    let summary = out
        .events()
        .into_iter()
        .find(|e| e["event"] == "request")
        .unwrap_or_else(|| panic!("no request event: {out:?}"));
    serde_json::from_str(summary["data"].as_str().unwrap()).unwrap()
}

fn echo(serve: &Serve, args: &[&str]) -> Value {
    let url = serve.url("/echo");
    let mut all = vec!["-o", "jsonl", "--reconnect", "never"];
    all.extend_from_slice(args);
    all.push(&url);
    echoed(&run(&all))
}

#[test]
fn defaults_get_with_accept_and_cache_control() {
    let serve = Serve::start(&[]);
    let req = echo(&serve, &[]);
    assert_eq!(req["method"], "GET");
    assert_eq!(req["headers"]["accept"], "text/event-stream");
    assert_eq!(req["headers"]["cache-control"], "no-cache");
    assert!(
        req["headers"]["user-agent"]
            .as_str()
            .unwrap()
            .starts_with("postsource/")
    );
    assert!(req["headers"].get("last-event-id").is_none());
    // Compressed bodies only with --compressed.
    assert_eq!(req["headers"]["accept-encoding"], "identity");
    assert_eq!(req["body"], "");
}

#[test]
fn a_body_makes_it_a_post_sent_as_is() {
    let serve = Serve::start(&[]);
    let req = echo(&serve, &["-d", "a=1&b=2\n"]);
    assert_eq!(req["method"], "POST");
    assert_eq!(req["body"], "a=1&b=2\n");
    assert!(req["headers"].get("content-type").is_none());
}

#[test]
fn method_headers_and_overrides() {
    let serve = Serve::start(&[]);
    let req = echo(
        &serve,
        &[
            "-X",
            "PUT",
            "-H",
            "X-One: 1",
            "-H",
            "x-two:two words ",
            "-H",
            "Accept: application/x-ndjson",
            "-H",
            "X-Empty:",
        ],
    );
    assert_eq!(req["method"], "PUT");
    assert_eq!(req["headers"]["x-one"], "1");
    assert_eq!(req["headers"]["x-two"], "two words");
    assert_eq!(req["headers"]["accept"], "application/x-ndjson");
    assert_eq!(req["headers"]["x-empty"], "");
}

#[test]
fn json_sets_the_content_type_unless_given() {
    let serve = Serve::start(&[]);
    let req = echo(&serve, &["--json", r#"{"a":1}"#]);
    assert_eq!(req["method"], "POST");
    assert_eq!(req["headers"]["content-type"], "application/json");
    assert_eq!(req["body"], r#"{"a":1}"#);
    let req = echo(
        &serve,
        &["--json", "{}", "-H", "Content-Type: application/vnd.x+json"],
    );
    assert_eq!(req["headers"]["content-type"], "application/vnd.x+json");
}

#[test]
fn body_from_a_file_and_from_stdin() {
    let serve = Serve::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("body.json");
    std::fs::write(&path, "{\"from\":\"file\"}\n").unwrap();
    let arg = format!("@{}", path.display());
    let req = echo(&serve, &["--json", &arg]);
    assert_eq!(req["body"], "{\"from\":\"file\"}\n");
    let req = echo(&serve, &["-d", &arg, "-X", "PATCH"]);
    assert_eq!(req["method"], "PATCH");
    assert_eq!(req["body"], "{\"from\":\"file\"}\n");

    let url = serve.url("/echo");
    let out = run_with(
        &["-o", "jsonl", "--reconnect", "never", "-d", "@-", &url],
        Some(b"from stdin"),
        &[],
    );
    let req = echoed(&out);
    assert_eq!(req["method"], "POST");
    assert_eq!(req["body"], "from stdin");
}

#[test]
fn last_event_id_bearer_user_agent_compressed() {
    let serve = Serve::start(&[]);
    let req = echo(
        &serve,
        &[
            "--last-event-id",
            "41",
            "--bearer",
            "tok",
            "-A",
            "my-agent/1",
            "--compressed",
        ],
    );
    assert_eq!(req["headers"]["last-event-id"], "41");
    assert_eq!(req["headers"]["authorization"], "Bearer tok");
    assert_eq!(req["headers"]["user-agent"], "my-agent/1");
    let encodings = req["headers"]["accept-encoding"].as_str().unwrap();
    assert!(
        encodings.contains("gzip") && encodings.contains("br"),
        "{encodings}"
    );
    // --insecure builds its own client too; plain http still works.
    let req = echo(&serve, &["--insecure", "--connect-timeout", "5"]);
    assert_eq!(req["method"], "GET");
}

#[test]
fn compressed_follows_redirects_the_same_way() {
    let serve = Serve::start(&[]);
    // A POST through a 307 keeps its body, and no Referer gives the first URL away.
    let url = serve.url("/test/redirect?to=/echo&token=secret");
    let out = run(&[
        "-o",
        "jsonl",
        "--reconnect",
        "never",
        "--compressed",
        "-d",
        "x",
        &url,
    ]);
    let req = echoed(&out);
    assert_eq!(
        (req["method"].as_str(), req["body"].as_str()),
        (Some("POST"), Some("x"))
    );
    assert!(req["headers"].get("referer").is_none(), "{req}");
    // An empty Location points back at itself: the redirect limit is an error of
    // kind `status`, as without --compressed, and a GET does not retry it.
    for extra in [&[][..], &["--compressed"][..]] {
        let url = serve.url("/test/redirect?to=");
        let mut args = vec!["-o", "jsonl", "--max-retries", "3", "--retry", "10"];
        args.extend_from_slice(extra);
        args.push(&url);
        let out = run(&args);
        assert_eq!(out.code, Some(1), "{out:?}");
        assert_eq!(out.types(), ["error", "close"], "{out:?}");
        assert_eq!(out.lines()[0]["kind"], "status", "{out:?}");
    }
}

#[test]
fn last_event_id_resumes_a_stream() {
    let serve = Serve::start(&[]);
    let out = run(&[
        "-o",
        "jsonl",
        "-n",
        "1",
        "--last-event-id",
        "41",
        &serve.url("/ticks"),
    ]);
    assert_eq!(out.data(), ["42"]);
}

#[test]
fn reconnect_sends_last_event_id_and_post_with_ids_reconnects_under_auto() {
    let serve = Serve::start(&[]);
    // POST, but the server sends ids: auto reconnects, with Last-Event-ID.
    let url = serve.url("/ticks?interval_ms=5&count=2&retry=5");
    let out = run(&["-o", "jsonl", "-d", "x", "-n", "4", &url]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.data(), ["1", "2", "3", "4"]);
    assert!(out.types().contains(&"reconnect".to_owned()));
}

#[test]
fn a_post_with_only_the_users_last_event_id_is_not_resent_under_auto() {
    let serve = Serve::start(&[]);
    // The id is the user's, not the server's (/echo sends none): the stream's end
    // ends the run, as for any POST without ids.
    let out = run(&[
        "-o",
        "jsonl",
        "--retry",
        "5",
        "-d",
        "x",
        "--last-event-id",
        "41",
        &serve.url("/echo"),
    ]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(!out.types().contains(&"reconnect".to_owned()), "{out:?}");
    assert_eq!(out.last()["reason"], "eof");
}

#[test]
fn reconnect_never_and_always() {
    let serve = Serve::start(&[]);
    let url = serve.url("/ticks?interval_ms=5&count=2&retry=5");
    let out = run(&["-o", "jsonl", "--reconnect", "never", &url]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.data(), ["1", "2"]);
    assert_eq!(out.last()["reason"], "eof");
    // A POST without ids reconnects only with always.
    let echo = serve.url("/echo");
    let out = run(&[
        "-o",
        "jsonl",
        "--reconnect",
        "always",
        "--retry",
        "5",
        "-d",
        "x",
        "-n",
        "12",
        &echo,
    ]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.types().contains(&"reconnect".to_owned()));
}

#[test]
fn retry_sets_the_initial_delay_and_server_retry_overrides_it() {
    let serve = Serve::start(&[]);
    let out = run(&[
        "-o",
        "jsonl",
        "--retry",
        "25",
        "-n",
        "12",
        &serve.url("/echo"),
    ]);
    let reconnect = out
        .lines()
        .into_iter()
        .find(|l| l["type"] == "reconnect")
        .unwrap();
    assert_eq!(reconnect["delay_ms"], 25);
    let url = serve.url("/ticks?interval_ms=5&count=1&retry=15");
    let out = run(&["-o", "jsonl", "--retry", "5000", "-n", "2", &url]);
    let reconnect = out
        .lines()
        .into_iter()
        .find(|l| l["type"] == "reconnect")
        .unwrap();
    assert_eq!(reconnect["delay_ms"], 15);
}

#[test]
fn redirects_are_followed_and_the_open_url_is_final() {
    let serve = Serve::start(&[]);
    let url = serve.url("/test/redirect?to=/echo&status=307");
    let out = run(&["-o", "jsonl", "--reconnect", "never", "-d", "kept", &url]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.lines()[0]["url"], serve.url("/echo"));
    let req = echoed(&out);
    assert_eq!(req["method"], "POST");
    assert_eq!(req["body"], "kept");
}

#[test]
fn data_mode_prints_only_data() {
    let serve = Serve::start(&[]);
    let out = run(&["-o", "data", "-n", "3", &serve.url("/ticks?interval_ms=5")]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, "1\n2\n3\n");
    let out = run(&[
        "-o",
        "data",
        "-i",
        "-n",
        "1",
        &serve.url("/ticks?interval_ms=5"),
    ]);
    assert!(out.stdout.starts_with("HTTP 200 OK\n"), "{}", out.stdout);
    assert!(out.stdout.contains("\ncontent-type: text/event-stream\n"));
    assert!(out.stdout.ends_with("\n\n1\n"), "{}", out.stdout);
    // Errors go to stderr, not into the data.
    let out = run(&["-o", "data", &serve.url("/test/status/500")]);
    assert_eq!(out.code, Some(1));
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("500"), "{}", out.stderr);
}

#[test]
fn raw_mode_prints_the_stream_bytes() {
    let serve = Serve::start(&[]);
    let url = serve.url("/ticks?interval_ms=5&count=2&retry=1234");
    let out = run(&["-o", "raw", "--reconnect", "never", &url]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(
        out.stdout,
        "event: tick\nid: 1\nretry: 1234\ndata: 1\n\nevent: tick\nid: 2\ndata: 2\n\n"
    );
    // Byte for byte as sent: CRLF and CR line endings and the comment survive.
    let out = run(&[
        "-o",
        "raw",
        "--reconnect",
        "never",
        &serve.url("/test/drip?delay_ms=0"),
    ]);
    assert_eq!(
        out.stdout,
        "id: 1\r\ndata: caf\u{e9} \u{1f600}\r\n\r\n: a comment\revent: named\rdata: two\rdata: lines\r\rid: 3\ndata: last\n\n"
    );
    let out = run(&[
        "-o",
        "raw",
        "-i",
        "--reconnect",
        "never",
        &serve.url("/test/close-mid-event"),
    ]);
    assert!(out.stdout.starts_with("HTTP 200 OK\n"), "{}", out.stdout);
    assert!(
        out.stdout
            .ends_with("\n\nid: 1\ndata: complete\n\nid: 2\ndata: cut off"),
        "{}",
        out.stdout
    );
}

#[test]
fn pretty_is_the_default_and_plain_when_not_a_terminal() {
    let serve = Serve::start(&[]);
    let url = serve.url("/test/events");
    let out = run(&["--reconnect", "never", &url]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(
        !out.stdout.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );
    assert!(out.stdout.starts_with("200 OK"), "{}", out.stdout);
    assert!(out.stdout.contains("update  id a1"), "{}", out.stdout);
    assert!(
        out.stdout.contains("    \"json\": ["),
        "JSON data is pretty-printed"
    );
    assert!(out.stdout.contains(": a comment between events"));
    assert!(out.stdout.contains("closed: eof"));
    // The status line only exists on a terminal.
    assert!(!out.stderr.contains('\x1b'));
    let out = run(&["--reconnect", "never", "--color", "always", &url]);
    assert!(out.stdout.contains("\x1b["), "--color always colours");
    let out = run_with(
        &["--reconnect", "never", "--color", "always", &url],
        None,
        &[("NO_COLOR", "1")],
    );
    assert!(
        out.stdout.contains("\x1b["),
        "--color always wins over NO_COLOR"
    );
    let out = run(&["--reconnect", "never", "-i", &url]);
    assert!(out.stdout.contains("  content-type: text/event-stream"));
}

#[test]
fn verbose_shows_request_and_response_on_stderr() {
    let serve = Serve::start(&[]);
    let url = serve.url("/ticks?interval_ms=5");
    let out = run(&["-o", "jsonl", "-v", "-n", "1", "-H", "X-A: b", &url]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(
        out.stderr.contains(&format!("> GET {url}")),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("> accept: text/event-stream"));
    assert!(out.stderr.contains("> x-a: b"));
    assert!(out.stderr.contains("< HTTP 200 OK"));
    assert!(out.stderr.contains("* closed: max_events"));
    // stdout is untouched jsonl.
    assert_eq!(out.types(), ["open", "event", "close"]);
}

#[test]
fn drip_fed_stream_parses_exactly() {
    let serve = Serve::start(&[]);
    let out = run(&[
        "-o",
        "jsonl",
        "--reconnect",
        "never",
        &serve.url("/test/drip?delay_ms=1"),
    ]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let events = out.events();
    assert_eq!(events.len(), 3);
    assert_eq!(events[0]["data"], "caf\u{e9} \u{1f600}");
    assert_eq!(events[0]["id"], "1");
    assert_eq!(events[1]["event"], "named");
    assert_eq!(events[1]["data"], "two\nlines");
    assert_eq!(events[1]["id"], "1");
    assert_eq!(events[2]["id"], "3");
}

#[test]
fn completions_are_generated() {
    for shell in ["bash", "zsh", "fish"] {
        let out = run(&["completions", shell]);
        assert_eq!(out.code, Some(0));
        assert!(out.stdout.contains("postsource"), "{shell}");
        assert!(out.stdout.contains("until-data"), "{shell}");
    }
}

#[test]
fn help_teaches_with_examples() {
    let out = run(&["--help"]);
    assert_eq!(out.code, Some(0));
    for needle in [
        "--reconnect",
        "--max-retries",
        "--until-data",
        "Examples:",
        "Exit status:",
        "postsource serve",
    ] {
        assert!(out.stdout.contains(needle), "--help lacks {needle}");
    }
    let out = run(&["serve", "--help"]);
    for needle in [
        "/v1/chat/completions",
        "/ticks",
        "/echo",
        "/test/drip",
        "--replay",
        "--web",
        "8080",
    ] {
        assert!(out.stdout.contains(needle), "serve --help lacks {needle}");
    }
}
