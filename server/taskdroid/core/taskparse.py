"""Build task models (docs/language.md §2) from the block scan of one chunk of a task file."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from sys import intern

from taskdroid.core.blocks import ScanResult
from taskdroid.core.model import (
    FIELD_LOOKUP,
    ChunkParse,
    Field,
    Ref,
    Section,
    Status,
    Task,
)
from taskdroid.core.text import Span

#: ``Span(a, b, c)`` without the NamedTuple constructor's Python-level ``__new__`` (hot paths)
_span = tuple.__new__

# -- markers ---------------------------------------------------------------------------------------

_MARKER = re.compile(r"\[([^\[\]]{0,3}|[Cc][Aa][Nn][Cc][Ee][Ll][Ll]?[Ee][Dd])\](\*?)(?=[ \t]|$)")
_CANONICAL = {
    " ": Status.PENDING,
    "~": Status.IN_PROGRESS,
    "x": Status.COMPLETED,
    "!": Status.BLOCKED,
}


def classify_marker(inner: str, aliases: Mapping[str, str]) -> tuple[Status | None, str] | None:
    """Classify the text between a marker's brackets.

    Returns ``(status, kind)`` with kind ``canonical``/``alias``/``malformed``, or None when the
    bracket group is not a marker attempt at all (``[P]``, ``[US1]``).
    """
    if inner in _CANONICAL:
        return _CANONICAL[inner], "canonical"
    low = inner.lower()
    if low in ("cancelled", "canceled"):
        return Status.CANCELLED, ("canonical" if inner == low else "alias")
    if inner in aliases:
        return Status(aliases[inner]), "alias"
    if len(inner) > 3 or any(c.isupper() or c.isdigit() for c in inner):
        return None
    return None, "malformed"


def likely_status(inner: str) -> Status | None:
    """The status a malformed marker most likely meant (for messages and quick fixes)."""
    t = inner.strip().lower()
    if not t:
        return Status.PENDING
    if t in ("x", "✓", "✔", "✔️", "☑", "☑️", "v", "✅", "xx", "√", "+", "done"):
        return Status.COMPLETED
    if t in ("~", "/", "\\", "-", ">", "…", "..", "...", "wip", "📍", "🚧", "⏳", "🔄", "▶", "→"):
        return Status.IN_PROGRESS
    if t in ("!", "!!", "?", "⚠", "⚠️", "❌", "✗", "✘"):
        return Status.BLOCKED
    return None


# -- IDs and titles --------------------------------------------------------------------------------

#: an ID may end in one letter of either case (docs/language.md §A1): ``T010a``, ``3.2B``
_ID_CORE = r"(?:T\d+(?:\.\d+)*[A-Za-z]?|\d+(?:\.\d+)*[A-Za-z]?)"
_ID_AT = re.compile(r"(" + _ID_CORE + r")(\.?)(?=[ \t]|$|\*\*|~~|:)")
_ASCII_WORD = re.compile(r"[A-Za-z0-9_]")
_STATUS_TOKENS = ("⚠️", "✅", "🔄", "❌", "⚠")
_DEPENDS_GROUP = re.compile(r"\(\s*depends\s+on\b:?\s*([^)]*)\)", re.I)


def _parse_title(line: str, start: int) -> tuple[str | None, Span | None, str, int, int, list]:
    """Parse ``[ID] title [emoji…]`` from ``start``. Returns id, id span (line 0), title, title
    start/end columns and the trailing status tokens (text, start, end).

    ``**1.0 Title**``, ``**1.0** Title`` and ``~~1.2 Title~~`` give the ID and the title without
    the wrapper; a wrapped title without an ID is kept as written.
    """
    n = len(line)
    i = start
    while i < n and line[i] in " \t":
        i += 1
    wrap = ""
    if line.startswith("**", i) or line.startswith("~~", i):
        wrap = line[i : i + 2]
        j = i + 2
    else:
        j = i
    task_id = None
    id_span = None
    m = _ID_AT.match(line, j)
    if m:
        task_id = m.group(1)
        id_span = (m.start(1), m.end(1))
        i = m.end()
        if wrap and line.startswith(wrap, i):
            wrap = ""  # ``**1.0** Title``: the wrapper closes right after the ID
            i += 2
        while i < n and line[i] in " \t:":
            i += 1
    # title end: strip trailing emoji / FAILED tokens, and the closing wrapper of ``**1.0 …**``
    e = max(len(line.rstrip(" \t")), i)
    trailing: list[tuple[str, int, int]] = []
    unwrapped = not (wrap and task_id is not None)
    # (each step looks only at the end of ``line[i:e]``: no slice per token, so a title with
    # thousands of trailing emoji stays linear)
    while e > i:
        found = None
        for emo in _STATUS_TOKENS:
            if line.endswith(emo, i, e):
                found = emo
                break
        if found is None and line.endswith("FAILED", i, e):
            if e - 6 == i or not _ASCII_WORD.match(line, e - 7):
                found = "FAILED"
        if found is None:
            if not unwrapped and line.endswith(wrap, i, e) and e - 2 > i:
                unwrapped = True
                e -= 2
                while e > i and line[e - 1] in " \t":
                    e -= 1
                continue
            break
        trailing.append((found, e - len(found), e))
        e -= len(found)
        while e > i and line[e - 1] in " \t":
            e -= 1
    trailing.reverse()
    return task_id, (Span(0, *id_span) if id_span else None), line[i:e], i, e, trailing


# -- dependency references ---------------------------------------------------------------------------

#: A file reference is what ``(?<![\w#])(/?(?:X+/)*Y+\.md)(?:#(ID))?(?!\w)`` finds, X being
#: ``[^\s#,;()\[\]`'"]`` and Y the same without ``/`` — but that pattern backtracks exponentially
#: (``a/a/a/…/b.mx .md``), so :func:`_xref_matches` finds the same matches in linear time: within
#: a run of X characters a match starts at the first place allowed to start one and ends at the
#: run's last ``.md`` that can end one (tests/core/test_taskparse.py compares it with the regex).
_XRUN = re.compile(r"[^\s#,;()\[\]`'\"]+")
_HASH_ID = re.compile(r"#(" + _ID_CORE + r")(?!\w)")
_WORD_CHAR = re.compile(r"\w")


def _xref_matches(value: str) -> list[tuple[int, int, str, str | None]]:
    """``(start, end, path, task ID or None)`` of each file reference in ``value``, in order."""
    out: list[tuple[int, int, str, str | None]] = []
    n = len(value)
    pos = 0  # where the previous match ended
    for run in _XRUN.finditer(value):
        a, b = run.span()
        if b <= pos:
            continue
        # the last ``.md`` in the run with a non-slash before it and no word character after
        # (a ``#`` is no word character; ``#ID`` after it is part of the match when it is whole)
        k = value.rfind(".md", a, b)
        end = None
        while k > a:
            e = k + 3
            if value[k - 1] != "/":
                if e < n and value[e] == "#":
                    m = _HASH_ID.match(value, e)
                    end = (e, m.end(), m.group(1)) if m else (e, e, None)
                    break
                if e == n or not _WORD_CHAR.match(value, e):
                    end = (e, e, None)
                    break
            k = value.rfind(".md", a, k)
        if end is None:
            continue
        # the first place in the run that may start a match (not after a word character or #)
        p = max(a, pos)
        while p < k and p > 0 and (value[p - 1] == "#" or _WORD_CHAR.match(value, p - 1)):
            p += 1
        if p >= k:
            continue
        e, m_end, task_id = end
        out.append((p, m_end, value[p:e], task_id))
        pos = m_end
    return out


# Not after ``@ ^ ~ = < >`` and not before ``+`` / ``.x``: ``react@18.2``, ``>=3.11``, ``5.0+`` and
# ``1.2.x`` are versions, not task IDs. A ``-`` or ``~`` before an ID only in a range
# (``1.1-1.3``, ``T030.2~T030.6``).
_NOT_AFTER = r"(?<![\w.#/@^=<>])(?<!(?<![\dA-Z])(?<!\d[a-z])[-~])"
_DOTTED = re.compile(_NOT_AFTER + r"(\d+(?:\.\d+)+[A-Za-z]?)(?![\w+]|\.[\dxX*])")
_SPECKIT = re.compile(_NOT_AFTER + r"(T\d+(?:\.\d+)*[A-Za-z]?)(?![\w+]|\.[\dxX*])")
_AFTER_TASK = re.compile(r"(?:\b[Tt]asks?\b[ \t]*#?|(?<![\w/])#)[ \t]*")
_ID_LIST_ITEM = re.compile(r"(" + _ID_CORE + r")(?![\w]|\.\d)")
_SEP = re.compile(r"[ \t]*(?:,|;|&|\band\b|/|\+)?[ \t]*")
# Atomic groups: with the separator optional, ``(?:ID)(?:sep? ID)*`` could split a run of digits
# into IDs in exponentially many ways before failing (``1111…1x``: minutes at 30 digits). A greedy
# ID never needs to give a character back here (what follows an ID is a separator, another ID
# or the end), so the atomic pattern accepts exactly the same values (a differential test in
# tests/core/test_taskparse.py checks it against the old pattern).
_ID_ATOM = r"(?>" + _ID_CORE[3:]
_ONLY_IDS = re.compile(
    r"[ \t]*(?:[Tt]asks?[ \t]+)?#?"
    + _ID_ATOM
    + r"(?>[ \t]*(?:,|;|&|\band\b)?[ \t]*#?"
    + _ID_ATOM
    + r")*[ \t]*\.?[ \t]*$"
)
_NONE_VALUES = {"none", "-", "—", "n/a", "na", "nothing", "no dependencies", "(none)", "none."}


def extract_refs(value: str, line: int, col0: int, *, inline: bool = False) -> list[Ref]:
    """Dependency references in a Dependencies value (docs/language.md §2). ``col0`` is the value's column."""
    stripped = value.strip().strip("*_").strip()
    if not stripped or stripped.lower() in _NONE_VALUES:
        return []
    refs: list[Ref] = []
    # the characters already taken by a reference (a value with thousands of references must not
    # compare each new one with all the others)
    taken = bytearray(len(value))

    def add(start: int, end: int, task_id: str | None, path: str | None) -> None:
        if taken.find(1, start, end) >= 0:
            return
        taken[start:end] = b"\x01" * (end - start)
        refs.append(
            Ref(value[start:end], Span(line, col0 + start, col0 + end), task_id, path, inline)
        )

    if ".md" in value:
        for start, end, path, task_id in _xref_matches(value):
            add(start, end, task_id, path)
    if _ONLY_IDS.match(value):
        for m in _ID_LIST_ITEM.finditer(value):
            add(m.start(1), m.end(1), m.group(1), None)
    else:
        for rx in (_DOTTED, _SPECKIT):
            for m in rx.finditer(value):
                add(m.start(1), m.end(1), m.group(1), None)
        for m in _AFTER_TASK.finditer(value):
            pos = m.end()
            while True:
                mm = _ID_LIST_ITEM.match(value, pos)
                if not mm:
                    break
                add(mm.start(1), mm.end(1), mm.group(1), None)
                sep = _SEP.match(value, mm.end())
                nxt = sep.end() if sep else mm.end()
                if nxt == mm.end() or not _ID_LIST_ITEM.match(value, nxt):
                    break
                pos = nxt
    refs.sort(key=lambda r: r.span.start)
    return refs


