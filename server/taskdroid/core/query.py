"""Pure queries over the core models for editor features (no LSP types, no pygls).

Everything here works in code points on absolute (document) lines, like the rest of the core.
The language server converts the results to the client's position encoding at the edge.

* :func:`task_token_at` / :func:`droid_token_at` — what is under the cursor (marker, task ID,
  dependency reference, droid name, field key, section, front matter key, tool …);
* :func:`dependencies_of`, :func:`dependents_of`, :func:`is_ready`, :func:`droid_users` — the
  relations hover, references and inlay hints show;
* :func:`rename_droid`, :func:`rename_task_id` — the edits of a rename;
* :func:`task_completion_context`, :func:`droid_completion_context`, :func:`next_task_id` — what
  to complete where;
* :func:`outline`, :func:`folding_lines`, :func:`chunk_task_trees` — the structure of a task file.

Only the light core modules (document, model, text) are imported: no pydantic, no YAML.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from taskdroid.core.doc_index import chunk_facts
from taskdroid.core.document import Located, PlacedChunk, TaskDocument, normalize_id
from taskdroid.core.edits import TextEdit
from taskdroid.core.fieldhelp import field_help, known_field_keys
from taskdroid.core.inline import plain_title
from taskdroid.core.model import (
    CANONICAL_MARKERS,
    FIELD_LOOKUP,
    MARKER_MEANING,
    Field,
    Ref,
    Section,
    Status,
    Task,
    droid_name,
)
from taskdroid.core.text import Position, Range, Span, split_lines

if TYPE_CHECKING:
    from taskdroid.core.droids import DroidDocument
    from taskdroid.core.workspace import Workspace

__all__ = [
    "CompletionContext",
    "DependencyInfo",
    "DroidUse",
    "OutlineNode",
    "RefHit",
    "RenamePlan",
    "TextEdit",
    "Token",
    "chunk_headings",
    "chunk_task_trees",
    "dependencies_of",
    "dependents_of",
    "droid_completion_context",
    "droid_name_range",
    "droid_token_at",
    "droid_users",
    "field_help",
    "folding_lines",
    "is_ready",
    "known_field_keys",
    "marker_hover_text",
    "next_task_id",
    "outline",
    "referenced_paths",
    "rename_droid",
    "rename_task_id",
    "task_completion_context",
    "task_counts",
    "task_id_range",
    "task_token_at",
    "unquoted_range",
    "valid_droid_name",
    "valid_task_id",
]

# -- tokens ----------------------------------------------------------------------------------------

#: token kinds in task files
MARKER = "marker"
TASK_ID = "task_id"
TASK_TITLE = "task_title"
DEP_REF = "dep_ref"
DROID_REF = "droid_ref"
FIELD_KEY = "field_key"
SECTION = "section"
#: token kinds in droid files
FM_KEY = "fm_key"
FM_NAME = "fm_name"
FM_TOOL = "fm_tool"
FM_VALUE = "fm_value"


@dataclass(frozen=True, slots=True)
class Token:
    """What sits at a position. ``range`` is absolute, in code points."""

    kind: str
    range: Range
    text: str
    task: Located | None = None
    field: Field | None = None
    ref: Ref | None = None
    section: Section | None = None
    key: str | None = None  #: front matter key (droid files)
    index: int | None = None  #: item index (tools)


def _abs(span: Span, chunk: PlacedChunk) -> Range:
    return span.range.shifted(chunk.line)


def droid_name_range(f: Field) -> Span | None:
    """The span (chunk-relative) of the droid name inside a Droid field value."""
    name = droid_name(f.value)
    if not name:
        return None
    idx = f.value.find(name)
    start = f.value_span.start + max(idx, 0)
    return Span(f.line, start, start + len(name))


def task_id_range(loc: Located) -> Range:
    """The task's ID range, or its title when it has no ID (absolute)."""
    t = loc.task
    span = t.id_span or t.title_span
    return _abs(span, loc.chunk)


