//! The browser functions the shell calls, bound by hand rather than through
//! `web_sys::Window`, so the same module works in a page and in a worker (both
//! have a global `fetch` and `setTimeout`), and the callbacks into the JS wrapper.

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use web_sys::{Headers, Request};

#[wasm_bindgen]
extern "C" {
    /// The global `fetch(request)`.
    #[wasm_bindgen(js_name = fetch)]
    pub fn fetch_request(request: &Request) -> Promise;

    /// The global `setTimeout(callback, ms)`; the id is a number.
    #[wasm_bindgen(js_name = setTimeout)]
    pub fn set_timeout(callback: &js_sys::Function, ms: f64) -> f64;

    /// The global `clearTimeout(id)`.
    #[wasm_bindgen(js_name = clearTimeout)]
    pub fn clear_timeout(id: f64);

    /// `performance.now()`: a monotonic clock in milliseconds.
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    pub fn now() -> f64;

    /// The JS side of a stream: `js/postsource.js` turns each call into a DOM event.
    pub type Sink;

    /// The response opened the stream.
    #[wasm_bindgen(method)]
    pub fn open(this: &Sink, status: u16, headers: &Headers, url: &str);

    /// An event was dispatched (`event` is its type, `message` by default).
    #[wasm_bindgen(method)]
    pub fn message(this: &Sink, event: &str, data: &str, last_event_id: &str);

    /// A failure (`delay` < 0), or a reconnection in `delay` ms.
    #[wasm_bindgen(method)]
    pub fn error(this: &Sink, kind: &str, reason: &str, status: u16, body: &str, delay: f64);

    /// The stream is CLOSED; called exactly once, last.
    #[wasm_bindgen(method)]
    pub fn close(this: &Sink, reason: &str);
}
