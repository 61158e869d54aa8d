"""Droid suggestion and fit (docs/language.md §11): the tokenizer, BM25F ranking on a fixed droid
set, the reason text, what a droid's tools can do, and TD026 droid-cannot-edit."""

from __future__ import annotations

from pathlib import Path

import pytest

from taskdroid.core.droid_rank import (
    DroidRanker,
    capabilities,
    reason,
    stem,
    suggest,
    task_terms,
    tokenize,
)
from taskdroid.core.droids import parse_droid
from taskdroid.core.settings import DEFAULT_SETTINGS, Settings
from taskdroid.core.workspace import Workspace

#: six droids: (name, description, tools line or None for no tools key)
DROIDS = [
    (
        "db-migrator",
        "Writes and reviews database migrations and schema changes (SQL, Prisma).",
        "[Read, Edit, Create, Execute]",
    ),
    (
        "frontend-dev",
        "Builds React components, pages and CSS styles for the web UI.",
        "[Read, Edit, MultiEdit, Create]",
    ),
    (
        "api-builder",
        "Implements REST API endpoints, request handlers and services.",
        "[Read, Edit, Create, Execute, Grep]",
    ),
    (
        "test-writer",
        "Writes unit and integration tests and runs the test suite.",
        "[Read, Edit, Create, Execute]",
    ),
    (
        "code-reviewer",
        "Reviews code changes for bugs, security and style; never edits.",
        "read-only",
    ),
    ("docs-writer", "Writes documentation, READMEs and guides in markdown.", None),
]


def droid_text(name: str, desc: str, tools: str | None) -> str:
    tools_line = f"tools: {tools}\n" if tools is not None else ""
    return f"---\nname: {name}\ndescription: {desc}\n{tools_line}---\nYou are {name}.\n"


def workspace(tmp_path: Path, droids=DROIDS, settings: Settings | None = None) -> Workspace:
    ws = Workspace(tmp_path, settings or Settings(), personal=False)
    folder = tmp_path / ".factory" / "droids"
    folder.mkdir(parents=True, exist_ok=True)
    for name, desc, tools in droids:
        p = folder / f"{name}.md"
        p.write_text(droid_text(name, desc, tools))
        ws.set_droid_text(str(p), p.read_text())
    return ws


def ranked(ws: Workspace, task_md: str) -> list:
    doc = ws.set_task_text(str(Path(str(ws.root)) / "tasks.md"), task_md)
    loc = next(iter(doc.located_tasks()))
    files = [
        p
        for f in loc.task.fields
        if f.canonical == "Files"
        for p in [e.strip().strip("`") for e in f.value.split(",")]
        if p
    ]
    return ws.droid_ranker().rank(task_terms(loc.task, files))


# -- the tokenizer --------------------------------------------------------------------------------


def test_tokenize_splits_case_paths_and_drops_stop_words():
    words = [w for _t, w in tokenize("Add the userProfile API to src/api/user-profile_v2.ts")]
    assert words == ["user", "profile", "api", "src", "api", "user", "profile", "ts"]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("migrations", "migration"),
        ("migrate", "migration"),
        ("migrated", "migrations"),
        ("testing", "tests"),
        ("writes", "writer"),
        ("reviews", "reviewer"),
        ("components", "component"),
        ("running", "run"),
        ("documentation", "documents"),
    ],
)
def test_stemming_joins_forms_of_one_word(a, b):
    assert stem(a) == stem(b)


@pytest.mark.parametrize(("a", "b"), [("test", "text"), ("api", "app"), ("status", "state")])
def test_stemming_keeps_different_words_apart(a, b):
    assert stem(a) != stem(b)


