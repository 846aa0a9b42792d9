#!/usr/bin/env python3
"""Third-party interop suite: real SDKs and servers talking to `postsource`.

Two directions, each with clients/servers the project did not write:
- clients -> `postsource serve`: the official `openai` Python SDK (streamed and
  plain chat completions, the stream() helper, usage chunk, models, keep-alive;
  the Responses API: raw events, the stream() helper, max_output_tokens, errors),
  the official `anthropic` SDK (/v1/messages: raw events, the stream() helper,
  max_tokens, async, errors; /v1/models),
  `httpx-sse` (sync and async: /ticks with Last-Event-ID resume, /echo with POST,
  the chat stream and its resume, test endpoints), `sseclient-py` (requests), and
  in Node the npm `eventsource` package, `@microsoft/fetch-event-source`, the npm
  `openai` and `@anthropic-ai/sdk` SDKs and the Vercel AI SDK with its OpenAI (chat
  and Responses) and Anthropic providers (scripts in node/ that only report what
  they saw); plus serve's CORS preflight, disconnect log and keep-alive;
- the `postsource` CLI -> servers: `sse-starlette` under uvicorn, `aiohttp-sse`,
  a plain Node `http` server, and an MCP server (the official `mcp` SDK, Streamable
  HTTP) that the CLI drives as an MCP client.
Run with the interop venv's Python (scripts/test-interop sets it up). A missing
package prints `SKIPPED: <what> (<why>)` and the rest goes on. Ends with the
`N passed, M failed` line.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep the source tree clean (also for child Pythons)
os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
sys.path.insert(0, HERE)
from harness import BIN, ROOT, Checks, cli, free_port, shape_problems  # noqa: E402

C = Checks()
NODE_DIR = os.environ.get("INTEROP_NODE_DIR", os.path.join(ROOT, "target", "interop", "node"))
PROMPT = "Tell me about server-sent events"


class Proc:
    """A background server process whose first stdout line gives its port."""

    def __init__(self, argv: list[str], cwd: str | None = None, port_from=None, env=None, ready_url=None):
        self.p = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.port = None
        self.err: list[bytes] = []
        threading.Thread(target=lambda: [self.err.append(x) for x in iter(self.p.stderr.readline, b"")],
                         daemon=True).start()
        if port_from is not None:
            line = self.p.stdout.readline().decode()
            self.port = port_from(line)
            threading.Thread(target=lambda: self.p.stdout.read(), daemon=True).start()

    def stop(self) -> None:
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


def wait_port(port: int, secs: float = 15.0) -> bool:
    import socket
    end = time.monotonic() + secs
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def start_serve() -> Proc:
    def port(line: str) -> int:
        return int(line.strip().rsplit(":", 1)[1].strip("/ "))
    return Proc([BIN, "serve", "--port", "0", "--pace-ms", "5", "-q"], port_from=port)


# --------------------------------------------------------------------------- openai SDK -> serve

def t_openai(base: str) -> None:
    try:
        import openai
    except ImportError as e:
        C.skip("openai SDK checks", f"import failed: {e}")
        return
    client = openai.OpenAI(base_url=f"{base}/v1", api_key="sk-interop", timeout=20, max_retries=0)
    t0 = time.monotonic()
    tokens, finish, ids, chunks = [], None, set(), 0
    stream = client.chat.completions.create(model="postsource-sim", stream=True,
                                            messages=[{"role": "user", "content": PROMPT}])
    for chunk in stream:
        chunks += 1
        ids.add(chunk.id)
        if chunk.choices:
            d = chunk.choices[0].delta
            if d.content:
                tokens.append(d.content)
            if chunk.choices[0].finish_reason:
                finish = chunk.choices[0].finish_reason
    text = "".join(tokens)
    C.check("openai: streamed chat completion yields tokens", len(tokens) >= 3 and text.strip() != "",
            f"{len(tokens)} tokens: {text[:80]!r}")
    C.check("openai: stream finishes with finish_reason", finish in ("stop", "length"), f"finish={finish!r}")
    C.check("openai: the iterator ends ([DONE] honoured) promptly", time.monotonic() - t0 < 15, f"{time.monotonic() - t0:.1f}s")
    C.check("openai: one completion id across chunks", len(ids) == 1, str(ids))

    usage = None
    s2 = client.chat.completions.create(model="postsource-sim", stream=True, stream_options={"include_usage": True},
                                        messages=[{"role": "user", "content": PROMPT}])
    for chunk in s2:
        if chunk.usage is not None:
            usage = chunk.usage
    C.check("openai: stream_options.include_usage gives a usage chunk",
            usage is not None and usage.completion_tokens > 0 and usage.total_tokens >= usage.completion_tokens, str(usage))

    resp = client.chat.completions.create(model="postsource-sim", messages=[{"role": "user", "content": PROMPT}])
    C.check("openai: non-streamed chat completion", resp.object == "chat.completion" and bool(resp.choices[0].message.content),
            str(resp)[:200])
    C.check("openai: non-streamed and streamed texts agree", resp.choices[0].message.content == text,
            f"{resp.choices[0].message.content[:60]!r} vs {text[:60]!r}")

    try:
        with client.chat.completions.stream(model="postsource-sim", messages=[{"role": "user", "content": PROMPT}]) as st:
            deltas = [e.delta for e in st if e.type == "content.delta"]
            final = st.get_final_completion()
        C.check("openai: chat.completions.stream() helper: deltas and final completion",
                "".join(deltas) == text and final.choices[0].message.content == text
                and final.choices[0].finish_reason in ("stop", "length"), f"{''.join(deltas)[:60]!r} / {final}"[:300])
    except Exception as e:  # noqa: BLE001 - any SDK exception here is the finding
        C.check("openai: chat.completions.stream() helper", False, repr(e)[:300])

    models = client.models.list()
    C.check("openai: models.list", len(list(models)) >= 1, str(models)[:200])
    model = client.models.retrieve("postsource-sim")
    C.check("openai: models.retrieve", model.id == "postsource-sim" and model.object == "model", str(model)[:200])
    try:
        client.models.retrieve("no-such-model")
        C.check("openai: models.retrieve of an unknown model raises NotFoundError", False, "no exception")
    except openai.NotFoundError as e:
        C.check("openai: models.retrieve of an unknown model raises NotFoundError", "no-such-model" in str(e), str(e)[:200])

    async def astream():
        ac = openai.AsyncOpenAI(base_url=f"{base}/v1", api_key="sk-interop", timeout=20, max_retries=0)
        out = []
        s = await ac.chat.completions.create(model="postsource-sim", stream=True,
                                             messages=[{"role": "user", "content": PROMPT}])
        async for ch in s:
            if ch.choices and ch.choices[0].delta.content:
                out.append(ch.choices[0].delta.content)
        await ac.close()
        return "".join(out)
    import asyncio
    atext = asyncio.run(asyncio.wait_for(astream(), 20))
    C.check("openai: AsyncOpenAI stream yields the same text", atext == text, f"{atext[:60]!r}")

    seen = 0
    try:
        for _ in client.chat.completions.create(model="postsource-sim", stream=True, extra_query={"error_after": 3},
                                                messages=[{"role": "user", "content": PROMPT}]):
            seen += 1
        C.check("openai: an in-stream error chunk (?error_after=3) raises APIError", False, f"no exception, {seen} chunks")
    except openai.APIError as e:
        C.check("openai: an in-stream error chunk (?error_after=3) raises APIError after the 4 chunks before it",
                seen == 4 and "after 3 tokens" in str(e), f"{seen} chunks: {e!r}"[:200])

    try:
        client.chat.completions.create(model="postsource-sim", stream=True, messages="not a list")  # type: ignore[arg-type]
        C.check("openai: bad request raises an APIStatusError", False, "no exception")
    except openai.APIStatusError as e:
        C.check("openai: bad request raises an APIStatusError (4xx)", 400 <= e.status_code < 500, f"{e.status_code} {e}")
    except Exception as e:  # noqa: BLE001
        C.check("openai: bad request raises an APIStatusError", False, repr(e)[:200])


def t_openai_responses(base: str) -> None:
    try:
        import openai
    except ImportError as e:
        C.skip("openai Responses API checks", f"import failed: {e}")
        return
    client = openai.OpenAI(base_url=f"{base}/v1", api_key="sk-interop", timeout=20, max_retries=0)
    ask = {"model": "postsource-sim", "input": PROMPT}

    events = list(client.responses.create(stream=True, **ask))
    kinds = [e.type for e in events]
    deltas = kinds.count("response.output_text.delta")
    C.check("openai responses: raw stream: the Responses API's event sequence",
            kinds == ["response.created", "response.in_progress", "response.output_item.added",
                      "response.content_part.added"] + ["response.output_text.delta"] * deltas
            + ["response.output_text.done", "response.content_part.done", "response.output_item.done",
               "response.completed"] and deltas >= 3, str(kinds)[:300])
    C.check("openai responses: sequence numbers count up from 0",
            [e.sequence_number for e in events] == list(range(len(events))), str([e.sequence_number for e in events])[:200])

    with client.responses.stream(instructions="be brief",
                                 **{**ask, "input": [{"role": "user", "content": [{"type": "input_text", "text": PROMPT}]}]}) as st:
        text = "".join(e.delta for e in st if e.type == "response.output_text.delta")
        final = st.get_final_response()
    C.check("openai responses: responses.stream() deltas and get_final_response() agree",
            PROMPT in text and final.output_text == text and final.status == "completed"
            and final.usage.output_tokens == deltas, f"{text[:60]!r} / {final.status} {final.usage}"[:300])

    plain = client.responses.create(**ask)
    C.check("openai responses: non-streamed response has the same text",
            plain.object == "response" and plain.output_text == text, str(plain)[:200])

    cut = list(client.responses.create(stream=True, max_output_tokens=16, **ask))
    C.check("openai responses: max_output_tokens ends the stream with response.incomplete",
            cut[-1].type == "response.incomplete" and cut[-1].response.incomplete_details.reason == "max_output_tokens"
            and [e.type for e in cut].count("response.output_text.delta") == 16, str(cut[-1])[:300])

    failed = list(client.responses.create(stream=True, extra_query={"error_after": 2}, **ask))
    C.check("openai responses: ?error_after=2 ends the stream with an error event after 2 deltas",
            [e.type for e in failed].count("response.output_text.delta") == 2 and failed[-1].type == "error"
            and "after 2 tokens" in failed[-1].message, str(failed[-1])[:200])

    try:
        client.responses.create(stream=True, max_output_tokens=3, **ask)
        C.check("openai responses: bad request raises BadRequestError", False, "no exception")
    except openai.BadRequestError as e:
        C.check("openai responses: bad request raises BadRequestError naming the parameter",
                e.status_code == 400 and e.param == "max_output_tokens", f"{e.status_code} {e.body}")
    except Exception as e:  # noqa: BLE001 - any other exception is the finding
        C.check("openai responses: bad request raises BadRequestError", False, repr(e)[:200])


# --------------------------------------------------------------------------- anthropic SDK -> serve

def t_anthropic(base: str) -> None:
    try:
        import anthropic
    except ImportError as e:
        C.skip("anthropic SDK checks", f"import failed: {e}")
        return
    client = anthropic.Anthropic(base_url=base, api_key="sk-ant-interop", timeout=20, max_retries=0)
    ask = {"model": "postsource-sim", "max_tokens": 1000, "messages": [{"role": "user", "content": PROMPT}]}

    kinds = [event.type for event in client.messages.create(stream=True, **ask)]
    deltas = kinds.count("content_block_delta")
    C.check("anthropic: raw stream: the Messages API's event sequence",
            kinds == ["message_start", "content_block_start"] + ["content_block_delta"] * deltas
            + ["content_block_stop", "message_delta", "message_stop"] and deltas >= 3, str(kinds)[:300])

    t0 = time.monotonic()
    with client.messages.stream(**ask) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    C.check("anthropic: messages.stream() text_stream yields the answer", PROMPT in text, f"{text[:80]!r}")
    C.check("anthropic: the stream ends at message_stop promptly", time.monotonic() - t0 < 15,
            f"{time.monotonic() - t0:.1f}s")
    C.check("anthropic: get_final_message(): text, end_turn, usage",
            final.content[0].text == text and final.stop_reason == "end_turn"
            and final.usage.output_tokens == deltas and final.usage.input_tokens > 0, str(final)[:300])

    listed = [m.id for m in client.models.list()]
    model = client.models.retrieve("postsource-sim")
    C.check("anthropic: models.list and models.retrieve",
            listed == ["postsource-sim"] and model.id == "postsource-sim" and model.display_name != "",
            f"{listed} {model}"[:200])

    plain = client.messages.create(**ask)
    C.check("anthropic: non-streamed message has the same text",
            plain.type == "message" and plain.content[0].text == text, str(plain)[:200])

    with client.messages.stream(**{**ask, "max_tokens": 3}) as stream:
        short = stream.get_final_message()
    C.check("anthropic: max_tokens cuts the stream (stop_reason max_tokens)",
            short.stop_reason == "max_tokens" and short.usage.output_tokens == 3, str(short)[:300])

    async def astream() -> str:
        ac = anthropic.AsyncAnthropic(base_url=base, api_key="sk-ant-interop", timeout=20, max_retries=0)
        async with ac.messages.stream(**ask) as s:
            out = "".join([t async for t in s.text_stream])
        await ac.close()
        return out
    import asyncio
    atext = asyncio.run(asyncio.wait_for(astream(), 20))
    C.check("anthropic: AsyncAnthropic stream yields the same text", atext == text, f"{atext[:60]!r}")

    got = ""
    try:
        with client.messages.stream(**ask, extra_query={"error_after": 2}) as stream:
            for t in stream.text_stream:
                got += t
        C.check("anthropic: an in-stream error event (?error_after=2) raises APIStatusError", False, f"no exception: {got!r}")
    except anthropic.APIStatusError as e:
        C.check("anthropic: an in-stream error event (?error_after=2) raises APIStatusError after 2 tokens",
                got == text[:len(got)] and len(got.split()) == 2 and "overloaded_error" in str(e.body), f"{got!r} {e.body}"[:200])

    try:
        client.messages.create(model="postsource-sim", max_tokens=10, messages=[], stream=True)
        C.check("anthropic: bad request raises BadRequestError", False, "no exception")
    except anthropic.BadRequestError as e:
        C.check("anthropic: bad request raises BadRequestError with the error body",
                e.status_code == 400 and "invalid_request_error" in str(e.body), f"{e.status_code} {e.body}")
    except Exception as e:  # noqa: BLE001 - any other exception is the finding
        C.check("anthropic: bad request raises BadRequestError", False, repr(e)[:200])


# --------------------------------------------------------------------------- httpx-sse -> serve

def whatwg_only(evs: list) -> list:
    """httpx-sse also yields blocks without data (e.g. a lone `retry:`); EventSource does not."""
    return [e for e in evs if not (e[1] == "" and e[0] == "message")]


def t_httpx_sse(base: str) -> None:
    try:
        import httpx
        from httpx_sse import SSEError, aconnect_sse, connect_sse
    except ImportError as e:
        C.skip("httpx-sse checks", f"import failed: {e}")
        return
    with httpx.Client(timeout=20) as client:
        with connect_sse(client, "GET", f"{base}/ticks?interval_ms=10&count=3") as es:
            ct = es.response.headers.get("content-type", "")
            evs = whatwg_only([(s.event, s.data, s.id, s.retry) for s in es.iter_sse()])
        C.check("httpx-sse: /ticks content type", ct.startswith("text/event-stream"), ct)
        C.check("httpx-sse: /ticks 3 tick events with ids", [e[:3] for e in evs] == [("tick", str(i), str(i)) for i in (1, 2, 3)],
                str(evs))
        with connect_sse(client, "GET", f"{base}/ticks?interval_ms=10&count=2", headers={"Last-Event-ID": "3"}) as es:
            evs2 = whatwg_only([(s.event, s.data, s.id) for s in es.iter_sse()])
        C.check("httpx-sse: Last-Event-ID 3 resumes at tick 4", evs2 == [("tick", "4", "4"), ("tick", "5", "5")], str(evs2))

        with connect_sse(client, "POST", f"{base}/echo", json={"q": "ping"}, headers={"X-Interop": "httpx"}) as es:
            evs3 = [(s.event, s.data) for s in es.iter_sse()]
        ev = dict(e for e in evs3 if e[0] in ("method", "body", "request"))
        C.check("httpx-sse: /echo POST method", ev.get("method") == "POST", str(evs3)[:300])
        C.check("httpx-sse: /echo body", json.loads(ev.get("body") or "null") == {"q": "ping"}, str(ev.get("body")))
        headers = [d for t, d in evs3 if t == "header"]
        C.check("httpx-sse: /echo header events", any(h.lower().startswith("x-interop: httpx") for h in headers), str(headers))
        try:
            req = json.loads(ev.get("request") or "{}")
            C.check("httpx-sse: /echo request JSON", req.get("method") == "POST", str(req)[:200])
        except ValueError as e:
            C.check("httpx-sse: /echo request JSON", False, repr(e))

        body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": PROMPT}]}
        with connect_sse(client, "POST", f"{base}/v1/chat/completions?pace_ms=60", json=body) as es:
            stamps = []
            evs4 = []
            for s in es.iter_sse():
                stamps.append(time.monotonic())
                evs4.append((s.data, s.id))
        gaps = [b - a for a, b in zip(stamps[1:], stamps[2:-1])]  # token gaps (role chunk and [DONE] aside)
        avg = sum(gaps) / len(gaps) if gaps else 0
        C.check("serve chat ?pace_ms=60: tokens paced about 60 ms apart", 0.04 <= avg <= 0.3, f"avg gap {avg:.3f}s")
        C.check("httpx-sse: chat stream ends with [DONE]", bool(evs4) and evs4[-1][0] == "[DONE]", str(evs4[-2:]))
        C.check("httpx-sse: chat stream has an id on every event", all(i for _, i in evs4), str([i for _, i in evs4][:10]))
        ids = [i for _, i in evs4]
        if len(ids) > 3:
            mid = ids[len(ids) // 2]
            with connect_sse(client, "POST", f"{base}/v1/chat/completions", json=body, headers={"Last-Event-ID": mid}) as es:
                rest = [(s.data, s.id) for s in es.iter_sse()]
            def key(evs):  # chunk ids and timestamps are per request; compare ids and deltas
                out = []
                for d, i in evs:
                    try:
                        ch = json.loads(d).get("choices") or [{}]
                        out.append((i, ch[0].get("delta"), ch[0].get("finish_reason")))
                    except ValueError:
                        out.append((i, d, None))
                return out
            C.check("httpx-sse: chat stream resumes after Last-Event-ID", key(rest) == key(evs4[len(ids) // 2 + 1:]),
                    f"{key(rest)[:3]} vs {key(evs4[len(ids) // 2 + 1:])[:3]}")

        try:
            with connect_sse(client, "GET", f"{base}/test/content-type?type=text/plain") as es:
                list(es.iter_sse())
            C.check("httpx-sse: /test/content-type raises SSEError", False, "no error")
        except SSEError:
            C.check("httpx-sse: /test/content-type raises SSEError", True)

        with connect_sse(client, "GET", f"{base}/test/drip?delay_ms=1") as es:
            drip = [(s.event, s.data, s.id) for s in es.iter_sse()]
        C.check("httpx-sse: /test/drip parsed (CRLF, CR, UTF-8 split per byte)",
                drip == [("message", "caf\u00e9 \U0001F600", "1"), ("named", "two\nlines", "1"), ("message", "last", "3")],
                str(drip))

    async def alist():
        async with httpx.AsyncClient(timeout=20) as ac:
            async with aconnect_sse(ac, "GET", f"{base}/ticks?interval_ms=10&count=2") as es:
                return [s.data async for s in es.aiter_sse() if s.data != ""]
    import asyncio
    got = asyncio.run(asyncio.wait_for(alist(), 20))
    C.check("httpx-sse: async aconnect_sse", got == ["1", "2"], str(got))

    async def many():
        async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=200)) as ac:
            async def one():
                async with aconnect_sse(ac, "GET", f"{base}/ticks?interval_ms=20&count=5") as es:
                    return [s.data async for s in es.aiter_sse() if s.data != ""]
            return await asyncio.gather(*[one() for _ in range(100)])
    res = asyncio.run(asyncio.wait_for(many(), 30))
    C.check("httpx-sse: 100 concurrent /ticks streams all complete", all(x == ["1", "2", "3", "4", "5"] for x in res),
            f"{sum(1 for x in res if x == ['1', '2', '3', '4', '5'])} of 100")


# --------------------------------------------------------------------------- serve behaviour seen by a client

def t_serve_behaviour() -> None:
    try:
        import httpx
    except ImportError as e:
        C.skip("serve CORS / cancellation / keep-alive checks", f"import failed: {e}")
        return
    def port(line: str) -> int:
        return int(line.strip().rsplit(":", 1)[1].strip("/ "))
    srv = Proc([BIN, "serve", "--port", "0", "--keep-alive", "1"], port_from=port)
    base = f"http://127.0.0.1:{srv.port}"
    try:
        with httpx.Client(timeout=10) as client:
            r = client.options(f"{base}/v1/chat/completions", headers={
                "Origin": "http://example.test", "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type,authorization,last-event-id"})
            aco = r.headers.get("access-control-allow-origin")
            methods = (r.headers.get("access-control-allow-methods") or "").upper()
            hdrs = (r.headers.get("access-control-allow-headers") or "").lower()
            C.check("serve CORS preflight: 2xx, origin allowed, POST and the headers allowed",
                    200 <= r.status_code < 300 and aco in ("http://example.test", "*")
                    and ("POST" in methods or "*" in methods)
                    and all(h in hdrs or "*" in hdrs for h in ("content-type", "authorization", "last-event-id")),
                    f"{r.status_code} {dict(r.headers)}")
            if r.headers.get("access-control-allow-credentials") == "true":
                C.check("serve CORS: credentials allowed => origin is not '*'", aco != "*", str(aco))
            r = client.get(f"{base}/ticks?count=1&interval_ms=1", headers={"Origin": "http://example.test"})
            C.check("serve CORS: actual response has Access-Control-Allow-Origin",
                    r.headers.get("access-control-allow-origin") in ("http://example.test", "*"), str(dict(r.headers)))

            body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": PROMPT * 5}]}
            with client.stream("POST", f"{base}/v1/chat/completions", json=body,
                               headers={"x-postsource-pace-ms": "300"}) as resp:
                n = 0
                for line in resp.iter_lines():
                    if line.startswith("data:"):
                        n += 1
                    if n >= 2:
                        break
            end = time.monotonic() + 3
            while time.monotonic() < end and b"disconnect" not in b"".join(srv.err):
                time.sleep(0.05)
        srv.stop()
        log = b"".join(srv.err).decode(errors="replace")
        C.check("serve: client disconnect logged ('client disconnected; stopped generating')",
                "client disconnected" in log and "stopped generating" in log, log[-400:])
        C.note(f"serve log tail: {log.strip().splitlines()[-3:] if log.strip() else []}")
    finally:
        srv.stop()

    srv = Proc([BIN, "serve", "--port", "0", "--keep-alive", "1", "-q"], port_from=port)
    try:
        kb = f"http://127.0.0.1:{srv.port}"
        # httpx-sse and the openai SDK share a decoder that yields a block without data
        # when an id was seen before or retry: was set, so ": keep-alive\n\n" after an id,
        # or a lone "retry: N\n\n", becomes an empty event (and json.loads("") in openai).
        try:
            from httpx_sse import connect_sse
            with httpx.Client(timeout=15) as client, \
                    connect_sse(client, "GET", f"{kb}/ticks?interval_ms=2200&count=2") as es:
                raw_evs = [(x.event, x.data, x.id) for x in es.iter_sse()]
            C.check("httpx-sse: no spurious empty events from serve's retry:/keep-alive blocks on /ticks",
                    raw_evs == [("tick", "1", "1"), ("tick", "2", "2")], str(raw_evs))
        except ImportError as e:
            C.skip("httpx-sse keep-alive check", str(e))
        try:
            import openai
            oc = openai.OpenAI(base_url=f"{kb}/v1", api_key="sk-interop", timeout=20, max_retries=0)
            n = 0
            try:
                st = oc.chat.completions.create(model="m", stream=True, messages=[{"role": "user", "content": PROMPT}],
                                                extra_headers={"x-postsource-pace-ms": "1300"})
                for _ in st:
                    n += 1
                    if n >= 3:
                        break
                C.check("openai: stream survives serve's keep-alive comments (slow pace, --keep-alive 1)", n >= 3, f"{n}")
            except Exception as e:  # noqa: BLE001 - the SDK's own exception is the finding
                C.check("openai: stream survives serve's keep-alive comments (slow pace, --keep-alive 1)", False,
                        f"after {n} chunks: {type(e).__name__}: {str(e)[:120]}")
        except ImportError as e:
            C.skip("openai keep-alive check", str(e))
        with httpx.Client(timeout=10) as client:
            t0 = time.monotonic()
            seen = False
            with client.stream("GET", f"http://127.0.0.1:{srv.port}/ticks?interval_ms=5000") as resp:
                for line in resp.iter_lines():
                    if line.startswith(":") and "keep-alive" in line:
                        seen = True
                        break
                    if time.monotonic() - t0 > 4:
                        break
            C.check("serve --keep-alive 1: ': keep-alive' comment on an idle stream", seen and time.monotonic() - t0 < 3.5,
                    f"seen={seen} after {time.monotonic() - t0:.1f}s")
    finally:
        srv.stop()


# --------------------------------------------------------------------------- Node clients -> serve

def node_ready(pkgs=("eventsource", "@microsoft/fetch-event-source")) -> str | None:
    if shutil.which("node") is None:
        return "node not installed"
    for pkg in pkgs:
        if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", pkg)):
            return f"{pkg} not installed in {NODE_DIR}"
    return None


def beside_node_modules(script: str) -> str:
    """A copy of node/`script` in NODE_DIR, to run: ESM resolves packages next to the
    importing file."""
    dst = os.path.join(NODE_DIR, script)
    shutil.copyfile(os.path.join(HERE, "node", script), dst)
    return dst


def run_node(script: str, *args: str, timeout: float = 60) -> list[dict]:
    p = subprocess.run(["node", beside_node_modules(script), *args], capture_output=True, timeout=timeout)
    out = []
    for line in p.stdout.decode().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    if p.returncode != 0:
        out.append({"scenario": "_exit", "rc": p.returncode, "stderr": p.stderr.decode()[-500:]})
    return out


def t_node_eventsource(base: str) -> None:
    why = node_ready()
    if why:
        C.skip("npm eventsource checks", why)
        return
    res = {o["scenario"]: o for o in run_node("es_client.mjs", base)}
    if "_exit" in res:
        C.check("eventsource: script ran", False, str(res["_exit"]))
    r = res.get("ticks_resume", {})
    C.check("eventsource: /ticks reconnects with Last-Event-ID, ticks 1..6 in order",
            [e["data"] for e in r.get("events", [])] == [str(i) for i in range(1, 7)]
            and [e["id"] for e in r.get("events", [])] == [str(i) for i in range(1, 7)] and r.get("opens", 0) >= 2, str(r)[:300])
    r = res.get("ticks_total", {})
    C.check("eventsource: /ticks total=4 ends with 204 -> CLOSED", r.get("events") == ["1", "2", "3", "4"]
            and r.get("readyState") == 2, str(r)[:300])
    r = res.get("echo_post", {})
    evs = {e["type"]: e["data"] for e in r.get("events", [])}
    C.check("eventsource: /echo via POST fetch hook", evs.get("method") == "POST" and evs.get("body") == '{"hello":"world"}',
            str(r)[:300])
    r = res.get("status_error", {})
    C.check("eventsource: /test/status/500 fails the connection (CLOSED)", r.get("readyState") == 2, str(r))
    r = res.get("drip", {})
    C.check("eventsource: /test/drip parsed", [(e["type"], e["data"], e["id"]) for e in r.get("events", [])] ==
            [["message", "caf\u00e9 \U0001F600", "1"], ["named", "two\nlines", "1"], ["message", "last", "3"]]
            or [(e["type"], e["data"], e["id"]) for e in r.get("events", [])] ==
            [("message", "caf\u00e9 \U0001F600", "1"), ("message", "last", "3")], str(r)[:300])


def t_node_fes(base: str) -> None:
    why = node_ready()
    if why:
        C.skip("@microsoft/fetch-event-source checks", why)
        return
    res = {o["scenario"]: o for o in run_node("fes_client.mjs", base)}
    if "_exit" in res:
        C.check("fetch-event-source: script ran", False, str(res["_exit"]))
    r = res.get("chat", {})
    evs = r.get("events", [])
    C.check("fetch-event-source: chat POST streams chunks then [DONE]", len(evs) >= 4 and evs[-1]["data"] == "[DONE]"
            and r.get("status") == 200, str(r)[:300])
    try:
        text = "".join(json.loads(e["data"])["choices"][0]["delta"].get("content") or "" for e in evs[:-1]
                       if json.loads(e["data"]).get("choices"))
    except (ValueError, KeyError, IndexError) as e:
        text = f"<{e!r}>"
    C.check("fetch-event-source: chunks carry content", len(text) > 0 and not text.startswith("<"), text[:80])
    r = res.get("echo_post", {})
    evs = {e["event"]: e["data"] for e in r.get("events", [])}
    C.check("fetch-event-source: /echo POST body", evs.get("method") == "POST" and evs.get("body") == "plain body", str(r)[:300])
    r = res.get("ticks_resume", {})
    C.check("fetch-event-source: /ticks resumes across reconnects (ids 1..5)",
            [e["id"] for e in r.get("events", [])] == [str(i) for i in range(1, 6)] and r.get("opens", 0) >= 3, str(r)[:300])


def t_node_openai(base: str) -> None:
    why = node_ready(("openai", "ai", "@ai-sdk/openai"))
    if why:
        C.skip("npm openai / Vercel AI SDK checks", why)
        return
    res = {o["scenario"]: o for o in run_node("openai_client.mjs", base)}
    if "_exit" in res:
        C.check("npm openai: script ran", False, str(res["_exit"]))
    r = res.get("openai_stream", {})
    C.check("npm openai: streamed chat completion yields tokens and finishes", r.get("tokens", 0) >= 3
            and r.get("finish") in ("stop", "length") and r.get("ids") == 1, str(r)[:300])
    text = r.get("text")
    r = res.get("openai_stream_helper", {})
    C.check("npm openai: chat.completions.stream() helper, finalChatCompletion", r.get("text") == text and
            r.get("deltas") == text and r.get("finish") in ("stop", "length"), str(r)[:300])
    r = res.get("openai_abort", {})
    C.check("npm openai: abort mid-stream", r.get("chunks") == 2 and "error" not in r, str(r)[:300])
    r = res.get("ai_sdk_stream", {})
    C.check("Vercel AI SDK (@ai-sdk/openai chat): streamText gives the text and finish reason",
            bool(text) and r.get("text") == text and r.get("finishReason") in ("stop", "length") and not r.get("errors"), str(r)[:400])
    r = res.get("openai_responses_stream", {})
    C.check("npm openai: responses.stream() deltas, finalResponse, created..completed",
            bool(text) and r.get("text") == text and r.get("deltas") == text and r.get("status") == "completed"
            and r.get("first") == "response.created" and r.get("last") == "response.completed", str(r)[:300])
    r = res.get("ai_sdk_responses", {})
    C.check("Vercel AI SDK (@ai-sdk/openai default, the Responses API): streamText gives the text",
            bool(text) and r.get("text") == text and r.get("finishReason") == "stop" and not r.get("errors"), str(r)[:400])


def t_node_anthropic(base: str) -> None:
    why = node_ready(("@anthropic-ai/sdk", "ai", "@ai-sdk/anthropic"))
    if why:
        C.skip("npm Anthropic SDK / Vercel AI SDK Anthropic checks", why)
        return
    res = {o["scenario"]: o for o in run_node("anthropic_client.mjs", base)}
    if "_exit" in res:
        C.check("npm anthropic: script ran", False, str(res["_exit"]))
    r = res.get("anthropic_stream", {})
    kinds = r.get("kinds") or []
    C.check("npm anthropic: raw stream from message_start to message_stop",
            kinds[:2] == ["message_start", "content_block_start"] and kinds[-3:] ==
            ["content_block_stop", "message_delta", "message_stop"] and kinds.count("content_block_delta") >= 3,
            str(r)[:300])
    r = res.get("anthropic_stream_helper", {})
    text = r.get("text")
    C.check("npm anthropic: messages.stream() text events and finalMessage agree",
            bool(text) and PROMPT in text and r.get("deltas") == text and r.get("stop") == "end_turn"
            and r.get("outputTokens") == kinds.count("content_block_delta"), str(r)[:300])
    r = res.get("anthropic_abort", {})
    C.check("npm anthropic: abort mid-stream", r.get("events") == 2 and "error" not in r, str(r)[:300])
    r = res.get("anthropic_bad_request", {})
    C.check("npm anthropic: a bad request is a 400 APIError with the error type",
            r.get("status") == 400 and r.get("type") == "invalid_request_error", str(r)[:300])
    r = res.get("ai_sdk_anthropic", {})
    C.check("Vercel AI SDK (@ai-sdk/anthropic): streamText gives the text and finish reason",
            bool(text) and r.get("text") == text and r.get("finishReason") == "stop" and not r.get("errors"), str(r)[:400])


def t_node_mcp(base: str) -> None:
    """The official TypeScript MCP SDK's client against serve's /mcp: a session with
    tools, progress and DELETE; then every connection cut after 2 messages, each
    resumed by GET with Last-Event-ID (this SDK follows the newest id, so two cuts
    in one reply are fine)."""
    why = node_ready(("@modelcontextprotocol/sdk",))
    if why:
        C.skip("npm MCP SDK client checks", why)
        return
    res = {o["scenario"]: o for o in run_node("mcp_client.mjs", base)}
    if "_exit" in res:
        C.check("npm mcp: script ran", False, str(res["_exit"]))
    for name, steps, what in [("mcp_session", 3, "a session"),
                              ("mcp_resumed", 5, "every connection cut after 2 messages (?abort_after=2), resumed by GET")]:
        r = res.get(name, {})
        C.check(f"npm mcp SDK client -> serve: {what}: tools, {steps} progress notifications once each "
                "in order, the result, echo, an unknown tool's -32602",
                r.get("version") == "2025-11-25" and bool(r.get("sessionId")) and r.get("tools") == ["countdown", "echo"]
                and r.get("progress") == [[i, steps, f"step {i}"] for i in range(1, steps + 1)]
                and r.get("result") == [f"counted {steps}"] and r.get("isError") is False
                and r.get("echo") == ["h\u00e9llo \U0001f600"] and r.get("unknown") == -32602, str(r)[:400])


def t_sseclient(base: str) -> None:
    try:
        import requests
        import sseclient
    except ImportError as e:
        C.skip("sseclient-py checks", f"import failed: {e}")
        return
    with requests.get(f"{base}/ticks?interval_ms=10&count=3", stream=True, timeout=20,
                      headers={"Accept": "text/event-stream"}) as resp:
        evs = [(e.event, e.data, e.id) for e in sseclient.SSEClient(resp).events()]
    C.check("sseclient-py: /ticks", whatwg_only(evs) == [("tick", str(i), str(i)) for i in (1, 2, 3)], str(evs))
    C.check("sseclient-py: /ticks has no empty events", evs == whatwg_only(evs), str(evs))
    with requests.post(f"{base}/v1/chat/completions", stream=True, timeout=20,
                       json={"model": "m", "stream": True, "messages": [{"role": "user", "content": PROMPT}]}) as resp:
        evs = [e.data for e in sseclient.SSEClient(resp).events()]
    C.check("sseclient-py: chat stream ends with [DONE]", len(evs) > 3 and evs[-1] == "[DONE]", str(evs[-2:]))


# --------------------------------------------------------------------------- CLI -> third-party servers

EXPECTED_STREAM = [("greet", "hi", "1"), ("message", "line1\nline2", "1"), ("json", '{"x": 1}', "2"),
                   ("message", "caf\u00e9", "2")]


def cli_against(name: str, base: str, cr: bool = False) -> None:
    r = cli(["-o", "jsonl", "--reconnect", "never", f"{base}/stream"], timeout=20)
    p = shape_problems(r)
    C.check(f"cli -> {name}: /stream events", r.events() == EXPECTED_STREAM and r.rc == 0 and r.close_reason() == "eof"
            and not p, f"{p} {r.brief()}")
    r = cli(["-o", "jsonl", "-n", "7", f"{base}/resume"], timeout=20)
    C.check(f"cli -> {name}: /resume continues via Last-Event-ID across reconnects",
            [e[1] for e in r.events()] == [str(i) for i in range(1, 8)] and [e[2] for e in r.events()] ==
            [str(i) for i in range(1, 8)] and r.close_reason() == "max_events" and r.rc == 0, r.brief())
    r = cli(["-o", "jsonl", "--json", '{"a": 1}', f"{base}/post"], timeout=20)
    try:
        got = json.loads(r.events()[0][1])
    except (ValueError, IndexError):
        got = None
    C.check(f"cli -> {name}: --json POST echoed", got is not None and got.get("method") == "POST"
            and got.get("body") == '{"a": 1}' and (got.get("ct") or "").startswith("application/json") and r.rc == 0,
            r.brief())
    r = cli(["-o", "data", "--reconnect", "never", f"{base}/stream"], timeout=20)
    C.check(f"cli -> {name}: -o data", r.raw == ["hi", "line1", "line2", '{"x": 1}', "caf\u00e9"] and r.rc == 0, r.brief())
    if cr:
        r = cli(["-o", "jsonl", "--reconnect", "never", f"{base}/cr"], timeout=20)
        C.check(f"cli -> {name}: CR-only line endings", r.events() == [("message", "a\nb", ""), ("message", "c", "5")],
                r.brief())


@contextlib.contextmanager
def python_server(started: str, *args: str):
    """A third-party Python server run from this folder on a free port, given to it as
    `{port}` in `args`: yields the port once the server accepts connections (the check
    named `started`), or None if it never does; stops the server afterwards."""
    port = free_port()
    srv = Proc([sys.executable, *(a.format(port=port) for a in args)], cwd=HERE)
    try:
        up = C.check(started, wait_port(port), b"".join(srv.err).decode()[-300:])
        yield port if up else None
    finally:
        srv.stop()


def t_cli_starlette() -> None:
    try:
        import sse_starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as e:
        C.skip("cli -> sse-starlette checks", f"import failed: {e}")
        return
    with python_server("sse-starlette: uvicorn started", "-m", "uvicorn", "starlette_app:app", "--host",
                       "127.0.0.1", "--port", "{port}", "--log-level", "warning") as port:
        if port:
            cli_against("sse-starlette", f"http://127.0.0.1:{port}")


def t_cli_aiohttp() -> None:
    try:
        import aiohttp_sse  # noqa: F401
    except ImportError as e:
        C.skip("cli -> aiohttp-sse checks", f"import failed: {e}")
        return
    with python_server("aiohttp-sse: server started", "aiohttp_app.py", "{port}") as port:
        if port:
            cli_against("aiohttp-sse", f"http://127.0.0.1:{port}")


def t_cli_node_server() -> None:
    if shutil.which("node") is None:
        C.skip("cli -> node http server checks", "node not installed")
        return
    srv = Proc(["node", os.path.join(HERE, "node", "sse_server.mjs")], port_from=lambda line: int(line.split()[1]))
    try:
        cli_against("node http", f"http://127.0.0.1:{srv.port}", cr=True)
    finally:
        srv.stop()


MCP_ACCEPT = "Accept: application/json, text/event-stream"
# The first version whose clients take the server's priming event (an id, empty data).
MCP_VERSION = "2025-11-25"


def jsonrpc(run) -> list:
    """The JSON-RPC messages of a run's events with data (the priming events have none)."""
    out = []
    for _, data, _ in run.events():
        if data:
            try:
                out.append(json.loads(data))
            except ValueError:
                out.append(None)
    return out


