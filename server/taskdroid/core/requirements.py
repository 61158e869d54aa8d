"""Requirement references (docs/language.md §13): Kiro ``requirements.md`` and spec-kit ``spec.md`` as a third
document kind, the references their sibling task files make to them, TD050/TD051 and coverage.

Pure: text in, plain models out (code points, 0-based lines, see :mod:`.text`); no LSP types.

* **Kiro** (and the cc-sdd kits that use Kiro's layout): in ``.kiro/specs/<name>/requirements.md``
  a heading whose text starts with ``Requirement N`` (any level, ``: title`` may follow) is
  requirement ``N``; the M-th numbered list item under it (after its "Acceptance Criteria" line
  when it has one; nested numbered lists do not count) is criterion ``N.M``. Tasks reference them
  with ``_Requirements: 1.2, 3.4_`` (also ``_Requirements_:``, ``**Requirements:**``, a plain
  ``Requirements:`` item and Kiro's ``**Validates: Requirements 1.2**``); ``N.M–N.K`` (hyphen or
  en dash) names each criterion between; free text names nothing.
* **spec-kit**: in ``specs/<name>/spec.md`` ``### User Story n`` is story ``USn`` and a
  ``**FR-001**`` item is functional requirement ``FR-001``. Tasks reference them with ``[USn]``
  labels and ``FR-001`` anywhere in their text.

A task's references are those on its own lines (its line and nested items that are not subtasks).
A task file's references resolve against the files of its own folder when that folder sits in a
``specs`` folder (``.kiro/specs/x/``, ``specs/001-x/``).
"""

from __future__ import annotations

import os
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Protocol

from taskdroid.core import document as _document
from taskdroid.core.blocks import scan
from taskdroid.core.diagnostics import Diagnostic, diag
from taskdroid.core.document import Located, PlacedChunk, TaskDocument
from taskdroid.core.model import Status
from taskdroid.core.text import Range, Span, split_lines


class Workspace(Protocol):
    """What this module reads of :class:`taskdroid.core.workspace.Workspace` (which imports this
    module)."""

    task_docs: dict[str, TaskDocument]
    req_docs: dict[str, RequirementsDocument]
    settings: Any

    def set_text(self, path: str, text: str, kind: Any = None) -> Any: ...

    def set_requirements_text(self, path: str, text: str) -> RequirementsDocument: ...

    def requirements_doc(self, path: str) -> RequirementsDocument | None: ...

    def task_doc(self, path: str) -> TaskDocument | None: ...

    def path_exists(self, doc_path: str | None, rel: str) -> bool: ...


KIRO = "kiro"
SPECKIT = "speckit"

#: requirement kinds
REQUIREMENT = "requirement"  #: Kiro ``Requirement N``
CRITERION = "criterion"  #: Kiro acceptance criterion ``N.M``
STORY = "story"  #: spec-kit ``User Story n``
FR = "fr"  #: spec-kit ``FR-001``

#: the requirement file of each flavour (in a folder directly under a ``specs`` folder)
FILE_NAMES = {KIRO: "requirements.md", SPECKIT: "spec.md"}
_FLAVOR_OF_NAME = {v: k for k, v in FILE_NAMES.items()}

#: what a reference kind resolves against
_FLAVOR_OF_REF = {REQUIREMENT: KIRO, CRITERION: KIRO, STORY: SPECKIT, FR: SPECKIT}

__all__ = [
    "CRITERION",
    "FR",
    "KIRO",
    "REQUIREMENT",
    "SPECKIT",
    "STORY",
    "CoverageRow",
    "Criterion",
    "ReqRef",
    "Requirement",
    "RequirementsDocument",
    "TaskRef",
    "coverage",
    "parse_requirements",
    "requirements_flavor",
]


# -- paths -----------------------------------------------------------------------------------------


def _parts(path: str) -> list[str]:
    return [p for p in re.split(r"[\\/]", path) if p]


def requirements_flavor(path: str) -> str | None:
    """``kiro``/``speckit`` when ``path`` is a requirements file (``…/specs/<name>/requirements.md``
    or ``…/specs/<name>/spec.md``), else None."""
    parts = _parts(path)
    if len(parts) < 3 or parts[-3] != "specs":
        return None
    return _FLAVOR_OF_NAME.get(parts[-1])