def task_token_at(doc: TaskDocument, pos: Position) -> Token | None:
    """The token of a task file at ``pos`` (code points), or None."""
    if pos.line < 0:
        return None
    chunk = doc.chunk_at_line(pos.line)
    if chunk is None:
        return None
    rel = pos.line - chunk.line
    col = pos.character
    parse = chunk.parse
    for s in parse.sections:
        if s.line == rel:
            if s.title_span.contains(rel, col):
                return Token(SECTION, _abs(s.title_span, chunk), s.title, section=s)
            return None
    for t in parse.tasks:
        loc = Located(t, chunk)
        if t.line == rel:
            if t.marker_span.contains(rel, col):
                return Token(MARKER, _abs(t.marker_span, chunk), f"[{t.marker_text}]", task=loc)
            if t.id_span is not None and t.id_span.contains(rel, col):
                return Token(TASK_ID, _abs(t.id_span, chunk), t.id or "", task=loc)
            for ref in t.inline_refs:
                if ref.span.contains(rel, col):
                    return Token(DEP_REF, _abs(ref.span, chunk), ref.text, task=loc, ref=ref)
            return Token(TASK_TITLE, _abs(t.title_span, chunk), t.title, task=loc)
        for f in t.fields:
            if f.line <= rel <= f.end_line:
                tok = _field_token(f, rel, col, chunk, loc)
                if tok is not None:
                    return tok
    for f in parse.orphan_fields:
        if f.line == rel and f.key_span.contains(rel, col):
            return Token(FIELD_KEY, _abs(f.key_span, chunk), f.key, field=f)
    return None


def _field_token(f: Field, rel: int, col: int, chunk: PlacedChunk, loc: Located) -> Token | None:
    if f.line == rel and f.key_span.contains(rel, col):
        return Token(FIELD_KEY, _abs(f.key_span, chunk), f.key, task=loc, field=f)
    if f.canonical == "Droid" and f.line == rel:
        span = droid_name_range(f)
        if span is not None and span.contains(rel, col):
            return Token(DROID_REF, _abs(span, chunk), droid_name(f.value) or "", task=loc, field=f)
    if f.canonical == "Dependencies":
        for ref in f.refs:
            if ref.span.contains(rel, col):
                return Token(DEP_REF, _abs(ref.span, chunk), ref.text, task=loc, field=f, ref=ref)
    return None


def droid_token_at(droid: DroidDocument, lines: list[str], pos: Position) -> Token | None:
    """The token of a droid file's front matter at ``pos``: a key, the name, a tool, a value."""
    for key, rng in droid.key_ranges.items():
        if rng.contains(pos) and rng.start.line == pos.line:
            return Token(FM_KEY, rng, key, key=key)
    for i, rng in enumerate(droid.item_ranges.get("tools", [])):
        if rng.contains(pos):
            text = _slice(lines, rng)
            return Token(FM_TOOL, rng, text.strip("\"'"), key="tools", index=i)
    for key, rng in droid.value_ranges.items():
        if rng.contains(pos) and rng.start != rng.end:
            if key == "name":
                inner = unquoted_range(lines, rng)
                return Token(FM_NAME, inner, _slice(lines, inner), key="name")
            return Token(FM_VALUE, rng, _slice(lines, rng), key=key)
    return None


def _slice(lines: list[str], rng: Range) -> str:
    if rng.start.line == rng.end.line:
        if rng.start.line >= len(lines):
            return ""
        return lines[rng.start.line][rng.start.character : rng.end.character]
    part = [lines[rng.start.line][rng.start.character :]]
    part.extend(lines[rng.start.line + 1 : rng.end.line])
    if rng.end.line < len(lines):
        part.append(lines[rng.end.line][: rng.end.character])
    return "\n".join(part)


def unquoted_range(lines: list[str], rng: Range) -> Range:
    """A one-line scalar's range without its quotes (``"name"`` → ``name``)."""
    if rng.start.line != rng.end.line or rng.end.character - rng.start.character < 2:
        return rng
    text = _slice(lines, rng)
    if text[0] == text[-1] and text[0] in "\"'":
        return Range.of(rng.start.line, rng.start.character + 1, rng.end.character - 1)
    return rng


# -- relations -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DependencyInfo:
    """One dependency reference of a task and what it resolves to."""

    ref: Ref
    range: Range  #: absolute range of the reference
    target: tuple[TaskDocument, Located] | None
    problem: str | None


@dataclass(frozen=True, slots=True)
class RefHit:
    """A reference (in ``doc``, inside task ``task``) to some task."""

    doc: TaskDocument
    task: Located
    ref: Ref
    range: Range  #: absolute range of the whole reference
    id_range: Range  #: absolute range of the task-ID part of the reference


