"""Project roots (docs/language.md §10): the nearest folder with a marker, never ``/`` nor the
home folder nor a folder above it; the loose folder around a file in no project."""

from __future__ import annotations

from pathlib import Path

import pytest

from taskdroid.core.roots import is_broad, loose_root, marker_root


def _markers_above(path: Path) -> bool:
    markers = (".taskdroid.toml", ".git", ".factory", ".claude")
    return any((p / m).exists() for p in path.parents for m in markers)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    if _markers_above(tmp_path):
        pytest.skip("a folder above the temporary folder holds a root marker")
    h = tmp_path / "home"
    (h / ".claude").mkdir(parents=True)
    (h / ".factory").mkdir()
    (h / ".git").mkdir()
    return h


def test_broad_folders(home: Path) -> None:
    assert is_broad("/", home)
    assert is_broad(home, home)
    assert is_broad(home.parent, home)  # above the home folder (/home, /Users)
    assert not is_broad(home / "src", home)
    assert not is_broad(home.parent / "elsewhere", home)


def test_markers_in_home_never_make_it_a_project(home: Path) -> None:
    notes = home / "notes" / "deep"
    notes.mkdir(parents=True)
    assert marker_root(notes, home) is None
    assert marker_root(home, home) is None


def test_the_nearest_marker_below_home_wins(home: Path) -> None:
    proj = home / "src" / "proj"
    (proj / ".git").mkdir(parents=True)
    (proj / "pkg" / ".factory").mkdir(parents=True)
    (proj / "pkg" / "tasks").mkdir()
    (proj / "docs").mkdir()
    assert marker_root(proj / "docs", home) == str(proj)
    assert marker_root(proj / "pkg" / "tasks", home) == str(proj / "pkg")
    assert marker_root(proj, home) == str(proj)


def test_a_git_file_is_a_marker(home: Path) -> None:
    wt = home / "wt"
    wt.mkdir()
    (wt / ".git").write_text("gitdir: elsewhere\n", encoding="utf-8")  # a worktree
    assert marker_root(wt, home) == str(wt)


def test_loose_root_is_the_folder_above_a_tasks_folder(home: Path) -> None:
    assert loose_root(home / "notes" / "tasks" / "t.md", home) == str(home / "notes")
    assert loose_root(home / "notes" / "tasks" / "sub" / "t.md", home) == str(home / "notes")
    assert loose_root(home / "notes" / "plan.md", home) == str(home / "notes")
    # a tasks folder right in the home folder: the home folder is never walked, tasks/ is
    assert loose_root(home / "tasks" / "t.md", home) == str(home / "tasks")
    assert loose_root(home / "todo.md", home) is None
    assert loose_root("/todo.md", home) is None
