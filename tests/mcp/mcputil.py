"""An MCP client session over stdio with a real `taskdroid mcp` process (the SDK's own client)."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client


def server_params(root: Path, home: Path) -> StdioServerParameters:
    env = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
    }
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "taskdroid", "mcp", "--root", str(root)],
        env=env,
        cwd=str(root),
    )


@contextlib.asynccontextmanager
async def session(root: Path, home: Path) -> AsyncIterator[ClientSession]:
    with open(os.devnull, "w") as errlog:
        async with (
            stdio_client(server_params(root, home), errlog=errlog) as (read, write),
            ClientSession(read, write) as s,
        ):
            await s.initialize()
            yield s


def text_of(result) -> str:
    assert len(result.content) == 1 and result.content[0].type == "text"
    return result.content[0].text


def ok(result):
    """The JSON value of a successful tool result (text and structured content agree)."""
    assert not result.is_error, text_of(result)
    value = json.loads(text_of(result))
    if isinstance(value, list):
        assert result.structured_content == {"result": value}
    else:
        assert result.structured_content == value
    return value


def error(result) -> str:
    """The one-line message of an error result."""
    assert result.is_error, text_of(result)
    message = text_of(result)
    assert "\n" not in message and "Traceback" not in message
    return message


def server_pids() -> list[int]:
    """The `taskdroid mcp` processes started by this test process."""
    out = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        with contextlib.suppress(OSError):
            for pid in (task / "children").read_text().split():
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                if b"taskdroid" in cmd and b"mcp" in cmd:
                    out.append(int(pid))
    return out


def children_of(pid: int) -> list[str]:
    """Child processes of every thread of ``pid`` (/proc/<pid>/task/*/children)."""
    out: list[str] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            out.extend((task / "children").read_text().split())
    return out
