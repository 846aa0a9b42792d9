//! `-o jsonl`: the contract's line format, one JSON object per line, flushed per line.
//!
//! This is the interface other programs drive, so the shapes here are exactly those of
//! `shared/contract-cli.md`: keys in the documented order, header names lowercase,
//! `id` the last event id ("" when none), `status`/`body` on errors only when a
//! response was received. Comments and `retry:` are not part of it; the
//! recording format (`--record`) reuses [`to_json`] with them included.

use std::io::{self, Write};

use serde_json::{Map, Value, json};

use super::{Item, Sink};

/// The JSON object for `item`; `None` for the items the contract has no line for
/// (unless `extended`, which adds `comment` and `retry` lines for recordings).
pub fn to_json(item: &Item, extended: bool) -> Option<Value> {
    Some(match item {
        Item::Open(open) => {
            let mut headers = Map::new();
            for (name, value) in &open.headers {
                match headers.get_mut(name) {
                    // A repeated header reads as one comma-joined value, as HTTP allows.
                    Some(Value::String(first)) => {
                        first.push_str(", ");
                        first.push_str(value);
                    }
                    _ => {
                        headers.insert(name.clone(), Value::String(value.clone()));
                    }
                }
            }
            json!({"type": "open", "status": open.status, "url": open.url, "headers": headers})
        }
        Item::Event(ev) => json!({
            "type": "event",
            "event": &*ev.event,
            "data": &*ev.data,
            "id": &*ev.last_event_id,
        }),
        Item::Reconnect { attempt, delay_ms } => {
            json!({"type": "reconnect", "attempt": attempt, "delay_ms": delay_ms})
        }
        Item::Error(failure) => {
            let mut line = Map::new();
            line.insert("type".into(), json!("error"));
            line.insert("kind".into(), json!(failure.kind));
            line.insert("message".into(), json!(failure.message));
            if let Some(status) = failure.status {
                line.insert("status".into(), json!(status));
            }
            if let Some(body) = &failure.body {
                line.insert("body".into(), json!(body));
            }
            Value::Object(line)
        }
        Item::Close(reason) => json!({"type": "close", "reason": reason.as_str()}),
        Item::Comment(text) if extended => json!({"type": "comment", "text": text}),
        Item::Retry(ms) if extended => json!({"type": "retry", "retry_ms": ms}),
        Item::Comment(_) | Item::Retry(_) => return None,
    })
}

/// The jsonl writer.
pub struct Jsonl {
    out: Box<dyn Write + Send>,
    line: Vec<u8>,
}

impl Jsonl {
    /// Writes to `out`.
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        Jsonl {
            out,
            line: Vec::with_capacity(256),
        }
    }
}

impl Sink for Jsonl {
    fn write(&mut self, item: &Item) -> io::Result<()> {
        let Some(value) = to_json(item, false) else {
            return Ok(());
        };
        self.line.clear();
        serde_json::to_writer(&mut self.line, &value)?;
        self.line.push(b'\n');
        // One write per line, so a reader never sees half a line between flushes.
        self.out.write_all(&self.line)?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Close, Failure, Open};
    use super::*;

    #[test]
    fn lines_have_the_contract_shapes() {
        let open = Item::Open(Open {
            status: 200,
            url: "http://x/".into(),
            headers: vec![
                ("content-type".into(), "text/event-stream".into()),
                ("set-cookie".into(), "a=1".into()),
                ("set-cookie".into(), "b=2".into()),
            ],
        });
        assert_eq!(
            to_json(&open, false).unwrap().to_string(),
            r#"{"type":"open","status":200,"url":"http://x/","headers":{"content-type":"text/event-stream","set-cookie":"a=1, b=2"}}"#
        );
        let err = Item::Error(Failure {
            kind: "connect",
            message: "refused".into(),
            status: None,
            body: None,
            headers: Vec::new(),
        });
        assert_eq!(
            to_json(&err, false).unwrap().to_string(),
            r#"{"type":"error","kind":"connect","message":"refused"}"#
        );
        let close = Item::Close(Close::MaxEvents);
        assert_eq!(
            to_json(&close, false).unwrap().to_string(),
            r#"{"type":"close","reason":"max_events"}"#
        );
        assert!(to_json(&Item::Retry(5), false).is_none());
        assert!(to_json(&Item::Retry(5), true).is_some());
    }
}
