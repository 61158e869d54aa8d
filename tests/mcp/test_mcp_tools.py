"""`taskdroid mcp` over stdio with the SDK's client (docs/language.md §12): every tool, every kind of error,
path confinement, malformed arguments, and no child process ever."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from mcputil import children_of, error, ok, server_pids, session

TASKS = """# Auth tasks

## 1. API (HIGH)

- [x] 1.1 Register endpoint ✅
  - **Completed**: 2025-01-12 15:20
- [ ] 1.2 Login endpoint
  - **Droid**: backend
  - **Dependencies**: 1.1
  - **Files**: api/login.ts
- [ ] 1.3 Token refresh
  - **Dependencies**: 1.2, 9.9
- [~] 1.4 Rate limiting 🔄
  - **In Progress**: Started 2025-01-12 15:40
  - [ ] 1.4.1 Sub step
"""

DROID = """---
name: backend
description: Builds the backend
---
You build APIs.
"""


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "proj"
    (root / ".git").mkdir(parents=True)
    (root / "tasks").mkdir()
    (root / "tasks" / "tasks.md").write_text(TASKS, encoding="utf-8")
    (root / ".factory" / "droids").mkdir(parents=True)
    (root / ".factory" / "droids" / "backend.md").write_text(DROID, encoding="utf-8")
    home = tmp_path / "home"
    home.mkdir()
    return root, home


async def test_tools_are_listed_with_their_input_schemas(project) -> None:
    root, home = project
    async with session(root, home) as s:
        tools = {t.name: t for t in (await s.list_tools()).tools}
    assert list(tools) == [
        "list_tasks", "next_tasks", "show_task", "claim_task", "set_status", "check", "plan",
    ]  # fmt: skip
    for name in ("list_tasks", "next_tasks", "check", "plan"):
        assert "required" not in tools[name].input_schema
        assert "path" in tools[name].input_schema["properties"]
    assert tools["list_tasks"].input_schema["properties"]["status"]["enum"] == [
        "pending", "in_progress", "completed", "blocked", "cancelled",
    ]  # fmt: skip
    for name in ("show_task", "claim_task"):
        assert tools[name].input_schema["required"] == ["path", "taskId"]
    assert tools["set_status"].input_schema["required"] == ["path", "taskId", "status"]
    assert set(tools["set_status"].input_schema["properties"]) == {"path", "taskId", "status", "note"}
    assert all(t.input_schema["additionalProperties"] is False for t in tools.values())


async def test_every_tool_then_no_child_process(project) -> None:
    root, home = project
    path = "tasks/tasks.md"
    async with session(root, home) as s:
        tasks = ok(await s.call_tool("list_tasks", {}))
        assert [t["taskId"] for t in tasks] == ["1.1", "1.2", "1.3", "1.4", "1.4.1"]
        t12 = tasks[1]
        assert t12 == {
            "path": path, "line": 7, "taskId": "1.2", "title": "Login endpoint",
            "status": "pending", "droid": "backend", "dependencies": [f"{path}#1.1"], "ready": True,
        }  # fmt: skip
        assert tasks[2]["dependencies"] == [f"{path}#1.2", "9.9"] and tasks[2]["ready"] is False
        assert tasks[0]["ready"] is True  # ready whatever the task's own status
        pending = ok(await s.call_tool("list_tasks", {"path": "tasks", "status": "pending"}))
        assert [t["taskId"] for t in pending] == ["1.2", "1.3", "1.4.1"]

        nxt = ok(await s.call_tool("next_tasks", {}))
        assert [(t["taskId"], t["priority"]) for t in nxt] == [("1.2", "HIGH"), ("1.4.1", "HIGH")]
        assert nxt[0] == {
            "path": path, "line": 7, "taskId": "1.2", "title": "Login endpoint",
            "droid": "backend", "priority": "HIGH",
        }  # fmt: skip

        shown = ok(await s.call_tool("show_task", {"path": path, "taskId": "1.3"}))
        assert shown["fields"] == [{"key": "Dependencies", "value": "1.2, 9.9", "line": 12}]
        assert shown["dependencies"] == [
            {"ref": f"{path}#1.2", "path": path, "taskId": "1.2", "status": "pending"},
            {"ref": "9.9", "problem": "no task `9.9` in this file"},
        ]
        assert [d["code"] for d in shown["diagnostics"]] == ["TD010"]
        assert shown["diagnostics"][0]["line"] == 12
        one = ok(await s.call_tool("show_task", {"path": str(root / path), "taskId": "1.2"}))
        assert one["dependents"] == [{"path": path, "line": 11, "taskId": "1.3", "status": "pending"}]
        assert one["diagnostics"] == [] and one["ready"] is True
        parent = ok(await s.call_tool("show_task", {"path": path, "taskId": "1.4"}))
        assert [f["key"] for f in parent["fields"]] == ["In Progress"]

        claimed = ok(await s.call_tool("claim_task", {"path": path, "taskId": "1.2"}))
        assert claimed["status"] == "in_progress" and claimed["taskId"] == "1.2"
        text = (root / path).read_text(encoding="utf-8")
        assert "- [~] 1.2 Login endpoint 🔄\n" in text and "**In Progress**: Started " in text
        msg = error(await s.call_tool("claim_task", {"path": path, "taskId": "1.2"}))
        assert "already claimed" in msg
        msg = error(await s.call_tool("claim_task", {"path": path, "taskId": "1.3"}))
        assert "not ready" in msg and "1.2" in msg
        msg = error(await s.call_tool("claim_task", {"path": path, "taskId": "1.1"}))
        assert "completed, not pending" in msg

        changed = ok(
            await s.call_tool("set_status", {"path": path, "taskId": "1.2", "status": "completed"})
        )
        assert changed == {"from": "in_progress", "to": "completed"}
        blocked = ok(
            await s.call_tool(
                "set_status",
                {"path": path, "taskId": "1.3", "status": "blocked", "note": "redis is down"},
            )
        )
        assert blocked == {"from": "pending", "to": "blocked"}
        text = (root / path).read_text(encoding="utf-8")
        assert "- [x] 1.2 Login endpoint ✅\n" in text and "**Issue**: redis is down" in text

        diags = ok(await s.call_tool("check", {}))
        # 1.2 is completed now and its Files entry does not exist: TD031
        assert [(d["path"], d["code"]) for d in diags] == [(path, "TD031"), (path, "TD010")]
        assert set(diags[0]) == {
            "path", "line", "column", "end_line", "end_column", "severity", "code", "message",
        }  # fmt: skip
        assert ok(await s.call_tool("check", {"path": ".factory"})) == []

        plan = ok(await s.call_tool("plan", {}))
        assert set(plan) >= {"waves", "running", "unplannable", "conflicts", "criticalPath"}
        assert [t["taskId"] for wave in plan["waves"] for t in wave] == ["1.4.1"]
        assert [u["taskId"] for u in plan["unplannable"]] == []  # 1.3 is blocked now

        # after every tool: the server has started no process
        pids = server_pids()
        assert len(pids) == 1
        assert children_of(pids[0]) == []


async def test_errors_are_one_line_tool_results(project) -> None:
    root, home = project
    path = "tasks/tasks.md"
    calls = {
        ("show_task", "unknown file"): {"path": "tasks/nope.md", "taskId": "1.1"},
        ("show_task", "unknown task"): {"path": path, "taskId": "7.7"},
        ("set_status", "unknown status"): {"path": path, "taskId": "1.2", "status": "done"},
        ("list_tasks", "unknown status"): {"status": "finished"},
        ("claim_task", "not a file"): {"path": "tasks", "taskId": "1.2"},
        ("nope", "unknown tool"): {},
    }
    async with session(root, home) as s:
        for (tool, want), args in calls.items():
            assert want in error(await s.call_tool(tool, args)), (tool, args)
    assert (root / path).read_text(encoding="utf-8") == TASKS


@pytest.mark.parametrize(
    ("tool", "args", "want"),
    [
        ("show_task", {"path": "tasks/tasks.md"}, "missing argument `taskId`"),
        ("show_task", {"path": 3, "taskId": "1.1"}, "`path` must be a string"),
        ("set_status", {"path": "tasks/tasks.md", "taskId": ["1.2"], "status": "completed"}, "`taskId` must be a string"),
        ("set_status", {"path": "tasks/tasks.md", "taskId": "1.2", "status": None}, "`status` must be a string"),
        ("list_tasks", {"bogus": 1}, "unknown argument `bogus`"),
        ("list_tasks", {"path": "tasks\x00x"}, "NUL"),
        ("claim_task", {"path": "", "taskId": "1.2"}, "`path` is empty"),
        ("claim_task", {"path": "tasks/tasks.md", "taskId": " "}, "`taskId` is empty"),
        ("check", {"path": {"a": 1}}, "`path` must be a string"),
        ("set_status", {"path": "tasks/tasks.md", "taskId": "1.2", "status": "completed", "note": 5}, "`note` must be a string"),
        ("next_tasks", {"path": "x" * 5000}, "unknown file"),
    ],
)
async def test_malformed_arguments(project, tool, args, want) -> None:
    root, home = project
    async with session(root, home) as s:
        assert want in error(await s.call_tool(tool, args))
    assert (root / "tasks" / "tasks.md").read_text(encoding="utf-8") == TASKS


async def test_paths_outside_the_root_are_refused(project, tmp_path: Path) -> None:
    root, home = project
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "tasks.md").write_text(TASKS, encoding="utf-8")
    (root / "tasks" / "escape.md").symlink_to(outside / "tasks.md")
    (root / "linked").symlink_to(outside)
    inner = root / "tasks" / "inner-link.md"
    inner.symlink_to(root / "tasks" / "tasks.md")
    async with session(root, home) as s:
        for path in (
            "../outside/tasks.md",
            "tasks/../../outside/tasks.md",
            str(outside / "tasks.md"),
            "tasks/escape.md",
            "linked/tasks.md",
            "/etc/passwd",
        ):
            for tool, args in (
                ("set_status", {"path": path, "taskId": "1.2", "status": "completed"}),
                ("claim_task", {"path": path, "taskId": "1.2"}),
                ("show_task", {"path": path, "taskId": "1.2"}),
                ("list_tasks", {"path": path}),
                ("check", {"path": path}),
            ):
                assert "outside the workspace root" in error(await s.call_tool(tool, args)), path
        assert "outside the workspace root" in error(await s.call_tool("next_tasks", {"path": "linked"}))
        # a link that stays inside the root is fine: the file it points to is written
        done = ok(
            await s.call_tool(
                "set_status", {"path": "tasks/inner-link.md", "taskId": "1.2", "status": "completed"}
            )
        )
        assert done == {"from": "pending", "to": "completed"}
    assert (outside / "tasks.md").read_text(encoding="utf-8") == TASKS
    assert inner.is_symlink()
    assert "- [x] 1.2 Login endpoint ✅" in (root / "tasks" / "tasks.md").read_text(encoding="utf-8")


async def test_claim_refused_while_a_run_holds_the_task(project) -> None:
    """A §7 run's lock file under runner.logDir, held by a live process: claim_task refuses."""
    import json
    import socket

    from taskdroid.run.lock import TaskLock

    root, home = project
    task_file = root / "tasks" / "tasks.md"
    log_dir = root / ".taskdroid" / "runs"
    log_dir.mkdir(parents=True)
    lock = TaskLock.path_for(log_dir, str(task_file), "1.2")
    lock.write_text(
        json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "runId": "r1", "started": "now"})
    )
    async with session(root, home) as s:
        msg = error(await s.call_tool("claim_task", {"path": "tasks/tasks.md", "taskId": "1.2"}))
        assert "held by a taskdroid run" in msg
        lock.unlink()
        claimed = ok(await s.call_tool("claim_task", {"path": "tasks/tasks.md", "taskId": "1.2"}))
        assert claimed["status"] == "in_progress"
