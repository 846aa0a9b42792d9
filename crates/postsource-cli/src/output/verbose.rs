//! `-v/--verbose`: the conversation on stderr, curl style — `>` for what was sent,
//! `<` for what came back, `*` for what the client decided (reconnect, retry, close).
//! It never touches stdout, so it combines with every output mode.

use std::io::{self, Write};

use super::{Item, Sink, StatusLine, status_text};

/// The verbose writer (stderr).
pub struct Verbose {
    status: Option<StatusLine>,
    /// The last event id, which the next reconnection sends.
    last_id: String,
    /// Reconnections are GETs without the body (`--resume-with-get`).
    resume_with_get: bool,
}

impl Verbose {
    /// A verbose writer; `status` is cleared before each write.
    pub fn new(status: Option<StatusLine>, resume_with_get: bool) -> Self {
        Verbose {
            status,
            last_id: String::new(),
            resume_with_get,
        }
    }

    /// The request line and the headers postsource sets.
    pub fn request(&self, method: &str, url: &str, headers: &[(String, String)]) {
        let mut text = format!("> {method} {url}\n");
        for (name, value) in headers {
            text.push_str(&format!("> {name}: {value}\n"));
        }
        self.emit(&text);
    }

    fn emit(&self, text: &str) {
        if let Some(status) = &self.status {
            status.clear();
        }
        let mut err = io::stderr().lock();
        let _ = err.write_all(text.as_bytes());
        let _ = err.flush();
    }
}

impl Sink for Verbose {
    fn write(&mut self, item: &Item) -> io::Result<()> {
        let text = match item {
            Item::Open(open) => {
                let mut text = format!("< HTTP {}\n", status_text(open.status));
                for (name, value) in &open.headers {
                    text.push_str(&format!("< {name}: {value}\n"));
                }
                text.push_str(&format!("* stream open: {}\n", open.url));
                text
            }
            Item::Retry(ms) => format!("* server set retry: {ms} ms\n"),
            Item::Reconnect { attempt, delay_ms } => {
                let mut text = format!("* reconnecting in {delay_ms} ms (attempt {attempt})");
                if self.resume_with_get {
                    text.push_str(" as a GET without the body");
                }
                // The library's own test: an id no header value can hold is not sent.
                if http::HeaderValue::from_str(&self.last_id).is_err() {
                    text.push_str(&format!(
                        " without last-event-id: {:?} holds a control character",
                        self.last_id
                    ));
                } else if !self.last_id.is_empty() {
                    text.push_str(&format!(" with last-event-id: {}", self.last_id));
                }
                text.push('\n');
                text
            }
            Item::Error(failure) => {
                let mut text = format!("* error ({}): {}\n", failure.kind, failure.message);
                if let Some(status) = failure.status {
                    text.push_str(&format!("< HTTP {}\n", status_text(status)));
                    for (name, value) in &failure.headers {
                        text.push_str(&format!("< {name}: {value}\n"));
                    }
                }
                text
            }
            Item::Close(reason) => format!("* closed: {}\n", reason.as_str()),
            Item::Event(ev) => {
                self.last_id.clear();
                self.last_id.push_str(&ev.last_event_id);
                return Ok(());
            }
            Item::Comment(_) => return Ok(()),
        };
        self.emit(&text);
        Ok(())
    }
}
