"""Status changes as inline text edits (docs/language.md §5) — pure, no I/O, no LSP types.

:func:`status_edits` computes the edits that change one task's status; the language server sends
them with ``workspace/applyEdit`` and the CLI applies them with :func:`apply_edits` and writes the
file atomically. Positions are code points on absolute document lines (see :mod:`.text`).

What an edit touches — and nothing else:

* the task's **marker** → the canonical marker of the new status (``[ ]`` ``[~]`` ``[x]`` ``[!]``
  ``[cancelled]``); a ``*`` (Kiro optional) after it stays;
* the **trailing status tokens** of the task line → the emoji of the new status (``🔄`` ``✅``
  ``⚠️``; none for pending and cancelled). ``❌`` / ``FAILED`` are dropped when the new status is
  not blocked; for blocked, existing ``⚠️``/``❌``/``FAILED`` are kept as written and ``⚠️`` is
  added only when none is there;
* the **status field** (``In Progress``, ``Completed``, ``Issue``, ``Status``) → its value is
  replaced when the task has the field, else a field item is inserted after the task's last field
  (or after the task's first paragraph when it has no field — always before subtasks and notes).

New field items are written in the file's own style: the bullet and indentation of the task's
fields (else of the file's fields, else the file's indent unit, checked to nest under the task),
``**Key**:`` or ``**Key:**`` as the file writes keys, and the line ending of the neighbouring line.
Every other byte stays, including a missing final newline.

Re-applying the status a task already has changes nothing but what a ``note`` asks for: the
existing field keeps its value, so applying twice equals applying once. Re-applying it with
``extra_fields`` and no note writes those fields only (a run records ``**Last Run**`` on a task
whose status the droid set itself: the droid's marker and fields stay as it wrote them).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from taskdroid.core.blocks import scan
from taskdroid.core.document import Located, TaskDocument, normalize_id
from taskdroid.core.model import FIELD_LOOKUP, Field, Status
from taskdroid.core.settings import DEFAULT_ALIASES
from taskdroid.core.suggest import closest
from taskdroid.core.text import (
    Position,
    Range,
    dominant_eol,
    line_ending,
    line_starts,
    offset_at,
    split_lines,
    split_lines_keepends,
)

__all__ = [
    "BLOCKED_PLACEHOLDER",
    "STATUS_EMOJI_OUT",
    "EditError",
    "TextEdit",
    "apply_edits",
    "field_edits",
    "find_task",
    "format_timestamp",
    "parse_status",
    "status_edits",
]

#: value of ``**Issue**`` when a task is blocked without a note
BLOCKED_PLACEHOLDER = "(describe what blocks this task)"

#: the trailing emoji each status writes (docs/language.md §5)
STATUS_EMOJI_OUT: dict[Status, str | None] = {
    Status.PENDING: None,
    Status.IN_PROGRESS: "🔄",
    Status.COMPLETED: "✅",
    Status.BLOCKED: "⚠️",
    Status.CANCELLED: None,
}

_BLOCKED_TOKENS = frozenset({"⚠️", "⚠", "❌", "FAILED"})
#: fields that already say why a task is blocked (TD023), so no placeholder Issue is needed
_BLOCK_REASONS = frozenset({"Issue", "Blocker", "Error", "Root Cause", "Action Required"})
_STATUS_FIELD: dict[Status, str | None] = {
    Status.PENDING: None,
    Status.IN_PROGRESS: "In Progress",
    Status.COMPLETED: "Completed",
    Status.BLOCKED: "Issue",
    Status.CANCELLED: "Status",
}
_STATUS_NAMES = "pending, in_progress, completed, blocked or cancelled"

#: a line that interrupts a paragraph inside a list item: a non-empty bullet item, an ordered item
#: numbered 1, a heading, a fence or a quote
_INTERRUPTS = re.compile(r"[ \t]*(?:[-+*][ \t]+\S|1[.)][ \t]+\S|#{1,6}(?:[ \t]|$)|```|~~~|>)")
_ORDERED = re.compile(r"(\d{1,9})([.)])$")


class EditError(ValueError):
    """A status change that cannot be made (unknown task or status); ``str()`` is the message."""


@dataclass(frozen=True, slots=True)
class TextEdit:
    """Replace ``range`` (code points, absolute lines, end exclusive) with ``new_text``."""

    range: Range
    new_text: str


# -- public helpers --------------------------------------------------------------------------------


def parse_status(value: str | Status) -> Status:
    """``pending``, ``in_progress``/``in-progress``, ``completed``, ``blocked``, ``cancelled``."""
    if isinstance(value, Status):
        return value
    try:
        return Status.parse(value)
    except ValueError:
        raise EditError(f"unknown status `{value}` (expected {_STATUS_NAMES})") from None


def format_timestamp(now: datetime | None = None) -> str:
    """``YYYY-MM-DD HH:MM`` in local time (an aware ``now`` is converted to local time)."""
    if now is None:
        now = datetime.now()
    elif now.tzinfo is not None:
        now = now.astimezone()
    return now.strftime("%Y-%m-%d %H:%M")


def find_task(doc: TaskDocument, task_id: str) -> Located | None:
    """The first task whose ID is ``task_id`` (a trailing ``.`` ignored; ``1`` finds ``1.0`` and
    the other way round when there is no exact match; case-insensitive as a last resort)."""
    want = normalize_id(task_id.strip())
    if not want:
        return None
    by_id: dict[str, Located] = {}
    for loc in doc.located_tasks():
        if loc.task.id:
            by_id.setdefault(normalize_id(loc.task.id), loc)
    hit = by_id.get(want)
    if hit is None:
        if "." not in want:
            hit = by_id.get(want + ".0")
        elif want.endswith(".0"):
            hit = by_id.get(want[:-2])
    if hit is None:
        low = want.lower()
        hit = next((v for k, v in by_id.items() if k.lower() == low), None)
    return hit


def apply_edits(text: str, edits: Iterable[TextEdit]) -> str:
    """Apply non-overlapping edits (any order; inserts at one position keep their order)."""
    ordered = sorted(enumerate(edits), key=lambda p: (p[1].range.start, p[1].range.end, p[0]))
    if not ordered:
        return text
    starts = line_starts(text)
    out: list[str] = []
    pos = 0
    for _, e in ordered:
        a = offset_at(text, starts, e.range.start)
        b = offset_at(text, starts, e.range.end)
        if a < pos or b < a:
            raise ValueError(f"overlapping or inverted edit at {e.range}")
        out.append(text[pos:a])
        out.append(e.new_text)
        pos = b
    out.append(text[pos:])
    return "".join(out)


# -- the edit --------------------------------------------------------------------------------------


def status_edits(
    text: str,
    doc: TaskDocument | None,
    task: Located | str,
    status: Status | str,
    *,
    note: str | None = None,
    now: datetime | None = None,
    extra_fields: Sequence[tuple[str, str]] = (),
    aliases: Mapping[str, str] | None = None,
) -> list[TextEdit]:
    """The edits that set the status of ``task`` in ``text`` (docs/language.md §5).

    ``doc`` is the parse of ``text``; when it is None or parsed from another text, ``text`` is
    parsed again (with ``aliases``, else the aliases ``doc`` was parsed with). ``task`` is a task
    ID, found in the current text, or a :class:`Located` — of this parse, or of an older one, in
    which case it is found again by its ID (or, without an ID, by its title near its old line).

    ``note`` is the blocked reason (``**Issue**``) or the cancel reason (``**Status**: Cancelled
    <now> — note``); other statuses ignore it. ``extra_fields`` are more ``(key, value)`` fields to
    add or replace in the same style (the runner's ``Error``/``Attempted``); a reason field there
    makes a blocked task need no placeholder ``Issue``.

    Returns non-overlapping edits sorted by position (empty when nothing changes). Raises
    :class:`EditError` for an unknown task or status.
    """
    new_status = parse_status(status)
    doc = _current(text, doc, aliases)
    loc = _resolve(doc, task)
    lines = split_lines(text)
    keep = split_lines_keepends(text)
    return _Editor(text, lines, keep, doc, loc).run(new_status, _clean(note), now, extra_fields)


def field_edits(
    text: str,
    doc: TaskDocument | None,
    task: Located | str,
    fields: Sequence[tuple[str, str]],
    *,
    aliases: Mapping[str, str] | None = None,
) -> list[TextEdit]:
    """The edits that set ``fields`` (``(key, value)``) of ``task`` and nothing else — not its
    marker, emoji or status field: a field the task has gets the value, another is inserted in
    the file's style as :func:`status_edits` inserts them. ``doc``, ``task`` and ``aliases`` as
    there. Raises :class:`EditError` for an unknown task."""
    doc = _current(text, doc, aliases)
    loc = _resolve(doc, task)
    editor = _Editor(text, split_lines(text), split_lines_keepends(text), doc, loc)
    return editor.set_fields([(k.strip(), _clean(v) or "") for k, v in fields])


def _clean(note: str | None) -> str | None:
    if note is None:
        return None
    note = " ".join(note.split())
    return note or None


def _current(
    text: str, doc: TaskDocument | None, aliases: Mapping[str, str] | None
) -> TaskDocument:
    """``doc`` when it is the parse of ``text`` (with ``aliases``), else a fresh parse."""
    if doc is not None and aliases is None:
        try:
            aliases = dict(doc.parse_key)
        except (TypeError, ValueError):
            aliases = None
    if aliases is None:
        aliases = dict(DEFAULT_ALIASES)
    if doc is not None and doc.text == text and doc.parse_key == tuple(sorted(aliases.items())):
        return doc
    return TaskDocument.parse(doc.path if doc is not None else "", text, aliases)


def _resolve(doc: TaskDocument, task: Located | str) -> Located:
    if isinstance(task, str):
        hit = find_task(doc, task)
        if hit is None:
            raise EditError(unknown_task_message(doc, task))
        return hit
    # a Located of this very parse?
    for c in doc.chunks:
        if c.parse is task.chunk.parse and c.line == task.chunk.line:
            if any(t is task.task for t in c.parse.tasks):
                return Located(task.task, c)
            break
    old = task.task
    if old.id:
        same = [
            loc
            for loc in doc.located_tasks()
            if loc.task.id and normalize_id(loc.task.id) == normalize_id(old.id)
        ]
        if not same:
            raise EditError(unknown_task_message(doc, old.id))
        titled = [loc for loc in same if loc.task.title == old.title]
        return min(titled or same, key=lambda loc: abs(loc.line - task.line))
    titled = [loc for loc in doc.located_tasks() if not loc.task.id and loc.task.title == old.title]
    if not titled:
        raise EditError(f"the task “{old.title}” is no longer in the file")
    return min(titled, key=lambda loc: abs(loc.line - task.line))


def unknown_task_message(doc: TaskDocument, task_id: str) -> str:
    ids = [loc.task.id for loc in doc.located_tasks() if loc.task.id]
    if not ids:
        return f"no task `{task_id}`: the file has no task IDs"
    near = closest(task_id.strip(), ids, substring=False)
    hint = f" — did you mean `{near}`?" if near else ""
    return f"no task `{task_id}` in this file{hint}"


# -- the editor ------------------------------------------------------------------------------------


def _visual(s: str) -> int:
    """Visual width of leading text, tabs to the next multiple of 4 (as blocks.py counts)."""
    col = 0
    for ch in s:
        col = col + 4 - col % 4 if ch == "\t" else col + 1
    return col


class _Editor:
    def __init__(
        self, text: str, lines: list[str], keep: list[str], doc: TaskDocument, loc: Located
    ) -> None:
        self.text = text
        self.lines = lines
        self.keep = keep
        self.doc = doc
        self.loc = loc
        self.task = loc.task
        self.base = loc.chunk.line
        self.tline = loc.line
        self.edits: list[TextEdit] = []

    # -- driver ---------------------------------------------------------------------------------
    def run(
        self,
        status: Status,
        note: str | None,
        now: datetime | None,
        extra_fields: Sequence[tuple[str, str]],
    ) -> list[TextEdit]:
        if self.task.status is status and note is None and extra_fields:
            # the status stands (e.g. the run record after the droid set it): only the fields
            wanted = [(k.strip(), _clean(v) or "") for k, v in extra_fields]
        else:
            self._marker(status)
            self._trailing(status)
            wanted = self._wanted_fields(status, note, now, extra_fields)
        return self.set_fields(wanted)

    def set_fields(self, fields: Sequence[tuple[str, str]]) -> list[TextEdit]:
        inserts: list[tuple[str, str]] = []
        for key, value in fields:
            f = self._field(key)
            if f is None:
                inserts.append((key, value))
            else:
                self._replace_value(f, value)
        if inserts:
            self._insert_fields(inserts)
        return _merge(self.edits)

    def _wanted_fields(
        self,
        status: Status,
        note: str | None,
        now: datetime | None,
        extra_fields: Sequence[tuple[str, str]],
    ) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        same = self.task.status is status
        key = _STATUS_FIELD[status]
        extra_keys = {_canonical(k) for k, _ in extra_fields}
        if key is not None and key not in extra_keys:
            has = self._field(key) is not None
            if status is Status.BLOCKED:
                if note is not None:
                    out.append((key, note))
                elif not (
                    has
                    or any(self._field(r) is not None for r in _BLOCK_REASONS)
                    or extra_keys & _BLOCK_REASONS
                ):
                    out.append((key, BLOCKED_PLACEHOLDER))
            elif status is Status.CANCELLED:
                if note is not None or not (same and has):
                    value = f"Cancelled {format_timestamp(now)}"
                    out.append((key, f"{value} — {note}" if note else value))
            elif not (same and has):
                stamp = format_timestamp(now)
                out.append((key, f"Started {stamp}" if status is Status.IN_PROGRESS else stamp))
        for k, v in extra_fields:
            out.append((k.strip(), _clean(v) or ""))
        return out

    # -- the task line --------------------------------------------------------------------------
    def _marker(self, status: Status) -> None:
        span = self.task.marker_span
        line = self.lines[self.tline]
        if line[span.start : span.end] != status.marker:
            self.edits.append(TextEdit(Range.of(self.tline, span.start, span.end), status.marker))

    def _trailing(self, status: Status) -> None:
        line = self.lines[self.tline]
        old = self.task.trailing
        old_tokens = [t for t, _ in old]
        if status is Status.BLOCKED:
            kept = [t for t in old_tokens if t in _BLOCKED_TOKENS]
            new_tokens = kept or ["⚠️"]
        else:
            emoji = STATUS_EMOJI_OUT[status]
            new_tokens = [emoji] if emoji else []
        if new_tokens == old_tokens:
            return
        if old:
            first, last = old[0][1], old[-1][1]
            start = len(line[: first.start].rstrip(" \t"))
            end = last.end
        else:
            start = end = len(line.rstrip(" \t"))
        new = "".join(" " + t for t in new_tokens)
        if line[start:end] != new:
            self.edits.append(TextEdit(Range.of(self.tline, start, end), new))

    # -- fields ---------------------------------------------------------------------------------
    def _field(self, key: str) -> Field | None:
        canonical = FIELD_LOOKUP.get(key.lower())
        for f in self.task.fields:
            if canonical is not None and f.canonical == canonical:
                return f
            if canonical is None and f.key.lower() == key.lower():
                return f
        return None

    def _replace_value(self, f: Field, value: str) -> None:
        n = self.base + f.line
        line = self.lines[n]
        vs = f.value_span.start
        end_line, end_col = n, f.value_span.end
        # a value that continues on following lines (paragraph continuation, not nested items)
        first_item = min((span.line for _, span in f.items), default=None)
        stop = self.base + (first_item if first_item is not None else f.end_line + 1)
        k = n + 1
        while k < stop and k <= self.base + f.end_line:
            nxt = self.lines[k]
            if not nxt.strip() or _INTERRUPTS.match(nxt):
                break
            end_line, end_col = k, len(nxt.rstrip(" \t"))
            k += 1
        prefix = "" if vs > 0 and line[vs - 1] in " \t" else " "
        new = prefix + value if value else ""
        if end_line == n and line[vs:end_col] == new:
            return
        self.edits.append(TextEdit(Range(Position(n, vs), Position(end_line, end_col)), new))

    def _insert_fields(self, fields: list[tuple[str, str]]) -> None:
        task = self.task
        own = sorted(task.fields, key=lambda f: f.line)
        if own:
            last = own[-1]
            after = self.base + last.end_line
            ref_line = self.lines[self.base + last.line]
            indent = ref_line[: last.bullet_span.start]
            bullet = ref_line[last.bullet_span.start : last.bullet_span.end]
        else:
            after = self._after_task_paragraph()
            indent = self._new_indent()
            bullet = self._file_bullet()
        inside = self._colon_inside()
        eol = (
            line_ending(self.keep[after]) if after < len(self.keep) else ""
        ) or self._fallback_eol()
        out = []
        for key, value in fields:
            bullet = _next_bullet(bullet)
            head = f"**{key}:**" if inside else f"**{key}**:"
            out.append(eol + indent + bullet + " " + head + (" " + value if value else ""))
        nxt = self.lines[after + 1] if after + 1 < len(self.lines) else ""
        if own and nxt.strip() and not _INTERRUPTS.match(nxt):
            # the last field ended in a block that takes no lazy continuation (a heading, a code
            # fence) and text follows: after a new field line it would continue that field's
            # paragraph; a blank line keeps it where it was
            out.append(eol)
        col = len(self.lines[after])
        self.edits.append(TextEdit(Range.of(after, col, col), "".join(out)))

    def _after_task_paragraph(self) -> int:
        """The last line of the task's first paragraph (its title and continuation lines): up to
        the first blank line or the first line where the block scanner starts something else (a
        list item, heading, code or HTML block) — what ends the paragraph for a markdown reader,
        which a pattern on the line alone cannot tell (``      - x`` indented past the task's
        content is paragraph text; ``  <div>`` opens an HTML block)."""
        end = self.base + max(self.task.end_line, self.task.line)
        stops = self._block_starts()
        k = self.tline
        while k + 1 <= end:
            if not self.lines[k + 1].strip() or (k + 1 - self.base) in stops:
                break
            k += 1
        return k

    def _block_starts(self) -> set[int]:
        """Chunk-relative lines where the scan of the task's chunk starts a block."""
        chunk = self.loc.chunk
        res = scan(self.lines[self.base : self.base + chunk.breaks + 1], doc_start=self.base == 0)
        out = {it.line for it in res.items}
        out.update(h.line for h in res.headings)
        out.update(a for a, _b in res.opaque)
        return out

    def _fallback_eol(self) -> str:
        own = line_ending(self.keep[self.tline]) if self.tline < len(self.keep) else ""
        return own or dominant_eol(self.text)

    # -- the file's style -------------------------------------------------------------------------
    def _all_tasks(self) -> list[Located]:
        return list(self.doc.located_tasks())

    def _colon_inside(self) -> bool:
        """``**Key:**`` (True) or ``**Key**:`` — as the task, else most of the file, writes it."""

        def votes(locs: Iterable[Located]) -> Counter:
            c: Counter = Counter()
            for loc in locs:
                for f in loc.task.fields:
                    line = self.lines[loc.chunk.line + f.line]
                    c[":**" in line[f.key_span.end : f.value_span.start]] += 1
            return c

        own = votes([self.loc])
        if own:
            return own[True] > own[False]
        every = votes(self._all_tasks())
        return every[True] > every[False]

    def _file_bullet(self) -> str:
        c: Counter = Counter()
        for loc in self._all_tasks():
            for f in loc.task.fields:
                line = self.lines[loc.chunk.line + f.line]
                b = line[f.bullet_span.start : f.bullet_span.end]
                if b in ("-", "*", "+"):
                    c[b] += 1
        if c:
            return c.most_common(1)[0][0]
        return self.task.bullet if self.task.bullet in ("-", "*", "+") else "-"

    def _new_indent(self) -> str:
        """Indentation of a first field: as the task's subtasks, else the task's indentation plus
        the file's indent unit when that nests under the task, else aligned with the marker."""
        tline = self.lines[self.tline]
        task_indent = _blank(tline[: self.task.indent])
        content = _visual(tline[: self.task.content_col])
        # the task's own subtasks show best how this task's children are indented
        for ci in self.task.children:
            child = self.loc.chunk.parse.tasks[ci]
            cand = _blank(self.lines[self.base + child.line][: child.indent])
            if content <= _visual(cand) <= content + 3:
                return cand
        units: Counter = Counter()
        for loc in self._all_tasks():
            t = loc.task
            tl = self.lines[loc.chunk.line + t.line]
            t_ind = _blank(tl[: t.indent])
            for f in t.fields:
                fl = self.lines[loc.chunk.line + f.line]
                f_ind = _blank(fl[: f.bullet_span.start])
                if f_ind.startswith(t_ind) and len(f_ind) > len(t_ind):
                    units[f_ind[len(t_ind) :]] += 2  # fields count more than subtasks
            for ci in t.children:
                child = loc.chunk.parse.tasks[ci]
                cl = self.lines[loc.chunk.line + child.line]
                c_ind = _blank(cl[: child.indent])
                if c_ind.startswith(t_ind) and len(c_ind) > len(t_ind):
                    units[c_ind[len(t_ind) :]] += 1
        for unit, _ in units.most_common():
            cand = task_indent + unit
            if content <= _visual(cand) <= content + 3:
                return cand
        return task_indent + " " * max(content - _visual(task_indent), 1)


def _blank(prefix: str) -> str:
    """The white space a line's text up to an item's bullet stands for: an outer list's bullet on
    the same line (``- - [ ] 1 a``, ``* 1. [ ] …``) becomes spaces, so a new line does not start
    another outer item."""
    if not prefix.strip(" \t"):
        return prefix
    return "".join(c if c in " \t" else " " for c in prefix)


def _canonical(key: str) -> str:
    return FIELD_LOOKUP.get(key.strip().lower(), key.strip())


def _next_bullet(bullet: str) -> str:
    """``-``/``*``/``+`` stay; an ordered ``3.`` becomes ``4.``."""
    m = _ORDERED.match(bullet)
    if m:
        return f"{int(m.group(1)) + 1}{m.group(2)}"
    return bullet


def _merge(edits: list[TextEdit]) -> list[TextEdit]:
    """Sort, and merge edits that touch (an insert at the end of a replaced range)."""
    edits = sorted(edits, key=lambda e: (e.range.start, e.range.end))
    out: list[TextEdit] = []
    for e in edits:
        if out and out[-1].range.end == e.range.start:
            prev = out[-1]
            out[-1] = TextEdit(Range(prev.range.start, e.range.end), prev.new_text + e.new_text)
        else:
            out.append(e)
    return out
