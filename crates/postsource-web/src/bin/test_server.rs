//! `postsource-web-test-server`: the local server the browser tests and the demo
//! run against, on 127.0.0.1 only.
//!
//! It serves a folder (the built module, the test page, the demo) and a set of
//! SSE endpoints that each exercise one rule of the browser API: echoing the
//! request, named events and ids, error statuses with a JSON body, a wrong content
//! type, 204, a slow stream whose disconnect the server records, a resumable
//! stream that logs each `Last-Event-ID`, a stall, a long fast stream
//! (`/many/{n}`), an OpenAI-style `POST /v1/chat/completions` stream for the demo,
//! and the streams that the differential test stores and then plays, cut into
//! many writes, to the browser's own `EventSource` and to `PostSource` alike. It
//! listens on two ports so the tests can make cross-origin (CORS) requests: the
//! page loads from one origin and calls the other. It prints
//! `{"page":URL,"api":URL}` on one line, then serves until killed or until
//! `--max-seconds` (default 900) pass, so it never outlives a
//! forgotten test run.

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    server::main();
}

#[cfg(not(target_arch = "wasm32"))]
mod server {
    use std::collections::HashMap;
    use std::convert::Infallible;
    use std::io::Write;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use axum::Router;
    use axum::body::{Body, Bytes};
    use axum::extract::{Extension, Path, Query, State};
    use axum::http::{HeaderMap, HeaderName, Method, StatusCode, header};
    use axum::response::{IntoResponse, Response};
    use axum::routing::{any, get, post};
    use futures::stream::{self, Stream, StreamExt};
    use serde_json::{Value, json};
    use tower_http::cors::CorsLayer;
    use tower_http::services::ServeDir;

    /// What the server saw, per test token.
    #[derive(Default, Clone)]
    struct Seen {
        connected: u32,
        disconnected: u32,
        /// `Last-Event-ID` of each request ("" when absent), in order.
        last_event_ids: Vec<String>,
        methods: Vec<String>,
    }

    impl Seen {
        fn to_json(&self) -> Value {
            json!({
                "connected": self.connected,
                "disconnected": self.disconnected,
                "lastEventIds": self.last_event_ids,
                "methods": self.methods,
            })
        }
    }

    type Log = Arc<Mutex<HashMap<String, Seen>>>;

    /// The streams of the differential test, by token: the bytes, and where to cut
    /// them into writes.
    type Stored = Arc<Mutex<HashMap<String, (Bytes, Vec<usize>)>>>;

    /// Ends every stored stream: a blank line (which dispatches whatever block the
    /// stream left open, the same for every client), then an `end` event whose data
    /// no random stream holds (for the CLI's `--until-data`).
    const STORED_END: &[u8] = b"\n\nevent: end\ndata: end-of-stored-stream\n\n";

    /// Records the end of a streaming response when hyper drops its body (the
    /// client went away, or the stream finished).
    struct Guard {
        log: Log,
        token: String,
    }

    impl Drop for Guard {
        fn drop(&mut self) {
            let mut log = self.log.lock().unwrap();
            log.entry(self.token.clone()).or_default().disconnected += 1;
        }
    }

    fn record(log: &Log, token: &str, method: &Method, headers: &HeaderMap) -> Guard {
        let mut map = log.lock().unwrap();
        let seen = map.entry(token.to_string()).or_default();
        seen.connected += 1;
        seen.methods.push(method.to_string());
        // As UTF-8, which is how the spec sends the id.
        let id = headers
            .get("last-event-id")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        seen.last_event_ids.push(id);
        Guard {
            log: log.clone(),
            token: token.to_string(),
        }
    }

