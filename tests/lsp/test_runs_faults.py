"""Droid runs through the language server under faults (issue #7): a droid killed by a signal,
one that edits, moves, deletes or garbles its task file (closed, and open in the editor), two runs
racing on one file, and the server going away mid-run — ``shutdown``, ``exit`` without
``shutdown``, SIGTERM and SIGKILL of the server process — with no droid process left behind.

The droid is ``tests/fixtures/fault_droid.py``, scripted per task by a ``**Fault**:`` field; the
sessions are those of ``test_runs.py`` (an editor that really applies ``workspace/applyEdit``).
"""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

import pytest
import test_runs as base
from lsprotocol import types

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and /proc")

FAULT = str(Path(__file__).resolve().parents[1] / "fixtures" / "fault_droid.py")
RUNNER = [sys.executable, FAULT, "{prompt}"]
SETTINGS = {"runner": {"command": RUNNER, "maxParallel": 4, "timeoutSeconds": 60}}
ENV = {"TASKDROID_RUN_GRACE": "0.3"}
STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d"

FAULT_TASKS = """\
# Server faults

Text above the tasks that nobody may touch.

## 4. Faults

- [ ] 4.1 Dies of SIGSEGV
  - **Droid**: backend-dev
  - **Fault**: --stderr "core dumped, sorry" --signal SIGSEGV
- [ ] 4.2 Moves itself
  - **Droid**: backend-dev
  - **Fault**: --edit move --exit 4 --stderr "moved and failed"
- [ ] 4.3 Deletes itself
  - **Droid**: backend-dev
  - **Fault**: --edit delete
- [ ] 4.4 Races with 4.5
  - **Droid**: backend-dev
  - **Fault**: --hold 0.3
- [ ] 4.5 Races with 4.4
  - **Droid**: backend-dev
  - **Fault**: --hold 0.3 --exit 9
- [ ] 4.6 Floods
  - **Droid**: backend-dev
  - **Fault**: --stdout-mb 300 --line-bytes 60 --started started-4.6 --say "flood ahead"
"""

GARBLED_TASKS = """\
# Garbled

- [ ] 5.1 Garbles the file
  - **Droid**: backend-dev
  - **Fault**: --edit binary
"""

OPEN_TASKS = """\
# Open in the editor

- [ ] 6.1 Marks itself blocked on disk
  - **Droid**: backend-dev
  - **Fault**: --edit mark-! --exit 0
- [ ] 6.2 Plain success
  - **Droid**: backend-dev
  - **Fault**: --hold 0.1
"""

HANG_TASKS = """\
# Hanging droids

- [ ] 7.1 Hangs with a family
  - **Droid**: backend-dev
  - **Fault**: --hang --ignore-term --children 1 --daemon --pids pids-7.1 --started started-7.1
- [!] 7.2 Hangs too
  - **Droid**: backend-dev
  - **Issue**: blocked before
  - **Fault**: --hang --children 1 --pids pids-7.2 --started started-7.2
"""


# -- helpers ---------------------------------------------------------------------------------------


def gone(pid: int) -> bool:
    return base.gone(pid)


def read_pids(path: Path) -> list[int]:
    if not path.exists():
        return []
    return [int(line.split()[1]) for line in path.read_text().splitlines() if line.strip()]


def block(text: str, task_id: str) -> str:
    m = re.search(rf"^- \[[^\]]*\] {re.escape(task_id)} .*?(?=^- \[|^#|\Z)", text, re.M | re.S)
    assert m, (task_id, text)
    return m.group(0)


async def still_answers(client) -> None:
    """The server still answers requests."""
    await asyncio.wait_for(client.workspace_symbol_async(types.WorkspaceSymbolParams(query="")), 10)


async def hanging_runs(c, root: Path) -> list[int]:
    """Start 7.1 and 7.2 (droids with children; 7.1 ignores SIGTERM and has a daemon); their
    processes once all are up."""
    await base.run_task(c, "tasks/tasks-hang.md", "7.1")
    await base.run_task(c, "tasks/tasks-hang.md", "7.2")

    def up() -> bool:
        return (
            (root / "started-7.1").exists()
            and (root / "started-7.2").exists()
            and len(read_pids(root / "pids-7.1")) == 4
            and len(read_pids(root / "pids-7.2")) == 3
        )

    await base.until(up, 15, "the droids and their children")
    pids = read_pids(root / "pids-7.1") + read_pids(root / "pids-7.2")
    assert not any(gone(p) for p in pids)
    return pids


