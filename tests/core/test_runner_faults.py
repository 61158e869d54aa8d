"""Runs under faults (issue #7), in the engine: droids that crash, hang, ignore SIGTERM, print
without newlines or a flood, leave children (a daemon that left the process group too), edit the
task file themselves; two runs racing on one file; a run whose driver is cancelled; stop_all.

The droid is ``tests/fixtures/fault_droid.py``. Process checks use ``/proc`` (a zombie counts as
gone: the init process of some containers does not reap orphans).
"""

from __future__ import annotations

import asyncio
import os
import re
import resource
import sys
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

import pytest

from taskdroid.core.edits import apply_edits, status_edits
from taskdroid.core.model import Status
from taskdroid.core.settings import RunnerSettings
from taskdroid.run import RunError, RunHooks, RunManager, logfile, output, prepare_run
from taskdroid.run.supervise import GUARDIAN_PROGRAM

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups")

FAULT = str(Path(__file__).resolve().parents[1] / "fixtures" / "fault_droid.py")
#: megabytes printed by the flood test (TASKDROID_FAULT_BIG_OUTPUT_MB=1024 for the full 1 GB)
BIG_OUTPUT_MB = float(os.environ.get("TASKDROID_FAULT_BIG_OUTPUT_MB", "200"))
STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d"

TASKS = """\
# Fault tasks

Intro paragraph that nobody may touch.

## 1. Faults (HIGH)

- [ ] 1.1 First
  - **Droid**: builder
  - **Files**: a.py
- [!] 1.2 Second ⚠️
  - **Droid**: builder
  - **Issue**: flaky before
- [ ] 1.3 Third
  - **Droid**: builder
    - a nested note

## 2. Other

- [x] 2.1 Done ✅
  - **Completed**: 2025-01-10 10:00
"""


# -- helpers ---------------------------------------------------------------------------------------


def make_ws(tmp_path: Path, text: str = TASKS) -> Path:
    (tmp_path / ".git").mkdir(exist_ok=True)
    tasks = tmp_path / "tasks" / "tasks-faults.md"
    tasks.parent.mkdir(exist_ok=True)
    tasks.write_text(text, encoding="utf-8")
    return tasks


def spec_for(tmp_path: Path, task_id: str, *args: str, timeout: float = 60, **kw):
    tasks = tmp_path / "tasks" / "tasks-faults.md"
    if not tasks.exists():
        make_ws(tmp_path)
    spec = prepare_run(
        workspace=tmp_path,
        task_path=tasks,
        text=tasks.read_text(encoding="utf-8"),
        task_id=task_id,
        runner=RunnerSettings(command=[sys.executable, FAULT, *args, "{prompt}"], **kw),
        droid="builder",
    )
    return replace(spec, timeout=timeout)


class DiskHooks(RunHooks):
    """Status edits written to disk the way ``taskdroid run`` writes them; progress recorded."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    async def set_status(self, run, status, *, note=None, extra_fields=()):
        from taskdroid.core.writes import write_status

        return write_status(
            run.spec.task_path, run.spec.task_id, status, note=note, extra_fields=extra_fields
        )

    def progress(self, run, kind, message):
        self.events.append((kind, message))

    def messages(self, kind: str) -> list[str]:
        return [m for k, m in self.events if k == kind]


async def run_to_end(spec, hooks=None, grace=0.3, timeout=60.0):
    hooks = hooks or DiskHooks()
    run = RunManager(grace=grace).submit(spec, hooks)
    result = await asyncio.wait_for(run.execute(), timeout)
    return run, result, hooks


def block(path: Path, task_id: str) -> str:
    text = path.read_text(encoding="utf-8")
    m = re.search(rf"^- \[[^\]]*\] {re.escape(task_id)} .*?(?=^- \[|^#|\Z)", text, re.M | re.S)
    assert m, text
    return m.group(0)


def gone(pid: int) -> bool:
    """The process is gone, or a zombie nobody reaps."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rpartition(")")[2].split()[0] in ("Z", "X")
    except OSError:
        return True


def read_pids(path: Path) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            role, _, pid = line.partition(" ")
            out.setdefault(role, []).append(int(pid))
    return out


