"""Unit tests of core/query.py: tokens at positions, relations, rename plans, completion contexts,
next IDs, outline and folding — all in code points, no LSP."""

from __future__ import annotations

from pathlib import Path

import pytest

from taskdroid.core import query as q
from taskdroid.core.settings import Settings
from taskdroid.core.text import Position, Range, split_lines
from taskdroid.core.workspace import Workspace

MAIN = """# Main

## 1. Core (HIGH)

- [x] 1.1 Set up ✅
  - **Droid**: backend-dev
  - **Completed**: 2025-01-10 10:00
- [~] 1.2 Build 🚀 日本語 API 🔄
  - **Droid**: `backend-dev` (lead)
  - **Dependencies**: 1.1
- [ ] 1.3 Ship cafe\u0301 (depends on 1.2, 9.9)
  - **Depends on**: other.md#2.1
  - **Statuz**: typo
  - [ ] 1.3.1 Sub

## 2. Later

- [X] 2.1 Alias marker
- [/] 2.2 Bad marker
"""

OTHER = """# Other

## 2. Docs

- [x] 2.1 Guide ✅
  - **Dependencies**: main.md#1.2
- [ ] 2.2 Review
"""

DROID = """---
name: "backend-dev"
description: Builds things.
tools: [Read, Edit]
model: inherit
---

Body.
"""


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    (tmp_path / "tasks").mkdir()
    (tmp_path / ".factory" / "droids").mkdir(parents=True)
    files = {
        "tasks/main.md": MAIN,
        "tasks/other.md": OTHER,
        ".factory/droids/backend-dev.md": DROID,
    }
    w = Workspace(tmp_path, Settings(), personal=False)
    for rel, text in files.items():
        (tmp_path / rel).write_text(text, encoding="utf-8")
        w.set_text(str(tmp_path / rel), text)
    return w


def doc_of(ws: Workspace, name: str):
    (doc,) = [d for p, d in ws.task_docs.items() if p.endswith(name)]
    return doc


def pos_of(text: str, needle: str, offset: int = 0, occurrence: int = 0) -> Position:
    idx = -1
    for _ in range(occurrence + 1):
        idx = text.index(needle, idx + 1)
    idx += offset
    line = text.count("\n", 0, idx)
    return Position(line, idx - (text.rfind("\n", 0, idx) + 1))


def rng_of(text: str, needle: str, occurrence: int = 0) -> Range:
    return Range(pos_of(text, needle, 0, occurrence), pos_of(text, needle, len(needle), occurrence))


# -- tokens ----------------------------------------------------------------------------------------


def test_task_tokens(ws):
    doc = doc_of(ws, "main.md")
    tok = q.task_token_at(doc, pos_of(MAIN, "[~]", 1))
    assert tok.kind == q.MARKER and tok.text == "[~]" and tok.range == rng_of(MAIN, "[~]")
    tok = q.task_token_at(doc, pos_of(MAIN, "1.2 Build", 2))
    assert tok.kind == q.TASK_ID and tok.text == "1.2"
    tok = q.task_token_at(doc, pos_of(MAIN, "日本語", 1))
    assert tok.kind == q.TASK_TITLE and tok.task.task.id == "1.2"
    # a droid name in backticks with a note after it
    tok = q.task_token_at(doc, pos_of(MAIN, "backend-dev`", 4))
    assert tok.kind == q.DROID_REF and tok.text == "backend-dev"
    assert tok.range == rng_of(MAIN, "backend-dev", occurrence=1)
    # inline reference after a combining character
    tok = q.task_token_at(doc, pos_of(MAIN, "9.9"))
    assert tok.kind == q.DEP_REF and tok.ref.task_id == "9.9" and tok.range == rng_of(MAIN, "9.9")
    tok = q.task_token_at(doc, pos_of(MAIN, "other.md#2.1", 3))
    assert tok.kind == q.DEP_REF and tok.ref.path == "other.md" and tok.ref.task_id == "2.1"
    tok = q.task_token_at(doc, pos_of(MAIN, "Statuz", 2))
    assert tok.kind == q.FIELD_KEY and tok.text == "Statuz"
    tok = q.task_token_at(doc, pos_of(MAIN, "Core", 1))
    assert tok.kind == q.SECTION and tok.section.number == 1
    # fields of a task that has a subtask: still found
    assert q.task_token_at(doc, pos_of(MAIN, "1.3.1", 1)).kind == q.TASK_ID
    # blank line, prose, out of range
    assert q.task_token_at(doc, Position(1, 0)) is None
    assert q.task_token_at(doc, Position(999, 0)) is None
    assert q.task_token_at(doc, Position(-1, 0)) is None


