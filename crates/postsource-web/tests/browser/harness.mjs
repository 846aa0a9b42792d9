// Shared setup for the browser tests: start the local test server (127.0.0.1,
// two ports for cross-origin requests) and headless Chromium via playwright-core
// with the system browser, collect console errors and page errors, and stop both.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export async function startServer() {
  const bin = process.env.POSTSOURCE_WEB_SERVER;
  const dir = process.env.POSTSOURCE_WEB_DIST;
  if (!bin || !dir) throw new Error('POSTSOURCE_WEB_SERVER and POSTSOURCE_WEB_DIST must be set (scripts/test-web does)');
  const child = spawn(bin, ['--dir', dir, '--max-seconds', '600'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('test server did not start in 30 s')), 30_000);
    createInterface({ input: child.stdout }).once('line', (l) => { clearTimeout(timer); resolve(l); });
    child.once('exit', (code) => reject(new Error(`test server exited: ${code}`)));
  });
  const urls = JSON.parse(line);
  return { ...urls, stop: () => child.kill('SIGTERM') };
}

/** `postsource serve --web DIST --port 0`: the CLI's server, for the demo. */
export async function startServe() {
  const child = spawn(process.env.POSTSOURCE_SERVE,
    ['serve', '--web', process.env.POSTSOURCE_WEB_DIST, '--port', '0', '--quiet'],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('postsource serve did not start in 30 s')), 30_000);
    createInterface({ input: child.stdout }).once('line', (l) => { clearTimeout(timer); resolve(l); });
    child.once('exit', (code) => reject(new Error(`postsource serve exited: ${code}`)));
  });
  const url = line.match(/http:\/\/\S+/)?.[0];
  if (!url) throw new Error(`unexpected first line from postsource serve: ${line}`);
  return { page: url, api: url, stop: () => child.kill('SIGTERM') };
}

export async function startBrowser() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    // Playwright gives each launch a fresh temporary profile (its own
    // --user-data-dir), and refuses that flag in `args`.
    args: CHROMIUM_ARGS,
  });
  return browser;
}

/** A fresh page on `url` whose console errors and page errors are collected. */
export async function openPage(browser, url) {
  const page = await browser.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  await page.goto(url);
  return { page, errors };
}

/** The test page (index.html, which loads the built module as `window.postsource`)
 * from the test server `server`, once the module is ready; as `openPage`. */
export async function openTestPage(browser, server) {
  const opened = await openPage(browser, `${server.page}/test/index.html`);
  await opened.page.waitForFunction(() => document.title === 'ready', null, { timeout: 30_000 });
  return opened;
}

/** Poll `fn` until it returns truthy, for at most `ms`. */
export async function eventually(fn, ms = 10_000, step = 50) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > end) return value;
    await new Promise((r) => setTimeout(r, step));
  }
}