async def until(predicate, timeout: float = 15.0, what: str = "a condition") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def all_gone(pids: list[int], timeout: float = 10.0) -> None:
    await until(lambda: all(gone(p) for p in pids), timeout, f"processes {pids} to end")


def count(pids: dict[str, list[int]]) -> int:
    return sum(len(v) for v in pids.values())


# -- 1. crashes ------------------------------------------------------------------------------------


async def test_crash_with_an_exit_code_names_it_and_the_last_stderr_line(tmp_path):
    spec = spec_for(
        tmp_path, "1.1", "--say", "working", "--stderr", "warning: first",
        "--stderr", "fatal: database unreachable", "--exit", "7",
    )  # fmt: skip
    _, result, _ = await run_to_end(spec)
    assert result.outcome == "blocked" and result.exit_code == 7
    b = block(Path(spec.task_path), "1.1")
    assert b.startswith("- [!] 1.1 First ⚠️")
    assert re.search(r"\*\*Error\*\*: exit code 7: fatal: database unreachable \(log: ", b)
    assert re.search(rf"\*\*Attempted\*\*: {STAMP}", b)
    assert "**Files**: a.py" in b


@pytest.mark.parametrize("sig", ["SIGKILL", "SIGSEGV", "SIGABRT"])
async def test_a_droid_killed_by_a_signal_is_blocked_naming_the_signal(tmp_path, sig):
    spec = spec_for(tmp_path, "1.3", "--stderr", f"about to die of {sig}", "--signal", sig)
    _, result, _ = await run_to_end(spec)
    assert result.outcome == "blocked"
    assert result.exit_code == -getattr(__import__("signal"), sig)
    b = block(Path(spec.task_path), "1.3")
    assert b.startswith("- [!] 1.3 Third ⚠️")
    assert f"**Error**: killed by signal {sig}: about to die of {sig} (log: " in b
    assert re.search(rf"\*\*Attempted\*\*: {STAMP}", b)
    assert "    - a nested note" in b
    assert f"killed by signal {sig}" in result.message


# -- 2, 3. hangs, SIGTERM ignored ------------------------------------------------------------------


async def test_a_hanging_droid_times_out_and_its_group_is_gone(tmp_path):
    pids = tmp_path / "pids"
    spec = spec_for(tmp_path, "1.1", "--hang", "--children", "1", "--pids", str(pids), timeout=0.8)
    _, result, _ = await run_to_end(spec)
    assert result.outcome == "timeout" and result.exit_code == -15
    b = block(Path(spec.task_path), "1.1")
    assert b.startswith("- [!] 1.1 First ⚠️")
    assert "**Error**: timed out after 0.8 s (runner.timeoutSeconds); the droid was stopped" in b
    got = read_pids(pids)
    assert len(got["droid"]) == 1 and len(got["child"]) == 1 and len(got["grandchild"]) == 1
    await all_gone([p for v in got.values() for p in v])


@pytest.mark.parametrize("how", ["cancel", "timeout"])
async def test_sigterm_ignored_everywhere_is_killed_after_the_grace_period(tmp_path, how):
    pids = tmp_path / "pids"
    started = tmp_path / "started"
    spec = spec_for(
        tmp_path, "1.2", "--ignore-term", "--children", "2", "--hang", "--pids", str(pids),
        "--started", str(started), timeout=0.8 if how == "timeout" else 60,
    )  # fmt: skip
    hooks = DiskHooks()
    run = RunManager(grace=0.4).submit(spec, hooks)
    task = asyncio.ensure_future(run.execute())
    await until(lambda: started.exists() and count(read_pids(pids)) == 5, what="the droid")
    if how == "cancel":
        assert run.cancel("test")
    result = await asyncio.wait_for(task, 30)
    assert result.exit_code == -9  # SIGTERM ignored: SIGKILL after the grace period
    got = read_pids(pids)
    await all_gone([p for v in got.values() for p in v])
    log_text = result.log_path.read_text(errors="replace")
    assert "did not stop on SIGTERM: SIGKILL" in log_text
    b = block(Path(spec.task_path), "1.2")
    if how == "cancel":
        assert result.outcome == "cancelled"
        assert b.startswith("- [!] 1.2 Second ⚠️") and "**Issue**: flaky before" in b
        assert re.search(rf"\*\*Status\*\*: Run cancelled {STAMP}", b)
    else:
        assert result.outcome == "timeout"
        assert "**Error**: timed out after 0.8 s" in b


