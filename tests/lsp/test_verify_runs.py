"""Verified completion through the language server (docs/language.md §11): ``taskdroid.runTask``
runs a task's Verify command only with ``runner.verify`` in the user's settings, and the run's
progress says when it did not."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from test_runs import disk, ended, root_of, run_task, server, task_block

pytestmark = pytest.mark.asyncio(loop_scope="module")

FAKE_DROID = str(Path(__file__).resolve().parents[1] / "fixtures" / "fake_droid.py")
RUNNER = [sys.executable, FAKE_DROID, "--lines", "1", "--sleep", "0.05", "{prompt}"]
REL = "tasks/tasks-verify-runs.md"
TASKS = """\
# Verify runs

## 8. Checked

- [ ] 8.1 Passes
  - **Droid**: backend-dev
  - **Verify**: `./check.py pass`
- [ ] 8.2 Fails
  - **Droid**: backend-dev
  - **Verify**: `./check.py fail`
"""
CHECK = f"""#!{sys.executable}
import sys
open("verify-ran-" + sys.argv[1], "w").close()
print("checked", sys.argv[1])
sys.exit(0 if sys.argv[1] == "pass" else 6)
"""


def _files() -> dict[str, str]:
    return {REL: TASKS, "check.py": CHECK}


async def test_runs_verify_when_the_user_enabled_it(tmp_path_factory):
    settings = {"runner": {"command": RUNNER, "timeoutSeconds": 60, "verify": True}}
    async with server(tmp_path_factory, "vscode", settings, files=_files()) as client:
        (root_of(client) / "check.py").chmod(0o755)
        message = await ended(client, await run_task(client, REL, "8.1"))
        assert "verify passed: `./check.py pass`" in message
        assert task_block(disk(client, REL), "8.1").startswith("- [x] 8.1")
        message = await ended(client, await run_task(client, REL, "8.2"))
        assert "verify failed: exit 6: checked fail" in message
        b = task_block(disk(client, REL), "8.2")
        assert b.startswith("- [!] 8.2") and "**Error**: verify failed: exit 6: checked fail" in b


async def test_verify_off_is_said_and_nothing_runs(tmp_path_factory):
    settings = {"runner": {"command": RUNNER, "timeoutSeconds": 60}}
    async with server(tmp_path_factory, "vscode", settings, files=_files()) as client:
        (root_of(client) / "check.py").chmod(0o755)
        run_id = await run_task(client, REL, "8.2")
        message = await ended(client, run_id)
        assert message.endswith("Verify not run: runner.verify is off")
        reports = client.progress_reports.get(f"taskdroid-{run_id}", [])
        assert any(
            getattr(r, "message", None) == "Verify not run: runner.verify is off"
            for r in reports[:-1]
        )
        assert task_block(disk(client, REL), "8.2").startswith("- [x] 8.2")
        assert not list(root_of(client).glob("verify-ran-*"))