def assert_restored(root: Path, reason: str) -> None:
    text = (root / "tasks" / "tasks-hang.md").read_text(encoding="utf-8")
    b1 = block(text, "7.1")
    assert b1.startswith("- [ ] 7.1 Hangs with a family\n"), text
    assert re.search(rf"\*\*Status\*\*: Run cancelled {STAMP} \({re.escape(reason)}", b1), b1
    b2 = block(text, "7.2")
    assert b2.startswith("- [!] 7.2 Hangs too ⚠️\n") and "**Issue**: blocked before" in b2
    assert re.search(rf"\*\*Status\*\*: Run cancelled {STAMP} \({re.escape(reason)}", b2), b2


# -- a long-lived server ---------------------------------------------------------------------------


@pytest.mark.asyncio(loop_scope="function")
async def test_crash_edits_and_races_in_one_server(tmp_path_factory):
    files = {
        "tasks/tasks-faults.md": FAULT_TASKS,
        "tasks/tasks-garbled.md": GARBLED_TASKS,
        "tasks/tasks-open.md": OPEN_TASKS,
    }
    async with base.server(tmp_path_factory, "vscode", SETTINGS, files=files, env=ENV) as c:
        root = base.root_of(c)
        path = root / "tasks" / "tasks-faults.md"

        # a droid killed by a signal
        run_id = await base.run_task(c, "tasks/tasks-faults.md", "4.1")
        assert "killed by signal SIGSEGV" in await base.ended(c, run_id)
        b = block(path.read_text(), "4.1")
        assert b.startswith("- [!] 4.1 Dies of SIGSEGV ⚠️")
        assert "**Error**: killed by signal SIGSEGV: core dumped, sorry (log: " in b
        assert re.search(rf"\*\*Attempted\*\*: {STAMP}", b)

        # a droid that moves its task to the end of the file: the outcome follows the ID
        run_id = await base.run_task(c, "tasks/tasks-faults.md", "4.2")
        assert "exit code 4" in await base.ended(c, run_id)
        text = path.read_text()
        assert text.index("## Moved by the droid") < text.index("- [!] 4.2 Moves itself ⚠️")
        assert "**Error**: exit code 4: moved and failed" in block(text, "4.2")
        assert text.startswith("# Server faults\n\nText above the tasks that nobody may touch.")

        # a droid that deletes its task: a clear message, nothing else changed
        before = path.read_text()
        run_id = await base.run_task(c, "tasks/tasks-faults.md", "4.3")
        message = await base.ended(c, run_id)
        assert "task 4.3 is no longer in tasks/tasks-faults.md" in message
        assert "not recorded" in message
        after = path.read_text()
        assert "4.3 Deletes itself" not in after
        assert after == re.sub(r"- \[ \] 4\.3 Deletes itself\n(  - .*\n)+", "", before)
        await still_answers(c)

        # a droid that replaces its task file with bytes that are not text
        run_id = await base.run_task(c, "tasks/tasks-garbled.md", "5.1")
        message = await base.ended(c, run_id)
        assert "tasks/tasks-garbled.md cannot be read any more (not UTF-8 text" in message
        await still_answers(c)

        # two runs finishing together in one file: both outcomes recorded
        first = await base.run_task(c, "tasks/tasks-faults.md", "4.4")
        second = await base.run_task(c, "tasks/tasks-faults.md", "4.5")
        assert "completed" in await base.ended(c, first)
        assert "exit code 9" in await base.ended(c, second)
        text = path.read_text()
        assert block(text, "4.4").startswith("- [x] 4.4 Races with 4.5 ✅")
        assert block(text, "4.5").startswith("- [!] 4.5 Races with 4.4 ⚠️")
        assert block(text, "4.1").startswith("- [!] 4.1 Dies of SIGSEGV ⚠️")

        # a flood of output: the server keeps answering, the log is capped
        run_id = await base.run_task(c, "tasks/tasks-faults.md", "4.6")
        await base.until((root / "started-4.6").exists, 15, "the flood")
        await still_answers(c)
        assert "completed" in await base.ended(c, run_id, 60)
        logs = list((root / ".taskdroid" / "runs").glob("tasks-faults-4.6-*.log"))
        assert len(logs) == 1 and logs[0].stat().st_size <= 64 * 1024 * 1024 + 512

        # open in the editor: the status the droid wrote on disk stands, in the buffer too
        editor: base.Editor = c.editor  # type: ignore[attr-defined]
        uri = base.uri_of(c, "tasks/tasks-open.md")
        editor.open(uri, OPEN_TASKS)
        run_id = await base.run_task(c, "tasks/tasks-open.md", "6.1")
        message = await base.ended(c, run_id)
        assert "itself" in message and "blocked" in message
        disk = (root / "tasks" / "tasks-open.md").read_text()
        assert block(disk, "6.1").startswith("- [!] 6.1 Marks itself blocked on disk\n")
        b = block(editor.text(uri), "6.1")
        assert b.startswith("- [!] 6.1 Marks itself blocked on disk\n"), editor.text(uri)
        assert "**Completed**" not in b and "**In Progress**" not in b
        # …and a droid that leaves the file alone is still recorded in the buffer only
        run_id = await base.run_task(c, "tasks/tasks-open.md", "6.2")
        assert "completed" in await base.ended(c, run_id)
        assert block(editor.text(uri), "6.2").startswith("- [x] 6.2 Plain success ✅")
        assert "- [ ] 6.2 Plain success" in (root / "tasks" / "tasks-open.md").read_text()


