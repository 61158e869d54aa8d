"""`taskdroid status`, `next` and `graph` from a terminal (docs/language.md §9)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from taskdroid import cli
from taskdroid.core import fsio

TASKS = """\
# Auth API tasks

## 1. Auth (HIGH)

- [x] 1.1 Create the register endpoint ✅
  - **Completed**: 2025-01-12 15:20
- [~] 1.3 Implement token refresh logic 🔄
  - **In Progress**: Started 2025-01-12 15:40
  - **Droid**: backend-engineer
- [ ] 1.4 Add rate limiting
  - **Dependencies**: 1.1

## 2. Later (LOW)

- [ ] 2.1 Document it
  - **Dependencies**: 1.3
"""

STAMP = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".taskdroid.toml").write_text("")
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "tasks-auth.md").write_text(TASKS)
    (tmp_path / "tasks" / "tasks-other.md").write_text(
        "## O\n- [ ] 9.1 Waits for auth\n  - **Dependencies**: tasks-auth.md#1.4\n"
    )
    return tmp_path


def run(project: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "XDG_CONFIG_HOME": str(project / ".no-user-config")}
    env.pop("TASKDROID_RUNNER", None)
    return subprocess.run(
        [sys.executable, "-m", "taskdroid", *args],
        cwd=project, capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip


def task_file(project: Path) -> Path:
    return project / "tasks" / "tasks-auth.md"


# -- status ----------------------------------------------------------------------------------------


def test_status_writes_the_edit_atomically_and_keeps_the_mode(project):
    f = task_file(project)
    f.chmod(0o640)
    inode = f.stat().st_ino
    p = run(project, "status", "tasks/tasks-auth.md", "1.4", "in-progress")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "tasks/tasks-auth.md: 1.4 → in_progress (was pending)\n"
    text = f.read_text()
    assert (
        "- [~] 1.4 Add rate limiting 🔄\n  - **Dependencies**: 1.1\n  - **In Progress**: Started "
        in text
    )
    assert STAMP.search(text.split("1.4 Add rate limiting")[1])
    assert f.stat().st_mode & 0o777 == 0o640
    assert f.stat().st_ino != inode  # replaced, not rewritten in place
    assert sorted(q.name for q in f.parent.iterdir()) == ["tasks-auth.md", "tasks-other.md"]


def test_status_completed_and_blocked_with_note(project):
    p = run(project, "status", "tasks/tasks-auth.md", "1.3", "completed")
    assert (
        p.returncode == 0 and p.stdout == "tasks/tasks-auth.md: 1.3 → completed (was in_progress)\n"
    )
    p = run(
        project, "status", "tasks/tasks-auth.md", "2.1", "blocked", "--note", "waits on 1.3 review"
    )
    assert p.returncode == 0, p.stderr
    text = task_file(project).read_text()
    assert "- [x] 1.3 Implement token refresh logic ✅\n" in text
    assert (
        "- [!] 2.1 Document it ⚠️\n  - **Dependencies**: 1.3\n  - **Issue**: waits on 1.3 review\n"
        in text
    )


def test_status_already_set_changes_nothing(project):
    f = task_file(project)
    before = f.stat()
    p = run(project, "status", "tasks/tasks-auth.md", "1.1", "completed")
    assert p.returncode == 0
    assert "already completed" in p.stdout
    after = f.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("tasks/nope.md", "1.1", "completed"), "taskdroid: tasks/nope.md: no such file\n"),
        (
            ("tasks/tasks-auth.md", "1.33", "completed"),
            "taskdroid: tasks/tasks-auth.md: no task `1.33` in this file — did you mean `1.3`?\n",
        ),
        (
            ("tasks/tasks-auth.md", "1.4", "done"),
            "taskdroid: unknown status `done` (expected pending, in_progress, completed, blocked "
            "or cancelled)\n",
        ),
    ],
)
def test_status_usage_errors_exit_2_and_touch_nothing(project, args, message):
    p = run(project, "status", *args)
    assert p.returncode == 2
    assert p.stderr == message
    assert p.stdout == ""
    assert task_file(project).read_text() == TASKS


def test_status_accepts_every_spelling(project):
    for status in ("pending", "in_progress", "in-progress", "completed", "blocked", "cancelled"):
        p = run(project, "status", "tasks/tasks-auth.md", "2.1", status)
        assert p.returncode == 0, (status, p.stderr)
    assert "- [cancelled] 2.1 Document it\n" in task_file(project).read_text()


def test_status_keeps_crlf_bom_and_missing_final_newline(project):
    f = task_file(project)
    raw = b"\xef\xbb\xbf" + TASKS.rstrip("\n").replace("\n", "\r\n").encode()
    f.write_bytes(raw)
    p = run(project, "status", "tasks/tasks-auth.md", "2.1", "completed")
    assert p.returncode == 0, p.stderr
    out = f.read_bytes()
    assert out.startswith(b"\xef\xbb\xbf")
    assert out.count(b"\n") == out.count(b"\r\n") == raw.count(b"\r\n") + 1
    assert not out.endswith(b"\n")
    assert out.rsplit(b"\r\n", 1)[1].startswith(b"  - **Completed**: ")


def test_status_through_a_symlink_edits_the_target(project):
    link = project / "tasks" / "linked.md"
    link.symlink_to(task_file(project))
    p = run(project, "status", "tasks/linked.md", "2.1", "completed")
    assert p.returncode == 0, p.stderr
    assert link.is_symlink()
    assert "- [x] 2.1 Document it ✅" in task_file(project).read_text()


def test_note_with_a_status_that_does_not_take_one_warns(project):
    p = run(project, "status", "tasks/tasks-auth.md", "2.1", "completed", "--note", "x")
    assert p.returncode == 0
    assert "--note" in p.stderr and "ignored" in p.stderr


def test_status_refuses_when_the_file_changes_before_the_replace(project, monkeypatch, capsys):
    """Another writer (an editor, a droid) saves the file while taskdroid computes its edit."""
    f = task_file(project)
    original = fsio.write_temp
    concurrent = TASKS.replace("- [ ] 1.4", "- [x] 1.4")

    def racing_write_temp(folder, name, data, mode, owner):
        tmp = original(folder, name, data, mode, owner)
        f.write_text(concurrent)  # the other writer wins the race
        return tmp

    monkeypatch.setattr(fsio, "write_temp", racing_write_temp)
    monkeypatch.chdir(project)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(project / ".no-user-config"))
    code = cli.main(["status", "tasks/tasks-auth.md", "2.1", "completed"])
    err = capsys.readouterr().err
    assert code == 1
    assert "changed on disk" in err and "not written" in err
    assert f.read_text() == concurrent  # their change stands, ours is not applied
    assert sorted(q.name for q in f.parent.iterdir()) == ["tasks-auth.md", "tasks-other.md"]


def test_status_refuses_when_only_the_content_changed(project, monkeypatch, capsys):
    """Same size and mtime (a coarse clock), different bytes: the hash catches it."""
    f = task_file(project)
    original = fsio.write_temp

    def racing_write_temp(folder, name, data, mode, owner):
        tmp = original(folder, name, data, mode, owner)
        st = f.stat()
        f.write_text(TASKS.replace("Document it", "Document IT"))
        os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
        return tmp

    monkeypatch.setattr(fsio, "write_temp", racing_write_temp)
    monkeypatch.chdir(project)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(project / ".no-user-config"))
    assert cli.main(["status", "tasks/tasks-auth.md", "2.1", "completed"]) == 1
    assert "Document IT" in f.read_text() and "- [ ] 2.1" in f.read_text()
    capsys.readouterr()


# -- next ------------------------------------------------------------------------------------------


def test_next_json(project):
    p = run(project, "next", "--format", "json")
    assert p.returncode == 0, p.stderr
    got = json.loads(p.stdout)
    assert got == [
        {
            "path": "tasks/tasks-auth.md",
            "line": 10,
            "taskId": "1.4",
            "title": "Add rate limiting",
            "droid": None,
            "priority": "HIGH",
        }
    ]
    run(project, "status", "tasks/tasks-auth.md", "1.4", "completed")
    got = json.loads(run(project, "next", "--format", "json").stdout)
    assert [(d["path"], d["taskId"]) for d in got] == [("tasks/tasks-other.md", "9.1")]


def test_next_text_and_paths(project):
    p = run(project, "next")
    assert p.returncode == 0
    assert p.stdout == "tasks/tasks-auth.md:10: 1.4 Add rate limiting (HIGH)\n"
    p = run(project, "next", "tasks/tasks-other.md")
    assert p.stdout == "no ready tasks\n"
    p = run(project, "next", "nowhere")
    assert p.returncode == 2 and p.stderr == "taskdroid: nowhere: no such file or folder\n"


def test_next_root_option(project, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    p = subprocess.run(
        [sys.executable, "-m", "taskdroid", "next", "--root", str(project), "--format", "json"],
        cwd=elsewhere, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert [d["taskId"] for d in json.loads(p.stdout)] == ["1.4"]


# -- graph -----------------------------------------------------------------------------------------


def test_graph_mermaid_and_dot(project):
    p = run(project, "graph")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("flowchart LR\n")
    assert "    n0_1_1 --> n0_1_4\n" in p.stdout
    assert "    n0_1_4 --> n1_9_1\n" in p.stdout  # across files
    assert '    subgraph f0["tasks/tasks-auth.md"]\n' in p.stdout
    p = run(project, "graph", "--format", "dot", "tasks/tasks-auth.md")
    assert p.returncode == 0, p.stderr
    assert "digraph tasks {" in p.stdout and "    n0_1_3 -> n0_2_1;\n" in p.stdout
    assert "9.1" not in p.stdout  # a dependent outside the selection is not drawn
    p = run(project, "graph", "--format", "svg")
    assert p.returncode == 2
