"""Properties of the core on generated task and droid files (issue #7; strategies.py).

1. the core never raises: workspace diagnostics, the task parser, the front matter parser, the
   droid checks, outline / folding / ready tasks / the dependency graph;
2. every range — diagnostics, their related ranges in the same file, the quote fix's range, front
   matter and droid ranges, outline ranges — lies inside the document, on lines split as LSP
   splits them (``\\n``, ``\\r\\n``, ``\\r`` only), and converts to UTF-16 and UTF-8 units on a
   character boundary (never inside a surrogate pair or a UTF-8 sequence), the server's fast
   converter agreeing with the core's;
3. a sequence of edits applied incrementally (``Workspace.set_task_text`` →
   ``TaskDocument.update``, and the server's ``LineIndex.apply`` from client positions in UTF-16
   and UTF-8) equals analysis from scratch after every step;
4. status edits (``status_edits`` + ``apply_edits``) round-trip for every status: the re-parsed
   task has the new status, every other task is unchanged, the edits stay inside the task's
   block, applying again changes nothing, and line endings stay.

The default run is small and deterministic (``derandomize``). A long run::

    TASKDROID_FUZZ_EXAMPLES=20000 nice -n 15 python -m pytest tests/fuzz/test_fuzz_properties.py -p no:cacheprovider

(``TASKDROID_FUZZ_EXAMPLES`` sets the examples of every test; the inputs are then random, and a
failure prints a ``@reproduce_failure`` blob; see docs/reliability.md).

Inputs that hit a core bug already reported (an ``xfail`` test in test_fuzz_regressions.py, fix
pending) can be recognised and rejected here so that a long run goes on finding new ones (none
at the moment: the five bugs found so far are fixed); drop each filter when its regression test
passes.
"""

from __future__ import annotations

import os
from datetime import datetime

import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st
from strategies import BREAKS, Edit, droid_files, edit_scripts, task_files

from taskdroid.core import document
from taskdroid.core.document import TaskDocument, normalize_id
from taskdroid.core.edits import EditError, apply_edits, status_edits
from taskdroid.core.frontmatter import parse_front_matter
from taskdroid.core.graph import render_graph
from taskdroid.core.model import Status
from taskdroid.core.query import folding_lines, outline
from taskdroid.core.ready import next_tasks
from taskdroid.core.settings import DEFAULT_ALIASES
from taskdroid.core.text import (
    UTF8,
    UTF16,
    Range,
    column_to_units,
    split_lines,
    split_lines_keepends,
    units_to_column,
)
from taskdroid.core.workspace import Workspace
from taskdroid.lsp.convert import Converter, LineIndex, to_column, to_units

EXAMPLES = int(os.environ.get("TASKDROID_FUZZ_EXAMPLES") or 0)
#: shrink failures (slow on big inputs): always in the default run; in a long run only when
#: TASKDROID_FUZZ_SHRINK=1 (else the failure is reported at once, with its reproduce blob)
SHRINK = not EXAMPLES or os.environ.get("TASKDROID_FUZZ_SHRINK") == "1"
ALIASES = dict(DEFAULT_ALIASES)
NOW = datetime(2025, 1, 13, 9, 30)

ROOT = "/nonexistent-fuzz-root"
TASK = f"{ROOT}/tasks/tasks-a.md"
OTHER = f"{ROOT}/tasks/tasks-b.md"
DROIDS = [f"{ROOT}/.factory/droids/backend-dev.md", f"{ROOT}/.claude/agents/x.md"]
OTHER_TEXT = "## 1. Other\n- [ ] 1.1 other\n- [x] 2 done ✅\n  - **Dependencies**: tasks-a.md#1\n"
DROID_TEXT = "---\nname: backend-dev\ndescription: d\ntools: [Read, Read]\n---\nbody\n"


def fuzz(default: int):
    """``default`` examples in the normal run (deterministic), TASKDROID_FUZZ_EXAMPLES when set."""
    return settings(
        max_examples=EXAMPLES or default,
        derandomize=not EXAMPLES,
        database=None,
        deadline=None,
        print_blob=True,
        phases=list(Phase) if SHRINK else [Phase.explicit, Phase.reuse, Phase.generate],
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.large_base_example,
        ],
    )


# -- checks ---------------------------------------------------------------------------------------

_CODECS = {UTF16: ("utf-16-le", 2), UTF8: ("utf-8", 1)}


def check_position(lines: list[str], line: int, character: int, what: object) -> None:
    assert 0 <= line < len(lines), (what, line, len(lines))
    text = lines[line]
    assert 0 <= character <= len(text), (what, character, len(text))
    for enc, (codec, width) in _CODECS.items():
        units = column_to_units(text, character, enc)
        assert to_units(text, character, enc) == units, (what, enc)  # the server's fast path
        assert units_to_column(text, units, enc) == character, (what, enc)
        assert to_column(text, units, enc) == character, (what, enc)
        # the unit offset is a character boundary: the prefix decodes strictly
        prefix = text.encode(codec)[: units * width]
        assert prefix.decode(codec) == text[:character], (what, enc)