def test_droid_tokens(ws):
    (droid,) = ws.droid_docs.values()
    lines = split_lines(DROID)
    tok = q.droid_token_at(droid, lines, pos_of(DROID, "tools", 2))
    assert tok.kind == q.FM_KEY and tok.key == "tools"
    tok = q.droid_token_at(droid, lines, pos_of(DROID, "Edit", 1))
    assert tok.kind == q.FM_TOOL and tok.text == "Edit" and tok.index == 1
    tok = q.droid_token_at(droid, lines, pos_of(DROID, "backend-dev", 3))
    assert tok.kind == q.FM_NAME and tok.text == "backend-dev"
    assert tok.range == rng_of(DROID, "backend-dev")  # without the quotes
    tok = q.droid_token_at(droid, lines, pos_of(DROID, "inherit", 2))
    assert tok.kind == q.FM_VALUE and tok.key == "model"
    assert q.droid_token_at(droid, lines, pos_of(DROID, "Body")) is None


# -- relations -------------------------------------------------------------------------------------


def test_dependencies_dependents_ready(ws):
    main = doc_of(ws, "main.md")
    other = doc_of(ws, "other.md")
    t13 = main.find_task("1.3")
    deps = q.dependencies_of(ws, main, t13)
    assert [d.ref.text for d in deps] == ["1.2", "9.9", "other.md#2.1"]
    assert deps[0].target[1].task.id == "1.2" and deps[1].target is None and deps[1].problem
    assert deps[2].target[0] is other
    ready, reasons = q.is_ready(ws, main, t13)
    assert not ready and any("1.2" in r for r in reasons) and any("9.9" in r for r in reasons)
    assert q.is_ready(ws, other, other.find_task("2.2")) == (True, [])

    hits = q.dependents_of(ws, main, main.find_task("1.2"))
    where = sorted((h.doc.path.endswith("main.md"), h.task.task.id, h.ref.text) for h in hits)
    assert where == [(False, "2.1", "main.md#1.2"), (True, "1.3", "1.2")]
    cross = next(h for h in hits if h.ref.path)
    assert cross.id_range == rng_of(OTHER, "1.2")  # only the ID part of `main.md#1.2`
    assert q.dependents_of(ws, main, main.find_task("1.3")) == []


def test_droid_users_and_referenced_paths(ws):
    (droid,) = ws.droid_docs.values()
    uses = q.droid_users(ws, "backend-dev", droid)
    assert sorted(u.range.start.line for u in uses) == [5, 8]
    assert q.droid_users(ws, "nobody") == []
    main = doc_of(ws, "main.md")
    assert {Path(p).name for p in q.referenced_paths(ws, main)} == {"other.md"}


# -- rename ----------------------------------------------------------------------------------------


def test_rename_task_id(ws):
    main = doc_of(ws, "main.md")
    plan = q.rename_task_id(ws, main, main.find_task("1.2"), "1.9")
    by_name = {Path(p).name: sorted(e.range for e in edits) for p, edits in plan.edits.items()}

    def three(needle: str) -> Range:
        start = pos_of(MAIN, needle)
        return Range(start, Position(start.line, start.character + 3))

    assert by_name["main.md"] == sorted([three("1.2 Build"), three("1.2, 9.9")])
    assert by_name["other.md"] == [rng_of(OTHER, "1.2")]
    assert all(e.new_text == "1.9" for edits in plan.edits.values() for e in edits)
    with pytest.raises(ValueError, match="not a task ID"):
        q.rename_task_id(ws, main, main.find_task("1.2"), "one")
    with pytest.raises(ValueError, match="already used"):
        q.rename_task_id(ws, main, main.find_task("1.2"), "1.3")


def test_rename_droid(ws, tmp_path):
    (droid,) = ws.droid_docs.values()
    plan = q.rename_droid(ws, droid, "api-dev", split_lines(DROID))
    by_name = {Path(p).name: sorted(e.range for e in edits) for p, edits in plan.edits.items()}
    assert by_name["backend-dev.md"] == [rng_of(DROID, "backend-dev")]
    assert len(by_name["main.md"]) == 2
    assert plan.file_renames == [(droid.path, str(tmp_path / ".factory" / "droids" / "api-dev.md"))]
    assert q.rename_droid(ws, droid, "x", split_lines(DROID), rename_file=False).file_renames == []
    with pytest.raises(ValueError, match="not a valid droid name"):
        q.rename_droid(ws, droid, "API Dev", split_lines(DROID))


def test_rename_droid_refuses_a_taken_name(ws, tmp_path):
    """Renaming a droid to the name of another droid would silently point every task of the
    renamed droid at the other one: refused, naming the other file."""
    (droid,) = ws.droid_docs.values()
    other = tmp_path / ".claude" / "agents" / "builder.md"
    other.parent.mkdir(parents=True)
    text = DROID.replace('"backend-dev"', "builder")
    other.write_text(text, encoding="utf-8")
    ws.set_text(str(other), text)
    with pytest.raises(ValueError, match=r"a droid named `builder` already exists \(.*builder\.md\)"):
        q.rename_droid(ws, droid, "builder", split_lines(DROID))
    # the other droid may take a free name, and renaming to the same name is a no-op plan
    (builder,) = [d for d in ws.droid_docs.values() if d.name == "builder"]
    assert q.rename_droid(ws, builder, "maker", split_lines(text)).edits
    assert q.rename_droid(ws, droid, "backend-dev", split_lines(DROID)).file_renames == []


# -- completion ------------------------------------------------------------------------------------