def dependencies_of(ws: Workspace, doc: TaskDocument, loc: Located) -> list[DependencyInfo]:
    out = []
    for ref in loc.task.refs:
        target, problem = ws.resolve_ref(doc, ref)
        out.append(DependencyInfo(ref, _abs(ref.span, loc.chunk), target, problem))
    return out


def is_ready(ws: Workspace, doc: TaskDocument, loc: Located) -> tuple[bool, list[str]]:
    """Is a task ready to start (pending, every dependency completed)? With the reasons if not."""
    reasons: list[str] = []
    status = loc.task.status
    if status is not Status.PENDING:
        reasons.append(f"it is {status.label}" if status else "its marker is malformed")
    for dep in dependencies_of(ws, doc, loc):
        if dep.target is None:
            if dep.problem:
                reasons.append(f"`{dep.ref.text}` does not resolve")
            continue
        t = dep.target[1].task
        if t.status is not Status.COMPLETED:
            label = t.status.label if t.status else "of unknown status"
            reasons.append(f"`{t.id}` is {label}")
    return not reasons, reasons


def _id_variants(task_id: str) -> set[str]:
    k = normalize_id(task_id)
    out = {k}
    if "." not in k:
        out.add(k + ".0")
    elif k.endswith(".0"):
        out.add(k[:-2])
    return out


def dependents_of(ws: Workspace, doc: TaskDocument, loc: Located) -> list[RefHit]:
    """Every dependency reference in the workspace that resolves to the task ``loc`` of ``doc``."""
    if not loc.task.id:
        return []
    want = _id_variants(loc.task.id)
    out: list[RefHit] = []
    for other in _task_docs_with(ws, doc):
        for c in other.chunks:
            for t in c.parse.tasks:
                for ref in t.refs:
                    if ref.task_id is None or normalize_id(ref.task_id) not in want:
                        continue
                    target, _ = ws.resolve_ref(other, ref)
                    if target is None:
                        continue
                    tdoc, tloc = target
                    if tdoc.path != doc.path or tloc.line != loc.line:
                        continue
                    rng = _abs(ref.span, c)
                    id_len = len(ref.task_id)
                    id_rng = Range.of(rng.end.line, rng.end.character - id_len, rng.end.character)
                    out.append(RefHit(other, Located(t, c), ref, rng, id_rng))
    return out


def _task_docs_with(ws: Workspace, doc: TaskDocument) -> Iterator[TaskDocument]:
    seen = False
    for d in ws.task_docs.values():
        if d.path == doc.path:
            seen = True
        yield d
    if not seen:
        yield doc


def referenced_paths(ws: Workspace, doc: TaskDocument) -> set[str]:
    """Files that cross-file references of ``doc`` name (resolved, existing or not)."""
    written: set[str] = set()
    for c in doc.chunks:
        paths = chunk_facts(c.parse).ref_paths
        if paths:
            written |= paths
    return {ws.ref_path(doc.path, p) for p in written}


@dataclass(frozen=True, slots=True)
class DroidUse:
    """A task whose Droid field names a droid."""

    doc: TaskDocument
    task: Located
    field: Field
    range: Range  #: absolute range of the name in the field value


def droid_users(ws: Workspace, name: str, droid: DroidDocument | None = None) -> list[DroidUse]:
    """Tasks whose Droid field names ``name`` (and, when ``droid`` is given, resolves to it)."""
    if droid is not None and ws.resolve_droid(name) is not droid:
        resolved = ws.resolve_droid(name)
        if resolved is None or resolved.path != droid.path:
            return []
    out = []
    for doc in ws.task_docs.values():
        for c in doc.chunks:
            for t in c.parse.tasks:
                for f in t.fields:
                    if f.canonical != "Droid" or droid_name(f.value) != name:
                        continue
                    span = droid_name_range(f)
                    if span is not None:
                        out.append(DroidUse(doc, Located(t, c), f, _abs(span, c)))
    return out


# -- rename ----------------------------------------------------------------------------------------

_DROID_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_TASK_ID = re.compile(r"^(?:T\d+(?:\.\d+)*[A-Z]?|\d+(?:\.\d+)*[A-Z]?)$")


def valid_droid_name(name: str) -> bool:
    return bool(_DROID_NAME.fullmatch(name))


def valid_task_id(task_id: str) -> bool:
    return bool(_TASK_ID.fullmatch(task_id))


