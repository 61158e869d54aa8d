"""Checks over a whole task file (all chunks): TD003, TD022, TD030. Absolute positions."""

from __future__ import annotations

from collections.abc import Sequence

from taskdroid.core.diagnostics import Diagnostic, Related, diag
from taskdroid.core.document import TaskDocument, normalize_id
from taskdroid.core.model import Status


def check_file(doc: TaskDocument, priorities: Sequence[str]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    first_seen: dict[str, tuple[int, object]] = {}
    completed_missing = []
    any_completed_field = False
    for c in doc.chunks:
        base = c.line
        for t in c.parse.tasks:
            if t.id and t.id_span is not None:
                key = normalize_id(t.id)
                prev = first_seen.get(key)
                if prev is None:
                    first_seen[key] = (base, t)
                else:
                    pbase, pt = prev
                    out.append(
                        diag(
                            "TD003",
                            t.id_span.range.shifted(base),
                            f"task ID `{t.id}` is already used on line {pbase + pt.line + 1} — "  # type: ignore[attr-defined]
                            "give this task its own ID",
                            related=[
                                Related(
                                    None, pt.id_span.range.shifted(pbase), f"first task `{t.id}`"
                                )
                            ],  # type: ignore[attr-defined]
                        )
                    )
            if t.status is Status.COMPLETED:
                if t.field("Completed") is not None:
                    any_completed_field = True
                else:
                    completed_missing.append((base, t))
    if any_completed_field:
        for base, t in completed_missing:
            out.append(
                diag(
                    "TD022",
                    t.marker_span.range.shifted(base),
                    f"task {t.id or ''} is completed but has no `**Completed**:` timestamp, "
                    "unlike other completed tasks in this file".replace("task  is", "task is"),
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
        else:
            unknown.append((s, c.line))
    if uses_known:
        for s, base in unknown:
            out.append(
                diag(
                    "TD030",
                    s.priority_span.range.shifted(base),  # type: ignore[union-attr]
                    f"`{s.priority}` is not a known priority — use one of {', '.join(priorities)}",
                    data={"known": list(priorities)},
                )
            )
    return out