# -- the server going away -------------------------------------------------------------------------


@pytest.mark.asyncio(loop_scope="function")
async def test_shutdown_mid_run_stops_everything_and_restores_the_tasks(tmp_path_factory):
    files = {"tasks/tasks-hang.md": HANG_TASKS}
    async with base.server(tmp_path_factory, "push", SETTINGS, files=files, env=ENV) as c:
        root = base.root_of(c)
        pids = await hanging_runs(c, root)
        await asyncio.wait_for(c.shutdown_session(), 15)
        c.shut = True  # type: ignore[attr-defined]
        assert_restored(root, "the language server shut down")
        await base.until(lambda: all(gone(p) for p in pids), 10, "every droid process to end")
        assert not list((root / ".taskdroid" / "runs").glob("*.lock"))


@pytest.mark.asyncio(loop_scope="function")
async def test_exit_without_shutdown_stops_everything(tmp_path_factory):
    files = {"tasks/tasks-hang.md": HANG_TASKS}
    async with base.server(tmp_path_factory, "push", SETTINGS, files=files, env=ENV) as c:
        root = base.root_of(c)
        pids = await hanging_runs(c, root)
        c.shut = True  # type: ignore[attr-defined]
        c.exit(None)
        await asyncio.wait_for(c._server.wait(), 15)  # type: ignore[attr-defined]
        await base.until(lambda: all(gone(p) for p in pids), 10, "every droid process to end")
        assert_restored(root, "taskdroid stopped during the run")


@pytest.mark.asyncio(loop_scope="function")
async def test_sigterm_of_the_server_stops_everything_and_restores_the_tasks(tmp_path_factory):
    files = {"tasks/tasks-hang.md": HANG_TASKS}
    async with base.server(tmp_path_factory, "push", SETTINGS, files=files, env=ENV) as c:
        root = base.root_of(c)
        pids = await hanging_runs(c, root)
        c.shut = True  # type: ignore[attr-defined]
        c._server.terminate()  # type: ignore[attr-defined]
        code = await asyncio.wait_for(c._server.wait(), 15)  # type: ignore[attr-defined]
        assert code == -15  # it still dies of the signal
        await base.until(lambda: all(gone(p) for p in pids), 10, "every droid process to end")
        assert_restored(root, "the language server was terminated (SIGTERM)")


@pytest.mark.asyncio(loop_scope="function")
async def test_sigkill_of_the_server_leaves_no_droid_behind(tmp_path_factory):
    """Nothing can run in a process killed with SIGKILL: the guardian process it started kills
    the droids. Their tasks stay in progress (documented)."""
    files = {"tasks/tasks-hang.md": HANG_TASKS}
    async with base.server(tmp_path_factory, "push", SETTINGS, files=files, env=ENV) as c:
        root = base.root_of(c)
        pids = await hanging_runs(c, root)
        c.shut = True  # type: ignore[attr-defined]
        c._server.kill()  # type: ignore[attr-defined]
        await asyncio.wait_for(c._server.wait(), 15)  # type: ignore[attr-defined]
        await base.until(lambda: all(gone(p) for p in pids), 10, "every droid process to end")
        text = (root / "tasks" / "tasks-hang.md").read_text(encoding="utf-8")
        assert block(text, "7.1").startswith("- [~] 7.1")
