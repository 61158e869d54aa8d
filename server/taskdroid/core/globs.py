"""Glob patterns (docs/language.md §1, §10) matched against POSIX-style paths relative to the workspace root.

Syntax:

* ``**`` as a whole path segment matches zero or more folders (``**/tasks/**/*.md`` matches
  ``tasks/a.md`` and ``x/tasks/b/c.md``); a trailing ``/**`` matches everything below a folder;
* ``*`` matches any run of characters and ``?`` one character, never crossing ``/``;
* ``[abc]``, ``[a-z]``, ``[!abc]`` / ``[^abc]`` are character classes (never matching ``/``);
* ``{a,b}`` alternatives (nesting allowed), ``\\x`` a literal ``x``;
* a pattern without ``/`` (``build``, ``*.tmp``, ``TASKS.md``) matches that name at any depth,
  as in ``.gitignore``, unless it starts with ``/`` or ``./`` (then it matches at the root only);
  a trailing ``/`` is ignored.

Matching is case-sensitive and hidden files and folders match like any other.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

__all__ = ["compile_glob", "compile_globs", "is_excluded", "matches_any", "normalize_relpath"]

_MAX_ALTERNATIVES = 256
_CLASS_SPECIAL = frozenset("\\[]^&~|")


def normalize_relpath(relpath: str) -> str:
    """``./a//b/`` → ``a/b``: the form every matcher expects."""
    parts = [p for p in relpath.split("/") if p and p != "."]
    return "/".join(parts)


@lru_cache(maxsize=1024)
def compile_glob(pattern: str) -> re.Pattern[str]:
    """Compile one glob to a regex that matches a whole relative path (``.match`` is anchored)."""
    alternatives = [_translate(p) for p in _expand_braces(pattern)]
    return re.compile(_wrap(alternatives))


