"""Finding task and droid files (docs/language.md §1) and the workspace root (docs/language.md §10)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from taskdroid.core.discovery import (
    classify_path,
    discover,
    find_root,
    personal_droid_files,
)
from taskdroid.core.settings import Settings

DEFAULTS = Settings()


def touch(root: Path, *relpaths: str) -> None:
    for rel in relpaths:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("x\n", encoding="utf-8")


def rels(root: Path, paths: list[Path]) -> list[str]:
    return [p.relative_to(root).as_posix() for p in paths]


# -- classify_path ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("relpath", "kind"),
    [
        ("tasks/a.md", "task"),
        ("docs/tasks-auth.md", "task"),
        ("TASKS.md", "task"),
        ("specs/001-x/tasks.md", "task"),
        (".kiro/specs/x/tasks.md", "task"),
        (".factory/droids/rev.md", "droid"),
        ("droids/rev.md", "droid"),
        ("pkg/.claude/agents/rev.md", "droid"),
        ("README.md", None),
        ("tasks/notes.txt", None),
        # droid globs are checked first: a droids/ folder below tasks/ holds droids
        ("tasks/droids/a.md", "droid"),
    ],
)
def test_classify_path(relpath: str, kind: str | None) -> None:
    assert classify_path(relpath, DEFAULTS) == kind


def test_classify_path_uses_configured_globs() -> None:
    settings = Settings(taskFiles=["plans/*.md"], droidFiles=["agents/*.md"])
    assert classify_path("plans/a.md", settings) == "task"
    assert classify_path("agents/a.md", settings) == "droid"
    assert classify_path("tasks.md", settings) is None


# -- discover ---------------------------------------------------------------------------------


def test_discover_finds_tasks_and_droids_sorted(tmp_path: Path) -> None:
    touch(
        tmp_path,
        "tasks/b.md",
        "tasks/a.md",
        "tasks/sub/c.md",
        "TASKS.md",
        "docs/tasks-auth.md",
        "README.md",
        ".factory/droids/rev.md",
        ".claude/agents/cc.md",
        "droids/x.md",
        "droids/nested/not-a-droid.md",
    )
    result = discover(tmp_path, DEFAULTS)
    assert rels(tmp_path, result.task_files) == [
        "TASKS.md",
        "docs/tasks-auth.md",
        "tasks/a.md",
        "tasks/b.md",
        "tasks/sub/c.md",
    ]
    assert rels(tmp_path, result.droid_files) == [
        ".claude/agents/cc.md",
        ".factory/droids/rev.md",
        "droids/x.md",
    ]
    assert all(p.is_absolute() for p in result.task_files + result.droid_files)


def test_discover_searches_hidden_folders(tmp_path: Path) -> None:
    touch(tmp_path, ".kiro/specs/feature/tasks.md", ".hidden/tasks/a.md")
    result = discover(tmp_path, DEFAULTS)
    assert rels(tmp_path, result.task_files) == [
        ".hidden/tasks/a.md",
        ".kiro/specs/feature/tasks.md",
    ]


@pytest.mark.parametrize(
    "folder",
    [".git", "node_modules", "__pycache__", ".venv", "venv", ".tox", ".nox", "a/node_modules"],
)
def test_discover_skips_tool_folders(tmp_path: Path, folder: str) -> None:
    touch(tmp_path, f"{folder}/tasks.md", f"{folder}/droids/d.md", "tasks.md")
    result = discover(tmp_path, DEFAULTS)
    assert rels(tmp_path, result.task_files) == ["tasks.md"]
    assert result.droid_files == []


def test_discover_skips_any_virtual_environment(tmp_path: Path) -> None:
    touch(tmp_path, "env311/pyvenv.cfg", "env311/lib/tasks.md", "tasks.md")
    result = discover(tmp_path, DEFAULTS)
    assert rels(tmp_path, result.task_files) == ["tasks.md"]


def test_discover_applies_exclude(tmp_path: Path) -> None:
    touch(
        tmp_path,
        "build/tasks.md",
        "pkg/build/tasks/a.md",
        "docs/old/tasks.md",
        "docs/new/tasks.md",
        "tasks/draft-tasks.md",
        "tasks/keep.md",
    )
    settings = Settings(exclude=["build", "docs/old", "draft-*.md"])
    result = discover(tmp_path, settings)
    assert rels(tmp_path, result.task_files) == ["docs/new/tasks.md", "tasks/keep.md"]


def test_discover_with_custom_globs(tmp_path: Path) -> None:
    touch(tmp_path, "plans/a.md", "plans/b.txt", "tasks.md")
    result = discover(tmp_path, Settings(taskFiles=["plans/*.md"]))
    assert rels(tmp_path, result.task_files) == ["plans/a.md"]


needs_symlinks = pytest.mark.skipif(sys.platform == "win32", reason="symlinks")


@needs_symlinks
def test_discover_survives_symlink_loops(tmp_path: Path) -> None:
    touch(tmp_path, "a/tasks.md")
    (tmp_path / "a" / "loop").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "a" / "self").symlink_to(tmp_path / "a", target_is_directory=True)
    result = discover(tmp_path, DEFAULTS)
    assert rels(tmp_path, result.task_files) == ["a/tasks.md"]


@needs_symlinks
def test_discover_does_not_follow_symlinks_out_of_the_root(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    touch(outside, "tasks.md")
    root = tmp_path / "root"
    touch(root, "tasks/a.md")
    (root / "ext").symlink_to(outside, target_is_directory=True)
    result = discover(root, DEFAULTS)
    assert rels(root, result.task_files) == ["tasks/a.md"]


@needs_symlinks
def test_discover_follows_symlinks_inside_the_root_once(tmp_path: Path) -> None:
    touch(tmp_path, "real/tasks.md", "vendor/stuff/tasks.md")
    (tmp_path / "alias").symlink_to(tmp_path / "real", target_is_directory=True)
    # a folder reachable only through a link (its real place is excluded) is found via the link
    (tmp_path / "linked").symlink_to(tmp_path / "vendor" / "stuff", target_is_directory=True)
    result = discover(tmp_path, Settings(exclude=["vendor"]))
    assert rels(tmp_path, result.task_files) == ["linked/tasks.md", "real/tasks.md"]


@needs_symlinks
def test_discover_lists_symlinked_files_and_ignores_broken_links(tmp_path: Path) -> None:
    touch(tmp_path, "src.md")
    (tmp_path / "tasks.md").symlink_to(tmp_path / "src.md")
    (tmp_path / "TASKS.md").symlink_to(tmp_path / "missing.md")
    result = discover(tmp_path, DEFAULTS)
    assert rels(tmp_path, result.task_files) == ["tasks.md"]


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="permissions do not apply")
def test_discover_skips_unreadable_folders(tmp_path: Path) -> None:
    touch(tmp_path, "locked/tasks.md", "tasks.md")
    locked = tmp_path / "locked"
    locked.chmod(0)
    try:
        result = discover(tmp_path, DEFAULTS)
    finally:
        locked.chmod(0o755)
    assert rels(tmp_path, result.task_files) == ["tasks.md"]


def test_discover_skips_folders_that_cannot_be_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    touch(tmp_path, "locked/tasks.md", "tasks.md")
    real_scandir = os.scandir

    def scandir(path: Any) -> Any:
        if os.fspath(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = discover(tmp_path, DEFAULTS)
    assert rels(tmp_path, result.task_files) == ["tasks.md"]


def test_discover_missing_root_is_empty(tmp_path: Path) -> None:
    result = discover(tmp_path / "nope", DEFAULTS)
    assert result.task_files == [] and result.droid_files == []


def test_discover_is_fast_on_a_large_tree(tmp_path: Path) -> None:
    for d in range(100):
        folder = tmp_path / f"pkg{d}" / "src"
        folder.mkdir(parents=True)
        for f in range(100):
            (folder / f"f{f}.md").write_bytes(b"")
        touch(tmp_path, f"pkg{d}/tasks.md")
    start = time.perf_counter()
    result = discover(tmp_path, DEFAULTS)
    elapsed = time.perf_counter() - start
    assert len(result.task_files) == 100
    assert elapsed < 2.0


def test_discover_deep_tree_has_no_recursion_limit(tmp_path: Path) -> None:
    deep = tmp_path
    for _ in range(60):
        deep = deep / "d"
    touch(deep, "tasks.md")
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(100)
    try:
        result = discover(tmp_path, DEFAULTS)
    finally:
        sys.setrecursionlimit(old)
    assert len(result.task_files) == 1


# -- personal droid folders -----------------------------------------------------------------------


def test_personal_droid_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    touch(home, ".factory/droids/b.md", ".factory/droids/a.md", ".factory/droids/notes.txt")
    touch(home, ".factory/droids/sub/deep.md", "agents/c.md")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("MY_AGENTS", str(home / "agents"))
    settings = Settings(
        droidPaths=["~/.factory/droids", "$MY_AGENTS", "~/missing", "~/.factory/droids"]
    )
    found = personal_droid_files(settings)
    assert [(p.name, folder) for p, folder in found] == [
        ("a.md", str(home / ".factory/droids")),
        ("b.md", str(home / ".factory/droids")),
        ("c.md", str(home / "agents")),
    ]


def test_personal_droid_files_relative_to_root(tmp_path: Path) -> None:
    touch(tmp_path, "shared/x.md")
    found = personal_droid_files(Settings(droidPaths=["shared"]), root=tmp_path)
    assert [p for p, _ in found] == [tmp_path / "shared" / "x.md"]


# -- find_root ----------------------------------------------------------------------------------

#: a home folder that is neither the temporary folder nor below it (the folders above the home
#: folder are never project roots)
ELSEWHERE = Path("/nonexistent-home-for-taskdroid-tests")


@pytest.mark.parametrize("marker", [".taskdroid.toml", ".git", ".factory", ".claude"])
def test_find_root_finds_the_nearest_marker(tmp_path: Path, marker: str) -> None:
    project = tmp_path / "project"
    (project / "a" / "b").mkdir(parents=True)
    if marker.endswith(".toml"):
        (project / marker).write_text("", encoding="utf-8")
    else:
        (project / marker).mkdir()
    assert find_root(project / "a" / "b", home=ELSEWHERE) == project
    assert find_root(project, home=ELSEWHERE) == project


def test_find_root_prefers_the_nearest(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "sub" / ".factory").mkdir(parents=True)
    (tmp_path / "sub" / "x").mkdir()
    assert find_root(tmp_path / "sub" / "x", home=ELSEWHERE) == tmp_path / "sub"


def test_find_root_from_a_file(tmp_path: Path) -> None:
    (tmp_path / ".git").write_text("gitdir: elsewhere\n", encoding="utf-8")  # a worktree
    touch(tmp_path, "docs/tasks.md")
    assert find_root(tmp_path / "docs" / "tasks.md", home=ELSEWHERE) == tmp_path


def _markers_above(path: Path) -> bool:
    markers = (".taskdroid.toml", ".git", ".factory", ".claude")
    return any((p / m).exists() for p in path.parents for m in markers)


def test_find_root_without_markers_is_start(tmp_path: Path) -> None:
    if _markers_above(tmp_path):
        pytest.skip("a folder above the temporary folder holds a root marker")
    start = tmp_path / "a"
    start.mkdir()
    assert find_root(start, home=ELSEWHERE) == start


def test_find_root_ignores_personal_folders_in_home(tmp_path: Path) -> None:
    if _markers_above(tmp_path):
        pytest.skip("a folder above the temporary folder holds a root marker")
    home = tmp_path / "home"
    (home / ".claude").mkdir(parents=True)
    (home / ".factory").mkdir()
    start = home / "scratch"
    start.mkdir()
    assert find_root(start, home=home) == start
    (home / ".git").mkdir()  # a dotfiles repository: not a project either
    (home / ".taskdroid.toml").write_text("", encoding="utf-8")
    assert find_root(start, home=home) == start
    assert find_root(home, home=home) == home  # run from home itself: home, as asked


def test_folder_docs_in_agent_folders_are_not_droids(tmp_path):
    """docs/language.md §A5: README.md / AGENTS.md / CLAUDE.md / index.md (any case) document the
    folder; any other file there is a droid file (and keeps DR001 without front matter)."""
    from taskdroid.core.discovery import classify_path, discover

    for rel in (
        ".claude/agents/README.md",
        ".claude/agents/agents.md",
        ".factory/droids/CLAUDE.md",
        "droids/Index.md",
        ".claude/agents/_Agent.metadata.reference.md",
        ".claude/agents/notes.md",
    ):
        touch(tmp_path, rel)
    found = discover(tmp_path, Settings())
    assert [p.relative_to(tmp_path).as_posix() for p in found.droid_files] == [
        ".claude/agents/notes.md"
    ]
    assert classify_path(".claude/agents/README.md", Settings()) is None
    assert classify_path(".claude/agents/readme-bot.md", Settings()) == "droid"
