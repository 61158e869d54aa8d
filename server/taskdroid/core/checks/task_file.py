"""Checks over a whole task file (all chunks): TD003, TD005, TD022, TD030. Absolute positions."""

from __future__ import annotations

from collections.abc import Sequence

from taskdroid.core.checks.task_local import alias_marker
from taskdroid.core.diagnostics import Diagnostic, Related, diag
from taskdroid.core.doc_index import chunk_facts
from taskdroid.core.document import TaskDocument
from taskdroid.core.model import Section, Status, Task
from taskdroid.core.suggest import closest, edit_distance


def check_file(doc: TaskDocument, priorities: Sequence[str]) -> list[Diagnostic]:
    """The whole-file checks, from per-chunk facts and the document's ID table (doc_index.py):
    an edit costs what changed plus one pass over the chunks, not over every task."""
    out: list[Diagnostic] = []
    for hits in doc.duplicates():
        first = hits[0].task
        pbase = hits[0].chunk.line
        for loc in hits[1:]:
            t = loc.task
            if t.id_span is None or first.id_span is None:
                continue
            out.append(
                diag(
                    "TD003",
                    t.id_span.range.shifted(loc.chunk.line),
                    f"task ID `{t.id}` is already used on line {pbase + first.line + 1} — "
                    "give this task its own ID",
                    related=[
                        Related(None, first.id_span.range.shifted(pbase), f"first task `{t.id}`")
                    ],
                )
            )
    completed_missing: list[tuple[int, Task]] = []
    n_with = 0
    canonical_used: set[Status] = set()
    aliased: list[tuple[int, Task]] = []
    priority_sections: list[tuple[Section, int]] = []
    for c in doc.chunks:
        facts = chunk_facts(c.parse)
        if facts.canonical:
            canonical_used |= facts.canonical
        tasks = c.parse.tasks
        base = c.line
        for i in facts.aliased:
            aliased.append((base, tasks[i]))
        for i in facts.completed_missing:
            completed_missing.append((base, tasks[i]))
        n_with += facts.completed_stamped
        for i in facts.priority_sections:
            priority_sections.append((c.parse.sections[i], base))
    for base, t in aliased:
        if t.status in canonical_used:
            out.append(alias_marker(t).shifted(base))
    if n_with:
        for base, t in completed_missing:
            out.append(
                diag(
                    "TD022",
                    t.marker_span.range.shifted(base),
                    f"task {_name(t)} is marked completed `[{t.marker_text}]` but has no "
                    f"`**Completed**:` timestamp, unlike {n_with} other completed "
                    f"task{'s' if n_with != 1 else ''} in this file — add "
                    "`**Completed**: YYYY-MM-DD HH:MM` under it",
                )
            )
    known = {p.upper() for p in priorities}
    unknown = []
    uses_known = False
    for s, line in priority_sections:
        if s.priority in known:
            uses_known = True
        elif looks_like_priority(s.priority, known):  # type: ignore[arg-type]
            unknown.append((s, line))
    if uses_known:
        for s, base in unknown:
            sugg = closest(s.priority, sorted(known), substring=True)  # type: ignore[arg-type]
            hint = f"did you mean `{sugg}`? Known priorities: " if sugg else "use one of "
            out.append(
                diag(
                    "TD030",
                    s.priority_span.range.shifted(base),  # type: ignore[union-attr]
                    f"`({s.priority})` is not a known priority — {hint}{', '.join(priorities)}",
                    data={"known": list(priorities), "suggestion": sugg},
                )
            )
    return out


#: words people use as priorities
_PRIORITY_WORDS = frozenset(
    {
        "URGENT", "IMPORTANT", "NORMAL", "MAJOR", "MINOR", "TRIVIAL", "SEVERE", "MED", "MID",
        "HI", "LO", "HIGHEST", "LOWEST", "HIGHER", "LOWER", "TOP", "BLOCKING", "NICE-TO-HAVE",
        "OPTIONAL", "P0", "P1", "P2", "P3", "P4", "P5",
        "BLOCKER", "CRITICAL", "HIGH", "MEDIUM", "LOW",  # the defaults, when not configured
    }
)  # fmt: skip


def looks_like_priority(word: str, known: set[str] | frozenset[str]) -> bool:
    """Is an upper-case word in parentheses at the end of a heading meant as a priority (TD030)?

    Headings end in acronyms too — ``### 3. Authentication (JWT)``, ``## Phase 3 (MVP)``,
    ``### Tests (P)`` — which are not priorities. A word counts when it is a common priority word
    or close to a known priority (``HIHG``, ``CRITCAL``)."""
    w = word.upper()
    if w in _PRIORITY_WORDS:
        return True
    for k in known:
        limit = 1 if len(k) <= 6 else 2
        if edit_distance(w, k, limit) > limit:
            continue
        if len(k) <= 5 and len(w) == len(k) and sorted(w) != sorted(k):
            continue  # one letter replaced in a short word is another word: LOG, HOW, not LOW
        return True
    return False


def _name(t) -> str:
    return f"`{t.id}`" if t.id else f"“{t.title[:40]}”"