    fn sse(body: Body) -> Response {
        (
            [
                (header::CONTENT_TYPE, "text/event-stream; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
                (HeaderName::from_static("x-test-header"), "yes"),
            ],
            body,
        )
            .into_response()
    }

    /// `chunks` written one by one, `every` apart.
    fn writes(
        chunks: Vec<impl Into<Bytes>>,
        every: Duration,
    ) -> impl Stream<Item = Result<Bytes, Infallible>> {
        stream::iter(chunks.into_iter().enumerate()).then(move |(i, chunk)| async move {
            if i > 0 {
                tokio::time::sleep(every).await;
            }
            Ok(chunk.into())
        })
    }

    /// `chunks` written one by one, `every` apart, then the end of the body.
    fn paced(chunks: Vec<String>, every: Duration, guard: Option<Guard>) -> Body {
        let s = writes(chunks, every);
        // The guard lives exactly as long as the body stream.
        let s = s.chain(stream::once(async move {
            drop(guard);
            Ok(Bytes::new())
        }));
        Body::from_stream(s)
    }

    async fn echo(method: Method, headers: HeaderMap, body: Bytes) -> Response {
        let h = |name: &str| {
            headers
                .get(name)
                .map(|v| String::from_utf8_lossy(v.as_bytes()))
                .unwrap_or_default()
        };
        let data = json!({
            "method": method.as_str(),
            "contentType": h("content-type"),
            "xTest": h("x-test"),
            "accept": h("accept"),
            "lastEventId": h("last-event-id"),
            "body": String::from_utf8_lossy(&body),
        });
        sse(Body::from(format!("event: echo\ndata: {data}\n\n")))
    }

    /// 307 to `/echo`: the method and body are kept.
    async fn redirect() -> Response {
        axum::response::Redirect::temporary("/echo").into_response()
    }

    async fn named() -> Response {
        let text = "event: greeting\nid: 1\ndata: hello\n\n\
                    : a comment\ndata: plain\n\n\
                    id: 2\nevent: update\ndata: line1\ndata: line2\n\n\
                    id: 3\n\n";
        sse(Body::from(text))
    }

    async fn status(Path(code): Path<u16>) -> Response {
        let code = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = json!({"error": {"message": format!("boom {}", code.as_u16())}}).to_string();
        (code, [(header::CONTENT_TYPE, "application/json")], body).into_response()
    }

    async fn wrong_type() -> Response {
        ([(header::CONTENT_TYPE, "text/plain")], "data: not sse\n\n").into_response()
    }

    async fn no_content() -> Response {
        StatusCode::NO_CONTENT.into_response()
    }

    async fn eof() -> Response {
        sse(Body::from("data: a\n\ndata: b\n\n"))
    }

    /// Ticks every 50 ms for up to 60 s; the log shows when the client left.
    async fn slow(
        State(log): State<Log>,
        Path(token): Path<String>,
        method: Method,
        headers: HeaderMap,
    ) -> Response {
        let guard = record(&log, &token, &method, &headers);
        let chunks = (0..1200).map(|n| format!("data: tick {n}\n\n")).collect();
        sse(paced(chunks, Duration::from_millis(50), Some(guard)))
    }

    /// First request: `retry: 50`, ids 1 and 2, then EOF. With `Last-Event-ID: 2`:
    /// id 3, then EOF. Later: 204, which ends the stream.
    async fn resume(
        State(log): State<Log>,
        Path(token): Path<String>,
        method: Method,
        headers: HeaderMap,
    ) -> Response {
        let guard = record(&log, &token, &method, &headers);
        let last = headers.get("last-event-id").and_then(|v| v.to_str().ok());
        match last {
            None => sse(paced(
                vec![
                    "retry: 50\nid: 1\ndata: one\n\n".into(),
                    "id: 2\ndata: two\n\n".into(),
                ],
                Duration::from_millis(10),
                Some(guard),
            )),
            Some("2") => sse(paced(
                vec!["id: 3\ndata: three\n\n".into()],
                Duration::ZERO,
                Some(guard),
            )),
            Some(_) => StatusCode::NO_CONTENT.into_response(),
        }
    }

    /// First request: the stream given as `?body=`, then EOF; the reconnection,
    /// whose `Last-Event-ID` the log keeps: 204, which ends the stream.
    async fn resume_with(
        State(log): State<Log>,
        Path(token): Path<String>,
        Query(query): Query<HashMap<String, String>>,
        method: Method,
        headers: HeaderMap,
    ) -> Response {
        let guard = record(&log, &token, &method, &headers);
        if log.lock().unwrap()[&token].connected > 1 {
            return StatusCode::NO_CONTENT.into_response();
        }
        let body = query.get("body").cloned().unwrap_or_default();
        sse(paced(vec![body], Duration::ZERO, Some(guard)))
    }

    /// Opens, then sends nothing for 30 s.
    async fn hang(
        State(log): State<Log>,
        Path(token): Path<String>,
        method: Method,
        headers: HeaderMap,
    ) -> Response {
        let guard = record(&log, &token, &method, &headers);
        let chunks = vec![String::new(), String::new()];
        sse(paced(chunks, Duration::from_secs(30), Some(guard)))
    }

    /// Sends no response head for 30 s.
    async fn stall() -> Response {
        tokio::time::sleep(Duration::from_secs(30)).await;
        sse(Body::empty())
    }

    /// One event of 10 000 bytes.
    async fn big() -> Response {
        sse(Body::from(format!(
            "data: {}\n\ndata: after\n\n",
            "x".repeat(10_000)
        )))
    }

    /// `n` (at most 100 000) events of 1 000 bytes each, in chunks of 100
    /// events, as fast as the client reads: the bounded-memory test's long stream.
    async fn many(Path(n): Path<usize>) -> Response {
        let event = format!("id: x\ndata: {}\n\n", "y".repeat(1_000));
        let n = n.min(100_000);
        let chunks = (0..n.div_ceil(100))
            .map(move |i| Ok::<_, Infallible>(Bytes::from(event.repeat((n - i * 100).min(100)))));
        sse(Body::from_stream(stream::iter(chunks)))
    }

    /// Stores a stream for `GET /stored/{token}`; `?cuts=3,7,20`: the offsets where
    /// its writes are cut.
    async fn store_stream(
        Extension(stored): Extension<Stored>,
        Path(token): Path<String>,
        Query(query): Query<HashMap<String, String>>,
        body: Bytes,
    ) -> Response {
        let cuts = query.get("cuts").map(String::as_str).unwrap_or("");
        let Ok(mut cuts) = cuts
            .split(',')
            .filter(|c| !c.is_empty())
            .map(str::parse)
            .collect::<Result<Vec<usize>, _>>()
        else {
            return StatusCode::BAD_REQUEST.into_response();
        };
        cuts.retain(|&c| 0 < c && c < body.len());
        cuts.sort_unstable();
        cuts.dedup();
        stored.lock().unwrap().insert(token, (body, cuts));
        StatusCode::NO_CONTENT.into_response()
    }

    /// Plays a stored stream: each piece in its own write, 1 ms apart, then
    /// [`STORED_END`], then nothing (no EOF, so no client reconnects) until the
    /// client leaves or 30 s pass.
    async fn play_stored(
        Extension(stored): Extension<Stored>,
        Path(token): Path<String>,
    ) -> Response {
        let Some((body, cuts)) = stored.lock().unwrap().get(&token).cloned() else {
            return StatusCode::NOT_FOUND.into_response();
        };
        let ends = cuts.into_iter().chain([body.len()]);
        let mut pieces = Vec::new();
        let mut at = 0;
        for end in ends {
            pieces.push(body.slice(at..end));
            at = end;
        }
        pieces.push(Bytes::from_static(STORED_END));
        let hold = stream::once(async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok(Bytes::new())
        });
        sse(Body::from_stream(
            writes(pieces, Duration::from_millis(1)).chain(hold),
        ))
    }

