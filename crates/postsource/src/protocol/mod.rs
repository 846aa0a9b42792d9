//! The connection policy of an event source, as a sans-IO state machine.
//!
//! [`Session`] owns every rule the native client and the browser build must agree
//! on: which response opens the stream ([`check_response`]), when to reconnect
//! ([`Reconnect`]: `Auto` never re-sends a POST that has no event id to resume
//! from), how long to wait (the reconnection time, server `retry:`, backoff with
//! jitter, a cap), when to give up (attempts in a row without an event, elapsed
//! time), the last event id, the end-of-data sentinel, parser limits, and the
//! response, idle, event and total timeouts.
//!
//! It does no I/O and reads no clock, in the shape of `quinn-proto`: the shell
//! feeds it what happened (a response head, body bytes, the connection ending,
//! `now` in milliseconds from any fixed origin) and polls it for what to do
//! ([`Output`]: send a request, deliver an event, wait and reconnect, stop), plus
//! the single earliest deadline ([`Session::poll_timeout`]) at which to call
//! [`Session::handle_timeout`]. So every rule is tested here with explicit time.
//!
//! ```
//! use postsource::protocol::{Config, Output, Session, Verdict};
//!
//! let mut s = Session::new(Config::for_method("GET"), 0);
//! assert!(matches!(s.poll(), Some(Output::Connect { attempt: 0, .. })));
//! assert_eq!(s.on_response(5, 200, Some("text/event-stream"), None), Verdict::Open);
//! s.on_bytes(6, "id: 7\ndata: hi\n\n".into());
//! let Some(Output::Event(ev)) = s.poll() else { panic!() };
//! assert_eq!((&*ev.data, &*ev.last_event_id), ("hi", "7"));
//! s.connection_lost(10, postsource::protocol::Interruption::Eof);
//! assert!(matches!(s.poll(), Some(Output::Reconnecting { attempt: 1, delay_ms: 3000, .. })));
//! assert_eq!(s.poll_timeout(), Some(3010));
//! s.handle_timeout(3010);
//! let Some(Output::Connect { attempt: 1, last_event_id }) = s.poll() else { panic!() };
//! assert_eq!(last_event_id, "7");
//! ```

mod backoff;
mod config;
mod response;
#[cfg(test)]
mod tests;

use alloc::collections::VecDeque;

use bytes::Bytes;

pub use config::{Config, DEFAULT_MAX_DELAY_MS, DEFAULT_RETRY_MS, Reconnect, ResumeState};
use config::{NEVER, Policy, finite};
pub use response::{Verdict, check_response, is_event_stream, is_idempotent, parse_retry_after};

use crate::{Event, Frame, ParseError, Parser, Utf8Bytes};

/// What the shell should do or deliver next, from [`Session::poll`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Send the request now. `attempt` is 0 for the first request and counts
    /// reconnection attempts in a row after that; send `Last-Event-ID:
    /// last_event_id` when it is not empty.
    Connect {
        /// 0 for the first request, then the reconnection attempt number.
        attempt: u32,
        /// The last event id to resume from ("" for none).
        last_event_id: Utf8Bytes,
    },
    /// A dispatched event, for the user.
    Event(Event),
    /// A comment line (only with [`Config::comments`]).
    Comment(Utf8Bytes),
    /// The server set the reconnection time (ms).
    Retry(u64),
    /// The connection is gone; a new request follows after `delay_ms` (as
    /// [`Output::Connect`], when [`Session::handle_timeout`] reaches it).
    Reconnecting {
        /// The reconnection attempt this wait leads to (1 = first).
        attempt: u32,
        /// The wait, in milliseconds.
        delay_ms: u64,
        /// Why the previous connection ended.
        after: Interruption,
    },
    /// With [`Reconnect::Ask`]: the connection is gone; answer with
    /// [`Session::answer_reconnect`].
    AskReconnect(ReconnectInfo),
    /// Terminal: the stream ended normally. Nothing follows.
    Closed(End),
    /// Terminal: the stream failed. Nothing follows.
    Failed(Failure),
}

/// How a stream ended normally.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// The server ended the stream and the policy does not reconnect.
    Eof,
    /// The server answered 204 No Content.
    NoContent,
    /// An event's data equalled [`Config::until_data`].
    UntilData,
    /// [`Session::close`] was called.
    Aborted,
}

/// Why a connection ended (the inputs of the reconnection decision).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interruption {
    /// The response body ended (clean or mid-event: the partial event is dropped).
    Eof,
    /// The connection could not be made (refused, DNS, TLS).
    Connect,
    /// Connecting took longer than the shell's connect timeout.
    ConnectTimeout,
    /// The connection failed while sending or reading.
    Io,
    /// No response head within [`Config::response_timeout_ms`].
    ResponseTimeout,
    /// No bytes within [`Config::idle_timeout_ms`].
    IdleTimeout,
    /// No event within [`Config::event_timeout_ms`].
    EventTimeout,
    /// 429 or 503 with [`Config::retry_unavailable`].
    Unavailable {
        /// The status.
        status: u16,
    },
}

