// Third-party client check: the npm `eventsource` package (WHATWG EventSource for
// Node) against `postsource serve`. Usage: node es_client.mjs BASE_URL.
// Prints one JSON object per scenario on stdout; thirdparty.py judges them, so
// this file only observes and never decides pass/fail itself.
import { EventSource } from 'eventsource'

const base = process.argv[2]
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n')
const withTimeout = (ms, p) => Promise.race([p, new Promise((r) => setTimeout(() => r({ timeout: true }), ms))])

// /ticks ends each connection after 3 events; EventSource must reconnect with
// Last-Event-ID and go on from tick 4.
async function ticksResume() {
  const got = []
  const opens = []
  const res = await withTimeout(15000, new Promise((resolve) => {
    const es = new EventSource(`${base}/ticks?interval_ms=20&count=3&retry=100`)
    es.addEventListener('open', () => opens.push(Date.now()))
    es.addEventListener('tick', (e) => {
      got.push({ data: e.data, id: e.lastEventId, type: e.type })
      if (got.length >= 6) { es.close(); resolve({ readyState: es.readyState }) }
    })
  }))
  out({ scenario: 'ticks_resume', events: got, opens: opens.length, ...res })
}

// total=N makes the server answer 204 after tick N: EventSource must stop (CLOSED).
async function ticksTotal() {
  const got = []
  const res = await withTimeout(15000, new Promise((resolve) => {
    const es = new EventSource(`${base}/ticks?interval_ms=10&count=2&total=4&retry=50`)
    es.addEventListener('tick', (e) => got.push(e.data))
    es.addEventListener('error', () => {
      if (es.readyState === EventSource.CLOSED) resolve({ readyState: es.readyState })
    })
  }))
  out({ scenario: 'ticks_total', events: got, ...res })
}

// /echo with a POST through the package's `fetch` hook.
async function echoPost() {
  const got = []
  const res = await withTimeout(10000, new Promise((resolve) => {
    const es = new EventSource(`${base}/echo`, {
      fetch: (input, init) => fetch(input, { ...init, method: 'POST', body: '{"hello":"world"}',
        headers: { ...init.headers, 'content-type': 'application/json', 'x-interop': 'es' } }),
    })
    for (const t of ['method', 'url', 'header', 'body', 'request']) {
      es.addEventListener(t, (e) => {
        got.push({ type: t, data: e.data })
        if (t === 'request') { es.close(); resolve({}) }
      })
    }
  }))
  out({ scenario: 'echo_post', events: got, ...res })
}

// A status error must fail the connection (no reconnect): error event, CLOSED.
async function statusError() {
  const res = await withTimeout(10000, new Promise((resolve) => {
    const es = new EventSource(`${base}/test/status/500`)
    es.addEventListener('error', (e) => resolve({ readyState: es.readyState, status: e.code ?? null }))
  }))
  out({ scenario: 'status_error', ...res })
}

// The drip endpoint writes one byte per write: the parser must still get it right.
async function drip() {
  const got = []
  const res = await withTimeout(15000, new Promise((resolve) => {
    const es = new EventSource(`${base}/test/drip?delay_ms=1`)
    const push = (e) => got.push({ type: e.type, data: e.data, id: e.lastEventId })
    es.onmessage = push
    for (const t of ['drip', 'tick', 'utf8', 'cr', 'crlf']) es.addEventListener(t, push)
    es.addEventListener('error', () => { es.close(); resolve({}) })
    setTimeout(() => { es.close(); resolve({ stopped: true }) }, 5000)
  }))
  out({ scenario: 'drip', events: got, ...res })
}

await ticksResume()
await ticksTotal()
await echoPost()
await statusError()
await drip()