    async fn seen(State(log): State<Log>, Path(token): Path<String>) -> Response {
        let seen = log.lock().unwrap().get(&token).cloned().unwrap_or_default();
        axum::Json(seen.to_json()).into_response()
    }

    /// An OpenAI-compatible `chat.completion.chunk` stream: a canned answer that
    /// quotes the prompt, one word per chunk every 60 ms, then `[DONE]`.
    async fn chat(body: Bytes) -> Response {
        let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        if request["stream"] != Value::Bool(true) {
            return status(Path(400)).await;
        }
        let prompt = request["messages"]
            .as_array()
            .and_then(|m| m.last())
            .and_then(|m| m["content"].as_str())
            .unwrap_or("")
            .to_string();
        let quoted: String = prompt
            .split_whitespace()
            .take(12)
            .collect::<Vec<_>>()
            .join(" ");
        let answer = format!(
            "Here is a rewrite of \"{quoted}\": {} ",
            "the quick brown fox jumps over the lazy dog and keeps on running through the field \
             while the sun sets slowly behind the distant hills. "
                .repeat(6)
        );
        let mut chunks = Vec::new();
        let chunk = |delta: Value, finish: Value| {
            let c = json!({
                "id": "chatcmpl-local", "object": "chat.completion.chunk", "created": 0,
                "model": "postsource-sim",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            });
            format!("data: {c}\n\n")
        };
        chunks.push(chunk(
            json!({"role": "assistant", "content": ""}),
            Value::Null,
        ));
        for (i, word) in answer.split(' ').filter(|w| !w.is_empty()).enumerate() {
            let token = if i == 0 {
                word.to_string()
            } else {
                format!(" {word}")
            };
            chunks.push(chunk(json!({"content": token}), Value::Null));
        }
        chunks.push(chunk(json!({}), json!("stop")));
        chunks.push("data: [DONE]\n\n".to_string());
        sse(paced(chunks, Duration::from_millis(60), None))
    }

