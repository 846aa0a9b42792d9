//! `-o pretty`: the stream laid out for reading.
//!
//! Each event is a header line — type, id, time since start — followed by its data,
//! indented; data that is a JSON object or array is pretty-printed and coloured.
//! Comments and `retry:` are dimmed, reconnections and errors stand out, and the run
//! ends with a summary. Colour is decided once (terminal, `NO_COLOR`, `--color`);
//! without it the layout is the same plain text, fit for logs and CI.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::time::{Duration, Instant};

use anstyle::{AnsiColor, Effects, Style};
use serde_json::Value;

use super::status::{Phase, StatusLine};
use super::{Item, Sink, status_text};

/// The colours of pretty output; all plain when colour is off.
#[derive(Clone, Copy, Debug)]
pub struct Palette {
    on: bool,
}

const fn fg(color: AnsiColor) -> Style {
    Style::new().fg_color(Some(anstyle::Color::Ansi(color)))
}

const EVENT: Style = fg(AnsiColor::Cyan).effects(Effects::BOLD);
const ID: Style = fg(AnsiColor::Yellow);
const DIM: Style = Style::new().effects(Effects::DIMMED);
const KEY: Style = fg(AnsiColor::Blue);
const STRING: Style = fg(AnsiColor::Green);
const NUMBER: Style = fg(AnsiColor::Magenta);
const LITERAL: Style = fg(AnsiColor::Yellow);
const OK: Style = fg(AnsiColor::Green).effects(Effects::BOLD);
const WARN: Style = fg(AnsiColor::Yellow).effects(Effects::BOLD);
const BAD: Style = fg(AnsiColor::Red).effects(Effects::BOLD);
const BOLD: Style = Style::new().effects(Effects::BOLD);

impl Palette {
    /// Colours on or off.
    pub fn new(on: bool) -> Self {
        Palette { on }
    }

    fn paint(&self, out: &mut String, style: Style, text: &str) {
        if self.on {
            let _ = write!(out, "{}{text}{}", style.render(), style.render_reset());
        } else {
            out.push_str(text);
        }
    }
}

/// The pretty writer.
pub struct Pretty {
    out: Box<dyn Write + Send>,
    include: bool,
    palette: Palette,
    status: Option<StatusLine>,
    start: Instant,
    events: u64,
    buf: String,
}

impl Pretty {
    /// Writes to `out`, measuring time from `start`.
    pub fn new(
        out: Box<dyn Write + Send>,
        include: bool,
        palette: Palette,
        status: Option<StatusLine>,
        start: Instant,
    ) -> Self {
        Pretty {
            out,
            include,
            palette,
            status,
            start,
            events: 0,
            buf: String::new(),
        }
    }