def sibling_requirement_paths(task_path: str) -> dict[str, str]:
    """flavour → the requirements file a task file's references resolve against (whether it
    exists or not); empty when the task file is not in a spec folder."""
    folder = os.path.dirname(task_path)
    if os.path.basename(os.path.dirname(folder)) != "specs":
        return {}
    return {fl: os.path.join(folder, name) for fl, name in FILE_NAMES.items()}


# -- the requirements document ---------------------------------------------------------------------


@dataclass(slots=True)
class Criterion:
    """A Kiro acceptance criterion ``N.M``."""

    id: str
    requirement: str  #: ``N``
    line: int
    span: Span  #: the list number (``2.``)
    text: str  #: the criterion, continuation lines joined
    end_line: int
    kind: str = CRITERION

    @property
    def label(self) -> str:
        return f"criterion {self.id}"

    @property
    def title(self) -> str:
        return self.text


@dataclass(slots=True)
class Requirement:
    """A Kiro requirement, a spec-kit user story or a spec-kit functional requirement."""

    id: str  #: ``N``, ``USn`` or ``FR-001``
    kind: str  #: REQUIREMENT, STORY or FR
    title: str
    line: int
    span: Span  #: ``Requirement N`` / ``User Story n`` / ``FR-001`` as written
    end_line: int
    summary: str = ""  #: the user story / objective / first paragraph, for hovers
    criteria: list[Criterion] = field(default_factory=list)

    @property
    def label(self) -> str:
        if self.kind == REQUIREMENT:
            return f"Requirement {self.id}"
        if self.kind == STORY:
            return f"User Story {self.id[2:]}"
        return self.id


@dataclass(slots=True)
class RequirementsDocument:
    path: str
    text: str
    flavor: str
    requirements: list[Requirement]
    diagnostics: list[Diagnostic] = field(default_factory=list)  #: TD090 for a huge file
    index: dict[str, Requirement | Criterion] = field(default_factory=dict)
    #: every ID in document order (criteria right after their requirement), for ranges
    order: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for r in self.requirements:
            self.index.setdefault(r.id, r)
            self.order.append(r.id)
            for c in r.criteria:
                self.index.setdefault(c.id, c)
                self.order.append(c.id)

    def get(self, item_id: str) -> Requirement | Criterion | None:
        return self.index.get(item_id)

    def item_at(self, line: int) -> Requirement | Criterion | None:
        """The requirement on its heading (or FR) line, or the criterion on one of its lines."""
        for r in self.requirements:
            if r.line == line:
                return r
            if r.line < line <= r.end_line:
                for c in r.criteria:
                    if c.line <= line <= c.end_line:
                        return c
        return None

    def requirement_of(self, item: Requirement | Criterion) -> Requirement:
        if isinstance(item, Criterion):
            hit = self.index.get(item.requirement)
            assert isinstance(hit, Requirement)
            return hit
        return item


_KIRO_HEADING = re.compile(
    r"Requirement[ \t]+(\d{1,6})(?![\d.]\d|\w)[ \t]*(?:[:.)\-–—][ \t]*)?(.*)$", re.I
)
_STORY_HEADING = re.compile(
    r"(?:User[ \t]+Story[ \t]*|US[ \t]?)(\d{1,6})(?!\w)[ \t]*(?:[:.)\-–—][ \t]*)?(.*)$", re.I
)
_PRIORITY_TAIL = re.compile(r"[ \t]*\((?:Priority|P)[: \t]*[^)]*\)[ \t]*$", re.I)
_FR_ITEM = re.compile(
    r"[ \t]*(?:[-*+][ \t]+|\d{1,9}[.)][ \t]+)?(?:(\*\*|__)(FR-\d{1,6}[A-Za-z]?)(?::?\1:?)"
    r"|(FR-\d{1,6}[A-Za-z]?):)[ \t]*(.*)$"
)
_ACCEPTANCE = re.compile(r"acceptance[ \t]+criteria", re.I)
_SUMMARY = re.compile(r"[ \t]*(?:[-*+][ \t]+)?\*\*(?:User Story|Objective)[:*]*[ \t]*", re.I)
_EMPH = "*_`"

#: parses of requirements files by (path, text): a document is re-parsed only when it changed
_CACHE: OrderedDict[tuple[str, str], RequirementsDocument] = OrderedDict()
_CACHE_MAX = 64