def check_range(lines: list[str], rng: Range, what: object) -> None:
    check_position(lines, rng.start.line, rng.start.character, what)
    check_position(lines, rng.end.line, rng.end.character, what)
    assert rng.start <= rng.end, (what, rng)


def check_diagnostics(ws: Workspace, path: str, text: str) -> list:
    lines = split_lines(text)
    diags = ws.diagnostics(path)
    for d in diags:
        check_range(lines, d.range, d.code)
        assert d.message and d.message.strip(), d
        for r in d.related:
            assert r.message, d
            if r.path is None or r.path == path:
                check_range(lines, r.range, f"related of {d.code}")
        fix = (d.data or {}).get("range")
        if fix is not None:  # the DR002 quote fix
            line, a, end_line, b = fix
            check_range(lines, Range.of(line, a, b, end_line), f"fix of {d.code}")
    # the server converts exactly these (LineIndex splits the same lines)
    conv = Converter(UTF16)
    index = LineIndex(text)
    for d in diags:
        conv.diagnostic(d, index, "file:///x", lambda p: ("file:///y", LineIndex("")))
    return diags


def check_lines(text: str) -> list[str]:
    """The core and the server split lines alike: at \\n, \\r\\n, \\r only."""
    lines = split_lines(text)
    assert LineIndex(text).lines() == lines
    assert "".join(split_lines_keepends(text)) == text
    assert len(lines) == text.count("\n") + text.count("\r") - text.count("\r\n") + 1
    return lines


def snapshot(ws: Workspace) -> list:
    out = []
    for p in ws.all_paths():
        for d in ws.diagnostics(p):
            out.append(
                (
                    p,
                    d.code,
                    tuple(d.range),
                    d.message,
                    d.severity,
                    tuple((r.path, tuple(r.range), r.message) for r in d.related),
                    repr(d.data),
                )
            )
    return out


def doc_snapshot(doc: TaskDocument) -> list:
    """Everything parsed, in absolute positions."""
    out = []
    for c in doc.chunks:
        base = c.line
        for t in c.parse.tasks:
            out.append(
                (
                    "task", base + t.line, t.id, t.status, t.marker_text, t.title, t.indent,
                    t.optional, base + t.end_line, tuple(tok for tok, _ in t.trailing),
                    tuple((base + f.line, f.key, f.value, f.end_line + base) for f in t.fields),
                    tuple((r.text, base + r.span.line, r.span.start) for r in t.refs),
                )
            )  # fmt: skip
        for s in c.parse.sections:
            out.append(("section", base + s.line, s.title, s.number, s.priority))
        for f in c.parse.orphan_fields:
            out.append(("orphan", base + f.line, f.key, f.value))
    return out


def clear_parse_cache() -> None:
    """Forget the chunk parses cached by text (core/document.py): "from scratch" then really
    parses everything, and a long run's memory stays bounded."""
    document.clear_cache()


def make_workspace(text: str, droids: bool = True) -> Workspace:
    ws = Workspace(ROOT, personal=False)
    ws.set_task_text(OTHER, OTHER_TEXT)
    if droids:
        ws.set_droid_text(DROIDS[0], DROID_TEXT)
    ws.set_task_text(TASK, text)
    return ws


# -- 1 + 2: never raises, ranges valid --------------------------------------------------------------


@fuzz(150)
@given(task_files())
def test_task_files_never_raise_and_ranges_are_valid(text):
    clear_parse_cache()
    lines = check_lines(text)
    ws = make_workspace(text)
    check_diagnostics(ws, TASK, text)
    check_diagnostics(ws, OTHER, OTHER_TEXT)
    doc = ws.task_docs[TASK]
    assert doc.text == text
    assert doc.n_lines == len(lines)
    assert sum(len(c.text) for c in doc.chunks) == len(text)
    for loc in doc.located_tasks():
        t = loc.task
        check_range(lines, t.marker_span.shifted(loc.chunk.line).range, "marker")
        check_range(lines, t.title_span.shifted(loc.chunk.line).range, "title")
        if t.id_span is not None:
            check_range(lines, t.id_span.shifted(loc.chunk.line).range, "id")
        for f in t.fields:
            check_range(lines, f.value_span.shifted(loc.chunk.line).range, "field value")
            for r in f.refs:
                check_range(lines, r.span.shifted(loc.chunk.line).range, "reference")

    def walk(nodes):
        for n in nodes:
            check_range(lines, n.range, ("outline", n.name))
            check_range(lines, n.selection, ("selection", n.name))
            walk(n.children)

    walk(outline(doc))
    for start, end, _kind in folding_lines(doc):
        assert 0 <= start <= end < len(lines)
    next_tasks(ws)
    render_graph(ws, None, "mermaid")
    render_graph(ws, None, "dot")
    # the same text in a file of its own, with CR line endings and with the default aliases
    TaskDocument.parse(TASK, text.replace("\n", "\r"), ALIASES)


