"""A Model Context Protocol server (the official `mcp` Python SDK, Streamable HTTP
transport on uvicorn) for the CLI to consume, as an MCP client would: POST a
JSON-RPC request, read the reply as an event stream.

Run by thirdparty.py as `python mcp_app.py PORT`. One tool, `countdown`, reports
progress once per step before its result, so its reply is several events. An
in-memory event store makes the streams resumable: every event has an `id:`, and
a GET with `Last-Event-ID` replays what came after it (MCP's resumption).
"""

import itertools
import sys

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.streamable_http import EventCallback, EventMessage, EventStore


class MemoryEventStore(EventStore):
    """Every event of every stream, in order, with ids "1", "2", ..."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, object]] = []  # (event id, stream id, message or None)
        self.ids = itertools.count(1)

    async def store_event(self, stream_id, message):
        event_id = str(next(self.ids))
        self.events.append((event_id, stream_id, message))
        return event_id

    async def replay_events_after(self, last_event_id, send_callback: EventCallback):
        at = next((i for i, e in enumerate(self.events) if e[0] == last_event_id), None)
        if at is None:
            return None
        stream_id = self.events[at][1]
        for event_id, sid, message in self.events[at + 1:]:
            if sid == stream_id and message is not None:
                await send_callback(EventMessage(message, event_id))
        return stream_id


server = MCPServer("postsource-interop")


@server.tool()
async def countdown(steps: int, ctx: Context) -> str:
    """Count down from `steps`, reporting progress after each step."""
    for done in range(1, steps + 1):
        await ctx.report_progress(done, steps, f"step {done}")
        await anyio.sleep(0.01)
    return f"counted {steps}"


if __name__ == "__main__":
    server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[1]), event_store=MemoryEventStore(),
               retry_interval=250)
