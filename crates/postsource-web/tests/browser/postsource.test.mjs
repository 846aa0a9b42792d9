// PostSource and XhrSource in headless Chromium, against the local test server.
// The page is loaded from one origin and the streams come from another, so every
// request here is a real CORS request (with preflights for custom headers).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, startBrowser, openTestPage, eventually } from './harness.mjs';

let server, browser, page, errors;

before(async () => {
  server = await startServer();
  browser = await startBrowser();
  ({ page, errors } = await openTestPage(browser, server));
});

after(async () => {
  await browser?.close();
  server?.stop();
});

const run = (fn, arg = {}) => page.evaluate(fn, { api: server.api, ...arg });
const seen = async (token) => (await fetch(`${server.api}/seen/${token}`)).json();
const types = (log) => log.map((e) => e.type);
const closes = (log) => log.filter((e) => e.type === 'close');
/** Page errors (uncaught exceptions, unhandled rejections) are never acceptable. */
const pageErrors = () => errors.filter((e) => e.startsWith('pageerror'));

test('POST with a JSON body and headers, cross-origin: open, the echoed request, close on EOF', async () => {
  const log = await run(async ({ api }) => {
    const s = new postsource.PostSource(`${api}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-test': 'abc' },
      body: JSON.stringify({ prompt: 'hi' }),
    });
    const log = trace(s, ['echo']);
    log.push({ type: 'initial', readyState: s.readyState, url: s.url, constants: [s.CONNECTING, s.OPEN, s.CLOSED, postsource.PostSource.CLOSED] });
    return ended(s, log);
  });
  assert.deepEqual(types(log), ['initial', 'open', 'echo', 'close']);
  assert.equal(log[0].readyState, 0);
  assert.equal(log[0].url, `${server.api}/echo`);
  assert.deepEqual(log[0].constants, [0, 1, 2, 2]);
  const [, open, echo, close] = log;
  assert.equal(open.status, 200);
  assert.equal(open.readyState, 1);
  assert.equal(open.url, `${server.api}/echo`);
  assert.equal(open.headers['x-test-header'], 'yes');
  assert.match(open.headers['content-type'], /^text\/event-stream/);
  const request = JSON.parse(echo.data);
  assert.equal(request.method, 'POST');
  assert.equal(request.contentType, 'application/json');
  assert.equal(request.xTest, 'abc');
  assert.equal(request.accept, 'text/event-stream');
  assert.equal(request.lastEventId, '');
  assert.deepEqual(JSON.parse(request.body), { prompt: 'hi' });
  assert.equal(echo.origin, server.api);
  // A POST without event ids is never re-sent: the clean EOF ends the stream.
  assert.equal(close.reason, 'eof');
  assert.equal(close.readyState, 2);
});

test('a 307 redirect keeps the POST and its body; open carries the final URL', async () => {
  const log = await run(async ({ api }) => {
    const s = new postsource.PostSource(`${api}/redirect`, { method: 'POST', body: 'kept' });
    return ended(s, trace(s, ['echo']));
  });
  assert.deepEqual(types(log), ['open', 'echo', 'close']);
  assert.equal(log[0].url, `${server.api}/echo`);
  const echo = JSON.parse(log[1].data);
  assert.deepEqual([echo.method, echo.body], ['POST', 'kept']);
});

test('named events, multi-line data, ids and lastEventId; onmessage sees only `message`', async () => {
  const log = await run(async ({ api }) => {
    const s = new postsource.PostSource(`${api}/named`, { reconnect: 'never' });
    const log = trace(s, ['greeting', 'update']);
    const viaProperty = [];
    s.onmessage = (e) => viaProperty.push(e.data);
    s.onopen = () => viaProperty.push('onopen');
    const out = await ended(s, log);
    out.push({ type: 'after', viaProperty, lastEventId: s.lastEventId, isMessageEvent: true });
    return out;
  });
  assert.deepEqual(types(log), ['open', 'greeting', 'message', 'update', 'close', 'after']);
  assert.deepEqual([log[1].data, log[1].lastEventId], ['hello', '1']);
  assert.deepEqual([log[2].data, log[2].lastEventId], ['plain', '1']);
  assert.deepEqual([log[3].data, log[3].lastEventId], ['line1\nline2', '2']);
  assert.equal(log[3].sourceLastEventId, '2');
  assert.equal(log[4].reason, 'eof');
  assert.deepEqual(log[5].viaProperty, ['onopen', 'plain']);
  // The id-only block at the end still moves the last event id (WHATWG).
  assert.equal(log[5].lastEventId, '3');
});

test('an error status carries its body text, then close; readyState is CLOSED in onerror', async () => {
  const log = await run(async ({ api }) => {
    const s = new postsource.PostSource(`${api}/status/500`, { method: 'POST', body: '{}' });
    return ended(s, trace(s));
  });
  assert.deepEqual(types(log), ['error', 'close']);
  const [error, close] = log;
  assert.equal(error.kind, 'status');
  assert.equal(error.status, 500);
  assert.equal(error.readyState, 2);
  assert.deepEqual(JSON.parse(error.body), { error: { message: 'boom 500' } });
  assert.match(error.reason, /HTTP 500: .*boom 500/);
  assert.equal(close.reason, 'error');
});

test('a 200 response that is not text/event-stream fails with kind content_type', async () => {
  const log = await run(async ({ api }) => {
    const s = new postsource.PostSource(`${api}/wrong-type`);
    return ended(s, trace(s));
  });
  assert.deepEqual(types(log), ['error', 'close']);
  assert.equal(log[0].kind, 'content_type');
  assert.equal(log[0].status, 200);
  assert.match(log[0].reason, /text\/plain/);
  assert.equal(log[0].body, 'data: not sse\n\n');
});

test('204 ends the stream cleanly: close with reason no_content and no error', async () => {
  const log = await run(async ({ api }) => {
    const s = new postsource.PostSource(`${api}/nocontent`, { reconnect: 'always' });
    return ended(s, trace(s));
  });
  assert.deepEqual(types(log), ['close']);
  assert.equal(log[0].reason, 'no_content');
});

test('a 503 retried under retryUnavailable carries its status, on the retry and on giving up', async () => {
  const log = await run(async ({ api }) => {
    const s = new postsource.PostSource(`${api}/status/503`, { retryUnavailable: true, maxRetries: 1, retry: 10 });
    return ended(s, trace(s));
  });
  assert.deepEqual(log.map((e) => [e.type, e.kind ?? e.reason, e.status, e.reconnecting]), [
    ['error', 'status', 503, true],
    ['error', 'status', 503, false],
    ['close', 'error', undefined, undefined],
  ]);
});

test('close() mid-stream settles at once, fires close once, nothing after, and the server sees the disconnect', async () => {
  const token = `close-${Date.now()}`;
  const log = await run(async ({ api, token }) => {
    const s = new postsource.PostSource(`${api}/slow/${token}`, { method: 'POST', body: 'x' });
    const log = trace(s);
    await new Promise((resolve) => {
      s.addEventListener('message', () => {
        if (log.filter((e) => e.type === 'message').length === 2) resolve();
      });
    });
    s.close();
    log.push({ type: 'returned', readyState: s.readyState, closes: log.filter((e) => e.type === 'close').length });
    s.close(); // a second close() is a no-op
    await sleep(400);
    return log;
  }, { token });
  assert.deepEqual(types(log), ['open', 'message', 'message', 'close', 'returned']);
  assert.equal(log[3].reason, 'aborted');
  assert.equal(log[4].readyState, 2);
  assert.equal(log[4].closes, 1, 'close fired synchronously inside close()');
  const observed = await eventually(async () => (await seen(token)).disconnected >= 1 && seen(token));
  assert.ok(observed, 'the server observed the disconnect');
  assert.equal(observed.connected, 1);
});

test('reconnection: a POST with server ids resumes with Last-Event-ID, honours retry:, and 204 ends it', async () => {
  const token = `resume-${Date.now()}`;
  const log = await run(async ({ api, token }) => {
    const s = new postsource.PostSource(`${api}/resume/${token}`, { method: 'POST', body: 'job' });
    return ended(s, trace(s));
  }, { token });
  assert.deepEqual(types(log), ['open', 'message', 'message', 'error', 'open', 'message', 'error', 'close']);
  assert.deepEqual(log.filter((e) => e.type === 'message').map((e) => [e.data, e.lastEventId]),
    [['one', '1'], ['two', '2'], ['three', '3']]);
  const reconnecting = log.filter((e) => e.type === 'error');
  for (const e of reconnecting) {
    assert.equal(e.reconnecting, true);
    assert.equal(e.kind, 'eof');
    assert.equal(e.readyState, 0);
  }
  assert.equal(reconnecting[0].delay, 50, 'the server retry: 50 is the first delay');
  assert.equal(log.at(-1).reason, 'no_content');
  const s = await seen(token);
  assert.deepEqual(s.lastEventIds, ['', '2', '3']);
  assert.deepEqual(s.methods, ['POST', 'POST', 'POST']);
});

test('lastEventId option is sent on the first request', async () => {
  const log = await run(async ({ api }) => {
    const s = new postsource.PostSource(`${api}/echo`, { method: 'POST', lastEventId: '41', reconnect: 'never' });
    const log = trace(s, ['echo']);
    log.push({ type: 'initial', sourceLastEventId: s.lastEventId });
    return ended(s, log);
  });
  assert.equal(log[0].sourceLastEventId, '41');
  const echo = log.find((e) => e.type === 'echo');
  assert.equal(JSON.parse(echo.data).lastEventId, '41');
});

test("the reconnection's Last-Event-ID is the one EventSource sends: UTF-8, and by the spec's rules", async () => {
  // [stream before EOF, the Last-Event-ID of the reconnection ('' for none)]
  const cases = [
    ...['é日🎉', 'ü', 'plain-7'].map((id) => [`id: ${id}\ndata: x\n\n`, id]),
    // An empty id resets it; an id in a block without data still counts; the id of a
    // block the EOF cut off does not.
    ['id: 5\ndata: a\n\nid\ndata: b\n\n', ''],
    ['id: 5\ndata: a\n\nid: 6\n\n', '6'],
    ['id: 5\ndata: a\n\nid: 7\ndata: b', '5'],
    ['id: 5\ndata: a\n\nid: 8\ndata: b\n', '5'],
  ];
  for (const [n, [stream, want]] of cases.entries()) {
    for (const kind of ['EventSource', 'PostSource']) {
      const token = `lei-${kind}-${n}-${Date.now()}`;
      await run(async ({ api, token, stream, kind }) => {
        const url = `${api}/resume-with/${token}?body=${encodeURIComponent(`retry: 10\n${stream}`)}`;
        const s = kind === 'EventSource' ? new EventSource(url) : new postsource.PostSource(url);
        // The reconnection is answered 204, which closes both.
        const start = Date.now();
        while (s.readyState !== 2 && Date.now() - start < 5000) await sleep(20);
        s.close();
      }, { token, stream, kind });
      assert.deepEqual((await seen(token)).lastEventIds, ['', want], `${kind}: ${JSON.stringify(stream)}`);
    }
  }
  const log = await run(async ({ api }) => {
    const s = new postsource.PostSource(`${api}/echo`, { lastEventId: 'é日🎉', reconnect: 'never' });
    return ended(s, trace(s, ['echo']));
  });
  assert.equal(JSON.parse(log.find((e) => e.type === 'echo').data).lastEventId, 'é日🎉');
});

test('close fires exactly once, last, after the error of the same cause, for every way a stream ends', async () => {
  const results = await run(async ({ api }) => {
    const P = postsource.PostSource;
    const cases = {
      eof: () => new P(`${api}/eof`, { method: 'POST' }),
      noContent: () => new P(`${api}/nocontent`),
      status: () => new P(`${api}/status/404`),
      contentType: () => new P(`${api}/wrong-type`),
      timeout: () => new P(`${api}/hang/t1`, { timeout: 300 }),
      timeoutBeforeOpen: () => new P(`${api}/stall`, { timeout: 300 }),
      idle: () => new P(`${api}/hang/t2`, { idleTimeout: 300, reconnect: 'never' }),
      idleThenReconnect: () => new P(`${api}/hang/t4`, { idleTimeout: 300, retry: 20, maxRetries: 1 }),
      tooLarge: () => new P(`${api}/big`, { maxEventSize: 1000 }),
      network: () => new P('http://127.0.0.1:9/', { method: 'POST' }),
      retriesExhausted: () => new P('http://127.0.0.1:9/', { retry: 20, maxRetries: 2 }),
      untilData: () => new P(`${api}/eof`, { untilData: 'a' }),
      signal: () => {
        const c = new AbortController();
        setTimeout(() => c.abort(), 200);
        return new P(`${api}/hang/t3`, { signal: c.signal });
      },
      closeInOnError: () => {
        const s = new P(`${api}/status/503`);
        s.onerror = () => s.close();
        return s;
      },
      closeWhileReconnecting: () => {
        const s = new P(`${api}/eof`, { reconnect: 'always', retry: 5000 });
        s.addEventListener('error', () => s.close());
        return s;
      },
      closeBeforeConnecting: () => {
        const s = new P(`${api}/slow/early`, { method: 'POST' });
        const log = trace(s); // close() fires `close` synchronously: listen first
        s.close();
        log.push({ type: 'returned', readyState: s.readyState });
        return [s, log];
      },
    };
    const out = {};
    await Promise.all(Object.entries(cases).map(async ([name, make]) => {
      const made = make();
      const [s, log] = Array.isArray(made) ? made : [made, trace(made)];
      out[name] = await ended(s, log, 10000);
    }));
    return out;
  });
  const expect = {
    eof: [['close', 'eof']],
    noContent: [['close', 'no_content']],
    status: [['error', 'status'], ['close', 'error']],
    contentType: [['error', 'content_type'], ['close', 'error']],
    timeout: [['error', 'timeout'], ['close', 'error']],
    timeoutBeforeOpen: [['error', 'timeout'], ['close', 'error']],
    idle: [['error', 'idle_timeout'], ['close', 'error']],
    idleThenReconnect: [['error', 'idle_timeout'], ['error', 'idle_timeout'], ['close', 'error']],
    tooLarge: [['error', 'too_large'], ['close', 'error']],
    network: [['error', 'network'], ['close', 'error']],
    retriesExhausted: [['error', 'network'], ['error', 'network'], ['error', 'network'], ['close', 'error']],
    untilData: [['close', 'until_data']],
    signal: [['error', 'aborted'], ['close', 'error']],
    closeInOnError: [['error', 'status'], ['close', 'error']],
    closeWhileReconnecting: [['error', 'eof'], ['close', 'aborted']],
    closeBeforeConnecting: [['close', 'aborted']],
  };
  assert.deepEqual(results.closeBeforeConnecting.map((e) => e.type), ['close', 'returned']);
  results.closeBeforeConnecting.pop();
  for (const [name, want] of Object.entries(expect)) {
    const log = results[name].filter((e) => e.type === 'error' || e.type === 'close');
    const got = log.map((e) => [e.type, e.type === 'close' ? e.reason : e.kind]);
    assert.deepEqual(got, want, name);
    assert.equal(closes(results[name]).length, 1, `${name}: one close`);
    assert.equal(results[name].at(-1).type, 'close', `${name}: close is last`);
    assert.equal(results[name].at(-1).readyState, 2, `${name}: CLOSED`);
  }
  assert.match(results.timeout.at(-2).reason, /timed out after 300 ms/);
  assert.deepEqual(results.idleThenReconnect.filter((e) => e.type === 'error').map((e) => e.reconnecting), [true, false]);
  assert.equal(results.idleThenReconnect.filter((e) => e.type === 'open').length, 2, 'reconnected once (GET)');
  assert.match(results.retriesExhausted.at(-2).reason, /Gave up after 2 reconnection attempts/);
  assert.deepEqual(results.untilData.filter((e) => e.type === 'message').map((e) => e.data), ['a']);
  assert.deepEqual(results.tooLarge.filter((e) => e.type === 'message').map((e) => e.data), []);
});

test('the module under the crate name is the same module; init() follows the wasm-bindgen convention', async () => {
  const same = await run(async () => {
    const m = await import('../postsource_web.js');
    await m.default();
    return [m.PostSource === postsource.PostSource, m.XhrSource === postsource.XhrSource,
      typeof postsource.default, new m.PostSource('data:,').readyState];
  });
  assert.deepEqual(same, [true, true, 'function', 0]);
});

test('bad options throw a TypeError from the constructor, a bad URL a SyntaxError as from EventSource', async () => {
  const names = await run(async ({ api }) => {
    const out = [];
    for (const opts of [{ reconnect: 'sometimes' }, { timeout: -1 }, { credentials: 'all' }, { method: 'GET', body: 'x' }]) {
      try { new postsource.PostSource(`${api}/echo`, opts); out.push('no throw'); } catch (e) { out.push(e.name); }
    }
    for (const make of [(u) => new EventSource(u), (u) => new postsource.PostSource(u)]) {
      try { make('http://['); out.push('no throw'); } catch (e) { out.push(`${e.constructor.name} ${e.name}`); }
    }
    const s = new postsource.PostSource('/echo#top');
    out.push(s.url, Object.prototype.toString.call(s));
    s.close();
    return out;
  });
  assert.deepEqual(names, ['TypeError', 'TypeError', 'TypeError', 'TypeError',
    'DOMException SyntaxError', 'DOMException SyntaxError', `${server.page}/echo#top`, '[object PostSource]']);
});

test('on* properties behave as EventSource\'s event handler attributes; null options, no URL, stream bodies, method case', async () => {
  const out = await run(async ({ api }) => {
    // The same sequence on both: a replaced handler keeps its place among the
    // listeners, a function added both ways runs twice, and null removes only the
    // handler (never a listener added with addEventListener).
    await fetch(`${api}/stored/onx`, { method: 'POST', body: 'data: 1\n\ndata: 2\n\ndata: 3\n\n' });
    const script = async (make) => {
      const calls = [];
      const s = make(`${api}/stored/onx`);
      const g = (e) => calls.push(`g${e.data}`);
      s.onmessage = () => calls.push('A');
      s.addEventListener('message', (e) => calls.push(`B${e.data}`));
      s.addEventListener('message', (e) => { if (e.data === '2') s.onmessage = null; });
      s.onmessage = (e) => {
        calls.push(`C${e.data}`);
        s.addEventListener('message', g);
        s.onmessage = g;
      };
      await new Promise((resolve) => { s.addEventListener('end', resolve); setTimeout(resolve, 5000); });
      s.close();
      return calls;
    };
    const native = await script((u) => new EventSource(u));
    const ours = await script((u) => new postsource.PostSource(u, { reconnect: 'never' }));
    const thrown = (f) => { try { f(); return 'no throw'; } catch (e) { return e.name; } };
    const nullOptions = new postsource.PostSource(`${api}/echo`, null);
    const nullState = nullOptions.readyState;
    nullOptions.close();
    const stream = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('x')); c.close(); } });
    // A later abort settles at once, as close() does.
    const c = new AbortController();
    const aborted = new postsource.PostSource(`${api}/hang/abort-now`, { signal: c.signal });
    const log = trace(aborted);
    c.abort();
    log.push({ type: 'returned', readyState: aborted.readyState });
    const patch = new postsource.PostSource(`${api}/echo`, { method: 'patch', body: 'x', reconnect: 'never' });
    const patchLog = await ended(patch, trace(patch, ['echo']));
    return {
      native, ours, nullState,
      noUrl: thrown(() => new postsource.PostSource()),
      streamBody: thrown(() => new postsource.PostSource(`${api}/echo`, { method: 'POST', body: stream })),
      abort: log.map((e) => [e.type, e.kind ?? e.reason ?? e.readyState]),
      patchMethod: JSON.parse(patchLog.find((e) => e.type === 'echo').data).method,
    };
  });
  assert.deepEqual(out.native, ['C1', 'B1', 'g2', 'B2', 'g2', 'B3', 'g3']);
  assert.deepEqual(out.ours, out.native);
  assert.equal(out.nullState, 0);
  assert.equal(out.noUrl, 'TypeError');
  assert.equal(out.streamBody, 'TypeError');
  assert.deepEqual(out.abort, [['error', 'aborted'], ['close', 'error'], ['returned', 2]]);
  assert.equal(out.patchMethod, 'patch', 'sent as given, as fetch sends it');
});