# -- 4, 5. output without newlines, a flood --------------------------------------------------------


async def test_output_without_newlines_is_cut_and_the_run_completes(tmp_path, monkeypatch):
    longest = 0
    original = output.summarize_line

    def spy(line):
        nonlocal longest
        longest = max(longest, len(line))
        return original(line)

    monkeypatch.setattr(output, "summarize_line", spy)
    spec = spec_for(tmp_path, "1.1", "--say", "before the flood", "--stdout-mb", "5",
                    "--line-bytes", "0")  # fmt: skip
    _, result, _ = await run_to_end(spec)
    assert result.outcome == "completed"
    assert block(Path(spec.task_path), "1.1").startswith("- [x] 1.1 First ✅")
    assert 0 < longest <= output.MAX_LINE_BYTES
    data = result.log_path.read_bytes()
    assert b"before the flood\n" in data
    assert data.count(b"\xe2\x80\xa6[line cut]") == 1  # one line, cut once; the rest skipped
    assert len(data) < output.MAX_LINE_BYTES + 16 * 1024


async def test_a_partial_last_line_and_a_progress_bar_without_newlines(tmp_path):
    spec = spec_for(tmp_path, "1.1", "--spinner", "40", "--tail", " done at last")
    _, result, hooks = await run_to_end(spec)
    assert result.outcome == "completed"
    outputs = hooks.messages("output")
    assert any(re.fullmatch(r"working \d+/40", m) for m in outputs), outputs
    assert outputs[-1] == "working 40/40 done at last"  # the line ended with the output
    log_text = result.log_path.read_text()
    assert "working 40/40 done at last\n" in log_text


async def test_a_flood_of_output_is_capped_in_the_log_and_costs_little_memory(tmp_path):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    spec = spec_for(tmp_path, "1.1", "--stdout-mb", str(BIG_OUTPUT_MB), "--line-bytes", "100",
                    "--say", "first line")  # fmt: skip
    _, result, _ = await run_to_end(spec, timeout=600)
    assert result.outcome == "completed"
    size = result.log_path.stat().st_size
    assert size <= logfile.MAX_LOG_BYTES + 512
    if BIG_OUTPUT_MB * 1024 * 1024 > logfile.MAX_LOG_BYTES:
        assert size > logfile.MAX_LOG_BYTES - 1024
        tail = result.log_path.read_bytes()[-400:]
        assert b"# taskdroid: log cut at 64 MiB; the output was still read" in tail
        assert b"# exit code 0 after" in tail  # taskdroid's own footer is still written
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown < 100 * 1024, f"the runner's peak memory grew by {grown} KiB"


async def test_a_flood_of_tiny_lines_is_not_handled_line_by_line(tmp_path, monkeypatch):
    """``yes``-like output: progress looks at the last lines of each chunk only (before, every
    line was decoded and summarised: 1 GB of 2-byte lines took half an hour)."""
    calls = 0
    original = output.summarize_line

    def spy(line):
        nonlocal calls
        calls += 1
        return original(line)

    monkeypatch.setattr(output, "summarize_line", spy)
    spec = spec_for(tmp_path, "1.1", "--stdout-mb", "16", "--line-bytes", "2")
    _, result, hooks = await run_to_end(spec)
    assert result.outcome == "completed"
    lines = 16 * 1024 * 1024 // 2
    assert calls < lines // 1000, calls
    assert hooks.messages("output")[-1] == "f"
    assert result.log_path.stat().st_size > 16 * 1024 * 1024  # every line logged