@dataclass(slots=True)
class RenamePlan:
    #: path → edits (non-overlapping, in any order)
    edits: dict[str, list[TextEdit]] = field(default_factory=dict)
    #: (old path, new path) file renames, applied after the edits
    file_renames: list[tuple[str, str]] = field(default_factory=list)

    def add(self, path: str, rng: Range, text: str) -> None:
        lst = self.edits.setdefault(path, [])
        if all(e.range != rng for e in lst):
            lst.append(TextEdit(rng, text))


def rename_droid(
    ws: Workspace,
    droid: DroidDocument,
    new_name: str,
    droid_lines: list[str],
    *,
    rename_file: bool = True,
) -> RenamePlan:
    """Rename a droid: its front matter ``name`` and every Droid field that resolves to it.

    The file is renamed too (``rename_file``) when its name equals the droid's and the new file
    does not exist yet. Raises ValueError for an invalid name.
    """
    if not valid_droid_name(new_name):
        raise ValueError(
            f"`{new_name}` is not a valid droid name — use lowercase letters, digits, `-` and `_`, "
            "starting with a letter or digit"
        )
    old = droid.name
    if not old:
        raise ValueError("this droid has no name to rename")
    ws.droid_index()  # loads the personal droids
    others = (*ws.droid_docs.values(), *ws.personal_droids.values())
    other = next((d for d in others if d.name == new_name and d.path != droid.path), None)
    if new_name != old and other is not None:
        raise ValueError(
            f"a droid named `{new_name}` already exists ({ws._show(other.path)}): tasks of "
            f"`{old}` would point at it — choose another name"
        )
    plan = RenamePlan()
    if droid.name_range is not None:
        plan.add(droid.path, unquoted_range(droid_lines, droid.name_range), new_name)
    for use in droid_users(ws, old, droid):
        plan.add(use.doc.path, use.range, new_name)
    if rename_file:
        stem, ext = os.path.splitext(os.path.basename(droid.path))
        if stem == old and new_name != old:
            target = os.path.join(os.path.dirname(droid.path), new_name + ext)
            if not os.path.exists(target):
                plan.file_renames.append((droid.path, target))
    return plan


def rename_task_id(ws: Workspace, doc: TaskDocument, loc: Located, new_id: str) -> RenamePlan:
    """Rename a task's ID and every dependency reference to it. Raises ValueError."""
    if not valid_task_id(new_id):
        raise ValueError(
            f"`{new_id}` is not a task ID — use a dotted number such as `2.3` or a spec-kit ID "
            "such as `T012`"
        )
    if loc.task.id_span is None or not loc.task.id:
        raise ValueError("this task has no ID to rename")
    clash = ws.lookup_id(doc, new_id)
    if (
        clash is not None
        and clash.line != loc.line
        and normalize_id(new_id) != normalize_id(loc.task.id)
    ):
        if clash.task.id and normalize_id(clash.task.id) == normalize_id(new_id):
            raise ValueError(f"task ID `{new_id}` is already used on line {clash.line + 1}")
    plan = RenamePlan()
    plan.add(doc.path, _abs(loc.task.id_span, loc.chunk), new_id)
    for hit in dependents_of(ws, doc, loc):
        plan.add(hit.doc.path, hit.id_range, new_id)
    return plan


# -- completion ------------------------------------------------------------------------------------

COMPLETE_MARKER = "marker"
COMPLETE_TASK_ID = "next_id"
COMPLETE_FIELD_KEY = "field_key"
COMPLETE_DROID = "droid"
COMPLETE_DEPENDENCY = "dependency"
COMPLETE_FM_KEY = "fm_key"
COMPLETE_FM_VALUE = "fm_value"
COMPLETE_TOOL = "tool"


@dataclass(frozen=True, slots=True)
class CompletionContext:
    kind: str
    #: the range the completion replaces (absolute, code points; ends at or after the cursor)
    replace: Range
    prefix: str
    key: str | None = None  #: front matter key, for values and tools
    #: for dependencies: the file part of a ``file.md#`` reference being typed
    path: str | None = None
    #: the task the cursor is in (task files)
    task: Located | None = None
    #: tools already listed (droid files), to leave them out
    existing: tuple[str, ...] = ()


