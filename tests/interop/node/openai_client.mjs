// Third-party client check: the official npm `openai` SDK and the Vercel AI SDK
// (`ai` + `@ai-sdk/openai`: the chat model, and the default one, which speaks the
// Responses API) streaming from `postsource serve`'s /v1/chat/completions and
// /v1/responses. Usage: node openai_client.mjs BASE_URL.
// Prints one JSON object per scenario; thirdparty.py judges them.
import OpenAI from 'openai'
import { streamText } from 'ai'
import { createOpenAI } from '@ai-sdk/openai'

const base = process.argv[2]
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n')
const messages = [{ role: 'user', content: 'Tell me about server-sent events' }]

async function scenario(name, fn) {
  try {
    out({ scenario: name, ...(await fn()) })
  } catch (e) {
    out({ scenario: name, error: `${e?.name}: ${e?.message}`.slice(0, 300) })
  }
}

const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'sk-interop', maxRetries: 0, timeout: 20000 })

await scenario('openai_stream', async () => {
  const stream = await client.chat.completions.create({ model: 'postsource-sim', messages, stream: true })
  const tokens = []
  let finish = null
  const ids = new Set()
  for await (const chunk of stream) {
    ids.add(chunk.id)
    const c = chunk.choices[0]
    if (c?.delta?.content) tokens.push(c.delta.content)
    if (c?.finish_reason) finish = c.finish_reason
  }
  return { text: tokens.join(''), tokens: tokens.length, finish, ids: ids.size }
})

await scenario('openai_stream_helper', async () => {
  const runner = client.chat.completions.stream({ model: 'postsource-sim', messages })
  let deltas = ''
  runner.on('content', (d) => { deltas += d })
  const final = await runner.finalChatCompletion()
  return { deltas, text: final.choices[0].message.content, finish: final.choices[0].finish_reason }
})

await scenario('openai_abort', async () => {
  const stream = await client.chat.completions.create({ model: 'postsource-sim', messages, stream: true })
  let n = 0
  for await (const _ of stream) { if (++n >= 2) { stream.controller.abort(); break } }
  return { chunks: n }
})

await scenario('ai_sdk_stream', async () => {
  const provider = createOpenAI({ baseURL: `${base}/v1`, apiKey: 'sk-interop' })
  const errors = []
  const result = streamText({ model: provider.chat('postsource-sim'), prompt: 'Tell me about server-sent events',
    maxRetries: 0, onError: ({ error }) => errors.push(String(error).slice(0, 200)) })
  let text = ''
  for await (const t of result.textStream) text += t
  const finishReason = await result.finishReason
  const usage = await result.usage
  return { text, finishReason, usage, errors }
})

await scenario('openai_responses_stream', async () => {
  const stream = client.responses.stream({ model: 'postsource-sim', input: 'Tell me about server-sent events' })
  let deltas = ''
  const kinds = []
  for await (const event of stream) {
    kinds.push(event.type)
    if (event.type === 'response.output_text.delta') deltas += event.delta
  }
  const final = await stream.finalResponse()
  return { deltas, text: final.output_text, status: final.status, first: kinds[0], last: kinds.at(-1) }
})

await scenario('ai_sdk_responses', async () => {
  const provider = createOpenAI({ baseURL: `${base}/v1`, apiKey: 'sk-interop' })
  const errors = []
  const result = streamText({ model: provider('postsource-sim'), prompt: 'Tell me about server-sent events',
    maxRetries: 0, onError: ({ error }) => errors.push(String(error).slice(0, 200)) })
  let text = ''
  for await (const t of result.textStream) text += t
  const finishReason = await result.finishReason
  return { text, finishReason, errors }
})