async def test_stderr_lines_are_marked_in_the_log(tmp_path):
    spec = spec_for(tmp_path, "1.1", "--say", "out 1", "--stderr", "err 1", "--stderr", "err 2",
                    "--exit", "1")  # fmt: skip
    _, result, _ = await run_to_end(spec)
    log_text = result.log_path.read_text()
    assert "out 1\n" in log_text
    assert "[stderr] err 1\n[stderr] err 2\n" in log_text
    assert "**Error**: exit code 1: err 2 (log: " in block(Path(spec.task_path), "1.1")


# -- 6. children, a daemon -------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["cancel", "timeout", "exit", "stop_all"])
async def test_children_grandchildren_and_a_daemon_are_stopped(tmp_path, how):
    pids = tmp_path / "pids"
    started = tmp_path / "started"
    args = ["--children", "2", "--daemon", "--pids", str(pids), "--started", str(started)]
    if how == "exit":
        args += ["--wait-file", str(tmp_path / "go"), "--daemon-keeps-pipes"]
    else:
        args += ["--hang", "--ignore-term"]
    spec = spec_for(tmp_path, "1.1", *args, timeout=1.0 if how == "timeout" else 60)
    manager = RunManager(grace=0.4)
    run = manager.submit(spec, DiskHooks())
    task = asyncio.ensure_future(run.execute())
    await until(lambda: started.exists() and count(read_pids(pids)) == 6, what="the processes")
    got = read_pids(pids)
    everything = [p for v in got.values() for p in v]
    daemon = got["daemon"][0]
    assert not gone(daemon)
    with open(f"/proc/{daemon}/stat") as fh:  # out of the droid's process group
        assert int(fh.read().rpartition(")")[2].split()[2]) != got["droid"][0]
    if how == "cancel":
        run.cancel("test")
    elif how == "exit":
        (tmp_path / "go").touch()  # the droid exits, leaving its family running
    elif how == "stop_all":
        await manager.stop_all("shutting down", kill_after=0.3, timeout=10)
    result = await asyncio.wait_for(task, 30)
    await all_gone(everything)
    expected = {"cancel": "cancelled", "timeout": "timeout", "exit": "completed"}
    assert result.outcome == expected.get(how, "cancelled")
    b = block(Path(spec.task_path), "1.1")
    if how == "stop_all":
        assert re.search(rf"\*\*Status\*\*: Run cancelled {STAMP} \(shutting down\)", b)
    assert not list(spec.log_dir.glob("*.lock"))


# -- 7. the droid edits the task file itself -------------------------------------------------------


@pytest.mark.parametrize(("edit", "code", "marker"), [("mark-x", 1, "x"), ("mark-!", 0, "!")])
async def test_a_status_the_droid_set_itself_stands(tmp_path, edit, code, marker):
    spec = spec_for(tmp_path, "1.1", "--edit", edit, "--exit", str(code))
    _, result, _ = await run_to_end(spec)
    assert result.outcome == "kept" and "itself" in result.message
    b = block(Path(spec.task_path), "1.1")
    assert b.startswith(f"- [{marker}] 1.1 First")
    assert "**Error**" not in b and "**Completed**" not in b


@pytest.mark.parametrize("edit", ["move", "prepend"])
async def test_the_outcome_goes_to_the_task_by_id_after_the_droid_rewrote_the_file(tmp_path, edit):
    spec = spec_for(tmp_path, "1.1", "--edit", edit, "--exit", "3", "--stderr", "broke")
    path = Path(spec.task_path)
    _, result, _ = await run_to_end(spec)
    assert result.outcome == "blocked"
    text = path.read_text(encoding="utf-8")
    b = block(path, "1.1")
    assert b.startswith("- [!] 1.1 First ⚠️") and "**Error**: exit code 3: broke" in b
    # everything but the task's own block is as the droid left it
    others = text.replace(b, "")
    if edit == "move":
        assert text.index("## Moved by the droid") < text.index("- [!] 1.1 First")
        assert "- [ ] 1.1" not in text
    else:
        assert text.startswith("<!-- added by the droid -->\nA paragraph the droid wrote.\n\n")
    for kept in ("Intro paragraph that nobody may touch.", "- [!] 1.2 Second ⚠️",
                 "  - **Issue**: flaky before", "    - a nested note", "- [x] 2.1 Done ✅"):  # fmt: skip
        assert kept in others
    assert "Status**: Run cancelled" not in text