@fuzz(150)
@given(droid_files(), st.sampled_from(DROIDS))
def test_droid_files_never_raise_and_ranges_are_valid(text, path):
    _droid_file_properties(text, path)


def _droid_file_properties(text: str, path: str) -> None:
    lines = check_lines(text)
    fm = parse_front_matter(text)
    for name in ("open_range", "range"):
        rng = getattr(fm, name)
        if rng is not None:
            check_range(lines, rng, name)
    for table in (fm.key_ranges, fm.value_ranges):
        for key, rng in table.items():
            check_range(lines, rng, key)
    for key, items in fm.item_ranges.items():
        for rng in items:
            check_range(lines, rng, key)
    ws = Workspace(ROOT, personal=False)
    ws.set_droid_text(path, text)
    ws.set_droid_text(DROIDS[1] if path == DROIDS[0] else DROIDS[0], text)  # the other tool's
    ws.set_task_text(TASK, "- [ ] 1 t\n  - **Droid**: backend-dev\n")
    check_diagnostics(ws, path, text)
    check_diagnostics(ws, TASK, "- [ ] 1 t\n  - **Droid**: backend-dev\n")
    droid = ws.droid_docs[path]
    for rng in (droid.name_range, droid.front_matter_range):
        if rng is not None:
            check_range(lines, rng, "droid")
    # a droid file's text read as a task file (prompt bodies hold example task lists)
    ws.set_task_text(OTHER, text)
    check_diagnostics(ws, OTHER, text)


# -- 3: incremental equals fresh --------------------------------------------------------------------


def _client_position(text: str, offset: int, encoding: str) -> tuple[int, int]:
    """An independent oracle: (line, units) of a code-point offset."""
    head = text[:offset]
    line = len(split_lines(head)) - 1
    start = max(head.rfind("\n"), head.rfind("\r")) + 1
    codec, width = _CODECS[encoding]
    return line, len(head[start:].encode(codec)) // width


def _representable(text: str, offset: int) -> bool:
    """A client position cannot fall between the \\r and \\n of one line break."""
    return not (0 < offset < len(text) and text[offset - 1] == "\r" and text[offset] == "\n")


@fuzz(100)
@given(edit_scripts(), st.sampled_from([UTF16, UTF8]), st.booleans())
def test_incremental_analysis_equals_analysis_from_scratch(script, encoding, touch_others):
    from lsprotocol import types

    text, edits = script
    clear_parse_cache()
    ws = make_workspace(text)
    snapshot(ws)  # warm every cache
    conv = Converter(encoding)
    index = LineIndex(text)
    other = OTHER_TEXT
    droid = True
    for step, e in enumerate(edits):
        # the server's text sync: the edit as a client sends it, in its units
        if _representable(text, e.start) and _representable(text, e.end):
            (sl, sc), (el, ec) = (_client_position(text, o, encoding) for o in (e.start, e.end))
            rng = types.Range(
                start=types.Position(line=sl, character=sc),
                end=types.Position(line=el, character=ec),
            )
            index = index.apply(conv.to_core_range(index, rng), e.new)
            assert index.text == e.apply(text)
            assert index.lines() == split_lines(index.text)
        else:
            index = LineIndex(e.apply(text))
        text = e.apply(text)
        if touch_others and step % 2:  # cross-file caches: the other file and the droid change
            other = other.replace("[ ] 1.1", "[x] 1.1") if "[ ] 1.1" in other else OTHER_TEXT
            ws.set_task_text(OTHER, other)
            droid = not droid
            if droid:
                ws.set_droid_text(DROIDS[0], DROID_TEXT)
            else:
                ws.remove(DROIDS[0])
        ws.set_task_text(TASK, text)
        clear_parse_cache()
        fresh = Workspace(ROOT, personal=False)
        fresh.set_task_text(OTHER, other)
        if droid:
            fresh.set_droid_text(DROIDS[0], DROID_TEXT)
        fresh.set_task_text(TASK, text)
        inc_doc, fresh_doc = ws.task_docs[TASK], fresh.task_docs[TASK]
        assert inc_doc.text == text
        assert inc_doc.n_lines == fresh_doc.n_lines
        assert doc_snapshot(inc_doc) == doc_snapshot(fresh_doc), ("step", step, e)
        assert snapshot(ws) == snapshot(fresh), ("step", step, e)
    check_diagnostics(ws, TASK, text)


# -- 4: status edits round-trip ---------------------------------------------------------------------