/// Why a stream failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// A status other than 200 and 204. The shell adds headers and body.
    Status {
        /// The status.
        status: u16,
    },
    /// A 200 whose content type is not `text/event-stream`.
    ContentType,
    /// The server went over a parser limit.
    TooLarge(ParseError),
    /// The connection ended and the policy does not reconnect.
    Interrupted(Interruption),
    /// Reconnection attempts were used up.
    GaveUp {
        /// Why the last connection ended.
        last: Interruption,
        /// Reconnection attempts made in a row.
        attempts: u32,
        /// Which limit was reached.
        limit: Limit,
    },
    /// [`Config::total_timeout_ms`] passed.
    TotalTimeout,
}

/// The limit that ended reconnecting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// [`Config::max_retries`].
    MaxRetries,
    /// [`Config::max_elapsed_ms`].
    MaxElapsed,
}

/// What a [`Reconnect::Ask`] decision is based on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReconnectInfo {
    /// Why the connection ended.
    pub after: Interruption,
    /// The attempt a reconnection would be (1 = first).
    pub attempt: u32,
    /// The last event id ("" for none).
    pub last_event_id: Utf8Bytes,
    /// What [`Reconnect::Auto`] would decide.
    pub auto: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// A request is out; waiting for its response head.
    Connecting { since: u64 },
    /// Reading the event stream.
    Open { last_byte: u64, last_event: u64 },
    /// Waiting to reconnect.
    Waiting { until: u64 },
    /// Waiting for [`Session::answer_reconnect`].
    Asking { after: Interruption },
    /// A terminal output was queued.
    Done,
}

/// The state machine of one event source. See the [module docs](self).
#[derive(Debug)]
pub struct Session {
    policy: Policy,
    parser: Parser,
    phase: Phase,
    out: VecDeque<Output>,
    /// Reconnection attempts in a row without an event.
    attempts: u32,
    /// `retry_ms` came from the server or the resume state, so it is worth saving.
    retry_known: bool,
    /// When the current run of reconnections began (for `max_elapsed_ms`).
    failing_since: Option<u64>,
    retry_ms: u64,
    rng: u64,
}

impl Session {
    /// Start a session at `now`; the first [`Output`] is [`Output::Connect`].
    pub fn new(config: Config, now: u64) -> Self {
        let parser = Parser::new()
            .with_comments(config.comments)
            .with_max_line_len(config.max_line_len)
            .with_max_event_size(config.max_event_size)
            .with_last_event_id(config.resume.last_event_id.as_str());
        let mut session = Session {
            rng: config.seed,
            retry_ms: config.resume.retry_ms.unwrap_or(config.retry_ms),
            retry_known: config.resume.retry_ms.is_some(),
            policy: Policy::new(config, now),
            parser,
            phase: Phase::Done,
            out: VecDeque::new(),
            attempts: 0,
            failing_since: None,
        };
        session.connect(now);
        session
    }

    /// The next thing to do or deliver, in order. `None` means: wait for input or
    /// for [`poll_timeout`](Self::poll_timeout). After a terminal output
    /// ([`Output::Closed`], [`Output::Failed`]) it is `None` forever.
    pub fn poll(&mut self) -> Option<Output> {
        if let Some(output) = self.out.pop_front() {
            if self.out.is_empty() {
                // Only protocol steps wait here, rarely more than one: an idle
                // stream keeps no room for them.
                self.out = VecDeque::new();
            }
            return Some(output);
        }
        let (output, ending) = self.next_frame()?;
        self.out.extend(ending);
        Some(output)
    }

    /// The next output of the open stream's bytes, parsed only when asked for (so a
    /// large chunk of many events is never all held as outputs at once), and the
    /// terminal output that must follow it, for the `until_data` sentinel.
    fn next_frame(&mut self) -> Option<(Output, Option<Output>)> {
        let Phase::Open { last_byte, .. } = self.phase else {
            return None;
        };
        Some(match self.parser.next()? {
            Ok(Frame::Event(event)) => {
                self.attempts = 0;
                self.failing_since = None;
                self.phase = Phase::Open {
                    last_byte,
                    last_event: last_byte,
                };
                if self.policy.until_data.as_deref() == Some(&*event.data) {
                    self.phase = Phase::Done;
                    return Some((Output::Event(event), Some(Output::Closed(End::UntilData))));
                }
                (Output::Event(event), None)
            }
            Ok(Frame::Comment(text)) => (Output::Comment(text), None),
            Ok(Frame::Retry(ms)) => {
                self.retry_ms = ms;
                self.retry_known = true;
                (Output::Retry(ms), None)
            }
            Err(limit) => {
                self.phase = Phase::Done;
                (Output::Failed(Failure::TooLarge(limit)), None)
            }
        })
    }

