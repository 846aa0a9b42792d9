"""A Model Context Protocol server (the official `mcp` Python SDK, Streamable HTTP
transport on uvicorn) for the CLI to consume, as an MCP client would: POST a
JSON-RPC request, read the reply as an event stream.

Run by thirdparty.py as `python mcp_app.py PORT`. One tool, `countdown`, reports
progress once per step before its result, so its reply is several events.
"""

import sys

import anyio
from mcp.server.mcpserver import Context, MCPServer

server = MCPServer("postsource-interop")


@server.tool()
async def countdown(steps: int, ctx: Context) -> str:
    """Count down from `steps`, reporting progress after each step."""
    for done in range(1, steps + 1):
        await ctx.report_progress(done, steps, f"step {done}")
        await anyio.sleep(0.01)
    return f"counted {steps}"


if __name__ == "__main__":
    server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[1]))
