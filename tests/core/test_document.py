"""Incremental re-analysis must equal analysis from scratch."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taskdroid.core.document import TaskDocument
from taskdroid.core.settings import DEFAULT_ALIASES
from taskdroid.core.text import split_lines

ALIASES = dict(DEFAULT_ALIASES)
ROOT = Path(__file__).resolve().parents[2]


def _gen():
    spec = importlib.util.spec_from_file_location("gen_tasks", ROOT / "bench" / "gen_tasks.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["gen_tasks"] = mod
    spec.loader.exec_module(mod)
    return mod


GEN = _gen()
BASE = GEN.generate(120, seed=7)


def snapshot(doc: TaskDocument) -> list:
    """Everything observable, in absolute positions."""
    out = []
    for c in doc.chunks:
        base = c.line
        for t in c.parse.tasks:
            out.append(
                (
                    "task",
                    base + t.line,
                    t.id,
                    t.status,
                    t.title,
                    t.marker_span.start,
                    base + t.end_line,
                    tuple((base + f.line, f.key, f.value) for f in t.fields),
                    tuple((r.text, base + r.span.line, r.span.start) for r in t.refs),
                )
            )
        for s in c.parse.sections:
            out.append(("section", base + s.line, s.title, s.priority))
        for f in c.parse.orphan_fields:
            out.append(("orphan", base + f.line, f.key))
        for d in c.parse.local_diagnostics:
            d2 = d.shifted(base)
            out.append(("diag", d2.code, tuple(d2.range), d2.message))
    return out


def check_same(old: TaskDocument, new_text: str) -> None:
    inc = old.update(new_text, ALIASES)
    fresh = TaskDocument.parse("x.md", new_text, ALIASES)
    assert inc.text == new_text
    assert inc.n_lines == len(split_lines(new_text))
    assert sum(len(c.text) for c in inc.chunks) == len(new_text)
    assert snapshot(inc) == snapshot(fresh)


SNIPPETS = [
    "\n",
    "```\n",
    "## 9. New (HIGH)\n",
    "- [ ] 9.9 t\n",
    "  - **Droid**: a\n",
    "#",
    "x",
    "<!--\n",
    "-->\n",
    "\r\n",
    "    ",
    "- ",
    "[x]",
    "",
]


@st.composite
def edits(draw):
    text = BASE
    out = []
    for _ in range(draw(st.integers(1, 4))):
        a = draw(st.integers(0, len(text)))
        b = min(len(text), a + draw(st.integers(0, 40)))
        ins = draw(st.sampled_from(SNIPPETS) | st.text(max_size=5))
        text = text[:a] + ins + text[b:]
        out.append(text)
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits())
def test_incremental_equals_fresh(versions):
    doc = TaskDocument.parse("x.md", BASE, ALIASES)
    for text in versions:
        check_same(doc, text)
        doc = doc.update(text, ALIASES)


def test_edit_inside_fence_opening_changes_following_chunks():
    doc = TaskDocument.parse("x.md", BASE, ALIASES)
    # open a fence near the start: everything after becomes code until a closing fence
    pos = BASE.index("\n### 2.") + 1
    check_same(doc, BASE[:pos] + "```\n" + BASE[pos:])


def test_append_and_delete_everything():
    doc = TaskDocument.parse("x.md", BASE, ALIASES)
    check_same(doc, BASE + "\n- [ ] 99.1 appended")
    check_same(doc, "")
    check_same(doc, BASE.replace("\n", "\r\n"))


def test_update_reuses_unchanged_chunks():
    doc = TaskDocument.parse("x.md", BASE, ALIASES)
    pos = BASE.rindex("- [ ]")
    new = doc.update(BASE[:pos] + "- [x]" + BASE[pos + 5 :], ALIASES)
    reused = sum(1 for a, b in zip(doc.chunks, new.chunks, strict=False) if a.parse is b.parse)
    assert reused >= len(doc.chunks) - 3


# -- the size limit ----------------------------------------------------------------------------------


def test_a_document_over_the_size_limit_gets_one_diagnostic_and_no_analysis(monkeypatch) -> None:
    from taskdroid.core import document
    from taskdroid.core.workspace import Workspace

    monkeypatch.setattr(document, "MAX_DOCUMENT_CHARS", 200)
    big = "# T\n\n## 1. S\n\n" + "".join(f"- [?] 1.{i} task\n" for i in range(40))
    assert len(big) > 200
    ws = Workspace(None)
    doc = ws.set_task_text("/p/tasks.md", big)
    assert doc.task_count == 0
    diags = ws.diagnostics("/p/tasks.md")
    assert [d.code for d in diags] == ["TD090"]  # not 40 TD001s
    assert "too large" in diags[0].message
    assert diags[0].range.start.line == 0
    # an edit that brings it under the limit analyses it again; one over it, not
    small = "- [?] 1.1 task\n"
    doc = ws.set_task_text("/p/tasks.md", small)
    assert [d.code for d in ws.diagnostics("/p/tasks.md")] == ["TD001"]
    doc = ws.set_task_text("/p/tasks.md", big)
    assert [d.code for d in ws.diagnostics("/p/tasks.md")] == ["TD090"]
    # a droid file too
    ws.set_text("/p/.factory/droids/x.md", "---\nname: x\n---\n" + "y" * 300, "droid")
    assert [d.code for d in ws.diagnostics("/p/.factory/droids/x.md")] == ["TD090"]
    # at the limit itself: analysed
    monkeypatch.setattr(document, "MAX_DOCUMENT_CHARS", len(big))
    assert TaskDocument.parse("/p/t.md", big, {}).task_count == 40


def test_the_size_limit_admits_every_file_check_can_read() -> None:
    from taskdroid.core import document, files

    assert document.MAX_DOCUMENT_CHARS >= files.MAX_FILE_BYTES > 11_000_000


def test_check_reports_a_too_large_document_once(tmp_path, monkeypatch, capsys) -> None:
    """Through the CLI's own entry point (in process, so the limit can be made small)."""
    from taskdroid import cli
    from taskdroid.core import document

    monkeypatch.setattr(document, "MAX_DOCUMENT_CHARS", 300)
    f = tmp_path / "tasks.md"
    f.write_text("".join(f"- [?] 1.{i} task\n" for i in range(40)), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code = cli.main(["check", "--no-personal", "--format", "json", str(f)])
    out = capsys.readouterr().out
    import json

    rows = json.loads(out)
    assert [r["code"] for r in rows] == ["TD090"]
    assert rows[0]["severity"] == "warning" and rows[0]["line"] == 1
    assert code == 0
