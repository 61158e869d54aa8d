"""Verified completion (docs/language.md §11): the Verify field (pure), and the run engine driving
``tests/fixtures/fake_droid.py`` with ``runner.verify`` / ``runner.requireChanges`` — verify
passing, failing, off, after the droid's own ``[x]``, timing out and cancelled; Files that must
change; and what a Verify command from the repository can never do (run without the setting,
reach a shell, pick a program through a relative ``PATH`` entry or outside the workspace)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from taskdroid.core.document import TaskDocument
from taskdroid.core.edits import apply_edits, status_edits
from taskdroid.core.model import Status
from taskdroid.core.settings import RunnerSettings
from taskdroid.core.verification import (
    VERIFY_OFF_NOTE,
    VerifyFieldError,
    first_code_span,
    run_checks,
    verify_command,
)
from taskdroid.core.workspace import Workspace
from taskdroid.run import RunError, RunHooks, RunManager, prepare_run
from taskdroid.run.verify import resolve_verify_program

FAKE = str(Path(__file__).resolve().parents[1] / "fixtures" / "fake_droid.py")
PY = sys.executable


def tasks_text(verify: str | None, files: str = "src/a.txt", previous: str = " ") -> str:
    lines = [
        "# Tasks",
        "",
        "## 8. Verify (HIGH)",
        "",
        f"- [{previous}] 8.1 Build it",
        "  - **Droid**: builder",
        f"  - **Files**: {files}",
    ]
    if verify is not None:
        lines.append(f"  - **Verify**: {verify}")
    return "\n".join(lines) + "\n"


# -- the field (pure) ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "span"),
    [
        ("`pytest -q`", "pytest -q"),
        ("run `make check` then `other`", "make check"),
        ("``grep -c ` x``", "grep -c ` x"),
        ("` a `", "a"),
        ("``", None),
        ("`unclosed", None),
        ("\\`x `y`", "y"),
        ("no code", None),
    ],
)
def test_first_code_span(value, span):
    assert first_code_span(value) == span


def _task(verify: str | None):
    doc = TaskDocument.parse("/t/tasks.md", tasks_text(verify), {})
    return next(doc.located_tasks()).task


def test_the_verify_command_is_split_like_a_shell_line():
    cmd = verify_command(_task("`pytest -q \"tests/a b.py\" -k 'x or y'` (slow)"))
    assert cmd is not None and cmd.argv == ("pytest", "-q", "tests/a b.py", "-k", "x or y")
    assert verify_command(_task(None)) is None
    for bad in ("``", "pytest -q", "`'unclosed`", "`   `"):
        with pytest.raises(VerifyFieldError):
            verify_command(_task(bad))


def test_run_checks_follow_the_settings():
    task = _task("`pytest`")
    off = run_checks(task, verify=False, require_changes=False)
    assert off.verify is None and off.verify_off and off.require_changes is None
    on = run_checks(task, verify=True, require_changes=True)
    assert on.verify is not None and not on.verify_off and on.require_changes == ("src/a.txt",)
    # a malformed field only matters when it would run
    assert run_checks(_task("pytest"), verify=False, require_changes=False).verify_off
    assert not run_checks(_task(None), verify=False, require_changes=False).verify_off


# -- the engine ------------------------------------------------------------------------------------


class FileHooks(RunHooks):
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    async def set_status(self, run, status, *, note=None, extra_fields=()):
        path = Path(run.spec.task_path)
        text = path.read_text(encoding="utf-8")
        edits = status_edits(
            text, None, run.spec.task_id, status, note=note, extra_fields=extra_fields
        )
        path.write_text(apply_edits(text, edits), encoding="utf-8")
        return True

    def progress(self, run, kind, message):
        self.events.append((kind, message))

    def messages(self, kind: str) -> list[str]:
        return [m for k, m in self.events if k == kind]


def script(root: Path, name: str, body: str) -> Path:
    """An executable Python script in the workspace."""
    p = root / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(f"#!{PY}\n{body}", encoding="utf-8")
    p.chmod(0o755)
    return p


def prepare(tmp_path: Path, field: str | None, *fake: str, files="src/a.txt", previous=" ", **kw):
    (tmp_path / ".git").mkdir(exist_ok=True)
    (tmp_path / "src").mkdir(exist_ok=True)
    (tmp_path / "src" / "a.txt").write_text("before\n", encoding="utf-8")
    tasks = tmp_path / "tasks" / "tasks-verify.md"
    tasks.parent.mkdir(exist_ok=True)
    text = tasks_text(field, files, previous)
    tasks.write_text(text, encoding="utf-8")
    ws = Workspace(tmp_path, personal=False)
    ws.set_text(str(tasks), text, "task")
    runner = RunnerSettings(command=[PY, FAKE, *fake, "{prompt}"], **kw)
    return prepare_run(
        workspace=tmp_path, task_path=tasks, text=text, task_id="8.1", runner=runner,
        droid="builder", env={**os.environ, "PATH": os.environ.get("PATH", "")},
    )  # fmt: skip


async def run_once(spec, hooks=None, grace=0.3):
    hooks = hooks or FileHooks()
    run = RunManager(grace=grace).submit(spec, hooks)
    result = await asyncio.wait_for(run.execute(), 30)
    return run, result, hooks


def task_block(spec) -> str:
    return Path(spec.task_path).read_text(encoding="utf-8").split("## 8. Verify (HIGH)\n\n")[1]


async def test_verify_passes_and_the_task_completes(tmp_path):
    script(tmp_path, "scripts/check.py", "print('checking'); print('all 3 passed')\n")
    spec = prepare(tmp_path, "`./scripts/check.py`", verify=True)
    _, result, hooks = await run_once(spec)
    assert result.outcome == "completed" and result.final_status is Status.COMPLETED
    assert "verify passed: `./scripts/check.py`" in result.message
    assert task_block(spec).startswith("- [x] 8.1 Build it ✅")
    assert "verifying: ./scripts/check.py" in hooks.messages("output")
    assert "all 3 passed" in hooks.messages("output")
    log = result.log_path.read_text()
    assert '# verify: ["./scripts/check.py"]' in log and "[verify] all 3 passed" in log
    assert "# verify exit code 0" in log


async def test_verify_fails_and_the_task_is_blocked(tmp_path):
    script(
        tmp_path,
        "check.py",
        "import sys\nprint('1 failed')\nsys.stderr.write('boom\\n')\nsys.exit(3)\n",
    )
    spec = prepare(tmp_path, "`./check.py`", verify=True)
    _, result, _ = await run_once(spec)
    assert result.outcome == "blocked" and result.final_status is Status.BLOCKED
    b = task_block(spec)
    assert b.startswith("- [!] 8.1 Build it ⚠️")
    assert re.search(
        r"\*\*Error\*\*: verify failed: exit 3: boom \(log: \.taskdroid/runs/tasks-verify-8\.1-.*\.log\)",
        b,
    )
    assert re.search(r"\*\*Attempted\*\*: \d{4}-\d\d-\d\d \d\d:\d\d$", b, re.M)
    assert "verify failed: exit 3: boom" in result.message


async def test_verify_off_decides_as_before_and_says_so(tmp_path):
    """A Verify command from the repository never runs without runner.verify."""
    marker = tmp_path / "verify-ran"
    spec = prepare(tmp_path, f"`{PY} -c \"open('{marker}', 'w')\"`")
    assert spec.checks.verify is None and spec.checks.verify_off
    _, result, hooks = await run_once(spec)
    assert result.outcome == "completed" and result.message.endswith(f"; {VERIFY_OFF_NOTE}")
    assert result.note == VERIFY_OFF_NOTE and VERIFY_OFF_NOTE in hooks.messages("output")
    assert not marker.exists()
    assert f"# {VERIFY_OFF_NOTE}" in result.log_path.read_text()


async def test_verify_runs_after_the_droid_marked_the_task_done_itself(tmp_path):
    script(tmp_path, "check.py", "import sys\nprint('nope')\nsys.exit(1)\n")
    spec = prepare(tmp_path, "`./check.py`", "--mark", "x", verify=True)
    _, result, _ = await run_once(spec)
    assert result.outcome == "blocked"
    b = task_block(spec)
    assert b.startswith("- [!] 8.1") and "**Error**: verify failed: exit 1: nope" in b

    ok = tmp_path / "ok"
    ok.mkdir()
    script(ok, "check.py", "print('fine')\n")
    spec = prepare(ok, "`./check.py`", "--mark", "x", verify=True)
    _, result, _ = await run_once(spec)
    assert result.outcome == "kept" and result.final_status is Status.COMPLETED
    assert "verify passed" in result.message and task_block(spec).startswith("- [x] 8.1")


async def test_no_verify_when_the_droid_blocked_the_task_or_failed(tmp_path):
    marker = tmp_path / "verify-ran"
    verify = f"`{PY} -c \"open('{marker}', 'w')\"`"
    spec = prepare(tmp_path, verify, "--mark", "!", verify=True)
    _, result, _ = await run_once(spec)
    assert result.outcome == "kept" and result.final_status is Status.BLOCKED
    spec = prepare(tmp_path, verify, "--exit", "2", verify=True)
    _, result, _ = await run_once(spec)
    assert result.outcome == "blocked" and "exit code 2" in (result.error or "")
    assert not marker.exists()


async def test_require_changes_blocks_a_droid_that_changed_nothing(tmp_path):
    spec = prepare(tmp_path, None, "--mark", "x", requireChanges=True)
    _, result, _ = await run_once(spec)
    assert result.outcome == "blocked"
    assert "**Error**: no file listed in Files changed" in task_block(spec)


async def test_require_changes_passes_when_a_listed_file_changed(tmp_path):
    spec = prepare(tmp_path, None, "--write", "src/a.txt", requireChanges=True)
    _, result, _ = await run_once(spec)
    assert result.outcome == "completed"
    # a file that did not exist before and does after is a change too
    spec = prepare(
        tmp_path, None, "--write", "src/new.txt", files="src/new.txt", requireChanges=True
    )
    _, result, _ = await run_once(spec)
    assert result.outcome == "completed"


async def test_a_timeout_during_verify_stops_it_and_blocks(tmp_path):
    script(
        tmp_path,
        "slow.py",
        "import os, time\nopen('verify.pid', 'w').write(str(os.getpid()))\ntime.sleep(30)\n",
    )
    spec = prepare(tmp_path, "`./slow.py`", "--lines", "0", verify=True)
    spec = replace(spec, timeout=4.0)  # the droid takes well under that; the check the rest
    _, result, _ = await run_once(spec, grace=0.2)
    assert result.outcome == "timeout"
    assert "**Error**: verify failed: timed out after" in task_block(spec)
    await _until(lambda: _gone(int((tmp_path / "verify.pid").read_text())))


async def test_cancel_during_verify_restores_the_task(tmp_path):
    script(
        tmp_path,
        "slow.py",
        "import os, time\nopen('verify.pid', 'w').write(str(os.getpid()))\ntime.sleep(30)\n",
    )
    spec = prepare(tmp_path, "`./slow.py`", "--mark", "x", verify=True, previous="!")
    run = RunManager(grace=0.3).submit(spec, FileHooks())
    task = asyncio.ensure_future(run.execute())
    pid_file = tmp_path / "verify.pid"
    await _until(lambda: pid_file.exists() and pid_file.read_text() != "")
    assert run.cancel("test")
    result = await asyncio.wait_for(task, 10)
    assert result.outcome == "cancelled"
    b = task_block(spec)
    assert b.startswith("- [!] 8.1") and re.search(r"\*\*Status\*\*: Run cancelled", b)
    await _until(lambda: _gone(int(pid_file.read_text())))


async def test_shell_metacharacters_reach_the_program_literally(tmp_path):
    record = "import json, sys\nopen('args.json', 'w').write(json.dumps(sys.argv[1:]))\n"
    script(tmp_path, "rec.py", record)
    verify = "`./rec.py touch x; touch y '$(touch z)' | tee w > out && touch v`"
    spec = prepare(tmp_path, verify, verify=True)
    _, result, _ = await run_once(spec)
    assert result.outcome == "completed"
    args = json.loads((tmp_path / "args.json").read_text())
    assert args == [
        "touch",
        "x;",
        "touch",
        "y",
        "$(touch z)",
        "|",
        "tee",
        "w",
        ">",
        "out",
        "&&",
        "touch",
        "v",
    ]
    for name in ("x", "y", "z", "w", "out", "v"):
        assert not (tmp_path / name).exists()


def test_verify_program_lookup(tmp_path):
    ws = tmp_path / "ws"
    (ws / "bin").mkdir(parents=True)
    tool = script(ws, "bin/tool", "print(1)\n")
    outside = script(tmp_path, "outside.py", "print(1)\n")
    env = {"PATH": f"bin{os.pathsep}{os.pathsep}/nonexistent"}
    # a relative PATH entry (here `bin`, inside the workspace) or an empty one is never searched
    with pytest.raises(RunError, match="not found on PATH"):
        resolve_verify_program("tool", env, str(ws))
    # an absolute PATH entry inside the workspace is (the project's own environment)
    assert resolve_verify_program("tool", {"PATH": str(ws / "bin")}, str(ws)) == str(tool)
    assert resolve_verify_program("./bin/tool", env, str(ws)) == str(tool)
    assert resolve_verify_program("bin/tool", env, str(ws)) == str(tool)
    with pytest.raises(RunError, match="outside the workspace"):
        resolve_verify_program("../outside.py", env, str(ws))
    (ws / "link").symlink_to(outside)
    with pytest.raises(RunError, match="outside the workspace"):
        resolve_verify_program("./link", env, str(ws))
    with pytest.raises(RunError, match="not an executable"):
        resolve_verify_program("./nothing", env, str(ws))
    assert resolve_verify_program(str(outside), env, str(ws)) == str(outside)


async def test_a_verify_program_that_cannot_be_found_blocks(tmp_path):
    spec = prepare(tmp_path, "`./missing-check`", verify=True)
    _, result, _ = await run_once(spec)
    assert result.outcome == "blocked"
    assert "**Error**: verify failed: `./missing-check` is not an executable file" in task_block(
        spec
    )


def test_a_verify_field_without_a_command_refuses_the_run_when_verify_is_on(tmp_path):
    with pytest.raises(RunError, match="holds no command") as e:
        prepare(tmp_path, "run the tests", verify=True)
    assert e.value.kind == "verify"
    assert prepare(tmp_path, "run the tests").checks.verify_off  # off: reported, not refused


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rpartition(")")[2].split()[0] == "Z"
    except OSError:
        return True


async def _until(predicate, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_the_droid_cannot_change_the_verify_command(tmp_path):
    """The command is read when the run is prepared: a droid (here, an edit made before the run
    starts) that rewrites the Verify field does not change what checks it."""
    script(tmp_path, "check.py", "import sys\nprint('strict check failed')\nsys.exit(1)\n")
    spec = prepare(tmp_path, "`./check.py`", verify=True)
    path = Path(spec.task_path)
    path.write_text(path.read_text().replace("`./check.py`", f"`{PY} -c pass`"), encoding="utf-8")
    _, result, _ = await run_once(spec)
    assert result.outcome == "blocked"
    assert "verify failed: exit 1: strict check failed" in (result.error or "")


async def test_an_interrupted_run_during_verify_kills_it_and_restores_the_task(tmp_path):
    """The asyncio task driving the run is cancelled (a server going down) while the Verify
    command runs: the command is killed, and the droid's own [x] is not left standing."""
    script(
        tmp_path,
        "slow.py",
        "import os, time\nopen('verify.pid', 'w').write(str(os.getpid()))\ntime.sleep(30)\n",
    )
    spec = prepare(tmp_path, "`./slow.py`", "--mark", "x", verify=True)
    run = RunManager(grace=0.3).submit(spec, FileHooks())
    task = asyncio.ensure_future(run.execute())
    pid_file = tmp_path / "verify.pid"
    await _until(lambda: pid_file.exists() and pid_file.read_text() != "")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert run.result is not None and run.result.outcome == "cancelled"
    b = task_block(spec)
    assert b.startswith("- [ ] 8.1") and "Run cancelled" in b
    await _until(lambda: _gone(int(pid_file.read_text())), 5)


async def test_require_changes_on_a_folder_entry(tmp_path):
    spec = prepare(tmp_path, None, files="src/", requireChanges=True)
    _, result, _ = await run_once(spec)
    assert result.outcome == "blocked" and result.error is not None
    assert result.error.startswith("no file listed in Files changed")
    spec = prepare(tmp_path, None, "--write", "src/deep/x.txt", files="`src/`", requireChanges=True)
    (tmp_path / "src" / "deep").mkdir()
    _, result, _ = await run_once(spec)
    assert result.outcome == "completed"