def t_cli_mcp() -> None:
    """The CLI as an MCP client over Streamable HTTP (the official `mcp` SDK's server,
    with an event store, so resumable): initialize, a tool call whose reply streams
    progress notifications before the result, and resuming that reply by GET with
    Last-Event-ID. The server's streams carry ids, so `--reconnect never`: after an id,
    `auto` would send the POST again, which MCP does not want."""
    try:
        import mcp.server.mcpserver  # noqa: F401
    except ImportError as e:
        C.skip("cli -> mcp server checks", f"import failed: {e}")
        return
    with python_server("mcp: server started", "mcp_app.py", "{port}") as port:
        if port:
            mcp_checks(f"http://127.0.0.1:{port}/mcp")


def t_cli_mcp_ts() -> None:
    """t_cli_mcp's checks against the official TypeScript SDK's server (node
    mcp_server.mjs: Streamable HTTP, stateful, the SDK's in-memory event store)."""
    why = node_ready(("@modelcontextprotocol/sdk", "zod"))
    if why:
        C.skip("cli -> TypeScript mcp server checks", why)
        return
    srv = Proc(["node", beside_node_modules("mcp_server.mjs")], port_from=lambda line: int(line.split()[1]))
    try:
        mcp_checks(f"http://127.0.0.1:{srv.port}/mcp", "ts mcp")
    finally:
        srv.stop()


