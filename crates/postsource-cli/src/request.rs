//! From parsed arguments to a checked request: every usage error is found here,
//! before anything is sent.
//!
//! A malformed `-H`, an unknown method, a URL that is not http(s), a missing `@file`,
//! contradictory options: each becomes a [`UsageError`] with a message that says what
//! was wrong and what was expected; `main` prints it and exits 2. The request body
//! from stdin (`@-`) is read later, by the async runner, so that Ctrl-C still works
//! while waiting for it.

use std::path::PathBuf;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method};
use url::Url;

use crate::args::ClientArgs;

/// A usage error: printed on stderr, exit status 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where the request body comes from.
#[derive(Debug, Clone)]
pub enum Body {
    /// Already known (text or a file's contents).
    Bytes(Bytes),
    /// Standard input, read before connecting.
    Stdin,
}

/// The request to make, checked.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The method.
    pub method: Method,
    /// The URL.
    pub url: Url,
    /// `-H` headers in order, plus `-A` (or the default User-Agent) and `--bearer`.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The body, if any.
    pub body: Option<Body>,
    /// The body is JSON (`--json`): send Content-Type: application/json.
    pub json: bool,
    /// Last-Event-ID of the first request.
    pub last_event_id: Option<String>,
    /// `--compressed`: let the HTTP client ask for and decode compressed bodies.
    pub compressed: bool,
}

impl Spec {
    /// Whether the user set this header (case-insensitive, as HTTP names are).
    pub fn has_header(&self, name: &str) -> bool {
        self.headers.iter().any(|(n, _)| n.as_str() == name)
    }

    /// The URL to show (`-v`, the status line, `--record`): without the password of
    /// `http://user:password@host/`, which goes as `Authorization: Basic`.
    pub fn shown_url(&self) -> Url {
        let mut url = self.url.clone();
        if url.password().is_some() {
            let _ = url.set_password(None);
        }
        url
    }

    /// The headers postsource sends on the first request, for `--verbose`.
    pub fn shown_headers(&self) -> Vec<(String, String)> {
        let mut shown = Vec::new();
        let mut default = |name: &str, value: &str| {
            if !self.has_header(name) {
                shown.push((name.to_owned(), value.to_owned()));
            }
        };
        default("accept", "text/event-stream");
        default("cache-control", "no-cache");
        if self.json {
            default("content-type", "application/json");
        }
        if let Some(id) = &self.last_event_id {
            default("last-event-id", id);
        }
        if !self.compressed {
            default("accept-encoding", "identity");
        }
        for (name, value) in &self.headers {
            shown.push((
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            ));
        }
        shown
    }
}

/// Checks the arguments and builds the request.
pub fn from_args(args: &ClientArgs) -> Result<Spec, UsageError> {
    let raw_url = args
        .url
        .as_deref()
        .ok_or_else(|| UsageError("a URL is required".into()))?;
    let url = parse_url(raw_url)?;
    let mut headers = Vec::new();
    for h in &args.headers {
        headers.push(parse_header(h)?);
    }
    if let Some(agent) = &args.user_agent {
        let value = HeaderValue::from_str(agent)
            .map_err(|_| UsageError(format!("--user-agent {agent:?}: not a valid header value")))?;
        headers.push((http::header::USER_AGENT, value));
    }
    if !headers.iter().any(|(n, _)| n == http::header::USER_AGENT) {
        // Servers log it, and some APIs refuse requests without one.
        let default = concat!("postsource/", env!("CARGO_PKG_VERSION"));
        headers.push((http::header::USER_AGENT, HeaderValue::from_static(default)));
    }
    if let Some(token) = &args.bearer {
        let value = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| UsageError("--bearer: the token is not a valid header value".into()))?;
        headers.push((http::header::AUTHORIZATION, value));
    }
    let (body, json) = match (&args.data, &args.json) {
        (Some(_), Some(_)) => {
            return Err(UsageError(
                "use either -d/--data or --json, not both".into(),
            ));
        }
        (Some(data), None) => (Some(body_arg("--data", data)?), false),
        (None, Some(json)) => (Some(body_arg("--json", json)?), true),
        (None, None) => (None, false),
    };
    let method = match &args.method {
        Some(m) => Method::from_bytes(normalize_method(m).as_bytes())
            .map_err(|_| UsageError(format!("-X {m:?}: not a valid HTTP method")))?,
        None if body.is_some() => Method::POST,
        None => Method::GET,
    };
    if let Some(id) = &args.last_event_id
        && (id.contains(['\r', '\n', '\0']) || HeaderValue::from_str(id).is_err())
    {
        return Err(UsageError(format!(
            "--last-event-id {id:?}: cannot be sent as a header value"
        )));
    }
    if args
        .record
        .as_ref()
        .is_some_and(|p| p.as_os_str().is_empty())
    {
        return Err(UsageError("--record: empty file name".into()));
    }
    Ok(Spec {
        method,
        url,
        headers,
        body,
        json,
        last_event_id: args.last_event_id.clone(),
        compressed: args.compressed,
    })
}