    /// Renders `item` into `self.buf`.
    fn render(&mut self, item: &Item) {
        let p = self.palette;
        let b = &mut self.buf;
        match item {
            Item::Open(open) => {
                p.paint(b, OK, &status_text(open.status));
                let kind = open
                    .headers
                    .iter()
                    .find(|(n, _)| n == "content-type")
                    .map_or("", |(_, v)| v.as_str());
                let _ = writeln!(b, " · {kind} · {}", open.url);
                if self.include {
                    write_headers(b, &p, &open.headers);
                }
            }
            Item::Event(ev) => {
                self.events += 1;
                p.paint(b, EVENT, &ev.event);
                if !ev.last_event_id.is_empty() {
                    b.push_str("  ");
                    p.paint(b, ID, &format!("id {}", &*ev.last_event_id));
                }
                b.push_str("  ");
                p.paint(b, DIM, &elapsed(self.start.elapsed()));
                match summarized(&ev.data) {
                    // A token stream reads best as its tokens, an MCP reply as its
                    // steps; the event follows, dimmed.
                    Some((summary, compact)) => {
                        b.push_str("  ");
                        p.paint(b, OK, &summary);
                        b.push_str("\n  ");
                        p.paint(b, DIM, &compact);
                        b.push('\n');
                    }
                    None => {
                        b.push('\n');
                        write_data(b, &p, &ev.data);
                    }
                }
            }
            Item::Comment(text) => {
                p.paint(b, DIM, &format!(": {text}"));
                b.push('\n');
            }
            Item::Retry(ms) => {
                p.paint(b, DIM, &format!("retry: {ms} ms"));
                b.push('\n');
            }
            Item::Reconnect { attempt, delay_ms } => {
                p.paint(
                    b,
                    WARN,
                    &format!("reconnecting in {delay_ms} ms (attempt {attempt})"),
                );
                b.push('\n');
            }
            Item::Error(failure) => {
                p.paint(b, BAD, &format!("error ({})", failure.kind));
                let _ = writeln!(b, " {}", failure.message);
                if self.include {
                    write_headers(b, &p, &failure.headers);
                }
                if let Some(body) = failure.body.as_deref().filter(|s| !s.is_empty()) {
                    write_data(b, &p, body);
                }
            }
            Item::Close(reason) => {
                p.paint(b, BOLD, &format!("closed: {}", reason.as_str()));
                let plural = if self.events == 1 { "" } else { "s" };
                let _ = writeln!(
                    b,
                    " · {} event{plural} in {:.2}s",
                    self.events,
                    self.start.elapsed().as_secs_f64()
                );
            }
        }
    }

    fn update_status(&self, item: &Item) {
        let Some(status) = &self.status else { return };
        match item {
            Item::Open(_) => status.set_phase(Phase::Streaming),
            Item::Event(_) => status.event(),
            Item::Reconnect { attempt, delay_ms } => status.set_phase(Phase::Waiting {
                attempt: *attempt,
                until: Instant::now() + Duration::from_millis(*delay_ms),
            }),
            Item::Close(_) => status.finish(),
            _ => {}
        }
    }
}

impl Sink for Pretty {
    fn write(&mut self, item: &Item) -> io::Result<()> {
        self.buf.clear();
        self.render(item);
        self.update_status(item);
        if self.buf.is_empty() {
            return Ok(());
        }
        if let Some(status) = &self.status {
            status.clear();
        }
        self.out.write_all(self.buf.as_bytes())?;
        self.out.flush()?;
        if let Some(status) = &self.status {
            status.draw();
        }
        Ok(())
    }
}

fn elapsed(d: Duration) -> String {
    format!("+{:.2}s", d.as_secs_f64())
}

/// For the events of an LLM token stream (an OpenAI `chat.completion.chunk` or
/// Responses API `response.*.delta`, an Anthropic `content_block_delta` or
/// `message_delta`) or of a JSON-RPC exchange (MCP): what each says, in a few words
/// (the token as a JSON string, the role, why the answer stopped, a progress step,
/// a result or an error), and the event as one compact line.
fn summarized(data: &str) -> Option<(String, String)> {
    // Cheap checks first: most data of other streams is rejected without parsing.
    let tokens = data.contains("delta") || data.contains("chat.completion.chunk");
    if !data.starts_with('{') || !(tokens || data.contains("\"jsonrpc\"")) {
        return None;
    }
    let value: Value = serde_json::from_str(data).ok()?;
    let summary = match value.get("object").and_then(Value::as_str) {
        _ if value.get("jsonrpc").is_some() => jsonrpc_summary(&value),
        Some("chat.completion.chunk") => chat_summary(&value),
        _ => typed_summary(&value),
    }?;
    Some((summary, value.to_string()))
}