    /// The earliest time at which [`handle_timeout`](Self::handle_timeout) must be
    /// called, if any.
    pub fn poll_timeout(&self) -> Option<u64> {
        let p = &self.policy;
        let phase = match self.phase {
            // No bytes yet is idle too: the idle timeout also bounds the wait for
            // the response head.
            Phase::Connecting { since } => {
                since.saturating_add(p.response_timeout_ms.min(p.idle_timeout_ms))
            }
            Phase::Open {
                last_byte,
                last_event,
            } => last_byte
                .saturating_add(p.idle_timeout_ms)
                .min(last_event.saturating_add(p.event_timeout_ms)),
            Phase::Waiting { until } => until,
            Phase::Asking { .. } => NEVER,
            Phase::Done => return None,
        };
        finite(phase.min(p.total_deadline))
    }

    /// Act on every deadline that has passed by `now`.
    pub fn handle_timeout(&mut self, now: u64) {
        if self.is_done() {
            return;
        }
        if self.total_deadline().is_some_and(|at| now >= at) {
            return self.finish(Output::Failed(Failure::TotalTimeout));
        }
        let passed = |base: u64, ms: u64| ms != NEVER && now >= base.saturating_add(ms);
        let p = &self.policy;
        match self.phase {
            Phase::Connecting { since } if passed(since, p.response_timeout_ms) => {
                self.connection_lost(now, Interruption::ResponseTimeout);
            }
            Phase::Connecting { since } if passed(since, p.idle_timeout_ms) => {
                self.connection_lost(now, Interruption::IdleTimeout);
            }
            Phase::Open { last_byte, .. } if passed(last_byte, p.idle_timeout_ms) => {
                self.connection_lost(now, Interruption::IdleTimeout);
            }
            Phase::Open { last_event, .. } if passed(last_event, p.event_timeout_ms) => {
                self.connection_lost(now, Interruption::EventTimeout);
            }
            Phase::Waiting { until } if now >= until => self.connect(now),
            _ => {}
        }
    }

    /// The response head of the request from the latest [`Output::Connect`]
    /// arrived. `retry_after_ms` is the `Retry-After` delay, if the shell found one.
    ///
    /// On [`Verdict::BadStatus`] and [`Verdict::BadContentType`] the terminal
    /// [`Output::Failed`] is queued at once: a shell that reports the error body
    /// reads it (bounded) before it polls again.
    pub fn on_response(
        &mut self,
        now: u64,
        status: u16,
        content_type: Option<&str>,
        retry_after_ms: Option<u64>,
    ) -> Verdict {
        if !matches!(self.phase, Phase::Connecting { .. }) {
            // Closed meanwhile: whatever the response, nothing more happens.
            return Verdict::BadStatus;
        }
        let verdict = check_response(status, content_type, self.policy.retry_unavailable);
        match verdict {
            Verdict::Open => {
                self.phase = Phase::Open {
                    last_byte: now,
                    last_event: now,
                };
            }
            Verdict::NoContent => self.finish(Output::Closed(End::NoContent)),
            Verdict::BadStatus => self.finish(Output::Failed(Failure::Status { status })),
            Verdict::BadContentType => self.finish(Output::Failed(Failure::ContentType)),
            Verdict::RetryLater => {
                self.reconnect(now, Interruption::Unavailable { status }, retry_after_ms)
            }
        }
        verdict
    }

    /// Bytes of the open stream arrived. Their events, comments and `retry:` become
    /// outputs as they are polled; an event resets the reconnection count.
    pub fn on_bytes(&mut self, now: u64, bytes: Bytes) {
        let Phase::Open { last_event, .. } = self.phase else {
            return;
        };
        self.phase = Phase::Open {
            last_byte: now,
            last_event,
        };
        self.parser.feed(bytes);
    }

