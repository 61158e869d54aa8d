"""Glob matching (docs/language.md §1 patterns, exclude semantics)."""

from __future__ import annotations

import pytest

from taskdroid.core.globs import compile_glob, is_excluded, matches_any, normalize_relpath
from taskdroid.core.settings import DEFAULT_DROID_FILES, DEFAULT_TASK_FILES


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        # ** matches zero or more folders
        ("**/tasks/**/*.md", "tasks/a.md", True),
        ("**/tasks/**/*.md", "x/tasks/b/c.md", True),
        ("**/tasks/**/*.md", "x/y/tasks/a.md", True),
        ("**/tasks/**/*.md", "tasks.md", False),
        ("**/tasks/**/*.md", "mytasks/a.md", False),
        ("**/tasks/**/*.md", "tasks/a.mdx", False),
        ("**/tasks/**/*.md", "tasks/a.md/b", False),
        ("**/tasks-*.md", "tasks-auth.md", True),
        ("**/tasks-*.md", "docs/tasks-auth.md", True),
        ("**/tasks-*.md", "tasks-/x.md", False),
        ("**/TASKS.md", "TASKS.md", True),
        ("**/TASKS.md", "tasks.md", False),  # case-sensitive
        ("**/tasks.md", "TASKS.md", False),
        # hidden folders match normally
        ("**/.factory/droids/*.md", ".factory/droids/a.md", True),
        ("**/.factory/droids/*.md", "sub/.factory/droids/a.md", True),
        ("**/.factory/droids/*.md", ".factory/droids/x/a.md", False),
        ("**/.claude/agents/*.md", "pkg/.claude/agents/rev.md", True),
        ("**/tasks/**/*.md", ".kiro/specs/tasks/a.md", True),
        ("**/*.md", ".hidden/.x.md", True),
        # * and ? never cross /
        ("docs/*.md", "docs/a.md", True),
        ("docs/*.md", "docs/a/b.md", False),
        ("docs/?.md", "docs/a.md", True),
        ("docs/?.md", "docs/ab.md", False),
        ("a?b", "a/b", False),
        ("a*b", "a/b", False),
        # classes
        ("docs/[abc].md", "docs/b.md", True),
        ("docs/[abc].md", "docs/d.md", False),
        ("docs/[a-c].md", "docs/b.md", True),
        ("docs/[!a-c].md", "docs/d.md", True),
        ("docs/[!a-c].md", "docs/a.md", False),
        ("docs/[^a].md", "docs/b.md", True),
        ("x[+-0]y", "x/y", False),  # a range spanning / still never matches it
        ("x[+-0]y", "x,y", True),
        ("docs/[.md", "docs/[.md", True),  # an unclosed [ is literal
        # braces and escapes
        ("{docs,notes}/*.md", "notes/a.md", True),
        ("{docs,notes}/*.md", "other/a.md", False),
        ("a/{b,c/{d,e}}.md", "a/c/e.md", True),
        ("a\\*.md", "a*.md", True),
        ("a\\*.md", "ab.md", False),
        # a bare name matches at any depth; anchored forms do not
        ("build", "build", True),
        ("build", "a/b/build", True),
        ("build", "rebuild", False),
        ("*.tmp", "a/b/x.tmp", True),
        ("/build", "build", True),
        ("/build", "a/build", False),
        ("./docs/*.md", "docs/a.md", True),
        # a trailing /** matches everything below
        ("out/**", "out/a/b.md", True),
        ("out/**", "out", False),
        ("**", "anything/at/all", True),
    ],
)
def test_glob_matches(pattern: str, path: str, expected: bool) -> None:
    assert matches_any(path, [pattern]) is expected
    assert (compile_glob(pattern).match(normalize_relpath(path)) is not None) is expected


def test_compile_glob_is_cached_and_anchored() -> None:
    assert compile_glob("**/tasks.md") is compile_glob("**/tasks.md")
    assert compile_glob("docs/*.md").match("docs/a.md.bak") is None
    assert compile_glob("docs/*.md").match("x/docs/a.md") is None


def test_matches_any_with_the_default_globs() -> None:
    assert matches_any("specs/001/tasks.md", DEFAULT_TASK_FILES)
    assert matches_any("tasks/sub/x.md", DEFAULT_TASK_FILES)
    assert matches_any("droids/a.md", DEFAULT_DROID_FILES)
    assert not matches_any("README.md", DEFAULT_TASK_FILES + DEFAULT_DROID_FILES)
    assert not matches_any("a.md", [])


def test_normalize_relpath() -> None:
    assert normalize_relpath("./a//b/") == "a/b"
    assert normalize_relpath("a/./b") == "a/b"


def test_is_excluded_covers_everything_under_a_matched_folder() -> None:
    assert is_excluded("build/tasks/a.md", ["build"])
    assert is_excluded("pkg/build/tasks/a.md", ["build"])
    assert is_excluded("docs/old/tasks.md", ["docs/old"])
    assert is_excluded("x/a.tmp", ["*.tmp"])
    assert not is_excluded("docs/new/tasks.md", ["docs/old"])
    assert not is_excluded("rebuild/tasks.md", ["build"])
    assert not is_excluded("a.md", [])