fn parse_url(raw: &str) -> Result<Url, UsageError> {
    let url = Url::parse(raw).map_err(|e| {
        UsageError(format!(
            "{raw:?} is not a valid URL ({e}); expected e.g. http://127.0.0.1:8080/path"
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(UsageError(format!(
            "{raw:?}: only http:// and https:// URLs are supported"
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(UsageError(format!("{raw:?}: the URL has no host")));
    }
    Ok(url)
}

/// `Name: value` → a header. The value may be empty (`X-Empty:`).
pub fn parse_header(raw: &str) -> Result<(HeaderName, HeaderValue), UsageError> {
    let bad = |why: &str| UsageError(format!("-H {raw:?}: {why}; expected 'Name: value'"));
    let (name, value) = raw.split_once(':').ok_or_else(|| bad("no colon"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(bad("empty header name"));
    }
    let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad("invalid header name"))?;
    let value = HeaderValue::from_str(value.trim_matches([' ', '\t']))
        .map_err(|_| bad("invalid header value"))?;
    Ok((name, value))
}

fn body_arg(option: &str, arg: &str) -> Result<Body, UsageError> {
    match arg.strip_prefix('@') {
        Some("-") => Ok(Body::Stdin),
        Some("") => Err(UsageError(format!(
            "{option} @: a file name is needed after @ (or @- for stdin)"
        ))),
        Some(path) => std::fs::read(PathBuf::from(path))
            .map(|bytes| Body::Bytes(Bytes::from(bytes)))
            .map_err(|e| UsageError(format!("{option} @{path}: cannot read the file: {e}"))),
        None => Ok(Body::Bytes(Bytes::copy_from_slice(arg.as_bytes()))),
    }
}

/// Fetch's method normalization: the six methods it knows are sent in upper case
/// however they are typed (`-X get` is GET, and is reconnected as GET); any other is
/// sent as given (methods are case-sensitive: `patch` is not PATCH).
fn normalize_method(method: &str) -> std::borrow::Cow<'_, str> {
    const KNOWN: [&str; 6] = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"];
    match KNOWN
        .iter()
        .find(|known| known.eq_ignore_ascii_case(method))
    {
        Some(known) => (*known).into(),
        None => method.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        let (n, v) = parse_header("X-A:  b c ").unwrap();
        assert_eq!((n.as_str(), v.to_str().unwrap()), ("x-a", "b c"));
        let (n, v) = parse_header("X-Empty:").unwrap();
        assert_eq!((n.as_str(), v.to_str().unwrap()), ("x-empty", ""));
        assert!(parse_header("NoColon").is_err());
        assert!(parse_header(": v").is_err());
        assert!(parse_header("Bad Name: v").is_err());
        assert!(parse_header("X: a\nb").is_err());
    }

    #[test]
    fn urls() {
        assert!(parse_url("http://127.0.0.1:1/x").is_ok());
        assert!(parse_url("ftp://x/").is_err());
        assert!(parse_url("not a url").is_err());
        assert!(parse_url("127.0.0.1:8080").is_err());
    }

    #[test]
    fn methods_fetch_knows_are_upper_cased() {
        assert_eq!(normalize_method("get"), "GET");
        assert_eq!(normalize_method("Post"), "POST");
        assert_eq!(normalize_method("patch"), "patch");
        assert_eq!(normalize_method("PROPFIND"), "PROPFIND");
    }
}
