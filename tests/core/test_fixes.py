"""The quick fixes of core/fixes.py, pure: each builder on a small text (which fix, preferred or
not, the text after it), no byte outside an edit's range changes, line endings stay, and the
``--fix`` loop (non-overlapping fixes per round, again until stable) is idempotent."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from taskdroid.core.diagnostics import Diagnostic, Severity
from taskdroid.core.edits import TextEdit, apply_edits
from taskdroid.core.fixes import (
    MAX_ROUNDS,
    Fix,
    deferred_edits,
    fix_text,
    fixes,
    select_fixes,
    unified_diff,
)
from taskdroid.core.text import Range, line_starts, offset_at
from taskdroid.core.workspace import Workspace

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fuzz"))
from strategies import task_files, valid_task_files

DROID = ".factory/droids/{name}.md"

#: docs/language.md §14: the codes whose preferred fix ``check --fix`` applies
APPLIED = {"TD001", "TD005", "TD021", "TD040", "TD041", "DR002", "DR005", "DR008", "DR012"}
NEVER = {"TD002", "TD003", "TD022", "TD023", "TD032", "DR006"}


class Doc:
    """One task or droid file in a workspace (under a temporary root), analysed as the CLI and
    the server do: the workspace's diagnostics, then the fixes of them."""

    def __init__(self, root: Path, rel: str, text: str, extra: dict[str, str] | None = None):
        self.ws = Workspace(root, None, personal=False)
        for r, t in {rel: text, **(extra or {})}.items():
            p = root / r
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(t, encoding="utf-8", newline="")
            self.ws.set_text(str(p), t)
        self.path = str(root / rel)
        self.kind = "task" if self.path in self.ws.task_docs else "droid"

    def analyse(self, text: str) -> tuple[list[Diagnostic], list[Fix]]:
        self.ws.set_text(self.path, text, self.kind)
        diags = self.ws.diagnostics(self.path)
        found = fixes(
            text,
            diags,
            task_doc=self.ws.task_docs.get(self.path),
            droid_doc=self.ws.droid_docs.get(self.path),
        )
        return diags, found


def outside_unchanged(old: str, new: str, edits: tuple[TextEdit, ...] | list[TextEdit]) -> None:
    """Every character of ``old`` outside the edits' ranges is in ``new``, in order, untouched:
    ``new`` is exactly ``old`` with each range replaced by its text."""
    starts = line_starts(old)
    spans = sorted(
        (offset_at(old, starts, e.range.start), offset_at(old, starts, e.range.end), e.new_text)
        for e in edits
    )
    pos = 0
    rebuilt = []
    for a, b, t in spans:
        rebuilt.append(old[pos:a])
        rebuilt.append(t)
        pos = b
    rebuilt.append(old[pos:])
    assert "".join(rebuilt) == new


def the_fix(found: list[Fix], code: str, title: str) -> Fix:
    hits = [f for f in found if f.diagnostic.code == code and f.title == title]
    assert hits, [(f.diagnostic.code, f.title) for f in found]
    return hits[0]


