//! A deliberately simple, slow, obviously-correct reference for the WHATWG HTML "Server-sent
//! events" algorithm (§ 9.2.6 "Interpreting an event stream" and the browser steps to "dispatch
//! the event"), written straight from the spec text without looking at the real parser.
//!
//! It is whole-stream: the entire byte stream goes in, the list of everything the parser must
//! report comes out. It never streams, never limits and never optimises, so that every line can
//! be checked against the spec by eye. The differential test, the property tests and the fuzz
//! target (through `#[path]`) all compare `postsource::parse::Parser` against it, so the
//! reference itself uses only `std`; just the small [`adapter`] at the end, which drives the
//! real parser into the same [`Run`] shape, touches the crate under test.
//!
//! Choices where the spec leaves room or says nothing (the real parser makes the same ones):
//! - Comment lines are "ignored" by the spec; callers who ask see their text after `:`, one
//!   leading space removed like a field value. A valid `retry` is reported where its line is,
//!   not at dispatch ("set the event stream's reconnection time" happens at once).
//! - `retry` is reported only for a non-empty value of ASCII digits (the spec's "consists of
//!   only ASCII digits" is vacuously true for "", but WPT `format-field-retry-empty` and the
//!   browsers ignore an empty value); digits that overflow `u64` saturate to `u64::MAX`.
//! - A stream ends `Truncated` when discarding what is pending at EOF loses something: bytes
//!   after the last line ending (a partial line, even one that decodes to U+FFFD only), a
//!   non-empty data buffer, a non-empty event type buffer, or an accepted `id` field not yet
//!   applied by a dispatch. So `event:` with an empty value alone leaves the stream `Clean`
//!   (the event type buffer is still empty), while any accepted `id` counts even when it
//!   repeats the current id (its dispatch was still cut off). Comments, unknown fields and
//!   `retry` (applied at once) are never pending.
//! - A new stream (reconnection) starts its last event ID buffer from the last event ID string
//!   of the previous one, as Chromium's and Firefox's parsers do, so the id persists across
//!   streams. Read literally, "They must be initialized to the empty string" would make the
//!   first id-less event of a reconnection report "" and forget the id it resumed from.

#![allow(dead_code)]

/// One thing the parser reports, in stream order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Out {
    /// A dispatched event: type (never empty), data, and the last event ID string at dispatch.
    Event {
        /// The event type (`message` when the stream named none).
        event: String,
        /// The data buffer, final LF removed.
        data: String,
        /// The last event ID string of the event source at dispatch.
        id: String,
    },
    /// A `retry` field with a valid value, in milliseconds.
    Retry(u64),
    /// A comment line: the text after `:`, one leading space removed.
    Comment(String),
    /// Never produced by the reference: [`adapter`] maps the parser's limit errors here, so
    /// that a comparison sees an unexpected error as a mismatch.
    Error(String),
}

/// How a stream ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// At a line boundary with no undispatched event.
    Clean,
    /// In the middle of a line or of an event, which is discarded.
    Truncated,
}

/// The whole result of interpreting one stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// Everything reported, in order.
    pub outputs: Vec<Out>,
    /// How the stream ended.
    pub end: End,
    /// The last event ID string after the stream ended.
    pub last_event_id: String,
    /// The reconnection time after the stream ended (the latest valid `retry`).
    pub retry: Option<u64>,
}

/// What the caller configures.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Report comment lines.
    pub comments: bool,
    /// The last event ID string before the stream starts (from an earlier stream).
    pub last_event_id: String,
    /// The reconnection time before the stream starts (from an earlier stream).
    pub retry: Option<u64>,
}

/// The UTF-8 byte order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// "Streams must be decoded using the UTF-8 decode algorithm": it strips one leading BOM and
/// replaces each maximal invalid subpart with U+FFFD, which is what `from_utf8_lossy` does.
pub fn utf8_decode(stream: &[u8]) -> String {
    let body = stream.strip_prefix(BOM).unwrap_or(stream);
    String::from_utf8_lossy(body).into_owned()
}

