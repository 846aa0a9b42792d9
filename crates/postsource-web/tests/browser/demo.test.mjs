// End to end: the demo page in headless Chromium. Type a prompt, Generate, see
// tokens stream in, Stop, and check that no more arrive, that the server saw the
// request end, and that the console stayed clean. Saves a screenshot. Then the
// browser's own EventSource and PostSource read `postsource serve` side by side,
// from another origin.
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