# (case, file, text, code, title, preferred, text after the fix)
CASES = [
    ("td001-likely", "tasks.md", "- [v] 1.1 Done\n", "TD001",
     "Change marker to `[x]` (completed)", True, "- [x] 1.1 Done\n"),
    ("td001-other", "tasks.md", "- [v] 1.1 Done\n", "TD001",
     "Change marker to `[!]` (blocked)", False, "- [!] 1.1 Done\n"),
    ("td001-no-guess", "tasks.md", "- [q] 1.1 Odd\n", "TD001",
     "Change marker to `[ ]` (pending)", False, "- [ ] 1.1 Odd\n"),
    # §A7: TD005 only in a file that also writes the canonical marker
    ("td005", "tasks.md", "- [X] 1.1 Café 🚀\n- [x] 1.2 B\n", "TD005",
     "Change marker to `[x]`", True, "- [x] 1.1 Café 🚀\n- [x] 1.2 B\n"),
    ("td021-replace", "tasks.md", "- [x] 1.1 Ship 日本語 🔄\n", "TD021",
     "Replace `🔄` with `✅`", True, "- [x] 1.1 Ship 日本語 ✅\n"),
    ("td021-remove", "tasks.md", "- [ ] 1.1 Ship ❌ later\n- [ ] 1.2 B ❌\n", "TD021",
     "Remove `❌`", True, "- [ ] 1.1 Ship ❌ later\n- [ ] 1.2 B\n"),
    ("td021-marker", "tasks.md", "- [x] 1.1 Ship 🔄\n", "TD021",
     "Change marker to `[~]` (as `🔄` says)", False, "- [~] 1.1 Ship 🔄\n"),
    ("td021-agreeing", "tasks.md", "- [x] 1.1 Ship ✅ ❌\n", "TD021",
     "Remove `❌`", True, "- [x] 1.1 Ship ✅\n"),
    ("td002", "tasks.md", "- [ ] 1.1 A\n- [ ] 1.2 B\n- [ ] Ship it\n", "TD002",
     "Add ID `1.3`", False, "- [ ] 1.1 A\n- [ ] 1.2 B\n- [ ] 1.3 Ship it\n"),
    ("td003", "tasks.md", "- [ ] 1.1 A\n- [ ] 1.1 B\n", "TD003",
     "Change ID to `1.2`", False, "- [ ] 1.1 A\n- [ ] 1.2 B\n"),
    ("td020", "tasks.md", "- [ ] 1.1 A\n  - **Droid**: revewer\n", "TD020",
     "Change to `reviewer`", False, "- [ ] 1.1 A\n  - **Droid**: reviewer\n"),
    ("td030", "tasks.md", "## 1. Core (HIHG)\n\n- [ ] 1.1 A\n\n## 2. Docs (LOW)\n\n- [ ] 2.1 B\n",
     "TD030", "Change priority to `HIGH`", False,
     "## 1. Core (HIGH)\n\n- [ ] 1.1 A\n\n## 2. Docs (LOW)\n\n- [ ] 2.1 B\n"),
    ("td032", "tasks.md", "- [ ] 1.1 A\n  - **Files**: a.ts, .env, b.ts\n", "TD032",
     "Remove `.env` from Files", False, "- [ ] 1.1 A\n  - **Files**: a.ts, b.ts\n"),
    ("td040", "tasks.md", "- [ ] 1.1 A\n- [ ] 1.2 B\n  - **Dependancies**: 1.1\n", "TD040",
     "Rename field to `Dependencies`", True,
     "- [ ] 1.1 A\n- [ ] 1.2 B\n  - **Dependencies**: 1.1\n"),
    ("td041", "tasks.md", "- [ ] 1.1 A\n- **Droid**: reviewer\n- [ ] 1.2 B\n", "TD041",
     "Indent `Droid` under the task above", True,
     "- [ ] 1.1 A\n  - **Droid**: reviewer\n- [ ] 1.2 B\n"),
    ("td041-field-style", "tasks.md",
     "1. [ ] 1.1 A\n     - **Files**: a.ts\n\n1. **Dependencies**: 1.0\n", "TD041",
     "Indent `Dependencies` under the task above", True,
     "1. [ ] 1.1 A\n     - **Files**: a.ts\n\n     1. **Dependencies**: 1.0\n"),
    ("td041-run", "tasks.md",
     "- [ ] 1.1 A\n- **Droid**: reviewer\n- **Dependencies**: 1.0\n", "TD041",
     "Indent `Dependencies` under the task above", True,
     "- [ ] 1.1 A\n  - **Droid**: reviewer\n  - **Dependencies**: 1.0\n"),
    ("dr001", DROID, "You are a droid.\n", "DR001", "Add front matter", False,
     "---\nname: {name}\ndescription: Describe what {name} does and when to use it.\n---\n\n"
     "You are a droid.\n"),
    ("dr002", DROID, "---\nname: {name}\ndescription: Use it: for 🚀 things\n---\n\nBody.\n",
     "DR002", "Quote the value", True,
     '---\nname: {name}\ndescription: "Use it: for 🚀 things"\n---\n\nBody.\n'),
    ("dr003", DROID, "---\ndescription: d\n---\n\nBody.\n", "DR003", "Add `name: {name}`",
     False, "---\nname: {name}\ndescription: d\n---\n\nBody.\n"),
    ("dr004", DROID, "---\nname: Bad Name\ndescription: d\n---\n\nBody.\n", "DR004",
     "Change name to `bad-name`", False, "---\nname: bad-name\ndescription: d\n---\n\nBody.\n"),
    ("dr005", DROID, "---\nname: {name}\ndescription: d\ntools: [Read, Grpe]\n---\n\nBody.\n",
     "DR005", "Change to `Grep`", True,
     "---\nname: {name}\ndescription: d\ntools: [Read, Grep]\n---\n\nBody.\n"),
    ("dr005-pattern", DROID,
     '---\nname: {name}\ndescription: d\ntools: ["Grpe(src/**)"]\n---\n\nBody.\n',
     "DR005", "Change to `Grep`", True,
     '---\nname: {name}\ndescription: d\ntools: ["Grep(src/**)"]\n---\n\nBody.\n'),
    ("dr008", DROID, "---\nname: {name}\ndescription: d\nmodle: inherit\n---\n\nBody.\n",
     "DR008", "Rename key to `model`", True,
     "---\nname: {name}\ndescription: d\nmodel: inherit\n---\n\nBody.\n"),
    ("dr012-block", DROID,
     "---\nname: {name}\ndescription: d\ntools:\n  - Read\n  - Grep\n  - Read\n---\n\nBody.\n",
     "DR012", "Remove the duplicate `Read`", True,
     "---\nname: {name}\ndescription: d\ntools:\n  - Read\n  - Grep\n---\n\nBody.\n"),
    ("dr012-flow", DROID, "---\nname: {name}\ndescription: d\ntools: Read, Grep, Read\n---\n\nB.\n",
     "DR012", "Remove the duplicate `Read`", True,
     "---\nname: {name}\ndescription: d\ntools: Read, Grep\n---\n\nB.\n"),
]  # fmt: skip


