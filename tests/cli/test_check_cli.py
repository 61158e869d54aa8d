"""``taskdroid check`` as a user runs it: a subprocess, exit codes, output formats (docs/language.md §9)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "real-world"

TEXT_LINE = re.compile(
    r"^(?P<path>[^:\n]+):(?P<line>\d+):(?P<col>\d+): (?P<sev>error|warning|information|hint) "
    r"\[(?P<code>(?:TD|DR|CF)\d{3})\] (?P<msg>\S.*)$"
)
JSON_KEYS = ["path", "line", "column", "end_line", "end_column", "severity", "code", "message"]

DIRTY = (
    "# Tasks\n"
    "- [x] 1 ✅ Déployer 🚀 ❌\n"  # TD021 on the ❌ (column 22, 1-based code points)
    "  - **Depndencies**: 2\n"  # TD040 hint
    "- [/] 2 b\n"  # TD001 error
)
WARNINGS_ONLY = "# Tasks\n- [x] 1 Deploy ❌\n  - **Error**: none\n- [ ] 2 Other\n"
CLEAN = "# Tasks\n- [x] 1.1 Done ✅\n- [ ] 1.2 Next\n  - **Dependencies**: 1.1\n"


@pytest.fixture
def env(tmp_path_factory) -> dict[str, str]:
    """No personal droids or user configuration from the machine running the tests."""
    home = tmp_path_factory.mktemp("home")
    e = dict(os.environ)
    e.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), PYTHONIOENCODING="utf-8")
    e.pop("TASKDROID_RUNNER", None)
    return e


def run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 300):
    return subprocess.run(
        [sys.executable, "-m", "taskdroid", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=timeout,
    )


def project(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    root = tmp_path / "proj"
    (root / ".git").mkdir(parents=True)
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
    return root


def assert_no_traceback(proc) -> None:
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stdout


def assert_one_line_error(proc, *fragments: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert_no_traceback(proc)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("taskdroid: ")
    for f in fragments:
        assert f in lines[0]


# -- exit codes ---------------------------------------------------------------------------------------


def test_clean_file_exits_0_and_prints_nothing(tmp_path, env):
    root = project(tmp_path, {"tasks.md": CLEAN})
    proc = run(["check", "tasks.md"], root, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == ""
    assert proc.stderr == ""


def test_warnings_and_hints_only_exit_0(tmp_path, env):
    root = project(tmp_path, {"tasks.md": WARNINGS_ONLY})
    proc = run(["check", "tasks.md"], root, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "warning [TD021]" in proc.stdout
    assert " error " not in proc.stdout


def test_an_error_exits_1(tmp_path, env):
    root = project(tmp_path, {"tasks.md": DIRTY})
    proc = run(["check", "tasks.md"], root, env)
    assert proc.returncode == 1
    assert "error [TD001]" in proc.stdout
    assert_no_traceback(proc)


def test_folder_is_searched_with_the_globs(tmp_path, env):
    root = project(
        tmp_path,
        {"docs/tasks/tasks-a.md": DIRTY, "notes/readme.md": "- [/] not a task file\n"},
    )
    proc = run(["check"], root, env)
    assert proc.returncode == 1
    paths = {line.split(":")[0] for line in proc.stdout.splitlines() if TEXT_LINE.match(line)}
    assert paths == {"docs/tasks/tasks-a.md"}


def test_missing_path_exits_2(tmp_path, env):
    root = project(tmp_path, {"tasks.md": CLEAN})
    proc = run(["check", "nope.md"], root, env)
    assert_one_line_error(proc, "nope.md", "no such file")


def test_binary_file_exits_2(tmp_path, env):
    root = project(tmp_path, {"tasks.md": b"- [ ] 1 a\x00\x01\x02 binary\n"})
    proc = run(["check", "tasks.md"], root, env)
    assert_one_line_error(proc, "tasks.md", "binary")


def test_non_utf8_file_exits_2(tmp_path, env):
    root = project(tmp_path, {"tasks.md": "- [ ] 1 café\n".encode("latin-1")})
    proc = run(["check", "tasks.md"], root, env)
    assert_one_line_error(proc, "tasks.md", "UTF-8")


def test_unreadable_file_inside_a_checked_folder_exits_2(tmp_path, env):
    root = project(tmp_path, {"tasks/a.md": CLEAN, "tasks/b.md": b"\xff\xfe\x00garbage"})
    proc = run(["check", "tasks"], root, env)
    assert_one_line_error(proc, "tasks/b.md")


def test_usage_errors_exit_2(tmp_path, env):
    root = project(tmp_path, {"tasks.md": CLEAN})
    proc = run(["check", "--format", "xml", "tasks.md"], root, env)
    assert proc.returncode == 2
    assert_no_traceback(proc)
    proc = run(["check", "--root", str(root / "missing"), "tasks.md"], root, env)
    assert_one_line_error(proc, "--root")


def test_a_50_mb_file_gives_an_error_line_not_a_traceback(tmp_path, env):
    root = project(tmp_path, {})
    with open(root / "tasks.md", "w", encoding="utf-8") as fh:
        chunk = "".join(f"- [ ] {i} Task number {i}\n" for i in range(1000))
        while fh.tell() < 50 * 1024 * 1024:
            fh.write(chunk)
    proc = run(["check", "tasks.md"], root, env)
    assert_one_line_error(proc, "tasks.md", "too large")


def test_deeply_nested_lists_and_quotes_do_not_crash(tmp_path, env):
    depth = 1200  # beyond the interpreter's recursion limit
    nested = "".join("  " * i + f"- [ ] {i + 1} level {i}\n" for i in range(depth))
    nested += "  " * depth + "- [/] deepest\n"
    quotes = (
        ">" * 3000 + " - [ ] 1 quoted\n" + "".join("- " * k + "[ ] x\n" for k in (1, 100, 1000))
    )
    root = project(tmp_path, {"tasks/nested.md": nested, "tasks/quotes.md": quotes})
    proc = run(["check", "--format", "json", "tasks"], root, env, timeout=120)
    assert_no_traceback(proc)
    assert proc.returncode in (0, 1)
    out = json.loads(proc.stdout)
    deepest = [d for d in out if d["path"] == "tasks/nested.md" and d["code"] == "TD001"]
    assert [(d["line"], d["column"]) for d in deepest] == [(depth + 1, 2 * depth + 3)]


# -- formats -----------------------------------------------------------------------------------------------


def test_text_format(tmp_path, env):
    root = project(tmp_path, {"tasks.md": DIRTY})
    proc = run(["check", "--format", "text", "tasks.md"], root, env)
    lines = proc.stdout.splitlines()
    assert lines[:-1] == [
        "tasks.md:2:22: warning [TD021] `❌` says blocked but the marker `[x]` says completed — "
        "change the marker to `[!]` or remove the `❌`",
        "tasks.md:3:7: hint [TD040] unknown field `Depndencies` — did you mean `Dependencies`?",
        lines[2],
    ]
    m = TEXT_LINE.match(lines[2])
    assert m and m.group("path", "line", "col", "sev", "code") == (
        "tasks.md",
        "4",
        "3",
        "error",
        "TD001",
    )
    assert all(TEXT_LINE.match(line) for line in lines[:-1])
    assert lines[-1] == "taskdroid: 1 error, 1 warning, 1 hint in 1 file"


def test_json_format_shape_positions_and_sorting(tmp_path, env):
    files = {
        "b/tasks.md": DIRTY,
        "a/tasks.md": "- [/] 1 x\n- [ ] 1 y\n- [ ] 2 z\n  - **Dependencies**: 9, 1\n",
    }
    root = project(tmp_path, files)
    proc = run(["check", "--format", "json", "b/tasks.md", "a/tasks.md"], root, env)
    assert proc.returncode == 1
    out = json.loads(proc.stdout)
    assert isinstance(out, list) and out
    for obj in out:
        assert list(obj) == JSON_KEYS
        assert isinstance(obj["line"], int) and obj["line"] >= 1
        assert isinstance(obj["column"], int) and obj["column"] >= 1
        assert obj["severity"] in ("error", "warning", "information", "hint")
    keys = [(o["path"], o["line"], o["column"], o["code"]) for o in out]
    assert keys == sorted(keys)
    assert [(o["path"], o["line"], o["column"], o["code"]) for o in out] == [
        ("a/tasks.md", 1, 3, "TD001"),
        ("a/tasks.md", 2, 7, "TD003"),
        ("a/tasks.md", 4, 23, "TD010"),
        ("b/tasks.md", 2, 22, "TD021"),
        ("b/tasks.md", 3, 7, "TD040"),
        ("b/tasks.md", 4, 3, "TD001"),
    ]
    emoji = out[3]
    # "- [x] 1 ✅ Déployer 🚀 ❌": the ❌ is the 22nd code point (it would be column 24 in UTF-16)
    assert (emoji["line"], emoji["column"], emoji["end_line"], emoji["end_column"]) == (
        2,
        22,
        2,
        23,
    )
    assert emoji["severity"] == "warning"
    assert out[2]["message"] == "no task `9` in this file"


def test_sarif_format(tmp_path, env):
    root = project(tmp_path, {"tasks.md": DIRTY + "- [ ] 1 again\n"})
    proc = run(["check", "--format", "sarif", "tasks.md"], root, env)
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert doc["version"] == "2.1.0"
    assert "sarif" in doc["$schema"] and "2.1.0" in doc["$schema"]
    (run_,) = doc["runs"]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "taskdroid" and driver["version"]
    rules = driver["rules"]
    ids = [r["id"] for r in rules]
    assert {"TD001", "TD021", "TD040", "DR001", "CF001"} <= set(ids)
    for r in rules:
        assert r["shortDescription"]["text"]
        assert r["defaultConfiguration"]["level"] in ("error", "warning", "note")
    results = run_["results"]
    assert [r["ruleId"] for r in results] == ["TD021", "TD040", "TD001", "TD003"]
    for r in results:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
        assert r["level"] in ("error", "warning", "note")
        assert r["message"]["text"]
        (loc,) = r["locations"]
        assert loc["physicalLocation"]["artifactLocation"]["uri"] == "tasks.md"
    assert [r["level"] for r in results] == ["warning", "note", "error", "error"]
    assert results[0]["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 2,
        "startColumn": 22,
        "endLine": 2,
        "endColumn": 23,
    }
    dup = results[3]
    (rel,) = dup["relatedLocations"]
    assert rel["physicalLocation"]["region"]["startLine"] == 2
    assert rel["physicalLocation"]["artifactLocation"]["uri"] == "tasks.md"
    assert run_.get("columnKind") == "unicodeCodePoints"


def test_github_format(tmp_path, env):
    root = project(tmp_path, {"tasks.md": DIRTY})
    proc = run(["check", "--format", "github", "tasks.md"], root, env)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert lines == [
        "::warning file=tasks.md,line=2,col=22,endLine=2,endColumn=23,title=taskdroid TD021::"
        "`❌` says blocked but the marker `[x]` says completed — change the marker to `[!]` or "
        "remove the `❌`",
        "::notice file=tasks.md,line=3,col=7,endLine=3,endColumn=18,title=taskdroid TD040::"
        "unknown field `Depndencies` — did you mean `Dependencies`?",
        lines[2],
    ]
    assert lines[2].startswith(
        "::error file=tasks.md,line=4,col=3,endLine=4,endColumn=6,title=taskdroid TD001::`[/]`"
    )


def test_github_format_escapes_properties(tmp_path, env):
    root = project(tmp_path, {"tasks/a,b:c.md": "- [/] 1 x\n"})
    proc = run(["check", "--format", "github", "tasks"], root, env)
    assert proc.stdout.startswith("::error file=tasks/a%2Cb%3Ac.md,line=1,col=3,")


def test_clean_json_is_an_empty_array(tmp_path, env):
    root = project(tmp_path, {"tasks.md": CLEAN})
    proc = run(["check", "--format", "json", "tasks.md"], root, env)
    assert proc.returncode == 0
    assert json.loads(proc.stdout) == []


# -- --root ---------------------------------------------------------------------------------------------------


def test_root_option_resolves_workspace_paths(tmp_path, env):
    files = {
        "plan/tasks.md": "- [ ] 1 A\n  - **Dependencies**: /other/tasks.md#2\n",
        "other/tasks.md": "- [ ] 2 B\n",
    }
    root = project(tmp_path, files)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = str(root / "plan" / "tasks.md")
    proc = run(["check", "--format", "json", "--root", str(root), target], elsewhere, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout) == []
    # with another root, `/other/tasks.md` is looked up elsewhere and does not exist
    proc = run(["check", "--format", "json", "--root", str(elsewhere), target], elsewhere, env)
    assert proc.returncode == 1
    (d,) = json.loads(proc.stdout)
    assert d["code"] == "TD010" and "/other/tasks.md" in d["message"]


def test_root_is_found_upward_from_the_current_directory(tmp_path, env):
    files = {
        "plan/tasks.md": "- [ ] 1 A\n  - **Dependencies**: /other/tasks.md#2\n",
        "other/tasks.md": "- [ ] 2 B\n",
    }
    root = project(tmp_path, files)
    proc = run(["check", "tasks.md"], root / "plan", env)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# -- the real-world corpus ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_real_world_corpus_runs_cleanly(tmp_path, env, fmt):
    copy = tmp_path / "corpus"
    shutil.copytree(CORPUS, copy)
    proc = run(
        ["check", "--no-personal", "--format", fmt, "--root", str(copy), str(copy)], copy, env
    )
    assert_no_traceback(proc)
    assert proc.returncode in (0, 1), proc.stderr
    assert proc.stderr == ""
    if fmt == "json":
        out = json.loads(proc.stdout)
        assert out, "the corpus has known findings"
        assert all(list(o) == JSON_KEYS for o in out)


def test_real_world_files_outside_the_globs(tmp_path, env):
    copy = tmp_path / "corpus"
    shutil.copytree(CORPUS, copy)
    files = [
        "tgerighty__Droid-Forge/.droid-forge/context/code-review-task-example.md",
        "snarktank__ai-dev-tasks/generate-tasks.md",
        "argondev22__notion-relation-view/.kiro/specs/notion-relation-view/tasks.md",  # empty
    ]
    proc = run(["check", "--no-personal", "--format", "json", *files], copy, env)
    assert_no_traceback(proc)
    assert proc.returncode in (0, 1), proc.stderr
    json.loads(proc.stdout)
