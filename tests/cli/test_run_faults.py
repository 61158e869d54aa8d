"""`taskdroid run` under faults (issue #7), each in a process of its own: crashes, a droid that
deletes its task or garbles the file, two terminals racing on one file, Ctrl-C and SIGTERM of the
command (exit 130, the task restored, no process left), SIGKILL of the command (the guardian
kills the droid), and a flood of output with the command's peak memory measured.

The droid is ``tests/fixtures/fault_droid.py``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and /proc")

FAULT = str(Path(__file__).resolve().parents[1] / "fixtures" / "fault_droid.py")
#: megabytes printed in the flood test (TASKDROID_FAULT_BIG_OUTPUT_MB=1024 for the full 1 GB)
BIG_OUTPUT_MB = float(os.environ.get("TASKDROID_FAULT_BIG_OUTPUT_MB", "200"))
STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d"
MIB = 1024 * 1024

TASKS = """\
# Terminal faults

Some text above the tasks.

## 1. Work (HIGH)

- [ ] 1.1 Alpha
  - **Droid**: worker
- [ ] 1.2 Beta
  - **Droid**: worker
  - **Notes**: keep me
- [!] 1.3 Gamma ⚠️
  - **Droid**: worker
  - **Issue**: waiting on review
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "tasks-term.md").write_text(TASKS, encoding="utf-8")
    droids = tmp_path / ".factory" / "droids"
    droids.mkdir(parents=True)
    (droids / "worker.md").write_text("---\nname: worker\ndescription: Works\n---\nWork.\n")
    return tmp_path


def env_for(project: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "XDG_CONFIG_HOME": str(project / ".no-user-config"), **extra}
    env.pop("TASKDROID_RUNNER", None)
    env["HOME"] = str(project / ".home")
    env.setdefault("TASKDROID_RUN_GRACE", "0.5")
    return env


def argv(task_id: str, *fault_args: str, config: Path | None = None) -> list[str]:
    runner = json.dumps([sys.executable, FAULT, *fault_args, "{prompt}"])
    extra = ["--config", str(config)] if config is not None else []
    return [sys.executable, "-m", "taskdroid", "run", "tasks/tasks-term.md", task_id,
            "--runner", runner, *extra]  # fmt: skip


def start(project: Path, task_id: str, *fault_args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        argv(task_id, *fault_args, config=kw.pop("config", None)),
        cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env_for(project, **kw),
    )  # fmt: skip


def run(project: Path, task_id: str, *fault_args: str, **kw) -> subprocess.CompletedProcess:
    proc = start(project, task_id, *fault_args, **kw)
    try:
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def text_of(project: Path) -> str:
    return (project / "tasks" / "tasks-term.md").read_text(encoding="utf-8")


def block(project: Path, task_id: str) -> str:
    m = re.search(
        rf"^- \[[^\]]*\] {re.escape(task_id)} .*?(?=^- \[|^#|\Z)", text_of(project), re.M | re.S
    )
    assert m, text_of(project)
    return m.group(0)


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rpartition(")")[2].split()[0] in ("Z", "X")
    except OSError:
        return True


def read_pids(path: Path) -> list[int]:
    if not path.exists():
        return []
    return [int(line.split()[1]) for line in path.read_text().splitlines() if line.strip()]


