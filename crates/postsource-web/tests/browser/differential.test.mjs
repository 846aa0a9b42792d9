// PostSource against the browser's own EventSource, on the same bytes.
//
// Chromium's EventSource is the reference implementation of the WHATWG event-stream
// algorithm that PostSource's parser claims to follow exactly, so the two must agree
// on every stream: the same events, in the same order, with the same type, data,
// lastEventId and origin. Each case is a random stream (seeded: a failure names its
// seed and bytes) of `data`, `event`, `id`, `retry`, comments, unknown fields, BOMs,
// CR / LF / CRLF line ends, invalid and split UTF-8, NULs and now and then a value of
// a few KB. The test server stores it and writes it cut at random offsets (a CRLF or
// a character split between writes included), then a blank line and an `end` event,
// and then keeps the connection open, so that neither client reconnects. Both read it
// at the same time, and stop at `end`. The native CLI (`postsource -o jsonl`, when
// POSTSOURCE_SERVE names it, as scripts/test-web does) reads each stream too: its
// parser takes fast paths that the browser build leaves out, so it is held to the
// same reference.
//
// One deviation of Chromium's is worked around, not tested: after a leading BOM,
// Blink's EventSourceParser::AddBytes (event_source_parser.cc) goes on with
// `continue` without checking the next byte for a line end, so a CR or LF right
// after the BOM is taken into the next line, which then has an unknown field name
// and is ignored. The spec decodes the stream first (dropping the BOM), so BOM + CR
// + rest is the same stream as CR + rest: that is what EventSource is given then.
//
// POSTSOURCE_DIFF_SEED=N picks another run of streams; POSTSOURCE_DIFF_CASES=N
// another count.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startServer, startBrowser, openTestPage } from './harness.mjs';

const SEED = Number(process.env.POSTSOURCE_DIFF_SEED ?? 20261203);
const CASES = Number(process.env.POSTSOURCE_DIFF_CASES ?? 200);
/** Streams per page.evaluate (each reads one stream at a time, both clients at once). */
const BATCH = 25;

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

/** mulberry32: a small seeded generator, so that every case can be replayed. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const enc = new TextEncoder();
/** Event types the streams set; the clients listen for each ('' dispatches as message). */
const NAMES = ['message', 'a', 'b', 'é', 'x y', ''];
const LISTENED = ['message', 'a', 'b', 'é', 'x y', 'end'];
const TEXT = ['hello', ' lead', '  two', 'é日🎉', 'a:b', '', '{"k":[1,2]}', 'x\0y', '\u2028', 'data: in'];
const RAW = [
  [0xff], [0xc3], [0xe6, 0x97], [0xed, 0xa0, 0x80], [0xc0, 0x80], [0xf4, 0x90, 0x80, 0x80],
  [0xef, 0xbb, 0xbf], [0xf0, 0x9f, 0x8e],
];
const BOM = [0xef, 0xbb, 0xbf];
const SOUP = [...enc.encode('data:id event:\r\n\r\n: x'), 0, 0xef, 0xbb, 0xbf, 0xff, 0xc3];
const EOL = ['\n', '\r', '\r\n'];

/** One random stream: its bytes and the offsets its writes are cut at. */
function genCase(rand) {
  const bytes = [];
  const pick = (xs) => xs[Math.floor(rand() * xs.length)];
  const push = (x) => bytes.push(...(typeof x === 'string' ? enc.encode(x) : x));
  const value = () => {
    for (let n = Math.floor(rand() * 3); n > 0; n--) {
      const r = rand();
      // Now and then a long value, which many writes carry.
      push(r < 0.02 ? pick(TEXT).repeat(200 + Math.floor(rand() * 800)) : r < 0.25 ? pick(RAW) : pick(TEXT));
    }
  };
  for (let n = pick([0, 0, 0, 1, 1, 2]); n > 0; n--) push(BOM);
  for (let lines = 1 + Math.floor(rand() * 30); lines > 0; lines--) {
    const r = rand();
    if (r < 0.3) {
      const name = pick(['data:', 'data: ', 'data']);
      push(name);
      if (name !== 'data') value();
    } else if (r < 0.4) {
      push(pick(['event:', 'event: ']));
      push(pick(NAMES));
    } else if (r < 0.5) {
      push(pick(['id:', 'id: ']));
      value();
    } else if (r < 0.55) {
      push(pick(['retry: 100', 'retry:5', 'retry: 1x', 'retry:']));
    } else if (r < 0.62) {
      push(':');
      value();
    } else if (r < 0.67) {
      push(pick(['Data: x', 'foo: bar', ' data: y', 'event', 'id', 'data:data: z']));
    } else if (r < 0.72) {
      for (let n = 1 + Math.floor(rand() * 8); n > 0; n--) bytes.push(pick(SOUP));
    }
    // (Otherwise a blank line: the block so far is dispatched.)
    push(pick(EOL));
  }
  if (rand() < 0.3) push('data: unterminated');
  // Up to 40 writes, at random offsets; short streams are cut between most bytes.
  const cuts = [];
  for (let n = 1 + Math.floor(rand() * 40); n > 0; n--) cuts.push(1 + Math.floor(rand() * (bytes.length - 1)));
  cuts.sort((a, b) => a - b);
  return { bytes: Uint8Array.from(bytes), cuts: [...new Set(cuts)].filter((at) => at > 0 && at < bytes.length) };
}

/** What EventSource is given for a case: the same stream, without a leading BOM that
 * a line end follows (see the top of the file). */
