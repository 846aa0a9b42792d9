//! What the stream yields: the `Open` of each connection, events, comments,
//! `retry:` changes, reconnection notices, and the one terminal `Closed`.

use std::time::Duration;

use http::{HeaderMap, StatusCode};
use url::Url;

use crate::{Event, Utf8Bytes};

/// One item of an [`EventSource`](super::EventSource) stream.
#[derive(Clone, Debug)]
pub enum SseItem {
    /// A connection opened (once per connection, so again after a reconnection).
    Open {
        /// Always 200.
        status: StatusCode,
        /// The response headers.
        headers: HeaderMap,
        /// The final URL, after redirects.
        url: Url,
    },
    /// An event.
    Event(Event),
    /// A comment line (only with `.comments(true)`).
    Comment(Utf8Bytes),
    /// The server set the reconnection time with `retry:`.
    Retry(Duration),
    /// The connection is gone; after `delay` the client reconnects.
    Reconnecting {
        /// Reconnection attempts in a row without an event, this one included.
        attempt: u32,
        /// The wait before the request.
        delay: Duration,
    },
    /// The stream ended normally. This is the last item; `None` follows.
    Closed(CloseReason),
}

/// Why a stream ended normally.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CloseReason {
    /// The server ended the stream and the policy does not reconnect.
    Eof,
    /// The server answered 204 No Content.
    NoContent,
    /// An event's data equalled the `until_data` sentinel.
    UntilData,
    /// [`CloseHandle::close`](super::CloseHandle::close) was called.
    Aborted,
}

impl CloseReason {
    /// The name in the CLI contract's `close` lines (`eof`, `no_content`,
    /// `until_data`, `aborted`).
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::Eof => "eof",
            CloseReason::NoContent => "no_content",
            CloseReason::UntilData => "until_data",
            CloseReason::Aborted => "aborted",
        }
    }
}

/// JSON decoding of event data (`use postsource::client::EventJson`).
pub trait EventJson {
    /// Decode the data as JSON.
    fn json<T: serde::de::DeserializeOwned>(&self) -> serde_json::Result<T>;

    /// Decode the data as JSON, or `None` for an event whose data is empty or
    /// blank: servers send those to prime a stream or to carry only an id (which
    /// the client has kept all the same).
    fn try_json<T: serde::de::DeserializeOwned>(&self) -> Option<serde_json::Result<T>>;
}

impl EventJson for Event {
    fn json<T: serde::de::DeserializeOwned>(&self) -> serde_json::Result<T> {
        serde_json::from_str(&self.data)
    }

    fn try_json<T: serde::de::DeserializeOwned>(&self) -> Option<serde_json::Result<T>> {
        if self.data.trim().is_empty() {
            None
        } else {
            Some(self.json())
        }
    }
}
