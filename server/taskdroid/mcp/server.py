"""``taskdroid mcp``: the tools of :mod:`taskdroid.mcp.tools` served over stdio with the official
MCP Python SDK's low-level server (exact input schemas, errors as ``isError`` results).

Tool calls run one at a time, each in a worker thread (a write may wait for the edit lock of a
task file); a call is never abandoned half-way, so a cancelled request cannot leave a half-done
write. Nothing here starts a process (docs/language.md §12).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any

import anyio
import anyio.to_thread
import mcp.types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

from taskdroid import __version__
from taskdroid.mcp.tools import TOOLS, TaskTools, ToolError

__all__ = ["build_server", "run"]

log = logging.getLogger("taskdroid.mcp")

INSTRUCTIONS = (
    "taskdroid keeps the task markdown of this workspace. Pick work with next_tasks, claim a task "
    "with claim_task before you start it (exactly one agent gets it), and record the outcome with "
    "set_status (completed; or blocked with a note) instead of editing markers by hand. Paths are "
    "relative to the workspace root."
)


def _error(message: str) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=" ".join(message.split()))], is_error=True
    )


def _result(value: Any) -> types.CallToolResult:
    text = json.dumps(value, ensure_ascii=False, indent=2)
    structured = {"result": value} if isinstance(value, list) else value
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)], structured_content=structured
    )


def build_server(tools: TaskTools) -> Server:
    """The low-level SDK server answering ``tools/list`` and ``tools/call`` with ``tools``."""
    listed = [
        types.Tool(name=name, description=description, input_schema=schema)
        for name, (description, schema) in TOOLS.items()
    ]
    one_at_a_time = anyio.Lock()

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=listed)

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        async with one_at_a_time:
            try:
                value = await anyio.to_thread.run_sync(tools.call, params.name, params.arguments)
            except ToolError as e:
                return _error(str(e))
            except Exception as e:  # a bug: one line for the agent, the details in the log
                log.exception("tool %s failed", params.name)
                return _error(f"internal error in {params.name}: {type(e).__name__}: {e}")
        return _result(value)

    return Server(
        "taskdroid",
        version=__version__,
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


def run(root: str | os.PathLike[str], config_file: str | None = None) -> int:
    """Serve the workspace at ``root`` on stdin/stdout until the client closes it."""
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="taskdroid mcp: %(message)s")

    def problem(message: str) -> None:
        print(f"taskdroid: {message}", file=sys.stderr, flush=True)

    tools = TaskTools(root, config_file=config_file, on_problem=problem)
    server = build_server(tools)

    async def main() -> None:
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())

    anyio.run(main)
    return 0
