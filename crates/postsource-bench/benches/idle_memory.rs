//! Memory per open idle stream: for each client (postsource, reqwest-eventsource,
//! eventsource-client), 1,000 concurrent streams to a loopback server that sends
//! one event and then idles, measured as heap bytes (a counting global allocator)
//! and resident memory (/proc/self/statm) before and after opening them.
//!
//! Each measurement runs in its own child process (this binary again, told its
//! role by an environment variable), and so does the server, so that no client's
//! memory, and none of the server's, is counted for another. Every child is
//! bounded in time and killed if it overruns.
//!
//! Two baseline rows, `reqwest 0.13 raw body` (the HTTP stack under postsource's
//! client) and `reqwest 0.12 raw body` (the one under reqwest-eventsource), hold
//! the same 1,000 connections reading the raw body with no SSE layer, to show how
//! much of a client's figure is its HTTP stack's. Like a client, they keep only the
//! body: the response's header values are slices of the 8 KiB buffer hyper read
//! the head into, so holding them would hold that buffer too. Both reqwests are
//! built with rustls and HTTP/2, as every client here is (see Cargo.toml); rustls
//! alone makes every connection about 1.1 KB larger, `http://` ones included
//! (reqwest boxes each connection as a type with room for a TLS session).
//!
//! Run: `cargo bench -p postsource-bench --bench idle_memory` (about 10 s).

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{BufRead, BufReader, Read};
use std::ops::ControlFlow;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::ClientKind;

/// Counts live heap bytes, so a client's memory is measured exactly, not in pages.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            LIVE.fetch_add(new_size, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const STREAMS: usize = 1000;
const ROLE: &str = "POSTSOURCE_BENCH_ROLE";
/// "Must happen" bounds, generous for a loaded machine.
const OPEN_TIMEOUT: Duration = Duration::from_secs(90);
const CHILD_TIMEOUT: Duration = Duration::from_secs(150);

fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// Child role "server": serve until the parent closes our stdin.
fn server() {
    let base = common::spawn_server(1);
    println!("{base}");
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}

/// The baselines' names in the table and in the child's role.
const RAW13: &str = "reqwest 0.13 raw body";
const RAW12: &str = "reqwest 0.12 raw body";

/// A baseline: read the body's first chunk, then wait for the next one (never
/// sent), calling `on_chunk` like a client's `on_event`.
async fn raw_body13(client: &reqwest::Client, url: &str, mut on_chunk: impl FnMut()) {
    let mut response = client.get(url).send().await.expect("raw request");
    drop(std::mem::take(response.headers_mut())); // see the module docs
    while let Some(_chunk) = response.chunk().await.expect("raw body") {
        on_chunk();
    }
}

/// [`raw_body13`] on reqwest 0.12.
async fn raw_body12(client: &reqwest012::Client, url: &str, mut on_chunk: impl FnMut()) {
    let mut response = client.get(url).send().await.expect("raw request");
    drop(std::mem::take(response.headers_mut()));
    while let Some(_chunk) = response.chunk().await.expect("raw body") {
        on_chunk();
    }
}

/// Child role "client:<name>": open the streams and print one result line.
fn client(name: &str, base: &str) {
    let url = format!("{base}/idle");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let shared = reqwest012::Client::new();
    if name == RAW13 {
        let shared = reqwest::Client::new();
        return rt.block_on(measure(name, move |tx| {
            let (shared, url) = (shared.clone(), url.clone());
            async move {
                raw_body13(&shared, &url, || {
                    let _ = tx.send(());
                })
                .await
            }
        }));
    }
    if name == RAW12 {
        return rt.block_on(measure(name, move |tx| {
            let (shared, url) = (shared.clone(), url.clone());
            async move {
                raw_body12(&shared, &url, || {
                    let _ = tx.send(());
                })
                .await
            }
        }));
    }
    let client = ClientKind::from_name(name).expect("known client");
    rt.block_on(measure(name, move |tx| {
        let (shared, url) = (shared.clone(), url.clone());
        async move {
            // Report the first event, then stay open and idle.
            common::consume(client, &url, &shared, |_| {
                let _ = tx.send(());
                ControlFlow::Continue(())
            })
            .await;
        }
    }));
}

