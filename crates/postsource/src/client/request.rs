//! The request a source sends, kept as plain parts so it can be sent again on
//! each reconnection, rewritten by the reconnect hook, and redirected by hand.

use bytes::Bytes;
use http::Method;
use http::header::{self, HeaderMap, HeaderValue};
use url::Url;

/// A request about to be sent again: the hook given to
/// [`EventSourceBuilder::reconnect_request`](super::EventSourceBuilder::reconnect_request)
/// may change any part. It starts as the original request with `Last-Event-ID`
/// set to the last event id (and removed when there is none). `Accept:
/// text/event-stream` and `Cache-Control: no-cache` are added when it is sent,
/// unless the headers set them.
#[derive(Clone, Debug)]
pub struct ReconnectRequest {
    /// The method.
    pub method: Method,
    /// The URL.
    pub url: Url,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Option<Bytes>,
    pub(super) attempt: u32,
    pub(super) last_event_id: crate::Utf8Bytes,
}

impl ReconnectRequest {
    /// The reconnection attempt (1 = the first after a healthy stream).
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The last event id ("" for none).
    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// Turn it into a GET without a body (and without the body's headers): how
    /// MCP's streamable HTTP resumes a POST's stream.
    pub fn into_get(&mut self) {
        self.method = Method::GET;
        self.body = None;
        strip_body_headers(&mut self.headers);
    }
}

/// The parts of one request; cheap to clone (the body is `Bytes`).
#[derive(Clone, Debug)]
pub(super) struct Parts {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<Bytes>,
}

impl Parts {
    /// The request to send. `Accept` and `Cache-Control` get their defaults here,
    /// unless set: kept in the parts, they would cost every source a header map
    /// for its whole life.
    pub fn to_reqwest(&self) -> reqwest::Request {
        let mut req = reqwest::Request::new(self.method.clone(), self.url.clone());
        let headers = req.headers_mut();
        *headers = self.headers.clone();
        headers
            .entry(header::ACCEPT)
            .or_insert(HeaderValue::from_static("text/event-stream"));
        headers
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-cache"));
        // As fetch sends it (and RFC 9110 §8.6 asks): hyper leaves a zero length out,
        // and some servers answer a POST without `Content-Length` with 411.
        let empty = match &self.body {
            Some(body) => body.is_empty(),
            None => matches!(self.method, Method::POST | Method::PUT),
        };
        if empty {
            headers
                .entry(header::CONTENT_LENGTH)
                .or_insert(HeaderValue::from_static("0"));
        }
        *req.body_mut() = self.body.clone().map(reqwest::Body::from);
        req
    }

    /// Credentials in the URL (`http://user:pass@host/`) become `Authorization:
    /// Basic`, as curl and reqwest's own builder send them, unless the headers set
    /// `Authorization` already. The URL keeps no credentials, so no `open` line,
    /// error or log shows the password.
    pub fn take_url_credentials(&mut self) {
        use base64::Engine as _;
        use percent_encoding::percent_decode_str;

        if self.url.username().is_empty() && self.url.password().is_none() {
            return;
        }
        let user = percent_decode_str(self.url.username()).collect::<Vec<u8>>();
        let password = self
            .url
            .password()
            .map(|p| percent_decode_str(p).collect::<Vec<u8>>());
        // An http(s) URL with credentials has a host, so both calls succeed.
        let _ = self.url.set_username("");
        let _ = self.url.set_password(None);
        if self.headers.contains_key(header::AUTHORIZATION) {
            return;
        }
        let mut pair = user;
        pair.push(b':');
        pair.extend(password.unwrap_or_default());
        let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
        if let Ok(mut value) = HeaderValue::try_from(format!("Basic {encoded}")) {
            value.set_sensitive(true);
            self.headers.insert(header::AUTHORIZATION, value);
        }
    }

    /// The request for a reconnection, before the user's hook.
    pub fn resume(&self, attempt: u32, last_event_id: &crate::Utf8Bytes) -> ReconnectRequest {
        let mut headers = self.headers.clone();
        set_last_event_id(&mut headers, last_event_id);
        ReconnectRequest {
            method: self.method.clone(),
            url: self.url.clone(),
            headers,
            body: self.body.clone(),
            attempt,
            last_event_id: last_event_id.clone(),
        }
    }
}

impl From<ReconnectRequest> for Parts {
    fn from(r: ReconnectRequest) -> Self {
        Parts {
            method: r.method,
            url: r.url,
            headers: r.headers,
            body: r.body,
        }
    }
}

pub(super) fn set_last_event_id(headers: &mut HeaderMap, id: &str) {
    const NAME: &str = "last-event-id";
    // An id with characters a header cannot carry (the parser allows any but
    // NUL, LF and CR) is not sent: better no resume than a failed request.
    match HeaderValue::from_str(id) {
        Ok(value) if !id.is_empty() => {
            headers.insert(NAME, value);
        }
        _ => {
            headers.remove(NAME);
        }
    }
}

/// Fetch's "request-body-header names", removed with the body.
pub(super) fn strip_body_headers(headers: &mut HeaderMap) {
    for name in [
        header::CONTENT_TYPE,
        header::CONTENT_LENGTH,
        header::CONTENT_ENCODING,
        header::CONTENT_LANGUAGE,
        header::CONTENT_LOCATION,
    ] {
        headers.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The session's rule for an id it may resume a POST with (no std `http` in
    /// the sans-IO core) is the header rule that decides whether the id is sent.
    #[test]
    fn the_session_and_the_header_agree_on_which_ids_can_be_sent() {
        for c in (0u32..0x100).filter_map(char::from_u32) {
            let id = format!("a{c}b");
            assert_eq!(
                crate::protocol::is_header_value(&id),
                HeaderValue::from_str(&id).is_ok(),
                "{c:?}"
            );
        }
    }
}
