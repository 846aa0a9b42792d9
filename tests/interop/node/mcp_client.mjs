// Third-party client check: the official TypeScript MCP SDK's client
// (`@modelcontextprotocol/sdk`, Streamable HTTP transport) against `postsource
// serve`'s /mcp. Usage: node mcp_client.mjs BASE_URL. Prints one JSON object per
// scenario; thirdparty.py judges them.
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'

const base = process.argv[2]
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n')

async function scenario(name, fn) {
  try {
    out({ scenario: name, ...(await fn()) })
  } catch (e) {
    out({ scenario: name, error: `${e?.name}: ${e?.message}`.slice(0, 300) })
  }
}

// A session: connect (initialize), list the tools, call countdown with progress,
// then end the session (DELETE) and close.
async function session(url, steps) {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    reconnectionOptions: { initialReconnectionDelay: 50, maxReconnectionDelay: 500, reconnectionDelayGrowFactor: 1.5, maxRetries: 5 },
  })
  const client = new Client({ name: 'postsource-interop', version: '0' })
  await client.connect(transport)
  const progress = []
  const tools = (await client.listTools()).tools.map((t) => t.name).sort()
  const done = await client.callTool({ name: 'countdown', arguments: { steps } }, undefined, {
    onprogress: (p) => progress.push([p.progress, p.total, p.message]),
    timeout: 20000,
  })
  const echo = await client.callTool({ name: 'echo', arguments: { text: 'h\u00e9llo \u{1f600}' } })
  let unknown = null
  try {
    await client.callTool({ name: 'no-such-tool', arguments: {} })
  } catch (e) {
    unknown = e?.code ?? String(e)
  }
  const sessionId = transport.sessionId
  await transport.terminateSession()
  await client.close()
  return {
    version: transport.protocolVersion ?? null,
    sessionId,
    tools,
    progress,
    result: done.content.map((c) => c.text),
    isError: done.isError ?? false,
    echo: echo.content.map((c) => c.text),
    unknown,
  }
}

await scenario('mcp_session', () => session(`${base}/mcp`, 3))
// Each connection is cut after 2 messages: the SDK resumes the reply by GET with
// the last event id it saw.
await scenario('mcp_resumed', () => session(`${base}/mcp?abort_after=2`, 5))