def parse_requirements(path: str, text: str, flavor: str | None = None) -> RequirementsDocument:
    """Parse a requirements file (cached by path and text)."""
    fl = flavor or requirements_flavor(path) or (SPECKIT if path.endswith("spec.md") else KIRO)
    key = (path, text)
    hit = _CACHE.get(key)
    if hit is not None and hit.flavor == fl:
        _CACHE.move_to_end(key)
        return hit
    doc = _parse(path, text, fl)
    _CACHE[key] = doc
    while len(_CACHE) > _CACHE_MAX:
        _CACHE.popitem(last=False)
    return doc


def _clean_heading(text: str) -> tuple[str, int]:
    """Heading text without emphasis around it; returns (text, offset of the text)."""
    s = text.rstrip()
    start = 0
    while start < len(s) and s[start] in _EMPH:
        start += 1
    end = len(s)
    while end > start and s[end - 1] in _EMPH:
        end -= 1
    return s[start:end], start


def _parse(path: str, text: str, flavor: str) -> RequirementsDocument:
    if len(text) > _document.MAX_DOCUMENT_CHARS:
        return RequirementsDocument(path, text, flavor, [], [_document.too_large_diagnostic(text)])
    lines = split_lines(text)
    res = scan(lines)
    n = len(lines)
    opaque = [False] * n
    for a, b in res.opaque:
        for i in range(a, min(b, n - 1) + 1):
            opaque[i] = True
    if res.front_matter is not None:
        for i in range(res.front_matter[0], min(res.front_matter[1], n - 1) + 1):
            opaque[i] = True
    heads = [(h.line, h.level, max(h.text_start, 0), max(h.text_end, 0)) for h in res.headings]
    reqs: list[Requirement] = []
    if flavor == KIRO:
        rx, kind, prefix = _KIRO_HEADING, REQUIREMENT, ""
    else:
        rx, kind, prefix = _STORY_HEADING, STORY, "US"
    seen: set[str] = set()
    found = []
    for k, (ln, _level, ts, te) in enumerate(heads):
        cleaned, off = _clean_heading(lines[ln][ts:te])
        m = rx.match(cleaned)
        if m:
            found.append((k, m, off))
    #: a requirement heading ends the one before it, whatever their levels
    starts = {heads[k][0] for k, _m, _o in found}
    for k, m, off in found:
        ln, level, ts, _te = heads[k]
        rid = prefix + str(int(m.group(1)))
        if rid in seen:
            continue
        seen.add(rid)
        title = m.group(2).strip().strip(_EMPH).strip()
        if kind == STORY:
            title = _PRIORITY_TAIL.sub("", title).strip()
        end = n - 1
        for ln2, level2, _a, _b in heads[k + 1 :]:
            if level2 <= level or ln2 in starts:
                end = ln2 - 1
                break
        while end > ln and not lines[end].strip():
            end -= 1
        label_end = ts + off + m.end(1)
        span = Span(ln, ts + off, label_end)
        req = Requirement(rid, kind, title, ln, span, end)
        req.summary = _summary(lines, ln + 1, end, opaque)
        if kind == REQUIREMENT:
            req.criteria = _criteria(lines, res.items, rid, ln, end, opaque)
        reqs.append(req)
    if flavor == SPECKIT:
        reqs.extend(_functional_requirements(lines, res.items, opaque, seen))
        reqs.sort(key=lambda r: r.line)
    return RequirementsDocument(path, text, flavor, reqs)


def _summary(lines: list[str], start: int, end: int, opaque: list[bool]) -> str:
    """The ``**User Story:**``/``**Objective:**`` line, else the first paragraph line."""
    first = ""
    for i in range(start, min(end + 1, len(lines))):
        if opaque[i]:
            continue
        s = lines[i].strip()
        if not s or s.startswith("#"):
            continue
        m = _SUMMARY.match(lines[i])
        if m:
            return lines[i][m.end() :].strip()
        if not first and not _ACCEPTANCE.search(s):
            first = s
    return first[:400]


