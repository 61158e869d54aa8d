"""`taskdroid run FILE TASK_ID` (docs/language.md §9): outcomes and exit codes, refusals, live progress on a
TTY and plain lines otherwise, Ctrl-C, and an injection attempt through a task title."""

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

from taskdroid import cli
from taskdroid.run import TaskLock

FAKE = str(Path(__file__).resolve().parents[1] / "fixtures" / "fake_droid.py")

TASKS = """\
# Auth API tasks

## 1. Auth (HIGH)

- [x] 1.1 Create the register endpoint ✅
  - **Completed**: 2025-01-12 15:20
- [ ] 1.2 Add rate limiting
  - **Droid**: backend-engineer
  - **Dependencies**: 1.1
- [ ] 1.3 Document it
  - **Droid**: backend-engineer
  - **Dependencies**: 1.2
- [ ] 1.4 Nobody's task
  - **Droid**: ghost
"""

STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "tasks-auth.md").write_text(TASKS, encoding="utf-8")
    droids = tmp_path / ".factory" / "droids"
    droids.mkdir(parents=True)
    (droids / "backend-engineer.md").write_text(
        "---\nname: backend-engineer\ndescription: Backend work\n---\nYou build backends.\n"
    )
    return tmp_path


def runner(*fake_args: str) -> str:
    return json.dumps([sys.executable, FAKE, *fake_args, "{prompt}"])


def env_for(project: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "XDG_CONFIG_HOME": str(project / ".no-user-config"), **extra}
    env.pop("TASKDROID_RUNNER", None)
    env["HOME"] = str(project / ".home")
    return env


