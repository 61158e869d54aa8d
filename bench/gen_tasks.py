#!/usr/bin/env python3
"""Seeded, deterministic generator of large task files for taskdroid's benchmarks.

    python bench/gen_tasks.py --tasks 10000 --seed 1 -o bench/generated/tasks-10000.md
    python bench/gen_tasks.py --tasks 1000 -o ws/tasks-1000.md --droids ws --source-files ws

or, from Python::

    from gen_tasks import generate
    text = generate(10_000, seed=1)

The output follows docs/language.md §2 and the shape the performance notes were measured with:
``# Title``, ``## Tasks``, then sections ``### N. Title (PRIORITY)`` of 20 tasks each (IDs
``N.1`` ... ``N.20``; the last section may be shorter), mixed statuses with matching trailing
emoji, fields under the tasks, a nested note item now and then, a fenced code block every few
sections whose lines look like tasks (and must not be counted as tasks), some CJK and emoji in
titles, and about 1% deliberately malformed markers (``[/]``, ``[ x]``). About 210 KB per
1,000 tasks.

The file is built so that, in a workspace that also holds the droid files (``--droids``) and the
files named in ``**Files**`` (``--source-files``), the only diagnostics taskdroid should report are
TD001 (malformed-marker), one per bad marker: every task has a unique ID matching its section,
dependencies point only at earlier tasks of the same or the previous section (so there is no cycle),
an ``[x]``/``[~]`` task depends only on ``[x]`` tasks, every ``[x]`` has ``**Completed**``, every
``[!]`` has ``**Issue**``, every emoji matches its marker, every field key is a known one, and no
key appears twice under one task. ``describe()`` (or ``--stats``) gives the expected counts.

The same ``(n_tasks, seed)`` always gives byte-identical output (``random.Random(seed)``, no set
iteration, no clock, no environment). Standard library only.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import random
import sys
from pathlib import Path

__all__ = [
    "DROIDS",
    "FILE_POOL",
    "TASKS_PER_SECTION",
    "describe",
    "generate",
    "write_droids",
    "write_source_files",
]

TASKS_PER_SECTION = 20
BAD_MARKER_RATE = 0.01
BAD_MARKERS = ("[/]", "[ x]")
PRIORITIES = ("BLOCKER", "CRITICAL", "HIGH", "MEDIUM", "LOW")
PRIORITY_WEIGHTS = (1, 2, 4, 4, 2)

# status -> (marker, trailing emoji or "")
STATUS_MARK = {
    "completed": ("[x]", "✅"),
    "in_progress": ("[~]", "🔄"),
    "blocked": ("[!]", "⚠️"),
    "pending": ("[ ]", ""),
}

# ---------------------------------------------------------------------------------------------
# Droids
# ---------------------------------------------------------------------------------------------

# name, description, tools, tags, reasoningEffort
DROIDS: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...], str], ...] = (
    (
        "backend-engineer",
        "Backend specialist for HTTP APIs, services, background jobs and data access",
        ("Read", "LS", "Grep", "Glob", "Create", "Edit", "MultiEdit", "Execute"),
        ("backend", "api", "services"),
        "medium",
    ),
    (
        "frontend-engineer",
        "Frontend specialist for React components, state management, styling and accessibility",
        ("Read", "LS", "Grep", "Glob", "Create", "Edit", "MultiEdit", "Execute"),
        ("frontend", "react", "ui"),
        "medium",
    ),
    (
        "database-specialist",
        "Schema design, migrations, query tuning and ORM models (Drizzle, Prisma, SQL)",
        ("Read", "LS", "Grep", "Glob", "Create", "Edit", "Execute"),
        ("database", "orm", "migrations"),
        "high",
    ),
    (
        "test-engineer",
        "Writes and repairs unit, integration and end-to-end tests; keeps the suite fast and green",
        ("Read", "LS", "Grep", "Glob", "Create", "Edit", "MultiEdit", "Execute"),
        ("testing", "quality"),
        "medium",
    ),
    (
        "devops-engineer",
        "CI/CD pipelines, containers, infrastructure as code, observability and deployments",
        ("Read", "LS", "Grep", "Glob", "Create", "Edit", "Execute", "WebSearch", "FetchUrl"),
        ("devops", "ci", "infrastructure"),
        "low",
    ),
    (
        "security-auditor",
        "Reviews code and configuration for vulnerabilities, secrets handling and auth flaws",
        ("Read", "LS", "Grep", "Glob", "WebSearch", "FetchUrl"),
        ("security", "review"),
        "high",
    ),
)
DROID_NAMES = tuple(d[0] for d in DROIDS)


def _droid_file_text(name: str, description: str, tools, tags, effort: str) -> str:
    title = " ".join(w.capitalize() for w in name.split("-"))
    return (
        "---\n"
        f"name: {name}\n"
        f"description: {description}\n"
        "model: inherit\n"
        f"reasoningEffort: {effort}\n"
        f"tools: [{', '.join(tools)}]\n"
        'version: "1.0.0"\n'
        'createdAt: "2025-01-02"\n'
        'updatedAt: "2025-01-10"\n'
        "location: project\n"
        f"tags: [{', '.join(json.dumps(t) for t in tags)}]\n"
        "---\n"
        "\n"
        f"# {title}\n"
        "\n"
        f"You are the {title.lower()} droid for this project. {description}.\n"
        "\n"
        "## Working on a task\n"
        "\n"
        "1. Read the task, its fields and the tasks it depends on.\n"
        "2. Mark the task `[~]` with an `**In Progress**` timestamp before you start.\n"
        "3. Keep changes within the files the task names; list any new ones under `**Files**`.\n"
        "4. When done, mark it `[x]` with a `**Completed**` timestamp; if stuck, mark it `[!]`\n"
        "   and document the blocker under `**Issue**`.\n"
    )


def write_droids(root: str | Path) -> list[Path]:
    """Write one droid file per entry of DROIDS to ROOT/.factory/droids/NAME.md."""
    folder = Path(root) / ".factory" / "droids"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, description, tools, tags, effort in DROIDS:
        path = folder / f"{name}.md"
        path.write_bytes(_droid_file_text(name, description, tools, tags, effort).encode("utf-8"))
        written.append(path)
    return written


# ---------------------------------------------------------------------------------------------
# Files named in **Files** (a fixed pool, so the files can be created for TD031-free runs)
# ---------------------------------------------------------------------------------------------

_FILE_DIRS = (
    "src/api/auth",
    "src/api/users",
    "src/api/billing",
    "src/api/search",
    "src/services",
    "src/db",
    "src/db/migrations",
    "src/lib",
    "src/middleware",
    "src/workers",
    "src/ui/components",
    "src/ui/pages",
    "src/ui/hooks",
    "tests/api",
    "tests/e2e",
)
_FILE_NAMES = (
    "index.ts",
    "handlers.ts",
    "schema.ts",
    "validate.ts",
    "client.ts",
    "queue.ts",
    "session.tsx",
    "router.ts",
    "cache.ts",
    "metrics.ts",
)
FILE_POOL: tuple[str, ...] = tuple(f"{d}/{f}" for d in _FILE_DIRS for f in _FILE_NAMES)


def write_source_files(root: str | Path) -> list[Path]:
    """Create a small stub for every path in FILE_POOL under ROOT (so TD031 does not fire)."""
    root = Path(root)
    written = []
    for rel in FILE_POOL:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"// {rel}: stub written by bench/gen_tasks.py\n".encode())
        written.append(path)
    return written


# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------

_SECTION_AREAS = (
    "User Authentication API",
    "Database Schema and Migrations",
    "Billing and Invoices",
    "Search Indexing",
    "Notification Service",
    "Admin Dashboard",
    "Public REST API",
    "Background Jobs",
    "File Uploads",
    "Observability",
    "Performance Tuning",
    "Accessibility Pass",
    "Onboarding Flow",
    "Team Workspaces",
    "Audit Logging",
    "Rate Limiting",
    "Webhooks",
    "Mobile Layout",
    "Data Export",
    "Release Engineering",
)
_SECTION_SUFFIXES = ("", "", "", " v2", " Hardening", " Cleanup", " Follow-ups", " Phase 2")
_SECTION_INTL = (
    "国际化",
    "日本語対応",
    "한국어 지원",
    "Überarbeitung",
    "🌍 rollout",
    "café menu",
    "数据同步",
)

_VERBS = (
    "Create",
    "Implement",
    "Add",
    "Refactor",
    "Fix",
    "Write tests for",
    "Document",
    "Migrate",
    "Optimise",
    "Validate",
    "Set up",
    "Remove",
    "Wire up",
    "Harden",
    "Review",
)
_OBJECTS = (
    "/api/auth/register endpoint",
    "token refresh logic",
    "rate limiting middleware",
    "user profile page",
    "password reset email",
    "invoice PDF renderer",
    "search query parser",
    "webhook retry queue",
    "session cookie handling",
    "pagination helpers",
    "CSV export job",
    "audit log writer",
    "feature flag client",
    "upload size checks",
    "dark mode toggle",
    "OpenAPI schema",
    "database connection pool",
    "error boundary component",
    "background worker health check",
    "role-based access control",
    "email templates",
    "metrics dashboard",
    "cache invalidation",
    "input validation with zod",
    "Stripe customer sync",
    "i18n message catalogue",
    "retry with exponential backoff",
)
_DETAILS = (
    "",
    "",
    "",
    "",
    " for admin users",
    " behind a feature flag",
    " with Redis",
    " for the mobile app",
    " (p95 under 200 ms)",
    " in the worker",
    " for EU tenants",
    " with structured logging",
    " and its edge cases",
)
_ANNOTATIONS = (
    " *(needs review)*",
    " *(carried over from sprint 12)*",
    " *(pairing with QA)*",
    " *(blocked upstream last week)*",
)
# Non-ASCII put inside titles (never as the last thing before the status emoji, except the
# non-status emoji that must survive emoji stripping).
_INTL_MID = (
    "(国际化)",
    "(日本語 UI)",
    "(한국어)",
    "— naïve café flow —",
    "🌐",
    "👩‍💻",
    "(数据同步)",
    "(Überprüfung)",
    "✨",
)
_INTL_END = (" 🚀", " 🎉", " (测试)", " 📦")

_ISSUES = (
    "redis-rate-limit package has TypeScript errors",
    "staging database is read-only until the migration window",
    "third-party API returns 429 under load; waiting on a quota increase",
    "flaky e2e test on CI (timeout in login step)",
    "schema change conflicts with the billing team's migration",
    "upstream SDK drops the idempotency key on retries",
    "design for the empty state not approved yet (デザイン待ち)",
)
_ACTIONS = (
    "pin the package to the last known-good version",
    "ask platform team for a staging write window",
    "split the migration into two releases",
    "add a retry with jitter and re-run the load test",
)
_PROGRESS = (
    "handlers done, tests pending",
    "about half of the endpoints migrated",
    "schema drafted, waiting for review",
    "UI wired up; styling left",
    "benchmarks running on staging",
)
_NOTES = (
    "keep the old endpoint until clients migrate",
    "measure before and after on the 10k-row fixture",
    "coordinate with the frontend droid on the response shape",
    "see the ADR in docs/adr/0007-auth.md",
    "remember to update the changelog",
    "reviewer asked for smaller PRs 🙏",
)
_IMPLEMENTATION = (
    "moved validation into middleware; handlers only map errors to HTTP status codes",
    "added a repository layer over the ORM so the service is testable without a database",
    "cursor-based pagination with an opaque token; offset pagination kept for admin views",
    "idempotency keys stored for 24 h in Redis; duplicates return the first response",
    "streamed the export row by row instead of building the whole CSV in memory",
    "lazy-loaded the heavy chart bundle; first paint is 300 ms faster on the fixture",
)
_SCOPE = (
    "API and worker only; the UI change ships in the next section",
    "read paths first, writes after the migration lands",
    "EU and US tenants; APAC waits for the data-residency review",
    "happy path plus the three error cases listed in the PRD",
)
_CURRENT_STEP = (
    "writing integration tests against the staging fixture",
    "replacing the legacy client calls one module at a time",
    "profiling the slow query with EXPLAIN ANALYZE",
    "waiting for CI on the second PR",
)
_IMPACT = (
    "release 2.4 slips until this is resolved",
    "three downstream tasks in the next section wait on it",
    "no user impact; blocks the performance work only",
)
_DEP_TAILS = ("", "", "", " must be completed", " (schema first)", " (レビュー待ち)")


# ---------------------------------------------------------------------------------------------
# Generator
# ---------------------------------------------------------------------------------------------

_BASE_TIME = _dt.datetime(2025, 1, 6, 8, 0)


class _Gen:
    def __init__(self, n_tasks: int, seed: int) -> None:
        if n_tasks < 0:
            raise ValueError("n_tasks must be >= 0")
        self.n = n_tasks
        self.seed = seed
        self.rng = random.Random(seed)
        self.out: list[str] = []
        self.stats = {
            "tasks": 0,
            "sections": 0,
            "completed": 0,
            "in_progress": 0,
            "blocked": 0,
            "pending": 0,
            "malformed": 0,
            "fields": 0,
            "dependency_fields": 0,
            "fenced_blocks": 0,
            "fenced_task_like_lines": 0,
            "bad_marker_lines": [],  # 1-based line numbers of the malformed markers
        }
        # status of every task by ID, in order
        self.status: dict[str, str] = {}

    # -- helpers ---------------------------------------------------------------------------
    def emit(self, line: str = "") -> None:
        self.out.append(line)

    @property
    def lineno(self) -> int:  # 1-based number of the next line to be emitted
        return len(self.out) + 1

    def timestamp(self, section: int) -> str:
        # Dates drift forward with the section number, so later sections are later work.
        minutes = section * 97 + self.rng.randrange(0, 60 * 24 * 14)
        t = _BASE_TIME + _dt.timedelta(minutes=minutes)
        return t.strftime("%Y-%m-%d %H:%M")

    def title(self) -> str:
        rng = self.rng
        t = f"{rng.choice(_VERBS)} {rng.choice(_OBJECTS)}{rng.choice(_DETAILS)}"
        r = rng.random()
        if r < 0.04:
            words = t.split(" ")
            i = rng.randrange(1, len(words))
            words.insert(i, rng.choice(_INTL_MID))
            t = " ".join(words)
        elif r < 0.06:
            t += rng.choice(_INTL_END)
        elif r < 0.10:
            t += rng.choice(_ANNOTATIONS)
        return t

    def files_value(self) -> str:
        rng = self.rng
        k = rng.choice((1, 2, 2, 3))
        entries = []
        for path in rng.sample(FILE_POOL, k):
            r = rng.random()
            if r < 0.1:
                entries.append(f"`{path}`")
            elif r < 0.18:
                entries.append(f"{path} (new, see review notes)")
            else:
                entries.append(path)
        return ", ".join(entries)

    def deps_value(self, candidates: list[str]) -> str:
        rng = self.rng
        k = min(len(candidates), rng.choice((1, 1, 1, 2, 2, 3)))
        ids = rng.sample(candidates, k)
        if k == 1:
            style = rng.random()
            if style < 0.1:
                return f"先完成 Task {ids[0]}"
            return f"Task {ids[0]}{rng.choice(_DEP_TAILS)}"
        style = rng.randrange(3)
        if style == 0:
            return "Tasks " + ", ".join(ids)
        if style == 1:
            return ", ".join(ids)
        return ", ".join(ids[:-1]) + " and " + ids[-1]

    # -- fenced blocks with task-like content ----------------------------------------------
    def fence_body(self, section: int, indent: str) -> list[str]:
        """Lines that would be tasks, fields and errors if they were not in a code block."""
        rng = self.rng
        fake = [
            f"- [x] {section}.1 {self.title()} ✅",
            f"  - **Completed**: {self.timestamp(section)}",
            f"- [~] {section}.2 {self.title()} 🔄",
            "  - **Dependencies**: Task 999.1, Task 0.0",
            f"- [/] {section}.3 {self.title()}",
            "  - **Droid**: no-such-droid",
        ]
        if rng.random() < 0.5:
            fake += [
                f"- [ ] {section}.1 duplicate of the first example",
                "  - **Dependncies**: 1.1",
            ]
        self.stats["fenced_task_like_lines"] += sum(1 for f in fake if f.startswith("- ["))
        return [indent + f for f in fake]

    def fenced_block_top(self, section: int) -> None:
        rng = self.rng
        fence = rng.choice(("```", "```", "~~~"))
        info = rng.choice(("markdown", "md", ""))
        self.emit("Expected format for the items below (an example, not tasks):")
        self.emit("")
        self.emit(fence + info)
        for line in self.fence_body(section, ""):
            self.emit(line)
        self.emit(fence)
        self.emit("")
        self.stats["fenced_blocks"] += 1

    def fenced_block_in_field(self, section: int) -> None:
        # A code block inside a **Notes** field item (content column 4).
        self.emit("  - **Notes**: the checklist the droid should copy:")
        self.emit("    ```markdown")
        for line in self.fence_body(section, "    "):
            self.emit(line)
        self.emit("    ```")
        self.stats["fenced_blocks"] += 1
        self.stats["fields"] += 1

    # -- tasks -----------------------------------------------------------------------------
    def pick_status(self, section: int, n_sections: int) -> str:
        frac = (section - 1) / max(1, n_sections - 1)
        p_done = 0.8 - 0.65 * frac
        r = self.rng.random()
        if r < p_done:
            return "completed"
        if r < p_done + 0.08:
            return "in_progress"
        if r < p_done + 0.14:
            return "blocked"
        return "pending"

    def task(
        self,
        section: int,
        index: int,
        status: str,
        bad: str | None,
        prev_ids: list[str],
        fence_here: bool,
    ) -> None:
        rng = self.rng
        tid = f"{section}.{index}"
        earlier_same = [f"{section}.{i}" for i in range(1, index)]
        candidates_any = prev_ids + earlier_same
        # An [x] / [~] task depends only on [x] tasks (otherwise TD012 would fire).
        candidates_done = [c for c in candidates_any if self.status.get(c) == "completed"]

        fields: list[tuple[str, str]] = []
        if bad is not None:
            marker, emoji = bad, ""
            self.stats["malformed"] += 1
            self.stats["bad_marker_lines"].append(self.lineno)
            fields.append(("Droid", rng.choice(DROID_NAMES)))
            if rng.random() < 0.5:
                fields.append(("Files", self.files_value()))
        else:
            marker, emoji = STATUS_MARK[status]
            if emoji and rng.random() < 0.1:
                emoji = ""  # not every task carries its emoji; that is not an error
            self.stats[status] += 1
            if status == "completed":
                fields.append(("Completed", self.timestamp(section)))
                if rng.random() < 0.8:
                    fields.append(("Droid", rng.choice(DROID_NAMES)))
                if rng.random() < 0.75:
                    fields.append(("Files", self.files_value()))
                if candidates_done and rng.random() < 0.3:
                    fields.append(("Dependencies", self.deps_value(candidates_done)))
                if rng.random() < 0.35:
                    fields.append(("Implementation", rng.choice(_IMPLEMENTATION)))
                if rng.random() < 0.1:
                    fields.append(("Tests", f"{rng.randrange(3, 60)} passing"))
            elif status == "in_progress":
                fields.append(("In Progress", f"Started {self.timestamp(section)}"))
                fields.append(("Droid", rng.choice(DROID_NAMES)))
                if rng.random() < 0.5:
                    fields.append(("Files", self.files_value()))
                if candidates_done and rng.random() < 0.35:
                    fields.append(("Dependencies", self.deps_value(candidates_done)))
                if rng.random() < 0.5:
                    fields.append(("Progress", rng.choice(_PROGRESS)))
                if rng.random() < 0.4:
                    fields.append(("Current Step", rng.choice(_CURRENT_STEP)))
            elif status == "blocked":
                fields.append(("Issue", rng.choice(_ISSUES)))
                if rng.random() < 0.6:
                    fields.append(("Attempted", self.timestamp(section)))
                if rng.random() < 0.7:
                    fields.append(("Droid", rng.choice(DROID_NAMES)))
                if rng.random() < 0.5:
                    fields.append(("Action Required", rng.choice(_ACTIONS)))
                if candidates_any and rng.random() < 0.4:
                    fields.append(("Dependencies", self.deps_value(candidates_any)))
                if rng.random() < 0.3:
                    fields.append(("Impact", rng.choice(_IMPACT)))
            else:  # pending
                if rng.random() < 0.75:
                    fields.append(("Droid", rng.choice(DROID_NAMES)))
                if candidates_any and rng.random() < 0.45:
                    fields.append(("Dependencies", self.deps_value(candidates_any)))
                if rng.random() < 0.45:
                    fields.append(("Files", self.files_value()))
                if rng.random() < 0.3:
                    fields.append(("Scope", rng.choice(_SCOPE)))

        title = self.title()
        line = f"- {marker} {tid} {title}"
        if emoji:
            line += f" {emoji}"
        self.emit(line)
        self.stats["tasks"] += 1
        self.status[tid] = "malformed" if bad is not None else status

        for key, value in fields:
            self.emit(f"  - **{key}**: {value}")
            self.stats["fields"] += 1
            if key == "Dependencies":
                self.stats["dependency_fields"] += 1

        # A nested note now and then: a plain item, or a Notes field with a free-text child.
        r = rng.random()
        if fence_here:
            self.fenced_block_in_field(section)
        elif r < 0.06:
            self.emit(f"  - Note: {rng.choice(_NOTES)}")
        elif r < 0.12:
            note, detail = rng.sample(_NOTES, 2)
            self.emit(f"  - **Notes**: {note}")
            self.emit(f"    - {detail}")
            self.stats["fields"] += 1

    # -- document --------------------------------------------------------------------------
    def run(self) -> str:
        rng = self.rng
        n = self.n
        n_bad = round(n * BAD_MARKER_RATE)
        bad_at = set(rng.sample(range(n), n_bad)) if n_bad else set()  # membership only
        n_sections = (n + TASKS_PER_SECTION - 1) // TASKS_PER_SECTION

        self.emit(f"# Platform rebuild — generated task list ({n} tasks, seed {self.seed})")
        self.emit("")
        self.emit(
            "Generated by `bench/gen_tasks.py` for taskdroid's benchmarks. Each section is owned by "
            "one team; droids pick up `[ ]` tasks whose dependencies are `[x]`."
        )
        self.emit("")
        self.emit("## Tasks")
        self.emit("")

        next_fence = rng.randint(2, 4)
        prev_ids: list[str] = []
        task_no = 0
        for s in range(1, n_sections + 1):
            count = min(TASKS_PER_SECTION, n - task_no)
            area = rng.choice(_SECTION_AREAS) + rng.choice(_SECTION_SUFFIXES)
            if rng.random() < 0.2:
                area += " " + rng.choice(_SECTION_INTL)
            prio = rng.choices(PRIORITIES, PRIORITY_WEIGHTS)[0]
            self.emit(f"### {s}. {area} ({prio})")
            self.emit("")
            self.stats["sections"] += 1
            if rng.random() < 0.3:
                self.emit(
                    f"Owner: team-{rng.choice(('core', 'growth', 'platform', 'payments'))}. "
                    f"Goal: ship {area.lower()} without regressions."
                )
                self.emit("")

            fence_kind = None
            if s == next_fence:
                fence_kind = rng.choice(("top", "field"))
                next_fence = s + rng.randint(3, 5)
            if fence_kind == "top":
                self.fenced_block_top(s)
            fence_task = rng.randint(1, count) if fence_kind == "field" else -1

            ids_here = []
            for i in range(1, count + 1):
                bad = rng.choice(BAD_MARKERS) if task_no in bad_at else None
                status = self.pick_status(s, n_sections)
                self.task(s, i, status, bad, prev_ids, fence_here=(i == fence_task))
                ids_here.append(f"{s}.{i}")
                task_no += 1
            self.emit("")
            prev_ids = ids_here

        self.stats["bad_marker_lines"] = sorted(self.stats["bad_marker_lines"])
        return "\n".join(self.out).rstrip("\n") + "\n"


def _run(n_tasks: int, seed: int) -> tuple[str, dict]:
    g = _Gen(n_tasks, seed)
    text = g.run()
    stats = dict(g.stats)
    data = text.encode("utf-8")
    stats["bytes"] = len(data)
    stats["lines"] = text.count("\n")
    stats["sha256"] = hashlib.sha256(data).hexdigest()
    return text, stats


def generate(n_tasks: int, seed: int = 1) -> str:
    """Return a task file with N_TASKS tasks; the same arguments give the same text."""
    return _run(n_tasks, seed)[0]


def describe(n_tasks: int, seed: int = 1) -> dict:
    """Expected facts about generate(n_tasks, seed): counts, bad-marker lines, size, sha256."""
    return _run(n_tasks, seed)[1]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tasks", type=int, default=1000, help="number of tasks (default 1000)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("-o", "--output", help="output file (default: stdout)")
    p.add_argument(
        "--droids",
        metavar="DIR",
        help="also write the referenced droids to DIR/.factory/droids/ (DIR = workspace root)",
    )
    p.add_argument(
        "--source-files",
        metavar="DIR",
        help="also create stubs under DIR for every path **Files** may name (avoids TD031)",
    )
    p.add_argument("--stats", action="store_true", help="print expected counts as JSON on stderr")
    args = p.parse_args(argv)
    if args.tasks < 0:
        p.error("--tasks must be >= 0")

    text, stats = _run(args.tasks, args.seed)
    data = text.encode("utf-8")
    if args.output:
        out = Path(args.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    if args.droids:
        write_droids(args.droids)
    if args.source_files:
        write_source_files(args.source_files)
    if args.stats:
        print(json.dumps(stats, indent=2), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
