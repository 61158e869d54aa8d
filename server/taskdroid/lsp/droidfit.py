"""Droid suggestion in the editor (docs/language.md §11 "Droid suggestion and fit"): the order of
droid names completed after ``**Droid**: `` and the "Assign droid <name>" quick fixes of a task
without a droid. The ranking is :mod:`taskdroid.core.droid_rank` over the workspace's cached
index (:meth:`~taskdroid.core.workspace.Workspace.droid_ranker`).

"Assign droid" is a code action of kind ``quickfix`` with no diagnostic (a task without a droid
is not a mistake): offered when the cursor or selection is on a task that is neither completed
nor cancelled and has no ``**Droid**`` value, for the best three droids with a score above 0.
Editors list quick fixes first (VS Code's light bulb and its "Quick Fix…" menu, Neovim's and
Helix's code action menus), where a refactoring would sit in a submenu. It is never preferred,
and ``taskdroid check --fix`` never applies it: a suggestion chooses which agent runs. Its edit
(the Droid field added in the file's style, or an empty one filled) is computed when resolved,
on the document as it is then (``op: "assign-droid"``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taskdroid.lsp.deferred import droid_rank, edits, fixes, model

if TYPE_CHECKING:
    from taskdroid.core.document import Located, TaskDocument
    from taskdroid.core.droid_rank import Suggestion
    from taskdroid.core.edits import TextEdit
    from taskdroid.core.workspace import Workspace

ASSIGN_OP = "assign-droid"


def suggestions(ws: Workspace, loc: Located | None) -> list[Suggestion]:
    """The best droids for the task at ``loc`` (none without a task)."""
    if loc is None:
        return []
    ranker = ws.droid_ranker()
    if not len(ranker):
        return []
    return droid_rank.suggest(ranker, loc.task)


def completion_order(ws: Workspace, loc: Located | None) -> dict[str, tuple[int, str]]:
    """name → (place, reason) of the droids completion lists first."""
    return {s.name: (i, s.reason) for i, s in enumerate(suggestions(ws, loc))}


def _open_without_droid(loc: Located) -> bool:
    t = loc.task
    if t.status in (model.Status.COMPLETED, model.Status.CANCELLED, None):
        return False
    f = t.field("Droid")
    return f is None or not f.value.strip()


def assign_actions(ws: Workspace, loc: Located | None) -> list[tuple[str, dict[str, Any]]]:
    """(title, deferred edit) of each "Assign droid" quick fix for the task at ``loc``."""
    if loc is None or not _open_without_droid(loc):
        return []
    return [
        (
            f"Assign droid {s.name} — {s.reason}",
            {"op": ASSIGN_OP, "name": s.name, **fixes.task_key(loc)},
        )
        for s in suggestions(ws, loc)
    ]


def assign_edits(text: str, doc: TaskDocument, data: dict[str, Any]) -> list[TextEdit]:
    """The edit of an "Assign droid" action on ``text`` as it is now. Raises EditError."""
    name = str(data.get("name") or "")
    if not name:
        raise edits.EditError("no droid to assign")
    loc = fixes.find_task_again(doc, data)
    f = loc.task.field("Droid")
    if f is not None and f.value.strip():
        raise edits.EditError(f"task already names droid `{f.value.strip()}`")
    return edits.field_edits(text, doc, loc, [("Droid", name)])
