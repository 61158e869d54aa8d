"""Checks over a whole task file (all chunks): TD003, TD005, TD022, TD030. Absolute positions."""

from __future__ import annotations

from collections.abc import Sequence

from taskdroid.core.checks.task_local import alias_marker, has_date
from taskdroid.core.diagnostics import Diagnostic, Related, diag
from taskdroid.core.document import TaskDocument, normalize_id
from taskdroid.core.model import Status, Task
from taskdroid.core.suggest import closest, edit_distance
from taskdroid.core.text import Span


def check_file(doc: TaskDocument, priorities: Sequence[str]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    #: normalised ID -> (chunk line, first task with it, the span of its ID)
    first_seen: dict[str, tuple[int, Task, Span]] = {}
    completed_missing: list[tuple[int, Task]] = []
    n_with = 0
    canonical_used: set[Status] = set()
    aliased: list[tuple[int, Task]] = []
    for c in doc.chunks:
        base = c.line
        for t in c.parse.tasks:
            if t.marker_kind == "canonical" and t.status is not None:
                canonical_used.add(t.status)
            elif t.marker_kind == "alias" and t.status is not None:
                aliased.append((base, t))
            if t.id and t.id_span is not None:
                key = normalize_id(t.id)
                prev = first_seen.get(key)
                if prev is None:
                    first_seen[key] = (base, t, t.id_span)
                else:
                    pbase, pt, pt_span = prev
                    out.append(
                        diag(
                            "TD003",
                            t.id_span.range.shifted(base),
                            f"task ID `{t.id}` is already used on line {pbase + pt.line + 1} — "
                            "give this task its own ID",
                            related=[
                                Related(
                                    None, pt_span.range.shifted(pbase), f"first task `{t.id}`"
                                )
                            ],
                        )
                    )
            if t.status is Status.COMPLETED:
                stamp = t.field("Completed")
                if stamp is None:
                    completed_missing.append((base, t))
                elif not stamp.value.strip() or has_date(stamp.value):
                    n_with += 1
                # else: a note, not a timestamp (docs/language.md §A4): neither counted nor reported
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
    for s, c in doc.sections():
        if s.priority is None:
            continue
        if s.priority in known:
            uses_known = True
        elif looks_like_priority(s.priority, known):
            unknown.append((s, c.line))
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
