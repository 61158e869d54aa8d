"""Quick fixes (docs/language.md §8, §14) — pure: text in, edits out, no I/O, no LSP types.

The language server offers these fixes as code actions (``lsp/actions.py`` converts them to the
client's position encoding) and ``taskdroid check --fix`` applies the preferred ones, so the
editor and the command line share one source. Positions are code points on absolute document
lines (see :mod:`.text`); an edit is a :class:`taskdroid.core.edits.TextEdit`.

**Preferred** means *unambiguous*: the one edit a person would make, which invents no content and
renames nothing. Exactly these are applied by ``check --fix`` (docs/language.md §14):

========  ==========================================================  =========
code      fix                                                         preferred
========  ==========================================================  =========
TD001     the canonical marker: the likely status (when the written   the likely one
          marker suggests one), then every other status
TD002     add the next free ID of the task's list                     no
TD003     give the task a free ID                                     no
TD005     the canonical marker                                        yes
TD020     the droid it most likely means                              no
TD021     the emoji made to agree with the marker (replace it with    the emoji fix
          the marker's emoji, or remove it); or the marker the
          emoji says
TD022     add a ``**Completed**`` timestamp (deferred)                no
TD023     add an ``**Issue**`` field (deferred)                       no
TD030     the known priority it most likely means                     no
TD032     remove the entry from Files                                 no
TD040     the known field key it most likely means                    yes
TD041     indent the field (and the lost fields before it) under the  yes
          task it follows
TD050     the requirement it most likely means (a near number)        with one suggestion
DR001     add front matter                                            no
DR002     quote the value (the unquoted ``: `` warning)               yes
DR003     add ``name``                                                no
DR004     a valid name                                                no
DR005     the tool it most likely means                               with one suggestion
DR006     rename the droid to its file name (deferred)                no
DR008     the key it most likely means                                with one suggestion
DR012     remove the duplicate tool                                   yes
========  ==========================================================  =========

docs/language.md §14 lists what is applied; the fixes it does not list (TD020, TD030, DR001, DR003, DR004)
are offered but not preferred either: a droid name guessed from a typo chooses which agent runs,
a priority guess changes the plan's order, front matter and names are invented content.

The "Assign droid <name>" suggestions of docs/language.md §11 belong to no diagnostic (a task
without a droid is not a mistake): the language server offers them (``lsp/droidfit.py``), never as
preferred, so ``check --fix`` never applies them.

Fixes that touch more than this document's text stay in the language server, which knows what
the client can do: *create the missing droid* (TD020, a new file) and *rename the file* (DR006).
A **deferred** fix has no edits yet but a description (``Fix.deferred``, a JSON-able dict with an
``op``) of an edit computed when the editor resolves the action — it costs a parse (``field``:
:func:`deferred_edits`) or reaches other files (``rename-droid``: ``query.rename_droid``). A
deferred fix is never preferred, so ``check --fix`` never needs one.

:func:`fix_text` is the ``--fix`` loop: apply the preferred fixes that do not overlap, analyse
again, and repeat (at most :data:`MAX_ROUNDS` times) until no preferred fix is left.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from taskdroid.core.checks.task_local import EMOJI_OK
from taskdroid.core.document import normalize_id
from taskdroid.core.droids import tool_base_name
from taskdroid.core.edits import (
    STATUS_EMOJI_OUT,
    EditError,
    TextEdit,
    apply_edits,
    field_edits,
    status_edits,
)
from taskdroid.core.model import CANONICAL_MARKERS, Status
from taskdroid.core.query import next_task_id, unquoted_range, valid_droid_name
from taskdroid.core.text import (
    Position,
    Range,
    dominant_eol,
    line_starts,
    offset_at,
    split_lines,
    split_lines_keepends,
)

if TYPE_CHECKING:
    from taskdroid.core.diagnostics import Diagnostic
    from taskdroid.core.document import Located, TaskDocument
    from taskdroid.core.droids import DroidDocument

__all__ = [
    "MAX_ROUNDS",
    "Fix",
    "FixResult",
    "Fixer",
    "deferred_edits",
    "find_task_again",
    "fix_text",
    "fixes",
    "list_removal",
    "select_fixes",
    "unified_diff",
]

#: how many times ``--fix`` analyses again after applying fixes (overlapping fixes wait a round)
MAX_ROUNDS = 8


@dataclass(frozen=True, slots=True)
class Fix:
    """One quick fix of one diagnostic: replace ranges of the document with ``edits``."""

    title: str
    edits: tuple[TextEdit, ...]
    preferred: bool
    diagnostic: Diagnostic = field(compare=False)
    #: an edit computed later (``{"op": "field" | "rename-droid", ...}``); ``edits`` is then empty
    deferred: dict[str, Any] | None = None


class Lines(Protocol):
    """What the fix builders read of a document (``lsp.convert.LineIndex`` is one)."""

    text: str

    def line(self, i: int) -> str: ...

    def __len__(self) -> int: ...


class _TextLines:
    __slots__ = ("_lines", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._lines: list[str] | None = None

    def _all(self) -> list[str]:
        if self._lines is None:
            self._lines = split_lines(self.text)
        return self._lines

    def line(self, i: int) -> str:
        lines = self._all()
        return lines[i] if 0 <= i < len(lines) else ""

    def __len__(self) -> int:
        return len(self._all())


# -- the builders ----------------------------------------------------------------------------------


class Fixer:
    """The fixes of the diagnostics of one version of one document.

    ``task_doc`` is the parse of ``text`` for a task file, ``droid_doc`` for a droid file; ``lines``
    may hand over an existing line index of ``text`` (else the text is split on first use)."""

    def __init__(
        self,
        text: str,
        *,
        task_doc: TaskDocument | None = None,
        droid_doc: DroidDocument | None = None,
        lines: Lines | None = None,
    ) -> None:
        self.lines: Lines = lines if lines is not None else _TextLines(text)
        self.task_doc = task_doc
        self.droid_doc = droid_doc

    def fixes_for(self, d: Diagnostic) -> list[Fix]:
        """The fixes of one diagnostic (none for a code without fixes)."""
        method = _BUILDERS.get(d.code)
        return method(self, d) if method is not None else []

    # -- helpers ------------------------------------------------------------------------------------
    def line(self, n: int) -> str:
        return self.lines.line(n)

    def text(self, rng: Range) -> str:
        if rng.start.line != rng.end.line:
            return ""
        return self.line(rng.start.line)[rng.start.character : rng.end.character]

    @staticmethod
    def replace(title: str, d: Diagnostic, rng: Range, new: str, preferred: bool = True) -> Fix:
        return Fix(title, (TextEdit(rng, new),), preferred, d)

    def remove(self, title: str, d: Diagnostic, rng: Range, preferred: bool = True) -> Fix:
        return self.replace(title, d, rng, "", preferred)

    def task_on_line(self, line: int) -> Located | None:
        doc = self.task_doc
        if doc is None:
            return None
        loc = doc.task_at_line(line)
        return loc if loc is not None and loc.line == line else None

    def unquoted(self, rng: Range) -> Range:
        if rng.start.line != rng.end.line:
            return rng
        return unquoted_range([self.line(i) for i in range(rng.start.line + 1)], rng)

    def eol(self) -> str:
        return dominant_eol(self.lines.text) or "\n"

    def whole_line(self, n: int) -> Range:
        """Line ``n`` with its line break (the one before it for the last line)."""
        if n + 1 < len(self.lines):
            return Range(Position(n, 0), Position(n + 1, 0))
        if n > 0:
            return Range(Position(n - 1, len(self.line(n - 1))), Position(n, len(self.line(n))))
        return Range.of(n, 0, len(self.line(n)))

    # -- task files ---------------------------------------------------------------------------------
    def td001(self, d: Diagnostic) -> list[Fix]:
        data = d.data or {}
        by_marker = {m: s for s, m in CANONICAL_MARKERS.items()}
        likely = data.get("likely")
        out = []
        for marker in data.get("suggestions") or []:
            st = by_marker.get(marker)
            if st is None:
                continue
            out.append(
                self.replace(
                    f"Change marker to `{marker}` ({st.label})",
                    d,
                    d.range,
                    marker,
                    preferred=likely is not None and st.value == likely,
                )
            )
        return out

    def td005(self, d: Diagnostic) -> list[Fix]:
        rep = (d.data or {}).get("replacement")
        if not rep:
            return []
        return [self.replace(f"Change marker to `{rep}`", d, d.range, rep)]

    def td002(self, d: Diagnostic) -> list[Fix]:
        sugg = (d.data or {}).get("suggestion")
        loc = self.task_on_line(d.range.start.line)
        if not sugg or loc is None:
            return []
        t = loc.task
        line = self.line(loc.line)
        at = t.title_span.start
        if t.title_span.end > t.title_span.start:
            new = f"{sugg} "
        else:
            at = len(line.rstrip(" \t"))
            new = f" {sugg}"
        return [self.replace(f"Add ID `{sugg}`", d, Range.of(loc.line, at, at), new, False)]

    def td003(self, d: Diagnostic) -> list[Fix]:
        doc = self.task_doc
        if doc is None:
            return []
        new = next_task_id(doc, d.range.start.line)
        if not new:
            return []
        return [self.replace(f"Change ID to `{new}`", d, d.range, new, False)]

    def td020(self, d: Diagnostic) -> list[Fix]:
        # (creating the missing droid is a new file: the language server adds that action)
        sugg = (d.data or {}).get("suggestion")
        if not sugg:
            return []
        return [self.replace(f"Change to `{sugg}`", d, d.range, sugg, False)]

    def td021(self, d: Diagnostic) -> list[Fix]:
        data = d.data or {}
        loc = self.task_on_line(d.range.start.line)
        if loc is None or loc.task.status is None:
            return []
        t = loc.task
        status: Status = loc.task.status
        token = str(data.get("token", self.text(d.range)))
        try:
            implied = Status(str(data.get("implied")))
        except ValueError:
            return []
        out = []
        # the emoji made to agree with the marker (preferred, docs/language.md §14): the marker's own emoji
        # in place of the first disagreeing token when no other token agrees, else removed
        want = STATUS_EMOJI_OUT.get(status)
        here = d.range.start.character
        others = [tok for tok, span in t.trailing if span.start != here]
        agreeing = [tok for tok in others if t.status in EMOJI_OK.get(tok, frozenset())]
        earlier_wrong = [
            tok
            for tok, span in t.trailing
            if span.start < here and tok in EMOJI_OK and t.status not in EMOJI_OK[tok]
        ]
        if want and not agreeing and not earlier_wrong:
            out.append(self.replace(f"Replace `{token}` with `{want}`", d, d.range, want))
        else:
            line = self.line(loc.line)
            start = len(line[:here].rstrip(" \t"))
            out.append(
                self.remove(
                    f"Remove `{token}`", d, Range.of(loc.line, start, d.range.end.character)
                )
            )
        marker = t.marker_span
        out.append(
            self.replace(
                f"Change marker to `{implied.marker}` (as `{token}` says)",
                d,
                Range.of(loc.line, marker.start, marker.end),
                implied.marker,
                preferred=False,
            )
        )
        return out

    def _deferred_field(self, d: Diagnostic, title: str, key: str) -> list[Fix]:
        loc = self.task_on_line(d.range.start.line)
        if loc is None:
            return []
        return [Fix(title, (), False, d, {"op": "field", "key": key, **task_key(loc)})]

    def td022(self, d: Diagnostic) -> list[Fix]:
        return self._deferred_field(d, "Add a `**Completed**` timestamp", "Completed")

    def td023(self, d: Diagnostic) -> list[Fix]:
        return self._deferred_field(d, "Add an `**Issue**` field saying why", "Issue")

    def td030(self, d: Diagnostic) -> list[Fix]:
        sugg = (d.data or {}).get("suggestion")
        if not sugg:
            return []
        return [self.replace(f"Change priority to `{sugg}`", d, d.range, sugg, False)]

    def td040(self, d: Diagnostic) -> list[Fix]:
        sugg = (d.data or {}).get("suggestion")
        if not sugg:
            return []
        return [self.replace(f"Rename field to `{sugg}`", d, d.range, sugg)]

    def td041(self, d: Diagnostic) -> list[Fix]:
        """Indent a lost field under the task it follows, with the lost fields between them (so
        that applying this fix alone nests every one of them under the task)."""
        doc = self.task_doc
        if doc is None:
            return []
        n = d.range.start.line
        chunk = doc.chunk_at_line(n)
        if chunk is None:
            return []
        parse = chunk.parse
        base = chunk.line
        orphans = {f.line: f for f in parse.orphan_fields if f.after_task}
        f = orphans.get(n - base)
        if f is None or f.has_children:
            return []
        col = f.bullet_span.start
        # the lost fields of this list above it, up to the task they follow
        run = [f]
        task = None
        rel = f.line - 1
        while rel >= 0:
            text = self.line(base + rel)
            if not text.strip():
                rel -= 1
                continue
            g = orphans.get(rel)
            if g is not None and g.bullet_span.start == col and not g.has_children:
                run.append(g)
                rel -= 1
                continue
            # the task item this run follows: its block ends here, at the same list level
            for t in parse.tasks:
                if t.indent == col and t.line <= rel <= max(t.end_line, t.line):
                    task = t
            break
        if task is None:
            return []
        # the task's own fields' indentation, else the task's content column
        if task.fields:
            first = task.fields[0]
            indent = self.line(base + first.line)[: first.bullet_span.start]
        else:
            head = self.line(base + task.line)
            indent = head[: task.indent] + " " * (task.content_col - task.indent)
        if len(indent.expandtabs(4)) <= len(self.line(base + task.line)[:col].expandtabs(4)):
            return []
        edits = []
        for g in reversed(run):
            edits.append(TextEdit(Range.of(base + g.line, 0, g.bullet_span.start), indent))
        title = f"Indent `{f.key}` under the task above"
        return [Fix(title, tuple(edits), True, d)]

    def td050(self, d: Diagnostic) -> list[Fix]:
        """The requirement a reference most likely means: one fix per suggestion, preferred
        only when there is exactly one."""
        many = [str(s) for s in (d.data or {}).get("suggestions") or [] if s]
        return [self.replace(f"Change to `{s}`", d, d.range, s, len(many) == 1) for s in many]

    def td032(self, d: Diagnostic) -> list[Fix]:
        path = (d.data or {}).get("path") or self.text(d.range)
        doc = self.task_doc
        if doc is None:
            return []
        n = d.range.start.line
        loc = doc.task_at_line(n)
        if loc is None:
            return []
        base = loc.chunk.line
        line = self.line(n)
        title = f"Remove `{path}` from Files"

        def rm(rng: Range) -> list[Fix]:
            return [self.remove(title, d, rng, preferred=False)]

        for f in loc.task.fields:
            if f.canonical != "Files":
                continue
            if base + f.line == n:
                cols = list_removal(line, d.range.start.character, f.value_span.start, len(line))
                if cols is not None:
                    return rm(Range.of(n, *cols))
                if f.has_children:
                    start = len(line[: f.value_span.start].rstrip(" \t"))
                    return rm(Range.of(n, start, len(line)))
                return rm(self.whole_line(n))
            for _text, span in f.items:
                if base + span.line == n:
                    cols = list_removal(line, d.range.start.character, span.start, len(line))
                    if cols is not None:
                        return rm(Range.of(n, *cols))
                    return rm(self.whole_line(n))
        return []

    # -- droid files --------------------------------------------------------------------------------
    def dr001(self, d: Diagnostic) -> list[Fix]:
        data = d.data or {}
        name = data.get("name")
        if data.get("fix") != "add-front-matter" or not name:
            return []
        eol = self.eol()
        head = eol.join(
            [
                "---",
                f"name: {name}",
                f"description: Describe what {name} does and when to use it.",
                "---",
                "",
                "",
            ]
        )
        return [self.replace("Add front matter", d, Range.of(0, 0, 0), head, False)]

    def dr002(self, d: Diagnostic) -> list[Fix]:
        data = d.data or {}
        if data.get("fix") != "quote" or not data.get("replacement"):
            return []
        rng = d.range
        raw = data.get("range")
        if isinstance(raw, list) and len(raw) == 4:
            rng = Range(Position(raw[0], raw[1]), Position(raw[2], raw[3]))
        return [self.replace("Quote the value", d, rng, str(data["replacement"]))]

    def dr003(self, d: Diagnostic) -> list[Fix]:
        data = d.data or {}
        name = data.get("name")
        if data.get("fix") != "add-name" or not name:
            return []
        n = d.range.start.line
        end = len(self.line(n))
        return [
            self.replace(
                f"Add `name: {name}`", d, Range.of(n, end, end), f"{self.eol()}name: {name}", False
            )
        ]

    def dr004(self, d: Diagnostic) -> list[Fix]:
        sugg = (d.data or {}).get("suggestion")
        if not sugg:
            return []
        return [self.replace(f"Change name to `{sugg}`", d, self.unquoted(d.range), sugg, False)]

    def dr005(self, d: Diagnostic) -> list[Fix]:
        sugg = _one_suggestion(d)
        if sugg is None:
            return []
        rng = self.unquoted(d.range)
        entry = self.text(rng)
        base = tool_base_name(entry)
        if entry and base and entry.startswith(base):
            rng = Range.of(rng.start.line, rng.start.character, rng.start.character + len(base))
        return [self.replace(f"Change to `{sugg[0]}`", d, rng, sugg[0], sugg[1])]

    def dr006(self, d: Diagnostic) -> list[Fix]:
        # (renaming the file instead is a file operation: the language server adds that action)
        expected = (d.data or {}).get("expected")
        if not expected or not valid_droid_name(expected) or self.droid_doc is None:
            return []
        title = f"Rename droid to `{expected}` (the file name)"
        return [Fix(title, (), False, d, {"op": "rename-droid", "name": expected})]

    def dr008(self, d: Diagnostic) -> list[Fix]:
        sugg = _one_suggestion(d)
        if sugg is None:
            return []
        rng = self.unquoted(d.range)
        return [self.replace(f"Rename key to `{sugg[0]}`", d, rng, sugg[0], sugg[1])]

    def dr012(self, d: Diagnostic) -> list[Fix]:
        if (d.data or {}).get("fix") != "remove-duplicate":
            return []
        rng = d.range
        if rng.start.line != rng.end.line:
            return []
        n = rng.start.line
        line = self.line(n)
        tool = self.text(rng)
        title = f"Remove the duplicate `{tool}`"
        if _BLOCK_ITEM.match(line) and not line[rng.end.character :].strip(" \t\"'"):
            return [self.remove(title, d, self.whole_line(n))]
        s = rng.start.character
        open_at = line.rfind("[", 0, s)
        close_at = line.find("]", rng.end.character)
        if open_at >= 0 and close_at >= 0:
            lo, hi = open_at + 1, close_at
        else:
            colon = line.find(":")
            lo, hi = (colon + 1 if 0 <= colon < s else 0), len(line)
        cols = list_removal(line, s, lo, hi)
        if cols is None:
            return []
        return [self.remove(title, d, Range.of(n, *cols))]


_BLOCK_ITEM = re.compile(r"^[ \t]*-[ \t]+")

_BUILDERS: dict[str, Callable[[Fixer, Diagnostic], list[Fix]]] = {
    "TD001": Fixer.td001,
    "TD002": Fixer.td002,
    "TD003": Fixer.td003,
    "TD005": Fixer.td005,
    "TD020": Fixer.td020,
    "TD021": Fixer.td021,
    "TD022": Fixer.td022,
    "TD023": Fixer.td023,
    "TD030": Fixer.td030,
    "TD032": Fixer.td032,
    "TD040": Fixer.td040,
    "TD041": Fixer.td041,
    "TD050": Fixer.td050,
    "DR001": Fixer.dr001,
    "DR002": Fixer.dr002,
    "DR003": Fixer.dr003,
    "DR004": Fixer.dr004,
    "DR005": Fixer.dr005,
    "DR006": Fixer.dr006,
    "DR008": Fixer.dr008,
    "DR012": Fixer.dr012,
}

#: the codes that have quick fixes
FIXABLE = frozenset(_BUILDERS)


def _one_suggestion(d: Diagnostic) -> tuple[str, bool] | None:
    """The suggestion of a diagnostic and whether it is the only one (``suggestions``, when a
    check lists several, makes the first one not preferred)."""
    data = d.data or {}
    many = [str(s) for s in data.get("suggestions") or [] if s]
    sugg = data.get("suggestion") or (many[0] if many else None)
    if not sugg:
        return None
    return str(sugg), len(set(many) | {str(sugg)}) == 1


def list_removal(line: str, at: int, lo: int, hi: int) -> tuple[int, int] | None:
    """The columns to delete to remove the comma-separated entry around column ``at`` of
    ``line[lo:hi]`` with its separator, or None when it is the only entry. Commas inside
    parentheses, brackets and backticks do not separate entries."""
    seps: list[int] = []
    depth = 0
    code = False
    for i in range(lo, min(hi, len(line))):
        ch = line[i]
        if ch == "`":
            code = not code
        elif code:
            continue
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        elif ch == "," and depth == 0:
            seps.append(i)
    if not seps:
        return None
    bounds = [lo - 1, *seps, hi]
    k = 0
    while k + 1 < len(bounds) - 1 and at > bounds[k + 1]:
        k += 1
    if k == 0:
        start = lo
        while start < seps[0] and line[start] in " \t":
            start += 1
        end = seps[0] + 1
        while end < hi and line[end] in " \t":
            end += 1
        return start, end
    seg_end = bounds[k + 1]
    if k + 1 == len(bounds) - 1:  # the last entry: up to the end, without trailing blanks
        while seg_end > bounds[k] + 1 and line[seg_end - 1] in " \t":
            seg_end -= 1
    return bounds[k], seg_end


# -- all fixes of a document -----------------------------------------------------------------------


def fixes(
    text: str,
    diagnostics: Iterable[Diagnostic],
    *,
    task_doc: TaskDocument | None = None,
    droid_doc: DroidDocument | None = None,
    lines: Lines | None = None,
    on_error: Callable[[Diagnostic, Exception], None] | None = None,
) -> list[Fix]:
    """Every fix of ``diagnostics`` (the document's, from the core), in their order. A builder
    that fails on some odd input gives no fix for that diagnostic (``on_error`` is told)."""
    fx = Fixer(text, task_doc=task_doc, droid_doc=droid_doc, lines=lines)
    out: list[Fix] = []
    for d in diagnostics:
        try:
            out.extend(fx.fixes_for(d))
        except Exception as e:  # never let one odd diagnostic take the others down
            if on_error is not None:
                on_error(d, e)
    return out


def task_key(loc: Located) -> dict[str, Any]:
    """How a deferred edit finds its task again (:func:`find_task_again`)."""
    return {"taskId": loc.task.id, "line": loc.line, "title": loc.task.title}


def find_task_again(doc: TaskDocument, data: dict[str, Any]) -> Located:
    """The task an action was listed for, in the current parse: by ID (the one nearest its old
    line when the ID is used twice), else by title near its old line. Raises EditError."""
    task_id = data.get("taskId")
    line = int(data.get("line") or 0)
    title = data.get("title")
    if task_id:
        want = normalize_id(str(task_id))
        found = [
            loc for loc in doc.located_tasks() if loc.task.id and normalize_id(loc.task.id) == want
        ]
        if not found:
            raise EditError(f"task `{task_id}` is no longer in the file")
    else:
        found = [loc for loc in doc.located_tasks() if not loc.task.id and loc.task.title == title]
        if not found:
            raise EditError(f"the task “{title}” is no longer in the file")
    return min(found, key=lambda loc: abs(loc.line - line))


#: the field a deferred "field" fix adds → the status the task must have (its status field)
_FIELD_STATUS = {"Completed": "completed", "Issue": "blocked"}


#: the field the "Add Verify command" action adds (docs/language.md §11, verified completion):
#: an empty code span to write the command in
VERIFY_STUB = ("Verify", "``")


def deferred_edits(text: str, doc: TaskDocument, data: dict[str, Any]) -> list[TextEdit]:
    """The edits of a deferred ``field`` fix (TD022/TD023) on ``text`` as it is now (``doc`` its
    parse): the status field the task's status writes, alone — or, for the key ``Verify``, an
    empty ``**Verify**`` field (:data:`VERIFY_STUB`). Raises EditError."""
    if data.get("op") != "field":
        raise EditError(f"unknown action {data.get('op')!r}")
    loc = find_task_again(doc, data)
    if data.get("key") == VERIFY_STUB[0]:
        if loc.task.fields_named(VERIFY_STUB[0]):
            raise EditError("the task has a **Verify** field already")
        return field_edits(text, doc, loc, [VERIFY_STUB])
    wanted = _FIELD_STATUS.get(str(data.get("key")))
    if wanted is None or loc.task.status is not Status(wanted):
        raise EditError(f"the task is no longer {Status(wanted).label if wanted else '?'}")
    edits = status_edits(text, doc, loc, loc.task.status)
    return _field_only(edits, loc, _TextLines(text).line(loc.line))


def _field_only(edits: list[TextEdit], loc: Located, task_line: str) -> list[TextEdit]:
    """Of a status edit that re-applies a task's own status, only the added field (not the marker
    or the trailing emoji, which may have been merged with an insert on the task line)."""
    tline = loc.line
    end = len(task_line)
    out = []
    for e in edits:
        if e.range.start.line != tline and e.range.end.line != tline:
            out.append(e)
            continue
        breaks = [i for i in (e.new_text.find("\n"), e.new_text.find("\r")) if i >= 0]
        if breaks and e.range.end == Position(tline, end):
            out.append(TextEdit(Range.of(tline, end, end), e.new_text[min(breaks) :]))
    return out


# -- applying (check --fix) ------------------------------------------------------------------------


def _span(text: str, starts: list[int], e: TextEdit) -> tuple[int, int]:
    return offset_at(text, starts, e.range.start), offset_at(text, starts, e.range.end)


def _apart(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Can both edits apply? (Two inserts at one place, or an insert inside or at the start of a
    replaced range, have no order that is obviously right: they wait for the next round.)"""
    return (a[1] <= b[0] and a[0] < b[0]) or (b[1] <= a[0] and b[0] < a[0])


