// Types for postsource.js, the public entry of the postsource browser module.

/** Options for `new PostSource(url, options)`. Times are milliseconds. */
export interface PostSourceInit {
  /** HTTP method; default GET, or POST when a body is given. Normalised as fetch
   * does: DELETE, GET, HEAD, OPTIONS, POST and PUT in upper case, others as given. */
  method?: string;
  /** Request headers. `Accept: text/event-stream` is added unless set. */
  headers?: HeadersInit;
  /** Request body (re-sent as is on each reconnection, unless `resumeWithGet`); not
   * a `ReadableStream`, which can be sent only once (a TypeError). */
  body?: Exclude<BodyInit, ReadableStream> | null;
  /**
   * Send each reconnection as a GET without the body (and its Content-Type), with
   * `Last-Event-ID` and the other headers: how MCP's Streamable HTTP resumes the
   * reply to a POST. The policy is unchanged: with "auto", a POST is resumed only
   * after the server has sent an event id.
   */
  resumeWithGet?: boolean;
  /** fetch credentials mode; default "same-origin". */
  credentials?: RequestCredentials;
  /** EventSource compatibility: true means credentials "include". */
  withCredentials?: boolean;
  /** The whole run; then an `error` of kind "timeout" and `close`. */
  timeout?: number;
  /** No bytes for this long: the connection is dropped (and reconnected per policy). */
  idleTimeout?: number;
  /** No response head for this long (default: `idleTimeout`): as `idleTimeout`. */
  responseTimeout?: number;
  /**
   * "auto" (default): reconnect only if the method is idempotent or the server has
   * sent an event id (a POST is never re-sent blindly). "always"/true, "never"/false.
   */
  reconnect?: 'auto' | 'always' | 'never' | boolean;
  /** Initial reconnection time (default 3000); the server's `retry:` replaces it. */
  retry?: number;
  /** At most this many reconnection attempts in a row without an event. */
  maxRetries?: number;
  /** Give up when reconnecting has gone on this long without an event. */
  maxElapsed?: number;
  /** Treat 429 and 503 as "try again later" (honouring Retry-After seconds). */
  retryUnavailable?: boolean;
  /** Last-Event-ID for the first request. */
  lastEventId?: string;
  /** Largest event (and line) in bytes; over it: `error` kind "too_large", `close`. */
  maxEventSize?: number;
  /** End normally (close reason "until_data") after an event whose data equals this. */
  untilData?: string;
  /** How many bytes of an error response body `error.body` keeps (default 65536). */
  maxErrorBody?: number;
  /** Aborting it fires `error` (kind "aborted") then `close` (reason "error"), at once:
   * `readyState` is CLOSED when `abort()` returns (after the current event, when
   * aborted from one of this source's listeners). */
  signal?: AbortSignal;
}

/** The `open` event. */
export interface PostSourceOpenEvent<H = Headers> extends Event {
  readonly status: number;
  /** Response headers (a `Headers`; for XhrSource, `name: value` lines). */
  readonly headers: H;
  /** The final URL after redirects. */
  readonly url: string;
}

/** Error kinds, as in the postsource CLI where they overlap. */
export type PostSourceErrorKind =
  | 'network' | 'timeout' | 'idle_timeout' | 'status' | 'content_type'
  | 'too_large' | 'aborted' | 'eof';

/** The `error` event: a failure (then `close`) or, if `reconnecting`, a retry. */
export interface PostSourceErrorEvent extends Event {
  readonly kind: PostSourceErrorKind;
  /** A short sentence; for "status" it includes the response body text. */
  readonly reason: string;
  /** Same as `reason`. */
  readonly message: string;
  /** HTTP status, 0 if there was no response. */
  readonly status: number;
  /** The first bytes of an error response's body ("" if none). */
  readonly body: string;
  /** True when a reconnection follows (readyState is CONNECTING). */
  readonly reconnecting: boolean;
  /** The wait before that reconnection, in ms. */
  readonly delay?: number;
}

/** The `close` event: fired exactly once, last, when readyState becomes CLOSED. */
export interface PostSourceCloseEvent extends Event {
  readonly reason: 'aborted' | 'eof' | 'no_content' | 'until_data' | 'error';
}

export interface PostSourceEventMap<H = Headers> {
  open: PostSourceOpenEvent<H>;
  message: MessageEvent<string>;
  error: PostSourceErrorEvent;
  close: PostSourceCloseEvent;
}

/**
 * An EventSource that can POST: same shape, any method, headers and body.
 * As with EventSource, a server event named "open", "error" or "close" is
 * dispatched under that name too, as a MessageEvent (tell it apart with
 * `e instanceof MessageEvent`); the lifecycle events are plain Events.
 */
export declare class PostSource extends EventTarget {
  /**
   * Throws a "SyntaxError" DOMException for a URL that does not parse (as
   * EventSource does), and a TypeError naming a bad option.
   */
  constructor(url: string | URL, options?: PostSourceInit | null);
  static readonly CONNECTING: 0;
  static readonly OPEN: 1;
  static readonly CLOSED: 2;
  readonly CONNECTING: 0;
  readonly OPEN: 1;
  readonly CLOSED: 2;
  readonly url: string;
  readonly withCredentials: boolean;
  readonly readyState: 0 | 1 | 2;
  readonly lastEventId: string;
  onopen: ((this: PostSource, ev: PostSourceOpenEvent) => any) | null;
  onmessage: ((this: PostSource, ev: MessageEvent<string>) => any) | null;
  onerror: ((this: PostSource, ev: PostSourceErrorEvent) => any) | null;
  onclose: ((this: PostSource, ev: PostSourceCloseEvent) => any) | null;
  /** Abort now: `close` (reason "aborted") fires once, synchronously; then nothing. */
  close(): void;
  addEventListener<K extends keyof PostSourceEventMap>(
    type: K, listener: (this: PostSource, ev: PostSourceEventMap[K]) => any,
    options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: (this: PostSource, ev: MessageEvent<string>) => any,
    options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject,
    options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof PostSourceEventMap>(
    type: K, listener: (this: PostSource, ev: PostSourceEventMap[K]) => any,
    options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: (this: PostSource, ev: MessageEvent<string>) => any,
    options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject,
    options?: boolean | EventListenerOptions): void;
}

/** Options of the XMLHttpRequest-helper pattern (reconnect defaults to "never"). */
export type XhrSourceInit = PostSourceInit;

/** A PostSource whose `open` carries headers as getAllResponseHeaders() text. */
export type XhrSourceTarget = Omit<PostSource, 'onopen' | 'addEventListener' | 'removeEventListener'> & {
  onopen: ((this: XhrSourceTarget, ev: PostSourceOpenEvent<string>) => any) | null;
  addEventListener<K extends keyof PostSourceEventMap<string>>(
    type: K, listener: (this: XhrSourceTarget, ev: PostSourceEventMap<string>[K]) => any,
    options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject,
    options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof PostSourceEventMap<string>>(
    type: K, listener: (this: XhrSourceTarget, ev: PostSourceEventMap<string>[K]) => any,
    options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject,
    options?: boolean | EventListenerOptions): void;
};

/** The XMLHttpRequest-helper pattern, built on PostSource. */
export declare function XhrSource(url: string | URL, options?: XhrSourceInit): XhrSourceTarget;

/** Resolves when the wasm is loaded (wasm-bindgen's `init()` convention); not
 * needed, as a PostSource made earlier waits for it by itself. */
export default function init(_moduleOrPath?: unknown): Promise<void>;
