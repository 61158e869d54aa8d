"""The shipped examples: exactly the planted diagnostics, and nothing above hint on clean files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_check(*args: str, cwd: Path = EXAMPLES) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "taskdroid", "check", "--no-personal", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_examples_report_exactly_the_planted_mistakes():
    p = run_check("--format", "json", ".")
    assert p.returncode == 1, p.stderr
    assert "Traceback" not in p.stderr
    got = json.loads(p.stdout)
    expected = json.loads((EXAMPLES / "EXPECTED.json").read_text())
    assert sorted({(d["path"], d["line"], d["code"]) for d in got}) == sorted(
        {(d["path"], d["line"], d["code"]) for d in expected}
    )
    # every code of docs/language.md §4 is demonstrated
    codes = {d["code"] for d in got}
    from taskdroid.core.diagnostics import CODES

    # (TD090 needs a file over 16 MiB: tests/core/test_document.py shows it instead)
    assert codes == set(CODES) - {"TD090"}


def test_clean_files_have_nothing_above_hint():
    p = run_check("--format", "json", ".")
    got = json.loads(p.stdout)
    clean = [d for d in got if not d["path"].startswith("mistakes/")]
    assert [d for d in clean if d["severity"] != "hint"] == []


def test_readme_command_from_repository_root():
    # `taskdroid check examples/` as the README shows it (root = the repository)
    p = run_check("examples/", cwd=EXAMPLES.parent)
    assert p.returncode == 1
    assert "Traceback" not in p.stderr
    assert "examples/mistakes/tasks/tasks-mistakes.md:15:3: error [TD001]" in p.stdout
    assert "[CF001]" in p.stdout