/// "a U+000D CARRIAGE RETURN U+000A LINE FEED (CRLF) character pair, a single U+000A LINE FEED
/// (LF) character not preceded by a U+000D CARRIAGE RETURN (CR) character, and a single U+000D
/// CARRIAGE RETURN (CR) character not followed by a U+000A LINE FEED (LF) character being the
/// ways in which a line can end." Returns the complete lines and the unterminated rest.
pub fn split_lines(text: &str) -> (Vec<String>, String) {
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                lines.push(std::mem::take(&mut current));
            }
            '\n' => lines.push(std::mem::take(&mut current)),
            other => current.push(other),
        }
    }
    (lines, current)
}

/// Digits only, non-empty; base ten, saturating at `u64::MAX`.
fn parse_retry(value: &str) -> Option<u64> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(value.bytes().fold(0u64, |acc, b| {
        acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    }))
}

/// The per-stream buffers of § 9.2.6 plus the event source's last event ID string.
struct State {
    data: String,
    event_type: String,
    last_event_id_buffer: String,
    last_event_id_string: String,
    /// An accepted `id` field was processed since the last dispatch.
    id_pending: bool,
    outputs: Vec<Out>,
    comments: bool,
}

impl State {
    /// "The steps to process the field given a field name and a field value depend on the
    /// field name ... Field names must be compared literally, with no case folding performed."
    fn process_field(&mut self, field: &str, value: &str) {
        match field {
            "event" => {
                self.event_type = value.to_string();
            }
            "data" => {
                self.data.push_str(value);
                self.data.push('\n');
            }
            // "If the field value does not contain U+0000 NULL, then set the last event ID
            // buffer to the field value. Otherwise, ignore the field."
            "id" if !value.contains('\u{0}') => {
                self.last_event_id_buffer = value.to_string();
                self.id_pending = true;
            }
            "retry" => {
                if let Some(ms) = parse_retry(value) {
                    self.outputs.push(Out::Retry(ms));
                }
            }
            _ => {}
        }
    }

    /// The browser steps to "dispatch the event".
    fn dispatch(&mut self) {
        self.id_pending = false;
        // 1. "Set the last event ID string of the event source to the value of the last event
        //    ID buffer. The buffer does not get reset."
        self.last_event_id_string = self.last_event_id_buffer.clone();
        // 2. "If the data buffer is an empty string, set the data buffer and the event type
        //    buffer to the empty string and return."
        if self.data.is_empty() {
            self.event_type.clear();
            return;
        }
        // 3. "If the data buffer's last character is a U+000A LINE FEED (LF) character, then
        //    remove the last character from the data buffer."
        if self.data.ends_with('\n') {
            self.data.pop();
        }
        // 5-6. Type "message" unless the event type buffer is not empty.
        let event = if self.event_type.is_empty() {
            "message".to_string()
        } else {
            self.event_type.clone()
        };
        self.outputs.push(Out::Event {
            event,
            data: std::mem::take(&mut self.data),
            id: self.last_event_id_string.clone(),
        });
        // 7. "Set the data buffer and the event type buffer to the empty string."
        self.data.clear();
        self.event_type.clear();
    }

    /// "Lines must be processed, in the order they are received, as follows".
    fn process_line(&mut self, line: &str) {
        if line.is_empty() {
            self.dispatch();
        } else if let Some(comment) = line.strip_prefix(':') {
            // "If the line starts with a U+003A COLON character (:) — Ignore the line." The
            // caller may still ask to see it; one leading space goes, as for field values.
            if self.comments {
                let text = comment.strip_prefix(' ').unwrap_or(comment);
                self.outputs.push(Out::Comment(text.to_string()));
            }
        } else if let Some((field, value)) = line.split_once(':') {
            // "If value starts with a U+0020 SPACE character, remove it from value."
            let value = value.strip_prefix(' ').unwrap_or(value);
            self.process_field(field, value);
        } else {
            // "using the whole line as the field name, and the empty string as the field value."
            self.process_field(line, "");
        }
    }
}

/// Interprets one whole stream.
pub fn interpret(stream: &[u8], options: &Options) -> Run {
    let text = utf8_decode(stream);
    let (lines, rest) = split_lines(&text);
    let mut state = State {
        data: String::new(),
        event_type: String::new(),
        last_event_id_buffer: options.last_event_id.clone(),
        last_event_id_string: options.last_event_id.clone(),
        id_pending: false,
        outputs: Vec::new(),
        comments: options.comments,
    };
    for line in &lines {
        state.process_line(line);
    }
    // "Once the end of the file is reached, any pending data must be discarded."
    let retry = state
        .outputs
        .iter()
        .rev()
        .find_map(|out| match out {
            Out::Retry(ms) => Some(*ms),
            _ => None,
        })
        .or(options.retry);
    let pending = !state.data.is_empty() || !state.event_type.is_empty() || state.id_pending;
    let end = if pending || !rest.is_empty() {
        End::Truncated
    } else {
        End::Clean
    };
    Run {
        outputs: state.outputs,
        end,
        last_event_id: state.last_event_id_string,
        retry,
    }
}

