"""No data loss (issue #7): `taskdroid status` against a file that something else writes at the
same time. Every change of the other writer survives; the status change is either written or
refused with exit status 1 ("not written … run the command again") and nothing of it written.

The races are made deterministic through ``core/fsio.race_hook`` (called right after the last
check and right after the swap); the stress tests then hammer the file from other processes.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from taskdroid import cli
from taskdroid.core import fsio

N_TASKS = 12
TASKS = "# Tasks\n\n## 1. Work (HIGH)\n\n" + "".join(
    f"- [ ] 1.{i} Task number {i} 日本語 🚀\n  - **Droid**: backend-dev\n"
    for i in range(1, N_TASKS + 1)
)
EXCHANGE = fsio._lookup_renameat2() is not None
STAMP = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    (tmp_path / ".taskdroid.toml").write_text("")
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "tasks.md").write_text(TASKS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / ".no-user-config"))
    monkeypatch.delenv("TASKDROID_RUNNER", raising=False)
    return tmp_path


@pytest.fixture(params=["exchange", "replace"] if EXCHANGE else ["replace"])
def swap(request, monkeypatch) -> str:
    """Both ways of swapping the new file in: RENAME_EXCHANGE (Linux) and os.replace."""
    if request.param == "replace":
        monkeypatch.setattr(fsio, "_exchange", lambda a, b: False)
    return request.param


def task_file(project: Path) -> Path:
    return project / "tasks" / "tasks.md"


def status(task: str, value: str = "completed") -> int:
    return cli.main(["status", "tasks/tasks.md", task, value])


def leftovers(project: Path) -> list[str]:
    return sorted(p.name for p in (project / "tasks").iterdir() if p.name != "tasks.md")


def on(stage: str, action):
    """A race hook that runs ``action(path)`` once, at ``stage``."""
    done = []

    def hook(at: str, path: str) -> None:
        if at == stage and not done:
            done.append(at)
            action(path)

    return hook


def append(path, line: str) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line)


# -- deterministic races ----------------------------------------------------------------------------


def test_append_right_before_the_swap_is_kept(project, swap, monkeypatch, capsys):
    """A droid appends a note (``echo … >> tasks.md``) between the check and the swap: its line
    lands in the old file, and is carried over to the new one."""
    monkeypatch.setattr(fsio, "race_hook", on("checked", lambda p: append(p, "- appended\n")))
    assert status("1.3") == 0, capsys.readouterr().err
    text = task_file(project).read_text(encoding="utf-8")
    assert "- [x] 1.3 Task number 3 日本語 🚀 ✅\n" in text
    assert text.endswith("- appended\n") and text.count("- appended") == 1
    assert leftovers(project) == []


def test_append_through_a_descriptor_opened_before_the_swap_is_kept(project, swap, monkeypatch):
    """The writer opened the file before the swap and writes after it (its descriptor points at
    the replaced file): the bytes are carried over."""
    handle = {}

    def opened(path: str) -> None:
        handle["fh"] = open(path, "a", encoding="utf-8")  # noqa: SIM115

    def write(path: str) -> None:
        handle["fh"].write("- late line\n")
        handle["fh"].close()

    def hook(at: str, path: str) -> None:
        (opened if at == "checked" else write)(path)

    monkeypatch.setattr(fsio, "race_hook", hook)
    assert status("1.5") == 0
    text = task_file(project).read_text(encoding="utf-8")
    assert "- [x] 1.5 Task number 5" in text and text.endswith("- late line\n")
    assert leftovers(project) == []


def test_rewrite_right_before_the_swap_wins_and_the_status_is_not_written(
    project, swap, monkeypatch, capsys
):
    """An editor saves in place (truncate + write) between the check and the swap: its version
    stays, the status change is refused (exit 1) and not written."""
    theirs = TASKS.replace("Task number 7", "Task number SEVEN")
    monkeypatch.setattr(
        fsio, "race_hook", on("checked", lambda p: Path(p).write_text(theirs, encoding="utf-8"))
    )
    assert status("1.2") == 1
    err = capsys.readouterr().err
    assert "not written" in err and "changed on disk" in err
    assert task_file(project).read_text(encoding="utf-8") == theirs
    assert leftovers(project) == []


def test_rewrite_through_an_old_descriptor_after_the_swap_wins(project, swap, monkeypatch):
    handle = {}

    def hook(at: str, path: str) -> None:
        if at == "checked":
            handle["fh"] = open(path, "r+", encoding="utf-8")  # noqa: SIM115
        else:
            fh = handle["fh"]
            fh.seek(0)
            fh.write(TASKS.replace("# Tasks", "# TASKS"))
            fh.close()

    monkeypatch.setattr(fsio, "race_hook", hook)
    assert status("1.2") == 1
    assert task_file(project).read_text(encoding="utf-8") == TASKS.replace("# Tasks", "# TASKS")
    assert leftovers(project) == []


def test_old_file_rewritten_and_new_file_appended_after_the_swap(project, swap, monkeypatch):
    """Two other writers in the same moment: one rewrites the old file in place (through a
    descriptor it opened before the swap), one appends to the new file. Their version goes back
    in place, with the appended line carried over; the status change is refused."""
    theirs = TASKS.replace("# Tasks", "# Tasks (theirs)")
    handle = {}

    def hook(at: str, path: str) -> None:
        if at == "checked":
            handle["fh"] = open(path, "r+", encoding="utf-8")  # noqa: SIM115
            return
        fh = handle["fh"]
        fh.seek(0)
        fh.write(theirs)
        fh.close()
        append(path, "- appended to the new file\n")

    monkeypatch.setattr(fsio, "race_hook", hook)
    assert status("1.6") == 1
    assert task_file(project).read_text(encoding="utf-8") == theirs + "- appended to the new file\n"
    assert leftovers(project) == []


def test_both_versions_rewritten_after_the_swap_are_both_kept(project, swap, monkeypatch, capsys):
    """The old file and the new one both rewritten in place in the same moment: neither can go
    back without losing the other, so one stays at the path and the other is kept next to it as
    a conflict copy, named in the message."""
    first = TASKS.replace("# Tasks", "# Tasks (first)")
    second = TASKS.replace("# Tasks", "# Tasks (second)")
    handle = {}

    def hook(at: str, path: str) -> None:
        if at == "checked":
            handle["fh"] = open(path, "r+", encoding="utf-8")  # noqa: SIM115
            return
        fh = handle["fh"]
        fh.seek(0)
        fh.write(first)
        fh.close()
        Path(path).write_text(second, encoding="utf-8")  # in place, into our new file

    monkeypatch.setattr(fsio, "race_hook", hook)
    assert status("1.6") == 1
    err = capsys.readouterr().err
    copies = leftovers(project)
    assert len(copies) == 1 and ".taskdroid-conflict-" in copies[0] and copies[0] in err
    texts = {
        task_file(project).read_text(encoding="utf-8"),
        (project / "tasks" / copies[0]).read_text(encoding="utf-8"),
    }
    assert texts == {first, second}


@pytest.mark.skipif(not EXCHANGE, reason="needs renameat2(RENAME_EXCHANGE)")
def test_another_program_renaming_its_version_over_the_file_wins(project, monkeypatch):
    """An editor's atomic save (write a temporary file, rename it over the path) between the
    check and the swap: with RENAME_EXCHANGE taskdroid sees that it displaced a file it never
    read, and puts it back."""
    theirs = TASKS + "- [ ] 2.1 Added by the editor\n"

    def save(path: str) -> None:
        tmp = Path(path).with_name("editor-save.tmp")
        tmp.write_text(theirs, encoding="utf-8")
        os.replace(tmp, path)

    monkeypatch.setattr(fsio, "race_hook", on("checked", save))
    assert status("1.1") == 1
    assert task_file(project).read_text(encoding="utf-8") == theirs
    assert leftovers(project) == []


@pytest.mark.parametrize("kind", ["append", "rewrite"])
def test_a_change_after_the_read_is_checked_before_the_swap(project, kind, monkeypatch, capsys):
    """The file changes after taskdroid read it (here: while it writes its temporary file). Bytes
    appended are kept after the edit; any other change refuses the edit, nothing swapped."""
    original = fsio.write_temp

    def racing(folder, name, data, mode, owner):
        tmp = original(folder, name, data, mode, owner)
        if kind == "append":
            append(task_file(project), "- written meanwhile\n")
        else:
            task_file(project).write_text(TASKS.replace("# Tasks", "# Plan"), encoding="utf-8")
        return tmp

    monkeypatch.setattr(fsio, "write_temp", racing)
    text = task_file(project).read_text
    if kind == "append":
        assert status("1.4") == 0
        assert text(encoding="utf-8").endswith("\n- written meanwhile\n")
        assert "- [x] 1.4 Task number 4" in text(encoding="utf-8")
    else:
        assert status("1.4") == 1
        assert text(encoding="utf-8") == TASKS.replace("# Tasks", "# Plan")
    assert leftovers(project) == []
    capsys.readouterr()


def test_another_taskdroid_holding_the_lock_is_waited_for_then_refused(project, monkeypatch):
    """taskdroid writers take an advisory lock on the file for the check and the swap; one that
    cannot get it within LOCK_TIMEOUT refuses."""
    fcntl = pytest.importorskip("fcntl")
    monkeypatch.setattr(fsio, "LOCK_TIMEOUT", 0.2)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent("""
            import fcntl, sys, time
            fh = open(sys.argv[1], "rb")
            fcntl.flock(fh, fcntl.LOCK_EX)
            print("locked", flush=True)
            time.sleep(30)
        """),
            str(task_file(project)),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        assert status("1.1") == 1
        assert time.monotonic() - started >= 0.2
        assert task_file(project).read_text(encoding="utf-8") == TASKS
    finally:
        holder.kill()
        holder.wait()
    assert status("1.1") == 0  # free again
    assert fcntl is not None


# -- stress: other processes hammering the file ------------------------------------------------------

APPENDER = textwrap.dedent("""
    import os, sys, time
    path, tag, stop = sys.argv[1], sys.argv[2], sys.argv[3]
    i = 0
    while not os.path.exists(stop) or i < 200:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"<!-- {tag} line {i} -->\\n")
        i += 1
        time.sleep(0.0005)
    print(i, flush=True)