# -- ranking ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("task", "best"),
    [
        ("- [ ] 1.1 Add migration for the orders table\n  - **Files**: `db/migrations/004_orders.sql`\n", "db-migrator"),
        ("- [ ] 1.2 Build the login page\n  - **Files**: `web/src/LoginPage.tsx`, `web/src/login.css`\n", "frontend-dev"),
        ("- [ ] 1.3 REST endpoint for user search\n  - **Files**: `server/handlers/search.go`\n", "api-builder"),
        ("- [ ] 1.4 Cover the parser with unit tests\n  - **Files**: `tests/test_parser.py`\n", "test-writer"),
        ("- [ ] 1.5 Write the README and a getting-started guide\n  - **Files**: `README.md`\n", "docs-writer"),
        ("- [ ] 1.6 Review the auth changes for security bugs\n", "code-reviewer"),
    ],
)  # fmt: skip
def test_the_droid_that_fits_ranks_first(tmp_path, task, best):
    matches = ranked(workspace(tmp_path), task)
    assert matches[0].name == best
    assert matches[0].score > matches[1].score > 0 or matches[0].score > 0
    assert len(matches) == 6


def test_the_query_uses_fields_and_files_not_only_the_title(tmp_path):
    ws = workspace(tmp_path)
    plain = ranked(ws, "- [ ] 2.1 Orders\n")
    assert all(m.score == 0 for m in plain)  # no word of the title is in any droid
    with_files = ranked(ws, "- [ ] 2.1 Orders\n  - **Files**: `db/schema.prisma`\n")
    assert with_files[0].name == "db-migrator"
    with_notes = ranked(ws, "- [ ] 2.1 Orders\n  - **Notes**: needs new React components\n")
    assert with_notes[0].name == "frontend-dev"


def test_ties_are_broken_by_name_and_no_match_scores_zero(tmp_path):
    matches = ranked(workspace(tmp_path), "- [ ] 3.1 Quarterly numbers\n")
    assert [m.name for m in matches] == sorted(n for n, _d, _t in DROIDS)
    assert {m.score for m in matches} == {0.0}


def test_reason_names_the_matching_words_and_the_tools(tmp_path):
    matches = ranked(
        workspace(tmp_path),
        "- [ ] 1.1 Add migrations for orders\n  - **Files**: `db/migrations/004_orders.sql`\n",
    )
    top = matches[0]
    text = reason(top, needs_edit=True)
    assert text.startswith("name matches ") or text.startswith("description mentions ")
    assert "migrations" in text
    assert text.endswith("can edit; has Execute")
    reviewer = next(m for m in matches if m.name == "code-reviewer")
    assert "read-only" in reason(reviewer, needs_edit=True)
    docs = next(m for m in matches if m.name == "docs-writer")
    assert reason(docs).endswith("all tools")


def test_the_index_is_built_once_per_droid_change(tmp_path):
    ws = workspace(tmp_path)
    first = ws.droid_ranker()
    ws.set_task_text(str(tmp_path / "tasks.md"), "- [ ] 1 x\n")
    assert ws.droid_ranker() is first  # task edits keep it
    p = tmp_path / ".factory" / "droids" / "ops.md"
    p.write_text(droid_text("ops", "Deploys services to Kubernetes", "[Execute]"))
    ws.set_droid_text(str(p), p.read_text())
    again = ws.droid_ranker()
    assert again is not first and len(again) == 7


def test_idf_prefers_the_rarer_word(tmp_path):
    ws = workspace(
        tmp_path,
        [
            ("alpha", "writes python code", "[Edit]"),
            ("beta", "writes python code for kafka", "[Edit]"),
            ("gamma", "writes python code", "[Edit]"),
        ],
    )
    matches = ranked(ws, "- [ ] 1 python kafka consumer\n")
    assert matches[0].name == "beta"
    assert matches[0].terms[0][2] == "kafka"  # the rare word counts most


# -- capabilities ------------------------------------------------------------------------------------


def caps(front: str, path: str = "/p/.factory/droids/x.md", extra=()):
    text = f"---\nname: x\ndescription: d\n{front}---\nbody\n"
    return capabilities(parse_droid(text, path, DEFAULT_SETTINGS), extra)