def mcp_checks(url: str, who: str = "mcp") -> None:
    """t_cli_mcp's checks, against the server at `url`."""
    post = ["-o", "jsonl", "--reconnect", "never", "-H", MCP_ACCEPT]
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": MCP_VERSION, "capabilities": {},
                       "clientInfo": {"name": "postsource", "version": "0"}}}
    r = cli([*post, "--json", json.dumps(init), url], timeout=20)
    opens = r.of("open")
    sid = (opens[0].get("headers") or {}).get("mcp-session-id") if opens else None
    msgs = jsonrpc(r)
    C.check(f"cli -> {who}: initialize answered as an event stream, with a session id",
            r.rc == 0 and r.close_reason() == "eof" and bool(sid) and len(msgs) == 1 and msgs[0] is not None
            and msgs[0].get("id") == 1 and "serverInfo" in (msgs[0].get("result") or {}), r.brief())
    # `id: N`, `data: ` (one empty data line), `retry:`: the spec dispatches that as an
    # event whose data is empty.
    evs = r.events()
    C.check(f"cli -> {who}: the priming event (id, empty data line) is an event with empty data",
            bool(evs) and evs[0][1] == "" and evs[0][2] != "", r.brief())
    if not sid:
        return
    session = ["-H", f"mcp-session-id: {sid}", "-H", f"mcp-protocol-version: {MCP_VERSION}"]
    # A notification is answered 202 with no body: not an event stream, so an error
    # of kind `status` (the contract's rule for any status but 200).
    r = cli([*post, *session, "--json", '{"jsonrpc":"2.0","method":"notifications/initialized"}', url],
            timeout=20)
    errs = r.of("error")
    C.check(f"cli -> {who}: notifications/initialized gets 202: error kind status",
            r.rc == 1 and len(errs) == 1 and errs[0].get("kind") == "status" and errs[0].get("status") == 202,
            r.brief())
    call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
            "params": {"name": "countdown", "arguments": {"steps": 3}, "_meta": {"progressToken": "p1"}}}
    r = cli([*post, *session, "--json", json.dumps(call), url], timeout=20)
    msgs = jsonrpc(r)
    progress = [m["params"]["progress"] for m in msgs[:-1] if m and m.get("method") == "notifications/progress"]
    result = msgs[-1].get("result") if msgs and msgs[-1] else None
    C.check(f"cli -> {who}: tools/call streams 3 progress notifications, then the result",
            r.rc == 0 and progress == [1, 2, 3] and len(msgs) == 4 and msgs[-1].get("id") == 2
            and (result or {}).get("content", [{}])[0].get("text") == "counted 3", r.brief())
    ids = [i for _, d, i in r.events() if d]
    C.check(f"cli -> {who}: every message has its event id",
            len(ids) == 4 and all(ids) and len(set(ids)) == 4, str(ids))
    if len(ids) == 4:
        r = cli(["-o", "jsonl", "-n", "3", "--timeout", "15", "-H", MCP_ACCEPT, *session,
                 "--last-event-id", ids[0], url], timeout=20)
        msgs = jsonrpc(r)
        C.check(f"cli -> {who}: GET with --last-event-id replays what followed (progress 2, 3, the result)",
                r.rc == 0 and r.close_reason() == "max_events" and len(msgs) == 3
                and [m and (m.get("params") or {}).get("progress") for m in msgs[:2]] == [2, 3]
                and (msgs[2] or {}).get("id") == 2 and [i for _, _, i in r.events()] == ids[1:], r.brief())
    r = cli(["-o", "data", "--reconnect", "never", "-H", MCP_ACCEPT, *session, "--json", json.dumps(call), url],
            timeout=20)
    lines = [x for x in r.raw if x]
    C.check(f"cli -> {who}: -o data gives one JSON-RPC message per line",
            r.rc == 0 and len(lines) == 4 and json.loads(lines[-1]).get("id") == 2, r.brief())
    # Without the Accept the transport asks for, the server refuses: the error line
    # carries the status and the JSON-RPC error body.
    r = cli(["-o", "jsonl", "--json", '{"jsonrpc":"2.0","id":3,"method":"tools/list"}', url], timeout=20)
    errs = r.of("error")
    body = errs[0].get("body", "") if errs else ""
    C.check(f"cli -> {who}: default Accept refused (406), the JSON-RPC error body reported",
            r.rc == 1 and bool(errs) and errs[0].get("status") == 406 and '"jsonrpc"' in body, r.brief())