test('a URL that fetch cannot load (ftp:) fails at once, as EventSource does, without retrying', async () => {
  const log = await run(async () => {
    const native = new EventSource('ftp://127.0.0.1/x');
    const s = new postsource.PostSource('ftp://127.0.0.1/x', { reconnect: 'always' });
    const log = trace(s);
    await ended(s, log, 3000);
    log.push({ type: 'native', readyState: native.readyState });
    native.close();
    return log;
  });
  assert.deepEqual(types(log), ['error', 'close', 'native']);
  assert.equal(log[0].kind, 'network');
  assert.equal(log[0].reconnecting, false);
  assert.equal(log[1].reason, 'error');
  assert.equal(log[2].readyState, 2, 'EventSource is CLOSED too');
});

test('XhrSource: open with status, header lines and url; events; no reconnection by default', async () => {
  const token = `xhr-${Date.now()}`;
  const log = await run(async ({ api, token }) => {
    const s = postsource.XhrSource(`${api}/resume/${token}`, { method: 'GET' });
    const log = trace(s);
    log.push({ type: 'meta', isTarget: s instanceof EventTarget });
    return ended(s, log);
  }, { token });
  assert.equal(log[0].isTarget, true);
  const open = log.find((e) => e.type === 'open');
  assert.equal(open.status, 200);
  assert.equal(open.url, `${server.api}/resume/${token}`);
  assert.equal(typeof open.headers, 'string');
  assert.match(open.headers, /^content-type: text\/event-stream; charset=utf-8\r$/m);
  assert.match(open.headers, /^x-test-header: yes\r$/m);
  assert.deepEqual(log.filter((e) => e.type === 'message').map((e) => e.data), ['one', 'two']);
  assert.equal(log.at(-1).type, 'close');
  assert.equal(log.at(-1).reason, 'eof');
  assert.equal((await seen(token)).connected, 1, 'reconnection default: none, even with ids');
});