def _setup(tmp_path: Path, case: str, rel: str, text: str) -> tuple[Doc, str]:
    name = f"fix-{case}"
    rel = rel.format(name=name)
    extra = {".factory/droids/reviewer.md": "---\nname: reviewer\ndescription: d\n---\n\nB.\n"}
    if rel.startswith(".factory/droids/reviewer"):
        extra = {}
    return Doc(tmp_path, rel, text.format(name=name), extra), name


@pytest.mark.parametrize(
    ("case", "rel", "text", "code", "title", "preferred", "expected"),
    CASES,
    ids=[c[0] for c in CASES],
)
def test_fix_builders(tmp_path, case, rel, text, code, title, preferred, expected):
    doc, name = _setup(tmp_path, case, rel, text)
    text = text.format(name=name)
    _diags, found = doc.analyse(text)
    fix = the_fix(found, code, title.format(name=name))
    assert fix.preferred is preferred
    assert fix.deferred is None and fix.edits
    new = apply_edits(text, fix.edits)
    assert new == expected.format(name=name)
    outside_unchanged(text, new, fix.edits)
    if preferred:  # the preferred fix makes its diagnostic go away
        diags, _ = doc.analyse(new)
        assert not [d for d in diags if d.code == code and d.range == fix.diagnostic.range]


def test_one_preferred_fix_at_most_per_diagnostic_and_only_for_the_applied_codes(tmp_path):
    for case, rel, text, _code, _title, _pref, _exp in CASES:
        doc, name = _setup(tmp_path / case, case, rel, text)
        _diags, found = doc.analyse(text.format(name=name))
        by_diag: dict[int, list[Fix]] = {}
        for f in found:
            by_diag.setdefault(id(f.diagnostic), []).append(f)
            if f.preferred:
                assert f.diagnostic.code in APPLIED, (case, f.title)
                assert f.edits and f.deferred is None
            if f.diagnostic.code in NEVER:
                assert not f.preferred
        for group in by_diag.values():
            assert sum(f.preferred for f in group) <= 1, [f.title for f in group]


def test_td041_leaves_a_field_with_nested_lines_alone(tmp_path):
    text = "- [ ] 1.1 A\n- **Dependencies**: 1.0\n  - 1.2\n"
    doc = Doc(tmp_path, "tasks.md", text)
    diags, found = doc.analyse(text)
    if any(d.code == "TD041" for d in diags):
        assert not [f for f in found if f.diagnostic.code == "TD041"]


# -- deferred fixes ---------------------------------------------------------------------------------