    /// The connection ended: the body reached EOF ([`Interruption::Eof`]), or the
    /// shell saw a network error or its own connect timeout. A partial event is
    /// dropped; then the policy decides between reconnecting and ending.
    pub fn connection_lost(&mut self, now: u64, why: Interruption) {
        if !matches!(self.phase, Phase::Connecting { .. } | Phase::Open { .. }) {
            return;
        }
        // Whatever complete frames are still unpolled come before the ending.
        while let Some((output, ending)) = self.next_frame() {
            self.out.push_back(output);
            self.out.extend(ending);
        }
        if self.is_done() {
            return;
        }
        // A dropped half event must not leak into the next connection.
        self.parser.finish();
        // A POST is resumed only with an id the server gave in this session (one
        // restored from a saved state may be stale or from another server), and
        // never without an id to send (after an empty `id:`, or an id with a
        // control character, which no header value can carry).
        let id = self.parser.last_event_id();
        let resumable = self.parser.stream_set_an_id() && !id.is_empty() && is_header_value(id);
        let auto = self.policy.idempotent || resumable;
        let go = match self.policy.reconnect {
            Reconnect::Auto => auto,
            Reconnect::Always => true,
            Reconnect::Never => false,
            Reconnect::Ask => {
                self.phase = Phase::Asking { after: why };
                let info = ReconnectInfo {
                    after: why,
                    attempt: self.attempts + 1,
                    last_event_id: self.parser.last_event_id().clone(),
                    auto,
                };
                self.out.push_back(Output::AskReconnect(info));
                return;
            }
        };
        self.decide(now, why, go);
    }

    /// The answer to [`Output::AskReconnect`].
    pub fn answer_reconnect(&mut self, now: u64, reconnect: bool) {
        if let Phase::Asking { after } = self.phase {
            self.decide(now, after, reconnect);
        }
    }

    /// End the stream now, from any phase: [`Output::Closed`]`(`[`End::Aborted`]`)`
    /// replaces anything not yet polled. Does nothing once the stream has ended.
    pub fn close(&mut self) {
        if !self.is_done() {
            self.out.clear();
            self.finish(Output::Closed(End::Aborted));
        }
    }

    /// A terminal output has been queued (or polled).
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// When [`Config::total_timeout_ms`] runs out, if set: shells bound their own
    /// work outside the session (e.g. reading an error body) by it.
    pub fn total_deadline(&self) -> Option<u64> {
        finite(self.policy.total_deadline)
    }

    /// [`Config::idle_timeout_ms`], if set: shells apply it to what they read
    /// outside the session too (an error body).
    pub fn idle_timeout(&self) -> Option<u64> {
        finite(self.policy.idle_timeout_ms)
    }

    /// The last event id ("" for none).
    pub fn last_event_id(&self) -> &Utf8Bytes {
        self.parser.last_event_id()
    }

    /// The current reconnection time, in milliseconds.
    pub fn retry_ms(&self) -> u64 {
        self.retry_ms
    }

    /// Reconnection attempts made in a row without an event.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// What to save to resume after a restart (pass it back as [`Config::resume`]).
    pub fn resume_state(&self) -> ResumeState {
        ResumeState {
            last_event_id: self.parser.last_event_id().as_str().into(),
            retry_ms: self.retry_known.then_some(self.retry_ms),
        }
    }

    fn decide(&mut self, now: u64, why: Interruption, reconnect: bool) {
        match (reconnect, why) {
            (true, _) => self.reconnect(now, why, None),
            (false, Interruption::Eof) => self.finish(Output::Closed(End::Eof)),
            (false, _) => self.finish(Output::Failed(Failure::Interrupted(why))),
        }
    }

    fn reconnect(&mut self, now: u64, after: Interruption, delay_ms: Option<u64>) {
        let attempts = self.attempts;
        let give_up = |limit| {
            Output::Failed(Failure::GaveUp {
                last: after,
                attempts,
                limit,
            })
        };
        if self
            .policy
            .max_retries
            .is_some_and(|max| self.attempts >= max)
        {
            return self.finish(give_up(Limit::MaxRetries));
        }
        let since = *self.failing_since.get_or_insert(now);
        let max_elapsed = self.policy.max_elapsed_ms;
        if max_elapsed != NEVER && now.saturating_sub(since) >= max_elapsed {
            return self.finish(give_up(Limit::MaxElapsed));
        }
        self.attempts += 1;
        let delay_ms = delay_ms.unwrap_or_else(|| {
            backoff::delay(
                self.retry_ms,
                self.policy.max_delay_ms,
                self.attempts,
                self.policy.jitter,
                &mut self.rng,
            )
        });
        self.phase = Phase::Waiting {
            until: now.saturating_add(delay_ms),
        };
        self.out.push_back(Output::Reconnecting {
            attempt: self.attempts,
            delay_ms,
            after,
        });
    }

    fn connect(&mut self, now: u64) {
        self.phase = Phase::Connecting { since: now };
        self.out.push_back(Output::Connect {
            attempt: self.attempts,
            last_event_id: self.parser.last_event_id().clone(),
        });
    }

    fn finish(&mut self, output: Output) {
        self.phase = Phase::Done;
        self.out.push_back(output);
    }
}

/// Whether `text` can be a header value as it is (`http`'s rule: no control
/// character but tab), so that `Last-Event-ID` can carry it.
pub(crate) fn is_header_value(text: &str) -> bool {
    text.bytes().all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}
