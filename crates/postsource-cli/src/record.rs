//! The recording format shared by `postsource --record FILE` and `serve --replay FILE`.
//!
//! A recording is JSON lines: a first line naming the format and the request, then the
//! run's items as the jsonl output would print them — plus `comment` and `retry`
//! lines — each with `at_ms`, the time since the run started. Reusing the jsonl shapes
//! keeps the file readable and greppable, and replay only needs the event, comment
//! and retry lines, in order, with their timing.
//!
//! ```text
//! {"postsource_recording":1,"method":"POST","url":"http://127.0.0.1:8080/v1/chat/completions"}
//! {"at_ms":3,"type":"open","status":200,"url":"...","headers":{...}}
//! {"at_ms":3,"type":"retry","retry_ms":2000}
//! {"at_ms":45,"type":"event","event":"message","data":"...","id":"1"}
//! {"at_ms":900,"type":"close","reason":"eof"}
//! ```

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;
use std::time::Instant;

use serde_json::{Value, json};

use crate::output::{Item, Sink, to_json};

/// Writes a recording while the run goes on (flushed per line, so an interrupted run
/// still leaves a usable file).
pub struct Recorder {
    file: io::BufWriter<File>,
    start: Instant,
}

impl Recorder {
    /// Creates `path` and writes the header line.
    pub fn create(path: &Path, method: &str, url: &str, start: Instant) -> io::Result<Self> {
        let mut file = io::BufWriter::new(File::create(path)?);
        let head = json!({"postsource_recording": 1, "method": method, "url": url});
        writeln!(file, "{head}")?;
        file.flush()?;
        Ok(Recorder { file, start })
    }
}

impl Sink for Recorder {
    fn write(&mut self, item: &Item) -> io::Result<()> {
        let Some(Value::Object(fields)) = to_json(item, true) else {
            return Ok(());
        };
        let mut line = serde_json::Map::new();
        line.insert(
            "at_ms".into(),
            json!(self.start.elapsed().as_millis() as u64),
        );
        line.extend(fields);
        writeln!(self.file, "{}", Value::Object(line))?;
        self.file.flush()
    }
}

/// One thing to replay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// An event: type, data, and the last event id at dispatch.
    Event {
        /// Event type.
        event: String,
        /// Data.
        data: String,
        /// Last event id.
        id: String,
    },
    /// A comment.
    Comment(String),
    /// A `retry:` value.
    Retry(u64),
}

/// A loaded recording.
#[derive(Clone, Debug)]
pub struct Recording {
    /// The recorded request's URL.
    pub url: String,
    /// What to replay, with the time of each (ms since the run started).
    pub entries: Vec<(u64, Entry)>,
}

impl Recording {
    /// Reads and checks a recording; the error names the file and line.
    pub fn load(path: &Path) -> Result<Recording, String> {
        let file = File::open(path)
            .map_err(|e| format!("--replay {}: cannot open: {e}", path.display()))?;
        let mut lines = BufReader::new(file).lines();
        let bad = |n: usize, why: &str| format!("--replay {}:{n}: {why}", path.display());
        let head = match lines.next() {
            Some(Ok(line)) => line,
            Some(Err(e)) => return Err(bad(1, &e.to_string())),
            None => return Err(bad(1, "empty file, not a recording")),
        };
        let head: Value = serde_json::from_str(&head).map_err(|e| bad(1, &e.to_string()))?;
        if head.get("postsource_recording") != Some(&json!(1)) {
            return Err(bad(1, "not a postsource recording (made with --record)"));
        }
        let url = head
            .get("url")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let mut entries = Vec::new();
        for (i, line) in lines.enumerate() {
            let n = i + 2;
            let line = line.map_err(|e| bad(n, &e.to_string()))?;
            if line.trim().is_empty() {
                continue;
            }
            let v: Value = serde_json::from_str(&line).map_err(|e| bad(n, &e.to_string()))?;
            let at = v.get("at_ms").and_then(Value::as_u64).unwrap_or(0);
            let text = |key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
            let entry = match v.get("type").and_then(Value::as_str) {
                Some("event") => Entry::Event {
                    event: text("event").unwrap_or_else(|| "message".into()),
                    data: text("data").ok_or_else(|| bad(n, "event without data"))?,
                    id: text("id").unwrap_or_default(),
                },
                Some("comment") => Entry::Comment(text("text").unwrap_or_default()),
                Some("retry") => Entry::Retry(
                    v.get("retry_ms")
                        .and_then(Value::as_u64)
                        .ok_or_else(|| bad(n, "retry without retry_ms"))?,
                ),
                // open, reconnect, error, close: context for people, nothing to replay.
                Some(_) => continue,
                None => return Err(bad(n, "a line without \"type\"")),
            };
            entries.push((at, entry));
        }
        Ok(Recording { url, entries })
    }

    /// The path of the recorded URL, if it has one.
    pub fn path(&self) -> Option<String> {
        url::Url::parse(&self.url).ok().map(|u| u.path().to_owned())
    }
}
