// A Model Context Protocol server from the official TypeScript SDK
// (`@modelcontextprotocol/sdk`, Streamable HTTP transport, stateful, with the SDK's
// in-memory event store so its streams are resumable) for the CLI to consume as an
// MCP client. The same tool as mcp_app.py, so thirdparty.py runs the same checks:
// `countdown` reports progress once per step before its result.
// Usage: node mcp_server.mjs  → prints "listening PORT" on stdout, serves 127.0.0.1/mcp.
import http from 'node:http'
import { randomUUID } from 'node:crypto'
import { z } from 'zod'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { InMemoryEventStore } from '@modelcontextprotocol/sdk/examples/shared/inMemoryEventStore.js'
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js'

function newServer() {
  const server = new McpServer({ name: 'postsource-interop-ts', version: '0' })
  server.registerTool('countdown', {
    description: 'Count down from `steps`, reporting progress after each step.',
    inputSchema: { steps: z.number().int() },
  }, async ({ steps }, extra) => {
    const token = extra._meta?.progressToken
    for (let done = 1; done <= steps; done++) {
      if (token !== undefined) {
        await extra.sendNotification({
          method: 'notifications/progress',
          params: { progressToken: token, progress: done, total: steps, message: `step ${done}` },
        })
      }
      await new Promise((r) => setTimeout(r, 10))
    }
    return { content: [{ type: 'text', text: `counted ${steps}` }] }
  })
  return server
}

const transports = new Map()
const eventStore = new InMemoryEventStore()

const httpServer = http.createServer(async (req, res) => {
  if (new URL(req.url, 'http://x').pathname !== '/mcp') {
    res.writeHead(404).end()
    return
  }
  let body
  if (req.method === 'POST') {
    let text = ''
    for await (const chunk of req) text += chunk
    try { body = JSON.parse(text) } catch { body = undefined }
  }
  const sid = req.headers['mcp-session-id']
  let transport = sid ? transports.get(sid) : undefined
  if (!transport && req.method === 'POST' && body && isInitializeRequest(body)) {
    transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      eventStore,
      retryInterval: 250,
      onsessioninitialized: (id) => transports.set(id, transport),
    })
    transport.onclose = () => transport.sessionId && transports.delete(transport.sessionId)
    await newServer().connect(transport)
  }
  if (!transport) {
    // No session of ours: a fresh transport answers, so the refusal (406 for the
    // Accept, 400 for a missing session, 404 for an unknown one) is the SDK's own.
    const stray = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID() })
    await newServer().connect(stray)
    await stray.handleRequest(req, res, body)
    await stray.close()
    return
  }
  await transport.handleRequest(req, res, body)
})

httpServer.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${httpServer.address().port}\n`)
})
