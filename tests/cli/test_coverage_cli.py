"""`taskdroid coverage` (docs/language.md §13): JSON exactly as §13 says, text, PATH forms, exit codes; and
`taskdroid check` reporting TD050/TD051 on Kiro and spec-kit specs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from taskdroid import cli

FIX = Path(__file__).parent.parent / "fixtures" / "requirements"


@pytest.fixture
def ws(tmp_path, monkeypatch):
    shutil.copytree(FIX, tmp_path / "ws")
    (tmp_path / "ws" / ".git").mkdir()
    monkeypatch.chdir(tmp_path / "ws")
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path / "ws"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_coverage_json_speckit(ws, capsys):
    code, out, _err = run(capsys, "coverage", "--format", "json", "speckit")
    assert code == 0
    rows = json.loads(out)
    path = "speckit/specs/001-photo-albums/spec.md"
    assert rows[0] == {
        "path": path, "line": 10, "requirement": "US1", "title": "Create an album",
        "tasks": ["T003", "T004"], "state": "done",
    }  # fmt: skip
    assert [(r["requirement"], r["tasks"], r["state"]) for r in rows] == [
        ("US1", ["T003", "T004"], "done"),
        ("US2", ["T005", "T007"], "covered"),
        ("US3", [], "uncovered"),
        ("FR-001", ["T003"], "done"),
        ("FR-002", [], "uncovered"),
        ("FR-003", ["T005"], "covered"),
        ("FR-004", ["T002"], "done"),
    ]
    assert all(set(r) == {"path", "line", "requirement", "title", "tasks", "state"} for r in rows)


def test_coverage_json_kiro_criteria_follow_their_requirement(ws, capsys):
    code, out, _err = run(
        capsys, "coverage", "--format", "json", "kiro/.kiro/specs/user-auth/tasks.md"
    )
    assert code == 0
    rows = json.loads(out)
    assert [r["requirement"] for r in rows] == [
        "1", "1.1", "1.2", "1.3", "2", "2.1", "2.2", "2.3", "2.4", "3", "3.1", "3.2", "4", "4.1",
    ]  # fmt: skip
    by = {r["requirement"]: r for r in rows}
    assert by["1"]["tasks"] == ["1", "2.1", "2.2"] and by["1"]["state"] == "covered"
    assert by["1.1"]["tasks"] == ["1", "2.1"] and by["1.1"]["state"] == "done"
    assert by["2.3"]["tasks"] == ["3.2"]  # from the range 2.3-2.4
    assert by["4"] == {
        "path": "kiro/.kiro/specs/user-auth/requirements.md", "line": 41, "requirement": "4",
        "title": "Audit log", "tasks": [], "state": "uncovered",
    }  # fmt: skip
    # a requirement without a title: its user story
    assert by["1"]["title"].startswith("As a visitor")
    assert by["2.2"]["title"].startswith("WHEN a user fails to sign in five times")


def test_coverage_text_and_default_root(ws, capsys):
    code, out, _err = run(capsys, "coverage")
    assert code == 0
    assert "kiro/.kiro/specs/user-auth/requirements.md\n" in out
    assert "speckit/specs/001-photo-albums/spec.md\n" in out
    assert "  4 requirements: 3 covered (0 done), 1 uncovered" in out
    assert "  7 requirements: 5 covered (3 done), 2 uncovered" in out
    line = next(x for x in out.splitlines() if x.strip().startswith("US3"))
    assert "uncovered" in line and "Share an album" in line


def test_coverage_usage_errors(ws, capsys):
    code, _out, err = run(capsys, "coverage", "no-such-folder")
    assert code == 2 and "no-such-folder" in err
    code, _out, _err = run(capsys, "coverage", "--format", "xml")
    assert code == 2


def test_coverage_of_a_folder_without_specs(ws, capsys, tmp_path):
    (tmp_path / "empty").mkdir()
    code, out, _err = run(capsys, "coverage", "--format", "json", str(tmp_path / "empty"))
    assert code == 0 and json.loads(out) == []


def test_check_reports_requirement_codes(ws, capsys):
    code, out, _err = run(capsys, "check", "--format", "json", ".")
    assert code == 0  # warnings and information only
    found = [(d["path"], d["line"], d["code"], d["severity"]) for d in json.loads(out)]
    req = [f for f in found if f[2] in ("TD050", "TD051")]
    assert req == [
        ("kiro/.kiro/specs/user-auth/requirements.md", 41, "TD051", "information"),
        ("kiro/.kiro/specs/user-auth/tasks.md", 22, "TD050", "warning"),
        ("kiro/.kiro/specs/user-auth/tasks.md", 26, "TD050", "warning"),
        ("speckit/specs/001-photo-albums/spec.md", 35, "TD051", "information"),
        ("speckit/specs/001-photo-albums/spec.md", 50, "TD051", "information"),
        ("speckit/specs/001-photo-albums/tasks.md", 18, "TD050", "warning"),
        ("speckit/specs/001-photo-albums/tasks.md", 19, "TD050", "warning"),
    ]


def test_check_fix_applies_only_a_single_suggestion(ws, capsys):
    code, _out, _err = run(capsys, "check", "--fix", "speckit")
    assert code == 0
    text = (ws / "speckit/specs/001-photo-albums/tasks.md").read_text(encoding="utf-8")
    assert "(see FR-003)" in text  # FR-030: one suggestion, applied
    assert "[US4]" in text  # no suggestion: left alone
    code, _out, _err = run(capsys, "check", "--fix", "kiro")
    assert code == 0
    text = (ws / "kiro/.kiro/specs/user-auth/tasks.md").read_text(encoding="utf-8")
    assert "3.2, 12_" in text  # three suggestions: not applied


def test_coverage_of_the_spec_folder_itself(ws, capsys):
    code, out, _err = run(capsys, "coverage", "--format", "json", "speckit/specs/001-photo-albums")
    assert code == 0
    assert [r["requirement"] for r in json.loads(out)][:3] == ["US1", "US2", "US3"]
    code, out, _err = run(capsys, "coverage", "--format", "json", "speckit/specs")
    assert code == 0 and len(json.loads(out)) == 7
