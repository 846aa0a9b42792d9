// The demo's logic: one PostSource per Generate, closed by Stop. The answer is
// a stream of OpenAI `chat.completion.chunk` events; each delta is appended.
import { PostSource } from './postsource.js';

const $ = (id) => document.getElementById(id);
const output = $('output');
let source = null;
let tokens = 0;

function busy(on, text) {
  $('generate').disabled = on;
  $('stop').disabled = !on;
  $('status').textContent = text;
}

$('generate').addEventListener('click', () => {
  source?.close();
  output.textContent = '';
  tokens = 0;
  busy(true, 'Connecting…');
  source = new PostSource('/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'postsource-sim',
      stream: true,
      messages: [{ role: 'user', content: $('prompt').value }],
    }),
    untilData: '[DONE]',
  });
  source.onopen = () => busy(true, 'Streaming…');
  source.onmessage = (event) => {
    if (event.data === '[DONE]') return;
    const delta = JSON.parse(event.data).choices?.[0]?.delta?.content;
    if (delta) {
      output.textContent += delta;
      tokens += 1;
      output.dataset.tokens = String(tokens);
    }
  };
  source.onerror = (event) => {
    if (!event.reconnecting) $('status').textContent = event.reason;
  };
  source.onclose = (event) => {
    const why = { aborted: 'Stopped', until_data: 'Done', eof: 'Done', error: 'Failed' }[event.reason] ?? 'Ended';
    busy(false, event.reason === 'error' ? $('status').textContent : `${why}: ${tokens} tokens.`);
  };
});

$('stop').addEventListener('click', () => source?.close());
