// A plain Node `http` SSE server for the CLI to consume (third-party server check).
// Usage: node sse_server.mjs  → prints "listening PORT" on stdout, serves 127.0.0.1.
//   /stream  named events, multi-line data, ids, a comment, retry:, written in pieces
//   /resume  3 events per connection, continuing after Last-Event-ID
//   /post    echoes the method and body back as one event
//   /cr      CR-only line endings
import http from 'node:http'

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x')
  let body = ''
  req.on('data', (c) => { body += c })
  req.on('end', () => {
    const sse = () => res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' })
    if (url.pathname === '/stream') {
      sse()
      const parts = [': hello\n\n', 'retry: 1000\n', 'event: greet\nid: 1\ndata: hi\n\n', 'data: line1\ndata: line2\n',
        '\n', 'id: 2\nevent: json\ndata: {"x": 1}\n\n', 'data: caf', '\u00e9\n\n']
      let i = 0
      const tick = () => { if (i < parts.length) { res.write(parts[i++]); setTimeout(tick, 5) } else res.end() }
      tick()
    } else if (url.pathname === '/resume') {
      sse()
      const last = parseInt(req.headers['last-event-id'] || '0', 10)
      let n = 0
      const tick = () => { if (n < 3) { n++; res.write(`id: ${last + n}\ndata: ${last + n}\n\n`); setTimeout(tick, 5) } else res.end() }
      res.write('retry: 50\n\n')
      tick()
    } else if (url.pathname === '/post') {
      sse()
      res.end(`event: echo\ndata: ${JSON.stringify({ method: req.method, body, ct: req.headers['content-type'] || null })}\n\n`)
    } else if (url.pathname === '/cr') {
      sse()
      res.end('data: a\rdata: b\r\rid: 5\rdata: c\r\r')
    } else {
      res.writeHead(404); res.end('no')
    }
  })
})
server.listen(0, '127.0.0.1', () => { process.stdout.write(`listening ${server.address().port}\n`) })
setTimeout(() => process.exit(0), 120000).unref()