@pytest.mark.parametrize(
    ("front", "path", "can_edit"),
    [
        ("", "/p/.factory/droids/x.md", True),  # no tools key: every tool
        ("tools: read-only\n", "/p/.factory/droids/x.md", False),
        ("tools: [read-only]\n", "/p/.factory/droids/x.md", False),
        ("tools: [Read, Grep, Execute]\n", "/p/.factory/droids/x.md", False),
        ("tools: Read, Grep\n", "/p/.claude/agents/x.md", False),
        ("tools: []\n", "/p/.factory/droids/x.md", False),
        ("tools: [Read, ApplyPatch]\n", "/p/.factory/droids/x.md", True),
        ("tools: edit\n", "/p/.factory/droids/x.md", True),
        ("tools: Read, Write\n", "/p/.claude/agents/x.md", True),
        ("tools: Read, Edit(src/**)\n", "/p/.claude/agents/x.md", True),
        ("tools: ['*']\n", "/p/.claude/agents/x.md", True),
        ("tools: Read, mcp__fs__write_file\n", "/p/.claude/agents/x.md", True),
        ("tools: Read, mcp__gh__list_issues\n", "/p/.claude/agents/x.md", False),
        ("permissionMode: plan\n", "/p/.claude/agents/x.md", False),
        ("disallowedTools: Edit, Write, MultiEdit\n", "/p/.claude/agents/x.md", False),
        ("disallowedTools: Bash\n", "/p/.claude/agents/x.md", True),
        ("tools: Read, Edit\ndisallowedTools: Edit\n", "/p/.claude/agents/x.md", False),
        ("tools: 3\n", "/p/.factory/droids/x.md", None),  # invalid: cannot tell
    ],
)
def test_what_a_droid_can_edit(front, path, can_edit):
    c = caps(front, path)
    assert c.can_edit is can_edit
    assert bool(c.why_not) is (can_edit is False)


def test_an_extra_tool_may_edit():
    assert caps("tools: [Read, deploy]\n", extra=("deploy",)).can_edit is None
    assert caps("tools: [Read, deploy]\n").can_edit is False


def test_execute_tool_is_named():
    assert caps("tools: [Read, Execute]\n").execute_tool == "Execute"
    assert caps("tools: Read, Bash(git diff:*)\n", "/p/.claude/agents/x.md").execute_tool == "Bash"
    assert caps("tools: [Read]\n").can_execute is False


def test_ranker_skips_droids_without_a_name():
    d = parse_droid("---\ndescription: d\n---\nbody\n", "/p/droids/x.md", DEFAULT_SETTINGS)
    assert len(DroidRanker([d])) == 0


# -- TD026 droid-cannot-edit ---------------------------------------------------------------------------


def td026(tmp_path: Path, task_md: str, droids=DROIDS) -> list:
    ws = workspace(tmp_path, droids)
    path = str(tmp_path / "tasks.md")
    ws.set_task_text(path, task_md)
    return [d for d in ws.diagnostics(path) if d.code == "TD026"]


def test_td026_read_only_droid_on_a_task_whose_files_change(tmp_path):
    text = (
        "## 1. A\n- [ ] 1.1 Fix the bug\n  - **Droid**: code-reviewer\n  - **Files**: `src/a.py`\n"
    )
    (d,) = td026(tmp_path, text)
    assert (d.range.start.line, d.range.start.character, d.range.end.character) == (2, 15, 28)
    assert "`tools: read-only`" in d.message and "`src/a.py`" in d.message
    (rel,) = d.related
    assert rel.path and rel.path.endswith("code-reviewer.md") and rel.range.start.line == 3


@pytest.mark.parametrize("marker", ["[ ]", "[~]", "[!]"])
def test_td026_on_every_open_status(tmp_path, marker):
    text = f"- {marker} 1 Fix\n  - **Droid**: code-reviewer\n  - **Files**: a.py, b.py\n  - **Issue**: x\n"
    assert len(td026(tmp_path, text)) == 1


