//! Shared fixtures for the client tests: real axum servers on 127.0.0.1 with
//! scripted bodies (chunks, pauses, stalls, abrupt failures), a request log, and
//! probes that observe the client hanging up. No HTTP is mocked.
#![allow(dead_code, reason = "each test file uses a different subset")]

use std::collections::VecDeque;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use futures::Stream;
use postsource::client::{Error, EventSource, SseItem};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// Generous bound for things that must happen (a loaded 2-core machine).
pub const MUST: Duration = Duration::from_secs(10);

/// A running axum server; dropping it stops accepting (open connections are
/// ended by their handlers' scripts).
pub struct TestServer {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl TestServer {
    pub async fn start(app: Router) -> Self {
        Self::start_at(app, "127.0.0.1:0".parse().unwrap()).await
    }

    pub async fn start_at(app: Router, addr: SocketAddr) -> Self {
        // SO_REUSEADDR, so a "restarted" server can take its old port back.
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        socket.bind(addr).expect("bind 127.0.0.1");
        let listener: TcpListener = socket.listen(128).unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        TestServer { addr, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Stop listening (new connections are refused).
    pub async fn stop(mut self) {
        self.task.abort();
        let _ = (&mut self.task).await;
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One step of a scripted response body.
#[derive(Clone, Debug)]
pub enum Step {
    /// Write these bytes as one chunk.
    Send(&'static str),
    /// Write these bytes one byte per write.
    Drip(&'static str),
    /// Pause.
    Sleep(u64),
    /// Write `:\n` every this many ms, forever (a live but quiet stream).
    KeepAlive(u64),
    /// Write these bytes every this many ms, forever.
    Repeat(&'static str, u64),
    /// Write nothing, forever (a stalled stream).
    Stall,
    /// Fail the body: the connection is cut without a clean end. (After a short
    /// pause: hyper drops unflushed writes when a body fails.)
    Cut,
}

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The requests a server received, in order.
#[derive(Clone, Default)]
pub struct Log(Arc<Mutex<Vec<Seen>>>);

impl Log {
    pub async fn record(&self, req: Request) -> Seen {
        let (parts, body) = req.into_parts();
        let body = axum::body::to_bytes(body, 1 << 20)
            .await
            .unwrap_or_default();
        let seen = Seen {
            method: parts.method.to_string(),
            path: parts.uri.path().to_string(),
            headers: parts.headers,
            body,
        };
        self.0.lock().unwrap().push(seen.clone());
        seen
    }

    pub fn all(&self) -> Vec<Seen> {
        self.0.lock().unwrap().clone()
    }

    /// Record and return the request's index (0 for the first).
    pub async fn next(&self, req: Request) -> (usize, Seen) {
        let seen = self.record(req).await;
        (self.count() - 1, seen)
    }

    pub fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

/// Observes the end of a response body on the server: hyper drops the body when
/// the client goes away (or when the script ends).
#[derive(Clone, Default)]
pub struct Probe(Arc<ProbeInner>);

#[derive(Default)]
struct ProbeInner {
    started: AtomicUsize,
    ended: AtomicUsize,
    notify: Notify,
}

pub struct ProbeGuard(Probe);

impl Drop for ProbeGuard {
    fn drop(&mut self) {
        (self.0).0.ended.fetch_add(1, Ordering::SeqCst);
        (self.0).0.notify.notify_waiters();
    }
}

impl Probe {
    pub fn guard(&self) -> ProbeGuard {
        self.0.started.fetch_add(1, Ordering::SeqCst);
        self.0.notify.notify_waiters();
        ProbeGuard(self.clone())
    }

    pub fn started(&self) -> usize {
        self.0.started.load(Ordering::SeqCst)
    }

    pub fn ended(&self) -> usize {
        self.0.ended.load(Ordering::SeqCst)
    }

    /// Wait (bounded) until `f` holds.
    pub async fn wait(&self, f: impl Fn(&Probe) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + MUST;
        loop {
            let notified = self.0.notify.notified();
            if f(self) {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return f(self);
            }
        }
    }
}

/// A body that plays `steps`, holding `guard` until it is dropped.
pub fn script_body(steps: Vec<Step>, guard: Option<ProbeGuard>) -> Body {
    Body::from_stream(script(steps, guard))
}

fn script(
    steps: Vec<Step>,
    guard: Option<ProbeGuard>,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send {
    let steps: VecDeque<Step> = steps
        .into_iter()
        .flat_map(|s| match s {
            Step::Drip(text) => text
                .bytes()
                .map(|b| Step::Send(byte_str(b)))
                .collect::<Vec<_>>(),
            other => vec![other],
        })
        .collect();
    futures::stream::unfold((steps, guard), |(mut steps, guard)| async move {
        loop {
            match steps.pop_front()? {
                Step::Send(text) => {
                    return Some((Ok(Bytes::from_static(text.as_bytes())), (steps, guard)));
                }
                Step::Sleep(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
                Step::KeepAlive(ms) => steps.push_front(Step::Repeat(":\n", ms)),
                Step::Repeat(text, ms) => {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    steps.push_front(Step::Repeat(text, ms));
                    return Some((Ok(Bytes::from_static(text.as_bytes())), (steps, guard)));
                }
                Step::Stall => std::future::pending::<()>().await,
                Step::Cut => {
                    tokio::time::sleep(Duration::from_millis(30)).await;
                    return Some((Err(std::io::Error::other("cut")), (steps, guard)));
                }
                Step::Drip(_) => unreachable!("expanded above"),
            }
        }
    })
}

fn byte_str(b: u8) -> &'static str {
    const ASCII: &str = "\0\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\x7f";
    assert!(b < 128, "Drip takes ASCII");
    &ASCII[b as usize..b as usize + 1]
}

/// An SSE response playing `steps`.
pub fn sse(steps: Vec<Step>, guard: Option<ProbeGuard>) -> Response {
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .body(script_body(steps, guard))
        .unwrap()
}

/// Any response.
pub fn respond(status: u16, content_type: &str, body: &'static str) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = StatusCode::from_u16(status).unwrap();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type).unwrap(),
    );
    r
}

/// Collect every item until the stream ends, failing the test if it takes longer
/// than [`MUST`] or yields more than `max` items.
pub async fn collect(source: &mut EventSource, max: usize) -> Vec<Result<SseItem, Error>> {
    let mut items = Vec::new();
    let run = async {
        while let Some(item) = source.next().await {
            items.push(item);
            assert!(items.len() <= max, "more than {max} items: {items:?}");
        }
    };
    tokio::time::timeout(MUST, run)
        .await
        .expect("the stream ended in time");
    // After the end: None forever.
    assert!(source.next().await.is_none());
    items
}

/// The data of the events among `items`.
pub fn datas(items: &[Result<SseItem, Error>]) -> Vec<String> {
    items
        .iter()
        .filter_map(|i| match i {
            Ok(SseItem::Event(e)) => Some(e.data.to_string()),
            _ => None,
        })
        .collect()
}

/// The terminal item (the last one), checking there is exactly one.
pub fn terminal(items: &[Result<SseItem, Error>]) -> &Result<SseItem, Error> {
    let terminals = items
        .iter()
        .filter(|i| matches!(i, Ok(SseItem::Closed(_)) | Err(_)))
        .count();
    assert_eq!(terminals, 1, "exactly one terminal item: {items:?}");
    items.last().unwrap()
}

/// Run a future with the [`MUST`] bound.
pub async fn bounded<T>(f: impl Future<Output = T>) -> T {
    tokio::time::timeout(MUST, f).await.expect("in time")
}

/// Reads a request head, up to its blank line (or the end), from a raw
/// connection: for the servers that write their responses byte for byte.
pub async fn read_head(io: &mut (impl tokio::io::AsyncRead + Unpin)) -> Vec<u8> {
    use tokio::io::AsyncReadExt;
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match io.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    head
}