def test_completed_timestamp_is_deferred_and_resolves_to_the_field_only(tmp_path):
    text = "- [x] 1.1 A ✅\n  - **Completed**: 2025-01-10 10:00\n- [x] 1.2 B 🚀\n- [ ] 1.3 C\n"
    doc = Doc(tmp_path, "tasks.md", text)
    _diags, found = doc.analyse(text)
    fix = the_fix(found, "TD022", "Add a `**Completed**` timestamp")
    assert not fix.preferred and fix.edits == () and fix.deferred is not None
    assert fix.deferred["op"] == "field" and fix.deferred["taskId"] == "1.2"
    task_doc = doc.ws.task_docs[doc.path]
    edits = deferred_edits(text, task_doc, fix.deferred)
    new = apply_edits(text, edits)
    assert new.startswith(
        "- [x] 1.1 A ✅\n  - **Completed**: 2025-01-10 10:00\n- [x] 1.2 B 🚀\n  - **Completed**: "
    )
    assert new.endswith("\n- [ ] 1.3 C\n")
    outside_unchanged(text, new, edits)


def test_dr006_rename_is_deferred_and_not_preferred(tmp_path):
    text = "---\nname: other-name\ndescription: d\n---\n\nBody.\n"
    doc = Doc(tmp_path, ".factory/droids/right-name.md", text)
    _diags, found = doc.analyse(text)
    fix = the_fix(found, "DR006", "Rename droid to `right-name` (the file name)")
    assert fix.deferred == {"op": "rename-droid", "name": "right-name"}
    assert not fix.preferred and fix.edits == ()


# -- line endings, bytes outside the ranges --------------------------------------------------------

MESSY = (
    "# Tasks\n"
    "\n"
    "Intro\twith tabs \t\n"
    "\n"
    "- [X] 1.1 Café ✅\n"
    "- [v] 1.2 Ship 日本語\n"
    "- [x] 1.3 Both 🔄\n"
    "- [ ] 1.4 A ✅ 🔄\n"
    "  - **Dependancies**: 1.1\n"
    "- [ ] 1.5 Lost\n"
    "- **Droid**: reviewer\n"
    "- **Dependencies**: 1.4\n"
    "- [ ] 1.1 Dup\n"
)
MESSY_FIXED = (
    "# Tasks\n"
    "\n"
    "Intro\twith tabs \t\n"
    "\n"
    "- [x] 1.1 Café ✅\n"
    "- [x] 1.2 Ship 日本語\n"
    "- [x] 1.3 Both ✅\n"
    "- [ ] 1.4 A\n"
    "  - **Dependencies**: 1.1\n"
    "- [ ] 1.5 Lost\n"
    "  - **Droid**: reviewer\n"
    "  - **Dependencies**: 1.4\n"
    "- [ ] 1.1 Dup\n"
)


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
def test_fix_text_keeps_line_endings_and_every_other_byte(tmp_path, eol):
    text = MESSY.replace("\n", eol)
    doc = Doc(tmp_path, "tasks.md", text)
    result = fix_text(text, doc.analyse)
    assert result.text == MESSY_FIXED.replace("\n", eol)
    codes = sorted(f.diagnostic.code for f in result.applied)
    assert codes == ["TD001", "TD005", "TD021", "TD021", "TD021", "TD040", "TD041", "TD041"]
    # what remains: the unambiguous fixes are gone, the others stay for a person to decide
    assert {d.code for d in result.diagnostics} == {"TD003", "TD020"}


def test_fix_text_is_idempotent(tmp_path):
    doc = Doc(tmp_path, "tasks.md", MESSY)
    once = fix_text(MESSY, doc.analyse)
    twice = fix_text(once.text, doc.analyse)
    assert twice.text == once.text and twice.applied == [] and twice.rounds == 0


def test_overlapping_fixes_wait_for_the_next_round(tmp_path):
    """Two lost fields: the second's fix indents both lines, so it overlaps the first's; the
    first round applies one, the analysis after it finds the other again (smaller)."""
    text = "- [ ] 1.1 A\n- **Droid**: reviewer\n- **Dependencies**: 1.0\n"
    doc = Doc(tmp_path, "tasks.md", text)
    _diags, found = doc.analyse(text)
    td041 = [f for f in found if f.diagnostic.code == "TD041"]
    assert [len(f.edits) for f in td041] == [1, 2]
    assert select_fixes(text, found) == [td041[0]]
    result = fix_text(text, doc.analyse)
    assert result.rounds == 2
    assert result.text == "- [ ] 1.1 A\n  - **Droid**: reviewer\n  - **Dependencies**: 1.0\n"