/// A JSON-RPC message: a progress notification's step, another message's method,
/// or a response's outcome and id.
fn jsonrpc_summary(message: &Value) -> Option<String> {
    let id = message
        .get("id")
        .map(|id| format!(" (id {id})"))
        .unwrap_or_default();
    if let Some(method) = message.get("method").and_then(Value::as_str) {
        let params = message.get("params");
        let progress = params.and_then(|p| p.get("progress"));
        if method != "notifications/progress" || progress.is_none() {
            return Some(format!("{method}{id}"));
        }
        let mut summary = format!("progress {}", progress?);
        if let Some(total) = params.and_then(|p| p.get("total")) {
            let _ = write!(summary, "/{total}");
        }
        if let Some(text) = params
            .and_then(|p| p.get("message"))
            .and_then(Value::as_str)
        {
            let _ = write!(summary, ": {text}");
        }
        return Some(summary);
    }
    if let Some(error) = message.get("error") {
        let code = error.get("code").map(Value::to_string).unwrap_or_default();
        let text = error.get("message").and_then(Value::as_str).unwrap_or("");
        return Some(format!("error {code}: {text}{id}"));
    }
    message.get("result").map(|_| format!("result{id}"))
}

fn chat_summary(chunk: &Value) -> Option<String> {
    let choice = chunk.get("choices")?.as_array()?.first();
    let delta = choice.and_then(|c| c.get("delta"));
    let summary = if let Some(text) = delta
        .and_then(|d| d.get("content"))
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    {
        Value::String(text.to_owned()).to_string()
    } else if let Some(reason) = choice
        .and_then(|c| c.get("finish_reason"))
        .and_then(Value::as_str)
    {
        format!("finish_reason: {reason}")
    } else if let Some(role) = delta.and_then(|d| d.get("role")).and_then(Value::as_str) {
        format!("role: {role}")
    } else if chunk.get("usage").is_some_and(|u| !u.is_null()) {
        "usage".to_owned()
    } else {
        return None;
    };
    Some(summary)
}

/// For the APIs whose events name themselves in a `type` field.
fn typed_summary(event: &Value) -> Option<String> {
    let kind = event.get("type")?.as_str()?;
    let delta = event.get("delta")?;
    match kind {
        // Anthropic: a text, thinking or tool-input token.
        "content_block_delta" => ["text", "thinking", "partial_json"]
            .iter()
            .find_map(|field| delta.get(field).filter(|v| v.is_string()))
            .map(Value::to_string),
        "message_delta" => Some(format!(
            "stop_reason: {}",
            delta.get("stop_reason")?.as_str()?
        )),
        // OpenAI Responses: `response.output_text.delta` and its kin.
        _ if kind.starts_with("response.") && kind.ends_with(".delta") => {
            delta.is_string().then(|| delta.to_string())
        }
        _ => None,
    }
}

/// `-i`: a response's headers, indented under its line.
fn write_headers(b: &mut String, p: &Palette, headers: &[(String, String)]) {
    for (name, value) in headers {
        b.push_str("  ");
        p.paint(b, DIM, &format!("{name}:"));
        let _ = writeln!(b, " {value}");
    }
}

/// The data block: JSON objects and arrays pretty-printed, other text as is; indented.
fn write_data(b: &mut String, p: &Palette, data: &str) {
    let trimmed = data.trim_start();
    if (trimmed.starts_with('{') || trimmed.starts_with('['))
        && let Ok(value) = serde_json::from_str::<Value>(data)
    {
        b.push_str("  ");
        write_json(b, p, &value, 1);
        b.push('\n');
        return;
    }
    for line in data.split('\n') {
        b.push_str("  ");
        b.push_str(line);
        b.push('\n');
    }
}

