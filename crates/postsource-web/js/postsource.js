// PostSource: an EventSource that can POST, on the postsource Rust core (wasm).
//
// This file is the module's public entry. wasm-bindgen cannot make a Rust type
// subclass EventTarget, so this thin layer does only that: it owns the
// EventTarget, the on* properties and the event objects, and forwards the wasm
// Core's calls (open, message, error, close) as DOM events. Connecting, parsing,
// timeouts and reconnection all happen in Rust, and so do the order guarantees
// (nothing after close, error before the close of the same cause, close exactly
// once). The one ordering rule kept here: a close() called from inside a listener
// delivers `close` after that event has reached its other listeners.
//
// The wasm (postsource_web_core_bg.wasm, next to this file) starts loading on
// import, with no top-level await: a module Worker would drop the messages posted
// to it while its imports wait, and bundlers' worker and older targets refuse the
// syntax. A source made before the wasm is ready is CONNECTING, checks its
// options at once as usual, and starts its Core when the wasm is ready.
import initCore, { Core } from './postsource_web_core.js';

let coreReady = false;
const ready = initCore().then(() => {
  coreReady = true;
});
// A failure is reported by each source (and by init()), not as an unhandled rejection.
ready.catch(() => {});

// The Core's text for an abort (src/report.rs), for a source aborted before it has one.
const ABORTED = 'The request was aborted.';

const RAW_HEADERS = Symbol('headers as getAllResponseHeaders() text');

function originOf(url) {
  try {
    return new URL(url).origin;
  } catch {
    return '';
  }
}

// The numeric options, in the order of the Rust `Setting` enum (src/options.rs).
const SETTINGS = ['reconnect', 'retryUnavailable', 'retry', 'maxRetries', 'maxElapsed', 'timeout',
  'idleTimeout', 'responseTimeout', 'maxEventSize', 'maxErrorBody'];
const RECONNECT = ['auto', 'always', 'never'];
const CREDENTIALS = ['omit', 'include', 'same-origin'];
const FETCHABLE = ['http:', 'https:', 'data:', 'blob:'];
const NORMALIZED = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT'];

// Read and check the options object (unknown keys are ignored; a bad value throws
// a TypeError naming the option), normalised for the Rust Core: reading a JS
// object field by field from wasm would cost far more code than these lines.
function coreArgs(url, options) {
  const o = options !== null && typeof options === 'object' ? options : {};
  const bad = (key) => {
    throw new TypeError(key);
  };
  const string = (key, v = o[key]) => (v == null ? undefined : typeof v === 'string' ? v : bad(key));
  // A non-negative number; undefined, null and Infinity mean "no limit" (-1).
  const number = (key) => {
    const v = o[key];
    return v == null || v === Infinity ? -1 : typeof v === 'number' && v >= 0 ? v : bad(key);
  };
  const body = o.body ?? undefined;
  // fetch sends a ReadableStream body once; a reconnection must send it again.
  if (typeof ReadableStream !== 'undefined' && body instanceof ReadableStream) bad('body');
  // fetch's normalization: its six methods in upper case, any other as given.
  const given = string('method');
  const method = (given && NORMALIZED.find((m) => m === given.toUpperCase())) ?? given
    ?? (body === undefined ? 'GET' : 'POST');
  const credentials = string('credentials') ?? (o.withCredentials ? 'include' : 'same-origin');
  if (!CREDENTIALS.includes(credentials)) bad('credentials');
  const r = o.reconnect;
  let reconnect = r == null ? 0 : typeof r === 'boolean' ? (r ? 1 : 2) : RECONNECT.indexOf(r);
  if (reconnect < 0) bad('reconnect');
  // fetch has nothing but a network error for another scheme: as EventSource does,
  // fail the connection at once instead of retrying what is futile.
  if (!FETCHABLE.includes(new URL(url).protocol)) reconnect = 2;
  const settings = SETTINGS.map((key, i) => (i === 0 ? reconnect : i === 1 ? +!!o[key] : number(key)));
  // cache: "no-store" instead of a Cache-Control request header, which would force
  // a CORS preflight on every cross-origin stream.
  const init = { method, headers: new Headers(o.headers ?? {}), body, credentials, cache: 'no-store' };
  // Reconnections as GETs without the body: how MCP's Streamable HTTP resumes a reply.
  let resume;
  if (o.resumeWithGet) {
    resume = { ...init, method: 'GET', body: undefined, headers: new Headers(init.headers) };
    resume.headers.delete('content-type');
  }
  return [url, method, init, settings, string('untilData'), string('lastEventId') ?? '', resume];
}

// As EventSource: a URL that does not parse is a SyntaxError DOMException.
function resolve(url) {
  try {
    return new URL(url, globalThis.location?.href).href;
  } catch {
    throw new DOMException(`Invalid URL: ${url}`, 'SyntaxError');
  }
}

function headerLines(headers) {
  let text = '';
  for (const [name, value] of headers) text += `${name}: ${value}\r\n`;
  return text;
}

/** An EventSource for any method, headers and body. See postsource.d.ts. */
export class PostSource extends EventTarget {
  #core;
  #sink;
  #closed = false;
  #lastEventId = '';
  #origin = '';
  #handlers = {};
  #depth = 0;
  #pendingClose = null;
  #url;
  #withCredentials;

