//! Fetching a stream: checked arguments → `postsource::client::EventSource` → sinks,
//! and the exit status.
//!
//! The client does the protocol (reconnection, Last-Event-ID, `retry:`, timeouts,
//! limits, `--until-data`); this module only maps options onto its builder, turns
//! its items into output [`Item`]s, and adds what belongs to a process: `-n` (count,
//! then close), SIGINT (close, a `close` line with reason `aborted`, exit 130 at
//! once, whatever the phase), and the exit codes of the contract.

use std::io::{self, IsTerminal, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use postsource::client::{CloseReason, Error, ErrorKind, EventSource, Reconnect, SseItem};

use crate::args::{ClientArgs, ReconnectArg};
use crate::output::{
    self, Close, ColorChoice, Failure, Item, Mode, Open, Sink, StatusLine, Verbose,
};
use crate::record::Recorder;
use crate::request::{Body, Spec};

/// Delivers SIGINT as a future that can be raced against everything else. Created
/// first thing, so Ctrl-C is ours (not the default "terminate") from the start.
pub struct Interrupt {
    #[cfg(unix)]
    signal: tokio::signal::unix::Signal,
}

impl Interrupt {
    /// Takes over SIGINT.
    pub fn install() -> io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Interrupt {
                signal: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Interrupt {})
        }
    }

    /// Resolves on the next SIGINT.
    pub async fn recv(&mut self) {
        #[cfg(unix)]
        {
            self.signal.recv().await;
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Everything a run writes to, in order: the output mode, `-v`, `--record`.
struct Sinks {
    sinks: Vec<Box<dyn Sink>>,
    status: Option<StatusLine>,
}

impl Sinks {
    /// Writes `item` everywhere. `Err` means stdout is gone (e.g. a closed pipe).
    fn emit(&mut self, item: &Item) -> io::Result<()> {
        for sink in &mut self.sinks {
            sink.write(item)?;
        }
        if matches!(item, Item::Close(_)) {
            if let Some(status) = &self.status {
                status.finish();
            }
        }
        Ok(())
    }

    /// Writes the final `close` line and returns the exit status that goes with it.
    fn close(&mut self, reason: Close) -> i32 {
        match self.emit(&Item::Close(reason)) {
            Ok(()) => reason.exit_code(),
            Err(e) => write_failed(&e, reason.exit_code()),
        }
    }
}

/// Stdout closed under us (`| head`): stop quietly, as other Unix tools do.
fn write_failed(e: &io::Error, code: i32) -> i32 {
    if e.kind() == io::ErrorKind::BrokenPipe {
        code
    } else {
        eprintln!("postsource: cannot write output: {e}");
        1
    }
}

/// The contract's error line for a client error.
fn failure(e: &Error) -> Failure {
    let kind = match e.kind() {
        ErrorKind::Connect => "connect",
        ErrorKind::Timeout => "timeout",
        ErrorKind::IdleTimeout => "idle_timeout",
        ErrorKind::ContentType => "content_type",
        ErrorKind::TooLarge => "too_large",
        // A redirect that cannot be followed is a 3xx response that did not open.
        ErrorKind::Status | ErrorKind::Redirect => "status",
        _ => "io",
    };
    let responded = e.status().is_some();
    let mut message = with_causes(e);
    // rustls names the problem (UnknownIssuer, BadSignature, ...), not the way out.
    if e.kind() == ErrorKind::Connect && message.contains("certificate") {
        message.push_str(" (to accept it anyway: -k/--insecure)");
    }
    Failure {
        kind,
        message,
        status: e.status().map(|s| s.as_u16()),
        body: if responded {
            Some(e.body().unwrap_or("").to_owned())
        } else {
            None
        },
        headers: e.headers().map(header_list).unwrap_or_default(),
    }
}

/// The error and every cause under it on one line, `error: cause: cause`: the
/// library's `Display` is the error alone (its causes are its `source`), and a
/// person reading the error line wants the whole story.
fn with_causes(e: &Error) -> String {
    let mut line = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        line.push_str(": ");
        line.push_str(&c.to_string());
        cause = c.source();
    }
    line
}

fn open_item(status: http::StatusCode, headers: &http::HeaderMap, url: &url::Url) -> Item {
    Item::Open(Open {
        status: status.as_u16(),
        url: url.as_str().to_owned(),
        headers: header_list(headers),
    })
}

/// Names lowercase, values as lossy UTF-8, in the order received.
fn header_list(headers: &http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// Reads the whole of stdin on a plain thread (so an interrupted run never waits
/// for it to finish).
async fn read_stdin() -> io::Result<Bytes> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let result = io::stdin()
            .lock()
            .read_to_end(&mut buf)
            .map(|_| Bytes::from(buf));
        let _ = tx.send(result);
    });
    rx.await
        .unwrap_or_else(|_| Err(io::Error::other("stdin reader stopped")))
}