_BULLET = r"(?:[-*+]|\d{1,9}[.)])"
_MARKER_PREFIX = re.compile(r"^([ \t]*)" + _BULLET + r"[ \t]+\[([^\[\]]{0,3})$")
_AFTER_MARKER = re.compile(
    r"^([ \t]*)" + _BULLET + r"[ \t]+\[[^\[\]]{0,11}\]\*?[ \t]+(?:\*\*|~~)?([\w.]*)$"
)
_FIELD_PREFIX = re.compile(r"^([ \t]*)[-*+][ \t]+(\*{0,2})([A-Za-z][A-Za-z ]{0,30})?$")
_FIELD_VALUE = re.compile(
    r"^[ \t]*[-*+][ \t]+\*\*([A-Za-z][A-Za-z ]{0,30}?)(?::\*\*|\*\*:)[ \t]*(.*)$"
)
_DEPENDS_GROUP_OPEN = re.compile(r"\(\s*depends\s+on\b:?\s*([^)]*)$", re.I)
_WORD_BACK = re.compile(r"[\w.#/-]*$")
_FM_KEY_PREFIX = re.compile(r"^([A-Za-z_][\w-]*)?$")
_FM_VALUE_PREFIX = re.compile(r"^([A-Za-z_][\w-]*)[ \t]*:[ \t]*(.*)$")
_FM_ITEM_PREFIX = re.compile(r"^[ \t]+-[ \t]*(\S*)$")


def task_completion_context(
    doc: TaskDocument | None, line: str, pos: Position
) -> CompletionContext | None:
    """What to complete at ``pos`` in a task file; ``line`` is the text of line ``pos.line``."""
    if pos.line < 0:
        return None
    col = min(max(pos.character, 0), len(line))
    before = line[:col]
    after = line[col:]
    loc = _task_around(doc, pos.line) if doc is not None else None

    m = _MARKER_PREFIX.match(before)
    if m:
        start = col - len(m.group(2)) - 1
        end = col
        rest = re.match(r"[^\[\]\s]{0,3}\]\*?", after)
        if rest:
            end = col + rest.end()
        return CompletionContext(
            COMPLETE_MARKER, Range.of(pos.line, start, end), m.group(2), task=loc
        )

    m = _FIELD_VALUE.match(before)
    if m:
        key = FIELD_LOOKUP.get(m.group(1).strip().lower())
        value = m.group(2)
        if key == "Droid":
            word = re.search(r"[\w-]*$", value)
            assert word is not None
            start = col - len(word.group(0))
            end = col + len(re.match(r"[\w-]*", after).group(0))  # type: ignore[union-attr]
            return CompletionContext(
                COMPLETE_DROID, Range.of(pos.line, start, end), word.group(0), task=loc
            )
        if key == "Dependencies":
            return _dependency_context(pos, col, before, after, loc)
        return None

    g = _DEPENDS_GROUP_OPEN.search(before)
    if g and loc is not None and loc.line == pos.line:
        return _dependency_context(pos, col, before, after, loc)

    m = _AFTER_MARKER.match(before)
    if m and (not m.group(2) or re.match(r"^(?:T?\d[\d.]*[A-Z]?)$", m.group(2))):
        start = col - len(m.group(2))
        return CompletionContext(
            COMPLETE_TASK_ID, Range.of(pos.line, start, col), m.group(2), task=loc
        )

    m = _FIELD_PREFIX.match(before)
    if (
        m
        and (m.group(2) or not m.group(3))
        and loc is not None
        and len(m.group(1).expandtabs(4)) > loc.task.indent
    ):
        start = col - len(m.group(2)) - len(m.group(3) or "")
        tail = re.match(r"[A-Za-z ]*(?:\*\*:|:\*\*|\*\*)?[ \t]?", after)
        end = col + (tail.end() if tail else 0)
        return CompletionContext(
            COMPLETE_FIELD_KEY, Range.of(pos.line, start, end), m.group(3) or "", task=loc
        )
    return None


def _dependency_context(
    pos: Position, col: int, before: str, after: str, loc: Located | None
) -> CompletionContext:
    word = _WORD_BACK.search(before)
    assert word is not None
    text = word.group(0)
    path = None
    if "#" in text:
        path, _, text = text.rpartition("#")
    start = col - len(text)
    end = col + len(re.match(r"[\w.]*", after).group(0))  # type: ignore[union-attr]
    return CompletionContext(
        COMPLETE_DEPENDENCY, Range.of(pos.line, start, end), text, path=path or None, task=loc
    )