def _criteria(
    lines: list[str], items, rid: str, start: int, end: int, opaque: list[bool]
) -> list[Criterion]:
    begin = start + 1
    for i in range(start + 1, end + 1):
        if not opaque[i] and _ACCEPTANCE.search(lines[i]):
            begin = i + 1
            break
    out: list[Criterion] = []
    for it in items:
        if it.line < begin or it.line > end or it.number is None or it.in_quote:
            continue
        # numbered items nested in another numbered item are not criteria of their own
        p = it.parent
        nested = False
        while p != -1:
            if items[p].number is not None:
                nested = True
                break
            p = items[p].parent
        if nested:
            continue
        line = lines[it.line]
        parts = [line[it.content_char :].strip()]
        last = min(it.last_line, end)
        for j in range(it.line + 1, last + 1):
            # continuation lines of the item's own paragraph (stop at a nested item)
            s = lines[j].strip()
            if not s or _starts_item(lines[j]):
                break
            parts.append(s)
        text = " ".join(p for p in parts if p)
        cid = f"{rid}.{len(out) + 1}"
        out.append(Criterion(cid, rid, it.line, Span(it.line, it.char, it.marker_end), text, last))
    return out


_ITEM_START = re.compile(r"[ \t]*(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")


def _starts_item(line: str) -> bool:
    return _ITEM_START.match(line) is not None


def _functional_requirements(
    lines: list[str], items, opaque: list[bool], seen: set[str]
) -> list[Requirement]:
    out: list[Requirement] = []
    for i, line in enumerate(lines):
        if opaque[i] or "FR-" not in line:
            continue
        m = _FR_ITEM.match(line)
        if not m:
            continue
        rid = m.group(2) or m.group(3)
        if rid in seen:
            continue
        seen.add(rid)
        g = 2 if m.group(2) else 3
        text = m.group(4).strip().lstrip(":").strip()
        out.append(Requirement(rid, FR, text, i, Span(i, m.start(g), m.end(g)), i, text))
    return out


# -- references in task files ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReqRef:
    """A reference from a task to a requirement. ``span`` is chunk-relative (like a task's)."""

    text: str  #: as written: ``1.2``, ``2.1–2.7``, ``US1``, ``FR-001``
    span: Span
    kind: str  #: REQUIREMENT / CRITERION (Kiro numbers), STORY or FR
    first: str  #: ``1.2``, ``US1``, ``FR-001``
    last: str | None = None  #: the end of a range

    @property
    def flavor(self) -> str:
        return _FLAVOR_OF_REF[self.kind]


#: where a Kiro requirements list starts: ``_Requirements:``, ``_Requirements_:``,
#: ``**Requirements:**``, ``*Requirement:*``; the emphasis that opened it closes the list
_KIRO_LIST = re.compile(
    r"(?<![\w*])(\*\*|__|\*|_)(?:Requirements?|Reqs?)(?:(\1):|:(\1)?)[ \t]*", re.I
)
_PLAIN_LIST = re.compile(r"[ \t]*(?:[-*+][ \t]+)?Requirements?:[ \t]*", re.I)
_VALIDATES = re.compile(r"\*\*Validates:[ \t]*Requirements?[ \t]+", re.I)
_KIRO_PIECE = re.compile(
    r"(?:(?:Requirements?|Reqs?|Req\.|AC)[ \t]*)?(\d{1,6}(?:\.\d{1,6})?)"
    r"(?:[ \t]*[-–—~][ \t]*(\d{1,6}(?:\.\d{1,6})?))?\.?$",
    re.I,
)
_US_LABEL = re.compile(r"\[(US[ \t]?\d{1,6}(?:[ \t]*[,/][ \t]*US[ \t]?\d{1,6})*)\]")
_US_ONE = re.compile(r"US[ \t]?(\d{1,6})")
_FR_REF = re.compile(r"(?<![\w-])FR-\d{1,6}[A-Za-z]?(?![A-Za-z0-9_])")
#: a range of FRs: ``FR-001 through FR-007``, ``FR-001 to FR-007``, ``FR-001–FR-007``,
#: ``FR-001 - FR-007``, ``FR-001..FR-007``; the end without ``FR-`` only right after ``~``, a dash
#: or ``..`` with no space (``FR-185~188``, ``FR-010-012``)
_FR_RANGE = re.compile(
    r"(?<![\w-])FR-(\d{1,6})(?:[ \t]*(?:through|thru|to|\.\.|[-–—~])[ \t]*FR-(\d{1,6})"
    r"|(?:\.\.|[-–—~])(\d{1,6}))(?![A-Za-z0-9_.])",
    re.I,
)
_AND = re.compile(r"[ \t]+and[ \t]+", re.I)


