//! `postsource serve`: a local SSE server for building and testing clients.
//!
//! It owns the router, CORS, the per-request log on stderr and graceful shutdown;
//! `accept` serves the listener on 127.0.0.1, with a deadline on request heads.
//! Each endpoint family lives in its own module (`echo`; `chat`, `responses` and
//! `messages`, the simulated `model` in the shapes of OpenAI's two APIs and
//! Anthropic's; `mcp`, a Model Context Protocol server; `ticks`, `replay`,
//! `testing`); `sse` is the one place that turns a stream of encoded events into a
//! response, so keep-alive comments, shutdown and the "client went away" log line
//! behave the same on every endpoint; `body` bounds request bodies, and `signals`
//! catches the signals that stop the server. The server is also started in-process
//! by `postsource demo` and by the tests, which is why
//! [`start`] returns a handle instead of blocking.

mod accept;
mod body;
mod chat;
mod echo;
mod mcp;
mod messages;
mod model;
mod replay;
mod responses;
mod signals;
mod sse;
mod testing;
mod ticks;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tower_http::cors::{AllowHeaders, AllowMethods, AllowOrigin, CorsLayer};
use tower_http::services::ServeDir;

use crate::record::Recording;

/// The port `postsource serve` listens on when `--port` is not given.
pub const DEFAULT_PORT: u16 = 8080;

/// What the server needs to know; built from `postsource serve` options or by `demo`.
#[derive(Clone, Debug)]
pub struct Config {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Delay between simulated LLM tokens.
    pub pace: Duration,
    /// Send `: keep-alive` after this long without writing on a stream.
    pub keep_alive: Duration,
    /// A recording to play back at `/replay`.
    pub replay: Option<PathBuf>,
    /// Playback speed factor for the recording (0 = no delays).
    pub speed: f64,
    /// A folder of static files served at `/` (the browser demo page).
    pub web: Option<PathBuf>,
    /// No request log on stderr (used by `demo`).
    pub quiet: bool,
}

/// Shared state of every handler.
pub(crate) struct App {
    pace: Duration,
    keep_alive: Duration,
    replay: Option<Arc<Recording>>,
    speed: f64,
    quiet: bool,
    shutdown: CancellationToken,
    next_id: AtomicU64,
    mcp: mcp::Sessions,
}

/// Who a request was, for the log line its response writes when it ends.
#[derive(Clone, Debug)]
pub(crate) struct ReqInfo {
    id: u64,
    method: Method,
    target: String,
}

impl App {
    fn log(&self, line: std::fmt::Arguments<'_>) {
        if !self.quiet {
            eprintln!("{line}");
        }
    }
}

/// A running server: its address, and the way to stop it.
pub struct Server {
    /// The bound address (useful with port 0).
    pub addr: SocketAddr,
    shutdown: CancellationToken,
    task: JoinHandle<()>,
}

impl Server {
    /// Ends every stream, stops accepting, and waits (at most `grace`) for the
    /// connections to drain.
    pub async fn shutdown(self, grace: Duration) {
        self.shutdown.cancel();
        let _ = tokio::time::timeout(grace, self.task).await;
    }
}

/// Paths served by the built-in routes (a replayed recording's own path may not clash).
const BUILTIN_PATHS: &[&str] = &[
    "/",
    "/echo",
    "/ticks",
    "/replay",
    "/v1/chat/completions",
    "/v1/messages",
    "/v1/responses",
    "/v1/models",
    "/mcp",
];

/// Binds 127.0.0.1:`port` and serves in a background task.
pub async fn start(config: Config) -> Result<Server, String> {
    let replay = match &config.replay {
        Some(path) => Some(Arc::new(Recording::load(path)?)),
        None => None,
    };
    if let Some(dir) = &config.web
        && !dir.is_dir()
    {
        return Err(format!("--web {}: not a directory", dir.display()));
    }
    let shutdown = CancellationToken::new();
    let app = Arc::new(App {
        pace: config.pace,
        keep_alive: config.keep_alive,
        replay: replay.clone(),
        speed: config.speed,
        quiet: config.quiet,
        shutdown: shutdown.clone(),
        next_id: AtomicU64::new(1),
        mcp: mcp::Sessions::default(),
    });
    let router = router(app, replay.as_deref(), config.web.as_ref());
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, config.port))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", config.port))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let task = tokio::spawn(accept::serve(
        listener,
        router,
        accept::HEAD_TIMEOUT,
        shutdown.clone(),
    ));
    Ok(Server {
        addr,
        shutdown,
        task,
    })
}

