"""A third-party SSE server (aiohttp + aiohttp-sse) for the CLI to consume.

Run by thirdparty.py as `python aiohttp_app.py PORT`. The same endpoints as
starlette_app.py and node/sse_server.mjs, so thirdparty.py checks all three alike.
"""

import asyncio
import json
import sys

from aiohttp import web
from aiohttp_sse import sse_response


async def stream(request):
    async with sse_response(request) as resp:
        await resp.send("hi", event="greet", id="1", retry=1000)
        await asyncio.sleep(0.01)
        await resp.send("line1\nline2")
        await resp.send('{"x": 1}', event="json", id="2")
        await resp.send("caf\u00e9")
    return resp


async def resume(request):
    last = int(request.headers.get("Last-Event-ID") or 0)
    async with sse_response(request) as resp:
        for n in range(1, 4):
            await resp.send(str(last + n), id=str(last + n), retry=50)
            await asyncio.sleep(0.01)
    return resp


async def post(request):
    body = await request.text()
    payload = json.dumps({"method": request.method, "body": body, "ct": request.headers.get("Content-Type")})
    async with sse_response(request, allow_all_methods=True) as resp:  # GET-only by default
        await resp.send(payload, event="echo")
    return resp


app = web.Application()
app.router.add_get("/stream", stream)
app.router.add_get("/resume", resume)
app.router.add_post("/post", post)

if __name__ == "__main__":
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
