"""`taskdroid plan` from a terminal (docs/language.md §11, §9): JSON exactly as documented, the markdown table,
Mermaid waves, paths, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from taskdroid import cli

AUTH = """\
# Auth API tasks

## 1. Auth (HIGH)

- [x] 1.1 Create the register endpoint ✅
  - **Completed**: 2025-01-12 15:20
  - **Files**: api/register.ts
- [~] 1.2 Implement token refresh logic 🔄
  - **In Progress**: Started 2025-01-12 15:40
  - **Droid**: backend-engineer
- [ ] 1.3 Add rate limiting
  - **Droid**: backend-engineer
  - **Dependencies**: 1.1
  - **Files**: `api/middleware.ts`, api/register.ts
- [ ] 1.4 Validate the register payload
  - **Dependencies**: 1.1
  - **Files**: ./api/register.ts
- [!] 1.5 Add captcha ⚠️
  - **Issue**: no provider chosen

## 2. Later (LOW)

- [ ] 2.1 Document it
  - **Dependencies**: 1.3, 1.5
"""

OTHER = """\
# Other

## 3. Dashboard (MEDIUM)

- [ ] 3.1 Show the login form
  - **Dependencies**: tasks-auth.md#1.4
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    (tmp_path / ".taskdroid.toml").write_text("")
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "tasks-auth.md").write_text(AUTH)
    (tmp_path / "tasks" / "tasks-other.md").write_text(OTHER)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / ".no-user-config"))
    monkeypatch.delenv("TASKDROID_RUNNER", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "taskdroid", *args],
        cwd=project, capture_output=True, text=True, encoding="utf-8", timeout=120,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )  # fmt: skip


