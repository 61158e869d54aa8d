"""``taskdroid check --fix`` and ``--diff`` (docs/language.md §14): the unambiguous quick fixes written file
by file as ``taskdroid status`` writes, or printed as a unified diff; the report and the exit
status follow what remains."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from taskdroid import cli
from taskdroid.core import fsio

TASKS = (
    "# Tasks\n"
    "\n"
    "- [X] 1.1 Café ✅\n"  # TD005
    "- [v] 1.2 Ship 日本語\n"  # TD001, one candidate
    "- [x] 1.3 Both 🔄\n"  # TD021
    "  - **Dependancies**: 1.1\n"  # TD040
    "- [ ] 1.4 Lost\n"
    "- **Droid**: reviewer\n"  # TD041
    "- [ ] 1.1 Dup\n"  # TD003: never applied
)
TASKS_FIXED = (
    "# Tasks\n"
    "\n"
    "- [x] 1.1 Café ✅\n"
    "- [x] 1.2 Ship 日本語\n"
    "- [x] 1.3 Both ✅\n"
    "  - **Dependencies**: 1.1\n"
    "- [ ] 1.4 Lost\n"
    "  - **Droid**: reviewer\n"
    "- [ ] 1.1 Dup\n"
)
DROID = (
    "---\n"
    "name: reviewer\n"
    "description: Use it: for reviews\n"  # DR002 (warning), quote
    "tools: [Read, Grpe, Read]\n"  # DR005, DR012
    "modle: inherit\n"  # DR008
    "---\n"
    "\n"
    "You review code.\n"
)
DROID_FIXED = (
    "---\n"
    "name: reviewer\n"
    'description: "Use it: for reviews"\n'
    "tools: [Read, Grep]\n"
    "model: inherit\n"
    "---\n"
    "\n"
    "You review code.\n"
)
ONLY_FIXABLE_ERROR = "# Tasks\n\n- [v] 1.1 Done\n"  # TD001 (an error) with one candidate


@pytest.fixture
def env(tmp_path_factory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("home")
    e = dict(os.environ)
    e.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), PYTHONIOENCODING="utf-8")
    e.pop("TASKDROID_RUNNER", None)
    return e


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    root = tmp_path / "proj"
    (root / ".git").mkdir(parents=True)
    (root / "tasks").mkdir()
    (root / ".factory" / "droids").mkdir(parents=True)
    (root / "tasks" / "tasks.md").write_bytes(TASKS.encode())
    (root / ".factory" / "droids" / "reviewer.md").write_bytes(DROID.encode())
    monkeypatch.chdir(root)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / ".config"))
    monkeypatch.delenv("TASKDROID_RUNNER", raising=False)
    return root


def run(args: list[str], cwd: Path, env: dict[str, str]):
    proc = subprocess.run(
        [sys.executable, "-m", "taskdroid", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        timeout=300,
    )
    return proc.returncode, proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")


def read(p: Path) -> str:
    return p.read_bytes().decode("utf-8")


# -- --fix -----------------------------------------------------------------------------------------


def test_fix_writes_the_unambiguous_fixes_and_reports_what_remains(project, env):
    tasks = project / "tasks" / "tasks.md"
    droid = project / ".factory" / "droids" / "reviewer.md"
    code, out, err = run(["check", "--fix", "--format", "json"], project, env)
    assert read(tasks) == TASKS_FIXED
    assert read(droid) == DROID_FIXED
    remaining = json.loads(out)
    assert [(d["path"], d["code"]) for d in remaining] == [("tasks/tasks.md", "TD003")]
    assert code == 1  # TD003 is an error, and it stays
    assert "fixed 9 problems in 2 files" in err
    assert "Traceback" not in err


def test_fix_of_named_files_only(project, env):
    tasks = project / "tasks" / "tasks.md"
    droid = project / ".factory" / "droids" / "reviewer.md"
    code, _out, err = run(["check", "--fix", ".factory/droids/reviewer.md"], project, env)
    assert code == 0, err
    assert read(droid) == DROID_FIXED
    assert read(tasks) == TASKS  # not named: untouched


def test_exit_status_follows_what_remains(tmp_path, env):
    root = tmp_path / "p"
    (root / ".git").mkdir(parents=True)
    f = root / "tasks.md"
    f.write_text(ONLY_FIXABLE_ERROR, encoding="utf-8")
    assert run(["check", "tasks.md"], root, env)[0] == 1
    code, out, err = run(["check", "--diff", "tasks.md"], root, env)
    assert code == 0, err  # would remain: nothing
    assert read(f) == ONLY_FIXABLE_ERROR
    code, out, err = run(["check", "--fix", "tasks.md"], root, env)
    assert (code, out) == (0, "")
    assert read(f) == "# Tasks\n\n- [x] 1.1 Done\n"


def test_fix_twice_changes_nothing_the_second_time(project, env):
    tasks = project / "tasks" / "tasks.md"
    run(["check", "--fix"], project, env)
    once = read(tasks)
    inode = tasks.stat().st_ino
    mtime = tasks.stat().st_mtime_ns
    code, out, err = run(["check", "--fix"], project, env)
    assert read(tasks) == once
    assert (tasks.stat().st_ino, tasks.stat().st_mtime_ns) == (inode, mtime)  # not rewritten
    assert "fixed" not in err
    assert "TD003" in out and code == 1


def test_fix_keeps_crlf_a_bom_and_a_missing_final_newline(project, env):
    tasks = project / "tasks" / "tasks.md"
    data = b"\xef\xbb\xbf" + TASKS.rstrip("\n").replace("\n", "\r\n").encode()
    tasks.write_bytes(data)
    run(["check", "--fix", "tasks/tasks.md"], project, env)
    assert tasks.read_bytes() == (
        b"\xef\xbb\xbf" + TASKS_FIXED.rstrip("\n").replace("\n", "\r\n").encode()
    )


def test_fix_keeps_the_mode_and_a_symlink(project, env):
    tasks = project / "tasks" / "tasks.md"
    tasks.chmod(0o640)
    link = project / "tasks" / "linked-tasks.md"
    real = project / "elsewhere.md"
    real.write_text(TASKS, encoding="utf-8")
    link.symlink_to(real)
    run(["check", "--fix", "tasks/tasks.md", "tasks/linked-tasks.md"], project, env)
    assert tasks.stat().st_mode & 0o777 == 0o640
    assert link.is_symlink() and read(real) == TASKS_FIXED


# -- --diff ----------------------------------------------------------------------------------------


def test_diff_prints_a_unified_diff_and_writes_nothing(project, env):
    tasks = project / "tasks" / "tasks.md"
    droid = project / ".factory" / "droids" / "reviewer.md"
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (tasks, droid)}
    for args in (["check", "--diff"], ["check", "--fix", "--diff"]):
        code, out, err = run(args, project, env)
        assert code == 1  # TD003 would remain
        assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in before} == before
        assert out.startswith("--- a/.factory/droids/reviewer.md\n+++ b/.factory/droids/reviewer.md\n")
        assert "\n--- a/tasks/tasks.md\n+++ b/tasks/tasks.md\n" in out
        assert "-- [X] 1.1 Café ✅\n" in out and "+- [x] 1.1 Café ✅\n" in out
        assert "+  - **Droid**: reviewer\n" in out
        assert "TD003" not in out  # stdout is the diff alone
        assert "would fix 9 problems in 2 files" in err


def test_the_diff_applies_with_patch(project, env):
    if shutil.which("patch") is None:
        pytest.skip("no patch(1)")
    tasks = project / "tasks" / "tasks.md"
    tasks.write_bytes(TASKS.replace("\n", "\r\n").encode())
    _code, out, _err = run(["check", "--diff"], project, env)
    (project / "fix.diff").write_bytes(out.encode())
    subprocess.run(["patch", "-p1", "-i", "fix.diff"], cwd=project, check=True, capture_output=True)
    assert tasks.read_bytes() == TASKS_FIXED.replace("\n", "\r\n").encode()
    assert read(project / ".factory" / "droids" / "reviewer.md") == DROID_FIXED


def test_nothing_to_fix_prints_no_diff(tmp_path, env):
    root = tmp_path / "p"
    (root / ".git").mkdir(parents=True)
    (root / "tasks.md").write_text("# Tasks\n\n- [ ] 1.1 A\n", encoding="utf-8")
    assert run(["check", "--diff", "tasks.md"], root, env) == (0, "", "")
    assert run(["check", "--fix", "tasks.md"], root, env) == (0, "", "")


# -- writes refused, as `taskdroid status` refuses them (in process) -------------------------------


def test_a_file_changed_meanwhile_is_not_written(project, monkeypatch, capsys):
    """Another program rewrites the file between the read and the swap: its version stays, the
    fix is refused with the message of `taskdroid status`, exit 1; the others are written."""
    tasks = project / "tasks" / "tasks.md"
    droid = project / ".factory" / "droids" / "reviewer.md"
    theirs = TASKS.replace("Lost", "Found")

    def hook(stage: str, path: str) -> None:
        if stage == "checked" and path.endswith("tasks.md"):
            Path(path).write_text(theirs, encoding="utf-8")

    monkeypatch.setattr(fsio, "race_hook", on_first(hook))
    assert cli.main(["check", "--fix", "--no-personal"]) == 1
    err = capsys.readouterr().err
    assert "tasks/tasks.md: not written — " in err and "changed on disk" in err
    assert "run the command again" in err
    assert read(tasks) == theirs
    assert read(droid) == DROID_FIXED
    assert sorted(p.name for p in tasks.parent.iterdir()) == ["tasks.md"]  # no temporary left


def test_status_refuses_the_same_way(project, monkeypatch, capsys):
    """(The reference: what `taskdroid status` does with a file changed meanwhile.)"""
    tasks = project / "tasks" / "tasks.md"

    def hook(stage: str, path: str) -> None:
        if stage == "checked":
            Path(path).write_text("theirs\n", encoding="utf-8")

    monkeypatch.setattr(fsio, "race_hook", on_first(hook))
    assert cli.main(["status", "tasks/tasks.md", "1.4", "completed"]) == 1
    assert "tasks/tasks.md: not written — " in capsys.readouterr().err
    assert read(tasks) == "theirs\n"


def test_an_unwritable_folder_exits_2_with_one_line(project, monkeypatch, capsys):
    def refuse(*_args, **_kw):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(fsio, "write_temp", refuse)
    assert cli.main(["check", "--fix", "--no-personal", "tasks/tasks.md"]) == 2
    err = capsys.readouterr().err
    assert "taskdroid: tasks/tasks.md: cannot write: Permission denied\n" in err
    assert read(project / "tasks" / "tasks.md") == TASKS


def test_a_read_only_file_is_not_fixed(project, capsys):
    """A read-only task file stays as it is, as with `taskdroid status` (whose --force is the
    only way to write one): reported, exit 2, and the report shows what the file still has."""
    tasks = project / "tasks" / "tasks.md"
    tasks.chmod(0o444)
    try:
        assert cli.main(["check", "--fix", "--no-personal", "tasks/tasks.md"]) == 2
        err = capsys.readouterr().err
        assert "tasks/tasks.md: not fixed — the file is read-only" in err
        assert read(tasks) == TASKS
    finally:
        tasks.chmod(0o644)


def test_unreadable_and_missing_paths(project, capsys):
    (project / "tasks" / "bin.md").write_bytes(b"\x00\x01")
    assert cli.main(["check", "--fix", "--no-personal", "tasks/bin.md", "nope.md"]) == 2
    err = capsys.readouterr().err
    assert "nope.md: no such file or folder" in err and "tasks/bin.md" in err
    assert "Traceback" not in err


def on_first(hook):
    """Call ``hook`` once (the first time it applies), then never again."""
    done = []

    def wrapped(stage: str, path: str) -> None:
        if done:
            return
        before = Path(path).read_bytes() if os.path.exists(path) else None
        hook(stage, path)
        if os.path.exists(path) and Path(path).read_bytes() != before:
            done.append(True)

    return wrapped
