"""Status changes as inline edits (docs/language.md §5): exact results, style preservation, properties."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from taskdroid.core.document import Located, TaskDocument
from taskdroid.core.edits import (
    BLOCKED_PLACEHOLDER,
    EditError,
    TextEdit,
    apply_edits,
    field_edits,
    find_task,
    format_timestamp,
    parse_status,
    status_edits,
)
from taskdroid.core.model import Status
from taskdroid.core.settings import DEFAULT_ALIASES
from taskdroid.core.text import Range, split_lines, split_lines_keepends

ALIASES = dict(DEFAULT_ALIASES)
NOW = datetime(2025, 1, 13, 9, 30)
STAMP = "2025-01-13 09:30"


def parse(text: str) -> TaskDocument:
    return TaskDocument.parse("/ws/tasks/tasks.md", text, ALIASES)


def setst(text: str, task: str, status: str | Status, note: str | None = None, **kw) -> str:
    edits = status_edits(text, parse(text), task, status, note=note, now=NOW, **kw)
    return apply_edits(text, edits)


def task(text: str, task_id: str) -> Located:
    loc = find_task(parse(text), task_id)
    assert loc is not None
    return loc


SAMPLE = """\
# Auth API tasks

## Tasks

### 1. User Authentication API (BLOCKER)

- [x] 1.1 Create /api/auth/register endpoint ✅
  - **Completed**: 2025-01-12 15:20
  - **Files**: api/auth/register.ts
- [~] 1.3 Implement token refresh logic 🔄
  - **In Progress**: Started 2025-01-12 15:40
  - **Droid**: backend-engineer
- [!] 1.4 Add rate limiting ⚠️
  - **Issue**: redis-rate-limit package has TypeScript errors
- [ ] 3.1 Set up database models and queries
  - **Droid**: drizzle-orm-specialist
  - **Dependencies**: Task 1.1 must be completed

### 2. Later (LOW)