  constructor(url, options) {
    super();
    if (arguments.length === 0) throw new TypeError('PostSource: a URL is required');
    options ??= {};
    this.#url = resolve(url);
    this.#withCredentials =
      options.credentials === 'include' || (!options.credentials && !!options.withCredentials);
    const sink = {
      open: (status, headers, finalUrl) => {
        this.#origin = originOf(finalUrl || this.#url);
        const shown = options[RAW_HEADERS] ? headerLines(headers) : headers;
        this.#fire('open', { status, headers: shown, url: finalUrl || this.#url });
      },
      message: (type, data, lastEventId) => {
        this.#dispatch(new MessageEvent(type, { data, lastEventId, origin: this.#origin }));
      },
      error: (kind, reason, status, body, delay) => {
        const reconnecting = delay >= 0;
        this.#fire('error', {
          kind, reason, message: reason, status, body, reconnecting,
          delay: reconnecting ? delay : undefined,
        });
      },
      close: (reason) => {
        const core = this.#core;
        this.#closed = true;
        if (core) {
          this.#lastEventId = core.lastEventId;
          // Not inside the call that is still borrowing the core.
          queueMicrotask(() => core.free());
        }
        const event = Object.assign(new Event('close'), { reason });
        // close() from a listener: `close` follows that event's other listeners,
        // so it is never seen before an event already being delivered.
        if (this.#depth > 0) this.#pendingClose = event;
        else this.#dispatch(event);
      },
    };
    const args = coreArgs(this.#url, options);
    this.#lastEventId = args[5];
    this.#sink = sink;
    if (coreReady) {
      this.#core = new Core(sink, ...args);
    } else {
      // What the Core would throw at once: a bad method, header or URL for fetch.
      new Request(args[0], args[2]);
      if (args[6]) new Request(args[0], args[6]);
      ready.then(
        () => this.#closed || this.#start(args),
        (e) => this.#closed || this.#fail('network', `The postsource wasm module did not load: ${e}`),
      );
    }
    const signal = options.signal;
    if (signal) {
      const abort = () => this.#closed || (this.#core ? this.#core.abort() : this.#fail('aborted', ABORTED));
      // Aborted already: later, as listeners are not attached yet. Aborted from one of
      // this source's listeners: after that event, as for close(). Otherwise at once,
      // so that readyState is CLOSED when abort() returns.
      const later = () => queueMicrotask(abort);
      if (signal.aborted) later();
      else signal.addEventListener('abort', () => (this.#depth > 0 ? later() : abort()), { once: true });
    }
  }

  // The Core of a source made before the wasm was ready. What it would throw was
  // checked when the source was made; only a late surprise lands in `catch`.
  #start(args) {
    try {
      this.#core = new Core(this.#sink, ...args);
    } catch (e) {
      this.#fail('network', String(e));
    }
  }

  // A failure of a source that has no Core (yet), in the Core's own order.
  #fail(kind, reason) {
    this.#sink.error(kind, reason, 0, '', -1);
    this.#sink.close('error');
  }

  #fire(type, fields) {
    this.#dispatch(Object.assign(new Event(type), fields));
  }

  #dispatch(event) {
    this.#depth += 1;
    try {
      this.dispatchEvent(event);
    } finally {
      this.#depth -= 1;
    }
    const pending = this.#depth === 0 && this.#pendingClose;
    if (pending) {
      this.#pendingClose = null;
      this.dispatchEvent(pending);
    }
  }

  /** The absolute URL of the request. */
  get url() {
    return this.#url;
  }

  /** True when credentials are "include" (EventSource's withCredentials). */
  get withCredentials() {
    return this.#withCredentials;
  }

  /** 0 CONNECTING, 1 OPEN, 2 CLOSED. */
  get readyState() {
    return this.#closed ? 2 : (this.#core?.readyState ?? 0);
  }

  /** The last event id, sent as Last-Event-ID when reconnecting. */
  get lastEventId() {
    return this.#closed || !this.#core ? this.#lastEventId : this.#core.lastEventId;
  }

  get [Symbol.toStringTag]() {
    return 'PostSource';
  }

  /** Abort the request now. Fires `close` (reason "aborted") once; then nothing. */
  close() {
    if (this.#closed) return;
    if (this.#core) this.#core.close();
    else this.#sink.close('aborted');
  }

  static {
    for (const [name, value] of [['CONNECTING', 0], ['OPEN', 1], ['CLOSED', 2]]) {
      Object.defineProperty(this, name, { value, enumerable: true });
      Object.defineProperty(this.prototype, name, { value, enumerable: true });
    }
    for (const type of ['open', 'message', 'error', 'close']) {
      Object.defineProperty(this.prototype, `on${type}`, {
        configurable: true,
        enumerable: true,
        // As an event handler attribute: one listener of its own, added when first
        // set, that calls the current handler, so a new handler keeps its place among
        // the listeners, and null removes only it (never an addEventListener one).
        get() {
          return this.#handlers[type]?.handler ?? null;
        },
        set(handler) {
          const slot = this.#handlers[type];
          if (typeof handler !== 'function') {
            if (slot) this.removeEventListener(type, slot.listener);
            delete this.#handlers[type];
          } else if (slot) {
            slot.handler = handler;
          } else {
            const entry = { handler, listener: (event) => entry.handler.call(this, event) };
            this.#handlers[type] = entry;
            this.addEventListener(type, entry.listener);
          }
        },
      });
    }
  }
}

/**
 * The XMLHttpRequest-helper pattern on PostSource: same options (timeout in ms),
 * no reconnection by default, and `open` carrying headers as
 * getAllResponseHeaders() text. Returns the PostSource (an EventTarget).
 */
export function XhrSource(url, options = {}) {
  return new PostSource(url, { reconnect: 'never', ...options, [RAW_HEADERS]: true });
}

/**
 * Resolves when the wasm is loaded (rejects if it cannot be), for code written for
 * wasm-bindgen's `--target web` convention (`import init, { PostSource } from ...;
 * await init();`). Not needed: a PostSource made earlier waits for it by itself.
 */
export default function init() {
  return ready;
}
