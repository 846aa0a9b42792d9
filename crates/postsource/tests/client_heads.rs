//! Response heads that curl and browsers read, written byte for byte by a raw TCP
//! server on 127.0.0.1 (no HTTP library would send them): folded header lines, a
//! space before the colon, a thousand headers, a Content-Type parameter past ASCII,
//! and a Location that is not UTF-8.
#![cfg(feature = "client")]

mod client_support;

use postsource::client::{EventSource, Reconnect, SseItem};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

use client_support::*;

/// Answers each connection with the next of `responses` and closes it; returns the
/// base URL and a channel of the request heads it read.
async fn raw_server(
    responses: Vec<Vec<u8>>,
) -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        for response in responses {
            let Ok((mut tcp, _)) = listener.accept().await else {
                return;
            };
            let head = read_head(&mut tcp).await;
            let _ = tx.send(String::from_utf8_lossy(&head).into_owned());
            let _ = tcp.write_all(&response).await;
            let _ = tcp.shutdown().await;
        }
    });
    (format!("http://127.0.0.1:{port}"), rx)
}

fn stream_with_head(extra: &[u8]) -> Vec<u8> {
    let mut out = b"HTTP/1.1 200 OK\r\nconnection: close\r\n".to_vec();
    out.extend_from_slice(extra);
    out.extend_from_slice(b"\r\ndata: ok\n\n");
    out
}

async fn datas_of(url: String) -> Vec<String> {
    let mut source = EventSource::get(url)
        .reconnect(Reconnect::Never)
        .build()
        .unwrap();
    let items = bounded(collect(&mut source, 10)).await;
    assert!(
        matches!(terminal(&items), Ok(SseItem::Closed(_))),
        "{items:?}"
    );
    datas(&items)
}

#[tokio::test]
async fn lenient_heads_are_read() {
    let mut many = b"content-type: text/event-stream\r\n".to_vec();
    for n in 0..998 {
        many.extend_from_slice(format!("x-h{n}: {n}\r\n").as_bytes());
    }
    for head in [
        b"content-type: text/event-stream\r\nx-folded: one\r\n two\r\n".to_vec(),
        b"content-type : text/event-stream\r\n".to_vec(),
        b"content-type: text/event-stream; x=caf\xe9\r\n".to_vec(),
        many,
    ] {
        let (url, _) = raw_server(vec![stream_with_head(&head)]).await;
        assert_eq!(
            datas_of(url).await,
            ["ok"],
            "{}",
            String::from_utf8_lossy(&head[..head.len().min(80)])
        );
    }
}

#[tokio::test]
async fn a_location_that_is_not_utf8_is_followed_percent_encoded() {
    let (url, mut heads) = raw_server(vec![
        b"HTTP/1.1 302 Found\r\nlocation: /caf\xe9\r\ncontent-length: 0\r\n\r\n".to_vec(),
        stream_with_head(b"content-type: text/event-stream\r\n"),
    ])
    .await;
    assert_eq!(datas_of(url).await, ["ok"]);
    heads.recv().await.unwrap();
    let second = heads.recv().await.unwrap();
    assert!(second.starts_with("GET /caf%E9 HTTP/1.1"), "{second}");
}
