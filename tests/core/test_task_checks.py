"""Every task diagnostic of docs/language.md §4 (TD001–TD043): what triggers it — with its exact range, its
severity, a specific message and its related information — and a near miss that must not."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taskdroid.core.diagnostics import Diagnostic, Severity
from taskdroid.core.settings import Settings
from taskdroid.core.workspace import Workspace

DROID = "---\nname: {name}\ndescription: A droid for tests.\n---\nYou are {name}.\n"


# -- helpers ---------------------------------------------------------------------------------------


def workspace(tmp_path: Path, files: dict[str, str], settings: Settings | None = None) -> Workspace:
    """Write ``files`` under ``tmp_path`` and index the task and droid files among them."""
    ws = Workspace(tmp_path, settings, personal=False)
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    for rel, text in files.items():
        ws.set_text(str(tmp_path / rel), text)
    return ws


def check(
    tmp_path: Path,
    text: str,
    *,
    extra: dict[str, str] | None = None,
    settings: Settings | None = None,
    name: str = "tasks.md",
) -> list[Diagnostic]:
    ws = workspace(tmp_path, {name: text, **(extra or {})}, settings)
    return ws.diagnostics(str(tmp_path / name))


def of(diags: list[Diagnostic], code: str) -> list[Diagnostic]:
    return [d for d in diags if d.code == code]


def one(diags: list[Diagnostic], code: str) -> Diagnostic:
    found = of(diags, code)
    assert len(found) == 1, [(d.code, d.message) for d in diags]
    return found[0]


def rng(d) -> tuple[int, int, int, int]:
    r = d.range
    return (r.start.line, r.start.character, r.end.line, r.end.character)


def related(d: Diagnostic) -> list[tuple[str | None, tuple[int, int, int, int], str]]:
    return [(r.path, rng(r), r.message) for r in d.related]


def assert_source_text(text: str, d: Diagnostic, expected: str) -> None:
    """The range covers exactly ``expected`` in ``text``."""
    line = text.split("\n")[d.range.start.line]
    assert d.range.start.line == d.range.end.line
    assert line[d.range.start.character : d.range.end.character] == expected


# -- TD001 malformed-marker --------------------------------------------------------------------------


def test_td001_malformed_marker(tmp_path):
    text = "## Tasks\n- [x] 1.1 Done\n- [/] 1.2 Half done\n"
    d = one(check(tmp_path, text), "TD001")
    assert rng(d) == (2, 2, 2, 5)
    assert d.severity is Severity.ERROR
    assert "`[/]`" in d.message and "not a status marker" in d.message
    assert "did you mean `[~]`" in d.message
    for marker in ("`[ ]`", "`[~]`", "`[x]`", "`[!]`", "`[cancelled]`"):
        assert marker in d.message


@pytest.mark.parametrize("marker", ["[]", "[ x]", "[x ]", "[*]", "[✓]", "[v]"])
def test_td001_each_malformed_form(tmp_path, marker):
    text = f"- {marker} 1 Task\n"
    d = one(check(tmp_path, text), "TD001")
    assert rng(d) == (0, 2, 0, 2 + len(marker))
    assert f"`{marker}`" in d.message


def test_td001_near_miss(tmp_path):
    text = (
        "- [x] 1 Done\n- [X] 2 Alias\n- [-] 3 Kiro\n- [cancelled] 4 Dropped\n"
        "- [P] tasks = parallel\n- [US1] story\n- [Docs](https://example.com)\n"
    )
    assert of(check(tmp_path, text), "TD001") == []


# -- TD002 missing-task-id ---------------------------------------------------------------------------


def test_td002_missing_task_id(tmp_path):
    text = "## 1. Setup\n- [x] 1.1 One\n- [ ] Two without ID\n- [ ] 1.2 Three\n"
    d = one(check(tmp_path, text), "TD002")
    assert rng(d) == (2, 6, 2, 20)
    assert_source_text(text, d, "Two without ID")
    assert d.severity is Severity.WARNING
    assert "no ID" in d.message and "2 of its 3 sibling tasks" in d.message
    assert "next free ID: `1.3`" in d.message


def test_td002_near_misses(tmp_path):
    # half of the siblings without ID: no majority
    text = "- [ ] 1 One\n- [ ] Two\n"
    assert of(check(tmp_path, text), "TD002") == []
    # a range of IDs is not a missing ID; subtasks are another list
    text = "- [ ] T001 One\n- [ ] T002 Two\n- [x] T003~T005: summary line\n  - [ ] sub without ID\n"
    assert of(check(tmp_path, text, name="t2/tasks.md"), "TD002") == []
    # ... also with a lower-case letter suffix (§A1), as with an upper-case one
    for rng_title in ("1.3a-1.3c Sub steps", "1.3A-1.3C Sub steps"):
        text = f"- [ ] 1.1 One\n- [ ] 1.2 Two\n- [ ] {rng_title}\n"
        assert of(check(tmp_path, text, name="t3/tasks.md"), "TD002") == [], rng_title


# -- TD003 duplicate-task-id ---------------------------------------------------------------------------


def test_td003_duplicate_task_id(tmp_path):
    text = "## 1. A\n- [x] 1.1 First\n## 2. B\n- [ ] 2.1 Other\n- [ ] 1.1. Again\n- [ ] 1.1 Third\n"
    found = of(check(tmp_path, text), "TD003")
    assert [rng(d) for d in found] == [(4, 6, 4, 9), (5, 6, 5, 9)]
    for d in found:
        assert d.severity is Severity.ERROR
        assert "`1.1`" in d.message and "line 2" in d.message
        assert related(d) == [(None, (1, 6, 1, 9), "first task `1.1`")]


def test_td003_near_misses(tmp_path):
    text = "- [ ] 1.1 A\n- [ ] 1.10 B\n- [ ] 1 C\n- [ ] 1.0 D\n```\n- [ ] 1.1 in code\n```\n"
    ds = check(tmp_path, text, extra={"more/tasks.md": "- [ ] 1.1 Same ID, other file\n"})
    assert of(ds, "TD003") == []


# -- TD004 id-section-mismatch -----------------------------------------------------------------------------


def test_td004_id_section_mismatch(tmp_path):
    text = "### 3. Deploy\n- [ ] 3.1 Fine\n- [ ] 2.1 Wrong section\n- [ ] 4. Also wrong\n"
    found = of(check(tmp_path, text), "TD004")
    assert [rng(d) for d in found] == [(2, 6, 2, 9), (3, 6, 3, 7)]
    d = found[0]
    assert d.severity is Severity.WARNING
    assert "`2.1`" in d.message and "section 3" in d.message and "`3.`" in d.message
    assert related(d) == [(None, (0, 4, 0, 5), "section 3")]


def test_td004_near_misses(tmp_path):
    text = (
        "### 3. Deploy\n- [ ] 3 Parent\n  - [ ] 2.1 Subtask (top-level tasks only)\n"
        "- [ ] T001 spec-kit IDs\n"
        "### 2024 Roadmap\n- [ ] 1.1 Year is not a section number\n"
        "### Other\n- [ ] 7.1 No number\n"
        "## 1.0 Setup\n- [ ] 1.2 Matches 1.0\n"
    )
    assert of(check(tmp_path, text), "TD004") == []


# -- TD005 noncanonical-marker ------------------------------------------------------------------------------


def test_td005_noncanonical_marker(tmp_path):
    text = "- [X] T001 Done\n- [-] T002 Kiro in progress\n- [x] T003 Also done\n- [~] T004 Going\n"
    found = of(check(tmp_path, text), "TD005")
    assert [rng(d) for d in found] == [(0, 2, 0, 5), (1, 2, 1, 5)]
    assert all(d.severity is Severity.HINT for d in found)
    assert "`[X]`" in found[0].message and "`[x]`" in found[0].message
    assert "completed" in found[0].message
    assert "`[-]`" in found[1].message and "`[~]`" in found[1].message


def test_td005_near_miss(tmp_path):
    assert of(check(tmp_path, "- [x] 1 a\n- [~] 2 b\n- [canceled] 3 c\n"), "TD005") == []


def test_td005_only_where_the_file_mixes(tmp_path):
    """docs/language.md §A7: a file that writes `[X]` throughout (spec-kit) is consistent."""
    text = "- [X] T001 Done\n- [X] T002 Also\n- [ ] T003 Next\n- [-] T004 Kiro\n"
    assert of(check(tmp_path, text), "TD005") == []
    # near miss: the same status written both ways, even far apart (another chunk)
    mixed = text + "\n" * 400 + "# Later\n\n- [x] T005 Canonical\n"
    found = of(check(tmp_path, mixed), "TD005")
    assert [rng(d) for d in found] == [(0, 2, 0, 5), (1, 2, 1, 5)]


# -- TD010 unknown-dependency --------------------------------------------------------------------------------


def test_td010_unknown_dependency(tmp_path):
    text = "- [ ] 1.1 A\n- [ ] 1.2 B\n  - **Dependencies**: 1.1, 9.9, missing.md#1, tasks-b.md#7\n"
    ds = check(tmp_path, text, extra={"tasks-b.md": "- [ ] 1 Other file\n"})
    found = of(ds, "TD010")
    assert [rng(d) for d in found] == [(2, 27, 2, 30), (2, 32, 2, 44), (2, 46, 2, 58)]
    assert all(d.severity is Severity.ERROR for d in found)
    assert "`9.9`" in found[0].message and "this file" in found[0].message
    assert "`missing.md`" in found[1].message and "does not exist" in found[1].message
    assert "`7`" in found[2].message and "`tasks-b.md`" in found[2].message


def test_td010_near_misses(tmp_path):
    text = (
        "- [ ] 1.0 Parent\n- [ ] 2 B\n"
        "  - **Dependencies**: Task 1, tasks-b.md#3, /sub/tasks.md#1, tasks-b.md\n"
        "- [ ] 3 C\n  - **Dependencies**: Node 18 upgrade first\n"
        "- [ ] 4 D\n  - **Dependencies**: none\n"
    )
    extra = {"tasks-b.md": "- [ ] 3 Other\n", "sub/tasks.md": "- [ ] 1 Sub\n"}
    assert of(check(tmp_path, text, extra=extra), "TD010") == []


# -- TD011 dependency-cycle ---------------------------------------------------------------------------------


def test_td011_cycle_in_one_file(tmp_path):
    text = (
        "- [ ] 1 A\n  - **Dependencies**: 2\n"
        "- [ ] 2 B\n  - **Dependencies**: 3\n"
        "- [ ] 3 C\n  - **Dependencies**: 1\n"
        "- [ ] 4 D\n  - **Dependencies**: 1\n"
    )
    found = of(check(tmp_path, text), "TD011")
    assert [rng(d) for d in found] == [(1, 22, 1, 23), (3, 22, 3, 23), (5, 22, 5, 23)]
    d = found[0]
    assert d.severity is Severity.ERROR
    assert "`1` → `2` → `3` → `1`" in d.message
    assert related(d) == [
        (None, (0, 6, 0, 7), "`1` is on the cycle"),
        (None, (2, 6, 2, 7), "`2` is on the cycle"),
        (None, (4, 6, 4, 7), "`3` is on the cycle"),
    ]
    assert "`2` → `3` → `1` → `2`" in found[1].message


def test_td011_self_dependency(tmp_path):
    text = "- [ ] 1.1 A\n  - **Dependencies**: 1.1\n"
    d = one(check(tmp_path, text), "TD011")
    assert rng(d) == (1, 22, 1, 25)
    assert "`1.1` depends on itself" in d.message
    assert related(d) == [(None, (0, 6, 0, 9), "`1.1` is on the cycle")]


def test_td011_cycle_across_two_files(tmp_path):
    a = "- [ ] 1 A\n  - **Dependencies**: tasks-b.md#1\n"
    b = "# B\n- [ ] 1 B\n  - **Dependencies**: tasks-a.md#1\n"
    ws = workspace(tmp_path, {"tasks-a.md": a, "tasks-b.md": b})
    pa, pb = str(tmp_path / "tasks-a.md"), str(tmp_path / "tasks-b.md")
    da = one(ws.diagnostics(pa), "TD011")
    assert rng(da) == (1, 22, 1, 34)
    assert "`1` → `tasks-b.md#1` → `1`" in da.message
    assert related(da) == [
        (None, (0, 6, 0, 7), "`1` is on the cycle"),
        (pb, (1, 6, 1, 7), "`tasks-b.md#1` is on the cycle"),
    ]
    db = one(ws.diagnostics(pb), "TD011")
    assert rng(db) == (2, 22, 2, 34)
    assert related(db) == [
        (None, (1, 6, 1, 7), "`1` is on the cycle"),
        (pa, (0, 6, 0, 7), "`tasks-a.md#1` is on the cycle"),
    ]


def test_td011_near_miss(tmp_path):
    text = "- [ ] 1 A\n- [ ] 2 B\n  - **Dependencies**: 1\n- [ ] 3 C\n  - **Dependencies**: 1, 2\n"
    assert of(check(tmp_path, text), "TD011") == []


# -- TD012 dependency-not-complete ---------------------------------------------------------------------------


def test_td012_dependency_not_complete(tmp_path):
    text = (
        "- [ ] 1.1 Pending dep\n"
        "- [cancelled] 1.2 Cancelled dep\n"
        "- [~] 1.3 Started\n  - **Dependencies**: 1.1, 1.2\n"
        "- [x] 1.4 Done\n  - **Completed**: 2025-01-12 10:00\n  - **Dependencies**: Task 1.3\n"
    )
    found = of(check(tmp_path, text), "TD012")
    assert [rng(d) for d in found] == [(3, 22, 3, 25), (3, 27, 3, 30), (6, 27, 6, 30)]
    assert all(d.severity is Severity.WARNING for d in found)
    assert "in progress" in found[0].message and "`1.1`" in found[0].message
    assert "pending" in found[0].message
    assert "cancelled" in found[1].message
    assert "completed" in found[2].message and "in progress" in found[2].message
    assert related(found[0]) == [(None, (0, 6, 0, 9), "`1.1` Pending dep")]
    assert related(found[2]) == [(None, (2, 6, 2, 9), "`1.3` Started")]


def test_td012_across_files(tmp_path):
    text = "- [x] 1 Done\n  - **Dependencies**: tasks-b.md#2\n"
    ds = check(tmp_path, text, extra={"tasks-b.md": "## B\n- [!] 2 Blocked\n  - **Issue**: x\n"})
    d = one(ds, "TD012")
    assert "blocked" in d.message
    assert related(d) == [(str(tmp_path / "tasks-b.md"), (1, 6, 1, 7), "`2` Blocked")]


def test_td012_near_misses(tmp_path):
    text = (
        "- [x] 1 Done\n"
        "- [~] 2 Started on a completed dependency\n  - **Dependencies**: 1\n"
        "- [ ] 3 Pending on a pending dependency\n  - **Dependencies**: 2\n"
        "- [!] 4 Blocked on a pending one\n  - **Blocked by**: 3\n"
    )
    assert of(check(tmp_path, text), "TD012") == []


# -- TD020 unknown-droid --------------------------------------------------------------------------------------


def test_td020_unknown_droid(tmp_path):
    text = "- [ ] 1 A\n  - **Droid**: `backend-develper`\n"
    extra = {".factory/droids/backend-developer.md": DROID.format(name="backend-developer")}
    d = one(check(tmp_path, text, extra=extra), "TD020")
    assert rng(d) == (1, 16, 1, 32)
    assert d.severity is Severity.WARNING
    assert "no droid named `backend-develper`" in d.message
    assert "did you mean `backend-developer`?" in d.message


def test_td020_no_droids_at_all(tmp_path):
    d = one(check(tmp_path, "- [ ] 1 A\n  - **Droid**: ghost\n"), "TD020")
    assert rng(d) == (1, 15, 1, 20)
    assert "`ghost`" in d.message and "no droid files were found" in d.message


def test_td020_near_misses(tmp_path):
    text = (
        "- [ ] 1 A\n  - **Droid**: backend-developer\n"
        "- [ ] 2 B\n  - **Droid**: **reviewer** (Claude Code)\n"
    )
    extra = {
        ".factory/droids/backend-developer.md": DROID.format(name="backend-developer"),
        ".claude/agents/reviewer.md": DROID.format(name="reviewer"),
    }
    assert of(check(tmp_path, text, extra=extra), "TD020") == []


# -- TD021 status-emoji-mismatch -------------------------------------------------------------------------------


def test_td021_status_emoji_mismatch(tmp_path):
    text = "- [x] 1 Deploy ❌ FAILED\n- [ ] 2 Docs ✅\n- [~] 3 API ⚠️\n- [!] 4 DB 🔄\n"
    found = of(check(tmp_path, text), "TD021")
    # docs/language.md §A6: `❌ FAILED` is one status sign, one diagnostic over both
    assert [rng(d) for d in found] == [(0, 15, 0, 23), (1, 13, 1, 14), (3, 11, 3, 12)]
    assert all(d.severity is Severity.WARNING for d in found)
    d = found[0]
    assert "`❌ FAILED`" in d.message and "`[x]`" in d.message and "`[!]`" in d.message
    assert "`✅`" in found[1].message and "pending" in found[1].message
    # near miss: the word alone, or the word before the emoji, are separate signs
    alone = of(check(tmp_path, "- [x] 1 Deploy FAILED\n- [x] 2 Ship FAILED ❌\n"), "TD021")
    assert [rng(d) for d in alone] == [(0, 15, 0, 21), (1, 13, 1, 19), (1, 20, 1, 21)]


def test_td021_near_misses(tmp_path):
    text = (
        "- [x] 1 A ✅\n- [~] 2 B 🔄\n- [~] 3 C ⚠️\n- [!] 4 D ⚠️\n  - **Issue**: x\n"
        "- [!] 5 E ❌ FAILED\n  - **Error**: y\n- [x] 6 Fixed the FAILED test ✅\n"
        "- [/] 7 Malformed marker ✅\n"
    )
    assert of(check(tmp_path, text), "TD021") == []


# -- TD022 completed-without-timestamp -------------------------------------------------------------------------


def test_td022_completed_without_timestamp(tmp_path):
    text = (
        "- [x] 1.1 Stamped\n  - **Completed**: 2025-01-12 15:20\n"
        "- [x] 1.2 Not stamped\n"
        "- [ ] 1.3 Pending\n"
    )
    d = one(check(tmp_path, text), "TD022")
    assert rng(d) == (2, 2, 2, 5)
    assert d.severity is Severity.INFORMATION
    assert "`1.2`" in d.message and "`**Completed**:`" in d.message
    assert "1 other completed task" in d.message


def test_td022_near_misses(tmp_path):
    # no completed task has a timestamp: the file does not use them
    assert of(check(tmp_path, "- [x] 1 A\n- [x] 2 B\n"), "TD022") == []
    # all have one
    text = "- [x] 1 A\n  - **Completed**: 2025-01-12\n- [x] 2 B\n  - **completed:** 2025-01-13\n"
    assert of(check(tmp_path, text, name="t2/tasks.md"), "TD022") == []


# -- TD023 blocked-without-reason -------------------------------------------------------------------------------


def test_td023_blocked_without_reason(tmp_path):
    text = "- [!] 1.4 Add rate limiting ⚠️\n  - **Droid**: backend\n"
    d = one(check(tmp_path, text), "TD023")
    assert rng(d) == (0, 2, 0, 5)
    assert d.severity is Severity.WARNING
    assert "`1.4`" in d.message and "blocked" in d.message and "`**Issue**:`" in d.message


@pytest.mark.parametrize(
    "reason",
    ["Issue", "Blocker", "Error", "Root Cause", "Action Required", "Status", "Blocked by"],
)
def test_td023_near_misses(tmp_path, reason):
    text = f"- [ ] 1.3 Dep\n- [!] 1.4 Add rate limiting\n  - **{reason}**: 1.3 is not done\n"
    assert of(check(tmp_path, text), "TD023") == []


# -- TD024 invalid-timestamp ------------------------------------------------------------------------------------


def test_td024_invalid_timestamp(tmp_path):
    text = (
        "- [x] 1 A\n  - **Completed**: 2025-13-01 10:00\n"
        "- [~] 2 B\n  - **In Progress**: since yesterday\n"
    )
    found = of(check(tmp_path, text), "TD024")
    assert [rng(d) for d in found] == [(1, 19, 1, 35), (3, 21, 3, 36)]
    assert all(d.severity is Severity.WARNING for d in found)
    assert "`Completed`" in found[0].message and "`2025-13-01 10:00`" in found[0].message
    assert "`In Progress`" in found[1].message and "YYYY-MM-DD HH:MM" in found[1].message


def test_td024_near_misses(tmp_path):
    text = (
        "- [x] 1 A\n  - **Completed**: 2025-01-12 15:20 (after review)\n"
        "  - **Started**: Started 2025-01-12T14:00:00+01:00\n"
        "- [!] 2 B\n  - **Attempted**: 2025-01-13\n  - **Error**: exit 1\n"
        "  - **Notes**: not a date, and not a timestamp field\n"
    )
    assert of(check(tmp_path, text), "TD024") == []


def test_td024_td022_free_text_is_a_note(tmp_path):
    """docs/language.md §A4: a Completed value with nothing date-like is a note, not a timestamp."""
    text = (
        "- [x] 1.1 Rules\n  - **Completed:** All 6 rule types with discriminated union pattern\n"
        "- [x] 1.2 Stamped\n  - **Completed**: 2025-01-12 15:20\n"
        "- [x] 1.3 Noted\n  - **Completed**: reviewed by the team\n"
    )
    ds = check(tmp_path, text)
    assert of(ds, "TD024") == []
    assert of(ds, "TD022") == []  # neither fires on the noted tasks
    # the notes do not count as timestamps: with only notes, TD022 stays quiet on an unstamped task
    text2 = "- [x] 1.1 A\n  - **Completed:** All rule types\n- [x] 1.2 B\n"
    assert of(check(tmp_path, text2, name="n/tasks.md"), "TD022") == []
    # near misses: a date-like value that does not parse, and an unstamped task among stamped
    near = text + "- [x] 1.4 Bad\n  - **Completed**: 2025-02-30\n- [x] 1.5 Bare\n"
    ds = check(tmp_path, near, name="m/tasks.md")
    assert [rng(d)[0] for d in of(ds, "TD024")] == [7]
    assert [rng(d)[0] for d in of(ds, "TD022")] == [8]


# -- TD025 timestamp-order ----------------------------------------------------------------------------------------


def test_td025_timestamp_order(tmp_path):
    text = "- [x] 1.1 A\n  - **Started**: 2025-01-12 15:40\n  - **Completed**: 2025-01-12 15:20\n"
    d = one(check(tmp_path, text), "TD025")
    assert rng(d) == (2, 19, 2, 35)
    assert d.severity is Severity.WARNING
    assert (
        "`1.1`" in d.message and "2025-01-12 15:20" in d.message and "2025-01-12 15:40" in d.message
    )
    assert related(d) == [(None, (1, 17, 1, 33), "`Started` time")]


def test_td025_with_in_progress_field(tmp_path):
    text = "- [x] 1 A\n  - **In Progress**: Started 2025-02-01\n  - **Completed**: 2025-01-31\n"
    d = one(check(tmp_path, text), "TD025")
    assert related(d) == [(None, (1, 21, 1, 39), "`In Progress` time")]


def test_td025_near_misses(tmp_path):
    text = (
        "- [x] 1 A\n  - **Started**: 2025-01-12 15:20\n  - **Completed**: 2025-01-12 15:40\n"
        "- [x] 2 Same day, date only\n  - **Started**: 2025-01-12 18:00\n"
        "  - **Completed**: 2025-01-12\n"
    )
    assert of(check(tmp_path, text), "TD025") == []


# -- TD030 unknown-priority ---------------------------------------------------------------------------------------


def test_td030_unknown_priority(tmp_path):
    text = "## 1. Auth (HIGH)\n## 2. Billing (URGENT)\n## 3. Search (HIHG)\n"
    found = of(check(tmp_path, text), "TD030")
    assert [rng(d) for d in found] == [(1, 15, 1, 21), (2, 14, 2, 18)]
    assert all(d.severity is Severity.WARNING for d in found)
    assert (
        "`(URGENT)`" in found[0].message
        and "BLOCKER, CRITICAL, HIGH, MEDIUM, LOW" in found[0].message
    )
    assert "did you mean `HIGH`?" in found[1].message


def test_td030_near_misses(tmp_path):
    # no section uses a known priority
    assert of(check(tmp_path, "## 1. A (URGENT)\n## 2. B (SOON)\n"), "TD030") == []
    # acronyms are not priorities
    text = "## 1. Auth (HIGH)\n## 2. Tokens (JWT)\n## Phase 3 (MVP)\n## 4. Tests (P)\n"
    assert of(check(tmp_path, text, name="t2/tasks.md"), "TD030") == []


def test_td030_configured_priorities(tmp_path):
    settings = Settings.model_validate({"priorities": ["P0", "P1", "P2"]})
    text = "## 1. A (P0)\n## 2. B (P1)\n## 3. C (HIGH)\n## 4. D (P3)\n"
    found = of(check(tmp_path, text, settings=settings), "TD030")
    assert [rng(d) for d in found] == [(2, 9, 2, 13), (3, 9, 3, 11)]
    assert "`(HIGH)`" in found[0].message and "P0, P1, P2" in found[0].message
    assert "`(P3)`" in found[1].message


# -- TD031 missing-file ---------------------------------------------------------------------------------------------


def test_td031_missing_file(tmp_path):
    text = "- [x] 1 A\n  - **Files**: src/here.ts, src/gone.ts (removed later), `lib/x.py:12`\n"
    d = one(check(tmp_path, text, extra={"src/here.ts": "x", "lib/x.py": ""}), "TD031")
    assert rng(d) == (1, 28, 1, 39)
    assert d.severity is Severity.INFORMATION
    assert "`src/gone.ts`" in d.message and "completed" in d.message
    assert "does not exist" in d.message


def test_td031_near_misses(tmp_path):
    text = (
        "- [x] 1 A\n  - **Files**: src/here.ts, src/dir/, `src/here.ts:10-20`, README\n"
        "  - **Completed**: 2025-01-12\n"
        "- [ ] 2 Pending tasks may name files that do not exist yet\n"
        "  - **Files**: src/future.ts\n"
        "- [x] 3 Not paths\n  - **Files**: N/A, https://example.com/x.ts, src/**/*.ts\n"
    )
    extra = {"src/here.ts": "x", "src/dir/a.ts": "x"}
    assert of(check(tmp_path, text, extra=extra), "TD031") == []


def test_td031_nested_file_items(tmp_path):
    text = "- [x] 1 A\n  - **Files**:\n    - `src/here.ts` (new)\n    - `src/gone.ts` (new)\n"
    d = one(check(tmp_path, text, extra={"src/here.ts": "x"}), "TD031")
    assert rng(d) == (3, 7, 3, 18)


# -- TD032 prohibited-path -----------------------------------------------------------------------------------------


def test_td032_prohibited_path(tmp_path):
    text = "- [ ] 1 A\n  - **Files**: config/.env, .git/hooks/pre-commit, src/a.ts\n"
    found = of(check(tmp_path, text), "TD032")
    assert [rng(d) for d in found] == [(1, 15, 1, 26), (1, 28, 1, 49)]
    assert all(d.severity is Severity.WARNING for d in found)
    assert "`config/.env`" in found[0].message and "secrets" in found[0].message
    assert "`.git/hooks/pre-commit`" in found[1].message and "git" in found[1].message


def test_td032_near_misses(tmp_path):
    text = (
        "- [ ] 1 A\n  - **Files**: .env.example, .env.local.sample, .github/workflows/ci.yml, "
        ".gitignore, docs/env.md (mentions .env)\n"
    )
    assert of(check(tmp_path, text), "TD032") == []


# -- TD040 misspelled-field ----------------------------------------------------------------------------------------


def test_td040_misspelled_field(tmp_path):
    text = "- [ ] 1 A\n  - **Depndencies**: 1.1\n  - **Dependency**: 1.2\n  - **Driod**: x\n"
    found = of(check(tmp_path, text), "TD040")
    assert [rng(d) for d in found] == [(1, 6, 1, 17), (2, 6, 2, 16), (3, 6, 3, 11)]
    assert all(d.severity is Severity.HINT for d in found)
    assert "`Depndencies`" in found[0].message
    assert "did you mean `Dependencies`?" in found[0].message
    assert "did you mean `Dependencies`?" in found[1].message
    assert "did you mean `Droid`?" in found[2].message


def test_td040_near_misses(tmp_path):
    text = (
        "- [ ] 1 A\n"
        "  - **Current state**: mock data\n"
        "  - **Acceptance criteria**: green\n"
        "  - **Tasks**: a, b\n"
        "  - **Process**: TDD\n"
        "  - **Risk**: low\n"
        "  - **depends on**: none\n"
        "  - **FILE**: a.ts\n"
    )
    assert of(check(tmp_path, text), "TD040") == []


# -- TD041 orphan-field ---------------------------------------------------------------------------------------------


def test_td041_orphan_field(tmp_path):
    text = (
        "## Tasks\n- [x] 1.1 Done\n- **Completed**: 2025-01-12 15:20\n- **Droid**: backend-dev\n"
        "- **Dependencies**: 1.0\n"
    )
    found = of(check(tmp_path, text), "TD041")
    assert [rng(d) for d in found] == [(2, 0, 2, 33), (3, 0, 3, 24), (4, 0, 4, 23)]
    assert all(d.severity is Severity.WARNING for d in found)
    assert "`Completed`" in found[0].message and "not under any task" in found[0].message
    assert "indent" in found[0].message


def test_td041_near_misses(tmp_path):
    text = (
        "# Plan\n- **Started**: 2025-01-10\n- **Droid**: lead-droid\n"  # metadata before any task
        "## Tasks\n- [x] 1 A\n  - **Completed**: 2025-01-12\n"
        "- **Droid**: Claude, or anyone\n"  # not a droid name
        "- **Completed**: soon\n"  # not a timestamp
        "- **Notes**: not a field of a kind that matters\n"
    )
    assert of(check(tmp_path, text), "TD041") == []


# -- TD042 duplicate-field ------------------------------------------------------------------------------------------


def test_td042_duplicate_field(tmp_path):
    text = (
        "- [ ] 1 A\n  - **Droid**: a\n  - **Files**: x.ts\n  - **droid:** b\n  - **File**: y.ts\n"
    )
    found = of(check(tmp_path, text), "TD042")
    assert [rng(d) for d in found] == [(3, 6, 3, 11), (4, 6, 4, 10)]
    assert all(d.severity is Severity.WARNING for d in found)
    assert (
        "`droid`" in found[0].message and "twice" in found[0].message and "`1`" in found[0].message
    )
    assert related(found[0]) == [(None, (1, 6, 1, 11), "first `Droid` field")]
    assert related(found[1]) == [(None, (2, 6, 2, 11), "first `Files` field")]


def test_td042_near_misses(tmp_path):
    text = (
        "- [ ] 1 A\n  - **Droid**: a\n  - **Notes**: n\n"
        "  - [ ] 1.1 Sub\n    - **Droid**: b\n"
        "- [ ] 2 B\n  - **Droid**: a\n"
    )
    assert of(check(tmp_path, text), "TD042") == []


# -- TD043 empty-field ---------------------------------------------------------------------------------------------


def test_td043_empty_field(tmp_path):
    text = "- [x] 1 A\n  - **Droid**:\n  - **Dependencies**: \n  - **Completed**:\n"
    found = of(check(tmp_path, text), "TD043")
    assert [rng(d) for d in found] == [(1, 6, 1, 11), (2, 6, 2, 18), (3, 6, 3, 15)]
    assert all(d.severity is Severity.WARNING for d in found)
    assert "`Droid` is empty" in found[0].message and "droid name" in found[0].message
    assert "`Dependencies`" in found[1].message and "`none`" in found[1].message
    assert "`Completed`" in found[2].message and "YYYY-MM-DD HH:MM" in found[2].message


def test_td043_near_misses(tmp_path):
    text = (
        "- [ ] 1 A\n  - **Dependencies**: none\n  - **Notes**:\n"
        "- [ ] 2 B\n  - **Dependencies**:\n    - 1\n"
    )
    assert of(check(tmp_path, text), "TD043") == []


# -- settings: diagnostics.disable and diagnostics.severity -----------------------------------------------------------


def test_diagnostics_disable_and_severity(tmp_path):
    text = (
        "- [x] 1 A\n  - **Completed**: 2025-01-12\n- [x] 2 B\n  - **Depndencies**: 1\n- [/] 3 C\n"
    )
    base = check(tmp_path, text)
    assert {d.code for d in base} >= {"TD022", "TD040", "TD001"}
    settings = Settings.model_validate(
        {"diagnostics": {"disable": ["TD022"], "severity": {"TD040": "warning", "TD001": "info"}}}
    )
    ds = check(tmp_path, text, settings=settings, name="t2/tasks.md")
    assert of(ds, "TD022") == []
    assert one(ds, "TD040").severity is Severity.WARNING
    assert one(ds, "TD001").severity is Severity.INFORMATION


def test_every_diagnostic_has_source_fields(tmp_path):
    text = "- [/] 1 A\n- [!] 1 B\n"
    for d in check(tmp_path, text):
        assert d.code.startswith("TD")
        assert d.message and d.message[0] != " "
        assert d.range.start <= d.range.end


_FILES_PIECES = [
    *["a", "b/c.ts", " ", ",", ".env", "*", "_", ";", ":", ".", "[x]", "[", "]", "\t"],
    *["é", "\u00a0", "\x1c", "**", "\u2028", "\x0c"],
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_FILES_PIECES), max_size=10).map("".join))
def test_files_fast_path_reads_entries_like_the_tokenizer(value):
    # values without backticks or parentheses take a fast path; an annotation after the value
    # sends the same entries through the general tokenizer
    from taskdroid.core.checks.task_local import _entries

    assert _entries(value, 3, 7) == _entries(value + " (note)", 3, 7)
