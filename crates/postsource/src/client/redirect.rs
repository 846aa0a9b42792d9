//! Redirects, followed by hand so they can be POST-aware (reqwest's own policy is
//! turned off on the clients this module builds): 307 and 308 keep the method
//! and the body, 301/302 after a POST and 303 after anything but GET/HEAD become a
//! GET without a body, as `fetch` does — or fail, by configuration. Credentials
//! are not forwarded to another origin.

use http::header::{self, HeaderMap};
use http::{Method, StatusCode};
use percent_encoding::{CONTROLS, percent_encode};

use super::error::{Error, ErrorKind};
use super::request::{Parts, strip_body_headers};

/// How redirects are followed. Default: up to 10, changing the method as `fetch`.
///
/// Only applies to the client the builder makes itself; a `reqwest::Client` you
/// pass in follows its own redirect policy (reqwest's default also follows up to
/// 10 and strips credentials across origins).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RedirectPolicy {
    limit: usize,
    change_method: bool,
}

impl Default for RedirectPolicy {
    fn default() -> Self {
        RedirectPolicy {
            limit: 10,
            change_method: true,
        }
    }
}

impl RedirectPolicy {
    /// Follow at most `limit` redirects in a row (then fail with
    /// [`ErrorKind::Redirect`]).
    pub fn limited(limit: usize) -> Self {
        RedirectPolicy {
            limit,
            ..RedirectPolicy::default()
        }
    }

    /// Do not follow redirects: a 3xx response is an [`ErrorKind::Status`] error.
    pub fn none() -> Self {
        RedirectPolicy {
            limit: 0,
            change_method: true,
        }
    }

    /// Fail with [`ErrorKind::Redirect`] instead of turning a POST (or, on 303,
    /// any non-GET) into a bodiless GET.
    pub fn keep_method(mut self) -> Self {
        self.change_method = false;
        self
    }

    pub(super) fn follows(&self) -> bool {
        self.limit > 0
    }

    /// The next request after a redirect response, or `Ok(None)` when the response
    /// is not a redirect to follow (it is then judged as any other response).
    pub(super) fn next(
        &self,
        from: &Parts,
        status: StatusCode,
        headers: &HeaderMap,
        hops: usize,
    ) -> Result<Option<Parts>, Error> {
        if !self.follows() || !matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
            return Ok(None);
        }
        let Some(location) = headers.get(header::LOCATION) else {
            return Ok(None);
        };
        // Bytes past ASCII are percent-encoded: for UTF-8 that is what the URL
        // parser does with the decoded text, for other bytes what curl does.
        let location = percent_encode(location.as_bytes(), CONTROLS).to_string();
        // The redirect is the response received: its status goes with the error.
        let url_err = |msg: String| {
            Error::new(ErrorKind::Redirect, msg)
                .with_url(Some(from.url.clone()))
                .with_response(status, headers.clone(), None)
        };
        if hops >= self.limit {
            return Err(url_err(format!("more than {} redirects", self.limit)));
        }
        let url = from
            .url
            .join(&location)
            .map_err(|e| url_err(format!("redirect to an invalid location {location:?}: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(url_err(format!("redirect to a non-HTTP URL {url}")));
        }
        let mut next = Parts {
            url,
            ..from.clone()
        };
        let to_get = match status.as_u16() {
            301 | 302 => from.method == Method::POST,
            303 => from.method != Method::GET && from.method != Method::HEAD,
            _ => false,
        };
        if to_get {
            if !self.change_method {
                return Err(url_err(format!(
                    "{status} would turn {} into GET",
                    from.method
                )));
            }
            next.method = Method::GET;
            next.body = None;
            strip_body_headers(&mut next.headers);
        }
        if next.url.origin() != from.url.origin() {
            for name in [
                header::AUTHORIZATION,
                header::COOKIE,
                header::PROXY_AUTHORIZATION,
            ] {
                next.headers.remove(name);
            }
        }
        Ok(Some(next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http::HeaderValue;

    fn parts(method: Method, url: &str) -> Parts {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, "Bearer t".parse().unwrap());
        headers.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        Parts {
            method,
            url: url.parse().unwrap(),
            headers,
            body: Some(Bytes::from_static(b"{}")),
        }
    }

    fn location(to: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::LOCATION, to.parse().unwrap());
        h
    }

    #[test]
    fn method_rules() {
        let p = RedirectPolicy::default();
        let post = parts(Method::POST, "http://a.test/x");
        for (status, keeps) in [
            (307, true),
            (308, true),
            (301, false),
            (302, false),
            (303, false),
        ] {
            let next = p
                .next(
                    &post,
                    StatusCode::from_u16(status).unwrap(),
                    &location("/y"),
                    0,
                )
                .unwrap()
                .unwrap();
            assert_eq!(next.method == Method::POST, keeps, "{status}");
            assert_eq!(next.body.is_some(), keeps, "{status}");
            assert_eq!(next.headers.contains_key(header::CONTENT_TYPE), keeps);
            assert_eq!(next.url.as_str(), "http://a.test/y");
            assert!(
                next.headers.contains_key(header::AUTHORIZATION),
                "same origin keeps auth"
            );
        }
        let put = parts(Method::PUT, "http://a.test/x");
        let next = p
            .next(&put, StatusCode::FOUND, &location("/y"), 0)
            .unwrap()
            .unwrap();
        assert_eq!(next.method, Method::PUT);
        let next = p
            .next(&put, StatusCode::SEE_OTHER, &location("/y"), 0)
            .unwrap()
            .unwrap();
        assert_eq!(next.method, Method::GET);
        let err = p
            .keep_method()
            .next(&post, StatusCode::SEE_OTHER, &location("/y"), 0)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Redirect);
        assert_eq!(err.status(), Some(StatusCode::SEE_OTHER), "{err}");
    }

    #[test]
    fn cross_origin_strips_credentials_and_limits_apply() {
        let p = RedirectPolicy::limited(2);
        let get = parts(Method::GET, "http://a.test/x");
        let next = p
            .next(
                &get,
                StatusCode::TEMPORARY_REDIRECT,
                &location("http://b.test:81/z"),
                1,
            )
            .unwrap()
            .unwrap();
        assert!(!next.headers.contains_key(header::AUTHORIZATION));
        let err = p
            .next(&get, StatusCode::TEMPORARY_REDIRECT, &location("/z"), 2)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Redirect);
        assert_eq!(err.status(), Some(StatusCode::TEMPORARY_REDIRECT), "{err}");
        assert!(
            RedirectPolicy::none()
                .next(&get, StatusCode::FOUND, &location("/z"), 0)
                .unwrap()
                .is_none()
        );
        assert!(
            p.next(&get, StatusCode::FOUND, &HeaderMap::new(), 0)
                .unwrap()
                .is_none()
        );
        assert!(
            p.next(&get, StatusCode::NOT_MODIFIED, &location("/z"), 0)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn a_location_past_ascii_is_percent_encoded() {
        let get = parts(Method::GET, "http://a.test/x");
        for (bytes, expected) in [
            (&b"/caf\xc3\xa9"[..], "http://a.test/caf%C3%A9"),
            (&b"/caf\xe9 x"[..], "http://a.test/caf%E9%20x"),
        ] {
            let mut h = HeaderMap::new();
            h.insert(header::LOCATION, HeaderValue::from_bytes(bytes).unwrap());
            let next = RedirectPolicy::default()
                .next(&get, StatusCode::FOUND, &h, 0)
                .unwrap()
                .unwrap();
            assert_eq!(next.url.as_str(), expected);
        }
    }
}