/// Options of a run that are not part of the request.
pub struct Settings {
    /// The output mode.
    pub mode: Mode,
    /// Writer options.
    pub output: output::Options,
}

impl Settings {
    /// From the arguments: pretty by default, colour only on a terminal.
    pub fn from_args(args: &ClientArgs) -> Self {
        let mode = args.output.unwrap_or(Mode::Pretty);
        Settings {
            mode,
            output: output::Options {
                include: args.include,
                color: mode == Mode::Pretty && args.color.enabled(),
                status_line: mode == Mode::Pretty && io::stderr().is_terminal(),
                status_styled: args.color == ColorChoice::Always
                    || (args.color == ColorChoice::Auto && !output::no_color_env()),
            },
        }
    }
}

/// Runs the request in `spec` and returns the exit status.
pub async fn run(
    args: &ClientArgs,
    spec: Spec,
    settings: Settings,
    interrupt: &mut Interrupt,
) -> i32 {
    let start = Instant::now();
    let status = settings.output.status_line.then(|| {
        StatusLine::new(
            spec.shown_url().as_str(),
            start,
            settings.output.status_styled,
        )
    });
    let mut sinks = Sinks {
        sinks: vec![output::for_mode(
            settings.mode,
            &settings.output,
            status.clone(),
        )],
        status: status.clone(),
    };
    if args.verbose {
        let verbose = Verbose::new(status.clone(), args.resume_with_get);
        verbose.request(
            spec.method.as_str(),
            spec.shown_url().as_str(),
            &spec.shown_headers(),
        );
        sinks.sinks.push(Box::new(verbose));
    }
    if let Some(path) = &args.record {
        match Recorder::create(path, spec.method.as_str(), spec.shown_url().as_str(), start) {
            Ok(recorder) => sinks.sinks.push(Box::new(recorder)),
            Err(e) => {
                eprintln!("postsource: --record {}: {e}", path.display());
                return 2;
            }
        }
    }

    let body = match &spec.body {
        None => None,
        Some(Body::Bytes(bytes)) => Some(bytes.clone()),
        Some(Body::Stdin) => tokio::select! {
            read = read_stdin() => match read {
                Ok(bytes) => Some(bytes),
                Err(e) => {
                    eprintln!("postsource: cannot read the body from stdin: {e}");
                    return 2;
                }
            },
            () = interrupt.recv() => return sinks.close(Close::Aborted),
        },
    };

    let broken_pipe = Arc::new(AtomicBool::new(false));
    let mut source = match build_source(args, &spec, body, settings.mode, &broken_pipe) {
        Ok(source) => source,
        Err(e) => {
            eprintln!("postsource: {e}");
            return 2;
        }
    };
    let close = source.close_handle();
    if let Some(status) = &status {
        status.spawn_ticker();
    }

    let mut events = 0u64;
    loop {
        let item = tokio::select! {
            biased;
            () = interrupt.recv() => {
                close.close();
                return sinks.close(Close::Aborted);
            }
            item = source.next() => item,
        };
        if broken_pipe.load(Ordering::Relaxed) {
            close.close();
            return 0;
        }
        let out = match item {
            Some(Ok(SseItem::Open {
                status,
                headers,
                url,
            })) => open_item(status, &headers, &url),
            Some(Ok(SseItem::Event(event))) => {
                events += 1;
                if let Err(e) = sinks.emit(&Item::Event(event)) {
                    close.close();
                    return write_failed(&e, 0);
                }
                if args.max_events == Some(events) {
                    close.close();
                    return sinks.close(Close::MaxEvents);
                }
                continue;
            }
            Some(Ok(SseItem::Comment(text))) => Item::Comment(text.to_string()),
            Some(Ok(SseItem::Retry(delay))) => Item::Retry(delay.as_millis() as u64),
            Some(Ok(SseItem::Reconnecting { attempt, delay })) => Item::Reconnect {
                attempt: u64::from(attempt),
                delay_ms: delay.as_millis() as u64,
            },
            Some(Ok(SseItem::Closed(reason))) => {
                return sinks.close(match reason {
                    CloseReason::Eof => Close::Eof,
                    CloseReason::NoContent => Close::NoContent,
                    CloseReason::UntilData => Close::UntilData,
                    CloseReason::Aborted => Close::Aborted,
                });
            }
            Some(Err(e)) => {
                if let Err(e) = sinks.emit(&Item::Error(failure(&e))) {
                    return write_failed(&e, 1);
                }
                return sinks.close(Close::Error);
            }
            // The client always ends with a terminal item; treat silence the same.
            None => return sinks.close(Close::Eof),
        };
        if let Err(e) = sinks.emit(&out) {
            close.close();
            return write_failed(&e, 0);
        }
    }
}