def select_fixes(text: str, candidates: Sequence[Fix]) -> list[Fix]:
    """The preferred fixes among ``candidates`` that apply together: in document order, each
    fix whose edits overlap none of the fixes taken before it (the rest wait a round)."""
    starts = line_starts(text)
    taken: list[tuple[int, int]] = []
    chosen: list[Fix] = []
    pref = [f for f in candidates if f.preferred and f.edits and f.deferred is None]
    spans = [sorted(_span(text, starts, e) for e in f.edits) for f in pref]
    order = sorted(range(len(pref)), key=lambda i: (spans[i][0], i))
    for i in order:
        mine = spans[i]
        if any(not _apart(a, b) for a in mine for b in taken):
            continue
        if any(not _apart(mine[j], mine[k]) for j in range(len(mine)) for k in range(j)):
            continue  # a fix whose own edits collide (never built so): skip it
        taken.extend(mine)
        chosen.append(pref[i])
    return chosen


@dataclass(slots=True)
class FixResult:
    text: str  #: the text with every applied fix
    applied: list[Fix]  #: the fixes applied, round after round
    rounds: int  #: how many rounds changed the text
    diagnostics: list[Diagnostic]  #: what remains in ``text`` (the last analysis)


#: analyse a text: its diagnostics and the fixes they have
Analyse = Callable[[str], tuple[list["Diagnostic"], list[Fix]]]


