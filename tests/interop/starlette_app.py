"""A third-party SSE server (sse-starlette on uvicorn) for the CLI to consume.

Run by thirdparty.py as `python -m uvicorn starlette_app:app`. Endpoints mirror
the Node server's so both are checked the same way:
  /stream  named events, multi-line data, ids, retry (sse-starlette writes CRLF)
  /resume  3 events per connection, continuing after Last-Event-ID
  /post    the method and body echoed as one event
"""

import asyncio
import json

from sse_starlette.sse import EventSourceResponse, ServerSentEvent
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route


async def stream(request: Request):
    async def gen():
        yield ServerSentEvent(comment="hello")
        yield ServerSentEvent(data="hi", event="greet", id="1", retry=1000)
        await asyncio.sleep(0.01)
        yield ServerSentEvent(data="line1\nline2")
        yield ServerSentEvent(data='{"x": 1}', event="json", id="2")
        yield ServerSentEvent(data="caf\u00e9")

    return EventSourceResponse(gen(), ping=1)


async def resume(request: Request):
    last = int(request.headers.get("last-event-id") or 0)

    async def gen():
        for n in range(1, 4):
            yield ServerSentEvent(data=str(last + n), id=str(last + n), retry=50)
            await asyncio.sleep(0.01)

    return EventSourceResponse(gen())


async def post(request: Request):
    body = (await request.body()).decode()
    payload = json.dumps({"method": request.method, "body": body, "ct": request.headers.get("content-type")})

    async def gen():
        yield ServerSentEvent(data=payload, event="echo")

    return EventSourceResponse(gen())


app = Starlette(routes=[
    Route("/stream", stream),
    Route("/resume", resume),
    Route("/post", post, methods=["POST", "PUT"]),
])
