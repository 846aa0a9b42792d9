// End to end: the demo page in headless Chromium. Type a prompt, Generate, see
// tokens stream in, Stop, and check that no more arrive, that the server saw the
// request end, and that the console stayed clean. Saves a screenshot. Then the
// browser's own EventSource and PostSource read `postsource serve` side by side,
// from another origin, and PostSource reads its Anthropic- and Responses-shaped
// streams of named events.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { startServer, startServe, startBrowser, openPage, openTestPage } from './harness.mjs';

let server, browser;
before(async () => {
  // The real `postsource serve --web` when scripts/test-web could build it.
  server = process.env.POSTSOURCE_SERVE ? await startServe() : await startServer();
  browser = await startBrowser();
});
after(async () => {
  await browser?.close();
  server?.stop();
});

test(`demo (${process.env.POSTSOURCE_SERVE ? 'postsource serve --web' : 'test server'}): Generate streams tokens, Stop stops them, no console errors`, async () => {
  const { page, errors } = await openPage(browser, `${server.page}/`);
  await page.fill('#prompt', 'Make this sentence shorter please');
  await page.click('#generate');
  const tokens = () => page.$eval('#output', (el) => Number(el.dataset.tokens || 0));
  // The simulated model quotes the prompt early in its answer.
  await page.waitForFunction(() => document.querySelector('#output').textContent.includes('please'),
    null, { timeout: 20_000 });
  assert.match(await page.textContent('#output'), /Make this sentence shorter please/);
  assert.ok(await tokens() >= 5, 'several tokens arrived one by one');
  assert.equal(await page.isDisabled('#generate'), true);
  await page.click('#stop');
  const atStop = await tokens();
  const textAtStop = await page.textContent('#output');
  await page.waitForTimeout(1000); // both servers send a token every 40-60 ms
  assert.equal(await tokens(), atStop, 'no token after Stop');
  assert.equal(await page.textContent('#output'), textAtStop);
  assert.match(await page.textContent('#status'), /^Stopped: \d+ tokens\.$/);
  assert.equal(await page.isDisabled('#generate'), false);
  // "Stopped" (close reason aborted), not "Done" (until_data): it stopped mid-stream.
  const shot = process.env.POSTSOURCE_WEB_SCREENSHOT;
  if (shot) {
    mkdirSync(dirname(shot), { recursive: true });
    await page.screenshot({ path: shot, fullPage: true });
  }
  assert.deepEqual(errors, []);
});

test('postsource serve, cross-origin: the browser\'s EventSource and PostSource read the same events from /ticks (resuming) and /test/drip', { skip: !process.env.POSTSOURCE_SERVE && 'POSTSOURCE_SERVE is not set' }, async () => {
  const pages = await startServer();
  try {
    const { page, errors } = await openTestPage(browser, pages);
    const got = await page.evaluate(async ({ api }) => {
      const read = (source, types, n) => new Promise((resolve) => {
        const log = [];
        const done = () => { source.close(); resolve(log); };
        for (const type of types) {
          source.addEventListener(type, (e) => {
            log.push([e.type, e.data, e.lastEventId, e.origin]);
            if (log.length === n) done();
          });
        }
        setTimeout(done, 10_000);
      });
      const both = (url, types, n) => Promise.all([
        read(new EventSource(url), types, n), read(new postsource.PostSource(url), types, n)]);
      // Each connection ends after 2 ticks; both reconnect after retry: 50 with
      // Last-Event-ID, and the server goes on from there.
      const ticks = await both(`${api}/ticks?interval_ms=20&count=2&retry=50`, ['tick'], 5);
      // One byte per write: CRLF, CR, a comment, multi-byte UTF-8, ids.
      const drip = await both(`${api}/test/drip?delay_ms=1`, ['message', 'named'], 3);
      return { ticks, drip };
    }, { api: server.api });
    const origin = new URL(server.api).origin;
    assert.deepEqual(got.ticks[0], [1, 2, 3, 4, 5].map((n) => ['tick', `${n}`, `${n}`, origin]));
    assert.deepEqual(got.ticks[1], got.ticks[0], 'PostSource: the same ticks');
    assert.equal(got.drip[0].length, 3);
    assert.deepEqual(got.drip[1], got.drip[0], 'PostSource: the same events');
    assert.deepEqual(errors.filter((e) => e.startsWith('pageerror')), []);
  } finally {
    pages.stop();
  }
});