fn router(app: Arc<App>, replay: Option<&Recording>, web: Option<&PathBuf>) -> Router {
    let mut router = Router::new()
        .route("/echo", any(echo::echo))
        .route("/ticks", any(ticks::ticks))
        .route(
            "/v1/chat/completions",
            post(chat::completions).fallback(chat::wrong_method),
        )
        .route(
            "/v1/messages",
            post(messages::messages).fallback(messages::wrong_method),
        )
        .route(
            "/v1/responses",
            post(responses::responses).fallback(chat::wrong_method),
        )
        .route("/v1/models", get(model::models))
        .route("/v1/models/{id}", get(model::model))
        .route("/mcp", any(mcp::mcp))
        .route("/replay", any(replay::replay))
        .route("/test/status/{code}", any(testing::status))
        .route("/test/no-content", any(testing::no_content))
        .route("/test/content-type", any(testing::content_type))
        .route("/test/redirect", any(testing::redirect))
        .route("/test/drip", any(testing::drip))
        .route("/test/close-mid-event", any(testing::close_mid_event))
        .route("/test/abort", any(testing::abort))
        .route("/test/large", any(testing::large))
        .route("/test/stall", any(testing::stall))
        .route("/test/slow", any(testing::slow))
        .route("/test/events", any(testing::events));
    if let Some(path) = replay.and_then(Recording::path)
        && path.starts_with('/')
        && !path.starts_with("/test/")
        && !BUILTIN_PATHS.contains(&path.as_str())
        && !path.contains(['{', '}', '*', ':'])
    {
        router = router.route(&path, any(replay::replay));
    }
    router = match web {
        Some(dir) => {
            router.fallback_service(ServeDir::new(dir).append_index_html_on_directories(true))
        }
        None => router.route("/", get(index)).fallback(|| async {
            testing::json_error(
                StatusCode::NOT_FOUND,
                "no such endpoint; see `postsource serve --help`",
            )
        }),
    };
    router
        .layer(DefaultBodyLimit::max(body::MAX_BODY))
        .layer(middleware::from_fn_with_state(app.clone(), log_requests))
        .layer(cors())
        .with_state(app)
}

/// Browsers may call every endpoint from any origin, with credentials, any method and
/// any request header, and may read the response headers a client cares about.
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_methods(AllowMethods::mirror_request())
        .allow_headers(AllowHeaders::mirror_request())
        .allow_credentials(true)
        .expose_headers([
            header::CONTENT_TYPE,
            header::CACHE_CONTROL,
            header::LOCATION,
            HeaderName::from_static("x-request-id"),
            HeaderName::from_static("mcp-session-id"),
        ])
        .max_age(Duration::from_secs(600))
}

/// Numbers each request, hands its identity to the handler, and logs the responses
/// that are not event streams (streams log themselves when they end).
async fn log_requests(State(app): State<Arc<App>>, mut req: Request, next: Next) -> Response {
    let info = ReqInfo {
        id: app.next_id.fetch_add(1, Ordering::Relaxed),
        method: req.method().clone(),
        target: req
            .uri()
            .path_and_query()
            .map_or_else(|| req.uri().path().to_owned(), |p| p.as_str().to_owned()),
    };
    req.extensions_mut().insert(info.clone());
    let mut response = next.run(req).await;
    let is_stream = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    if is_stream {
        app.log(format_args!(
            "#{} {} {} {} streaming",
            info.id,
            info.method,
            info.target,
            response.status().as_u16()
        ));
    } else {
        app.log(format_args!(
            "#{} {} {} {}",
            info.id,
            info.method,
            info.target,
            response.status().as_u16()
        ));
    }
    if let Ok(v) = HeaderValue::from_str(&info.id.to_string()) {
        response.headers_mut().insert("x-request-id", v);
    }
    response
}

/// A text index of the endpoints, when no `--web` folder takes `/`.
async fn index() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        crate::args::SERVE_ENDPOINTS,
    )
}

/// `postsource serve`: listen, print the address, run until Ctrl-C or SIGTERM.
pub async fn run(config: Config) -> i32 {
    let mut stop = match signals::Stop::listen() {
        Ok(stop) => stop,
        Err(e) => {
            eprintln!("postsource serve: cannot watch for signals: {e}");
            return 1;
        }
    };
    let server = match start(config).await {
        Ok(server) => server,
        Err(e) => {
            eprintln!("postsource serve: {e}");
            return 1;
        }
    };
    // The first stdout line is the contract with scripts that start us with --port 0.
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on http://{}", server.addr);
        let _ = out.flush();
    }
    eprintln!(
        "postsource serve: endpoints on http://{0}: /echo /ticks /v1/chat/completions /v1/responses /v1/messages /mcp /replay /test/... (Ctrl-C to stop)",
        server.addr
    );
    if stop.next().await.is_none() {
        return 1;
    }
    eprintln!("postsource serve: shutting down");
    // A second signal while draining quits at once, as that signal would.
    tokio::select! {
        () = server.shutdown(Duration::from_secs(3)) => 0,
        Some(code) = stop.next() => code,
    }
}