def _fix(start: tuple[int, int], end: tuple[int, int], new: str, preferred: bool = True) -> Fix:
    d = Diagnostic("TD005", Range.of(0, 0, 1), "m", Severity.HINT)
    return Fix(new, (TextEdit(Range.of(start[0], start[1], end[1], end[0]), new),), preferred, d)


def test_select_fixes_takes_non_overlapping_preferred_fixes_in_order():
    text = "abcdef\nghij\n"
    a = _fix((0, 0), (0, 2), "A")
    b = _fix((0, 1), (0, 3), "B")  # overlaps a
    c = _fix((0, 2), (0, 4), "C")  # touches a at its end: fine
    d = _fix((0, 4), (0, 4), "D")  # an insert at the end of c: fine
    e = _fix((0, 4), (0, 4), "E")  # a second insert at the same place: waits
    f = _fix((1, 0), (1, 2), "F", preferred=False)  # never applied
    g = _fix((0, 6), (1, 0), "G")  # the line break
    chosen = select_fixes(text, [g, f, e, d, c, b, a])
    assert sorted(x.title for x in chosen) == ["A", "C", "E", "G"] or sorted(
        x.title for x in chosen
    ) == ["A", "C", "D", "G"]
    new = apply_edits(text, [ed for x in chosen for ed in x.edits])
    assert new.startswith("AC") and new.endswith("ghij\n")


def test_fix_text_stops_after_the_bound():
    """A fix that never settles (a stand-in analysis that always offers one) stops."""
    calls = []

    def analyse(t: str):
        calls.append(t)
        return [], [_fix((0, 0), (0, 0), "x")]

    result = fix_text("", analyse)
    assert result.rounds == MAX_ROUNDS and result.text == "x" * MAX_ROUNDS
    assert len(calls) == MAX_ROUNDS + 1


def test_a_failing_builder_gives_no_fix_and_reports_it():
    bad = Diagnostic("TD021", Range.of(5, 0, 1), "m", Severity.WARNING, data={"implied": 3})
    seen = []
    # no task document: the TD021 builder finds no task and offers nothing; a broken data dict
    # for DR002 ("range" of the wrong length) falls back to the diagnostic's range
    odd = Diagnostic(
        "DR002", Range.of(0, 0, 1), "m", Severity.WARNING,
        data={"fix": "quote", "replacement": "'x'", "range": [1]},
    )  # fmt: skip
    broken = Diagnostic("DR012", Range.of(0, 0, 1), "m", Severity.WARNING, data="x")  # type: ignore[arg-type]
    found = fixes("x\n", [bad, odd, broken], on_error=lambda d, e: seen.append(d.code))
    assert [f.title for f in found] == ["Quote the value"]
    assert found[0].edits[0].range == Range.of(0, 0, 1)
    assert seen == ["DR012"]


# -- the unified diff -------------------------------------------------------------------------------


def test_unified_diff_keeps_crlf_and_marks_a_missing_final_newline():
    old = "a\r\nb\r\nc"
    new = "a\r\nB\r\nc!"
    out = unified_diff(old, new, "t/tasks.md")
    assert out == (
        "--- a/t/tasks.md\n+++ b/t/tasks.md\n@@ -1,3 +1,3 @@\n a\r\n-b\r\n-c\n"
        "\\ No newline at end of file\n+B\r\n+c!\n\\ No newline at end of file\n"
    )
    assert unified_diff(old, old, "x") == ""


# -- properties on generated task files -------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=valid_task_files() | task_files())
def test_fix_property_stable_local_and_line_preserving(tmp_path_factory, text):
    root = tmp_path_factory.mktemp("p")
    doc = Doc(root, "tasks.md", text)
    once = fix_text(text, doc.analyse)
    # only the unambiguous fixes are applied
    assert {f.diagnostic.code for f in once.applied} <= APPLIED
    if once.rounds < MAX_ROUNDS:  # it settled: running it again changes nothing
        again = fix_text(once.text, doc.analyse)
        assert again.text == once.text and again.applied == []
    # the preferred fixes of a task file never add or remove a line, nor change a line ending
    assert line_breaks(once.text) == line_breaks(text)


def line_breaks(text: str) -> list[str]:
    import re

    return re.findall(r"\r\n|\r|\n", text)