test('XhrSource: a timeout has a reason, an error status has the response text in its reason', async () => {
  const { timeout, status } = await run(async ({ api }) => {
    const t = postsource.XhrSource(`${api}/hang/xt`, { timeout: 250 });
    const s = postsource.XhrSource(`${api}/status/404`, { method: 'POST', body: 'q' });
    const [tLog, sLog] = [trace(t), trace(s)];
    return { timeout: await ended(t, tLog), status: await ended(s, sLog) };
  });
  assert.deepEqual(types(timeout), ['open', 'error', 'close']);
  assert.equal(timeout[1].reason, 'The request timed out after 250 ms.');
  assert.equal(timeout[1].kind, 'timeout');
  assert.deepEqual(types(status), ['error', 'close']);
  assert.equal(status[0].reason, 'The server answered HTTP 404: {"error":{"message":"boom 404"}}');
});

test('XhrSource: close() mid-stream with no console error and nothing pending', async () => {
  const token = `xclose-${Date.now()}`;
  const before = errors.length;
  const log = await run(async ({ api, token }) => {
    const s = postsource.XhrSource(`${api}/slow/${token}`, { method: 'POST', body: '{}' });
    const log = trace(s);
    await new Promise((r) => s.addEventListener('message', r, { once: true }));
    s.close();
    log.push({ type: 'returned', readyState: s.readyState });
    await sleep(500);
    return log;
  }, { token });
  assert.deepEqual(types(log), ['open', 'message', 'close', 'returned']);
  assert.equal(log[2].reason, 'aborted');
  assert.deepEqual(errors.slice(before), [], 'no console error');
  assert.ok(await eventually(async () => (await seen(token)).disconnected >= 1), 'server saw the disconnect');
});