def _task_around(doc: TaskDocument, line: int) -> Located | None:
    """The task whose block holds ``line`` — or, on a blank or new line right after a task's
    block, that task (so a field typed below a task completes)."""
    loc = doc.task_at_line(line)
    if loc is not None:
        return loc
    for back in range(line - 1, max(-1, line - 3), -1):
        loc = doc.task_at_line(back)
        if loc is not None:
            return loc
    return None


def droid_completion_context(
    droid: DroidDocument | None, lines: list[str], pos: Position
) -> CompletionContext | None:
    """What to complete at ``pos`` in a droid file's front matter."""
    if pos.line <= 0 or pos.line >= len(lines) or not lines or lines[0].rstrip() != "---":
        return None
    for i in range(1, pos.line):
        if lines[i].rstrip(" \t") in ("---", "..."):
            return None  # the cursor is below the front matter
    line = lines[pos.line]
    col = min(max(pos.character, 0), len(line))
    before = line[:col]
    after = line[col:]
    # keys written in the front matter (read from the text: the YAML may be broken while typing)
    keys = []
    for i in range(1, len(lines)):
        if lines[i].rstrip(" \t") in ("---", "..."):
            break
        km = re.match(r"^([A-Za-z_][\w-]*)[ \t]*:", lines[i])
        if km and i != pos.line:
            keys.append(km.group(1))
    present = tuple(keys) or (tuple(droid.front_matter) if droid is not None else ())

    m = _FM_KEY_PREFIX.match(before)
    if m:
        word = m.group(1) or ""
        end = col + len(re.match(r"[\w-]*:?[ \t]?", after).group(0))  # type: ignore[union-attr]
        return CompletionContext(
            COMPLETE_FM_KEY, Range.of(pos.line, 0, end), word, existing=present
        )

    m = _FM_VALUE_PREFIX.match(before)
    if m:
        key = m.group(1)
        value = m.group(2)
        if key in ("tools", "disallowedTools"):
            word = re.search(r"[\w*-]*$", value)
            assert word is not None
            listed = tuple(t.strip(" \t\"'[]") for t in re.split(r",", value))
            start = col - len(word.group(0))
            end = col + len(re.match(r"[\w*-]*", after).group(0))  # type: ignore[union-attr]
            return CompletionContext(
                COMPLETE_TOOL,
                Range.of(pos.line, start, end),
                word.group(0),
                key=key,
                existing=tuple(t for t in listed if t),
            )
        word = re.search(r"[\w:.-]*$", value)
        assert word is not None
        start = col - len(word.group(0))
        end = col + len(re.match(r"[\w:.-]*", after).group(0))  # type: ignore[union-attr]
        return CompletionContext(
            COMPLETE_FM_VALUE, Range.of(pos.line, start, end), word.group(0), key=key
        )

    m = _FM_ITEM_PREFIX.match(before)
    if m:
        key = None
        for i in range(pos.line - 1, 0, -1):
            km = re.match(r"^([A-Za-z_][\w-]*)[ \t]*:", lines[i])
            if km:
                key = km.group(1)
                break
        if key in ("tools", "disallowedTools"):
            existing = tuple(
                x.group(1).strip("\"'")
                for x in (re.match(r"^[ \t]+-[ \t]*(\S+)", ln) for ln in lines[1 : len(lines)])
                if x
            )
            word = m.group(1)
            start = col - len(word)
            return CompletionContext(
                COMPLETE_TOOL, Range.of(pos.line, start, col), word, key=key, existing=existing
            )
    return None


_NUM_TAIL = re.compile(r"^(.*?)(\d+)([A-Z]?)$")


def _increment(task_id: str) -> str:
    m = _NUM_TAIL.match(task_id)
    if not m:
        return task_id + ".1"
    head, num, _letter = m.groups()
    n = int(num) + 1
    return f"{head}{str(n).zfill(len(num))}"