# -- timestamps ----------------------------------------------------------------------------------

_DATE_TOKEN = re.compile(
    r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?:([T ])(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?(?!\d)"
)


def parse_timestamp(
    value: str,
) -> tuple[datetime | date | None, tuple[int, int] | None, str | None]:
    """Find and parse the first date-like token. Returns (value, (start, end), error)."""
    m = _DATE_TOKEN.search(value)
    if not m:
        return None, None, "no date found (expected `YYYY-MM-DD HH:MM`)"
    y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    try:
        if m.group(5) is None:
            return date(y, mo, d), m.span(), None
        hh, mm = int(m.group(5)), int(m.group(6))
        ss = int(m.group(7) or 0)
        dt = datetime(y, mo, d, hh, mm, ss)
        tz = m.group(8)
        if tz:
            if tz == "Z":
                dt = dt.replace(tzinfo=UTC)
            else:
                sign = 1 if tz[0] == "+" else -1
                digits = tz[1:].replace(":", "")
                off = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
                dt = dt.replace(tzinfo=timezone(sign * off))
        return dt, m.span(), None
    except ValueError as e:
        return None, m.span(), f"`{m.group(0)}` is not a valid date/time ({e})"


# -- fields ----------------------------------------------------------------------------------------

_FIELD = re.compile(r"\*\*([^*\n]+?)(:?)\*\*(:?)[ \t]*")


def _parse_field(line: str, n: int, start: int, bullet_start: int, bullet_end: int) -> Field | None:
    # hot: one call per non-task list item (tens of thousands in a large file)
    if not line.startswith("**", start):
        if line.startswith("_Depends", start):  # cc-sdd's ``_Depends: 1.1_``
            return _italic_depends(line, n, start, bullet_start, bullet_end)
        return None
    m = _FIELD.match(line, start)
    if m is None:
        return None
    raw, c1, c2 = m.group(1, 2, 3)
    if (not c1) == (not c2):  # exactly one colon, inside or outside the stars
        return None
    key = raw.strip()
    if not key or len(key) > 40:
        return None
    key = intern(key)  # a few keys, hundreds of thousands of fields: one string each
    ks = m.start(1)
    if len(key) != len(raw):
        ks += len(raw) - len(raw.lstrip())
    vs = m.end()
    ve = len(line.rstrip(" \t"))
    if ve < vs:
        ve = vs
    return Field(
        n,
        key,
        _span(Span, (n, ks, ks + len(key))),
        FIELD_LOOKUP.get(key.lower()),
        line[vs:ve],
        _span(Span, (n, vs, ve)),
        n,
        _span(Span, (n, bullet_start, bullet_end)),
    )


_ITALIC_DEPENDS = re.compile(r"_Depends(_:|:_?)[ \t]*")


def _italic_depends(line: str, n: int, start: int, bullet_start: int, bullet_end: int):
    """cc-sdd's dependency line ``_Depends: 1.1, 2.3_`` (or ``_Depends_: 1.1``): a Dependencies
    field whose value ends at the closing ``_``."""
    m = _ITALIC_DEPENDS.match(line, start)
    if m is None:
        return None
    vs = m.end()
    ve = line.find("_", vs) if m.group(1) == ":" else -1
    if ve < 0:  # ``_Depends_: 1.1`` (or never closed): the value runs to the end of the line
        ve = max(vs, len(line.rstrip(" \t")))
    while ve > vs and line[ve - 1] in " \t":
        ve -= 1
    ks = start + 1
    return Field(
        n, "Depends", Span(n, ks, ks + 7), "Dependencies", line[vs:ve], Span(n, vs, ve), n,
        Span(n, bullet_start, bullet_end),
    )  # fmt: skip


# -- sections --------------------------------------------------------------------------------------

_TRAILING_HEADING_CHARS = frozenset(" \t✅🔄⚠❌\ufe0f")
#: ``N.`` or ``N.0`` (optionally ``N.0.``) at the start of a heading: ``### 3. API``, ``## 1.0 Setup``
_SECTION_NUM = re.compile(r"(\d+)(?:\.0\.?|\.)(?=[ \t:]|$)")
#: an upper-case word in parentheses at the end of a heading: ``(HIGH)``, ``(P0)`` when configured
_PRIORITY = re.compile(r"\(([A-Z][A-Z0-9_-]*)\)$")


def _parse_section(line: str, n: int, level: int, ts: int, te: int) -> Section:
    text = line[ts:te]
    num = None
    num_span = None
    m = _SECTION_NUM.match(text)
    if m:
        num = int(m.group(1))
        num_span = Span(n, ts + m.start(1), ts + m.end(1))
    # strip trailing emoji / markers to find "(PRIORITY)"
    e = len(text.rstrip())
    prio = None
    prio_span = None
    tail = text[:e]
    while tail and tail[-1] in _TRAILING_HEADING_CHARS:
        tail = tail[:-1]
    pm = _PRIORITY.search(tail)
    if pm:
        prio = pm.group(1)
        prio_span = Span(n, ts + pm.start(1), ts + pm.end(1))
    return Section(n, level, text, Span(n, ts, te), num, num_span, prio, prio_span)


# -- bare numbers (docs/language.md §A2) --------------------------------------------------------------

_BARE_NUMBER = re.compile(r"\d+[A-Za-z]?$")


def _bare_id_form(line: str, t: Task) -> int:
    """0: not a bare-integer ID; 1: a bare integer written as an ID (``1.``, ``1:``, ``**1 …**``,
    ``~~1 …~~``); 2: a bare integer written like the first word of a title (``0 ESLint …``)."""
    if not t.id or t.id_span is None or not _BARE_NUMBER.match(t.id):
        return 0
    a, b = t.id_span.start, t.id_span.end
    if line[b : b + 1] in (".", ":") or line[max(0, a - 2) : a] in ("**", "~~"):
        return 1
    return 2


def _demote_bare_numbers(lines: list[str], tasks: list[Task]) -> None:
    """A bare integer right after the marker is an ID only when written as one, or when most of
    its sibling tasks have bare-integer IDs written as IDs, or (taskdroid's reading of a list
    numbered throughout) when every task of its list starts with a bare integer. Otherwise it is
    the first word of the title: ``- [x] 0 ESLint warnings``."""
    weak = [(t, _bare_id_form(lines[t.line], t)) for t in tasks]
    if not any(form == 2 for _, form in weak):
        return
    lists: dict[int, list[int]] = {}
    for t, form in weak:
        lists.setdefault(t.list_id, []).append(form)
    for t, form in weak:
        if form != 2:
            continue
        forms = lists[t.list_id]
        if forms.count(1) * 2 > len(forms) or 0 not in forms:
            continue
        assert t.id_span is not None
        line = lines[t.line]
        start, end = t.id_span.start, t.title_span.end
        while end > start and line[end - 1] in " \t":
            end -= 1  # `- [ ] 3 🔄`: the title is `3`, without the space before the emoji
        t.id = None
        t.id_span = None
        t.title = line[start:end]
        t.title_span = _span(Span, (t.line, start, end))


# -- building a chunk -----------------------------------------------------------------------------


def _line_lasts(items) -> list[int]:
    """The indices of the items that are the last (innermost) item on their line, in order."""
    return [
        k for k in range(len(items)) if k + 1 == len(items) or items[k + 1].line != items[k].line
    ]


def _nested_items(
    lines: list[str], items, lasts: list[int], idx: int, end_line: int
) -> list[tuple[str, Span]]:
    """The first line of every list item nested in item ``idx`` (up to ``end_line``): of the items
    nested on one line (``- - x``) only the innermost, whose text it is. (Walking only those keeps
    the fields of a deep nest of fields linear: a line is visited once per field it is nested in,
    and nesting it in a field takes indentation, so as many characters.)"""
    out: list[tuple[str, Span]] = []
    for q in range(bisect_right(lasts, idx), len(lasts)):
        sub = items[lasts[q]]
        if sub.line > end_line:
            break
        sl = lines[sub.line]
        start = sub.content_char
        end = max(start, len(sl.rstrip(" \t")))
        out.append((sl[start:end], Span(sub.line, start, end)))
    return out


def build_chunk(lines: list[str], scan: ScanResult, aliases: Mapping[str, str]) -> ChunkParse:
    """Turn the scan of ``lines`` (one chunk) into sections, tasks and fields."""
    sections: list[Section | None] = []  # None: a level-1 heading, no section
    headings: list[tuple[int, int, str]] = []
    heading_lines: list[int] = []  # lines of sections, parallel to `sections`
    for h in scan.headings:
        s = lines[h.line]
        text = s[h.text_start : h.text_end] if h.text_start >= 0 else s.strip()
        headings.append((h.line, h.level, text))
        if h.level >= 2:
            sections.append(
                _parse_section(s, h.line, h.level, max(h.text_start, 0), max(h.text_end, 0))
            )
            heading_lines.append(h.line)
        else:
            heading_lines.append(h.line)
            sections.append(None)  # placeholder: level-1 heading, no section

    tasks: list[Task] = []
    orphans: list[Field] = []
    item_task: dict[int, int] = {}  # item index -> task index
    # which section each line belongs to: walk in order
    sec_idx = -1
    h_ptr = 0
    n_heads = len(heading_lines)
    list_ids: dict[tuple[int, int, int], int] = {}
    next_list = 0
    items = scan.items
    last_child: dict[int, int] = {}  # parent item index -> its latest child item
    #: per item, the task index of its nearest enclosing task item (-1: none) — an item's parent
    #: comes before it, so this is one step per item, not a walk up a deep nest
    task_above: list[int] = []
    lasts: list[int] | None = None  # see _nested_items
    #: task items, and orphan field items that follow one (directly or through such fields)
    lost_field_items: set[int] = set()
    for idx, it in enumerate(items):
        while h_ptr < n_heads and heading_lines[h_ptr] <= it.line:
            sec_idx = h_ptr if sections[h_ptr] is not None else -1
            h_ptr += 1
        # find the task ancestor (nearest enclosing item that is a task)
        anc = it.parent
        if anc == -1:
            parent_task = direct_parent_task = -1
        else:
            direct_parent_task = item_task.get(anc, -1)
            parent_task = direct_parent_task if direct_parent_task != -1 else task_above[anc]
        task_above.append(parent_task)
        if it.in_quote:
            continue
        prev_sibling = last_child.get(it.parent, -1)
        last_child[it.parent] = idx
        line = lines[it.line]
        c = it.content_char
        m = _MARKER.match(line, c) if line.startswith("[", c) else None
        cls = classify_marker(m.group(1), aliases) if m is not None else None
        if cls is not None and m is not None:
            status, kind = cls
            tid, id_span, title, ts, te, trailing = _parse_title(line, m.end())
            key = (it.parent, it.col, sec_idx)
            list_id = list_ids.get(key)
            if list_id is None:
                list_id = list_ids[key] = next_list
                next_list += 1
            ln = it.line
            inner = m.group(1)
            ms = m.start()
            task = Task(
                ln,
                it.char,
                line[it.char : it.marker_end],
                c,
                _span(Span, (ln, ms, ms + len(inner) + 2)),
                inner,
                status,
                kind,
                bool(m.group(2)),
                tid,
                _span(Span, (ln, id_span[1], id_span[2])) if id_span else None,
                title,
                _span(Span, (ln, ts, te)),
                [(t, _span(Span, (ln, a, b))) for t, a, b in trailing] if trailing else [],
                it.last_line,
                parent_task,
                sec_idx,
                list_id,
            )
            close = title.rfind(")") + 1  # (no group can end after the last ")")
            if close:
                for gm in _DEPENDS_GROUP.finditer(title, 0, close):
                    inner_start = ts + gm.start(1)
                    task.inline_refs.extend(
                        extract_refs(gm.group(1), it.line, inner_start, inline=True)
                    )
            if parent_task != -1:
                tasks[parent_task].children.append(len(tasks))
                task.depth = tasks[parent_task].depth + 1
            item_task[idx] = len(tasks)
            lost_field_items.add(idx)
            tasks.append(task)
            continue
        f = _parse_field(line, it.line, c, it.char, it.marker_end)
        if f is None:
            continue
        f.end_line = it.last_line
        f.has_children = it.last_line > it.line
        if direct_parent_task != -1:
            if f.has_children:
                if lasts is None:
                    lasts = _line_lasts(items)
                f.items = _nested_items(lines, items, lasts, idx, f.end_line)
            if f.canonical == "Dependencies":
                f.refs = extract_refs(f.value, it.line, f.value_span.start)
                if not f.value.strip():
                    for text, span in f.items:
                        f.refs.extend(extract_refs(text, span.line, span.start))
            tasks[direct_parent_task].fields.append(f)
        elif parent_task == -1:
            if f.has_children:
                if lasts is None:
                    lasts = _line_lasts(items)
                f.items = _nested_items(lines, items, lasts, idx, f.end_line)
            f.after_task = prev_sibling != -1 and prev_sibling in lost_field_items
            if f.after_task:
                lost_field_items.add(idx)
            orphans.append(f)

    real_sections = [sec for sec in sections if sec is not None]
    # re-map task.section from heading index to index in real_sections
    remap: dict[int, int] = {}
    k = 0
    for i, sec in enumerate(sections):
        if sec is not None:
            remap[i] = k
            k += 1
    for t in tasks:
        t.section = remap.get(t.section, -1)
    _demote_bare_numbers(lines, tasks)
    return ChunkParse(
        n_lines=len(lines),
        sections=real_sections,
        tasks=tasks,
        orphan_fields=orphans,
        headings=headings,
        front_matter=scan.front_matter,
    )