/// Opens one stream with `open` (so one-time setup such as a shared client's
/// pool is in the baseline, not in the per-stream figure), then [`STREAMS`] more
/// in their own tasks, waits until each has signalled its first event, and
/// prints `<name> <heap bytes per stream> <RSS bytes per stream>`.
async fn measure<F, Fut>(name: &str, open: F)
where
    F: Fn(tokio::sync::mpsc::UnboundedSender<()>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let first = tokio::spawn(open(tx));
    let opened = tokio::time::timeout(OPEN_TIMEOUT, rx.recv()).await;
    assert!(
        matches!(opened, Ok(Some(()))),
        "{name}: the first stream did not open"
    );
    first.abort();
    let _ = first.await;
    tokio::time::sleep(Duration::from_millis(100)).await;

    let (heap0, rss0) = (LIVE.load(Ordering::Relaxed), rss_bytes());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let tasks: Vec<_> = (0..STREAMS)
        .map(|_| tokio::spawn(open(tx.clone())))
        .collect();
    drop(tx);
    let deadline = tokio::time::Instant::now() + OPEN_TIMEOUT;
    for opened in 0..STREAMS {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(())) => {}
            _ => panic!("{name}: only {opened} of {STREAMS} streams opened in time"),
        }
    }
    // Let every connection settle into its idle read.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (heap1, rss1) = (LIVE.load(Ordering::Relaxed), rss_bytes());
    println!(
        "{name} {} {}",
        heap1.saturating_sub(heap0) / STREAMS,
        rss1.saturating_sub(rss0) / STREAMS
    );
    for task in tasks {
        task.abort();
    }
}

/// Wait for `child` at most `limit`; kill it if it overruns.
fn wait_bounded(child: &mut Child, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Ok(Some(status)) = child.try_wait() {
            return status.success();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    false
}

fn parent() {
    let exe = std::env::current_exe().expect("own path");
    let mut server = Command::new(&exe)
        .env(ROLE, "server")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start server child");
    let mut base = String::new();
    BufReader::new(server.stdout.take().expect("server stdout"))
        .read_line(&mut base)
        .expect("server address");
    let base = base.trim().to_owned();

    println!("\n{STREAMS} concurrent idle streams per client (one event each, then idle)\n");
    println!("| client | heap bytes per stream | RSS bytes per stream |\n|---|---|---|");
    let names = ClientKind::ALL.map(ClientKind::name);
    for name in names.into_iter().chain([RAW13, RAW12]) {
        let mut child = Command::new(&exe)
            .env(ROLE, format!("client:{name}"))
            .env("POSTSOURCE_BENCH_URL", &base)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start client child");
        let mut out = String::new();
        let mut stdout = child.stdout.take().expect("client stdout");
        let reader = std::thread::spawn(move || {
            let _ = stdout.read_to_string(&mut out);
            out
        });
        let ok = wait_bounded(&mut child, CHILD_TIMEOUT);
        let out = reader.join().unwrap_or_default();
        match out.split_whitespace().collect::<Vec<_>>()[..] {
            [.., heap, rss] if ok => println!("| {name} | {heap} | {rss} |"),
            _ => println!("| {name} | failed or timed out | |"),
        }
    }
    drop(server.stdin.take()); // the server exits when its stdin closes
    if !wait_bounded(&mut server, Duration::from_secs(10)) {
        eprintln!("note: the server child had to be killed");
    }
}

fn main() {
    match std::env::var(ROLE).as_deref() {
        Ok("server") => server(),
        Ok(role) if role.starts_with("client:") => {
            let base = std::env::var("POSTSOURCE_BENCH_URL").expect("POSTSOURCE_BENCH_URL");
            client(&role["client:".len()..], &base);
        }
        _ => parent(),
    }
}