def _flush(out: list, line: int, col: int, buf: list[tuple[int, str]]) -> None:
    if not buf:
        return
    s = "".join(ch for _i, ch in buf)
    lead = len(s) - len(s.lstrip())
    trail = len(s.rstrip())
    if trail > lead:
        out.append((line, col + buf[lead][0], col + buf[trail - 1][0] + 1, s[lead:trail]))
    buf.clear()


def _pieces(segs: list[tuple[int, int, str]]) -> list[tuple[int, int, int, str]]:
    """Split a (possibly multi-line) list value into top-level pieces: (line, start, end, text)
    with parenthesised notes dropped; a piece never spans lines."""
    out: list[tuple[int, int, int, str]] = []
    depth = 0
    for line, col, text in segs:
        buf: list[tuple[int, str]] = []
        i = 0
        n = len(text)
        while i < n:
            ch = text[i]
            if ch in "([":
                depth += 1
            elif ch in ")]":
                depth = max(0, depth - 1)
            elif depth == 0:
                if ch in ",;":
                    _flush(out, line, col, buf)
                else:
                    m = _AND.match(text, i)
                    if m:
                        _flush(out, line, col, buf)
                        i = m.end()
                        continue
                    buf.append((i, ch))
            i += 1
        _flush(out, line, col, buf)
    return out


def _kiro_value_segments(
    lines: list[str], own: list[int], k: int, start: int, closer: str | None
) -> list[tuple[int, int, str]]:
    """The text of a requirements list starting at ``lines[own[k]][start:]`` up to its closing
    emphasis (continuing on the following lines of the same item when it wraps)."""
    segs: list[tuple[int, int, str]] = []
    ln = own[k]
    line = lines[ln]
    pos = start
    for step in range(6):
        if closer:
            e = line.find(closer, pos)
            if e >= 0:
                segs.append((ln, pos, line[pos:e]))
                return segs
        text = line[pos:].rstrip()
        segs.append((ln, pos, text))
        if not closer:
            return segs
        # a wrapped value goes on with the next line when it is a continuation line
        if k + step + 1 >= len(own) or own[k + step + 1] != ln + 1:
            return segs
        nxt = lines[ln + 1]
        if not nxt.strip() or _starts_item(nxt):
            return segs
        ln += 1
        line = nxt
        pos = len(line) - len(line.lstrip())
    return segs


def _kiro_refs_on(lines: list[str], own: list[int], k: int) -> list[ReqRef]:
    line = lines[own[k]]
    if "eq" not in line and "EQ" not in line:
        return []
    starts: list[tuple[int, str | None]] = []
    for m in _KIRO_LIST.finditer(line):
        # ``_Requirements_:`` and ``**Requirements:**`` close before the value: it runs to the
        # end of the line; ``_Requirements: 1.1_`` closes after it
        closed = m.group(2) or m.group(3)
        starts.append((m.end(), None if closed else m.group(1)))
    if not starts:
        plain = _PLAIN_LIST.match(line)
        if plain:
            starts.append((plain.end(), None))
    for m in _VALIDATES.finditer(line):
        starts.append((m.end(), "**"))
    out: list[ReqRef] = []
    for start, closer in starts:
        for ln, a, _b, piece in _pieces(_kiro_value_segments(lines, own, k, start, closer)):
            pm = _KIRO_PIECE.match(piece)
            if not pm:
                continue
            first, last = pm.group(1), pm.group(2)
            kind = CRITERION if "." in first else REQUIREMENT
            fa = a + pm.start(1)
            fb = a + (pm.end(2) if last else pm.end(1))
            out.append(
                ReqRef(lines[ln][fa:fb], Span(ln, fa, fb), kind, _norm_num(first),
                       _norm_num(last) if last else None)
            )  # fmt: skip
    return out


def _norm_num(s: str) -> str:
    return ".".join(str(int(p)) for p in s.split("."))


def _speckit_refs_on(line: str, ln: int) -> list[ReqRef]:
    out: list[ReqRef] = []
    if "[US" in line or "[us" in line:
        for m in _US_LABEL.finditer(line):
            for one in _US_ONE.finditer(line, m.start(1), m.end(1)):
                out.append(
                    ReqRef(one.group(0), Span(ln, one.start(), one.end()), STORY,
                           "US" + str(int(one.group(1))))
                )  # fmt: skip
    if "FR-" in line:
        taken: list[tuple[int, int]] = []
        for m in _FR_RANGE.finditer(line):
            start, end = m.group(1), m.group(2) or m.group(3)
            width = len(start)
            first, last = f"FR-{start}", f"FR-{end.zfill(width) if len(end) < width else end}"
            out.append(ReqRef(m.group(0), Span(ln, m.start(), m.end()), FR, first, last))
            taken.append((m.start(), m.end()))
        for m in _FR_REF.finditer(line):
            if not any(a <= m.start() < b for a, b in taken):
                out.append(ReqRef(m.group(0), Span(ln, m.start(), m.end()), FR, m.group(0)))
        out.sort(key=lambda r: (r.span.line, r.span.start))
    return out


