"""Plain models of a task file (docs/language.md §2). No LSP types here.

Positions inside a :class:`ChunkParse` are *relative to the chunk's first line*; a
:class:`~taskdroid.core.document.TaskDocument` places chunks at absolute lines. Columns are code
points.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from taskdroid.core.text import Span


class Status(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    BLOCKED = "blocked"
    CANCELLED = "cancelled"

    @property
    def marker(self) -> str:
        return CANONICAL_MARKERS[self]

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")

    @classmethod
    def parse(cls, value: str) -> Status:
        v = value.strip().lower().replace("-", "_").replace(" ", "_")
        if v == "canceled":
            v = "cancelled"
        return cls(v)


CANONICAL_MARKERS: dict[Status, str] = {
    Status.PENDING: "[ ]",
    Status.IN_PROGRESS: "[~]",
    Status.COMPLETED: "[x]",
    Status.BLOCKED: "[!]",
    Status.CANCELLED: "[cancelled]",
}

MARKER_MEANING: dict[Status, str] = {
    Status.PENDING: "pending — not started",
    Status.IN_PROGRESS: "in progress — a droid or person is working on it",
    Status.COMPLETED: "completed",
    Status.BLOCKED: "blocked — the task's fields should say why (Issue, Blocker, Error …)",
    Status.CANCELLED: "cancelled — will not be done",
}

#: canonical field keys (lower-case lookup → canonical spelling)
KNOWN_FIELDS = [
    "Droid", "Files", "Tests", "Dependencies", "Status", "Completed", "In Progress", "Started",
    "Attempted", "Error", "Root Cause", "Solution Needed", "Issue", "Blocker", "Workaround",
    "Action Required", "Challenge", "Implementation", "Performance", "Changes", "Scope",
    "Coverage", "Endpoints", "Services", "Methods", "Priority", "Impact", "Suggested Fix",
    "Progress", "Current Step", "Validation", "Notes",
    # docs/language.md §11: verified completion, the run record, per-task model and effort
    "Verify", "Last Run", "Model", "Effort",
]  # fmt: skip
FIELD_ALIASES = {"file": "Files", "depends on": "Dependencies", "blocked by": "Dependencies"}
FIELD_LOOKUP: dict[str, str] = {k.lower(): k for k in KNOWN_FIELDS} | FIELD_ALIASES
TIMESTAMP_FIELDS = frozenset({"Completed", "Started", "Attempted", "In Progress"})
REASON_FIELDS = frozenset({"Issue", "Blocker", "Error", "Root Cause", "Action Required", "Status"})

STATUS_EMOJI = {"✅": Status.COMPLETED, "🔄": Status.IN_PROGRESS, "⚠️": Status.BLOCKED, "⚠": Status.BLOCKED, "❌": Status.BLOCKED}  # fmt: skip


@dataclass(slots=True)
class Ref:
    """A dependency reference: ``1.1``, ``T004``, ``tasks-x.md#1.1``."""

    text: str
    span: Span
    task_id: str | None  #: None for a reference to a whole file
    path: str | None  #: the file part of a cross-file reference, as written
    inline: bool = False  #: from a ``(depends on …)`` group in the title


@dataclass(slots=True)
class Field:
    line: int
    key: str  #: as written
    key_span: Span
    canonical: str | None  #: canonical known key, or None
    value: str
    value_span: Span
    end_line: int  #: last line of the field item including nested notes
    bullet_span: Span
    has_children: bool = False
    refs: list[Ref] = field(default_factory=list)  #: for Dependencies
    #: the first line of each list item nested under the field (text from its content column,
    #: trailing blanks dropped, and its span) — e.g. Files or Dependencies written one per line
    items: list[tuple[str, Span]] = field(default_factory=list)
    #: for a field outside any task: the item before it in its list is a task, or another such
    #: field (a field that lost its indentation); False for a metadata list before any task
    after_task: bool = False

    @property
    def canonical_or_key(self) -> str:
        return self.canonical or self.key


@dataclass(slots=True)
class Task:
    line: int
    indent: int  #: column (code points) of the bullet
    bullet: str  #: "-", "*", "+", "1." ...
    content_col: int  #: column where the marker starts
    marker_span: Span
    marker_text: str  #: between the brackets
    status: Status | None  #: None when the marker is malformed
    marker_kind: str  #: "canonical", "alias" or "malformed"
    optional: bool
    id: str | None
    id_span: Span | None
    title: str
    title_span: Span
    trailing: list[tuple[str, Span]]  #: trailing status emoji / FAILED, in order
    end_line: int  #: last line of the task item (including subtasks and notes)
    parent: int  #: index (in the chunk's task list) of the parent task, or -1
    section: int  #: index in the chunk's section list, or -1
    list_id: int  #: tasks with the same list_id are siblings in one markdown list
    fields: list[Field] = field(default_factory=list)
    inline_refs: list[Ref] = field(default_factory=list)
    children: list[int] = field(default_factory=list)
    #: index of the first line after the task line that holds no field (insertion point helper)
    depth: int = 0

    def field(self, canonical: str) -> Field | None:
        for f in self.fields:
            if f.canonical == canonical:
                return f
        return None

    def fields_named(self, canonical: str) -> list[Field]:
        return [f for f in self.fields if f.canonical == canonical]

    @property
    def refs(self) -> list[Ref]:
        out = list(self.inline_refs)
        for f in self.fields:
            if f.canonical == "Dependencies":
                out.extend(f.refs)
        return out

    @property
    def droid(self) -> str | None:
        f = self.field("Droid")
        return droid_name(f.value) if f else None

    @property
    def label(self) -> str:
        return f"{self.id} {self.title}".strip() if self.id else self.title


@dataclass(slots=True)
class Section:
    line: int
    level: int
    title: str
    title_span: Span
    number: int | None
    number_span: Span | None
    priority: str | None  #: a word in parentheses at the end, upper-case (known or not)
    priority_span: Span | None


@dataclass(slots=True)
class ChunkParse:
    """The parse of one chunk (see document.py). Immutable once built; cached by text."""

    n_lines: int
    sections: list[Section]
    tasks: list[Task]
    orphan_fields: list[Field]
    headings: list[tuple[int, int, str]]  #: (line, level, text) of every heading, for symbols
    front_matter: tuple[int, int] | None
    #: file-local diagnostics (relative lines), computed once
    local_diagnostics: list = field(default_factory=list)
    #: what the whole-file checks need of this chunk (core/doc_index.py), computed on first use
    facts: Any = None


def droid_name(value: str) -> str | None:
    """The droid name in a Droid field value: first token, backticks and bold stripped."""
    v = value.strip().strip("*").strip()
    if not v:
        return None
    if v.startswith("`"):
        end = v.find("`", 1)
        if end > 1:
            return v[1:end].strip() or None
    tok = v.split()[0].strip("`*,;")
    return tok or None
