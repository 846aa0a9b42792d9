//! Redirects against real local servers: chains, POST-aware method rules (307/308
//! keep method and body; 301/302/303 become a bodiless GET, or fail), credentials
//! not forwarded to another origin, the limit, and the final URL in `Open`.
#![cfg(feature = "client")]

mod client_support;

use axum::Router;
use axum::extract::Request;
use axum::http::header;
use axum::response::Response;
use axum::routing::any;
use postsource::client::{ErrorKind, EventSource, Reconnect, RedirectPolicy, SseItem};

use client_support::*;

fn redirect(status: u16, to: &str) -> Response {
    let mut r = respond(status, "text/plain", "");
    r.headers_mut()
        .insert(header::LOCATION, to.parse().unwrap());
    r
}

/// `/final` records the request and answers one event; `/r/<status>/<to...>`
/// redirects with that status to `/<to...>`; `/loop` redirects to itself.
async fn server(other: Option<String>) -> (TestServer, Log) {
    let log = Log::default();
    let l = log.clone();
    let app = Router::new().fallback(any(move |req: Request| {
        let l = l.clone();
        let other = other.clone();
        async move {
            let path = req.uri().path().to_string();
            let seen = l.record(req).await;
            if path == "/final" {
                return sse(vec![Step::Send("data: ok\n\n")], None);
            }
            if path == "/loop" {
                return redirect(302, "/loop");
            }
            if path == "/cross" {
                return redirect(307, &format!("{}/final", other.unwrap()));
            }
            let mut parts = path.trim_start_matches("/r/").splitn(2, '/');
            let status: u16 = parts.next().unwrap().parse().unwrap();
            let _ = seen;
            redirect(status, &format!("/{}", parts.next().unwrap()))
        }
    }));
    (TestServer::start(app).await, log)
}

async fn run(source: EventSource) -> Vec<Result<SseItem, postsource::client::Error>> {
    let mut source = source;
    collect(&mut source, 5).await
}

#[tokio::test]
async fn chains_keep_post_on_307_308_and_report_the_final_url() {
    let (a, log) = server(None).await;
    let source = EventSource::post(a.url("/r/307/r/308/final"))
        .bearer_auth("t")
        .header("content-type", "text/plain")
        .body("job")
        .reconnect(Reconnect::Never)
        .build()
        .unwrap();
    let items = run(source).await;
    let Ok(SseItem::Open { url, .. }) = &items[0] else {
        panic!("{items:?}")
    };
    assert_eq!(url.as_str(), a.url("/final"));
    assert_eq!(datas(&items), ["ok"]);
    let seen = log.all();
    assert_eq!(seen.len(), 3);
    for s in &seen {
        assert_eq!(
            (s.method.as_str(), &s.body[..]),
            ("POST", &b"job"[..]),
            "{}",
            s.path
        );
        assert_eq!(
            s.header("authorization"),
            Some("Bearer t"),
            "same origin keeps credentials"
        );
        assert_eq!(s.header("accept"), Some("text/event-stream"));
    }
}

#[tokio::test]
async fn see_other_and_moved_turn_a_post_into_a_get() {
    for status in [301, 302, 303] {
        let (a, log) = server(None).await;
        let source = EventSource::post(a.url(&format!("/r/{status}/final")))
            .json(&serde_json::json!({"a": 1}))
            .reconnect(Reconnect::Never)
            .build()
            .unwrap();
        let items = run(source).await;
        assert_eq!(datas(&items), ["ok"], "{status}");
        let last = log.all().pop().unwrap();
        assert_eq!(last.method, "GET", "{status}");
        assert!(last.body.is_empty());
        assert_eq!(last.header("content-type"), None);
    }
    // 302 keeps a PUT; 303 does not.
    let (a, log) = server(None).await;
    let source = EventSource::new(http::Method::PUT, a.url("/r/302/r/303/final"))
        .body("x")
        .reconnect(Reconnect::Never)
        .build()
        .unwrap();
    run(source).await;
    let methods: Vec<_> = log.all().into_iter().map(|s| s.method).collect();
    assert_eq!(methods, ["PUT", "PUT", "GET"]);
}

#[tokio::test]
async fn keep_method_fails_instead_of_changing_it() {
    let (a, log) = server(None).await;
    let source = EventSource::post(a.url("/r/303/final"))
        .body("x")
        .redirect_policy(RedirectPolicy::default().keep_method())
        .build()
        .unwrap();
    let items = run(source).await;
    let Err(e) = terminal(&items) else { panic!() };
    assert_eq!(e.kind(), ErrorKind::Redirect);
    assert_eq!(log.count(), 1);
}

#[tokio::test]
async fn credentials_are_not_forwarded_to_another_origin() {
    let (b, b_log) = server(None).await;
    let (a, _) = server(Some(format!("http://{}", b.addr))).await;
    let source = EventSource::post(a.url("/cross"))
        .bearer_auth("secret")
        .header("cookie", "s=1")
        .header("x-keep", "1")
        .body("job")
        .reconnect(Reconnect::Never)
        .build()
        .unwrap();
    let items = run(source).await;
    let Ok(SseItem::Open { url, .. }) = &items[0] else {
        panic!("{items:?}")
    };
    assert_eq!(url.as_str(), b.url("/final"));
    let seen = &b_log.all()[0];
    assert_eq!(seen.header("authorization"), None);
    assert_eq!(seen.header("cookie"), None);
    assert_eq!(seen.header("x-keep"), Some("1"));
    assert_eq!(
        (seen.method.as_str(), &seen.body[..]),
        ("POST", &b"job"[..])
    );
}

#[tokio::test]
async fn the_limit_applies_and_none_reports_the_3xx() {
    let (a, log) = server(None).await;
    let source = EventSource::get(a.url("/loop"))
        .redirect_policy(RedirectPolicy::limited(3))
        .build()
        .unwrap();
    let items = run(source).await;
    let Err(e) = terminal(&items) else { panic!() };
    assert_eq!(e.kind(), ErrorKind::Redirect);
    assert!(e.to_string().contains("more than 3 redirects"), "{e}");
    assert_eq!(log.count(), 4);

    let source = EventSource::get(a.url("/r/307/final"))
        .redirect_policy(RedirectPolicy::none())
        .build()
        .unwrap();
    let items = run(source).await;
    let Err(e) = terminal(&items) else { panic!() };
    assert_eq!(
        (e.kind(), e.status().map(|s| s.as_u16())),
        (ErrorKind::Status, Some(307))
    );
}