@pytest.mark.parametrize(
    "text",
    [
        # completed and cancelled tasks change nothing any more
        "- [x] 1 Fix ✅\n  - **Droid**: code-reviewer\n  - **Files**: `src/a.py`\n",
        "- [cancelled] 1 Fix\n  - **Droid**: code-reviewer\n  - **Files**: `src/a.py`\n",
        # no Files: a review needs no edit tool
        "- [ ] 1 Review the auth module\n  - **Droid**: code-reviewer\n",
        "- [ ] 1 Review\n  - **Droid**: code-reviewer\n  - **Files**:\n",
        # a droid that can edit, and one that inherits every tool
        "- [ ] 1 Fix\n  - **Droid**: test-writer\n  - **Files**: `src/a.py`\n",
        "- [ ] 1 Fix\n  - **Droid**: docs-writer\n  - **Files**: `src/a.py`\n",
        # an unknown droid is TD020's business
        "- [ ] 1 Fix\n  - **Droid**: ghost\n  - **Files**: `src/a.py`\n",
    ],
)
def test_td026_near_misses_are_quiet(tmp_path, text):
    assert td026(tmp_path, text) == []


def test_td026_follows_the_droid_file(tmp_path):
    ws = workspace(tmp_path)
    path = str(tmp_path / "tasks.md")
    ws.set_task_text(path, "- [ ] 1 Fix\n  - **Droid**: code-reviewer\n  - **Files**: `a.py`\n")
    assert [d.code for d in ws.diagnostics(path)] == ["TD026"]
    p = tmp_path / ".factory" / "droids" / "code-reviewer.md"
    p.write_text(droid_text("code-reviewer", "Reviews and fixes", "[Read, Edit]"))
    ws.set_droid_text(str(p), p.read_text())
    assert [d.code for d in ws.diagnostics(path)] == []


def test_td026_list_without_edit_tool_names_the_tools(tmp_path):
    droids = [("scout", "Explores the code", "[Read, Grep, Execute]")]
    (d,) = td026(tmp_path, "- [ ] 1 Fix\n  - **Droid**: scout\n  - **Files**: `a.py`\n", droids)
    assert "(Read, Grep, Execute) include no edit tool" in d.message


def test_td026_plan_mode_agent(tmp_path):
    ws = Workspace(tmp_path, Settings(), personal=False)
    p = tmp_path / ".claude" / "agents" / "planner.md"
    p.parent.mkdir(parents=True)
    p.write_text("---\nname: planner\ndescription: plans\npermissionMode: plan\n---\nPlan.\n")
    ws.set_droid_text(str(p), p.read_text())
    path = str(tmp_path / "tasks.md")
    ws.set_task_text(path, "- [ ] 1 Fix\n  - **Droid**: planner\n  - **Files**: `a.py`\n")
    (d,) = [d for d in ws.diagnostics(path) if d.code == "TD026"]
    assert "permissionMode: plan" in d.message
    assert d.related[0].range.start.line == 3


# -- suggestions -------------------------------------------------------------------------------------


def test_suggest_puts_droids_that_can_edit_first_when_files_change(tmp_path):
    ws = workspace(tmp_path)
    review = "- [ ] 1 Review and fix the security bugs in the auth code changes\n"
    doc = ws.set_task_text(str(tmp_path / "tasks.md"), review)
    task = next(iter(doc.located_tasks())).task
    got = suggest(ws.droid_ranker(), task)
    assert got[0].name == "code-reviewer"  # no Files: the best words win
    assert got[0].reason.startswith("name matches code, reviewer") and len(got) <= 3
    doc = ws.set_task_text(str(tmp_path / "tasks.md"), review + "  - **Files**: `src/auth.ts`\n")
    task = next(iter(doc.located_tasks())).task
    got = suggest(ws.droid_ranker(), task)
    names = [s.name for s in got]
    assert "code-reviewer" not in names[:-1]  # with Files to change, it comes last if at all
    assert all(s.score > 0 and s.reason for s in got)
    assert "read-only" in next(s.reason for s in got if s.name == "code-reviewer")


def test_suggest_offers_nothing_when_no_word_matches(tmp_path):
    ws = workspace(tmp_path)
    doc = ws.set_task_text(str(tmp_path / "tasks.md"), "- [ ] 1 Quarterly numbers\n")
    assert suggest(ws.droid_ranker(), next(iter(doc.located_tasks())).task) == []
