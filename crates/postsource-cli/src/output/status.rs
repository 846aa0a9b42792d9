//! The status line on stderr in pretty mode: a spinner while connecting or waiting to
//! reconnect, then the event count and elapsed time while streaming.
//!
//! It only exists when stderr is a terminal. It is redrawn by a ticker task and by the
//! writers; anything printed to the terminal first clears it (stdout and stderr usually
//! share the screen), so the line never tears through the output.

use std::io::{self, Write};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

const FRAMES: &[&str] = &["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// What the run is doing, as shown on the line.
#[derive(Clone, Debug)]
pub enum Phase {
    /// Waiting for the response to `url`.
    Connecting(String),
    /// The stream is open.
    Streaming,
    /// Waiting until the instant, then reconnection attempt `attempt`.
    Waiting {
        /// The attempt number.
        attempt: u64,
        /// When it starts.
        until: Instant,
    },
}

struct Inner {
    styled: bool,
    url: String,
    phase: Phase,
    events: u64,
    start: Instant,
    frame: usize,
    visible: bool,
    done: bool,
}

fn events(n: u64) -> String {
    if n == 1 {
        "1 event".to_owned()
    } else {
        format!("{n} events")
    }
}

/// A handle on the status line (cheap to clone).
#[derive(Clone)]
pub struct StatusLine(Arc<Mutex<Inner>>);

impl StatusLine {
    /// A status line for a run that started at `start`, first connecting to `url`;
    /// `styled` dims it (off for NO_COLOR and `--color never`).
    pub fn new(url: &str, start: Instant, styled: bool) -> Self {
        StatusLine(Arc::new(Mutex::new(Inner {
            styled,
            url: url.to_owned(),
            phase: Phase::Connecting(url.to_owned()),
            events: 0,
            start,
            frame: 0,
            visible: false,
            done: false,
        })))
    }

    fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Redraws it every 100 ms until [`finish`](Self::finish).
    pub fn spawn_ticker(&self) {
        let line = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            loop {
                tick.tick().await;
                if line.with(|inner| inner.done) {
                    break;
                }
                line.with(|inner| inner.frame = inner.frame.wrapping_add(1));
                line.draw();
            }
        });
    }

    /// Sets what is shown.
    pub fn set_phase(&self, phase: Phase) {
        self.with(|inner| inner.phase = phase);
    }

    /// Counts an event.
    pub fn event(&self) {
        self.with(|inner| inner.events += 1);
    }

    /// Erases the line (before other output).
    pub fn clear(&self) {
        self.with(|inner| {
            if inner.visible {
                let mut err = io::stderr().lock();
                let _ = err.write_all(b"\r\x1b[2K");
                let _ = err.flush();
                inner.visible = false;
            }
        });
    }

    /// Draws the line.
    pub fn draw(&self) {
        self.with(|inner| {
            if inner.done {
                return;
            }
            let elapsed = inner.start.elapsed().as_secs_f64();
            let spinner = FRAMES[inner.frame % FRAMES.len()];
            let text = match &inner.phase {
                Phase::Connecting(url) => format!("{spinner} connecting to {url} · {elapsed:.1}s"),
                Phase::Streaming => format!("● streaming · {} · {elapsed:.1}s", events(inner.events)),
                Phase::Waiting { attempt, until } if *until <= Instant::now() => format!(
                    "{spinner} connecting to {} (attempt {attempt}) · {} · {elapsed:.1}s",
                    inner.url,
                    events(inner.events)
                ),
                Phase::Waiting { attempt, until } => {
                    let left = until.saturating_duration_since(Instant::now()).as_secs_f64();
                    format!(
                        "{spinner} reconnecting in {left:.1}s (attempt {attempt}) · {} · {elapsed:.1}s",
                        events(inner.events)
                    )
                }
            };
            let mut err = io::stderr().lock();
            if inner.styled {
                let _ = write!(err, "\r\x1b[2K\x1b[2m{text}\x1b[0m");
            } else {
                let _ = write!(err, "\r\x1b[2K{text}");
            }
            let _ = err.flush();
            inner.visible = true;
        });
    }

    /// Erases the line for good.
    pub fn finish(&self) {
        self.clear();
        self.with(|inner| inner.done = true);
    }
}