test('a module Worker that imports the module gets the messages posted to it at once; sources made before the wasm loads work and close', async () => {
  const logs = await run(async ({ api }) => {
    const module = new URL('../postsource.js', location.href).href;
    const src = `import { PostSource } from ${JSON.stringify(module)};
      self.onmessage = (m) => {
        const closed = new PostSource(m.data);
        const log = [['made', closed.readyState]];
        closed.addEventListener('close', (e) => log.push(['close', e.reason, closed.readyState]));
        closed.close();
        log.push(['returned', closed.readyState]);
        const s = new PostSource(m.data, { reconnect: 'never' });
        s.addEventListener('message', (e) => log.push(['message', e.data]));
        s.addEventListener('close', (e) => { log.push(['close', e.reason]); postMessage(log); });
      };`;
    const worker = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })), { type: 'module' });
    worker.postMessage(`${api}/named`);
    const log = await new Promise((resolve) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.onerror = (e) => resolve([['worker error', e.message]]);
      setTimeout(() => resolve([['timeout']]), 10_000);
    });
    worker.terminate();
    return log;
  });
  assert.deepEqual(logs, [
    ['made', 0], ['close', 'aborted', 2], ['returned', 2],
    ['message', 'plain'], ['close', 'eof'],
  ]);
});

test('in a module Web Worker: named events with ids to the end of the stream; close() mid-stream, seen by the server', async () => {
  const token = `worker-${Date.now()}`;
  const logs = await run(async ({ api, token }) => {
    const module = new URL('../postsource.js', location.href).href;
    const src = `import { PostSource } from ${JSON.stringify(module)};
      const read = (url, types, closeAfter) => new Promise((resolve) => {
        const s = new PostSource(url, { reconnect: 'never' });
        const log = [];
        for (const t of ['open', 'message', 'error', 'close', ...types]) {
          s.addEventListener(t, (e) => {
            log.push([t, e.data ?? e.reason ?? null, e.lastEventId ?? null, s.readyState]);
            if (t === 'close') resolve(log);
            else if (t === 'message' && --closeAfter === 0) s.close();
          });
        }
      });
      postMessage([
        await read(${JSON.stringify(`${api}/named`)}, ['greeting', 'update'], -1),
        await read(${JSON.stringify(`${api}/slow/${token}`)}, [], 3),
      ]);`;
    const worker = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })), { type: 'module' });
    const logs = await new Promise((resolve) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.onerror = (e) => resolve([[['worker error', e.message]]]);
      setTimeout(() => resolve([[['timeout']]]), 10_000);
    });
    worker.terminate();
    return logs;
  }, { token });
  assert.deepEqual(logs[0], [
    ['open', null, null, 1],
    ['greeting', 'hello', '1', 1],
    ['message', 'plain', '1', 1],
    ['update', 'line1\nline2', '2', 1],
    ['close', 'eof', null, 2],
  ]);
  assert.deepEqual(logs[1].map(([t, v]) => [t, v]), [
    ['open', null], ['message', 'tick 0'], ['message', 'tick 1'], ['message', 'tick 2'], ['close', 'aborted'],
  ]);
  assert.equal(logs[1].at(-1)[3], 2, 'CLOSED when close fires');
  const observed = await eventually(async () => (await seen(token)).disconnected >= 1 && seen(token));
  assert.ok(observed, 'the server observed the disconnect');
});

test('no uncaught error or unhandled rejection on the page in the whole run', () => {
  assert.deepEqual(pageErrors(), []);
});