def wait_for(predicate, timeout: float = 20.0, what: str = "a condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


# -- crashes and a garbled file --------------------------------------------------------------------


def test_a_droid_dying_of_sigsegv_exits_1_with_the_signal_in_the_task(project):
    p = run(project, "1.1", "--stderr", "segfault ahead", "--signal", "SIGSEGV")
    assert p.returncode == 1, p.stdout + p.stderr
    assert "killed by signal SIGSEGV: segfault ahead" in p.stdout
    b = block(project, "1.1")
    assert b.startswith("- [!] 1.1 Alpha ⚠️")
    assert "**Error**: killed by signal SIGSEGV: segfault ahead (log: .taskdroid/runs/" in b
    assert re.search(rf"\*\*Attempted\*\*: {STAMP}", b)


def test_a_droid_deleting_its_task_exits_1_and_changes_nothing_else(project):
    p = run(project, "1.2", "--edit", "delete")
    assert p.returncode == 1, p.stdout + p.stderr
    assert "task 1.2 is no longer in tasks/tasks-term.md" in p.stdout
    assert "Traceback" not in p.stderr
    assert text_of(project) == TASKS.replace(
        "- [ ] 1.2 Beta\n  - **Droid**: worker\n  - **Notes**: keep me\n", ""
    )


def test_a_droid_garbling_the_file_is_a_clear_error(project):
    p = run(project, "1.1", "--edit", "binary")
    assert p.returncode == 1, p.stdout + p.stderr
    assert "tasks/tasks-term.md cannot be read any more (not UTF-8 text" in p.stdout
    assert "Traceback" not in p.stderr
    assert (project / "tasks" / "tasks-term.md").read_bytes().startswith(b"\xff\xfe not text")


# -- two terminals ---------------------------------------------------------------------------------


def test_two_terminals_on_two_tasks_of_one_file_both_record(project):
    a = start(project, "1.1", "--hold", "0.2")
    b = start(project, "1.2", "--hold", "0.2", "--exit", "5", "--stderr", "beta broke")
    c = start(project, "1.3", "--hold", "0.2")
    outs = [p.communicate(timeout=60) for p in (a, b, c)]
    assert [a.returncode, b.returncode, c.returncode] == [0, 1, 0], outs
    assert block(project, "1.1").startswith("- [x] 1.1 Alpha ✅")
    b2 = block(project, "1.2")
    assert b2.startswith("- [!] 1.2 Beta ⚠️") and "**Error**: exit code 5: beta broke" in b2
    assert "  - **Notes**: keep me\n" in b2
    b3 = block(project, "1.3")
    assert b3.startswith("- [x] 1.3 Gamma ✅") and "**Issue**: waiting on review" in b3
    assert text_of(project).startswith("# Terminal faults\n\nSome text above the tasks.\n")


def test_the_same_task_from_two_terminals_runs_once(project):
    started = project / "started"
    go = project / "go"
    first = start(project, "1.1", "--started", str(started), "--wait-file", str(go))
    try:
        wait_for(started.exists, what="the first droid")
        second = run(project, "1.1")
        assert second.returncode == 2
        assert "already running in another taskdroid process" in second.stderr
        go.touch()
        out, err = first.communicate(timeout=60)
    finally:
        first.kill()
    assert first.returncode == 0, out + err
    assert block(project, "1.1").startswith("- [x] 1.1 Alpha ✅")


# -- interrupting the command ----------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_exits_130_restores_the_task_and_leaves_no_process(project, sig):
    pids = project / "pids"
    started = project / "started"
    proc = start(
        project, "1.3", "--hang", "--ignore-term", "--children", "1", "--daemon",
        "--pids", str(pids), "--started", str(started),
    )  # fmt: skip
    try:
        wait_for(lambda: started.exists() and len(read_pids(pids)) == 4, what="the droid")
        assert block(project, "1.3").startswith("- [~] 1.3 Gamma 🔄")
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, out + err
    assert "interrupted" in out and "cancelled after" in out
    b = block(project, "1.3")
    assert b.startswith("- [!] 1.3 Gamma ⚠️") and "**Issue**: waiting on review" in b
    assert re.search(rf"\*\*Status\*\*: Run cancelled {STAMP}", b)
    wait_for(lambda: all(gone(p) for p in read_pids(pids)), 10, "the droid's processes to end")
    assert not list((project / ".taskdroid" / "runs").glob("*.lock"))


def test_sigkill_of_the_command_still_ends_the_droid(project):
    """Nothing runs in a process killed with SIGKILL: its guardian process kills the droid's
    group and what left it. The task stays in progress (there was no one to write it back)."""
    pids = project / "pids"
    started = project / "started"
    proc = start(
        project, "1.1", "--hang", "--ignore-term", "--children", "1", "--daemon",
        "--pids", str(pids), "--started", str(started),
    )  # fmt: skip
    try:
        wait_for(lambda: started.exists() and len(read_pids(pids)) == 4, what="the droid")
        everything = read_pids(pids)
        assert not any(gone(p) for p in everything)
        proc.kill()
        proc.communicate(timeout=30)
    finally:
        proc.kill()
    wait_for(lambda: all(gone(p) for p in everything), 10, "the droid's processes to end")
    assert block(project, "1.1").startswith("- [~] 1.1 Alpha 🔄")
    # the lock of the dead command is stale: the task can run again at once
    p = run(project, "1.1")
    assert p.returncode == 0, p.stdout + p.stderr


# -- a flood ---------------------------------------------------------------------------------------


def test_a_flood_is_capped_and_the_command_stays_small(project):
    proc = start(
        project, "1.2", "--say", "first line", "--stdout-mb", str(BIG_OUTPUT_MB),
        "--line-bytes", "200", "--stderr", "the end",
    )  # fmt: skip
    began = time.monotonic()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.monotonic() - began
    out = proc.stdout.read() if proc.stdout else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0, out
    # ru_maxrss: the largest of the command and the droid it waited for, in KiB
    peak_mib = usage.ru_maxrss / 1024
    assert peak_mib < 200, f"peak RSS {peak_mib:.0f} MiB"
    logs = list((project / ".taskdroid" / "runs").glob("tasks-term-1.2-*.log"))
    assert len(logs) == 1
    size = logs[0].stat().st_size
    assert size <= 64 * MIB + 512
    if BIG_OUTPUT_MB > 64:
        assert size > 63 * MIB
    assert block(project, "1.2").startswith("- [x] 1.2 Beta ✅")
    print(f"\n{BIG_OUTPUT_MB:g} MB through `taskdroid run`: {elapsed:.1f} s, peak RSS "
          f"{peak_mib:.0f} MiB, log {size / MIB:.1f} MiB")  # fmt: skip
