"""A fast CommonMark block scanner for the constructs that matter to task files.

markdown-it-py parses about 0.7 MB/s here, far too slow to re-parse a large task file on every
keystroke (see ``docs/benchmarks.md``). Task structure is *block* structure, so this module
implements just the block layer of CommonMark — list items with their nesting and content column,
block quotes, fenced and indented code, HTML blocks (all seven kinds), ATX and setext headings,
thematic breaks and paragraphs with lazy continuation — and skips inline parsing entirely.

markdown-it-py is the oracle: ``tests/core/test_blocks_oracle.py`` checks with hypothesis that this
scanner and markdown-it-py agree on which lines open list items, their parents, headings, and which
lines are code or HTML.

The scanner also finds *chunk boundaries*: ATX headings at document level (no open container, no
open leaf). The parse of the text after such a heading does not depend on anything before it, which
is what makes incremental re-analysis possible (see :mod:`taskdroid.core.document`).

Columns: ``col`` values are visual columns (tabs expand to the next multiple of 4), ``char``
values are indices into the line string (code points).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_ATX = re.compile(r"#{1,6}(?:[ \t]|$)")
_FENCE = re.compile(r"(`{3,}|~{3,})(.*)$")
_THEMATIC = re.compile(r"(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$")
_SETEXT = re.compile(r"(?:=+|-+)[ \t]*$")
_BULLET = re.compile(r"[-+*](?=[ \t]|$)")
_ORDERED = re.compile(r"(\d{1,9})[.)](?=[ \t]|$)")

_HTML_1 = re.compile(r"<(?:script|pre|style|textarea)(?:[ \t>]|$)", re.I)
_HTML_1_END = re.compile(r"</(?:script|pre|style|textarea)>", re.I)
_HTML_4 = re.compile(r"<![A-Za-z]")
_HTML_6 = re.compile(
    r"</?(?:address|article|aside|base|basefont|blockquote|body|caption|center|col|colgroup|dd|"
    r"details|dialog|dir|div|dl|dt|fieldset|figcaption|figure|footer|form|frame|frameset|"
    r"h1|h2|h3|h4|h5|h6|head|header|hr|html|iframe|legend|li|link|main|menu|menuitem|nav|"
    r"noframes|ol|optgroup|option|p|param|search|section|summary|table|tbody|td|tfoot|th|"
    r"thead|title|tr|track|ul)(?:[ \t]|/?>|$)",
    re.I,
)
_ATTR = r"""(?:[ \t]+[a-zA-Z_:][a-zA-Z0-9_.:-]*(?:[ \t]*=[ \t]*(?:[^"'=<>`\x00-\x20]+|'[^']*'|"[^"]*"))?)"""
_HTML_7 = re.compile(
    r"(?:<[A-Za-z][A-Za-z0-9-]*" + _ATTR + r"*[ \t]*/?>|</[A-Za-z][A-Za-z0-9-]*[ \t]*>)[ \t]*$"
)

LEAF_NONE, LEAF_PARA, LEAF_FENCE, LEAF_ICODE, LEAF_HTML = 0, 1, 2, 3, 4


@dataclass(slots=True)
class Item:
    """A list item. Lines are relative to the scanned text."""

    line: int
    col: int  #: visual column of the bullet
    char: int  #: index of the bullet in the line
    bullet: str  #: "-", "*", "+", or the ordered delimiter "." / ")"
    number: int | None  #: for ordered items
    marker_end: int  #: index just after the bullet / delimiter
    content_char: int  #: index where the item's first-line content starts (may be len(line))
    content_col: int  #: visual column of the content (continuation lines need this indent)
    parent: int  #: index of the enclosing item, or -1
    in_quote: bool
    last_line: int  #: last non-blank line that belongs to the item
    blank_start: bool = False


@dataclass(slots=True)
class Heading:
    line: int
    level: int
    text_start: int
    text_end: int
    setext: bool = False


@dataclass(slots=True)
class ScanResult:
    items: list[Item] = field(default_factory=list)
    headings: list[Heading] = field(default_factory=list)
    #: lines that are ATX headings at document level (chunk boundaries), in order
    boundaries: list[int] = field(default_factory=list)
    #: (start, end) inclusive line ranges of the front matter, code and HTML blocks
    front_matter: tuple[int, int] | None = None
    #: lines inside fenced/indented code or HTML blocks (for tests and features)
    opaque: list[tuple[int, int]] = field(default_factory=list)


class _Container:
    __slots__ = ("blank_start", "content_col", "item", "kind")

    def __init__(self, kind: str, content_col: int = 0, item: int = -1, blank_start: bool = False):
        self.kind = kind  # "item" or "quote"
        self.content_col = content_col
        self.item = item
        self.blank_start = blank_start


def _skip_ws(s: str, i: int, col: int) -> tuple[int, int]:
    n = len(s)
    while i < n:
        c = s[i]
        if c == " ":
            col += 1
        elif c == "\t":
            col += 4 - (col % 4)
        else:
            break
        i += 1
    return i, col


def _consume_to(s: str, i: int, col: int, target: int) -> tuple[int, int]:
    """Consume white space from (i, col) until the visual column reaches ``target``."""
    n = len(s)
    while col < target and i < n:
        c = s[i]
        if c == " ":
            col += 1
        elif c == "\t":
            nxt = col + 4 - (col % 4)
            if nxt > target:
                # a partly consumed tab: stay on it (its remaining columns are content)
                return i, target
            col = nxt
        else:
            break
        i += 1
    return i, col


def _is_front_matter_open(s: str) -> bool:
    return s.rstrip(" \t") == "---" or s.lstrip("\ufeff").rstrip(" \t") == "---"


def scan(lines: list[str], *, doc_start: bool = True) -> ScanResult:
    """Scan ``lines`` (without line endings) starting from a clean document-level state."""
    res = ScanResult()
    items = res.items
    headings = res.headings
    boundaries = res.boundaries
    opaque = res.opaque
    stack: list[_Container] = []
    leaf = LEAF_NONE
    fence_char = ""
    fence_len = 0
    fence_indent = 0
    html_kind = 0
    para_container_depth = -1  # len(stack) when the open paragraph started
    opaque_start = -1
    nlines = len(lines)
    start = 0

    if doc_start and nlines and _is_front_matter_open(lines[0]):
        for k in range(1, nlines):
            t = lines[k].rstrip(" \t")
            if t in ("---", "..."):
                res.front_matter = (0, k)
                start = k + 1
                break

    for n in range(start, nlines):
        s = lines[n]
        i = 0
        col = 0
        blank = not s.strip(" \t")
        matched = 0
        depth = len(stack)
        # -- 1. continuation of open containers ------------------------------------------------
        while matched < depth:
            c = stack[matched]
            if c.kind == "quote":
                j, col2 = _skip_ws(s, i, col)
                if col2 - col <= 3 and j < len(s) and s[j] == ">":
                    i, col = j + 1, col2 + 1
                    if i < len(s) and s[i] in " \t":
                        if s[i] == " ":
                            i += 1
                            col += 1
                        else:
                            i, col = _consume_to(s, i, col, col + 1)
                    matched += 1
                    continue
                break
            # list item
            if blank:
                it = items[c.item]
                if c.blank_start and it.last_line == it.line:
                    break  # an item can begin with at most one blank line
                matched += 1
                continue
            j, col2 = _skip_ws(s, i, col)
            if col2 >= c.content_col:
                i, col = _consume_to(s, i, col, c.content_col)
                matched += 1
                continue
            break
        all_matched = matched == depth

        # -- 2. open leaves that continue ------------------------------------------------------
        if leaf == LEAF_FENCE:
            if all_matched:
                j, col2 = _skip_ws(s, i, col)
                if col2 - col <= 3 and j < len(s) and s[j] == fence_char:
                    run = len(s) - len(s[j:].lstrip(fence_char))
                    if run >= fence_len and not s[j + run :].strip(" \t"):
                        leaf = LEAF_NONE
                        opaque.append((opaque_start, n))
                        _touch(items, stack, n, blank=False)
                        continue
                _touch(items, stack, n, blank)
                continue
            opaque.append((opaque_start, n - 1))
            leaf = LEAF_NONE
        elif leaf == LEAF_HTML:
            if all_matched:
                if html_kind >= 6 and blank:
                    opaque.append((opaque_start, n - 1))
                    leaf = LEAF_NONE
                    _touch(items, stack, n, blank)
                    continue
                if html_kind <= 5 and _html_ends(html_kind, s):
                    opaque.append((opaque_start, n))
                    leaf = LEAF_NONE
                _touch(items, stack, n, blank)
                continue
            opaque.append((opaque_start, n - 1))
            leaf = LEAF_NONE
        elif leaf == LEAF_ICODE:
            if all_matched:
                if blank:
                    _touch(items, stack, n, blank)
                    continue
                j, col2 = _skip_ws(s, i, col)
                if col2 - col >= 4:
                    _touch(items, stack, n, blank)
                    continue
            opaque.append((opaque_start, _last_nonblank(lines, opaque_start, n - 1)))
            leaf = LEAF_NONE

        # -- 3. lazy paragraph continuation ----------------------------------------------------
        if not all_matched and leaf == LEAF_PARA and not blank:
            if not _starts_block(s, i, col, interrupting=True):
                _touch(items, stack, n, blank)
                continue

        # close unmatched containers
        if not all_matched:
            del stack[matched:]
            if leaf == LEAF_PARA:
                leaf = LEAF_NONE

        # -- 4. new blocks ---------------------------------------------------------------------
        while True:
            j, col2 = _skip_ws(s, i, col)
            if j >= len(s):  # blank (rest of line)
                if leaf == LEAF_PARA:
                    leaf = LEAF_NONE
                break
            indent = col2 - col
            if indent >= 4:
                if leaf == LEAF_PARA:
                    break  # paragraph continuation
                leaf = LEAF_ICODE
                opaque_start = n
                break
            ch = s[j]
            if ch == ">":
                stack.append(_Container("quote"))
                leaf = LEAF_NONE
                i, col = j + 1, col2 + 1
                if i < len(s) and s[i] == " ":
                    i += 1
                    col += 1
                elif i < len(s) and s[i] == "\t":
                    i, col = _consume_to(s, i, col, col + 1)
                continue
            if ch == "#" and _ATX.match(s, j):
                level = len(s) - j - len(s[j:].lstrip("#"))
                ts, te = _atx_text(s, j + level)
                headings.append(Heading(n, level, ts, te))
                leaf = LEAF_NONE
                if not stack:
                    boundaries.append(n)
                break
            if ch in "`~":
                m = _FENCE.match(s, j)
                if m and not (ch == "`" and "`" in m.group(2)):
                    leaf = LEAF_FENCE
                    fence_char = ch
                    fence_len = len(m.group(1))
                    fence_indent = indent
                    opaque_start = n
                    break
            if ch == "<":
                kind = _html_start(s, j, leaf == LEAF_PARA)
                if kind:
                    opaque_start = n
                    if kind <= 5 and _html_ends(kind, s[j:]):
                        opaque.append((n, n))
                        leaf = LEAF_NONE
                    else:
                        leaf = LEAF_HTML
                        html_kind = kind
                    break
            if leaf == LEAF_PARA and ch in "=-" and para_container_depth == len(stack):
                if _SETEXT.match(s, j):
                    headings.append(Heading(n - 1, 1 if ch == "=" else 2, -1, -1, setext=True))
                    _fix_setext(headings, lines, n)
                    leaf = LEAF_NONE
                    break
            if ch in "*-_" and _THEMATIC.match(s, j):
                leaf = LEAF_NONE
                break
            # list items
            m = None
            number = None
            if ch in "-+*":
                m = _BULLET.match(s, j)
                bullet = ch
            elif "0" <= ch <= "9":
                m = _ORDERED.match(s, j)
                if m:
                    number = int(m.group(1))
                    bullet = s[m.end() - 1]
            if m is not None:
                me = m.end()
                k, kcol = _skip_ws(s, me, col2 + (me - j))
                empty = k >= len(s)
                if leaf == LEAF_PARA and (empty or (number is not None and number != 1)):
                    break  # cannot interrupt a paragraph: continuation text
                mcol = col2 + (me - j)
                spaces = kcol - mcol
                if empty:
                    content_col = mcol + 1
                    content_char = len(s)
                elif spaces >= 5:
                    content_col = mcol + 1
                    content_char, _ = _consume_to(s, me, mcol, content_col)
                else:
                    content_col = kcol
                    content_char = k
                parent = -1
                in_quote = False
                for c in reversed(stack):
                    if c.kind == "quote":
                        in_quote = True
                    elif parent == -1:
                        parent = c.item
                if not in_quote:
                    in_quote = any(c.kind == "quote" for c in stack)
                items.append(
                    Item(
                        n,
                        col2,
                        j,
                        bullet,
                        number,
                        me,
                        content_char,
                        content_col,
                        parent,
                        in_quote,
                        n,
                        empty,
                    )
                )
                stack.append(_Container("item", content_col, len(items) - 1, empty))
                leaf = LEAF_NONE
                if empty:
                    break
                i, col = _consume_to(s, me, mcol, content_col)
                continue
            # paragraph text
            if leaf != LEAF_PARA:
                leaf = LEAF_PARA
                para_container_depth = len(stack)
            break
        _touch(items, stack, n, blank)

    if leaf in (LEAF_FENCE, LEAF_HTML):
        opaque.append((opaque_start, nlines - 1))
    elif leaf == LEAF_ICODE:
        opaque.append((opaque_start, _last_nonblank(lines, opaque_start, nlines - 1)))
    _ = fence_indent
    return res


def _touch(items: list[Item], stack: list[_Container], n: int, blank: bool) -> None:
    if blank:
        return
    for c in stack:
        if c.kind == "item":
            items[c.item].last_line = n


def _last_nonblank(lines: list[str], start: int, end: int) -> int:
    while end > start and not lines[end].strip(" \t"):
        end -= 1
    return end


def _atx_text(s: str, after_hashes: int) -> tuple[int, int]:
    i = after_hashes
    n = len(s)
    while i < n and s[i] in " \t":
        i += 1
    e = n
    while e > i and s[e - 1] in " \t":
        e -= 1
    # optional closing sequence: spaces then #'s
    k = e
    while k > i and s[k - 1] == "#":
        k -= 1
    if k < e and (k == i or s[k - 1] in " \t"):
        e = k
        while e > i and s[e - 1] in " \t":
            e -= 1
    return i, e


def _fix_setext(headings: list[Heading], lines: list[str], n: int) -> None:
    """Give a setext heading the text span of its (single-line) last paragraph line."""
    h = headings[-1]
    s = lines[h.line]
    st = len(s) - len(s.lstrip(" \t>"))
    e = len(s.rstrip(" \t"))
    h.text_start, h.text_end = st, max(st, e)


def _html_start(s: str, j: int, in_para: bool) -> int:
    if _HTML_1.match(s, j):
        return 1
    if s.startswith("<!--", j):
        return 2
    if s.startswith("<?", j):
        return 3
    if s.startswith("<![CDATA[", j):
        return 5
    if _HTML_4.match(s, j):
        return 4
    if _HTML_6.match(s, j):
        return 6
    if not in_para and _HTML_7.match(s, j):
        return 7
    return 0


def _html_ends(kind: int, s: str) -> bool:
    if kind == 1:
        return _HTML_1_END.search(s) is not None
    if kind == 2:
        return "-->" in s
    if kind == 3:
        return "?>" in s
    if kind == 4:
        return ">" in s
    if kind == 5:
        return "]]>" in s
    return False


def _starts_block(s: str, i: int, col: int, *, interrupting: bool) -> bool:
    """Would the rest of the line start a block that interrupts a paragraph?"""
    j, col2 = _skip_ws(s, i, col)
    if j >= len(s):
        return True
    if col2 - col >= 4:
        return False
    ch = s[j]
    if ch == ">":
        return True
    if ch == "#" and _ATX.match(s, j):
        return True
    if ch in "`~":
        m = _FENCE.match(s, j)
        if m and not (ch == "`" and "`" in m.group(2)):
            return True
    if ch == "<" and _html_start(s, j, True):
        return True
    if ch in "*-_" and _THEMATIC.match(s, j):
        return True
    if ch in "-+*":
        m = _BULLET.match(s, j)
        if m and s[m.end() :].strip(" \t"):
            return True
    elif "0" <= ch <= "9":
        m = _ORDERED.match(s, j)
        if m and int(m.group(1)) == 1 and s[m.end() :].strip(" \t"):
            return True
    return False
