// Type checks of postsource.d.ts as a user's code meets it (`tsc -p` in
// scripts/test-web, --strict): everything here must compile; each `@ts-expect-error`
// line must not.
import init, {
  PostSource, XhrSource,
  type PostSourceInit, type PostSourceErrorEvent, type PostSourceOpenEvent, type PostSourceCloseEvent,
} from '../../js/postsource.js';

await init();
const controller = new AbortController();
const options: PostSourceInit = {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ q: 1 }),
  credentials: 'include', timeout: 30_000, idleTimeout: 10_000, reconnect: 'auto', retry: 1000,
  maxRetries: 3, lastEventId: '42', untilData: '[DONE]', signal: controller.signal, resumeWithGet: true,
};
const s = new PostSource(new URL('/stream', 'http://127.0.0.1/'), options);

s.onopen = function (e) {
  const status: number = e.status;
  const type: string | null = e.headers.get('content-type');
  if (this.readyState === PostSource.OPEN) console.log(status, type, e.url);
};
s.onmessage = (e) => console.log(e.data.length, e.lastEventId, e.origin);
s.onerror = (e) => console.log(e.kind, e.reason, e.status, e.body, e.reconnecting && e.delay);
s.onclose = (e) => console.log(e.reason === 'no_content');
s.addEventListener('progress', (e) => console.log(e.data.toUpperCase()));
s.addEventListener('message', { handleEvent: (e: Event) => console.log(e.type) }, { once: true });

// A typed listener can be removed as it was added.
const onMessage = (e: MessageEvent<string>) => console.log(e.data);
s.addEventListener('message', onMessage);
s.removeEventListener('message', onMessage);
const onError = (e: PostSourceErrorEvent) => console.log(e.kind);
s.addEventListener('error', onError);
s.removeEventListener('error', onError, { capture: false });
const onOpen = (e: PostSourceOpenEvent) => console.log(e.status);
s.onopen = onOpen;
const onClose = (e: PostSourceCloseEvent) => console.log(e.reason);
s.addEventListener('close', onClose);
s.removeEventListener('close', onClose);

const states: (0 | 1 | 2)[] = [PostSource.CONNECTING, PostSource.OPEN, PostSource.CLOSED, s.CLOSED];
console.log(states);

const x = XhrSource('/jobs', { method: 'POST', body: 'x', timeout: 30_000 });
x.addEventListener('open', (e) => console.log(e.headers.split('\r\n')));
x.removeEventListener('close', onClose);
x.close();

// @ts-expect-error: `reconnect` is one of three words
new PostSource('/x', { reconnect: 'sometimes' });
// @ts-expect-error: an error event's kind is not free text
const kind: PostSourceErrorEvent['kind'] = 'other';
console.log(kind);
s.close();