test('postsource serve, cross-origin: PostSource POSTs to the Anthropic- and Responses-shaped endpoints and reads their named events to the end', { skip: !process.env.POSTSOURCE_SERVE && 'POSTSOURCE_SERVE is not set' }, async () => {
  const pages = await startServer();
  try {
    const { page, errors } = await openTestPage(browser, pages);
    const got = await page.evaluate(async ({ api }) => {
      // Every event of `types` in order, the text of `delta(data)`, and how it closed.
      const read = (path, body, types, delta) => new Promise((resolve) => {
        const source = new postsource.PostSource(`${api}${path}?pace_ms=1`, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
        });
        const seen = { kinds: [], text: '', unnamed: 0, errors: 0 };
        for (const type of types) {
          source.addEventListener(type, (e) => {
            seen.kinds.push(e.type);
            seen.text += delta(e.type, JSON.parse(e.data)) ?? '';
          });
        }
        source.onmessage = () => { seen.unnamed += 1; };
        source.onerror = () => { seen.errors += 1; };
        source.addEventListener('close', (e) => resolve({ ...seen, reason: e.reason }));
        setTimeout(() => { source.close(); resolve({ ...seen, reason: 'timeout' }); }, 10_000);
      });
      const prompt = 'Tell me about server-sent events';
      const anthropic = await read('/v1/messages',
        { model: 'm', max_tokens: 1000, stream: true, messages: [{ role: 'user', content: prompt }] },
        ['message_start', 'content_block_start', 'ping', 'content_block_delta', 'content_block_stop',
          'message_delta', 'message_stop'],
        (type, data) => (type === 'content_block_delta' ? data.delta.text : null));
      const responses = await read('/v1/responses', { model: 'm', input: prompt, stream: true },
        ['response.created', 'response.output_text.delta', 'response.completed'],
        (type, data) => (type === 'response.output_text.delta' ? data.delta : null));
      return { anthropic, responses };
    }, { api: server.api });
    const { anthropic, responses } = got;
    // No ids and a POST: the stream's end is the end, with no reconnection.
    for (const seen of [anthropic, responses]) {
      assert.equal(seen.reason, 'eof', JSON.stringify(seen).slice(0, 300));
      assert.equal(seen.errors, 0);
      assert.equal(seen.unnamed, 0, 'every event is named');
      assert.match(seen.text, /Tell me about server-sent events/);
    }
    assert.deepEqual(anthropic.kinds.slice(0, 3), ['message_start', 'content_block_start', 'ping']);
    assert.deepEqual(anthropic.kinds.slice(-3), ['content_block_stop', 'message_delta', 'message_stop']);
    assert.equal(responses.kinds[0], 'response.created');
    assert.equal(responses.kinds.at(-1), 'response.completed');
    assert.equal(responses.text, anthropic.text, 'the same simulated answer in both shapes');
    assert.deepEqual(errors.filter((e) => e.startsWith('pageerror')), []);
  } finally {
    pages.stop();
  }
});

test('postsource serve, cross-origin: PostSource as an MCP client of /mcp, replies resumed by GET (resumeWithGet) through cut connections', { skip: !process.env.POSTSOURCE_SERVE && 'POSTSOURCE_SERVE is not set' }, async () => {
  const pages = await startServer();
  try {
    const { page, errors } = await openTestPage(browser, pages);
    const got = await page.evaluate(async ({ api }) => {
      // One JSON-RPC request; the messages of its reply, the session id of the open,
      // the errors (each a cut connection, reconnecting) and how it closed.
      const call = (query, headers, message, options) => new Promise((resolve) => {
        const source = new postsource.PostSource(`${api}/mcp${query}`, {
          method: 'POST',
          headers: { accept: 'application/json, text/event-stream', 'content-type': 'application/json', ...headers },
          body: JSON.stringify(message),
          retry: 20,
          ...options,
        });
        const seen = { messages: [], ids: [], errors: [], session: null };
        source.onopen = (e) => { seen.session ??= e.headers.get('mcp-session-id'); };
        source.onmessage = (e) => {
          if (e.data) {
            seen.messages.push(JSON.parse(e.data));
            seen.ids.push(e.lastEventId);
          }
        };
        source.onerror = (e) => { seen.errors.push([e.kind, e.reconnecting]); };
        source.addEventListener('close', (e) => resolve({ ...seen, reason: e.reason }));
        setTimeout(() => { source.close(); resolve({ ...seen, reason: 'timeout' }); }, 15_000);
      });
      const init = await call('', {}, {
        jsonrpc: '2.0', id: 1, method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'browser', version: '0' } },
      }, { reconnect: 'never' });
      const countdown = await call('?abort_after=2&pace_ms=5', { 'mcp-session-id': init.session }, {
        jsonrpc: '2.0', id: 2, method: 'tools/call',
        params: { name: 'countdown', arguments: { steps: 5 }, _meta: { progressToken: 't' } },
      }, { resumeWithGet: true });
      return { init, countdown };
    }, { api: server.api });
    const { init, countdown } = got;
    assert.match(init.session ?? '', /^[0-9a-f]{32}$/, 'the session id header is readable cross-origin');
    assert.equal(init.messages.length, 1);
    assert.equal(init.messages[0].result.protocolVersion, '2025-11-25');
    // The session is not known until this reply: it cannot be resumed, and it has
    // ids, so "auto" would send the POST (a new initialize) again after its end.
    assert.equal(init.reason, 'eof', JSON.stringify(init));
    const progress = countdown.messages.filter((m) => m.method === 'notifications/progress')
      .map((m) => m.params.progress);
    assert.deepEqual(progress, [1, 2, 3, 4, 5], 'each progress once, in order');
    assert.equal(countdown.messages.at(-1).id, 2);
    assert.equal(countdown.messages.at(-1).result.content[0].text, 'counted 5');
    assert.deepEqual(countdown.ids, ['1-1', '1-2', '1-3', '1-4', '1-5', '1-6']);
    // Cut after 2 messages, then after 2 more (the GETs are cut too), then the rest,
    // resumed once more after the result: nothing is left (204), and it ends there.
    // A cut can come before the page has read what arrived just before it (a fetch
    // body that errors drops what it has queued), and is then resumed from an
    // earlier id: so at least two cuts, not exactly two.
    const cuts = countdown.errors.slice(0, -1);
    assert.ok(cuts.length >= 2 && cuts.every(([kind, again]) => kind === 'network' && again),
      JSON.stringify(countdown));
    assert.deepEqual(countdown.errors.at(-1), ['eof', true]);
    assert.equal(countdown.reason, 'no_content');
    assert.deepEqual(errors.filter((e) => e.startsWith('pageerror')), []);
  } finally {
    pages.stop();
  }
});