def t_serve_mcp(base: str) -> None:
    """`postsource serve`'s /mcp, the server of the pair: the CLI checks that t_cli_mcp
    runs against the official SDK's server, then the official Python SDK's client
    (Streamable HTTP, `mode="auto"`: its server/discover probe is refused, so it falls
    back to the initialize handshake) listing and calling tools, with progress, and
    resuming a reply whose connection the server cuts (`?abort_after=N`) by GET with
    Last-Event-ID, as the transport specifies."""
    mcp_checks(f"{base}/mcp", "serve /mcp")
    try:
        from mcp.client.client import Client
        from mcp.shared.exceptions import MCPError
    except ImportError as e:
        C.skip("mcp SDK client -> serve checks", f"import failed: {e}")
        return
    import anyio

    async def session(url: str, steps: int) -> dict:
        with anyio.fail_after(30):
            return await calls(url, steps)

    async def calls(url: str, steps: int) -> dict:
        seen: dict = {"progress": []}

        async def on_progress(progress, total, message):
            seen["progress"].append((progress, total, message))
        async with Client(url, mode="auto") as client:
            seen["version"] = client.session.protocol_version
            seen["tools"] = sorted(t.name for t in (await client.list_tools()).tools)
            done = await client.call_tool("countdown", {"steps": steps}, progress_callback=on_progress)
            seen["countdown"] = (done.is_error, [c.text for c in done.content])
            seen["echo"] = [c.text for c in (await client.call_tool("echo", {"text": "h\u00e9llo \U0001f600"})).content]
            bad = await client.call_tool("countdown", {"steps": "many"})
            seen["bad"] = (bad.is_error, bad.content[0].text if bad.content else "")
            try:
                await client.call_tool("no-such-tool", {})
                seen["unknown"] = None
            except MCPError as e:
                seen["unknown"] = (e.code, str(e))
        return seen

    def run(url: str, steps: int) -> dict | None:
        try:
            return anyio.run(session, url, steps)
        except Exception as e:  # noqa: BLE001 (the check reports it)
            return {"exception": repr(e)[:300]}

    seen = run(f"{base}/mcp", 4)
    C.check("mcp SDK client -> serve: auto mode falls back to initialize (2025-11-25), lists both tools",
            seen.get("version") == "2025-11-25" and seen.get("tools") == ["countdown", "echo"], str(seen)[:300])
    C.check("mcp SDK client -> serve: countdown streams 4 progress notifications, then its result",
            seen.get("progress") == [(float(i), 4.0, f"step {i}") for i in range(1, 5)]
            and seen.get("countdown") == (False, ["counted 4"]), str(seen)[:300])
    C.check("mcp SDK client -> serve: echo, non-ASCII intact; bad arguments are a tool error; an unknown tool "
            "is JSON-RPC error -32602",
            seen.get("echo") == ["h\u00e9llo \U0001f600"] and seen.get("bad", (False,))[0] is True
            and (seen.get("unknown") or (0,))[0] == -32602, str(seen)[:300])
    # The server cuts each connection after 2 messages; the SDK resumes the reply by
    # GET with the last event id it saw, and gets the other 2 there. Nothing is lost
    # or repeated. (Not more than one cut per reply: when its resuming GET is cut
    # too, mcp 2.3.0 resumes again from the POST's last id, not the GET's, so it sees
    # events twice, and gives up after 2 attempts. postsource's client is tested
    # with every connection cut, in crates/postsource-cli/tests/mcp.rs.)
    cut = run(f"{base}/mcp?abort_after=2", 3)
    C.check("mcp SDK client -> serve: a reply cut after 2 messages (?abort_after=2) is resumed by GET "
            "with Last-Event-ID: every progress once, in order, and the result",
            cut.get("progress") == [(float(i), 3.0, f"step {i}") for i in range(1, 4)]
            and cut.get("countdown") == (False, ["counted 3"])
            and cut.get("tools") == ["countdown", "echo"], str(cut)[:300])