def next_task_id(doc: TaskDocument, line: int) -> str | None:
    """A free task ID for a task written on ``line``: the next after the previous sibling's ID,
    else the first child ID of the parent task or the section number, else ``1``."""
    used = {normalize_id(t.task.id) for t in doc.located_tasks() if t.task.id}
    candidate: str | None = None
    chunk = doc.chunk_at_line(line)
    here: Task | None = None
    prev: Task | None = None
    parent: Task | None = None
    section_no: int | None = None
    if chunk is not None:
        rel = line - chunk.line
        tasks = chunk.parse.tasks
        for t in tasks:
            if t.line == rel:
                here = t
        if here is not None:
            parent = tasks[here.parent] if here.parent >= 0 else None
            for t in tasks:
                if t.line >= rel:
                    break
                if t.list_id == here.list_id and t.id:
                    prev = t
            if 0 <= here.section < len(chunk.parse.sections):
                section_no = chunk.parse.sections[here.section].number
        else:
            before = [t for t in tasks if t.line < rel]
            if before:
                prev = before[-1] if before[-1].id else None
            for s in chunk.parse.sections:
                if s.line <= rel:
                    section_no = s.number
    if prev is not None and prev.id:
        pid = normalize_id(prev.id)
        if pid.endswith(".0") and pid.count(".") == 1:
            candidate = f"{int(pid[:-2]) + 1}.0"
        else:
            candidate = _increment(pid)
    elif parent is not None and parent.id:
        pid = normalize_id(parent.id)
        if pid.startswith("T"):
            candidate = pid + ".1"
        else:
            base = pid[:-2] if pid.endswith(".0") else pid
            candidate = f"{base}.1"
    elif section_no is not None:
        candidate = f"{section_no}.1"
    else:
        candidate = "1"
    for _ in range(10_000):
        if candidate not in used:
            return candidate
        candidate = _increment(candidate)
    return None


# -- structure -------------------------------------------------------------------------------------


@dataclass(slots=True)
class OutlineNode:
    """A heading or a task, with its children. Lines are absolute."""

    kind: str  #: "section" or "task"
    name: str
    detail: str
    range: Range  #: the whole block (start of its line to the end of its last line)
    selection: Range  #: the title / ID
    children: list[OutlineNode] = field(default_factory=list)
    level: int = 0  #: heading level (sections)
    task: Located | None = None


def _line_len(doc_lines: _Lines, line: int) -> int:
    return len(doc_lines.get(line))


class _Lines:
    """Lazy access to a document's lines by chunk (no full split of a large text)."""

    def __init__(self, doc: TaskDocument) -> None:
        self.doc = doc
        self._cache: dict[int, list[str]] = {}

    def get(self, line: int) -> str:
        c = self.doc.chunk_at_line(line)
        if c is None:
            return ""
        lines = self._cache.get(c.line)
        if lines is None:
            lines = split_lines(c.text)
            self._cache[c.line] = lines
        rel = line - c.line
        return lines[rel] if 0 <= rel < len(lines) else ""


_OUTLINE_CACHE: list[tuple[TaskDocument, list[OutlineNode]]] = []


def outline(doc: TaskDocument) -> list[OutlineNode]:
    """Headings (nested by level) holding their tasks (nested as subtasks).

    The result is shared (cached for the last few document versions): do not modify it."""
    for cached, nodes in _OUTLINE_CACHE:
        if cached is doc:
            return nodes
    nodes = _outline(doc)
    _OUTLINE_CACHE.insert(0, (doc, nodes))
    del _OUTLINE_CACHE[4:]
    return nodes


def _chunk_lines(c: PlacedChunk) -> list[str]:
    return split_lines(c.text)


def chunk_task_trees(c: PlacedChunk) -> list[OutlineNode]:
    """The tasks of one chunk as trees (subtasks nested under their task), in line order, with
    absolute positions. Depends only on the chunk's parse and line (cacheable by both)."""
    lines: list[str] | None = None
    nodes: dict[int, OutlineNode] = {}
    out: list[OutlineNode] = []
    for i, t in enumerate(c.parse.tasks):
        end_rel = max(t.end_line, t.line)
        if lines is None:
            lines = _chunk_lines(c)
        end_len = len(lines[end_rel]) if end_rel < len(lines) else 0
        sel = _abs(t.id_span or t.title_span, c)
        if sel.start == sel.end:
            sel = _abs(t.marker_span, c)
        status = t.status.label if t.status else "malformed marker"
        if t.optional:
            status += ", optional"
        node = OutlineNode(
            "task",
            plain_title(t.label) if t.label else f"[{t.marker_text}]",
            status,
            Range(Position(c.line + t.line, 0), Position(c.line + end_rel, end_len)),
            sel,
            task=Located(t, c),
        )
        nodes[i] = node
        if t.parent >= 0 and t.parent in nodes:
            nodes[t.parent].children.append(node)
        else:
            out.append(node)
    return out


