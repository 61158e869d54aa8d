"""Lines that another program appends while taskdroid rewrites a task file keep their order
(issue #15; core/fsio.py, "appends kept, in their order").

An appender that opens the file for each line (``echo … >> tasks.md``) may open the old file just
before the swap and write to it just after, while its next line already goes to the new file.
taskdroid carries the late line over — and it must land *before* the later one, not after it.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from taskdroid.core import fsio
from taskdroid.core.writes import write_status

TASKS = "# Tasks\n\n## 1. Work (HIGH)\n\n- [ ] 1.1 First\n- [ ] 1.2 Second\n"
EXCHANGE = fsio._lookup_renameat2() is not None


@pytest.fixture(params=["exchange", "replace"] if EXCHANGE else ["replace"])
def swap(request, monkeypatch) -> str:
    if request.param == "replace":
        monkeypatch.setattr(fsio, "_exchange", lambda a, b: False)
    return request.param


@pytest.fixture
def task_file(tmp_path: Path) -> Path:
    p = tmp_path / "tasks.md"
    p.write_text(TASKS, encoding="utf-8")
    return p


def _numbered(text: str, tag: str = "n") -> list[int]:
    return [int(line.split()[-2]) for line in text.splitlines() if line.startswith(f"<!-- {tag} ")]


def test_a_late_append_to_the_old_file_lands_before_a_later_append(task_file, swap, monkeypatch):
    """Line 1 is written through a descriptor opened before the swap (it reaches the old file),
    line 2 is appended to the path after the swap (the new file): the file ends 1, 2."""
    handle = {}

    def hook(at: str, path: str) -> None:
        if at == "checked":
            handle["fh"] = open(path, "a", encoding="utf-8")  # noqa: SIM115
            return
        handle["fh"].write("<!-- n 1 -->\n")
        handle["fh"].close()
        with open(path, "a", encoding="utf-8") as fh:
            fh.write("<!-- n 2 -->\n")

    monkeypatch.setattr(fsio, "race_hook", hook)
    assert write_status(str(task_file), "1.1", "in_progress")
    text = task_file.read_text(encoding="utf-8")
    assert "- [~] 1.1 First 🔄\n" in text
    assert _numbered(text) == [1, 2]
    assert [p.name for p in task_file.parent.iterdir()] == ["tasks.md"]


def test_late_appends_on_both_sides_of_several_lines_keep_their_order(task_file, swap, monkeypatch):
    """Two late lines to the old file, then three to the new one: 1 2 3 4 5."""
    handle = {}

    def hook(at: str, path: str) -> None:
        if at == "checked":
            handle["fh"] = open(path, "a", encoding="utf-8")  # noqa: SIM115
            return
        handle["fh"].write("<!-- n 1 -->\n")
        handle["fh"].write("<!-- n 2 -->\n")
        handle["fh"].close()
        for i in (3, 4, 5):
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(f"<!-- n {i} -->\n")

    monkeypatch.setattr(fsio, "race_hook", hook)
    assert write_status(str(task_file), "1.2", "completed")
    text = task_file.read_text(encoding="utf-8")
    assert "- [x] 1.2 Second ✅\n" in text
    assert _numbered(text) == [1, 2, 3, 4, 5]


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
def test_statuses_set_over_and_over_while_a_process_appends_numbered_lines(task_file, swap):
    """Stress (bounded: 40 writes): a process appends numbered lines, one open per line, as fast
    as it can; statuses are set over and over meanwhile. Every line is there exactly once, in
    order, and every status write went through."""
    stop = task_file.parent / "stop"
    proc = subprocess.Popen(
        [sys.executable, "-c", APPENDER, str(task_file), str(stop)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        # wait until it is writing (counted, not timed)
        for _ in range(10_000):
            if "<!-- n " in task_file.read_text(encoding="utf-8"):
                break
        statuses = ["in_progress", "completed", "pending", "blocked"]
        written = 0
        for k in range(40):
            if write_status(str(task_file), "1.1", statuses[k % 4], attempts=10):
                written += 1
    finally:
        stop.touch()
        count = int(proc.communicate(timeout=120)[0])
    text = task_file.read_text(encoding="utf-8")
    assert written == 40
    assert _numbered(text) == list(range(count))
    assert "- [!] 1.1 First ⚠️\n" in text  # the last status written
    assert "- [ ] 1.2 Second\n" in text
    assert sorted(p.name for p in task_file.parent.iterdir()) == ["stop", "tasks.md"]