def main(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_exactly_as_spec(project):
    p = run(project, "plan", "--format", "json")
    assert p.returncode == 0, p.stderr
    got = json.loads(p.stdout)
    a, o = "tasks/tasks-auth.md", "tasks/tasks-other.md"
    assert got == {
        "waves": [
            [
                {
                    "path": a,
                    "line": 11,
                    "taskId": "1.3",
                    "title": "Add rate limiting",
                    "droid": "backend-engineer",
                    "ready": True,
                    "files": ["api/middleware.ts", "api/register.ts"],
                    "dependencies": [f"{a}#1.1"],
                }
            ],
            [
                {
                    "path": a,
                    "line": 15,
                    "taskId": "1.4",
                    "title": "Validate the register payload",
                    "droid": None,
                    "ready": True,
                    "files": ["./api/register.ts"],
                    "dependencies": [f"{a}#1.1"],
                }
            ],
            [
                {
                    "path": o,
                    "line": 5,
                    "taskId": "3.1",
                    "title": "Show the login form",
                    "droid": None,
                    "ready": False,
                    "files": [],
                    "dependencies": [f"{a}#1.4"],
                }
            ],
        ],
        "running": [
            {
                "path": a,
                "line": 8,
                "taskId": "1.2",
                "title": "Implement token refresh logic",
                "droid": "backend-engineer",
                "ready": True,
                "files": [],
                "dependencies": [],
            }
        ],
        "unplannable": [
            {
                "path": a,
                "line": 23,
                "taskId": "2.1",
                "reason": f"depends on blocked task {a}#1.5",
            }
        ],
        "conflicts": [{"a": f"{a}#1.3", "b": f"{a}#1.4", "file": "api/register.ts"}],
        "criticalPath": [f"{a}#1.4", f"{o}#3.1"],
        "implicitEdges": [],
    }


def test_text_is_a_markdown_table(project, capsys):
    code, out, err = main(capsys, "plan")
    assert code == 0, err
    assert out == (
        "**Plan**: 3 tasks in 3 waves · 2 ready · 1 running · 1 unplannable · 1 conflict\n"
        "\n"
        "| Wave | Task | Title | Droid | Files | Ready |\n"
        "|---:|---|---|---|---|---|\n"
        "| 1 | `tasks/tasks-auth.md#1.3` | Add rate limiting | backend-engineer | "
        "`api/middleware.ts`, `api/register.ts` | yes |\n"
        "| 2 | `tasks/tasks-auth.md#1.4` | Validate the register payload | — | "
        "`./api/register.ts` | yes |\n"
        "| 3 | `tasks/tasks-other.md#3.1` | Show the login form | — | — | no |\n"
        "\n"
        "**Running** (1):\n"
        "- `tasks/tasks-auth.md#1.2` Implement token refresh logic (backend-engineer)\n"
        "\n"
        "**Conflicts** (1), each moving a task one wave later:\n"
        "- `tasks/tasks-auth.md#1.4` after `tasks/tasks-auth.md#1.3` (wave 1): both change "
        "`api/register.ts`\n"
        "\n"
        "**Unplannable** (1):\n"
        "- `tasks/tasks-auth.md#2.1` Document it — depends on blocked task "
        "tasks/tasks-auth.md#1.5\n"
        "\n"
        "**Critical path** (2 tasks): `tasks/tasks-auth.md#1.4` → `tasks/tasks-other.md#3.1`\n"
    )


def test_mermaid(project, capsys):
    code, out, _err = main(capsys, "plan", "--format", "mermaid")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "flowchart LR"
    assert [x.strip() for x in lines if x.strip().startswith("subgraph")] == [
        'subgraph running["Running"]',
        'subgraph w1["Wave 1"]',
        'subgraph w2["Wave 2"]',
        'subgraph w3["Wave 3"]',
    ]
    assert "    running ~~~ w1 ~~~ w2 ~~~ w3" in lines
    assert "    t2 --> t3" in lines  # 1.4 (wave 2) → 3.1 (wave 3), across files
    assert "    %% conflict: tasks/tasks-auth.md#1.4 after tasks/tasks-auth.md#1.3 " \
           "(both change api/register.ts)" in lines  # fmt: skip


def test_paths_select_files_and_folders(project, capsys):
    code, out, _err = main(capsys, "plan", "--format", "json", "tasks/tasks-other.md")
    assert code == 0
    got = json.loads(out)
    assert got["waves"] == [] and got["running"] == []
    assert got["unplannable"] == [
        {
            "path": "tasks/tasks-other.md",
            "line": 5,
            "taskId": "3.1",
            "reason": "depends on pending task tasks/tasks-auth.md#1.4, which is not in the "
            "planned files",
        }
    ]
    code, out, _err = main(capsys, "plan", "--format", "json", "tasks")
    assert code == 0 and len(json.loads(out)["waves"]) == 3


def test_root_option(project, capsys, tmp_path_factory, monkeypatch):
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    code, out, err = main(capsys, "plan", "--root", str(project), "--format", "json")
    assert code == 0, err
    assert [t["taskId"] for w in json.loads(out)["waves"] for t in w] == ["1.3", "1.4", "3.1"]


def test_exit_codes(project, capsys):
    code, out, err = main(capsys, "plan", "nowhere")
    assert code == 2 and out == "" and err == "taskdroid: nowhere: no such file or folder\n"
    code, _out, err = main(capsys, "plan", "--format", "xml")
    assert code == 2 and "invalid choice" in err
    code, _out, err = main(capsys, "plan", "--root", "no-such-folder")
    assert code == 2 and "not a folder" in err
    # an unreadable task file: the plan of the others, and exit 2
    (project / "tasks" / "tasks-binary.md").write_bytes(b"- [ ] 1 a\x00b\n")
    code, out, err = main(capsys, "plan", "--format", "json")
    assert code == 2
    assert "tasks/tasks-binary.md: binary file" in err
    assert len(json.loads(out)["waves"]) == 3
    code, out, err = main(capsys, "plan", "tasks/tasks-binary.md")
    assert code == 2 and "binary file" in err and "Nothing to plan" in out


def test_nothing_to_plan(tmp_path, capsys, monkeypatch):
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / ".no-user-config"))
    code, out, _err = main(capsys, "plan", "--format", "json")
    assert code == 0
    assert json.loads(out) == {
        "waves": [], "running": [], "unplannable": [], "conflicts": [], "criticalPath": [],
        "implicitEdges": [],
    }  # fmt: skip
    code, out, _err = main(capsys, "plan")
    assert code == 0 and "Nothing to plan" in out


def test_the_readme_example_is_real_output(capsys, monkeypatch):
    repo = Path(__file__).resolve().parents[2]
    readme = (repo / "README.md").read_text(encoding="utf-8")
    start = readme.index("prints this markdown (shown here rendered, as it reads in a pull request):\n")
    shown = readme[readme.index("\n", start) + 1 : readme.index("The text is markdown, ready")]
    monkeypatch.chdir(repo / "examples")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(repo / "examples" / ".no-user-config"))
    code, out, _err = main(capsys, "plan", "tasks/tasks-auth-api.md")
    assert code == 0
    assert "\n" + out + "\n" == shown
