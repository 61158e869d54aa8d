"""Inputs the fuzz target (bench/fuzz/fuzz_parse.py) found, kept as regression tests.

Each case checks the target's properties: no exception, ranges inside the document, and an
incremental update equal to a parse from scratch.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from taskdroid.core.workspace import Workspace

ROOT = "/nonexistent-fuzz-root"
TASK = f"{ROOT}/tasks/tasks-a.md"


def _diagnostics(*versions: str) -> list[tuple]:
    ws = Workspace(ROOT, personal=False)
    for text in versions:
        ws.set_task_text(TASK, text)
    return [(d.code, d.range, d.message) for d in ws.diagnostics(TASK)]


# 2026-11-26, atheris, after 35,721 runs: typing the closing `---` of a front matter at the end of
# a task file that starts with `---` left the lines above parsed as tasks (an extra TD004): the
# incremental update re-scanned only from the chunk before the edit.
CLOSING_FRONT_MATTER = (
    "---\n"
    "### 1. Sessions and Storage (HIGH)\n"
    "- [x] 2.1 Create users ripti.on: Applies and verifies database migrations.\n"
    "  # DR012: Read is already listed above\n"
    "tools:\n"
    '  # DR005: "WebSerch" is not a known tool (did you mean WebS'
)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (CLOSING_FRONT_MATTER, CLOSING_FRONT_MATTER + "earch?)\n---\n"),  # closed at the end
        (CLOSING_FRONT_MATTER + "earch?)\n---\n", CLOSING_FRONT_MATTER),  # and opened again
        # the closing line moves up or down, with other line endings
        ("---\r\n## 1. A\r\n- [ ] 2 x\r\n---\r\n## 2. B\r\n- [ ] 2.1 y\r\n",
         "---\r\n## 1. A\r\n---\r\n- [ ] 2 x\r\n---\r\n## 2. B\r\n- [ ] 2.1 y\r\n"),
        ("---\r## 1. A\r- [ ] 2 x\r## 2. B\r- [ ] 2.1 y\r",
         "---\r## 1. A\r- [ ] 2 x\r...\r## 2. B\r- [ ] 2.1 y\r"),
        # the opening line appears or goes
        ("## 1. A\n- [ ] 2 x\n## 2. B\n- [ ] 1 y\n---\n",
         "---\n## 1. A\n- [ ] 2 x\n## 2. B\n- [ ] 1 y\n---\n"),
    ],
)  # fmt: skip
def test_front_matter_opened_or_closed_by_an_edit(before, after):
    assert _diagnostics(before, after) == _diagnostics(after)


def test_saved_crash_inputs_pass_the_fuzz_target():
    """Every ``crash-*`` input kept next to this file passes the fuzz target's properties."""
    spec = importlib.util.spec_from_file_location(
        "fuzz_parse", Path(__file__).parents[2] / "bench" / "fuzz" / "fuzz_parse.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    crashes = sorted((Path(__file__).parent / "crashes").glob("crash-*"))
    assert crashes
    for path in crashes:
        module.check(path.read_bytes())


# -- found by tests/fuzz/test_fuzz_properties.py (hypothesis) -----------------------------------------


def _status_change(text: str, task_id: str, status: str) -> tuple[list, list]:
    """(tasks before, tasks after) a status change: (id, title) of each task, in order (lines
    move when a field is inserted above a task)."""
    from datetime import datetime

    from taskdroid.core.document import TaskDocument
    from taskdroid.core.edits import apply_edits, status_edits

    aliases = {"X": "completed", "-": "in_progress"}
    new = apply_edits(text, status_edits(text, None, task_id, status, now=datetime(2025, 1, 2)))

    def tasks(t: str) -> list:
        doc = TaskDocument.parse(TASK, t, aliases)
        return [(loc.task.id, loc.task.title) for loc in doc.located_tasks()]

    return tasks(text), tasks(new)


# 2026-11-26, test_status_edits_round_trip (first default run): a task whose title paragraph
# continues on a line indented 4+ columns past its content ("      - [ ] 2 b" is paragraph text —
# an indented bullet cannot start a list item or interrupt a paragraph). `status_edits` inserts
# the new status field after the task's *first line* (edits.py `_INTERRUPTS` takes any indented
# bullet for an interruption), in the middle of the paragraph; the continuation line then sits
# under the new field item and becomes a task of its own: one task more after the edit.
# Second form (TASKDROID_FUZZ_EXAMPLES=300): a *lazy* continuation line, indented 4 at document
# level but less than the task's content column; after the insertion markdown reads it (and the
# subtask below it) as an indented code block: one task less.
@pytest.mark.parametrize("status", ["in_progress", "completed", "blocked", "cancelled"])
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- [ ] 1 a\n      - [ ] 2 b\n", [("1", "a")]),  # was after: + ("2", "b")
        ("   - [ ] 1 a\n    - 4\n     - [ ] 2 b\n", [("1", "a"), ("2", "b")]),  # was after: 1
    ],
)
def test_status_field_is_inserted_after_the_whole_title_paragraph(text, expected, status):
    before, after = _status_change(text, "1", status)
    assert before == expected
    assert after == before