def main() -> int:
    if not os.access(BIN, os.X_OK):
        print(f"FAIL binary: {BIN} not found")
        print("0 passed, 1 failed")
        return 1
    serve = start_serve()
    base = f"http://127.0.0.1:{serve.port}"
    t0 = time.monotonic()
    try:
        C.check("postsource serve --port 0 prints its port", bool(serve.port) and wait_port(serve.port), str(serve.port))
        for name, fn, args in [("t_openai", t_openai, (base,)), ("t_openai_responses", t_openai_responses, (base,)),
                               ("t_anthropic", t_anthropic, (base,)),
                               ("t_httpx_sse", t_httpx_sse, (base,)),
                               ("t_serve_behaviour", t_serve_behaviour, ()),
                               ("t_node_eventsource", t_node_eventsource, (base,)), ("t_node_fes", t_node_fes, (base,)),
                               ("t_node_openai", t_node_openai, (base,)),
                               ("t_node_anthropic", t_node_anthropic, (base,)), ("t_sseclient", t_sseclient, (base,)),
                               ("t_cli_aiohttp", t_cli_aiohttp, ()),
                               ("t_cli_starlette", t_cli_starlette, ()), ("t_cli_node_server", t_cli_node_server, ()),
                               ("t_cli_mcp", t_cli_mcp, ()), ("t_cli_mcp_ts", t_cli_mcp_ts, ()),
                               ("t_serve_mcp", t_serve_mcp, (base,)),
                               ("t_node_mcp", t_node_mcp, (base,))]:
            C.run(name, fn, *args)
    finally:
        serve.stop()
    print(f"# third-party run took {time.monotonic() - t0:.1f}s", flush=True)
    return C.summary()


if __name__ == "__main__":
    sys.exit(main())
