"""Coverage-guided fuzz target: the task parser + workspace diagnostics, and the front matter parser.

Properties checked on every input (see docs/reliability.md):

* nothing raises;
* every diagnostic range (and every related range in the same file) lies inside the document:
  ``0 <= line < number of lines``, ``0 <= character <= len(line)``, ``start <= end``; every
  diagnostic has a message;
* every front matter range (``open_range``, ``range``, key, value and item ranges) lies inside the
  document;
* an incremental update (``TaskDocument.update``) from one half of the input to the whole gives
  the same diagnostics as a parse from scratch;
* every range converts to UTF-16 and UTF-8 units on a character boundary;
* a status change (``status_edits`` + ``apply_edits``) of one task (picked by the last byte, to
  a status picked by the length) round-trips: the re-parsed task has the new status, no task
  appears or goes, the edits stay inside the task's block, line endings stay, applying it again
  changes nothing.

Run with atheris (``pip install -e ".[fuzz]"``)::

    python bench/fuzz/fuzz_parse.py -max_total_time=60            # libFuzzer flags pass through
    python bench/fuzz/fuzz_parse.py -max_total_time=300 -max_len=4096 bench/fuzz/corpus

Without atheris (or with ``--hypothesis``) the same target runs under hypothesis for a fixed
time instead (``--seconds N``, default 60)::

    python bench/fuzz/fuzz_parse.py --hypothesis --seconds 60

A crash found by atheris is written to ``crash-<sha1>`` in the current folder; reproduce it with
``python bench/fuzz/fuzz_parse.py crash-<sha1>`` and turn it into a test in
``tests/fuzz/test_fuzz_regressions.py``.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime

try:  # atheris instruments modules imported inside this block
    import atheris
except ImportError:  # pragma: no cover - hypothesis fallback
    atheris = None

if atheris is not None:
    with atheris.instrument_imports():
        from taskdroid.core.document import TaskDocument
        from taskdroid.core.edits import apply_edits, status_edits
        from taskdroid.core.frontmatter import parse_front_matter
        from taskdroid.core.model import Status
        from taskdroid.core.text import split_lines, split_lines_keepends
        from taskdroid.core.workspace import Workspace
else:  # pragma: no cover
    from taskdroid.core.document import TaskDocument
    from taskdroid.core.edits import apply_edits, status_edits
    from taskdroid.core.frontmatter import parse_front_matter
    from taskdroid.core.model import Status
    from taskdroid.core.text import split_lines, split_lines_keepends
    from taskdroid.core.workspace import Workspace

ROOT = "/nonexistent-fuzz-root"
TASK = f"{ROOT}/tasks/tasks-a.md"
OTHER = f"{ROOT}/tasks/tasks-b.md"
DROID = f"{ROOT}/.factory/droids/x.md"

#: pieces of task markdown and YAML spliced into the input, so the fuzzer reaches deep states fast
DICTIONARY = [
    "- [ ] ", "- [x] ", "- [~] ", "- [!] ", "- [cancelled] ", "- [X] ", "- [-] ", "- [ ]* ",
    "* [ ] ", "1. [ ] ", "  - ", "    ", "1.1 ", "2.3.1 ", "T001 ", "T068A ", "**1.0 Title**",
    "**Droid**: ", "**Dependencies**: ", "**Files**: ", "**Completed**: ", "**In Progress**: ",
    "**Started**: ", "**Issue**: ", "**Status**: ", "**Depends on**: ", "**Key:** ",
    "Task 1.1", "tasks-b.md#1.1", "/tasks/tasks-b.md#2", "(depends on T012, T013)", "none",
    "2025-01-12 15:20", "2025-13-45", "2025-01-12T15:20:00+02:00", "### 1. Section (HIGH)\n",
    "## Tasks\n", "# T\n", "```\n", "~~~\n", "<!--\n", "-->\n", "<div>\n", "> ", "---\n", "...\n",
    "name: x\n", "description: a: b\n", "tools: [Read, Read]\n", "tools: Read, Bogus\n",
    "model: inherit\n", "&a [*a, *a]\n", "a: &b {c: *b}\n", "<<: *a\n", "!!python/object:x\n",
    "✅", "🔄", "⚠️", "❌", "FAILED", "\r\n", "\r", "\n", "\t", "\u2028", "\x0c", "\ufeff", "😀",
    "e\u0301", "`", "**", "~~", "#", ":", ",", "(", ")", "[", "]",
]  # fmt: skip


def _decode(data: bytes) -> tuple[str, str]:
    """Bytes → (first text, second text): the first byte picks dictionary splices, the rest is
    UTF-8 (invalid bytes replaced, NULs kept — the editor may send them)."""
    if not data:
        return "", ""
    text = data[1:].decode("utf-8", "replace")
    if data[0] & 1:  # splice dictionary pieces in at a few places chosen by the data
        out: list[str] = []
        for i, ch in enumerate(text):
            if ord(ch) < 0x20 and ch not in "\n\r\t":
                out.append(DICTIONARY[(ord(ch) * 7 + i) % len(DICTIONARY)])
            else:
                out.append(ch)
        text = "".join(out)
    cut = (data[0] >> 1) * len(text) // 128
    return text, text[:cut]


def _inside(lines: list[str], rng, what: str) -> None:
    for pos in (rng.start, rng.end):
        assert 0 <= pos.line < len(lines), (what, rng, len(lines))
        line = lines[pos.line]
        assert 0 <= pos.character <= len(line), (what, rng, len(line))
        if not line.isascii():  # a client's units end on a character boundary
            for codec, width in (("utf-16-le", 2), ("utf-8", 1)):
                encoded = line.encode(codec, "surrogatepass")
                units = len(line[: pos.character].encode(codec, "surrogatepass")) // width
                head = encoded[: units * width].decode(codec, "surrogatepass")
                assert head == line[: pos.character], (what, rng, codec)
    assert rng.start <= rng.end, (what, rng)


def _check_diagnostics(ws: Workspace, path: str, text: str) -> list:
    lines = split_lines(text)
    diags = ws.diagnostics(path)
    for d in diags:
        _inside(lines, d.range, d.code)
        assert d.message, d
        for r in d.related:
            if r.path is None or r.path == path:
                _inside(lines, r.range, f"related of {d.code}")
    return diags


def _check_front_matter(text: str) -> None:
    fm = parse_front_matter(text)
    lines = split_lines(text)
    for name in ("open_range", "range"):
        rng = getattr(fm, name)
        if rng is not None:
            _inside(lines, rng, name)
    for table in (fm.key_ranges, fm.value_ranges):
        for key, rng in table.items():
            _inside(lines, rng, key)
    for key, items in fm.item_ranges.items():
        for rng in items:
            _inside(lines, rng, key)
    for d in fm.diagnostics:
        _inside(lines, d.range, d.code)


def check(data: bytes) -> None:
    """The fuzz target: one input, every property."""
    text, head = _decode(data)

    # task file: parse, file-local + cross-file diagnostics (a second file for references)
    ws = Workspace(ROOT, personal=False)
    ws.set_task_text(OTHER, "- [ ] 1.1 other\n- [x] 2 done\n")
    ws.set_task_text(TASK, text)
    fresh = _check_diagnostics(ws, TASK, text)

    # incremental: the first part, then the whole text, must equal the fresh parse
    ws2 = Workspace(ROOT, personal=False)
    ws2.set_task_text(OTHER, "- [ ] 1.1 other\n- [x] 2 done\n")
    ws2.set_task_text(TASK, head)
    _check_diagnostics(ws2, TASK, head)
    ws2.set_task_text(TASK, text)
    again = _check_diagnostics(ws2, TASK, text)
    assert [(d.code, d.range, d.message) for d in again] == [
        (d.code, d.range, d.message) for d in fresh
    ], "incremental"
    doc = TaskDocument.parse(TASK, text, ALIASES)
    assert doc.text == text
    if data:
        _check_status_edit(text, doc, data[-1], list(Status)[len(data) % len(Status)])

    # droid file: front matter parser and droid checks (with and without an opening ---)
    droid_text = text if text.startswith("---") else "---\n" + text
    _check_front_matter(text)
    _check_front_matter(droid_text)
    ws.set_droid_text(DROID, droid_text)
    _check_diagnostics(ws, DROID, droid_text)


ALIASES = {"X": "completed", "-": "in_progress"}
NOW = datetime(2025, 1, 13, 9, 30)


def _eols(text: str) -> set[str]:
    out = set()
    for line in split_lines_keepends(text):
        if line.endswith("\r\n"):
            out.add("\r\n")
        elif line.endswith(("\r", "\n")):
            out.add(line[-1])
    return out


def _check_status_edit(text: str, doc, pick: int, status) -> None:
    locs = list(doc.located_tasks())
    if not locs:
        return
    i = pick % len(locs)
    loc = locs[i]
    edits = status_edits(text, doc, loc, status, note="note" if pick & 1 else None, now=NOW)
    new = apply_edits(text, edits)
    new_doc = TaskDocument.parse(TASK, new, ALIASES)
    new_locs = list(new_doc.located_tasks())
    assert len(new_locs) == len(locs), "status edit: tasks appeared or went"
    got = new_locs[i].task
    assert got.status is status and got.marker_kind == "canonical", "status edit: status"
    first, last = loc.line, loc.chunk.line + max(loc.task.end_line, loc.task.line)
    for e in edits:
        assert first <= e.range.start.line and e.range.end.line <= last, "status edit: outside"
    old_k, new_k = split_lines_keepends(text), split_lines_keepends(new)
    assert new_k[:first] == old_k[:first], "status edit: lines before changed"
    after = len(old_k) - (last + 1)
    assert after <= 0 or new_k[-after:] == old_k[-after:], "status edit: lines after changed"
    assert _eols(new) <= (_eols(text) or {"\n"}), "status edit: new line ending"
    assert new.endswith(("\n", "\r")) == text.endswith(("\n", "\r")), "status edit: final eol"
    note = "note" if pick & 1 else None
    again = status_edits(new, new_doc, new_locs[i], status, note=note, now=NOW)
    assert again == [], "status edit: not idempotent"


# -- drivers ----------------------------------------------------------------------------------------


def _run_atheris(argv: list[str]) -> None:
    atheris.Setup(argv, check)
    atheris.Fuzz()


def _run_hypothesis(seconds: float) -> None:  # pragma: no cover - used without atheris
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    deadline = time.monotonic() + seconds
    count = 0

    pieces = st.sampled_from([p.encode() for p in DICTIONARY])
    data = st.binary(max_size=64) | st.lists(pieces | st.binary(max_size=8), max_size=80).map(
        b"".join
    )

    @settings(
        max_examples=200, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(st.integers(0, 255), data)
    def target(head: int, body: bytes) -> None:
        nonlocal count
        count += 1
        check(bytes([head]) + body)

    while time.monotonic() < deadline:
        target()
    print(f"hypothesis: {count} inputs in {seconds:.0f} s, no failure")


def main(argv: list[str]) -> None:
    if "--hypothesis" in argv or atheris is None:
        seconds = 60.0
        if "--seconds" in argv:
            seconds = float(argv[argv.index("--seconds") + 1])
        _run_hypothesis(seconds)
        return
    _run_atheris(argv)


if __name__ == "__main__":
    main(sys.argv)
