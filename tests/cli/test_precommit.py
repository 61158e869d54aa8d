"""The shipped pre-commit hook, run by the real `pre-commit` tool on a throwaway repository that
installs it from this repository (a `file://` repo at a commit), as a user would."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
HOOKS = REPO / ".pre-commit-hooks.yaml"


def _hook() -> dict:
    (hook,) = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    return hook


def test_hook_definition_matches_spec_patterns():
    hook = _hook()
    assert hook["id"] == "taskdroid-check"
    assert hook["entry"] == "taskdroid check" and hook["language"] == "python"
    files = re.compile(hook["files"])
    matched = [
        "tasks.md", "docs/tasks.md", "TASKS.md", "tasks/x.md", "a/tasks/b/c.md",
        "tasks-auth.md", "p/tasks-db.md", ".factory/droids/a.md", "x/droids/b.md",
        ".claude/agents/r.md", ".kiro/specs/feat/tasks.md", "specs/001-x/tasks.md",
    ]  # fmt: skip
    unmatched = [
        "README.md", "mytasks.md", "tasks.txt", ".claude/agents/sub/r.md", "droids/a/b.md",
        "docs/notes.md", "tasks-auth.mdx",
    ]  # fmt: skip
    assert [p for p in matched if not files.search(p)] == []
    assert [p for p in unmatched if files.search(p)] == []


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.mark.slow
def test_pre_commit_installs_and_runs_the_hook(tmp_path):
    pre_commit = shutil.which("pre-commit") or str(Path(sys.executable).parent / "pre-commit")
    if not Path(pre_commit).exists():
        pytest.skip("pre-commit is not installed (pip install -e '.[test]')")
    if _git(REPO, "ls-files", ".pre-commit-hooks.yaml") == "":
        pytest.skip(".pre-commit-hooks.yaml is not committed yet")
    rev = _git(REPO, "rev-parse", "HEAD")
    work = tmp_path / "proj"
    work.mkdir()
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "cache"),
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
    }  # fmt: skip
    _git(work, "init", "-q")
    (work / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {REPO.as_uri()}\n    rev: {rev}\n"
        "    hooks:\n      - id: taskdroid-check\n",
        encoding="utf-8",
    )
    (work / "tasks.md").write_text("# T\n- [x] 1.1 Done\n- [ ] 1.2 Next\n", encoding="utf-8")
    (work / "notes.md").write_text("- [/] not a task file, not checked\n", encoding="utf-8")
    _git(work, "add", "-A")

    def run() -> subprocess.CompletedProcess:
        return subprocess.run(
            [pre_commit, "run", "--all-files"],
            cwd=work, env=env, capture_output=True, text=True, timeout=900,
        )  # fmt: skip

    ok = run()
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "taskdroid check" in ok.stdout and "Passed" in ok.stdout
    # near miss: a broken marker in a task file fails the hook, with the code and the file
    (work / "tasks.md").write_text("# T\n- [/] 1.1 Broken\n", encoding="utf-8")
    _git(work, "add", "-A")
    bad = run()
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "Failed" in bad.stdout and "TD001" in bad.stdout and "tasks.md" in bad.stdout
    assert "notes.md" not in bad.stdout  # files outside the patterns are not passed
