"""``taskdroid.runReady`` (docs/language.md §7, queued runs) through the language server: the overall
progress ("n of m tasks") beside each run's progress, ``all`` following the tasks that become
ready, a section, argument errors, and cancel-all from the overall progress (every task
restored, nothing more started). The droid is ``tests/fixtures/fake_droid.py``; it records its
start and end times in ``FAKE_DROID_TIMELINE``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from test_runs import RUNNER, disk, gone, running, server, task_block, until, uri_of

pytestmark = pytest.mark.asyncio(loop_scope="module")

QUICK = """\
# Ready

## 1. A chain

- [x] 1.1 Done ✅
- [ ] 1.2 First link
  - **Droid**: backend-dev
  - **Files**: `src/one.ts`
- [ ] 1.3 Second link
  - **Droid**: backend-dev
  - **Dependencies**: 1.2
- [ ] 1.4 Beside it
  - **Droid**: backend-dev
  - **Files**: `src/four.ts`
- [ ] 1.5 No droid: not a candidate

## 2. Another section

- [ ] 2.1 Alone here
  - **Droid**: backend-dev
"""

HOLDING = """\
# Holding

## 1. Long work

- [ ] 1.1 Holds
  - **Droid**: backend-dev
  - **Fake**: --hold 30
- [ ] 1.2 Holds too
  - **Droid**: backend-dev
  - **Fake**: --hold 30
- [ ] 1.3 Would come third
  - **Droid**: backend-dev
"""


def timeline(root: Path) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    path = root / "timeline.txt"
    for line in path.read_text().splitlines() if path.exists() else []:
        _event, task_id, stamp = line.split()
        out.setdefault(task_id, []).append(float(stamp))
    return out


async def run_ready(client, argument: Any) -> dict[str, Any]:
    result = await asyncio.wait_for(
        client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="taskdroid.runReady", arguments=[argument])
        ),
        10,
    )
    assert isinstance(result, dict), result
    return result


def queue_tokens(client) -> list[str]:
    return [t for t in client.progress_reports if str(t).startswith("taskdroid-queue-")]


async def queue_end(client, token: str, timeout: float = 20.0) -> list:
    def done() -> bool:
        return any(isinstance(r, types.WorkDoneProgressEnd) for r in client.progress_reports[token])

    await until(done, timeout, f"the end of {token}")
    return client.progress_reports[token]


async def test_run_ready_with_overall_progress_all_and_a_section(tmp_path_factory, tmp_path):
    settings = {"runner": {"command": RUNNER, "maxParallel": 2, "timeoutSeconds": 60}}
    env = {"FAKE_DROID_TIMELINE": str(tmp_path / "timeline.txt")}
    files = {"tasks/tasks-ready.md": QUICK}
    async with server(tmp_path_factory, "vscode", settings, files=files, env=env) as client:
        uri = uri_of(client, "tasks/tasks-ready.md")
        # argument errors
        for bad in ({"all": "yes"}, {"uri": 3}, {"droid": 1}, {"section": 2}, [1]):
            with pytest.raises(Exception, match="runReady"):
                await run_ready(client, bad)
        # the section "## 2." (line 16) alone
        answer = await run_ready(client, {"uri": uri, "section": 16})
        assert len(answer["runIds"]) == 1
        [token] = queue_tokens(client)
        await queue_end(client, token)
        assert task_block(disk(client, "tasks/tasks-ready.md"), "2.1").startswith("- [x] 2.1")
        assert task_block(disk(client, "tasks/tasks-ready.md"), "1.2").startswith("- [ ] 1.2")
        # the whole file, following the chain
        answer = await run_ready(client, {"uri": uri, "all": True})
        run_ids = answer["runIds"]
        assert len(run_ids) == 2  # 1.2 and 1.4 at once (maxParallel 2); 1.3 later
        [token] = [t for t in queue_tokens(client) if t != token]
        got = await queue_end(client, token)
        begin = got[0]
        assert isinstance(begin, types.WorkDoneProgressBegin)
        assert begin.title == "Running all ready tasks" and begin.cancellable
        assert begin.message == "0 of 3 tasks"  # 1.2 and 1.4 ready, 1.3 may become ready
        messages = [r.message for r in got[1:-1] if isinstance(r, types.WorkDoneProgressReport)]
        assert messages[0] == "0 of 3 tasks · running 1.2, 1.4"
        assert "1 of 3 tasks · running 1.3" in messages or "2 of 3 tasks · running 1.3" in messages
        assert got[-1].message == "3 of 3 tasks run: 3 completed"
        # each run had its own progress too
        for run_id in run_ids:
            assert any(
                isinstance(r, types.WorkDoneProgressEnd)
                for r in client.progress_reports[f"taskdroid-{run_id}"]
            )
        text = disk(client, "tasks/tasks-ready.md")
        for task_id in ("1.2", "1.3", "1.4"):
            assert task_block(text, task_id).startswith(f"- [x] {task_id}")
        assert task_block(text, "1.5").startswith("- [ ] 1.5")
        spans = timeline(tmp_path)
        assert sorted(spans) == ["1.2", "1.3", "1.4", "2.1"]
        assert spans["1.3"][0] > spans["1.2"][1]  # started after its dependency ended
        # nothing ready any more
        answer = await run_ready(client, {"uri": uri})
        assert answer == {"runIds": [], "message": "no ready tasks with a droid"}


async def test_cancelling_the_overall_progress_cancels_every_run(tmp_path_factory, tmp_path):
    settings = {"runner": {"command": RUNNER, "maxParallel": 2, "timeoutSeconds": 60}}
    env = {"FAKE_DROID_TIMELINE": str(tmp_path / "timeline.txt"), "TASKDROID_RUN_GRACE": "2"}
    files = {"tasks/tasks-hold.md": HOLDING}
    async with server(tmp_path_factory, "vscode", settings, files=files, env=env) as client:
        uri = uri_of(client, "tasks/tasks-hold.md")
        answer = await run_ready(client, {"uri": uri, "all": True})
        run_ids = answer["runIds"]
        assert len(run_ids) == 2
        pids = [await running(client, run_id) for run_id in run_ids]
        await until(lambda: len(timeline(tmp_path)) == 2, 10, "both droids to start")
        [token] = queue_tokens(client)
        client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
        got = await queue_end(client, token)
        assert got[-1].message.startswith("cancelled — 2 of 2 tasks run: 2 cancelled")
        text = disk(client, "tasks/tasks-hold.md")
        for task_id, title in (("1.1", "Holds"), ("1.2", "Holds too")):
            block = task_block(text, task_id)
            assert block.startswith(f"- [ ] {task_id} {title}\n"), block
            assert "**Status**: Run cancelled" in block
        assert task_block(text, "1.3") == "- [ ] 1.3 Would come third\n  - **Droid**: backend-dev\n"
        assert sorted(timeline(tmp_path)) == ["1.1", "1.2"]  # 1.3 never started
        await until(lambda: all(gone(pid) for pid in pids), 10, "the droids to be gone")