function forEventSource({ bytes, cuts }) {
  const bomThenEol = BOM.every((b, i) => bytes[i] === b) && (bytes[3] === 0x0d || bytes[3] === 0x0a);
  if (!bomThenEol) return null;
  return { bytes: bytes.subarray(3), cuts: cuts.map((at) => at - 3).filter((at) => at > 0) };
}

/** The bytes as a JS string literal's content (ASCII kept, everything else escaped). */
const show = (bytes) => [...bytes].map((b) =>
  b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`,
).join('');

const CLI = process.env.POSTSOURCE_SERVE;
const END_DATA = 'end-of-stored-stream';

/** The events of a stored stream as the CLI prints them, of the listened types. */
async function readWithCli(url) {
  try {
    const { stdout } = await promisify(execFile)(CLI,
      ['-o', 'jsonl', '--until-data', END_DATA, '--reconnect', 'never', '--timeout', '10', url]);
    return stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line))
      .filter((l) => l.type === 'event' && LISTENED.includes(l.event))
      .map((l) => ({ type: l.event, data: l.data, lastEventId: l.id }));
  } catch (e) {
    return [{ type: 'cli failed', detail: String(e) }];
  }
}

/** In the page: read each stored stream with EventSource and PostSource at once. */
async function readBoth({ api, tokens, types }) {
  const watch = (source) => new Promise((resolve) => {
    const log = [];
    const timer = setTimeout(() => { source.close(); log.push({ type: 'timeout' }); resolve(log); }, 10_000);
    for (const type of types) {
      source.addEventListener(type, (e) => {
        log.push({ type: e.type, data: e.data, lastEventId: e.lastEventId, origin: e.origin });
        if (type === 'end') {
          clearTimeout(timer);
          source.close();
          resolve(log);
        }
      });
    }
  });
  const results = [];
  for (const { token, nativeToken } of tokens) {
    const [native, ours] = await Promise.all([
      watch(new EventSource(`${api}/stored/${nativeToken}`)),
      watch(new postsource.PostSource(`${api}/stored/${token}`)),
    ]);
    results.push({ token, native, ours });
  }
  return results;
}

test(`PostSource (and the CLI) fire exactly the events of the browser's EventSource on ${CASES} random streams (seed ${SEED})`, async () => {
  const store = async (token, { bytes, cuts }) => {
    const res = await fetch(`${server.api}/stored/${token}?cuts=${cuts.join(',')}`, { method: 'POST', body: bytes });
    assert.equal(res.status, 204);
  };
  const cases = new Map();
  const tokens = [];
  let bomThenEol = 0;
  for (let i = 0; i < CASES; i++) {
    const token = `diff-${SEED}-${i}`;
    const c = genCase(prng(SEED + i));
    await store(token, c);
    const adjusted = forEventSource(c);
    if (adjusted) {
      bomThenEol += 1;
      await store(`${token}-es`, adjusted);
    }
    cases.set(token, { seed: SEED + i, ...c });
    tokens.push({ token, nativeToken: adjusted ? `${token}-es` : token });
  }
  const mismatches = [];
  let events = 0, replaced = 0, named = 0, withId = 0, long = 0;
  for (let at = 0; at < tokens.length; at += BATCH) {
    const batch = tokens.slice(at, at + BATCH);
    const [results, cli] = await Promise.all([
      page.evaluate(readBoth, { api: server.api, tokens: batch, types: LISTENED }),
      CLI ? Promise.all(batch.map(({ token }) => readWithCli(`${server.api}/stored/${token}`))) : [],
    ]);
    for (const [n, { token, native, ours }] of results.entries()) {
      assert.equal(native.at(-1)?.type, 'end', `EventSource did not reach the end of ${token}`);
      const expected = native.map(({ origin, ...rest }) => rest);
      for (const [name, got, want] of [['PostSource', ours, native], ['CLI', cli[n], expected]]) {
        if (got === undefined) continue;
        try {
          assert.deepEqual(got, want);
        } catch {
          const c = cases.get(token);
          mismatches.push(`seed ${c.seed}: "${show(c.bytes)}" cut at [${c.cuts}]\n` +
            `  EventSource: ${JSON.stringify(want)}\n  ${name}: ${JSON.stringify(got)}`);
        }
      }
      for (const e of native.slice(0, -1)) {
        events += 1;
        replaced += (e.data + e.lastEventId).includes('\ufffd') ? 1 : 0;
        named += e.type !== 'message' ? 1 : 0;
        withId += e.lastEventId !== '' ? 1 : 0;
        long += e.data.length + e.lastEventId.length > 1000 ? 1 : 0;
      }
    }
  }
  assert.deepEqual(mismatches, [], `${mismatches.length} of ${CASES} streams differ:\n${mismatches.slice(0, 5).join('\n')}`);
  // The streams must have exercised what they are for.
  assert.ok(events > CASES, `only ${events} events in ${CASES} streams`);
  assert.ok(replaced > 0 && named > 0 && withId > 0 && long > 0, JSON.stringify({ events, replaced, named, withId, long }));
  console.log(`differential: ${CASES} streams, ${events} events agree (${named} named, ${withId} with an id, ${long} over 1 KB, ` +
    `${replaced} with U+FFFD; ${bomThenEol} streams start with a BOM then a line end)` +
    (CLI ? '; the CLI agrees too' : '; the CLI was not given (POSTSOURCE_SERVE)'));
  assert.deepEqual(errors.filter((e) => e.startsWith('pageerror')), []);
});