async def test_the_droid_deleting_its_task_changes_nothing_else(tmp_path):
    spec = spec_for(tmp_path, "1.1", "--edit", "delete")
    path = Path(spec.task_path)
    _, result, _ = await run_to_end(spec)
    assert result.outcome == "gone" and result.not_recorded
    assert "task 1.1 is no longer in tasks/tasks-faults.md" in result.message
    assert "not recorded" in result.message
    text = path.read_text(encoding="utf-8")
    assert "1.1 First" not in text
    expected = TASKS.replace("- [ ] 1.1 First\n  - **Droid**: builder\n  - **Files**: a.py\n", "")
    assert text == expected


@pytest.mark.parametrize(
    ("edit", "why"),
    [("binary", "not UTF-8 text"), ("nul", "binary file"), ("remove", "cannot read")],
)
async def test_the_droid_replacing_the_file_with_garbage_is_a_clear_error(tmp_path, edit, why):
    spec = spec_for(tmp_path, "1.1", "--edit", edit)
    path = Path(spec.task_path)
    _, result, _ = await run_to_end(spec)
    assert result.outcome == "gone" and result.not_recorded
    assert "tasks/tasks-faults.md cannot be read any more" in result.message
    assert why in result.message
    if edit == "remove":
        assert not path.exists()
    else:  # left as the droid wrote it
        data = path.read_bytes()
        assert data.startswith(b"\xff\xfe not text" if edit == "binary" else b"\x00\x00")


# -- 8. races --------------------------------------------------------------------------------------


class NaiveHooks(DiskHooks):
    """A writer with a wide read-modify-write window: read the file, wait for the other run to
    read it too (at most ``overlap`` seconds), write. Only the runner's edit lock keeps the two
    outcomes from overwriting each other."""

    inside: ClassVar[set[str]] = set()

    def __init__(self, overlap: float = 0.4) -> None:
        super().__init__()
        self.overlap = overlap

    async def set_status(self, run, status, *, note=None, extra_fields=()):
        path = Path(run.spec.task_path)
        text = path.read_text(encoding="utf-8")
        if status is not Status.IN_PROGRESS:
            NaiveHooks.inside.add(run.id)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.overlap
            while len(NaiveHooks.inside) < 2 and loop.time() < deadline:
                await asyncio.sleep(0.01)
        edits = status_edits(text, None, run.spec.task_id, status, extra_fields=extra_fields)
        path.write_text(apply_edits(text, edits), encoding="utf-8")
        return True


async def test_two_runs_finishing_together_in_one_file_both_record(tmp_path):
    NaiveHooks.inside = set()
    make_ws(tmp_path)
    manager = RunManager(grace=0.3)
    a = manager.submit(spec_for(tmp_path, "1.1", "--hold", "0.2"), NaiveHooks())
    b = manager.submit(spec_for(tmp_path, "1.3", "--hold", "0.2", "--exit", "2"), NaiveHooks())
    ra, rb = await asyncio.wait_for(asyncio.gather(a.execute(), b.execute()), 30)
    assert (ra.outcome, rb.outcome) == ("completed", "blocked")
    path = Path(a.spec.task_path)
    assert block(path, "1.1").startswith("- [x] 1.1 First ✅")
    assert block(path, "1.3").startswith("- [!] 1.3 Third ⚠️")
    text = path.read_text(encoding="utf-8")
    assert "Intro paragraph that nobody may touch." in text and "- [x] 2.1 Done ✅" in text
    assert block(path, "1.2") == block(tmp_path / "tasks" / "tasks-faults.md", "1.2")
    assert "- [!] 1.2 Second ⚠️\n  - **Droid**: builder\n  - **Issue**: flaky before\n" in text


async def test_the_same_task_twice_is_refused(tmp_path):
    spec = spec_for(tmp_path, "1.1", "--hold", "0.3")
    manager = RunManager(grace=0.3)
    run = manager.submit(spec, DiskHooks())
    with pytest.raises(RunError, match="already running") as e:
        manager.submit(replace(spec, run_id="run-second"), DiskHooks())
    assert e.value.kind == "busy"
    with pytest.raises(RunError, match="another taskdroid process"):
        RunManager().submit(replace(spec, run_id="run-third"), DiskHooks())
    assert (await asyncio.wait_for(run.execute(), 30)).outcome == "completed"