def ctx_at(ws, text: str, needle: str, offset: int):
    from taskdroid.core.document import TaskDocument

    doc = TaskDocument.parse("/x/tasks.md", text, {})
    pos = pos_of(text, needle, offset)
    return q.task_completion_context(doc, split_lines(text)[pos.line], pos)


def test_task_completion_contexts(ws):
    text = "## 3. A\n\n- [x] 3.1 First\n  - **Droid**: back\n  - **Dependencies**: 日本 3.\n- [ \n- [ ] \n  - **Fi\n"
    c = ctx_at(ws, text, "back\n", 4)
    assert c.kind == q.COMPLETE_DROID and c.prefix == "back" and c.replace == rng_of(text, "back")
    c = ctx_at(ws, text, "3.\n", 2)
    assert c.kind == q.COMPLETE_DEPENDENCY and c.prefix == "3."
    assert c.replace == Range(pos_of(text, "3.\n"), pos_of(text, "3.\n", 2))
    c = ctx_at(ws, text, "- [ \n", 3)
    assert c.kind == q.COMPLETE_MARKER and c.replace.start.character == 2
    c = ctx_at(ws, text, "- [ ] \n", 6)
    assert c.kind == q.COMPLETE_TASK_ID and c.prefix == ""
    c = ctx_at(ws, text, "**Fi\n", 4)
    assert c.kind == q.COMPLETE_FIELD_KEY and c.prefix == "Fi" and c.task.line == 6
    assert ctx_at(ws, text, "First", 2) is None
    # cross-file: the file part is kept apart
    text2 = "- [ ] 1.1 A\n  - **Blocked by**: other.md#2.\n"
    c = ctx_at(ws, text2, "#2.", 3)
    assert c.kind == q.COMPLETE_DEPENDENCY and c.path == "other.md" and c.prefix == "2."


def test_droid_completion_contexts(ws):
    text = "---\nname: x\nmo\ntools: [Read, Ed\n  - Gr\nlocation: pro\n---\nbody\n"
    lines = split_lines(text)
    c = q.droid_completion_context(None, lines, pos_of(text, "mo\n", 2))
    assert c.kind == q.COMPLETE_FM_KEY and c.prefix == "mo" and "name" in c.existing
    c = q.droid_completion_context(None, lines, pos_of(text, "Ed\n", 2))
    assert c.kind == q.COMPLETE_TOOL and c.prefix == "Ed" and "Read" in c.existing
    c = q.droid_completion_context(None, lines, pos_of(text, "Gr\n", 2))
    assert c.kind == q.COMPLETE_TOOL and c.prefix == "Gr"
    c = q.droid_completion_context(None, lines, pos_of(text, "pro\n", 3))
    assert c.kind == q.COMPLETE_FM_VALUE and c.key == "location" and c.prefix == "pro"
    assert q.droid_completion_context(None, lines, pos_of(text, "body", 2)) is None


def test_next_task_id(ws):
    from taskdroid.core.document import TaskDocument

    text = "## 4. S\n\n- [ ] 4.1 A\n- [ ] 4.2 B\n  - [ ] \n- [ ] \n\n## 5. T\n\n- [ ] \n"
    doc = TaskDocument.parse("/x/tasks.md", text, {})
    assert q.next_task_id(doc, 4) == "4.2.1"  # first child of 4.2
    assert q.next_task_id(doc, 5) == "4.3"  # after the previous sibling
    assert q.next_task_id(doc, 9) == "5.1"  # first in section 5
    spec = TaskDocument.parse("/x/tasks.md", "- [ ] T008 A\n- [ ] T009 B\n- [ ] \n", {})
    assert q.next_task_id(spec, 2) == "T010"
    parents = TaskDocument.parse("/x/tasks.md", "- [ ] 1.0 A\n- [ ] \n", {})
    assert q.next_task_id(parents, 1) == "2.0"


# -- structure -------------------------------------------------------------------------------------


def test_outline_and_folding(ws):
    main = doc_of(ws, "main.md")
    (top,) = q.outline(main)
    assert top.kind == "section" and top.name == "Main"
    core, later = top.children
    assert core.name == "1. Core (HIGH)" and core.detail == "1/4 done"
    assert [c.name for c in core.children] == [
        "1.1 Set up",
        "1.2 Build 🚀 日本語 API",
        "1.3 Ship cafe\u0301 (depends on 1.2, 9.9)",
    ]
    assert core.children[2].children[0].name == "1.3.1 Sub"
    assert core.children[1].detail == "in progress"
    assert later.detail == "1/2 done" and later.children[1].detail == "malformed marker"
    assert core.range.start.line == 2 and core.range.end.line == 13  # trailing blank trimmed
    folds = q.folding_lines(main)
    assert (2, 13, "region") in folds and (4, 6, "region") in folds and (10, 13, "region") in folds


def test_marker_hover_text(ws):
    main = doc_of(ws, "main.md")
    assert "alias of `[x]`" in q.marker_hover_text(main.find_task("2.1").task)
    assert "not a task marker" in q.marker_hover_text(main.find_task("2.2").task)
    assert "in progress" in q.marker_hover_text(main.find_task("1.2").task)
