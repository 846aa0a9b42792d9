//! The client over HTTPS against a raw TLS server on 127.0.0.1 with a self-signed
//! certificate: refused without `danger_accept_invalid_certs`, and a body that
//! ends with the connection (no length, no chunking) ending without TLS
//! close_notify, which curl and browsers take as the end of the stream.
#![cfg(feature = "client")]

mod client_support;

use std::sync::Arc;

use postsource::client::{CloseReason, Error, ErrorKind, EventSource, Reconnect, SseItem};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

use client_support::*;

/// Serves one TLS connection per response in `responses`, each closed
/// without close_notify; returns the `https://localhost:PORT` base URL.
async fn tls_server(responses: Vec<&'static str>) -> String {
    let key = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![key.cert.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.signing_key.serialize_der())),
        )
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        for response in responses {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let Ok(mut tls) = acceptor.accept(tcp).await else {
                continue;
            };
            read_head(&mut tls).await;
            let _ = tls.write_all(response.as_bytes()).await;
            let _ = tls.flush().await;
            // Dropped without `shutdown`: the TCP connection closes with no close_notify.
            drop(tls);
        }
    });
    format!("https://localhost:{port}/")
}

/// Everything one GET without reconnection yields, `-k` or not.
async fn items_of(url: String, accept_invalid_certs: bool) -> Vec<Result<SseItem, Error>> {
    let mut source = EventSource::get(url)
        .danger_accept_invalid_certs(accept_invalid_certs)
        .reconnect(Reconnect::Never)
        .build()
        .unwrap();
    bounded(collect(&mut source, 10)).await
}

const CLOSE_DELIMITED: &str = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
    connection: close\r\n\r\ndata: one\n\ndata: two\n\ndata: cut";

#[tokio::test]
async fn a_close_delimited_body_ends_without_close_notify() {
    let items = items_of(tls_server(vec![CLOSE_DELIMITED]).await, true).await;
    assert_eq!(datas(&items), ["one", "two"], "{items:?}");
    assert!(
        matches!(terminal(&items), Ok(SseItem::Closed(CloseReason::Eof))),
        "{items:?}"
    );
}

#[tokio::test]
async fn a_chunked_body_cut_short_is_still_an_error() {
    let url = tls_server(vec![
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
         transfer-encoding: chunked\r\n\r\nb\r\ndata: one\n\n\r\n",
    ])
    .await;
    let items = items_of(url, true).await;
    assert_eq!(datas(&items), ["one"], "{items:?}");
    let Err(e) = terminal(&items) else {
        panic!("{items:?}")
    };
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
}

#[tokio::test]
async fn a_self_signed_certificate_is_refused_unless_accepted() {
    let items = items_of(tls_server(vec![CLOSE_DELIMITED]).await, false).await;
    let Err(e) = terminal(&items) else {
        panic!("{items:?}")
    };
    assert_eq!(e.kind(), ErrorKind::Connect, "{e}");
    assert!(datas(&items).is_empty(), "{items:?}");
}