# -- 9. the driver of a run is cancelled (the process is going down) -------------------------------


async def test_an_interrupted_run_kills_everything_and_records_the_cancel(tmp_path):
    pids = tmp_path / "pids"
    started = tmp_path / "started"
    spec = spec_for(tmp_path, "1.2", "--hang", "--ignore-term", "--children", "1", "--daemon",
                    "--pids", str(pids), "--started", str(started))  # fmt: skip
    run = RunManager(grace=5).submit(spec, DiskHooks())
    task = asyncio.ensure_future(run.execute())
    await until(lambda: started.exists() and count(read_pids(pids)) == 4, what="the droid")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    got = read_pids(pids)
    await all_gone([p for v in got.values() for p in v])
    assert run.result is not None and run.result.outcome == "cancelled"
    b = block(Path(spec.task_path), "1.2")
    assert b.startswith("- [!] 1.2 Second ⚠️")  # back to blocked, as before the run
    assert re.search(rf"\*\*Status\*\*: Run cancelled {STAMP} \(taskdroid stopped during", b)
    assert not list(spec.log_dir.glob("*.lock"))


async def test_the_guardian_lives_only_while_runs_do(tmp_path):
    """The helper that kills the droids of a taskdroid process that dies runs only while there
    are runs: nothing of taskdroid's stays around between runs."""
    started = tmp_path / "started"
    spec = spec_for(tmp_path, "1.1", "--started", str(started), "--hold", "0.3")
    manager = RunManager(grace=0.3)
    assert manager.guardian.pid is None  # nothing before the first run
    run = manager.submit(spec, DiskHooks())
    task = asyncio.ensure_future(run.execute())
    await until(started.exists, what="the droid")
    guardian = manager.guardian.pid
    assert guardian is not None and not gone(guardian)
    with open(f"/proc/{guardian}/cmdline", "rb") as fh:
        assert fh.read().split(b"\0")[1:4] == [b"-I", b"-S", str(GUARDIAN_PROGRAM).encode()]
    assert (await asyncio.wait_for(task, 30)).outcome == "completed"
    assert manager.guardian.pid is None

    def reaped() -> bool:
        try:
            os.kill(guardian, 0)
        except ProcessLookupError:
            return True
        return False

    await until(reaped, 10, "the guardian to end and be reaped")


async def test_the_guardian_imports_nothing_from_a_booby_trapped_current_directory(
    tmp_path, monkeypatch
):
    """The guardian is a Python process started while the current directory may be the
    workspace: modules committed there (shadowing the standard library, ``sitecustomize``, a
    ``taskdroid`` package) are never imported, and it runs outside the workspace."""
    spec = spec_for(tmp_path, "1.1", "--started", str(tmp_path / "started"), "--hold", "0.3")
    marks = tmp_path / "marks"
    trap = "import pathlib; (pathlib.Path({!r}) / {!r}).touch()\n"
    for rel in ("os.py", "signal.py", "sys.py", "sitecustomize.py", "usercustomize.py",
                "encodings/__init__.py", "taskdroid/__init__.py", "taskdroid/run/__init__.py",
                "taskdroid/run/guardian.py", "__main__.py"):  # fmt: skip
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(trap.format(str(marks), rel.replace("/", "_")))
    marks.mkdir()
    monkeypatch.chdir(tmp_path)
    manager = RunManager(grace=0.3)
    run = manager.submit(spec, DiskHooks())
    task = asyncio.ensure_future(run.execute())
    await until((tmp_path / "started").exists, what="the droid")
    guardian = manager.guardian.pid
    assert guardian is not None
    assert os.readlink(f"/proc/{guardian}/cwd") == "/"
    with open(f"/proc/{guardian}/cmdline", "rb") as fh:
        assert b"\0-I\0" in fh.read()
    assert (await asyncio.wait_for(task, 30)).outcome == "completed"
    assert list(marks.iterdir()) == []