""")


#: `taskdroid` with the race windows widened (see _widen)
WIDENED_CLI = textwrap.dedent("""
    import sys, time
    from taskdroid.core import fsio
    fsio.race_hook = lambda at, path: time.sleep(0.01)
    from taskdroid.cli import main
    sys.exit(main(sys.argv[1:]))
""")


class Appenders:
    """Processes appending numbered lines to ``path`` until stopped (at least 200 each)."""

    def __init__(self, path: Path, n: int = 2) -> None:
        self.path = path
        self.stop = path.parent.parent / "stop-appending"
        self.procs = [
            subprocess.Popen(
                [sys.executable, "-c", APPENDER, str(path), f"w{k}", str(self.stop)],
                stdout=subprocess.PIPE,
                text=True,
            )
            for k in range(n)
        ]
        time.sleep(0.2)  # running

    def finish(self) -> list[int]:
        """Stop them; the number of lines each wrote."""
        self.stop.touch()
        return [int(p.communicate(timeout=120)[0]) for p in self.procs]


def _check_final(path: Path, counts: list[int], results: dict[str, int]) -> None:
    text = path.read_text(encoding="utf-8")
    for k, count in enumerate(counts):  # every appended line, exactly once
        for i in range(count):
            assert text.count(f"<!-- w{k} line {i} -->\n") == 1, (k, i)
    assert text.count("<!-- w") == sum(counts)
    for i in range(1, N_TASKS + 1):
        done = f"- [x] 1.{i} Task number {i} 日本語 🚀 ✅\n  - **Droid**: backend-dev\n  - **Completed**: "
        pending = f"- [ ] 1.{i} Task number {i} 日本語 🚀\n  - **Droid**: backend-dev\n"
        code = results.get(f"1.{i}")
        if code == 0:
            assert done in text, i
        else:  # refused (1) or not tried: nothing written
            assert code in (1, None), (i, code)
            assert pending in text, i
    assert text.count("**Completed**") == sum(1 for c in results.values() if c == 0)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no stray file


def _widen(at: str, path: str) -> None:
    """Widen the race windows (after the check, after the swap) so that the appenders surely
    write into them: the test then fails if any appended byte were dropped."""
    time.sleep(0.01)


def test_status_in_process_while_other_processes_append(project, swap, monkeypatch):
    """`taskdroid status` over and over while two processes append lines as fast as they can."""
    monkeypatch.setattr(fsio, "race_hook", _widen)
    path = task_file(project)
    appenders = Appenders(path)
    results: dict[str, int] = {}
    try:
        for i in range(1, N_TASKS + 1):
            results[f"1.{i}"] = status(f"1.{i}")
    finally:
        counts = appenders.finish()
    _check_final(path, counts, results)
    assert sum(1 for c in results.values() if c == 0) >= 1  # not everything refused


def test_concurrent_cli_processes_and_appenders(project):
    """Several `taskdroid status` processes at once (each on its own task) and two appenders: the
    lock orders the taskdroid writers, the check refuses the ones that read a stale version,
    and no line and no written status change is lost."""
    path = task_file(project)
    env = {**os.environ, "XDG_CONFIG_HOME": str(project / ".no-user-config")}
    env.pop("TASKDROID_RUNNER", None)
    appenders = Appenders(path)
    clis = {
        f"1.{i}": subprocess.Popen(
            [sys.executable, "-c", WIDENED_CLI, "status", "tasks/tasks.md", f"1.{i}", "completed"],
            cwd=project,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(1, N_TASKS + 1)
    }
    results = {}
    for task, p in clis.items():
        _out, err = p.communicate(timeout=120)
        results[task] = p.returncode
        assert p.returncode in (0, 1), err
        if p.returncode == 1:
            assert "not written" in err and "run the command again" in err
    _check_final(path, appenders.finish(), results)