def own_lines(chunk_tasks, t) -> list[int]:
    """The chunk-relative lines that belong to task ``t`` itself (its subtasks' lines removed)."""
    end = max(t.end_line, t.line)
    skip: list[tuple[int, int]] = []
    for ci in t.children:
        c = chunk_tasks[ci]
        skip.append((c.line, max(c.end_line, c.line)))
    out = []
    j = 0
    for ln in range(t.line, end + 1):
        while j < len(skip) and skip[j][1] < ln:
            j += 1
        if j < len(skip) and skip[j][0] <= ln <= skip[j][1]:
            continue
        out.append(ln)
    return out


def task_refs_of_lines(lines: list[str], own: list[int]) -> list[ReqRef]:
    out: list[ReqRef] = []
    for k, ln in enumerate(own):
        if ln >= len(lines):
            break
        out.extend(_kiro_refs_on(lines, own, k))
        out.extend(_speckit_refs_on(lines[ln], ln))
    # a wrapped list can be read from two lines: keep each span once
    seen: set[Span] = set()
    uniq = []
    for r in out:
        if r.span not in seen:
            seen.add(r.span)
            uniq.append(r)
    uniq.sort(key=lambda r: (r.span.line, r.span.start))
    return uniq


#: per chunk parse: the references of each of its tasks (chunk-relative)
_CHUNK_REFS: OrderedDict[int, tuple[object, list[list[ReqRef]]]] = OrderedDict()
_CHUNK_REFS_MAX = 20_000


def chunk_refs(chunk: PlacedChunk) -> list[list[ReqRef]]:
    """The requirement references of each task of ``chunk`` (parallel to its tasks)."""
    key = id(chunk.parse)
    hit = _CHUNK_REFS.get(key)
    if hit is not None and hit[0] is chunk.parse:
        return hit[1]
    tasks = chunk.parse.tasks
    text = chunk.text if tasks else ""
    if not tasks or not any(s in text for s in ("eq", "EQ", "[US", "FR-")):
        refs: list[list[ReqRef]] = [[] for _ in tasks]
    else:
        lines = split_lines(text)
        refs = [task_refs_of_lines(lines, own_lines(tasks, t)) for t in tasks]
    _CHUNK_REFS[key] = (chunk.parse, refs)
    while len(_CHUNK_REFS) > _CHUNK_REFS_MAX:
        _CHUNK_REFS.popitem(last=False)
    return refs


@dataclass(frozen=True, slots=True)
class TaskRef:
    """A reference placed in its document: absolute range, with its task."""

    doc: TaskDocument
    task: Located
    ref: ReqRef

    @property
    def range(self) -> Range:
        return self.ref.span.range.shifted(self.task.chunk.line)


def document_refs(doc: TaskDocument) -> list[TaskRef]:
    out: list[TaskRef] = []
    for c in doc.chunks:
        per_task = chunk_refs(c)
        for t, refs in zip(c.parse.tasks, per_task, strict=True):
            if refs:
                loc = Located(t, c)
                out.extend(TaskRef(doc, loc, r) for r in refs)
    return out


def ref_at(doc: TaskDocument, line: int, col: int) -> TaskRef | None:
    """The requirement reference under a position of a task file."""
    c = doc.chunk_at_line(line)
    if c is None:
        return None
    rel = line - c.line
    for t, refs in zip(c.parse.tasks, chunk_refs(c), strict=True):
        for r in refs:
            if r.span.line == rel and r.span.start <= col <= r.span.end:
                return TaskRef(doc, Located(t, c), r)
    return None


# -- resolution ------------------------------------------------------------------------------------


