// Third-party client check: the official npm Anthropic SDK (`@anthropic-ai/sdk`)
// and the Vercel AI SDK's Anthropic provider (`@ai-sdk/anthropic`) streaming from
// `postsource serve`'s /v1/messages. Usage: node anthropic_client.mjs BASE_URL.
// Prints one JSON object per scenario; thirdparty.py judges them.
import Anthropic from '@anthropic-ai/sdk'
import { streamText } from 'ai'
import { createAnthropic } from '@ai-sdk/anthropic'

const base = process.argv[2]
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n')
const prompt = 'Tell me about server-sent events'
const ask = { model: 'postsource-sim', max_tokens: 1000, messages: [{ role: 'user', content: prompt }] }

async function scenario(name, fn) {
  try {
    out({ scenario: name, ...(await fn()) })
  } catch (e) {
    out({ scenario: name, error: `${e?.name}: ${e?.message}`.slice(0, 300) })
  }
}

const client = new Anthropic({ baseURL: base, apiKey: 'sk-ant-interop', maxRetries: 0, timeout: 20000 })

await scenario('anthropic_stream', async () => {
  const kinds = []
  for await (const event of await client.messages.create({ ...ask, stream: true })) kinds.push(event.type)
  return { kinds }
})

await scenario('anthropic_stream_helper', async () => {
  const stream = client.messages.stream(ask)
  let deltas = ''
  stream.on('text', (t) => { deltas += t })
  const final = await stream.finalMessage()
  return { deltas, text: final.content[0].text, stop: final.stop_reason, outputTokens: final.usage.output_tokens }
})

await scenario('anthropic_abort', async () => {
  const stream = await client.messages.create({ ...ask, stream: true })
  let n = 0
  for await (const _ of stream) { if (++n >= 2) { stream.controller.abort(); break } }
  return { events: n }
})

await scenario('anthropic_bad_request', async () => {
  try {
    await client.messages.create({ ...ask, messages: [], stream: true })
    return { status: null }
  } catch (e) {
    return { status: e?.status ?? null, type: e?.error?.error?.type ?? null }
  }
})

await scenario('ai_sdk_anthropic', async () => {
  const provider = createAnthropic({ baseURL: `${base}/v1`, apiKey: 'sk-ant-interop' })
  const errors = []
  const result = streamText({ model: provider('postsource-sim'), prompt, maxRetries: 0,
    onError: ({ error }) => errors.push(String(error).slice(0, 200)) })
  let text = ''
  for await (const t of result.textStream) text += t
  const finishReason = await result.finishReason
  return { text, finishReason, errors }
})
