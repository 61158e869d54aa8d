"""Workspace index: droid resolution precedence, classification, cross-file references."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from taskdroid.core.settings import Settings
from taskdroid.core.workspace import Workspace

DROID = "---\nname: {n}\ndescription: {d}\n---\nbody\n"


def droid(ws: Workspace, path: Path, name: str, desc: str = "d") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(DROID.format(n=name, d=desc))
    ws.set_droid_text(str(path), path.read_text())


def test_droid_precedence(tmp_path):
    home = tmp_path / "home"
    personal = home / ".factory" / "droids"
    personal.mkdir(parents=True)
    (personal / "bot.md").write_text(DROID.format(n="bot", d="personal"))
    (personal / "solo.md").write_text(DROID.format(n="solo", d="personal only"))
    ws = Workspace(tmp_path / "proj", Settings(droidPaths=[str(personal)]))
    droid(ws, tmp_path / "proj" / "droids" / "bot.md", "bot", "other folder")
    assert ws.resolve_droid("bot").description == "other folder"  # project beats personal
    droid(ws, tmp_path / "proj" / ".claude" / "agents" / "bot.md", "bot", "claude")
    assert ws.resolve_droid("bot").description == "claude"
    droid(
        ws, tmp_path / "proj" / ".factory" / "droids" / "zz.md", "bot", "factory, other file name"
    )
    droid(ws, tmp_path / "proj" / ".factory" / "droids" / "bot.md", "bot", "factory")
    assert ws.resolve_droid("bot").description == "factory"  # file named like the droid wins
    assert ws.resolve_droid("solo").description == "personal only"
    assert ws.resolve_droid("nobody") is None


def test_deleting_a_droid_flags_every_task_file_naming_it(tmp_path):
    ws = Workspace(tmp_path, personal=False)
    droid(ws, tmp_path / ".factory" / "droids" / "bot.md", "bot")
    for name in ("tasks-a.md", "tasks-b.md"):
        ws.set_task_text(str(tmp_path / "tasks" / name), "## T\n- [ ] 1 x\n  - **Droid**: bot\n")
    assert all(not ws.diagnostics(p) for p in ws.task_docs)
    ws.remove(str(tmp_path / ".factory" / "droids" / "bot.md"))
    for p in ws.task_docs:
        assert [d.code for d in ws.diagnostics(p)] == ["TD020"]


def test_cross_file_references(tmp_path):
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "tasks-b.md").write_text("## B\n- [x] 2.1 done\n")
    ws = Workspace(tmp_path, personal=False)
    a = str(tmp_path / "tasks" / "tasks-a.md")
    text = (
        "## A\n- [ ] 1.1 x\n  - **Dependencies**: tasks-b.md#2.1, /tasks/tasks-b.md#2.1, "
        "tasks-b.md#9.9, nothere.md#1.1\n"
    )
    ws.set_task_text(a, text)  # tasks-b.md is not indexed: it is read from disk on demand
    diags = ws.diagnostics(a)
    assert [
        (d.code, text.splitlines()[2][d.range.start.character : d.range.end.character])
        for d in diags
    ] == [
        ("TD010", "tasks-b.md#9.9"),
        ("TD010", "nothere.md#1.1"),
    ]
    assert "no task `9.9` in `tasks-b.md`" in diags[0].message
    # adding the missing target clears the error
    ws.set_task_text(
        str(tmp_path / "tasks" / "tasks-b.md"), "## B\n- [x] 2.1 done\n- [ ] 9.9 new\n"
    )
    assert [d.code for d in ws.diagnostics(a)] == ["TD010"]


def test_classify_explicit_files_by_content(tmp_path):
    ws = Workspace(tmp_path, personal=False)
    agent = tmp_path / "random" / "agent.md"
    assert ws.classify(str(agent), DROID.format(n="x", d="y"), explicit=True) == "droid"
    assert ws.classify(str(agent), "# notes\n- [ ] 1 a\n", explicit=True) == "task"
    assert ws.classify(str(agent), "# notes\n") is None
    assert ws.classify(str(tmp_path / "tasks" / "x.md")) == "task"
    assert ws.classify(str(tmp_path / ".claude" / "agents" / "x.md")) == "droid"


def test_schema_command_prints_draft_2020_12():
    p = subprocess.run(
        [sys.executable, "-m", "taskdroid", "schema"], capture_output=True, text=True, timeout=60
    )
    assert p.returncode == 0
    schema = json.loads(p.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert {"name", "description", "tools", "model"} <= set(schema["properties"])


def test_a_file_listed_before_it_was_indexed_exists_once_it_is(tmp_path):
    # TD031 answers are cached per file-system version; a task or droid file that the workspace
    # learns about later (an editor buffer not yet saved) must clear the cached "missing"
    (tmp_path / ".git").mkdir()
    ws = Workspace(tmp_path, personal=False)
    a = str(tmp_path / "tasks" / "tasks-a.md")
    ws.set_task_text(
        a,
        "## A\n- [x] 1 done\n  - **Completed**: 2025-01-01\n"
        "  - **Files**: tasks/tasks-b.md, .factory/droids/bot.md\n",
    )
    assert sorted(d.code for d in ws.diagnostics(a)) == ["TD031", "TD031"]
    ws.set_task_text(str(tmp_path / "tasks" / "tasks-b.md"), "## B\n- [ ] 2 new\n")
    assert [d.code for d in ws.diagnostics(a)] == ["TD031"]
    droid(ws, tmp_path / ".factory" / "droids" / "bot.md", "bot")
    assert [d.code for d in ws.diagnostics(a)] == []