_NOTES = [None, "redis is down", "  spaced\tout  ", "日本語 🚀 note", "a: b"]


def _eol_to_append(text: str) -> str:
    """A line break of the text's own kind (and one before a last line that has none)."""
    eols = sorted(_eols(text)) or ["\n"]
    return eols[0] if text and not text.endswith(("\n", "\r")) else ""


def _eols(text: str) -> set[str]:
    out = set()
    for line in split_lines_keepends(text):
        if line.endswith("\r\n"):
            out.add("\r\n")
        elif line.endswith(("\r", "\n")):
            out.add(line[-1])
    return out


@fuzz(150)
@given(
    task_files(garbage_share=8),
    st.integers(0, 10_000),
    st.sampled_from(list(Status)),
    st.sampled_from(_NOTES),
)
def test_status_edits_round_trip(text, pick, status, note):
    clear_parse_cache()
    doc = TaskDocument.parse(TASK, text, ALIASES)
    locs = list(doc.located_tasks())
    if not locs:  # no task: add one (an example with nothing to edit tests nothing)
        text += _eol_to_append(text) + "- [ ] 7.1 added"
        doc = TaskDocument.parse(TASK, text, ALIASES)
        locs = list(doc.located_tasks())
        assume(locs)  # (an unclosed fence or front matter swallows it)
    i = pick % len(locs)
    loc = locs[i]
    edits = status_edits(text, doc, loc, status, note=note, now=NOW)
    new = apply_edits(text, edits)
    new_doc = TaskDocument.parse(TASK, new, ALIASES)
    new_locs = list(new_doc.located_tasks())

    # the task has the new status, with the canonical marker; every other task is unchanged
    assert len(new_locs) == len(locs), (text, new)
    b = new_locs[i]
    assert b.task.status is status and b.task.marker_kind == "canonical", (text, new)
    assert (b.task.id, b.task.title) == (loc.task.id, loc.task.title)
    for j, (x, y) in enumerate(zip(locs, new_locs, strict=True)):
        if j != i:
            assert (x.task.id, x.task.status, x.task.marker_text, x.task.title) == (
                y.task.id,
                y.task.status,
                y.task.marker_text,
                y.task.title,
            ), (text, new)

    # the edits stay inside the task's block: every line before and after it is byte-identical
    first, last = loc.line, loc.chunk.line + max(loc.task.end_line, loc.task.line)
    for e in edits:
        assert first <= e.range.start.line and e.range.end.line <= last, (e, first, last)
    old_k, new_k = split_lines_keepends(text), split_lines_keepends(new)
    assert new_k[:first] == old_k[:first]
    after = len(old_k) - (last + 1)
    if after > 0:
        assert new_k[-after:] == old_k[-after:]

    # line endings stay: no new kind of line break, the final line break kept or not
    if _eols(text):
        assert _eols(new) <= _eols(text), (text, new)
    else:
        assert _eols(new) <= {"\n"}
    assert new.endswith(("\n", "\r")) == text.endswith(("\n", "\r"))

    # idempotent
    assert status_edits(new, new_doc, b, status, note=note, now=NOW) == []
    # found again by ID (as the CLI and the server find it) when the ID is the first of its kind
    if loc.task.id:
        try:
            again = status_edits(new, new_doc, loc.task.id, status, note=note, now=NOW)
        except EditError:
            pytest.fail(f"task {loc.task.id!r} not found again")
        want = normalize_id(loc.task.id)
        first_with_id = next(
            k for k, x in enumerate(new_locs) if x.task.id and normalize_id(x.task.id) == want
        )
        if first_with_id == i:
            assert again == []


# -- seeds that always run ----------------------------------------------------------------------------


@pytest.mark.parametrize("eol", BREAKS)
def test_status_edit_on_a_file_of_special_characters(eol):
    text = eol.join(
        [
            "## 1. Ünïcødé 日本語 (HIGH)",
            "- [ ] 1.1 Build 🧑‍💻 the e\u0301 API\x0c with \u2028 in it ⚠️",
            "\t- **Droid**: backend-dev",
            "- [x] 1.2 Done ✅",
            "",
        ]
    )
    for status in Status:
        new = apply_edits(text, status_edits(text, None, "1.1", status, now=NOW))
        loc = next(TaskDocument.parse(TASK, new, ALIASES).located_tasks())
        assert loc.task.status is status
        assert _eols(new) == {eol}
        assert new.split(eol)[0] == text.split(eol)[0]
        assert new.split(eol)[-2:] == ["- [x] 1.2 Done ✅", ""]


def test_edit_between_cr_and_lf_is_not_a_client_position():
    assert not _representable("a\r\nb", 2)
    assert _representable("a\r\nb", 1) and _representable("a\r\nb", 3)
    assert Edit(1, 3, "").apply("a\r\nb") == "ab"