# 2026-11-26, test_status_edits_round_trip (default run): the task's last field ends in a block
# that takes no lazy continuation (a heading, a fenced code block), and the next line is
# paragraph text at column 0 ("x", after the task). `status_edits` inserts the status field right
# there; the line then continues the new field's paragraph lazily, and the indented bullet after
# it ("    - [ ] 2 b", until then a lazy continuation of "x") nests under the task: one task more.
@pytest.mark.parametrize("status", ["in_progress", "completed", "blocked", "cancelled"])
@pytest.mark.parametrize(
    "text",
    [
        "- [ ] 1 a\n  - **Notes**: n\n    ```\n    code\n    ```\nx\n    - [ ] 2 b\n",
        "- [ ] 1 a\n  - **Notes**: n\n    # h\nx\n    - [ ] 2 b\n",
    ],
)
def test_status_field_inserted_before_a_paragraph_does_not_capture_it(text, status):
    before, after = _status_change(text, "1", status)
    assert before == [("1", "a")]
    assert after == before  # was: [("1", "a"), ("2", "b")]


# 2026-11-26, test_droid_files_never_raise_and_ranges_are_valid (long run, after 18,123
# examples): a front matter line with an unquoted ": " in its value (the DR002 warning case,
# read as a string by quoting it) that also holds U+2028 — a line break for YAML, not for LSP —
# followed by more YAML. The quoted copy of the line is longer than the line itself (the two
# quotes), and the positions of the nodes after the quoted value are taken from the copy: they
# point 2 characters too far right, past the end of the line.
def test_ranges_after_a_value_quoted_for_dr002_stay_on_the_line():
    from taskdroid.core.text import split_lines

    text = "---\nname: x\ndescription: a: b #\u2028tools: [Read, Read]\n---\nbody\n"
    ws = Workspace(ROOT, personal=False)
    path = f"{ROOT}/.factory/droids/x.md"
    ws.set_droid_text(path, text)
    line = split_lines(text)[2]
    dr012 = [d for d in ws.diagnostics(path) if d.code == "DR012"]
    assert len(dr012) == 1
    rng = dr012[0].range  # the second `Read`
    assert line[rng.start.character : rng.end.character] == "Read"  # actual: (36, 40), len 39
    assert rng.end.character <= len(line)


# 2026-11-26, bench/fuzz/fuzz_parse.py (atheris, the status edit property, within a minute): a
# task whose title paragraph is followed by an HTML block opener (`<div>`, `<!--`), which
# interrupts a paragraph in CommonMark. edits.py's `_INTERRUPTS` does not know HTML blocks, takes
# the line for the title's continuation and inserts the status field after it — inside the HTML
# block, where it is no field: the task has no status field, and every further status change
# adds another one (not idempotent).
@pytest.mark.parametrize("text", ["- [ ] 1 a\n  <div>\n", "- [ ] 1 a\n  <!--\n"])
def test_status_field_is_not_written_into_an_html_block(text):
    from datetime import datetime

    from taskdroid.core.document import TaskDocument
    from taskdroid.core.edits import apply_edits, status_edits

    now = datetime(2025, 1, 2)
    new = apply_edits(text, status_edits(text, None, "1", "completed", now=now))
    loc = next(TaskDocument.parse(TASK, new, {"X": "completed"}).located_tasks())
    assert [f.key for f in loc.task.fields] == ["Completed"]  # actual: []
    assert status_edits(new, None, "1", "completed", now=now) == []  # actual: one more field


# 2026-11-26, bench/fuzz/fuzz_parse.py (atheris, the status edit property; fixed the same day:
# edits._blank): a task that is the first thing in an outer list item on the same line ("- - [ ] 1 a"). The first field of the task
# is indented with the text before the task's bullet — the outer item's "- " — so the new line
# "-   - **Completed**: …" opens a new outer list item instead of a field under the task: the
# task has no status field, the file one more list item, and every further change adds another.
# The same when the indentation is copied from a subtask written that way (second form).
@pytest.mark.parametrize("text", ["- - [ ] 1 a\n", "* 1. [ ] 1 a\n", "- [ ] 1 a\n  - - [ ] 2 b\n"])
def test_first_field_of_a_task_in_an_outer_item_on_its_line(text):
    from datetime import datetime

    from taskdroid.core.document import TaskDocument
    from taskdroid.core.edits import apply_edits, status_edits

    now = datetime(2025, 1, 2)
    new = apply_edits(text, status_edits(text, None, "1", "completed", now=now))
    loc = next(TaskDocument.parse(TASK, new, {"X": "completed"}).located_tasks())
    assert [f.key for f in loc.task.fields] == ["Completed"]  # actual: []
    assert status_edits(new, None, "1", "completed", now=now) == []  # actual: one more
