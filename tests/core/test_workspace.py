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


# -- docs/language.md §A3 / §A8 ------------------------------------------------------------------------


def _index(ws: Workspace, root: Path, files: dict[str, str]) -> dict[str, str]:
    paths = {}
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        ws.set_task_text(str(p), text)
        paths[rel] = str(p)
    return paths


def _found(ws: Workspace, path: str, text: str) -> list[tuple[str, str]]:
    lines = text.splitlines()
    return [
        (d.code, lines[d.range.start.line][d.range.start.character : d.range.end.character])
        for d in ws.diagnostics(path)
        if d.code.startswith("TD01")
    ]


def test_a_cycle_through_a_split_task_list_is_td011_on_both_files(tmp_path):
    """§A3 resolution counts for the dependency graph too: a cycle between two files of one
    folder, written without file parts, is TD011 in each file (it was TD-nothing)."""
    a_text = "- [ ] 1.1 A\n  - **Dependencies**: 2.1\n"
    b_text = "- [ ] 2.1 B\n  - **Dependencies**: 1.1\n"
    ws = Workspace(tmp_path, personal=False)
    paths = _index(ws, tmp_path, {"tasks/tasks-a.md": a_text, "tasks/tasks-b.md": b_text})
    assert _found(ws, paths["tasks/tasks-a.md"], a_text) == [("TD011", "2.1")]
    assert _found(ws, paths["tasks/tasks-b.md"], b_text) == [("TD011", "1.1")]
    # breaking the cycle in one file clears both
    b_fixed = "- [ ] 2.1 B\n"
    ws.set_task_text(paths["tasks/tasks-b.md"], b_fixed)
    assert _found(ws, paths["tasks/tasks-a.md"], a_text) == []


def test_split_task_lists_resolve_beside_each_other(tmp_path):
    """§A3: per-epic files, an overview beside their folder, word labels and a range."""
    epic6 = (
        "- [x] 6.0 Epic six\n- [ ] 6.5 B\n  - **Dependencies**: Epic 1 Story 1.5, Epic 6.0\n"
        "- [ ] 6.6 C\n  - **Dependencies**: 1.5.1-1.5.6, Phase 6.5\n"
        "- [ ] 6.7 D\n  - **Dependencies**: 1.5-1.9, 7.7, 1.2.1-1.2.3\n"
    )
    ws = Workspace(tmp_path, personal=False)
    paths = _index(
        ws,
        tmp_path,
        {
            "tasks/epics/tasks-epic-1.md": "- [x] 1.5 A\n- [ ] 1.5.1-1.5.6 Sub tasks\n",
            "tasks/epics/tasks-epic-6.md": epic6,
            "tasks/tasks-overview.md": "- [ ] 1 Overview\n  - **Dependencies**: Epic 6.0, 6.5\n",
            "tasks/epics/deep/tasks-x.md": "- [ ] 9.1 X\n  - **Dependencies**: 6.0\n",
            "specs/001-a/plan/tasks.md": "- [ ] T010f A\n  - **Dependencies**: T002b\n",
            "specs/001-a/tasks/tasks-more.md": "- [x] T002b B\n",
            "specs/002-b/tasks.md": "- [ ] T020 C\n  - **Dependencies**: T010f, T002b\n",
        },
    )
    assert _found(ws, paths["tasks/tasks-overview.md"], "x") == []  # folders inside
    # near misses: a missing task, a range with a missing endpoint (one TD010 over the range),
    # a range whose endpoints do not exist but a task is written as the range
    assert _found(ws, paths["tasks/epics/tasks-epic-6.md"], epic6) == [
        ("TD010", "1.5-1.9"),
        ("TD010", "7.7"),
        ("TD010", "1.2.1-1.2.3"),
    ]
    assert _found(ws, paths["tasks/epics/deep/tasks-x.md"], "x") == []  # parent folder
    assert _found(ws, paths["specs/001-a/plan/tasks.md"], "x") == []  # same spec folder
    # another spec folder is another feature: its tasks are not this one's
    text = "- [ ] T020 C\n  - **Dependencies**: T010f, T002b\n"
    assert _found(ws, paths["specs/002-b/tasks.md"], text) == [
        ("TD010", "T010f"),
        ("TD010", "T002b"),
    ]


def test_bare_file_names_exist_anywhere(tmp_path):
    """§A8: a Files entry without `/` exists when a file of that name exists in any folder."""
    (tmp_path / "web" / "src" / "components").mkdir(parents=True)
    (tmp_path / "web" / "src" / "components" / "CompletionMetricsCard.tsx").write_text("x")
    (tmp_path / "node_modules" / "pkg").mkdir(parents=True)
    (tmp_path / "node_modules" / "pkg" / "Vendored.tsx").write_text("x")
    ws = Workspace(tmp_path, personal=False)
    text = (
        "- [x] 1.1 Card\n  - **Files**: CompletionMetricsCard.tsx, Missing.tsx, "
        "Vendored.tsx, src/CompletionMetricsCard.tsx\n"
    )
    path = _index(ws, tmp_path, {"tasks/tasks.md": text})["tasks/tasks.md"]
    line = text.splitlines()[1]
    found = [
        line[d.range.start.character : d.range.end.character]
        for d in ws.diagnostics(path)
        if d.code == "TD031"
    ]
    # near misses: a name found nowhere, a name only in a skipped folder, a path with a folder
    assert found == ["Missing.tsx", "Vendored.tsx", "src/CompletionMetricsCard.tsx"]
