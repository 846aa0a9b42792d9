// Third-party client check: @microsoft/fetch-event-source in Node against
// `postsource serve`. The package targets browsers; `window` is aliased to the
// global object so its timers and fetch resolve, and `document` is a minimal
// never-hidden stand-in (it only listens for visibilitychange).
// Usage: node fes_client.mjs BASE_URL.
// Prints one JSON object per scenario; thirdparty.py judges them.
globalThis.window = globalThis
globalThis.document = { hidden: false, addEventListener() {}, removeEventListener() {} }
import { fetchEventSource } from '@microsoft/fetch-event-source'

const base = process.argv[2]
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n')
class Stop extends Error {}
// fetch-event-source retries only after an error: a thrown Retry from onclose, handled in onerror.
class Retry extends Error {}

async function run(scenario, url, init, { max = 1000, reconnect = false, ms = 15000 } = {}) {
  const got = []
  let opens = 0
  let empty = 0
  let status = null
  let contentType = null
  const ctrl = new AbortController()
  const timer = setTimeout(() => ctrl.abort(), ms)
  let error = null
  try {
    await fetchEventSource(url, {
      ...init,
      signal: ctrl.signal,
      openWhenHidden: true,
      fetch: globalThis.fetch,
      async onopen(res) {
        opens++
        status = res.status
        contentType = res.headers.get('content-type')
        if (!res.ok || !(contentType || '').startsWith('text/event-stream')) throw new Stop(`bad response ${res.status}`)
      },
      onmessage(m) {
        // The package also reports blocks without data (a lone retry:); EventSource does not.
        if (m.data === '' && m.event === '' && m.id === '') { empty++; return }
        got.push({ event: m.event, data: m.data, id: m.id })
        if (got.length >= max) { ctrl.abort() }
      },
      onclose() { throw reconnect ? new Retry('closed') : new Stop('closed') },
      onerror(e) { if (e instanceof Retry) return undefined; throw e },
    })
  } catch (e) {
    if (!(e instanceof Stop)) error = String(e)
    else error = e.message
  }
  clearTimeout(timer)
  out({ scenario, events: got, empty, opens, status, contentType, error, aborted: ctrl.signal.aborted })
}

const chatBody = JSON.stringify({ model: 'postsource-sim', stream: true, messages: [{ role: 'user', content: 'Say hi' }] })
await run('chat', `${base}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody })
await run('echo_post', `${base}/echo`, { method: 'POST', headers: { 'x-interop': 'fes' }, body: 'plain body' })
await run('ticks_resume', `${base}/ticks?interval_ms=10&count=2&retry=50`, { method: 'GET' }, { max: 5, reconnect: true })