def resolve(req: RequirementsDocument, ref: ReqRef) -> list[Requirement | Criterion] | None:
    """The items a reference names, or None when (part of) it names nothing in ``req``."""
    first = req.get(ref.first)
    if first is None:
        return None
    if ref.last is None:
        return [first]
    last = req.get(ref.last)
    if last is None:
        return None
    i, j = req.order.index(first.id), req.order.index(last.id)
    if j < i:
        return None
    same_kind = isinstance(first, Criterion) == isinstance(last, Criterion)
    out = []
    for rid in req.order[i : j + 1]:
        item = req.index[rid]
        if not same_kind or isinstance(item, Criterion) == isinstance(first, Criterion):
            out.append(item)
    return out


def _suggestions(req: RequirementsDocument, ref: ReqRef) -> list[str]:
    """IDs one typo away from an unknown reference: a digit dropped, a dot missing or extra, two
    characters swapped, zeros of an FR number."""
    if ref.last is not None:
        return []
    wanted = ref.first
    cands: set[str] = set()
    if ref.kind == FR:
        m = re.match(r"FR-0*(\d+)([A-Za-z]?)$", wanted)
        if m:
            for r in req.requirements:
                mm = re.match(r"FR-0*(\d+)([A-Za-z]?)$", r.id)
                if r.kind == FR and mm and mm.group(1) == m.group(1) and mm.group(2) == m.group(2):
                    cands.add(r.id)
    body = wanted[2:] if ref.kind == STORY else wanted
    pre = "US" if ref.kind == STORY else ""
    variants: set[str] = set()
    for i in range(len(body)):
        variants.add(body[:i] + body[i + 1 :])
        if i + 1 < len(body):
            variants.add(body[:i] + body[i + 1] + body[i] + body[i + 2 :])
    if ref.kind in (REQUIREMENT, CRITERION):
        for i in range(1, len(body)):
            if body[i - 1].isdigit() and body[i].isdigit():
                variants.add(body[:i] + "." + body[i:])
    for v in variants:
        if not v or v.startswith(".") or v.endswith(".") or ".." in v:
            continue
        if ref.kind in (REQUIREMENT, CRITERION):
            try:
                v = _norm_num(v)
            except ValueError:
                continue
        if pre + v in req.index and pre + v != wanted:
            cands.add(pre + v)
    return sorted(cands, key=lambda s: req.order.index(s) if s in req.order else 0)


def _doc_desc(req: RequirementsDocument) -> str:
    return FILE_NAMES.get(req.flavor, os.path.basename(req.path))


def _unknown_message(req: RequirementsDocument, ref: ReqRef) -> str:
    where = _doc_desc(req)
    if ref.last is not None:
        return f"`{ref.text}` names requirements that {where} does not have"
    if ref.kind == CRITERION:
        n, m = ref.first.split(".", 1)
        parent = req.get(n)
        if isinstance(parent, Requirement):
            count = len(parent.criteria)
            has = f"it has {count} acceptance criteri{'on' if count == 1 else 'a'}"
            return f"Requirement {n} has no acceptance criterion {m} in {where} ({has})"
        return f"no Requirement {n} in {where} (for criterion {ref.first})"
    if ref.kind == REQUIREMENT:
        return f"no Requirement {ref.first} in {where}"
    if ref.kind == STORY:
        return f"no User Story {ref.first[2:]} in {where}"
    return f"no {ref.first} in {where}"


def sibling_docs(ws: Workspace, task_path: str) -> dict[str, RequirementsDocument]:
    """flavour → the parsed requirements file beside a task file (only those that exist)."""
    out: dict[str, RequirementsDocument] = {}
    for fl, p in sibling_requirement_paths(task_path).items():
        d = ws.requirements_doc(p)
        if d is not None:
            out[fl] = d
    return out


def check_task_refs(ws: Workspace, doc: TaskDocument) -> list[Diagnostic]:
    """TD050 for each reference the sibling requirements file does not have (only when it
    exists)."""
    sibs = sibling_docs(ws, doc.path)
    if not sibs:
        return []
    out: list[Diagnostic] = []
    for tr in document_refs(doc):
        req = sibs.get(tr.ref.flavor)
        if req is None or resolve(req, tr.ref) is not None:
            continue
        sugg = _suggestions(req, tr.ref)
        msg = _unknown_message(req, tr.ref)
        if sugg:
            msg += " — did you mean " + " or ".join(f"`{s}`" for s in sugg[:3]) + "?"
        data: dict = {"path": req.path}
        if sugg:
            data["suggestions"] = sugg[:3]
        out.append(diag("TD050", tr.range, msg, data=data))
    return out


