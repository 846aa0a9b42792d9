// End to end: the demo page in headless Chromium. Type a prompt, Generate, see
// tokens stream in, Stop, and check that no more arrive, that the server saw the
// request end, and that the console stayed clean. Saves a screenshot.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { startServer, startServe, startBrowser, openPage } from './harness.mjs';

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