fn build_source(
    args: &ClientArgs,
    spec: &Spec,
    body: Option<Bytes>,
    mode: Mode,
    broken_pipe: &Arc<AtomicBool>,
) -> Result<EventSource, String> {
    let mut builder = EventSource::new(spec.method.clone(), spec.url.as_str());
    for (name, value) in &spec.headers {
        builder = builder.header(name.clone(), value.clone());
    }
    if spec.json && !spec.has_header("content-type") {
        builder = builder.header(http::header::CONTENT_TYPE, "application/json");
    }
    // The HTTP client decodes gzip/brotli/deflate whenever it is built with them, and
    // then asks for them on every request; like curl, only --compressed should.
    if !spec.compressed && !spec.has_header("accept-encoding") {
        builder = builder.header(http::header::ACCEPT_ENCODING, "identity");
    }
    if let Some(body) = body {
        builder = builder.body(body);
    }
    if let Some(id) = &spec.last_event_id {
        builder = builder.last_event_id(id.clone());
    }
    builder = builder.reconnect(match args.reconnect {
        ReconnectArg::Auto => Reconnect::Auto,
        ReconnectArg::Always => Reconnect::Always,
        ReconnectArg::Never => Reconnect::Never,
    });
    if let Some(n) = args.max_retries {
        builder = builder.max_retries(n);
    }
    if let Some(ms) = args.retry {
        builder = builder.retry(Duration::from_millis(ms));
    }
    if args.resume_with_get {
        builder = builder.reconnect_request(|req| req.into_get());
    }
    if let Some(limit) = args.timeout {
        builder = builder.timeout(limit);
    }
    if let Some(limit) = args.connect_timeout {
        builder = builder.connect_timeout(limit);
    }
    if let Some(limit) = args.idle_timeout {
        builder = builder.idle_timeout(limit);
    }
    if let Some(size) = args.max_event_size {
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        builder = builder.max_event_size(size);
        // One data line may be as large as the event allows, plus "data: ".
        let line = size
            .saturating_add(16)
            .max(postsource::parse::DEFAULT_MAX_LINE_LEN);
        builder = builder.max_line_len(line);
    }
    if let Some(text) = &args.until_data {
        builder = builder.until_data(text.clone());
    }
    // Comments are shown in pretty and raw output and kept in recordings.
    builder = builder.comments(matches!(mode, Mode::Pretty | Mode::Raw) || args.record.is_some());
    if mode == Mode::Raw {
        // The bytes go out the moment they are read, before they are parsed.
        let broken = broken_pipe.clone();
        builder = builder.on_bytes(move |bytes: &Bytes| {
            let mut out = io::stdout().lock();
            if out.write_all(bytes).and_then(|()| out.flush()).is_err() {
                broken.store(true, Ordering::Relaxed);
            }
        });
    }
    builder = builder
        .danger_accept_invalid_certs(args.insecure)
        .compressed(args.compressed);
    builder.build().map_err(|e| with_causes(&e))
}