def fix_text(text: str, analyse: Analyse, max_rounds: int = MAX_ROUNDS) -> FixResult:
    """Apply the preferred fixes of ``text`` until none is left: each round applies the ones
    that do not overlap (:func:`select_fixes`) and analyses the new text again. Stops after
    ``max_rounds`` rounds that changed something, or when a round would change nothing."""
    applied: list[Fix] = []
    rounds = 0
    diags, found = analyse(text)
    while rounds < max_rounds:
        chosen = select_fixes(text, found)
        if not chosen:
            break
        new = apply_edits(text, [e for f in chosen for e in f.edits])
        if new == text:
            break
        text = new
        applied.extend(chosen)
        rounds += 1
        diags, found = analyse(text)
    return FixResult(text, applied, rounds, diags)


def unified_diff(old: str, new: str, path: str, context: int = 3) -> str:
    """``old`` → ``new`` as a unified diff of ``path`` (``a/`` and ``b/`` prefixes, as git and
    ``patch -p1`` read them). Lines keep their own endings (a CRLF file's lines end in ``\\r\\n``);
    a last line without one is marked ``\\ No newline at end of file``."""
    out: list[str] = []
    for line in difflib.unified_diff(
        split_lines_keepends(old),
        split_lines_keepends(new),
        fromfile=f"a/{path}",
        tofile=f"b/{path}",
        n=context,
    ):
        if line.endswith(("\n", "\r")):
            out.append(line)
        else:
            out.append(line + "\n\\ No newline at end of file\n")
    return "".join(out)
