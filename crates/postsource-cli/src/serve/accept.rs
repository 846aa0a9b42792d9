//! The accept loop: every connection is served by hyper with a deadline on its
//! request heads, and drained on shutdown.
//!
//! `axum::serve` gives hyper no timer, so hyper's own head timeout never runs: a
//! client that connects and then sends nothing, or half a request head, holds its
//! connection (and its task and buffers) for as long as it likes, and a few thousand
//! such clients exhaust the server. Here each connection must send its first bytes,
//! and then each complete request head, within `head_timeout`, or it is closed. The
//! first bytes are awaited here because hyper_util's choice between HTTP/1.1 and
//! HTTP/2 (prior knowledge, as `curl --http2-prior-knowledge` speaks it) reads them
//! without a deadline of its own. A request whose head arrived may take as long as it
//! likes: an event stream is meant to stay open.

use std::io;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, sleep, timeout_at};
use tokio_util::sync::CancellationToken;

/// How long a client may take to send a request head (and its first bytes).
pub(super) const HEAD_TIMEOUT: Duration = Duration::from_secs(30);

/// What an HTTP/2 client sends first; a prefix of it may still become HTTP/2.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Serves `router` on `listener` until `stop` is cancelled, then asks every open
/// connection to finish (idle ones close at once) and waits for them.
pub(super) async fn serve(
    listener: TcpListener,
    router: Router,
    head_timeout: Duration,
    stop: CancellationToken,
) {
    let graceful = GracefulShutdown::new();
    loop {
        let stream = tokio::select! {
            () = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    pause_after(&e, &stop).await;
                    continue;
                }
            },
        };
        // Events are small writes that must go out at once, not wait for an ACK.
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let watcher = graceful.watcher();
        let stop = stop.clone();
        tokio::spawn(async move {
            let deadline = Instant::now() + head_timeout;
            let spoke = tokio::select! {
                () = stop.cancelled() => return,
                spoke = timeout_at(deadline, first_bytes(&stream)) => spoke,
            };
            if !matches!(spoke, Ok(Ok(true))) {
                return;
            }
            let mut builder = auto::Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(head_timeout);
            builder.http2().timer(TokioTimer::new());
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            // Errors are the client's (a reset, a bad head, the timeout): nothing to do.
            let _ = watcher.watch(connection).await;
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Waits until the client has sent enough to tell HTTP/1.1 from HTTP/2: the whole
/// preface, or bytes that depart from it. `false` if it closed first.
async fn first_bytes(stream: &TcpStream) -> io::Result<bool> {
    let mut buf = [0; H2_PREFACE.len()];
    loop {
        let n = stream.peek(&mut buf).await?;
        if n == 0 {
            return Ok(false);
        }
        if n == buf.len() || buf[..n] != H2_PREFACE[..n] {
            return Ok(true);
        }
        // A peek returns at once while bytes wait unread: poll the rest of a
        // preface that comes in pieces instead of spinning on it.
        sleep(Duration::from_millis(5)).await;
    }
}

/// After a failed accept: a connection that died in the backlog costs nothing, but
/// running out of file descriptors would fail every accept, so wait for some to close.
async fn pause_after(error: &io::Error, stop: &CancellationToken) {
    if matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    eprintln!("postsource serve: accept failed: {error}");
    tokio::select! {
        () = stop.cancelled() => {}
        () = sleep(Duration::from_secs(1)) => {}
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::task::JoinHandle;

    use super::*;

    const HEAD: Duration = Duration::from_millis(300);
    /// Far more than HEAD: a connection still open by then was not closed for it.
    const PATIENCE: Duration = Duration::from_secs(5);

    async fn start() -> (SocketAddr, CancellationToken, JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = Router::new().route("/", get(|| async { "hi" }));
        let stop = CancellationToken::new();
        let task = tokio::spawn(serve(listener, router, HEAD, stop.clone()));
        (addr, stop, task)
    }

    /// Reads until the server closes (a reset too: bytes the server never read make
    /// the kernel reset rather than close); what it sent, and how long that took.
    async fn until_closed(stream: &mut TcpStream) -> (String, Duration) {
        let started = Instant::now();
        let mut got = Vec::new();
        let read = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut got))
            .await
            .expect("the server kept the connection open");
        if let Err(e) = read {
            assert_eq!(e.kind(), io::ErrorKind::ConnectionReset, "{e}");
        }
        (
            String::from_utf8_lossy(&got).into_owned(),
            started.elapsed(),
        )
    }

    #[tokio::test]
    async fn a_client_that_sends_nothing_is_closed() {
        let (addr, _stop, _task) = start().await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let (got, took) = until_closed(&mut stream).await;
        assert_eq!(got, "");
        assert!(took >= HEAD - Duration::from_millis(50), "{took:?}");
    }

    #[tokio::test]
    async fn half_a_head_is_closed_in_either_protocol() {
        let (addr, _stop, _task) = start().await;
        for partial in [
            &b"GET / HTTP/1.1\r\nHost: x\r\n"[..],
            b"P",
            b"PRI * HTTP/2.0\r\n",
        ] {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            stream.write_all(partial).await.unwrap();
            let (got, _) = until_closed(&mut stream).await;
            assert!(!got.contains("200 OK"), "{got}");
        }
    }

    #[tokio::test]
    async fn a_slow_head_in_time_is_served_and_an_idle_connection_then_closed() {
        let (addr, _stop, _task) = start().await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        for byte in b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" {
            stream.write_all(&[*byte]).await.unwrap();
            sleep(Duration::from_millis(5)).await;
        }
        let (got, _) = until_closed(&mut stream).await;
        assert!(got.starts_with("HTTP/1.1 200 OK\r\n"), "{got}");
        assert!(got.ends_with("\r\n\r\nhi"), "{got}");
    }

    #[tokio::test]
    async fn speaks_http2_with_prior_knowledge() {
        let (addr, _stop, _task) = start().await;
        let client = reqwest::Client::builder()
            .http2_prior_knowledge()
            .build()
            .unwrap();
        let response = client.get(format!("http://{addr}/")).send().await.unwrap();
        assert_eq!(response.version(), reqwest::Version::HTTP_2);
        assert_eq!(response.text().await.unwrap(), "hi");
    }

    #[tokio::test]
    async fn stopping_closes_idle_connections_and_returns() {
        let (addr, stop, task) = start().await;
        let mut idle = TcpStream::connect(addr).await.unwrap();
        idle.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut head = [0; 12];
        idle.read_exact(&mut head).await.unwrap();
        assert_eq!(&head, b"HTTP/1.1 200");
        stop.cancel();
        tokio::time::timeout(HEAD, task)
            .await
            .expect("serve did not return")
            .unwrap();
        assert!(TcpStream::connect(addr).await.is_err());
    }
}