/// Interprets several streams in a row, as one parser reused across reconnections would see
/// them: each starts fresh (a BOM may lead it again) but keeps the last event ID string.
pub fn interpret_streams(streams: &[&[u8]], options: &Options) -> Vec<Run> {
    let mut options = options.clone();
    let mut runs = Vec::new();
    for stream in streams {
        let run = interpret(stream, &options);
        options.last_event_id = run.last_event_id.clone();
        options.retry = run.retry;
        runs.push(run);
    }
    runs
}

/// Drives the real parser the same way, so tests compare two [`Run`]s. This is the only part
/// of the file that touches `postsource`; the reference above does not.
pub mod adapter {
    use super::{End, Options, Out, Run};
    use bytes::Bytes;
    use postsource::Utf8Bytes;
    use postsource::parse::{Frame, Parser, StreamEnd};

    /// A parser configured like `options`, with the default limits.
    pub fn parser(options: &Options) -> Parser {
        Parser::new()
            .with_comments(options.comments)
            .with_last_event_id(options.last_event_id.as_str())
    }

    /// The text of a `Utf8Bytes`, re-validated: the parser builds some of them without a
    /// check (`from_utf8_unchecked` on slices it believes are UTF-8), so invalid bytes there
    /// would be undefined behaviour waiting to happen; here they fail loudly.
    fn checked(text: &Utf8Bytes) -> String {
        match core::str::from_utf8(text.as_bytes()) {
            Ok(s) => s.to_string(),
            Err(error) => panic!(
                "parser produced invalid UTF-8 {:?}: {error}",
                text.as_bytes()
            ),
        }
    }

    /// Takes every frame the parser has ready.
    pub fn drain(parser: &mut Parser, outputs: &mut Vec<Out>) {
        for item in parser.by_ref() {
            outputs.push(match item {
                Ok(Frame::Event(event)) => Out::Event {
                    event: checked(&event.event),
                    data: checked(&event.data),
                    id: checked(&event.last_event_id),
                },
                Ok(Frame::Retry(ms)) => Out::Retry(ms),
                Ok(Frame::Comment(text)) => Out::Comment(checked(&text)),
                Err(error) => Out::Error(format!("{error:?}")),
            });
        }
    }

    /// Feeds one whole stream cut at `cuts` (positions into `stream`, in any order, repeats
    /// giving empty chunks) as zero-copy slices of one `Bytes`, then finishes it.
    pub fn run_cut(parser: &mut Parser, stream: &[u8], cuts: &[usize]) -> Run {
        let whole = Bytes::copy_from_slice(stream);
        let mut cuts: Vec<usize> = cuts.iter().map(|&c| c.min(stream.len())).collect();
        cuts.sort_unstable();
        let mut outputs = Vec::new();
        let mut start = 0;
        for cut in cuts.into_iter().chain([stream.len()]) {
            parser.feed(whole.slice(start..cut));
            drain(parser, &mut outputs);
            start = cut;
        }
        let end = match parser.finish() {
            StreamEnd::Clean => End::Clean,
            StreamEnd::Truncated => End::Truncated,
        };
        drain(parser, &mut outputs);
        Run {
            outputs,
            end,
            last_event_id: parser.last_event_id().to_string(),
            retry: parser.retry(),
        }
    }

    /// Feeds the chunks one by one (each copied, as a reader would), then finishes.
    pub fn run_chunks<'a>(parser: &mut Parser, chunks: impl IntoIterator<Item = &'a [u8]>) -> Run {
        let mut stream = Vec::new();
        let mut cuts = Vec::new();
        for (i, chunk) in chunks.into_iter().enumerate() {
            if i > 0 {
                cuts.push(stream.len());
            }
            stream.extend_from_slice(chunk);
        }
        run_cut(parser, &stream, &cuts)
    }
}