def chunk_headings(c: PlacedChunk) -> list[OutlineNode]:
    """The headings of one chunk as (childless) section nodes; ``range`` is only their line."""
    out: list[OutlineNode] = []
    if not c.parse.headings:
        return out
    sec_by_line = {s.line: s for s in c.parse.sections}
    lines: list[str] | None = None
    for hline, level, text in c.parse.headings:
        absline = c.line + hline
        sec = sec_by_line.get(hline)
        if sec is not None:
            sel = _abs(sec.title_span, c)
        else:
            if lines is None:
                lines = _chunk_lines(c)
            ltext = lines[hline] if hline < len(lines) else ""
            start = max(ltext.find(text), 0) if text else 0
            sel = Range.of(absline, start, start + len(text))
        out.append(
            OutlineNode(
                "section", text or "(untitled)", "", Range.of(absline, 0, 0), sel, level=level
            )
        )
    return out


def task_counts(node: OutlineNode) -> tuple[int, int]:
    """(completed, total) of a task node and its subtasks."""
    done = 1 if node.task is not None and node.task.task.status is Status.COMPLETED else 0
    total = 1
    for ch in node.children:
        d, t = task_counts(ch)
        done += d
        total += t
    return done, total


def _outline(doc: TaskDocument) -> list[OutlineNode]:
    lines = _Lines(doc)
    last_line = max(doc.n_lines - 1, 0)
    roots: list[OutlineNode] = []
    stack: list[OutlineNode] = []  # open headings
    for c in doc.chunks:
        heads = chunk_headings(c)
        trees = chunk_task_trees(c)
        events = sorted(
            [(h.range.start.line, 0, h) for h in heads]
            + [(t.range.start.line, 1, t) for t in trees],
            key=lambda e: (e[0], e[1]),
        )
        for absline, kind, node in events:
            if kind == 0:
                while stack and stack[-1].level >= node.level:
                    _close(stack.pop(), absline - 1, lines)
                (stack[-1].children if stack else roots).append(node)
                stack.append(node)
            else:
                (stack[-1].children if stack else roots).append(node)
    while stack:
        _close(stack.pop(), last_line, lines)
    for n in roots:
        _count(n)
    return roots


def _count(node: OutlineNode) -> tuple[int, int]:
    """(completed, total) tasks below a node; sets a section's detail to ``done/total done``."""
    done = total = 0
    for c in node.children:
        d, t = _count(c)
        done += d
        total += t
        if c.kind == "task":
            total += 1
            if c.task is not None and c.task.task.status is Status.COMPLETED:
                done += 1
    if node.kind == "section" and total:
        node.detail = f"{done}/{total} done"
    return done, total


def _close(node: OutlineNode, end_line: int, lines: _Lines) -> None:
    start = node.range.start.line
    end = max(end_line, start)
    while end > start and not lines.get(end).strip():
        end -= 1
    node.range = Range(Position(start, 0), Position(end, _line_len(lines, end)))


def folding_lines(doc: TaskDocument) -> list[tuple[int, int, str]]:
    """``(start line, end line, kind)`` of foldable blocks: sections, tasks with fields or
    subtasks, and front matter. Kind is ``region`` or ``comment`` (front matter)."""
    out: list[tuple[int, int, str]] = []

    def walk(nodes: list[OutlineNode]) -> None:
        for n in nodes:
            s, e = n.range.start.line, n.range.end.line
            if e > s:
                out.append((s, e, "region"))
            walk(n.children)

    walk(outline(doc))
    first = doc.chunks[0] if doc.chunks else None
    if first is not None and first.parse.front_matter is not None:
        fs, fe = first.parse.front_matter
        if fe > fs:
            out.append((fs, fe, "comment"))
    out.sort()
    return out


# -- texts -----------------------------------------------------------------------------------------


def marker_hover_text(task: Task) -> str:
    """A short markdown explanation of a task's marker."""
    written = f"[{task.marker_text}]"
    if task.status is None:
        return (
            f"`{written}` is not a task marker. Markers: `[ ]` pending, `[~]` in progress, "
            "`[x]` completed, `[!]` blocked, `[cancelled]` cancelled."
        )
    meaning = MARKER_MEANING[task.status]
    canonical = CANONICAL_MARKERS[task.status]
    text = f"`{written}` — {meaning}"
    if task.marker_kind == "alias" and written != canonical:
        text += f" (an alias of `{canonical}`)"
    if task.optional:
        text += ". The `*` marks the task optional"
    return text + "."