# -- coverage --------------------------------------------------------------------------------------


def sibling_task_docs(ws: Workspace, req_path: str) -> list[TaskDocument]:
    """The task files whose references resolve against ``req_path``: the indexed task files of
    its folder, and its ``tasks.md`` read from disk when it is not indexed."""
    folder = os.path.dirname(req_path)
    docs = [d for p, d in sorted(ws.task_docs.items()) if os.path.dirname(p) == folder]
    if not docs:
        p = os.path.join(folder, "tasks.md")
        if ws.path_exists(None, p):
            d = ws.task_doc(p)
            if d is not None:
                docs.append(d)
    return docs


@dataclass(slots=True)
class CoverageRow:
    item: Requirement | Criterion
    refs: list[TaskRef]  #: the references naming it (for a requirement: also its criteria's)

    @property
    def tasks(self) -> list[Located]:
        seen: set[tuple[str, int]] = set()
        out = []
        for r in self.refs:
            k = (r.doc.path, r.task.line)
            if k not in seen:
                seen.add(k)
                out.append(r.task)
        return out

    def task_refs(self) -> list[TaskRef]:
        """One reference per task (the first), in order."""
        seen: set[tuple[str, int]] = set()
        out = []
        for r in self.refs:
            k = (r.doc.path, r.task.line)
            if k not in seen:
                seen.add(k)
                out.append(r)
        return out

    @property
    def state(self) -> str:
        tasks = self.tasks
        if not tasks:
            return "uncovered"
        if all(t.task.status == Status.COMPLETED for t in tasks):
            return "done"
        return "covered"

    @property
    def done(self) -> int:
        return sum(1 for t in self.tasks if t.task.status == Status.COMPLETED)


def coverage(req: RequirementsDocument, task_docs: list[TaskDocument]) -> list[CoverageRow]:
    """Each requirement (then its criteria) with the task references that name it."""
    by_id: dict[str, list[TaskRef]] = {i: [] for i in req.order}
    for tdoc in task_docs:
        for tr in document_refs(tdoc):
            if tr.ref.flavor != req.flavor:
                continue
            items = resolve(req, tr.ref)
            if not items:
                continue
            named: list[str] = []
            for it in items:
                named.append(it.id)
                if isinstance(it, Criterion):
                    named.append(it.requirement)
            for i in dict.fromkeys(named):
                by_id[i].append(tr)
    rows = []
    for r in req.requirements:
        rows.append(CoverageRow(r, by_id[r.id]))
        for c in r.criteria:
            rows.append(CoverageRow(c, by_id[c.id]))
    return rows


def requirement_rows(ws: Workspace, req: RequirementsDocument) -> list[CoverageRow]:
    return coverage(req, sibling_task_docs(ws, req.path))


def check_requirements(ws: Workspace, req: RequirementsDocument) -> list[Diagnostic]:
    """TD051 on each requirement, story or FR that no task references — when a task file beside
    it uses that kind of reference at all (a tasks.md that never cites an FR does not make every
    FR uncovered; nor does a spec with no tasks.md yet)."""
    out = list(req.diagnostics)
    tdocs = sibling_task_docs(ws, req.path)
    if not tdocs:
        return out
    used: set[str] = set()
    for tdoc in tdocs:
        for tr in document_refs(tdoc):
            used.add(REQUIREMENT if tr.ref.kind == CRITERION else tr.ref.kind)
    names = ", ".join(os.path.basename(d.path) for d in tdocs)
    for row in coverage(req, tdocs):
        item = row.item
        if isinstance(item, Criterion) or item.kind not in used or row.refs:
            continue
        title = f" ({item.title[:60]})" if item.title and item.kind != FR else ""
        msg = f"{item.label}{title} is not referenced by any task in {names}"
        out.append(diag("TD051", item.span.range, msg))
    return out


def neighbours(ws: Workspace, changed: set[str]) -> set[str]:
    """Indexed files whose requirement diagnostics depend on the ``changed`` ones: a task file's
    requirements files, and a requirements file's task files."""
    out: set[str] = set()
    for p in changed:
        if requirements_flavor(p) is not None:
            folder = os.path.dirname(p)
            out.update(q for q in ws.task_docs if os.path.dirname(q) == folder)
        else:
            for q in sibling_requirement_paths(p).values():
                if q in ws.req_docs:
                    out.add(q)
    return out