def run(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """``taskdroid run`` in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "taskdroid", "run", *args],
        cwd=project, capture_output=True, text=True, timeout=60, env=env_for(project, **env),
    )  # fmt: skip


@pytest.fixture
def taskdroid_run(project, monkeypatch, capsys):
    """``taskdroid run`` in this process (fast): (exit status, stdout, stderr)."""
    monkeypatch.chdir(project)
    for key, value in env_for(project, TASKDROID_DEBUG="1").items():
        if os.environ.get(key) != value:
            monkeypatch.setenv(key, value)
    monkeypatch.delenv("TASKDROID_RUNNER", raising=False)

    def call(*args: str, **env: str) -> subprocess.CompletedProcess:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        capsys.readouterr()
        code = cli.main(["run", *args])
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out, err)

    return call


def task(project: Path, task_id: str) -> str:
    text = (project / "tasks" / "tasks-auth.md").read_text(encoding="utf-8")
    m = re.search(rf"^- \[[^\]]*\] {re.escape(task_id)} .*?(?=^- \[|\Z)", text, re.M | re.S)
    assert m, text
    return m.group(0)


def test_completed_with_plain_progress_lines(project):
    p = run(
        project, "tasks/tasks-auth.md", "1.2", "--runner", runner("--lines", "2", "--sleep", "0.25")
    )
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].startswith(
        "running droid backend-engineer on tasks/tasks-auth.md 1.2 “Add rate limiting” (pid "
    )
    assert "; log: .taskdroid/runs/tasks-auth-1.2-" in lines[0]
    assert "[00:00] step 1 of 2" in lines
    assert not any("{" in line for line in lines)  # message texts, never raw JSON
    assert re.fullmatch(
        r"tasks/tasks-auth\.md: completed: exit code 0 after .*; task 1\.2 marked done", lines[-2]
    )
    assert lines[-1].startswith("log: .taskdroid/runs/tasks-auth-1.2-")
    assert "\r" not in p.stdout and "\x1b" not in p.stdout
    block = task(project, "1.2")
    assert block.startswith("- [x] 1.2 Add rate limiting ✅")
    assert re.search(rf"\*\*In Progress\*\*: Started {STAMP}", block)
    assert re.search(rf"\*\*Completed\*\*: {STAMP}", block)


def test_failure_is_blocked_and_exits_1(project, taskdroid_run):
    p = taskdroid_run(
        "tasks/tasks-auth.md", "1.2",
        "--runner", runner("--exit", "4", "--stderr", "fatal: quota exceeded"),
    )  # fmt: skip
    assert p.returncode == 1, p.stderr
    block = task(project, "1.2")
    assert block.startswith("- [!] 1.2 Add rate limiting ⚠️")
    assert "**Error**: exit code 4: fatal: quota exceeded (log: .taskdroid/runs/" in block
    assert re.search(rf"\*\*Attempted\*\*: {STAMP}", block)


def test_timeout_is_blocked(project, taskdroid_run):
    config = project / "user.toml"
    config.write_text("[runner]\ntimeoutSeconds = 1\n")
    p = taskdroid_run(
        "tasks/tasks-auth.md", "1.2", "--config", str(config),
        "--runner", runner("--hold", "30", "--ignore-term"), TASKDROID_RUN_GRACE="0.2",
    )  # fmt: skip
    assert p.returncode == 1, p.stderr
    assert "timed out after 1 s" in p.stdout
    assert "**Error**: timed out after 1 s (runner.timeoutSeconds)" in task(project, "1.2")


def test_droid_that_marks_the_task_itself(project, taskdroid_run):
    p = taskdroid_run(
        "tasks/tasks-auth.md", "1.2", "--runner", runner("--mark", "x", "--exit", "2")
    )
    assert p.returncode == 0, p.stdout + p.stderr  # the task ends completed: the droid said so
    assert "itself" in p.stdout
    assert task(project, "1.2").startswith("- [x] 1.2 Add rate limiting")


def test_refusals_exit_2(project, taskdroid_run):
    target = "tasks/tasks-auth.md"
    # no runner configured: the message says what to set
    p = taskdroid_run(target, "1.2")
    assert p.returncode == 2
    assert "runner.command" in p.stderr and '["claude", "-p", "{prompt}"]' in p.stderr
    assert '["droid", "exec", "--auto", "low", "{prompt}"]' in p.stderr
    # the project file cannot set the runner
    (project / ".taskdroid.toml").write_text(f"[runner]\ncommand = {runner()}\n")
    p = taskdroid_run(target, "1.2")
    assert p.returncode == 2 and "runner.command" in p.stderr
    # dependency not completed, unless --force
    p = taskdroid_run(target, "1.3", "--runner", runner())
    assert p.returncode == 2 and "1.2 (pending)" in p.stderr
    # unknown task / file / droid
    assert taskdroid_run(target, "9.9", "--runner", runner()).returncode == 2
    assert taskdroid_run("tasks/nope.md", "1.2", "--runner", runner()).returncode == 2
    p = taskdroid_run(target, "1.4", "--runner", runner())
    assert p.returncode == 2 and "`ghost`, which is not in the index" in p.stderr
    p = taskdroid_run(target, "1.4", "--droid", "../../bin/sh", "--runner", runner())
    assert p.returncode == 2 and "not a valid droid name" in p.stderr
    assert taskdroid_run(target, "1.2", "--runner", "[unclosed").returncode == 2
    assert task(project, "1.2").startswith("- [ ] 1.2")  # nothing was touched
    # --force and --droid
    assert taskdroid_run(target, "1.3", "--force", "--runner", runner()).returncode == 0
    assert taskdroid_run(target, "1.4", "--droid", "someone", "--runner", runner()).returncode == 0
    assert task(project, "1.4").startswith("- [x] 1.4")


def test_already_running_elsewhere(project, taskdroid_run):
    logs = project / ".taskdroid" / "runs"
    logs.mkdir(parents=True)
    lock = TaskLock.path_for(logs, str(project / "tasks" / "tasks-auth.md"), "1.2")
    holder = {"pid": os.getpid(), "host": os.uname().nodename, "runId": "run-x", "started": "now"}
    lock.write_text(json.dumps(holder))
    p = taskdroid_run("tasks/tasks-auth.md", "1.2", "--runner", runner())
    assert p.returncode == 2 and "already running in another taskdroid process" in p.stderr
    assert task(project, "1.2").startswith("- [ ] 1.2")


def test_ctrl_c_cancels_restores_and_exits_130(project):
    record = project / "droid.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "taskdroid", "run", "tasks/tasks-auth.md", "1.2",
         "--runner", runner("--hold", "30", "--record", str(record))],
        cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env_for(project),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while not record.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert record.exists()
        time.sleep(0.1)
        assert task(project, "1.2").startswith("- [~] 1.2")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted" in out and "cancelled after" in out
    block = task(project, "1.2")
    assert block.startswith("- [ ] 1.2 Add rate limiting\n")
    assert re.search(rf"\*\*Status\*\*: Run cancelled {STAMP}", block)
    droid_pid = json.loads(record.read_text())["pid"]
    with pytest.raises(ProcessLookupError):
        for _ in range(100):
            os.kill(droid_pid, 0)
            if Path(f"/proc/{droid_pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z":
                raise ProcessLookupError
            time.sleep(0.02)


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_live_progress_on_a_tty(project):
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "taskdroid", "run", "tasks/tasks-auth.md", "1.2",
         "--runner", runner("--lines", "3", "--sleep", "0.3")],
        cwd=project, stdin=slave, stdout=slave, stderr=subprocess.PIPE, env=env_for(project),
    )  # fmt: skip
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(timeout=20) == 0
    out = b"".join(chunks).decode("utf-8", "replace")
    assert "\r\x1b[2K[00:00] backend-engineer · 1.2 · step 2 of 3" in out
    assert "completed: exit code 0" in out


def test_injection_through_the_title_creates_no_file(project, taskdroid_run):
    evil = "Rate limit $(touch pwned1) `touch pwned2`; touch pwned3 && touch pwned4 | tee pwned5"
    path = project / "tasks" / "tasks-auth.md"
    path.write_text(TASKS.replace("Add rate limiting", evil), encoding="utf-8")
    record = project / "droid.json"
    template = json.dumps(
        [
            sys.executable,
            FAKE,
            "--record",
            str(record),
            "--title={taskId}; $(touch pwned6)",
            "{prompt}",
        ]
    )
    p = taskdroid_run("tasks/tasks-auth.md", "1.2", "--runner", template)
    assert p.returncode == 0, p.stdout + p.stderr
    argv = json.loads(record.read_text())["argv"]
    assert argv[-1].count(evil) == 1  # the whole prompt is one argument, text as written
    assert argv[-2] == "--title=1.2; $(touch pwned6)"
    assert not list(project.rglob("pwned*"))


@pytest.mark.parametrize("path", ["/usr/bin:/bin:", ".:/usr/bin:/bin"])
def test_a_droid_committed_in_the_workspace_is_not_run(project, path):
    """``PATH`` with an empty entry (or ``.``) searches the current directory — the workspace,
    where a repository can commit a ``droid`` program of its own."""
    trap = project / "droid"
    trap.write_text('#!/bin/sh\ntouch "$(dirname "$0")/TRAPPED"\nexit 0\n')
    trap.chmod(0o755)
    p = run(
        project, "tasks/tasks-auth.md", "1.2", "--runner", json.dumps(["droid", "{prompt}"]),
        PATH=path,
    )  # fmt: skip
    assert p.returncode == 2, p.stdout + p.stderr
    assert "`droid` was not found on PATH" in p.stderr
    assert not (project / "TRAPPED").exists()
    assert task(project, "1.2").startswith("- [ ] 1.2 Add rate limiting\n")


def test_a_title_that_looks_like_an_option_is_refused_with_a_title_first_prompt(
    project, taskdroid_run
):
    path = project / "tasks" / "tasks-auth.md"
    path.write_text(TASKS.replace("Add rate limiting", "--dangerously-skip-permissions"))
    config = project / "user.toml"
    config.write_text('[runner]\nprompt = "{title}: do it"\n')
    started = project / "started"
    p = taskdroid_run(
        "tasks/tasks-auth.md", "1.2", "--config", str(config),
        "--runner", runner("--started", str(started)),
    )  # fmt: skip
    assert p.returncode == 2 and "becomes `--dangerously-skip-permissions: do it`" in p.stderr
    assert not started.exists()
    assert task(project, "1.2").startswith("- [ ] 1.2 --dangerously-skip-permissions\n")
    # with `--` before the prompt the same run goes ahead, the title as text
    template = [sys.executable, FAKE, "--started", str(started), "--", "{prompt}"]
    p = taskdroid_run(
        "tasks/tasks-auth.md", "1.2", "--config", str(config), "--runner", json.dumps(template)
    )
    assert started.exists(), p.stdout + p.stderr
