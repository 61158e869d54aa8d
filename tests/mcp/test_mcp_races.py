"""Concurrency through `taskdroid mcp` (docs/language.md §12): 8 servers claiming one task (exactly one
wins), and status writes through the server while another process appends numbered lines (every
line kept, in order). Plus a static check that the package can start no process."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import anyio
import pytest
from mcputil import error, ok, session

import taskdroid.mcp

TASKS = "# T\n\n## 1. Work (HIGH)\n\n- [x] 1.1 Base ✅\n- [ ] 1.2 The task\n  - **Dependencies**: 1.1\n- [ ] 1.3 Other\n"


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "proj"
    (root / ".git").mkdir(parents=True)
    (root / "tasks.md").write_text(TASKS, encoding="utf-8")
    home = tmp_path / "home"
    home.mkdir()
    return root, home


@pytest.mark.slow
async def test_eight_servers_claim_one_task_exactly_one_wins(project) -> None:
    root, home = project
    results: list = [None] * 8
    ready = anyio.Event()
    started = [0]

    async def agent(k: int) -> None:
        async with session(root, home) as s:
            await s.list_tools()
            started[0] += 1
            if started[0] == 8:
                ready.set()
            await ready.wait()  # all eight connected: claim at once
            results[k] = await s.call_tool("claim_task", {"path": "tasks.md", "taskId": "1.2"})

    with anyio.fail_after(240):
        async with anyio.create_task_group() as tg:
            for k in range(8):
                tg.start_soon(agent, k)
    wins = [r for r in results if not r.is_error]
    assert len(wins) == 1, [r.content[0].text for r in results]
    assert ok(wins[0])["status"] == "in_progress"
    for r in results:
        if r.is_error:
            assert "already claimed" in error(r)
    text = (root / "tasks.md").read_text(encoding="utf-8")
    assert text.count("**In Progress**: Started ") == 1
    assert "- [~] 1.2 The task 🔄\n" in text


APPENDER = textwrap.dedent("""
    import os, sys, time
    path, stop = sys.argv[1], sys.argv[2]
    i = 0
    while not os.path.exists(stop) or i < 300:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"<!-- n {i} -->\\n")
        i += 1
        time.sleep(0.0002)
    print(i, flush=True)
""")


@pytest.mark.slow
async def test_set_status_through_the_server_while_a_process_appends(project) -> None:
    root, home = project
    path = root / "tasks.md"
    stop = root / "stop"
    proc = subprocess.Popen(
        [sys.executable, "-c", APPENDER, str(path), str(stop)], stdout=subprocess.PIPE, text=True
    )
    try:
        async with session(root, home) as s:
            statuses = ["in_progress", "completed", "pending", "blocked"]
            for k in range(24):
                args = {"path": "tasks.md", "taskId": "1.3", "status": statuses[k % 4]}
                assert ok(await s.call_tool("set_status", args))["to"] == statuses[k % 4]
    finally:
        stop.touch()
        count = int(proc.communicate(timeout=120)[0])
    text = path.read_text(encoding="utf-8")
    numbered = [int(x.split()[2]) for x in text.splitlines() if x.startswith("<!-- n ")]
    assert numbered == list(range(count))
    assert "- [!] 1.3 Other ⚠️\n" in text and "- [ ] 1.2 The task\n" in text


FORBIDDEN_MODULES = {"subprocess", "multiprocessing", "concurrent.futures.process", "pty"}
FORBIDDEN_CALLS = {
    ("os", "system"), ("os", "popen"), ("os", "fork"), ("os", "forkpty"), ("os", "posix_spawn"),
    ("os", "posix_spawnp"), ("asyncio", "create_subprocess_exec"),
    ("asyncio", "create_subprocess_shell"), ("anyio", "run_process"), ("anyio", "open_process"),
}  # fmt: skip


def test_the_mcp_package_can_start_no_process_and_imports_no_lsp_or_cli() -> None:
    folder = Path(taskdroid.mcp.__file__).parent
    files = sorted(folder.glob("*.py"))
    assert {f.name for f in files} >= {"__init__.py", "server.py", "tools.py"}
    for f in files:
        tree = ast.parse(f.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            for n in names:
                assert n.split(".")[0] not in FORBIDDEN_MODULES and n not in FORBIDDEN_MODULES, (f, n)
                assert not n.startswith(("taskdroid.lsp", "taskdroid.cli")), (f, n)
                if n.startswith("taskdroid.run"):  # the lock and log-folder helpers only
                    assert n.split(".")[2] in ("errors", "lock", "logfile"), (f, n)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                pair = (node.value.id, node.attr)
                assert pair not in FORBIDDEN_CALLS, (f, pair)
                assert not (node.value.id == "os" and node.attr.startswith(("exec", "spawn"))), (f, pair)