- [ ] 4.1 Write the docs
"""


# -- every status ------------------------------------------------------------------------------------


def test_pending_to_in_progress():
    out = setst(SAMPLE, "3.1", "in_progress")
    assert out == SAMPLE.replace(
        "- [ ] 3.1 Set up database models and queries\n"
        "  - **Droid**: drizzle-orm-specialist\n"
        "  - **Dependencies**: Task 1.1 must be completed\n",
        "- [~] 3.1 Set up database models and queries 🔄\n"
        "  - **Droid**: drizzle-orm-specialist\n"
        "  - **Dependencies**: Task 1.1 must be completed\n"
        f"  - **In Progress**: Started {STAMP}\n",
    )


def test_in_progress_to_completed_keeps_the_in_progress_field():
    out = setst(SAMPLE, "1.3", "completed")
    assert out == SAMPLE.replace(
        "- [~] 1.3 Implement token refresh logic 🔄\n"
        "  - **In Progress**: Started 2025-01-12 15:40\n"
        "  - **Droid**: backend-engineer\n",
        "- [x] 1.3 Implement token refresh logic ✅\n"
        "  - **In Progress**: Started 2025-01-12 15:40\n"
        "  - **Droid**: backend-engineer\n"
        f"  - **Completed**: {STAMP}\n",
    )


def test_blocked_with_note_and_placeholder():
    out = setst(SAMPLE, "4.1", "blocked", note="waiting for the API freeze")
    assert out.endswith("- [!] 4.1 Write the docs ⚠️\n  - **Issue**: waiting for the API freeze\n")
    out = setst(SAMPLE, "4.1", "blocked")
    assert out.endswith(f"- [!] 4.1 Write the docs ⚠️\n  - **Issue**: {BLOCKED_PLACEHOLDER}\n")


def test_blocked_with_note_replaces_the_issue():
    out = setst(SAMPLE, "1.4", "blocked", note="pinned 2.x, still failing")
    assert "  - **Issue**: pinned 2.x, still failing\n" in out
    assert "TypeScript errors" not in out
    # without a note the documented reason stays
    assert setst(SAMPLE, "1.4", "blocked") == SAMPLE


def test_blocked_without_note_keeps_another_reason():
    text = "- [ ] 1 Deploy\n  - **Error**: exit 1\n"
    assert setst(text, "1", "blocked") == "- [!] 1 Deploy ⚠️\n  - **Error**: exit 1\n"


def test_cancelled_with_and_without_note():
    out = setst(SAMPLE, "4.1", "cancelled", note="the OpenAPI document covers it")
    assert out.endswith(
        f"- [cancelled] 4.1 Write the docs\n"
        f"  - **Status**: Cancelled {STAMP} — the OpenAPI document covers it\n"
    )
    out = setst(SAMPLE, "1.4", "cancelled")
    assert "- [cancelled] 1.4 Add rate limiting\n" in out
    assert (
        f"  - **Issue**: redis-rate-limit package has TypeScript errors\n  - **Status**: Cancelled {STAMP}\n"
        in out
    )


def test_back_to_pending_removes_the_emoji_only():
    out = setst(SAMPLE, "1.1", "pending")
    assert out == SAMPLE.replace(
        "- [x] 1.1 Create /api/auth/register endpoint ✅",
        "- [ ] 1.1 Create /api/auth/register endpoint",
    )


@pytest.mark.parametrize("status", list(Status))
def test_every_status_sets_the_canonical_marker(status):
    out = setst(SAMPLE, "3.1", status)
    assert task(out, "3.1").task.status is status
    assert task(out, "3.1").task.marker_kind == "canonical"
    assert task(out, "3.1").task.marker_text == status.marker[1:-1]


# -- the file's style ------------------------------------------------------------------------------


def test_colon_inside_style_is_kept():
    text = "- [ ] 1 A\n  - **Droid:** x\n- [ ] 2 B\n"
    assert (
        setst(text, "2", "completed")
        == f"- [ ] 1 A\n  - **Droid:** x\n- [x] 2 B ✅\n  - **Completed:** {STAMP}\n"
    )
    assert setst(text, "1", "completed").endswith(
        f"  - **Droid:** x\n  - **Completed:** {STAMP}\n- [ ] 2 B\n"
    )


def test_the_tasks_own_style_wins_over_the_file():
    text = "- [ ] 1 A\n  - **Droid:** x\n  - **Files:** y\n- [ ] 2 B\n  - **Droid**: z\n"
    assert f"  - **Droid**: z\n  - **Completed**: {STAMP}\n" in setst(text, "2", "completed")


@pytest.mark.parametrize("eol", ["\r\n", "\r"])
def test_line_endings_are_kept(eol):
    text = SAMPLE.replace("\n", eol)
    out = setst(text, "3.1", "completed")
    assert out == setst(SAMPLE, "3.1", "completed").replace("\n", eol)


def test_mixed_line_endings_use_the_neighbouring_line():
    text = "- [ ] 1 A\r\n  - **Droid**: x\r\n\n- [ ] 2 B\n"
    out = setst(text, "1", "completed")
    assert out == f"- [x] 1 A ✅\r\n  - **Droid**: x\r\n  - **Completed**: {STAMP}\r\n\n- [ ] 2 B\n"


def test_no_final_newline_is_kept():
    text = "# T\n\n- [ ] 1 Only task"
    out = setst(text, "1", "completed")
    assert out == f"# T\n\n- [x] 1 Only task ✅\n  - **Completed**: {STAMP}"
    text = "- [ ] 1 Only task\n  - **Droid**: x"
    assert setst(text, "1", "in_progress") == (
        f"- [~] 1 Only task 🔄\n  - **Droid**: x\n  - **In Progress**: Started {STAMP}"
    )
    crlf = "- [ ] 1 Only task\r\n  - **Droid**: x"
    assert setst(crlf, "1", "pending") == crlf
    assert setst(crlf, "1", "blocked", note="n").endswith("\r\n  - **Issue**: n")


def test_tab_indentation():
    text = "- [ ] 1 A\n\t- **Droid**: x\n- [ ] 2 B\n\t- [ ] 2.1 sub\n\t\t- **Droid**: y\n\t- [ ] 2.2 other\n"
    out = setst(text, "2.2", "completed")
    assert "\t- [x] 2.2 other ✅\n\t\t- **Completed**: " in out
    out = setst(text, "2", "completed")
    assert out.startswith("- [ ] 1 A\n\t- **Droid**: x\n- [x] 2 B ✅\n\t- **Completed**: ")
    assert out.endswith("\n\t- [ ] 2.1 sub\n\t\t- **Droid**: y\n\t- [ ] 2.2 other\n")


def test_four_space_indentation():
    text = "- [ ] 1 A\n    - **Droid**: x\n- [ ] 2 B\n"
    assert setst(text, "2", "completed").endswith(f"- [x] 2 B ✅\n    - **Completed**: {STAMP}\n")


def test_indent_unit_too_small_for_an_ordered_task_is_not_used():
    # the file nests by 2 spaces, but under `10. ` a child needs 4
    text = "- [ ] 1 A\n  - **Droid**: x\n\n10. [ ] 2 B\n"
    out = setst(text, "2", "completed")
    assert out.endswith(f"10. [x] 2 B ✅\n    - **Completed**: {STAMP}\n")
    assert task(out, "2").task.field("Completed") is not None


@pytest.mark.parametrize("bullet", ["*", "+", "1.", "1)"])
def test_other_bullets(bullet):
    pad = " " * (len(bullet) + 1)
    text = f"{bullet} [ ] 1 A\n{pad}* **Droid**: x\n\n{bullet} [ ] 2 B\n"
    out = setst(text, "2", "completed")
    assert out.endswith(f"{bullet} [x] 2 B ✅\n{pad}* **Completed**: {STAMP}\n")
    out = setst(text, "1", "completed")
    assert f"{pad}* **Droid**: x\n{pad}* **Completed**: {STAMP}\n\n" in out


def test_first_field_uses_the_files_bullet_and_indent():
    text = "* [ ] 1 A\n    + **Droid**: x\n* [ ] 2 B\n"
    assert setst(text, "2", "completed").endswith(f"* [x] 2 B ✅\n    + **Completed**: {STAMP}\n")


def test_ordered_field_bullets_count_on():
    text = "- [ ] 1 A\n  1. **Droid**: x\n  2. **Files**: y\n"
    assert setst(text, "1", "completed") == (
        f"- [x] 1 A ✅\n  1. **Droid**: x\n  2. **Files**: y\n  3. **Completed**: {STAMP}\n"
    )


# -- structure ---------------------------------------------------------------------------------------


def test_subtasks_and_notes_are_kept_and_the_field_goes_before_them():
    text = (
        "- [ ] 1.0 Parent\n"
        "  - [ ] 1.1 Child\n"
        "    - **Droid**: x\n"
        "  - a plain note\n"
        "- [ ] 2.0 Next\n"
    )
    out = setst(text, "1.0", "completed")
    assert out == text.replace(
        "- [ ] 1.0 Parent\n", f"- [x] 1.0 Parent ✅\n  - **Completed**: {STAMP}\n"
    )
    out = setst(text, "1.1", "completed")
    assert out == text.replace(
        "  - [ ] 1.1 Child\n    - **Droid**: x\n",
        f"  - [x] 1.1 Child ✅\n    - **Droid**: x\n    - **Completed**: {STAMP}\n",
    )


def test_field_goes_after_the_last_field_and_its_nested_notes():
    text = (
        "- [ ] 1 A\n"
        "  - **Files**:\n"
        "    - api/x.ts\n"
        "    - api/y.ts\n"
        "  - [ ] 1.1 sub\n"
        "  - free note\n"
    )
    out = setst(text, "1", "blocked", note="n")
    assert out == text.replace("    - api/y.ts\n", "    - api/y.ts\n  - **Issue**: n\n").replace(
        "- [ ] 1 A", "- [!] 1 A ⚠️"
    )


def test_title_continuation_lines_stay_with_the_title():
    text = "- [ ] 1 A title that\n  wraps onto a second line\n  - [ ] 1.1 sub\n"
    out = setst(text, "1", "completed")
    assert out == (
        f"- [x] 1 A title that ✅\n  wraps onto a second line\n  - **Completed**: {STAMP}\n  - [ ] 1.1 sub\n"
    )
    assert task(out, "1").task.field("Completed") is not None


def test_field_with_children_is_replaced_on_its_first_line_and_continuation():
    text = "- [!] 1 A ⚠️\n  - **Issue**: first line\n    goes on here\n    - detail\n"
    out = setst(text, "1", "blocked", note="new reason")
    assert out == "- [!] 1 A ⚠️\n  - **Issue**: new reason\n    - detail\n"


def test_empty_field_value_gets_a_space():
    text = "- [ ] 1 A\n  - **Completed**:\n"
    assert setst(text, "1", "completed") == f"- [x] 1 A ✅\n  - **Completed**: {STAMP}\n"


def test_wrapped_id_and_optional_marker():
    text = "- [ ] **1.0 Database Setup**\n- [ ]* 2.1 Optional thing\n"
    out = setst(text, "1.0", "completed")
    assert out.startswith("- [x] **1.0 Database Setup** ✅\n")
    assert task(out, "1.0").task.title == "Database Setup"
    out = setst(text, "2.1", "in_progress")
    assert "- [~]* 2.1 Optional thing 🔄\n" in out
    assert task(out, "2.1").task.optional


def test_malformed_and_alias_markers_become_canonical():
    text = "- [/] 1 A\n- [X] 2 B\n"
    out = setst(setst(text, "1", "in_progress"), "2", "completed")
    assert out.startswith("- [~] 1 A 🔄\n")
    assert "- [x] 2 B ✅\n" in out


def test_task_without_title():
    assert setst("- [ ] 1.1\n", "1.1", "completed") == f"- [x] 1.1 ✅\n  - **Completed**: {STAMP}\n"


# -- emoji and FAILED --------------------------------------------------------------------------------


def test_failed_is_removed_when_leaving_blocked():
    text = "- [!] 1 Build ❌ FAILED\n  - **Error**: exit 2\n"
    assert setst(text, "1", "completed").startswith("- [x] 1 Build ✅\n")
    assert setst(text, "1", "pending").startswith("- [ ] 1 Build\n")
    assert setst(text, "1", "in_progress").startswith("- [~] 1 Build 🔄\n")


def test_blocked_keeps_failure_tokens_and_adds_warning_only_when_none():
    assert setst("- [ ] 1 Build ❌ FAILED\n", "1", "blocked").startswith(
        "- [!] 1 Build ❌ FAILED\n"
    )
    assert setst("- [x] 1 Build ✅\n", "1", "blocked").startswith("- [!] 1 Build ⚠️\n")
    assert setst("- [x] 1 Build ✅ ❌\n", "1", "blocked").startswith("- [!] 1 Build ❌\n")


def test_emoji_without_space_and_trailing_blanks():
    assert setst("- [ ] 1 Build✅  \n", "1", "pending") == "- [ ] 1 Build  \n"
    assert setst("- [x] 1 Build ✅  \n", "1", "in_progress").startswith("- [~] 1 Build 🔄  \n")


# -- idempotence and locating ------------------------------------------------------------------------


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("note", [None, "a reason"])
def test_applying_twice_equals_once(status, note):
    once = setst(SAMPLE, "3.1", status, note)
    assert status_edits(once, parse(once), "3.1", status, note=note, now=NOW) == []
    # and later, with another clock, the existing field is not re-stamped
    later = NOW + timedelta(hours=3)
    assert apply_edits(once, status_edits(once, None, "3.1", status, note=note, now=later)) in (
        once,
        once.replace(STAMP, "2025-01-13 12:30"),  # a note given again re-writes a cancel line
    )


def test_one_field_not_two():
    out = setst(setst(SAMPLE, "3.1", "in_progress"), "3.1", "in_progress")
    assert out.count("**In Progress**") == 2  # 1.3's and 3.1's
    out = setst(SAMPLE, "3.1", "completed")
    out = setst(out, "3.1", "pending")
    out = setst(out, "3.1", "completed")
    assert len(task(out, "3.1").task.fields_named("Completed")) == 1


def test_unknown_task_and_status():
    with pytest.raises(EditError, match=r"no task `3\.9` in this file — did you mean `3\.1`\?"):
        setst(SAMPLE, "3.9", "completed")
    with pytest.raises(EditError, match=r"no task `1`: the file has no task IDs"):
        setst("- [ ] untitled\n", "1", "completed")
    with pytest.raises(EditError, match="unknown status `done`"):
        setst(SAMPLE, "3.1", "done")


def test_parse_status_spellings():
    assert parse_status("in-progress") is Status.IN_PROGRESS
    assert parse_status("in_progress") is Status.IN_PROGRESS
    assert parse_status("Completed") is Status.COMPLETED
    assert parse_status("canceled") is Status.CANCELLED
    assert parse_status(Status.BLOCKED) is Status.BLOCKED


def test_find_task_variants():
    doc = parse("- [ ] 1.0 A\n- [ ] T012 B\n- [ ] 2. C\n")
    assert find_task(doc, "1").task.title == "A"
    assert find_task(doc, "1.0").task.title == "A"
    assert find_task(doc, "t012").task.title == "B"
    assert find_task(doc, "2").task.title == "C"
    assert find_task(doc, "9") is None


def test_task_is_found_again_in_the_current_text():
    doc = parse(SAMPLE)
    loc = find_task(doc, "3.1")
    changed = "# Preface\n\nAdded later.\n\n" + SAMPLE
    out = apply_edits(changed, status_edits(changed, doc, loc, "completed", now=NOW))
    assert out.startswith("# Preface\n\nAdded later.\n\n")
    assert task(out, "3.1").task.status is Status.COMPLETED
    assert task(out, "1.1").task.status is Status.COMPLETED


def test_task_without_id_by_position():
    text = "- [ ] first\n- [ ] second\n"
    doc = parse(text)
    second = list(doc.located_tasks())[1]
    assert apply_edits(text, status_edits(text, doc, second, "completed", now=NOW)) == (
        f"- [ ] first\n- [x] second ✅\n  - **Completed**: {STAMP}\n"
    )
    # after an edit above it, found again by its title near its old line
    changed = "- [ ] zeroth\n" + text
    out = apply_edits(changed, status_edits(changed, doc, second, "completed", now=NOW))
    assert out.startswith("- [ ] zeroth\n- [ ] first\n- [x] second ✅\n")
    with pytest.raises(EditError):
        status_edits("- [ ] other\n", doc, second, "completed", now=NOW)


def test_extra_fields_for_the_runner():
    text = "- [~] 1 Build 🔄\n  - **In Progress**: Started 2025-01-12 10:00\n"
    edits = status_edits(
        text, None, "1", "blocked", now=NOW,
        extra_fields=[("Error", "exit code 2: tsc failed"), ("Attempted", STAMP)],
    )  # fmt: skip
    assert apply_edits(text, edits) == (
        "- [!] 1 Build ⚠️\n  - **In Progress**: Started 2025-01-12 10:00\n"
        f"  - **Error**: exit code 2: tsc failed\n  - **Attempted**: {STAMP}\n"
    )


def test_note_whitespace_is_collapsed():
    out = setst("- [ ] 1 A\n", "1", "blocked", note="  two\nlines  ")
    assert out.endswith("  - **Issue**: two lines\n")


def test_timestamps():
    assert format_timestamp(datetime(2025, 3, 4, 5, 6, 7)) == "2025-03-04 05:06"
    aware = datetime(2025, 3, 4, 5, 6, tzinfo=UTC)
    assert format_timestamp(aware) == aware.astimezone().strftime("%Y-%m-%d %H:%M")
    other = datetime(2025, 3, 4, 5, 6, tzinfo=timezone(timedelta(hours=5)))
    assert format_timestamp(other) == other.astimezone().strftime("%Y-%m-%d %H:%M")
    assert len(format_timestamp()) == 16


def test_apply_edits():
    text = "ab\r\ncd\nef"
    edits = [
        TextEdit(Range.of(2, 1, 2), "F"),
        TextEdit(Range.of(0, 2, 2), "!"),
        TextEdit(Range.of(0, 2, 2), "?"),
        TextEdit(Range.of(1, 0, 1, end_line=2), "X"),
    ]
    assert apply_edits(text, edits) == "ab!?\r\nXF"
    with pytest.raises(ValueError):
        apply_edits(text, [TextEdit(Range.of(0, 0, 2), ""), TextEdit(Range.of(0, 1, 2), "")])


def test_edits_are_sorted_and_do_not_overlap():
    edits = status_edits(SAMPLE, None, "1.1", "in_progress", now=NOW)
    assert edits == sorted(edits, key=lambda e: (e.range.start, e.range.end))
    for a, b in itertools.pairwise(edits):
        assert a.range.end < b.range.start


def test_single_task_line_edit_is_merged_with_the_insert():
    # marker, emoji and the new field all on/after one line: edits touch, so they are merged
    edits = status_edits("- [ ] 1 A", None, "1", "completed", now=NOW)
    assert apply_edits("- [ ] 1 A", edits) == f"- [x] 1 A ✅\n  - **Completed**: {STAMP}"
    assert len(edits) == 2


# -- properties --------------------------------------------------------------------------------------

WORDS = ["Add", "the", "login", "endpoint", "tests", "for", "`api/x.ts`", "(after review)", "v2",
         "—", "🚀", "über", "cache", "#12", "1.5", "x"]  # fmt: skip
FIELD_KEYS = ["Droid", "Files", "Dependencies", "Completed", "In Progress", "Issue", "Status",
              "Notes", "Error", "Acceptance criteria", "Started"]  # fmt: skip
VALUES = ["backend-engineer", "api/x.ts, api/y.ts", "Task 1.1", "2025-01-12 15:20",
          "Started 2025-01-12 15:40", "redis is down", "", "see below", "1.2, 1.3"]  # fmt: skip
MARKERS = ["[ ]", "[x]", "[~]", "[!]", "[X]", "[-]", "[cancelled]", "[canceled]", "[ ]*", "[/]"]
TRAILING = ["✅", "🔄", "⚠️", "❌", "FAILED"]


@st.composite
def task_files(draw) -> str:
    unit = draw(st.sampled_from(["  ", "    ", "\t"]))
    inside = draw(st.booleans())
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    counter = iter(range(1, 10_000))
    out: list[str] = []

    def words(lo: int, hi: int) -> str:
        return " ".join(draw(st.lists(st.sampled_from(WORDS), min_size=lo, max_size=hi)))

    def child_indent(indent: str, bullet: str) -> str:
        need = len(bullet) + 1
        if unit == "\t" or len(unit) >= need:
            return indent + unit
        return indent + " " * need

    def field(indent: str, bullet: str) -> None:
        key = draw(st.sampled_from(FIELD_KEYS))
        head = f"**{key}:**" if inside else f"**{key}**:"
        value = draw(st.sampled_from(VALUES))
        out.append(f"{indent}{bullet} {head}{' ' + value if value else ''}")
        if draw(st.integers(0, 5)) == 0:
            out.append(f"{child_indent(indent, bullet)}- nested note {words(0, 2)}")

    def task(indent: str, depth: int, prefix: str) -> None:
        bullet = draw(st.sampled_from(["-", "-", "*", "+", "1."]))
        marker = draw(st.sampled_from(MARKERS))
        n = next(counter)
        tid = draw(st.sampled_from(["", f"{prefix}{n}", f"{prefix}{n}", f"T{n:03d}"]))
        title = words(0, 5)
        head = f"{tid} {title}".strip()
        if tid and draw(st.integers(0, 6)) == 0:
            head = f"**{tid} {title or 'Setup'}**"
        tail = " ".join(draw(st.lists(st.sampled_from(TRAILING), max_size=2)))
        out.append(
            f"{indent}{bullet} {marker} {head} {tail}".rstrip()
            if head or tail
            else f"{indent}{bullet} {marker}"
        )
        inner = child_indent(indent, bullet)
        if draw(st.integers(0, 6)) == 0:
            out.append(f"{inner}continued {words(1, 3)}")
        fb = draw(st.sampled_from(["-", "*", "+"]))
        for _ in range(draw(st.integers(0, 3))):
            field(inner, fb)
        if draw(st.integers(0, 5)) == 0:
            out.append(f"{inner}{fb} a plain note {words(0, 2)}")
        if depth < 2:
            for _ in range(draw(st.integers(0, 2))):
                task(inner, depth + 1, f"{prefix}{n}.")
        if draw(st.integers(0, 3)) == 0:
            out.append("")

    if draw(st.booleans()):
        out += ["# Tasks", ""]
    for s in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):
            prio = draw(st.sampled_from(["", " (HIGH)", " (LOW)"]))
            out += [f"## {s + 1}. Section {words(0, 2)}{prio}".rstrip(), ""]
        for _ in range(draw(st.integers(1, 3))):
            task("", 0, "")
        out.append("")
    while out and out[-1] == "":
        out.pop()
    return eol.join(out) + (eol if draw(st.booleans()) else "")


def shape(loc: Located) -> tuple:
    t = loc.task
    return (loc.line, t.id, t.title, t.indent, t.bullet, t.optional, t.depth, t.parent, t.section)


def fields_of(loc: Located) -> list[tuple[str, str]]:
    return [(f.key, f.value) for f in loc.task.fields]


def block_end(lines: list[str], loc: Located) -> int:
    """Last line a status change of ``loc`` may touch: its last field, else its title paragraph."""
    t = loc.task
    if t.fields:
        return max(loc.chunk.line + f.end_line for f in t.fields)
    end = loc.chunk.line + t.end_line
    k = loc.line
    while (
        k < end
        and lines[k + 1].strip()
        and not lines[k + 1].lstrip().startswith(("-", "*", "+", "1."))
    ):
        k += 1
    return k


STATUS_KEYS = {"In Progress", "Completed", "Issue", "Status"}
STATUS_FIELD = {
    Status.IN_PROGRESS: "In Progress",
    Status.COMPLETED: "Completed",
    Status.BLOCKED: "Issue",
    Status.CANCELLED: "Status",
}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=task_files(),
    pick=st.integers(0, 10_000),
    status=st.sampled_from(list(Status)),
    note=st.sampled_from([None, "redis is down", "  spaced   out  ", "dup of 2.1"]),
)
def test_status_change_properties(text, pick, status, note):
    doc = parse(text)
    locs = list(doc.located_tasks())
    assume(locs)
    i = pick % len(locs)
    loc = locs[i]
    edits = status_edits(text, doc, loc, status, note=note, now=NOW)
    new = apply_edits(text, edits)
    new_doc = parse(new)
    new_locs = list(new_doc.located_tasks())

    # same tasks, only this one's status (and status field / emoji) changed
    assert len(new_locs) == len(locs)
    inserted = len(split_lines(new)) - len(split_lines(text))
    assert inserted in (0, 1)
    for j, (a, b) in enumerate(zip(locs, new_locs, strict=True)):
        sa, sb = shape(a), shape(b)
        if j > i:  # tasks after this one moved down by the inserted line
            sa = (sa[0] + inserted, *sa[1:])
        if j == i:
            assert sb == sa
            assert b.task.status is status and b.task.marker_kind == "canonical"
            tokens = [t for t, _ in b.task.trailing]
            if status is Status.BLOCKED:
                assert tokens and set(tokens) <= {"⚠️", "⚠", "❌", "FAILED"}
            else:
                emoji = {Status.IN_PROGRESS: ["🔄"], Status.COMPLETED: ["✅"]}.get(status, [])
                assert tokens == emoji
            # the old fields, in order (a status field's value may change), then the new one
            old_f, new_f = fields_of(a), fields_of(b)
            assert len(new_f) - len(old_f) == inserted
            for (ka, va), (kb, vb) in zip(old_f, new_f, strict=False):
                assert ka == kb
                assert va == vb or ka in STATUS_KEYS
            key = STATUS_FIELD.get(status)
            if key is not None and status is not Status.BLOCKED:
                assert b.task.field(key) is not None
            if status is Status.BLOCKED:
                reasons = {"Issue", "Blocker", "Error", "Root Cause", "Action Required"}
                assert any(f.canonical in reasons for f in b.task.fields)
            if note is not None and status in (Status.BLOCKED, Status.CANCELLED):
                assert " ".join(note.split()) in b.task.field(key).value
        else:
            assert sb == sa
            assert b.task.status == a.task.status
            assert b.task.marker_text == a.task.marker_text
            assert [t for t, _ in b.task.trailing] == [t for t, _ in a.task.trailing]
            assert fields_of(b) == fields_of(a)

    # only the task's block changed: every other line is byte-identical
    old_lines = split_lines(text)
    end = block_end(old_lines, loc)
    for e in edits:
        assert loc.line <= e.range.start.line and e.range.end.line <= end
    old_k, new_k = split_lines_keepends(text), split_lines_keepends(new)
    assert new_k[: loc.line] == old_k[: loc.line]
    after = len(old_k) - (end + 1)
    if after > 0:
        assert new_k[-after:] == old_k[-after:]

    # line endings and the final newline stay
    if "\n" in text or "\r" in text:  # (a one-line file gets "\n")
        for absent in ("\r", "\n"):
            if absent not in text:
                assert absent not in new
    if "\r\n" in text and text.count("\r") == text.count("\r\n") == text.count("\n"):
        assert new.count("\r") == new.count("\r\n") == new.count("\n")
    assert new.endswith(("\n", "\r")) == text.endswith(("\n", "\r"))

    # idempotent: applying the same change again changes nothing
    assert status_edits(new, new_doc, new_locs[i], status, note=note, now=NOW) == []
    assert (
        apply_edits(new, status_edits(new, new_doc, new_locs[i], status, note=note, now=NOW)) == new
    )


# -- field_edits (the "Assign droid" edit, docs/language.md §11) ---------------------------------


def test_field_edits_add_a_field_in_the_file_style_and_nothing_else():
    text = "## 1. A\r\n- [~] 1.1 Work 🔄\r\n  * **Files:** `a.py`\r\n- [ ] 1.2 Next\r\n"
    edits = field_edits(text, None, "1.1", [("Droid", "db-migrator")])
    new = apply_edits(text, edits)
    # the task's bullet and `**Key:**` style, CRLF kept; no In Progress field, no marker change
    assert new == (
        "## 1. A\r\n- [~] 1.1 Work 🔄\r\n  * **Files:** `a.py`\r\n  * **Droid:** db-migrator\r\n"
        "- [ ] 1.2 Next\r\n"
    )


def test_field_edits_fill_an_empty_field():
    text = "- [ ] 1 Work\n  - **Droid**:\n  - **Files**: a.py\n"
    new = apply_edits(text, field_edits(text, None, "1", [("Droid", "api-builder")]))
    assert new == "- [ ] 1 Work\n  - **Droid**: api-builder\n  - **Files**: a.py\n"
