"""Whole-file checks and ID look-ups after an edit work from per-chunk facts and an ID table handed
from version to version (core/doc_index.py): their results must equal a fresh parse's, and an
edit must compute facts only for the chunks it re-parsed."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taskdroid.core import doc_index
from taskdroid.core.document import TaskDocument
from taskdroid.core.workspace import Workspace

SECTION = """### {n}. Part {n} ({prio})
- [x] {n}.1 Done ✅
  - **Completed**: 2025-01-12 15:20
- [x] {n}.2 Done without stamp
- [ ] {n}.3 Next
  - **Dependencies**: {n}.1, 1.2
- [ ] {dup} Same ID as elsewhere
"""


def document(sections: int) -> str:
    parts = ["# Plan\n\n## Tasks\n\n"]
    for n in range(1, sections + 1):
        prio = ("HIGH", "LOW", "HIHG", "MVP")[n % 4]
        dup = f"{max(1, n - 1)}.1" if n % 3 == 0 else f"{n}.4"
        parts.append(SECTION.format(n=n, prio=prio, dup=dup))
    return "".join(parts)


def snapshot(ws: Workspace, path: str) -> list:
    return [
        (d.code, tuple(d.range), d.message, tuple((r.path, tuple(r.range)) for r in d.related))
        for d in ws.diagnostics(path)
    ]


def lookups(ws: Workspace, path: str) -> list:
    doc = ws.task_docs[path]
    out = []
    for tid in ("1.1", "2.1", "3.1", "3.4", "5.2", "7.1", "9.9", "2", "1.1."):
        loc = ws.lookup_id(doc, tid)
        out.append(None if loc is None else (loc.line, loc.task.id, loc.task.title))
    return out


SNIPS = ["z", "", "\n", "- [x] 2.1 Again\n", "- [ ] 7.1 New\n", "3.1", "[x]", "### 9. New (LOW)\n",
         "  - **Completed**: 2025-02-02\n", "```\n", "(HIGH)"]  # fmt: skip


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(
        st.tuples(st.integers(0, 2000), st.integers(0, 40), st.sampled_from(SNIPS)),
        min_size=1,
        max_size=8,
    )
)
def test_incremental_whole_file_checks_equal_a_fresh_parse(tmp_path_factory, edits):
    root = tmp_path_factory.mktemp("ws")
    path = str(root / "tasks.md")
    text = document(8)
    ws = Workspace(root, personal=False)
    ws.set_task_text(path, text)
    snapshot(ws, path)
    lookups(ws, path)  # the ID table exists: later versions take it over
    for at, length, ins in edits:
        at = min(at, len(text))
        text = text[:at] + ins + text[at + length :]
        ws.set_task_text(path, text)
        fresh = Workspace(root, personal=False)
        fresh.set_task_text(path, text)
        assert snapshot(ws, path) == snapshot(fresh, path)
        assert lookups(ws, path) == lookups(fresh, path)


def test_expected_whole_file_diagnostics(tmp_path):
    ws = Workspace(tmp_path, personal=False)
    path = str(tmp_path / "tasks.md")
    ws.set_task_text(path, document(6))
    codes = sorted((d.code, d.range.start.line) for d in ws.diagnostics(path) if d.code != "TD010")
    td003 = [line for code, line in codes if code == "TD003"]
    assert len(td003) == 2  # sections 3 and 6 reuse 2.1 and 5.1
    assert sum(code == "TD022" for code, _ in codes) == 6  # one unstamped completed task each
    assert sum(code == "TD030" for code, _ in codes) == 2  # HIHG twice; MVP is no priority word


def test_an_edit_computes_facts_only_for_the_chunks_it_reparsed(tmp_path):
    ws = Workspace(tmp_path, personal=False)
    path = str(tmp_path / "tasks.md")
    text = document(300)
    ws.set_task_text(path, text)
    before = ws.diagnostics(path)
    facts, tables = doc_index.stats["facts"], doc_index.stats["tables"]
    at = text.index("Same ID as elsewhere", len(text) // 2)
    text = text[:at] + "z" + text[at:]
    doc = ws.set_task_text(path, text)
    after = ws.diagnostics(path)
    assert doc_index.stats["tables"] == tables  # the ID table was handed over, not rebuilt
    assert 1 <= doc_index.stats["facts"] - facts <= 3  # the edited chunk and its neighbours
    assert len(after) == len(before)
    fresh = TaskDocument.parse(path, text, {})
    assert [c.parse.tasks for c in doc.chunks] == [c.parse.tasks for c in fresh.chunks]
