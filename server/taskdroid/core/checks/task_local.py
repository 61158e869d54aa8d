"""Checks that need only one chunk of a task file (cached with the chunk's parse).

TD001 TD002 TD004 TD021 TD023 TD024 TD025 TD032 TD040 TD041 TD042 TD043.
Positions are relative to the chunk.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, datetime

from taskdroid.core.diagnostics import Diagnostic, Related, diag
from taskdroid.core.model import (
    CANONICAL_MARKERS,
    FIELD_ALIASES,
    KNOWN_FIELDS,
    REASON_FIELDS,
    STATUS_EMOJI,
    TIMESTAMP_FIELDS,
    ChunkParse,
    Field,
    Status,
    Task,
    droid_name,
)
from taskdroid.core.suggest import edit_distance
from taskdroid.core.taskparse import extract_refs, likely_status, parse_timestamp
from taskdroid.core.text import Range, Span

_DROID_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
EMOJI_OK: dict[str, frozenset[Status]] = {
    "✅": frozenset({Status.COMPLETED}),
    "🔄": frozenset({Status.IN_PROGRESS}),
    "⚠️": frozenset({Status.BLOCKED, Status.IN_PROGRESS}),
    "⚠": frozenset({Status.BLOCKED, Status.IN_PROGRESS}),
    "❌": frozenset({Status.BLOCKED}),
    "FAILED": frozenset({Status.BLOCKED}),
    "❌ FAILED": frozenset({Status.BLOCKED}),
}
_MARKER_LIST = "`[ ]` pending, `[~]` in progress, `[x]` completed, `[!]` blocked or `[cancelled]`"


def _r(span: Span) -> Range:
    return span.range


def check_chunk(chunk: ChunkParse) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for t in chunk.tasks:
        _markers(t, out)
        _emoji(t, out)
        _fields(t, out)
        if t.status is Status.BLOCKED and not any(_gives_reason(f) for f in t.fields):
            out.append(
                diag(
                    "TD023",
                    _r(t.marker_span),
                    f"task {_name(t)} is marked blocked `[{t.marker_text}]` but does not say why — "
                    "add an `**Issue**:` (or Blocker, Error, Root Cause, Action Required, Status) "
                    "field under it",
                )
            )
    _missing_ids(chunk, out)
    _section_mismatch(chunk, out)
    for f in chunk.orphan_fields:
        _orphan(f, out)
    return out


def _gives_reason(f: Field) -> bool:
    """Does this field say why a task is blocked? The reason fields of docs/language.md §4 (TD023), and a
    ``**Blocked by**:`` field, whose key says it all."""
    if f.canonical in REASON_FIELDS:
        return True
    return f.key.lower() == "blocked by" and bool(f.value.strip() or f.items)


def _name(t: Task) -> str:
    return f"`{t.id}`" if t.id else f"“{t.title[:40]}”"


def _markers(t: Task, out: list[Diagnostic]) -> None:
    written = f"[{t.marker_text}]"
    if t.marker_kind == "malformed":
        guess = likely_status(t.marker_text)
        order = [guess] if guess else []
        order += [s for s in Status if s not in order]
        hint = f" — did you mean `{guess.marker}` ({guess.label})?" if guess else ""
        out.append(
            diag(
                "TD001",
                _r(t.marker_span),
                f"`{written}` is not a status marker{hint or '.'} Use {_MARKER_LIST}.",
                data={
                    "suggestions": [s.marker for s in order],
                    "likely": guess.value if guess else None,
                },
            )
        )


def alias_marker(t: Task) -> Diagnostic:
    """TD005 for an alias marker; reported by the whole-file checks, and only in a file that
    also uses the canonical marker for that status (docs/language.md §A7)."""
    assert t.status is not None
    canon = CANONICAL_MARKERS[t.status]
    return diag(
        "TD005",
        _r(t.marker_span),
        f"`[{t.marker_text}]` is understood as {t.status.label}; this file also uses the "
        f"canonical `{canon}` — write one of them throughout",
        data={"replacement": canon},
    )


def _emoji(t: Task, out: list[Diagnostic]) -> None:
    if t.status is None:
        return
    for token, span in _status_signs(t):
        ok = EMOJI_OK.get(token)
        if ok is None or t.status in ok:
            continue
        implied = STATUS_EMOJI.get(token, Status.BLOCKED)
        out.append(
            diag(
                "TD021",
                _r(span),
                f"`{token}` says {implied.label} but the marker `[{t.marker_text}]` says "
                f"{t.status.label} — change the marker to `{implied.marker}` or remove the `{token}`",
                data={"token": token, "implied": implied.value, "status": t.status.value},
            )
        )


def _status_signs(t: Task) -> list[tuple[str, Span]]:
    """The trailing status tokens, with ``❌ FAILED`` (emoji then word, as written by agents) as
    one sign (docs/language.md §A6): one diagnostic per status sign."""
    out: list[tuple[str, Span]] = []
    for token, span in t.trailing:
        if out and token == "FAILED" and out[-1][0] == "❌":
            prev = out[-1][1]
            out[-1] = ("❌ FAILED", Span(prev.line, prev.start, span.end))
            continue
        out.append((token, span))
    return out


def has_date(value: str) -> bool:
    """Does a timestamp field's value hold something date-like? A value without one is a note
    (``**Completed:** All 6 rule types …``), not a timestamp (docs/language.md §A4)."""
    return _DATE_LIKE.search(value) is not None


_DATE_LIKE = re.compile(
    r"\d{4}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|(?<!\d)\d{1,2}:\d{2}(?!\d)"
    r"|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?[ \t]+\d{1,2}\b"
    r"|\b\d{1,2}(?:st|nd|rd|th)?[ \t]+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
    r"|\b(?:today|yesterday|tomorrow)\b",
    re.I,
)


def _fields(t: Task, out: list[Diagnostic]) -> None:
    seen: dict[str, Field] = {}
    started: list[tuple[Field, datetime | date]] = []
    completed: tuple[Field, datetime | date] | None = None
    for f in t.fields:
        key = (f.canonical or f.key).lower()
        if key in seen:
            first = seen[key]
            out.append(
                diag(
                    "TD042",
                    _r(f.key_span),
                    f"`{f.key}` is given twice for task {_name(t)} — merge the two fields",
                    related=[Related(None, _r(first.key_span), f"first `{first.key}` field")],
                )
            )
        else:
            seen[key] = f
        canon = f.canonical
        if canon is None:
            sugg = misspelled_field(f.key)
            if sugg:
                out.append(
                    diag(
                        "TD040",
                        _r(f.key_span),
                        f"unknown field `{f.key}` — did you mean `{sugg}`?",
                        data={"suggestion": sugg},
                    )
                )
            continue
        empty = not f.value.strip() and not f.has_children
        if canon in ("Droid", "Dependencies") or canon in TIMESTAMP_FIELDS:
            if empty:
                what = {"Droid": "a droid name", "Dependencies": "task IDs (or `none`)"}.get(
                    canon, "a date and time (`YYYY-MM-DD HH:MM`)"
                )
                out.append(diag("TD043", _r(f.key_span), f"`{f.key}` is empty — give {what}"))
                continue
        if canon in TIMESTAMP_FIELDS and f.value.strip() and has_date(f.value):
            value, span, err = parse_timestamp(f.value)
            if err:
                rng = (
                    Range.of(f.line, f.value_span.start + span[0], f.value_span.start + span[1])
                    if span
                    else _r(f.value_span)
                )
                out.append(diag("TD024", rng, f"`{f.key}`: {err}"))
            elif value is not None:
                if canon == "Completed":
                    completed = (f, value)
                elif canon in ("Started", "In Progress"):
                    started.append((f, value))
        if canon == "Files":
            for path, path_span in file_entries(f):
                if is_prohibited_path(path):
                    out.append(
                        diag(
                            "TD032",
                            _r(path_span),
                            f"`{path}` is listed in Files — "
                            + (
                                "`.env` files hold secrets and should not be part of a task's "
                                "files (list `.env.example` instead)"
                                if not _under_git(path)
                                else "files under `.git/` are git's internals, not project files"
                            ),
                            data={"path": path},
                        )
                    )
    if completed is not None:
        cf, cv = completed
        for sf, sv in started:
            if _before(cv, sv):
                out.append(
                    diag(
                        "TD025",
                        _r(cf.value_span),
                        f"task {_name(t)} is marked completed at {_fmt(cv)}, before it was "
                        f"started ({_fmt(sv)}, `{sf.key}`) — one of the two timestamps is wrong",
                        related=[Related(None, _r(sf.value_span), f"`{sf.key}` time")],
                    )
                )
                break


_SUGGESTABLE = [
    *KNOWN_FIELDS,
    *(k.title().replace(" On", " on").replace(" By", " by") for k in FIELD_ALIASES),
]


def _singular(w: str) -> str:
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith("s") and not w.endswith("ss") and len(w) > 3:
        return w[:-1]
    return w


def misspelled_field(key: str) -> str | None:
    """The known field key that ``key`` is a misspelling of (TD040), or None.

    A misspelling keeps the words of the known key, each either equal, in the other grammatical
    number (``Dependency``/``Dependencies``, ``Test``/``Tests``), or a small typo of it with the
    same first letter (one edit for words up to 8 letters, two for longer ones; no replaced letter
    in words of up to 5 letters). Other keys are a different field on purpose: ``Current state``
    is not ``Current Step``, ``Tasks`` is not ``Tests``, ``Process`` is not ``Progress``.
    """
    words = key.lower().split()
    if not words:
        return None
    best: tuple[int, str] | None = None
    for cand in _SUGGESTABLE:
        cw = cand.lower().split()
        if words == cw:
            return None  # a known key (any capitalisation) is not misspelled
        if len(cw) != len(words):
            if "".join(words) == "".join(cw):  # ``RootCause``, ``InProgress``
                best = min(best or (0, cand), (0, cand))
            continue
        total = 0
        for a, b in zip(words, cw, strict=True):
            if a == b or _singular(a) == _singular(b):
                continue
            limit = 1 if len(b) <= 8 else 2
            if a[0] != b[0] or len(a) < 4:
                break
            d = edit_distance(a, b, limit)
            if d > limit or (len(b) <= 5 and len(a) == len(b) and sorted(a) != sorted(b)):
                break  # a short word with one letter replaced is another word: Nodes, Notes
            total += d
        else:
            if best is None or (total, cand) < best:
                best = (total, cand)
    return best[1] if best else None


def _fmt(v: datetime | date) -> str:
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M")
    return v.isoformat()


def _before(a: datetime | date, b: datetime | date) -> bool:
    """Is ``a`` strictly earlier than ``b``? Date-only values compare by day."""
    if isinstance(a, datetime) and isinstance(b, datetime):
        if (a.tzinfo is None) != (b.tzinfo is None):
            a, b = a.replace(tzinfo=None), b.replace(tzinfo=None)
        return a < b
    da = a.date() if isinstance(a, datetime) else a
    db = b.date() if isinstance(b, datetime) else b
    return da < db


_ENTRY_TOKEN = re.compile(r"\[([^\]\n]*)\]\(([^()\s]*)\)|`([^`]+)`|\(|\)|,|[^\s,()`]+")


def file_entries(f: Field) -> list[tuple[str, Span]]:
    """Entries of a Files value (docs/language.md §2): comma-separated; an entry is its first backticked span,
    else its first white-space-delimited token; text in parentheses is an annotation (commas in
    it do not split). A markdown link ``[text](path)`` names its target. A Files field with no
    value lists its entries as nested items (``- **Files**:`` then ``  - `src/a.ts` …``)."""
    out = _entries(f.value, f.line, f.value_span.start)
    if not f.value.strip():
        for text, span in f.items:
            out.extend(_entries(text, span.line, span.start))
    return out


def _plain_entry(tok: str, start: int) -> tuple[str, int]:
    """A plain Files token without the punctuation around it (a leading dot stays: ``.env``)."""
    return tok.strip("*_").rstrip(";:."), start + (len(tok) - len(tok.lstrip("*_")))


def _entries(v: str, line: int, base: int) -> list[tuple[str, Span]]:
    out: list[tuple[str, Span]] = []
    if "`" not in v and "(" not in v and ")" not in v:
        # no code spans, links or annotations: the first token of each comma-separated part
        pos = 0
        for part in v.split(","):
            rest = part.lstrip()
            if rest:
                tok = rest.split(None, 1)[0]
                path, start = _plain_entry(tok, pos + len(part) - len(rest))
                if path:
                    out.append((path, Span(line, base + start, base + start + len(path))))
            pos += len(part) + 1
        return out
    depth = 0
    code: tuple[str, int] | None = None  # first backticked span of the current entry
    plain: tuple[str, int] | None = None  # first plain token (or link) of the current entry

    def flush() -> None:
        pick = code or plain
        if pick and pick[0]:
            out.append((pick[0], Span(line, base + pick[1], base + pick[1] + len(pick[0]))))

    for m in _ENTRY_TOKEN.finditer(v):
        tok = m.group(0)
        if tok == "(":
            depth += 1
        elif tok == ")":
            depth = max(0, depth - 1)
        elif depth:
            continue
        elif tok == ",":
            flush()
            code = plain = None
        elif m.group(3) is not None:  # `path`
            if code is None:
                inner = m.group(3)
                path = inner.strip()
                code = (path, m.start(3) + (len(inner) - len(inner.lstrip())))
        elif plain is None and code is None:
            if m.group(2) is not None:  # [text](target)
                target = m.group(2)
                if target and not target.startswith(("http://", "https://", "#", "mailto:")):
                    plain = (target, m.start(2))
                else:
                    text = m.group(1).strip().strip("`").strip()
                    plain = (text, m.start(1) + max(m.group(1).find(text), 0))
            else:
                plain = _plain_entry(tok, m.start())
    flush()
    return out


def _under_git(path: str) -> bool:
    p = path.replace("\\", "/")
    return p.startswith(".git/") or "/.git/" in p or p == ".git"


def is_prohibited_path(path: str) -> bool:
    p = path.replace("\\", "/").rstrip("/")
    base = p.rsplit("/", 1)[-1]
    return base == ".env" or _under_git(p)


def _missing_ids(chunk: ChunkParse, out: list[Diagnostic]) -> None:
    lists: dict[int, list[Task]] = defaultdict(list)
    for t in chunk.tasks:
        lists[t.list_id].append(t)
    for siblings in lists.values():
        with_id = [t for t in siblings if t.id]
        if len(siblings) < 2 or len(with_id) * 2 <= len(siblings) or len(with_id) == len(siblings):
            continue
        nxt: str | bool | None = False  # computed for the first task that needs it
        for t in siblings:
            if t.id or _RANGE_ID.match(t.title):
                continue
            if nxt is False:
                nxt = next_free_id(with_id)
            rng = Range.of(t.line, t.title_span.start, max(t.title_span.end, t.title_span.start))
            if t.title_span.end <= t.title_span.start:
                rng = _r(t.marker_span)
            msg = (
                f"task has no ID while {len(with_id)} of its {len(siblings)} sibling tasks have one"
            )
            if nxt:
                msg += f" — next free ID: `{nxt}`"
            out.append(diag("TD002", rng, msg, data={"suggestion": nxt}))


_NUM_ID = re.compile(r"^(T?)(\d+(?:\.\d+)*)$")
_RANGE_ID = re.compile(r"^\**T?\d+(?:\.\d+)*[A-Za-z]?\s*[~\-–—/,]")


def next_free_id(tasks: list[Task]) -> str | None:
    """The next ID after the largest among ``tasks``, keeping its shape: 2.3 → 2.4, T009 → T010."""
    best: tuple[tuple[int, ...], str, list[str]] | None = None
    used = {t.id for t in tasks if t.id}
    for t in tasks:
        m = _NUM_ID.match(t.id or "")
        if not m:
            continue
        segs = m.group(2).split(".")
        key = (len(segs), *(int(p) for p in segs))
        if best is None or key > best[0]:
            best = (key, m.group(1), segs)
    if best is None:
        return None
    _, prefix, segs = best
    last = int(segs[-1])
    width = len(segs[-1]) if segs[-1].startswith("0") else 0
    for _ in range(10_000):
        last += 1
        cand = prefix + ".".join([*segs[:-1], str(last).zfill(width)])
        if cand not in used:
            return cand
    return None


def _section_mismatch(chunk: ChunkParse, out: list[Diagnostic]) -> None:
    for t in chunk.tasks:
        if t.parent != -1 or t.section < 0 or not t.id or t.id_span is None:
            continue
        sec = chunk.sections[t.section]
        if sec.number is None or t.id.startswith("T"):
            continue
        first = t.id.split(".")[0].rstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        if first.isdigit() and int(first) != sec.number:
            related = []
            if sec.number_span is not None:
                related.append(Related(None, _r(sec.number_span), f"section {sec.number}"))
            out.append(
                diag(
                    "TD004",
                    _r(t.id_span),
                    f"task `{t.id}` is in section {sec.number} (“{sec.title[:50]}”); "
                    f"its ID should start with `{sec.number}.`",
                    related=related,
                )
            )


def _orphan(f: Field, out: list[Diagnostic]) -> None:
    canon = f.canonical
    v = f.value.strip()
    if not v or not f.after_task:
        return  # a metadata list (before any task) is not a lost field
    kind_ok = False
    if canon == "Droid":
        name = droid_name(v)
        kind_ok = bool(name and _DROID_NAME.match(name))
    elif canon == "Dependencies":
        kind_ok = bool(extract_refs(f.value, f.line, f.value_span.start)) or v.lower() in (
            "none",
            "-",
        )
    elif canon in TIMESTAMP_FIELDS:
        value, _, err = parse_timestamp(v)
        kind_ok = err is None and value is not None
    if kind_ok:
        out.append(
            diag(
                "TD041",
                Range.of(f.line, f.bullet_span.start, f.value_span.end),
                f"`{f.key}` field is not under any task — indent it below the task it belongs to",
            )
        )