    fn app(dir: &str, log: Log, stored: Stored) -> Router {
        let cors =
            CorsLayer::very_permissive().expose_headers([HeaderName::from_static("x-test-header")]);
        Router::new()
            .route("/echo", any(echo))
            .route("/redirect", any(redirect))
            .route("/named", any(named))
            .route("/status/{code}", any(status))
            .route("/wrong-type", any(wrong_type))
            .route("/nocontent", any(no_content))
            .route("/eof", any(eof))
            .route("/slow/{token}", any(slow))
            .route("/resume/{token}", any(resume))
            .route("/resume-with/{token}", any(resume_with))
            .route("/hang/{token}", any(hang))
            .route("/stall", any(stall))
            .route("/big", any(big))
            .route("/many/{n}", any(many))
            .route("/seen/{token}", get(seen))
            .route("/stored/{token}", post(store_stream).get(play_stored))
            .route("/v1/chat/completions", post(chat))
            .fallback_service(ServeDir::new(dir))
            .with_state(log)
            .layer(Extension(stored))
            .layer(cors)
    }

    pub fn main() {
        let mut dir = String::from(".");
        let mut port = 0u16;
        let mut max_seconds = 900u64;
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut value = || args.next().unwrap_or_default();
            match arg.as_str() {
                "--dir" => dir = value(),
                "--port" => port = value().parse().expect("--port N"),
                "--max-seconds" => max_seconds = value().parse().expect("--max-seconds N"),
                _ => {
                    eprintln!(
                        "usage: postsource-web-test-server [--dir DIR] [--port N] [--max-seconds N]\n\
                         Serves DIR and the test SSE endpoints on 127.0.0.1:N (page) and a \
                         second port (api)."
                    );
                    std::process::exit(2);
                }
            }
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        runtime.block_on(async move {
            let log = Log::default();
            let stored = Stored::default();
            let page = tokio::net::TcpListener::bind(("127.0.0.1", port))
                .await
                .expect("bind page port");
            let api = tokio::net::TcpListener::bind(("127.0.0.1", 0))
                .await
                .expect("bind api port");
            let line = json!({
                "page": format!("http://{}", page.local_addr().unwrap()),
                "api": format!("http://{}", api.local_addr().unwrap()),
            });
            println!("{line}");
            std::io::stdout().flush().ok();
            let a = axum::serve(page, app(&dir, log.clone(), stored.clone()));
            let b = axum::serve(api, app(&dir, log, stored));
            tokio::select! {
                r = a => r.expect("serve"),
                r = b => r.expect("serve"),
                _ = tokio::time::sleep(Duration::from_secs(max_seconds)) => {
                    eprintln!("postsource-web-test-server: --max-seconds reached, stopping");
                }
            }
        });
    }
}
