"""Checks that need only one chunk of a task file (cached with the chunk's parse).

TD001 TD002 TD004 TD005 TD021 TD023 TD024 TD025 TD032 TD040 TD041 TD042 TD043.
Positions are relative to the chunk.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, datetime

from taskdroid.core.diagnostics import Diagnostic, Related, diag
from taskdroid.core.model import (
    CANONICAL_MARKERS,
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
from taskdroid.core.suggest import closest
from taskdroid.core.taskparse import likely_status, parse_timestamp
from taskdroid.core.text import Range, Span

_DROID_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_EMOJI_OK: dict[str, frozenset[Status]] = {
    "✅": frozenset({Status.COMPLETED}),
    "🔄": frozenset({Status.IN_PROGRESS}),
    "⚠️": frozenset({Status.BLOCKED, Status.IN_PROGRESS}),
    "⚠": frozenset({Status.BLOCKED, Status.IN_PROGRESS}),
    "❌": frozenset({Status.BLOCKED}),
    "FAILED": frozenset({Status.BLOCKED}),
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
        if t.status is Status.BLOCKED and not any(f.canonical in REASON_FIELDS for f in t.fields):
            out.append(
                diag(
                    "TD023",
                    _r(t.marker_span),
                    f"task {_name(t)} is blocked but does not say why — add an `**Issue**:` "
                    "(or Blocker, Error, Root Cause, Action Required) field under it",
                )
            )
    _missing_ids(chunk, out)
    _section_mismatch(chunk, out)
    for f in chunk.orphan_fields:
        _orphan(f, out)
    return out


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
    elif t.marker_kind == "alias" and t.status is not None:
        canon = CANONICAL_MARKERS[t.status]
        out.append(
            diag(
                "TD005",
                _r(t.marker_span),
                f"`{written}` is understood as {t.status.label}; the canonical marker is `{canon}`",
                data={"replacement": canon},
            )
        )


def _emoji(t: Task, out: list[Diagnostic]) -> None:
    if t.status is None:
        return
    for token, span in t.trailing:
        ok = _EMOJI_OK.get(token)
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
            sugg = closest(f.key, KNOWN_FIELDS, substring=False)
            if sugg and sugg.lower() != f.key.lower():
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
        if canon in TIMESTAMP_FIELDS and f.value.strip():
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
            for path, span in file_entries(f):
                if is_prohibited_path(path):
                    out.append(
                        diag(
                            "TD032",
                            _r(span),
                            f"`{path}` should never be listed as a task file: "
                            + (
                                "`.env` holds secrets"
                                if not _under_git(path)
                                else "files under `.git/` are git's internals"
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
                        f"completed ({_fmt(cv)}) before it was started ({_fmt(sv)})",
                        related=[Related(None, _r(sf.value_span), f"`{sf.key}` time")],
                    )
                )
                break


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


_ENTRY_SPLIT = re.compile(r"`([^`]+)`|\(|\)|,|[^\s,()`]+")


def file_entries(f: Field) -> list[tuple[str, Span]]:
    """Entries of a Files value: comma-separated; an entry is its first backticked span, else its
    first white-space-delimited token; parenthesised text is an annotation."""
    v = f.value
    out: list[tuple[str, Span]] = []
    depth = 0
    have = False
    for m in _ENTRY_SPLIT.finditer(v):
        tok = m.group(0)
        if tok == "(":
            depth += 1
            continue
        if tok == ")":
            depth = max(0, depth - 1)
            continue
        if depth:
            continue
        if tok == ",":
            have = False
            continue
        if have:
            continue
        have = True
        if m.group(1) is not None:
            path = m.group(1).strip()
            s = m.start(1) + (len(m.group(1)) - len(m.group(1).lstrip()))
        else:
            path = tok.strip("*_;:.")  # punctuation around a plain token
            s = m.start() + (len(tok) - len(tok.lstrip("*_")))
        if not path:
            continue
        base = f.value_span.start
        out.append((path, Span(f.line, base + s, base + s + len(path))))
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
        if len(siblings) < 2 or len(with_id) * 2 <= len(siblings):
            continue
        nxt = next_free_id(with_id)
        for t in siblings:
            if t.id or _RANGE_ID.match(t.title):
                continue
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
_RANGE_ID = re.compile(r"^\**T?\d+(?:\.\d+)*[A-Z]?\s*[~\-–—/,]")


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
    if not v:
        return
    kind_ok = False
    if canon == "Droid":
        name = droid_name(v)
        kind_ok = bool(name and _DROID_NAME.match(name))
    elif canon == "Dependencies":
        from taskdroid.core.taskparse import extract_refs

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