@lru_cache(maxsize=256)
def compile_globs(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    """One regex matching any of ``patterns`` (None when there are none)."""
    alternatives = [_translate(p) for pat in patterns for p in _expand_braces(pat)]
    return re.compile(_wrap(alternatives)) if alternatives else None


def matches_any(relpath: str, patterns: Sequence[str]) -> bool:
    """Does the relative path match one of the glob patterns?"""
    rx = compile_globs(tuple(patterns))
    return rx is not None and rx.match(normalize_relpath(relpath)) is not None


def is_excluded(relpath: str, patterns: Sequence[str]) -> bool:
    """Exclude semantics: the path or one of its parent folders matches one of ``patterns``."""
    rx = compile_globs(tuple(patterns))
    if rx is None:
        return False
    path = normalize_relpath(relpath)
    if rx.match(path):
        return True
    pos = path.find("/")
    while pos != -1:
        if rx.match(path[:pos]):
            return True
        pos = path.find("/", pos + 1)
    return False


# -- translation -------------------------------------------------------------------------------


def _wrap(alternatives: list[str]) -> str:
    body = "|".join(dict.fromkeys(alternatives))  # dedupe, keep order
    return rf"(?s:{body})\Z"


def _translate(pattern: str) -> str:
    """A brace-free glob → regex source (not anchored).

    The regex never backtracks catastrophically, whatever the pattern (patterns come from the
    project's ``.taskdroid.toml``, which a repository controls): runs of ``**`` collapse to one,
    and every ``**`` and ``*`` but the last of its level matches the *earliest* place where the
    fixed-width part after it matches, in an atomic group — as CPython's ``fnmatch`` does. That
    is exact for globs: the parts between two wildcards match a fixed number of characters (of
    folders for ``**``), so the earliest match leaves the most room to what follows.
    """
    pattern = pattern.strip()
    anchored = pattern.startswith(("/", "./"))
    segments = [s for s in pattern.split("/") if s and s != "."]
    if not segments:
        return r"(?!)"  # matches nothing
    if len(segments) == 1 and not anchored and segments[0] != "**":
        segments.insert(0, "**")  # a bare name matches at any depth
    segs: list[str] = []
    for seg in segments:
        if not (seg == "**" and segs and segs[-1] == "**"):  # **/** is **
            segs.append(seg)
    n = len(segs)
    i = 0
    head: list[str] = []
    while i < n and segs[i] != "**":
        head.append(_translate_segment(segs[i]))
        i += 1
    out = "/".join(head)
    if head and i < n:
        out += "/"
    while i < n:  # segs[i] == "**"
        j = i + 1
        piece: list[str] = []
        while j < n and segs[j] != "**":
            piece.append(_translate_segment(segs[j]))
            j += 1
        if not piece:
            out += ".*"  # a trailing **: everything below
        elif j == n:
            out += "(?:[^/]+/)*" + "/".join(piece)  # the last part: ends the path
        else:
            out += "(?>(?:[^/]+/)*?" + "/".join(piece) + "(?=/))/"
        i = j
    return out


def _translate_segment(seg: str) -> str:
    pieces: list[list[str]] = [[]]  # what lies between the stars
    i, n = 0, len(seg)
    while i < n:
        c = seg[i]
        if c == "*":
            while i < n and seg[i] == "*":
                i += 1
            pieces.append([])
            continue
        if c == "?":
            pieces[-1].append("[^/]")
        elif c == "[":
            cls, end = _translate_class(seg, i)
            if cls is not None:
                pieces[-1].append(cls)
                i = end
                continue
            pieces[-1].append(re.escape(c))
        elif c == "\\" and i + 1 < n:
            i += 1
            pieces[-1].append(re.escape(seg[i]))
        else:
            pieces[-1].append(re.escape(c))
        i += 1
    out = "".join(pieces[0])
    if len(pieces) == 1:
        return out
    for middle in pieces[1:-1]:
        out += "(?>[^/]*?" + "".join(middle) + ")"
    return out + "[^/]*" + "".join(pieces[-1])


def _translate_class(seg: str, start: int) -> tuple[str | None, int]:
    """``[...]`` starting at ``start`` → (regex class, index after it), or (None, start)."""
    j = start + 1
    negate = j < len(seg) and seg[j] in "!^"
    if negate:
        j += 1
    body_start = j
    if j < len(seg) and seg[j] == "]":  # a leading ] is literal
        j += 1
    while j < len(seg) and seg[j] != "]":
        j += 1
    if j >= len(seg):
        return None, start
    body = "".join("\\" + ch if ch in _CLASS_SPECIAL else ch for ch in seg[body_start:j])
    if negate:
        return f"[^/{body}]", j + 1
    return f"(?:(?!/)[{body}])", j + 1


def _expand_braces(pattern: str) -> list[str]:
    """``a{b,c{d,e}}`` → ``[ab, acd, ace]``; unbalanced or comma-less braces stay literal."""
    group = _find_brace_group(pattern)
    if group is None:
        return [pattern]
    start, end, options = group
    head, tail = pattern[:start], pattern[end + 1 :]
    out: list[str] = []
    for option in options:
        for expanded in _expand_braces(head + option + tail):
            out.append(expanded)
            if len(out) >= _MAX_ALTERNATIVES:
                return out
    return out


def _find_brace_group(pattern: str) -> tuple[int, int, list[str]] | None:
    """The first ``{…,…}`` group: (index of ``{``, index of ``}``, top-level options)."""
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            found = _match_brace(pattern, i)
            if found is not None:
                end, options = found
                if len(options) > 1:
                    return i, end, options
        i += 1
    return None


def _match_brace(pattern: str, start: int) -> tuple[int, list[str]] | None:
    depth, j, last = 0, start, start + 1
    options: list[str] = []
    while j < len(pattern):
        c = pattern[j]
        if c == "\\":
            j += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                options.append(pattern[last:j])
                return j, options
        elif c == "," and depth == 1:
            options.append(pattern[last:j])
            last = j + 1
        j += 1
    return None