fn write_json(b: &mut String, p: &Palette, value: &Value, depth: usize) {
    let indent = |b: &mut String, depth: usize| {
        for _ in 0..depth {
            b.push_str("  ");
        }
    };
    match value {
        Value::Null => p.paint(b, LITERAL, "null"),
        Value::Bool(v) => p.paint(b, LITERAL, if *v { "true" } else { "false" }),
        Value::Number(n) => p.paint(b, NUMBER, &n.to_string()),
        Value::String(s) => p.paint(b, STRING, &Value::String(s.clone()).to_string()),
        Value::Array(items) if items.is_empty() => b.push_str("[]"),
        Value::Object(map) if map.is_empty() => b.push_str("{}"),
        Value::Array(items) => {
            b.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                indent(b, depth + 1);
                write_json(b, p, item, depth + 1);
                b.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            indent(b, depth);
            b.push(']');
        }
        Value::Object(map) => {
            b.push_str("{\n");
            for (i, (key, item)) in map.iter().enumerate() {
                indent(b, depth + 1);
                p.paint(b, KEY, &Value::String(key.clone()).to_string());
                b.push_str(": ");
                write_json(b, p, item, depth + 1);
                b.push_str(if i + 1 < map.len() { ",\n" } else { "\n" });
            }
            indent(b, depth);
            b.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_data_is_indented_and_plain_without_colour() {
        let mut b = String::new();
        write_data(&mut b, &Palette::new(false), r#"{"a":[1,true],"b":{}}"#);
        assert_eq!(
            b,
            "  {\n    \"a\": [\n      1,\n      true\n    ],\n    \"b\": {}\n  }\n"
        );
    }

    #[test]
    fn llm_chunks_show_their_token() {
        let data = r#"{"object":"chat.completion.chunk","choices":[{"delta":{"content":" hi"}}]}"#;
        assert_eq!(summarized(data).unwrap().0, "\" hi\"");
        assert!(summarized(r#"{"object":"other"}"#).is_none());
        let usage = r#"{"object":"chat.completion.chunk","choices":[],"usage":{"total_tokens":3}}"#;
        assert_eq!(summarized(usage).unwrap().0, "usage");
        let data = r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" hi"}}"#;
        assert_eq!(
            summarized(data).unwrap(),
            ("\" hi\"".to_owned(), data.to_owned())
        );
        let data = r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{}}"#;
        assert_eq!(summarized(data).unwrap().0, "stop_reason: end_turn");
        assert!(summarized(r#"{"type":"other_delta","delta":{"text":"x"}}"#).is_none());
        let data = r#"{"type":"response.output_text.delta","item_id":"m","delta":" hi"}"#;
        assert_eq!(summarized(data).unwrap().0, "\" hi\"");
        assert!(summarized(r#"{"type":"response.created","delta":" hi"}"#).is_none());
    }

    #[test]
    fn jsonrpc_messages_show_their_step_or_outcome() {
        let progress = r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"p","progress":2,"total":5,"message":"step 2"}}"#;
        assert_eq!(summarized(progress).unwrap().0, "progress 2/5: step 2");
        let bare =
            r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":0.5}}"#;
        assert_eq!(summarized(bare).unwrap().0, "progress 0.5");
        let log = r#"{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info"}}"#;
        assert_eq!(summarized(log).unwrap().0, "notifications/message");
        let request = r#"{"jsonrpc":"2.0","id":7,"method":"sampling/createMessage"}"#;
        assert_eq!(
            summarized(request).unwrap().0,
            "sampling/createMessage (id 7)"
        );
        let result = r#"{"jsonrpc":"2.0","id":"a","result":{"content":[]}}"#;
        assert_eq!(
            summarized(result).unwrap(),
            ("result (id \"a\")".to_owned(), result.to_owned())
        );
        let error =
            r#"{"jsonrpc":"2.0","id":3,"error":{"code":-32601,"message":"Method not found"}}"#;
        assert_eq!(
            summarized(error).unwrap().0,
            "error -32601: Method not found (id 3)"
        );
        assert!(summarized(r#"{"jsonrpc":"2.0","id":1}"#).is_none());
    }

    #[test]
    fn text_data_keeps_its_lines() {
        let mut b = String::new();
        write_data(&mut b, &Palette::new(false), "one\ntwo");
        assert_eq!(b, "  one\n  two\n");
    }

    #[test]
    fn colour_adds_escapes() {
        let mut b = String::new();
        write_data(&mut b, &Palette::new(true), r#"{"a":1}"#);
        assert!(b.contains("\x1b["));
    }
}
