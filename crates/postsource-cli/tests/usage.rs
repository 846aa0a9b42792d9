//! Usage errors: a clear message on stderr and exit 2, before any request is sent —
//! checked against a server that counts the requests it gets.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::routing::any;
use common::*;

fn counting_server() -> (TestServer, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let server = TestServer::start(Router::new().fallback(any(move || {
        counter.fetch_add(1, Ordering::SeqCst);
        async { sse("data: hello\n\n") }
    })));
    (server, hits)
}

#[test]
fn usage_errors_exit_2_without_sending_anything() {
    let (server, hits) = counting_server();
    let url = server.url("/");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["-H", "NoColon", &url], "NoColon"),
        (vec!["-H", ": empty-name", &url], "header"),
        (vec!["-H", "Bad Name: v", &url], "header"),
        (
            vec!["-d", "@/definitely/not/here.json", &url],
            "not/here.json",
        ),
        (
            vec!["--json", "@/definitely/not/here.json", &url],
            "not/here.json",
        ),
        (vec!["-d", "@", &url], "@"),
        (vec!["-d", "a", "--json", "{}", &url], "json"),
        (vec!["-X", "BAD METHOD", &url], "method"),
        (vec!["--reconnect", "sometimes", &url], "sometimes"),
        (vec!["--timeout", "soon", &url], "soon"),
        (vec!["--timeout", "0", &url], "0"),
        (vec!["--max-retries", "-1", &url], "-1"),
        (vec!["-n", "0", &url], "0"),
        (vec!["--max-event-size", "big", &url], "big"),
        (vec!["-o", "xml", &url], "xml"),
        (vec!["--no-such-option", &url], "no-such-option"),
        (vec!["not a url"], "URL"),
        (vec!["ftp://127.0.0.1/"], "http"),
        (vec!["127.0.0.1:8080"], "URL"),
        (vec![], "URL"),
    ];
    for (args, needle) in cases {
        let out = run(&args);
        assert_eq!(out.code, Some(2), "{args:?} → {out:?}");
        assert!(
            out.stdout.is_empty(),
            "{args:?} printed on stdout: {}",
            out.stdout
        );
        assert!(
            out.stderr.to_lowercase().contains(&needle.to_lowercase()),
            "{args:?}: stderr should mention {needle:?}: {}",
            out.stderr
        );
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "a usage error sent a request"
    );
    // The same server does get a request from a correct command line.
    let out = run(&["-o", "data", "-n", "1", &url]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[test]
fn unwritable_record_file_is_a_usage_error() {
    let (server, hits) = counting_server();
    let out = run(&[
        "--record",
        "/definitely/not/here/rec.jsonl",
        &server.url("/"),
    ]);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(out.stderr.contains("--record"));
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

#[test]
fn help_and_version_exit_0() {
    assert_eq!(run(&["--help"]).code, Some(0));
    assert_eq!(run(&["-h"]).code, Some(0));
    let out = run(&["--version"]);
    assert_eq!(out.code, Some(0));
    assert!(out.stdout.starts_with("postsource "));
}
