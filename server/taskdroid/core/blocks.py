"""A fast CommonMark block scanner for the constructs that matter to task files.

markdown-it-py parses about 0.7 MB/s here, far too slow to re-parse a large task file on every
keystroke (see ``bench/``). Task structure is *block* structure, so this module implements just the
block layer of CommonMark — list items with their nesting and content column, block quotes, fenced
and indented code, HTML blocks (all seven kinds), ATX and setext headings, thematic breaks, link
reference definitions and paragraphs with lazy continuation — and skips inline parsing entirely.

markdown-it-py (``commonmark`` preset with the ``front_matter`` plugin) is the oracle:
``tests/core/test_blocks_oracle.py`` checks with hypothesis that this scanner and markdown-it-py
agree on which lines open list items (outside block quotes), their parents, markers and content,
each item's last line, the headings, the chunk boundaries and which lines are code or HTML.

Where markdown-it deviates from the CommonMark reference implementation, the scanner follows
markdown-it:

* a block quote continues at a ``>`` after any indentation (only its first line is limited to three
  spaces);
* a line that does not continue all open containers ends the open paragraph if it starts a block
  (fence, ``>``, thematic break, ATX heading, HTML block of kinds 1–6 or *any* list item, even an
  empty one or one numbered other than 1), at any indentation — except that a list item 4+ columns
  right of its list's indentation is continuation text, and that where a block quote decides (the
  first unmatched container is a quote) a line 4+ columns in is continuation text; a block quote
  nested in that quote checks the line again without its indentation. See :func:`_ends_lazy`;
* HTML blocks of kinds 1–5 inside a list item continue across blank lines.

Deliberate simplifications (the oracle test's grammar leaves these out):

* List items inside block quotes are only flagged (``Item.in_quote``); tasks never live there. The
  scanner tracks quotes well enough to know where they end, but tab stops after ``>`` markers follow
  plain visual columns, not markdown-it's arithmetic for tabs in nested quotes.
* A tab consumed only partly by a container is treated as ending at its tab stop, measured from
  where the container left off.
* Link reference definitions are recognised on one line only (``[label]: destination "title"``). A
  definition whose destination or title is on a following line, or whose title spans lines, is read
  as paragraph text (or, for a title on the next line, as a one-line definition followed by text).
  Entity-encoded protocols (``&#106;avascript:``) are not decoded.
* Front matter follows the project's definition (:mod:`taskdroid.core.frontmatter`): the first line
  is exactly ``---`` (trailing blanks allowed, a BOM tolerated) and it ends at the next line that is
  exactly ``---`` or ``...``; if it never ends there is none. markdown-it's plugin also opens at
  ``----`` or ``--- text`` and closes at longer or indented dash runs, and does not allow a BOM.
* markdown-it stops parsing below its nesting limit (``maxNesting`` 20 token levels); the scanner
  has no limit. It is iterative and linear in the input however deep the nesting: a blank or
  lazy line finds the next open block quote by bisection instead of walking the open items,
  and a thematic break is recognised from where the line's tail of one marker character
  starts (found once per line), not matched from every bullet to the end of the line
  (``tests/security/test_parse_linear.py`` counts the work).
* Lines come from the caller; markdown-it also splits at a lone ``\\r`` and replaces NUL by U+FFFD,
  neither of which changes block structure once the caller has split the lines the same way.

The scanner also finds *chunk boundaries*: ATX headings at document level (no open container, no
open leaf). The parse of the text after such a heading does not depend on anything before it, which
is what makes incremental re-analysis possible (see :mod:`taskdroid.core.document`).

Columns: ``col`` values are visual columns (tabs expand to the next multiple of 4), ``char``
values are indices into the line string (code points).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field

_ATX = re.compile(r"#{1,6}(?:[ \t]|$)")
_FENCE = re.compile(r"(`{3,}|~{3,})(.*)$")
_THEMATIC = re.compile(r"(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$")
_SETEXT = re.compile(r"(?:=+|-+)[ \t]*$")
_BULLET = re.compile(r"[-+*](?=[ \t]|$)")
_WS_RUN = re.compile(r"[ \t]*")
_TABS_RUN = re.compile(r"\t*")
_ORDERED = re.compile(r"([0-9]{1,9})[.)](?=[ \t]|$)")

# HTML block starts exactly as markdown-it writes them (``\s`` where it has ``\s``)
_HTML_1 = re.compile(r"<(?a:script|pre|style|textarea)(?=\s|>|$)", re.I)
_HTML_1_END = re.compile(r"</(?a:script|pre|style|textarea)>", re.I)
_HTML_4 = re.compile(r"<![A-Za-z]")
_HTML_6 = re.compile(
    r"</?(?a:address|article|aside|base|basefont|blockquote|body|caption|center|col|colgroup|dd|"
    r"details|dialog|dir|div|dl|dt|fieldset|figcaption|figure|footer|form|frame|frameset|"
    r"h1|h2|h3|h4|h5|h6|head|header|hr|html|iframe|legend|li|link|main|menu|menuitem|nav|"
    r"noframes|ol|optgroup|option|p|param|search|section|summary|table|tbody|td|tfoot|th|"
    r"thead|title|tr|track|ul)(?=\s|/?>|$)",
    re.I,
)
_ATTR = r"""(?:\s+[a-zA-Z_:][a-zA-Z0-9:._-]*(?:\s*=\s*(?:[^"'=<>`\x00-\x20]+|'[^']*'|"[^"]*"))?)"""
_HTML_7 = re.compile(
    r"(?:<[A-Za-z][A-Za-z0-9\-]*" + _ATTR + r"*\s*/?>|</[A-Za-z][A-Za-z0-9\-]*\s*>)\s*$"
)

# markdown-it's validateLink: link reference definitions with these destinations are not ones
_BAD_PROTOCOL = re.compile(r"\s*(?:vbscript|javascript|file|data):", re.I)
_GOOD_DATA = re.compile(r"\s*data:image/(?:gif|png|jpeg|webp);", re.I)

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
    line: int  #: for a setext heading the last line of its text (the line above the underline)
    level: int
    text_start: int  #: index of the text in the line (white space and closing #'s excluded)
    text_end: int
    setext: bool = False


@dataclass(slots=True)
class ScanResult:
    items: list[Item] = field(default_factory=list)
    headings: list[Heading] = field(default_factory=list)
    #: lines that are ATX headings at document level (chunk boundaries), in order
    boundaries: list[int] = field(default_factory=list)
    #: (first, last) lines of the front matter, both inclusive (its delimiters included)
    front_matter: tuple[int, int] | None = None
    #: (start, end) inclusive line ranges of fenced/indented code and HTML blocks, in order
    opaque: list[tuple[int, int]] = field(default_factory=list)


class _Container:
    __slots__ = ("blank_start", "content_col", "item", "kind", "quoted")

    def __init__(
        self, kind: str, content_col: int, item: int, quoted: bool, blank_start: bool = False
    ):
        self.kind = kind  # "item" or "quote"
        self.content_col = content_col
        #: for an item its index in ``items``; for a quote the index of the nearest enclosing item
        self.item = item
        #: inside a block quote (a quote is inside itself)
        self.quoted = quoted
        self.blank_start = blank_start


def _skip_ws(s: str, i: int, col: int) -> tuple[int, int]:
    """Skip spaces and tabs from ``(i, col)``: the next character's index and visual column."""
    n = len(s)
    if i >= n or (s[i] != " " and s[i] != "\t"):
        return i, col
    m = _WS_RUN.match(s, i)
    j = m.end() if m is not None else i  # (it matches: s[i] is a space or a tab)
    t = s.find("\t", i, j)
    while t >= 0:
        col += t - i
        tabs = _TABS_RUN.match(s, t)
        k = tabs.end() if tabs is not None else t + 1  # a run of tabs: to the tab stop, then 4 columns each
        col += 4 - col % 4 + 4 * (k - t - 1)
        i = k
        t = s.find("\t", i, j)
    return j, col + (j - i)


def _consume_to(s: str, i: int, col: int, target: int) -> tuple[int, int]:
    """Consume white space from (i, col) until the visual column reaches ``target``."""
    n = len(s)
    if target - col > 8:  # a long way: jump over whole spaces and tabs, then finish below
        j, c2 = _skip_ws(s, i, col)
        if c2 <= target:
            return j, c2
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
    """``---`` (trailing blanks allowed, a BOM before it tolerated), as in :mod:`.frontmatter`."""
    if s.startswith("\ufeff"):
        s = s[1:]
    return s.rstrip(" \t") == "---"


def scan(lines: list[str], *, doc_start: bool = True) -> ScanResult:
    """Scan ``lines`` (without line endings) starting from a clean document-level state."""
    return _scan(lines, doc_start, None)


def scan_chunks(lines: list[str], *, doc_start: bool = True) -> list[tuple[int, ScanResult]]:
    """Scan ``lines`` like :func:`scan`, split at the chunk boundaries (document-level ATX headings
    after the first line): ``(first line, result)`` per chunk, each result's lines and item
    indices relative to its chunk — what scanning each chunk on its own gives, in one pass.
    ``boundaries`` (absolute lines) and ``opaque`` are only in the first result."""
    parts: list[tuple[int, ScanResult]] = []
    _scan(lines, doc_start, parts)
    return parts


class _State:
    """The scanner's state between lines (what is open), shared by the per-block-kind steps."""

    __slots__ = (
        "base", "boundaries", "fence_char", "fence_len", "headings", "html_kind", "icode_last",
        "items", "last_touch", "leaf", "lines", "opaque", "opaque_start", "para_char",
        "para_depth", "parts", "quotes", "res", "stack",
    )  # fmt: skip

    def __init__(self, lines: list[str], parts: list[tuple[int, ScanResult]] | None) -> None:
        self.lines = lines
        self.parts = parts
        self.res = res = ScanResult()
        if parts is not None:
            parts.append((0, res))
        self.base = 0  # first line of the current chunk (split mode); lines stored relative to it
        self.items = res.items
        self.headings = res.headings
        self.boundaries = res.boundaries
        self.opaque = res.opaque
        self.stack: list[_Container] = []
        #: indices in ``stack`` of its block quotes, ascending (so that finding the next quote
        #: does not walk the items between: deep nesting stays linear)
        self.quotes: list[int] = []
        self.leaf = LEAF_NONE
        self.fence_char = ""
        self.fence_len = 0
        self.html_kind = 0
        self.para_depth = -1  # len(stack) when the open paragraph started
        self.para_char = 0  # where the text of the open paragraph's latest line starts
        self.opaque_start = -1
        self.icode_last = -1
        # The last non-blank line. Every item on the stack owns it, so an item's ``last_line`` is
        # set when the item is closed (no per-line work for each open item).
        self.last_touch = -1

    def close_to(self, depth: int) -> None:
        """Close the containers from ``stack[depth]`` on."""
        stack = self.stack
        items = self.items
        last = self.last_touch - self.base
        for c in stack[depth:]:
            if c.kind == "item":
                items[c.item].last_line = last
        del stack[depth:]
        quotes = self.quotes
        while quotes and quotes[-1] >= depth:
            quotes.pop()


def _scan(
    lines: list[str], doc_start: bool, parts: list[tuple[int, ScanResult]] | None
) -> ScanResult:
    st = _State(lines, parts)
    nlines = len(lines)
    start = 0
    if doc_start and nlines and _is_front_matter_open(lines[0]):
        for k in range(1, nlines):
            if lines[k].rstrip(" \t") in ("---", "..."):
                st.res.front_matter = (0, k)
                start = k + 1
                break
    stack = st.stack
    for n in range(start, nlines):
        s = lines[n]
        rend = len(s.rstrip(" \t"))  # the rest of the line from i is blank when i >= rend
        if stack:
            i, col, matched = _match_containers(st, s, rend)
        else:
            i = col = matched = 0
        all_matched = matched == len(stack)
        leaf = st.leaf
        if leaf >= LEAF_FENCE and _continue_leaf(st, s, n, i, col, rend, all_matched):
            continue
        if not all_matched:
            if st.leaf == LEAF_PARA and i < rend and not _ends_lazy(s, i, col, st, matched):
                st.last_touch = n  # a lazy continuation line of the open paragraph
                st.para_char = _skip_ws(s, i, col)[0]
                continue
            st.close_to(matched)
            if st.leaf == LEAF_PARA:
                st.leaf = LEAF_NONE
        if rend:
            st.last_touch = n
        _open_blocks(st, s, n, i, col)

    st.close_to(0)
    leaf = st.leaf
    if leaf in (LEAF_FENCE, LEAF_HTML):
        st.opaque.append((st.opaque_start, nlines - 1))
    elif leaf == LEAF_ICODE:
        st.opaque.append((st.opaque_start, st.icode_last))
    return st.res


def _match_containers(st: _State, s: str, rend: int) -> tuple[int, int, int]:
    """Continuation of the open containers by line ``s``: ``(i, col, matched)``, the position
    after the matched container prefixes and how many containers continue."""
    stack = st.stack
    depth = len(stack)
    ns = len(s)
    i = col = matched = 0
    rblank = rend == 0  # is the rest of the line (after the matched prefixes) blank?
    # (ws_j, ws_col): the first non-blank character from (i, col) and its column; consuming
    # white space up to an item's content column does not move it, so it is computed once per
    # run of items, and the consumption itself happens once, after the run
    ws_j = -1
    ws_col = 0
    consume = -1
    while matched < depth:
        c = stack[matched]
        if c.kind == "quote":
            # markdown-it accepts a continuation ">" after any indentation (only the first
            # line of a block quote is limited to three spaces)
            if ws_j < 0:
                ws_j, ws_col = _skip_ws(s, i, col)
            if ws_j < ns and s[ws_j] == ">":
                i, col = ws_j + 1, ws_col + 1
                consume = ws_j = -1
                if i < ns:
                    if s[i] == " ":
                        i += 1
                        col += 1
                    elif s[i] == "\t":
                        i, col = _consume_to(s, i, col, col + 1)
                matched += 1
                rblank = i >= rend
                continue
            break
        # list item
        if rblank:
            # a blank rest continues every item up to the next block quote — except an item
            # that began with a blank line and got nothing since (it can begin with at most one
            # blank line); only the innermost container can be such an item: jump, no walk
            quotes = st.quotes
            q = bisect_left(quotes, matched)
            nxt = quotes[q] if q < len(quotes) else depth
            if nxt == depth:
                top = stack[-1]
                if top.blank_start and st.last_touch - st.base == st.items[top.item].line:
                    nxt = depth - 1
            matched = nxt
            if nxt == depth or stack[nxt].kind == "item":
                break
            continue
        if ws_j < 0:
            ws_j, ws_col = _skip_ws(s, i, col)
        if ws_col >= c.content_col:
            consume = c.content_col
            matched += 1
            continue
        break
    if consume >= 0:
        i, col = _consume_to(s, i, col, consume)
    return i, col, matched


def _continue_leaf(
    st: _State, s: str, n: int, i: int, col: int, rend: int, all_matched: bool
) -> bool:
    """An open fenced code, HTML or indented code block: does line ``n`` continue it (the line is
    then done)? Otherwise the block is closed."""
    leaf = st.leaf
    if leaf == LEAF_FENCE:
        if all_matched:
            if rend:
                st.last_touch = n
            j, col2 = _skip_ws(s, i, col)
            fc = st.fence_char
            if col2 - col <= 3 and j < len(s) and s[j] == fc:
                k = j + 1
                while k < rend and s[k] == fc:
                    k += 1
                if k - j >= st.fence_len and k >= rend:
                    st.leaf = LEAF_NONE
                    st.opaque.append((st.opaque_start, n))
            return True
        st.opaque.append((st.opaque_start, n - 1))
    elif leaf == LEAF_HTML:
        if all_matched:
            if rend:
                st.last_touch = n
            if st.html_kind >= 6:
                if i >= rend:
                    st.opaque.append((st.opaque_start, n - 1))
                    st.leaf = LEAF_NONE
            elif _html_ends(st.html_kind, s[i:] if i else s):
                st.opaque.append((st.opaque_start, n))
                st.leaf = LEAF_NONE
            return True
        st.opaque.append((st.opaque_start, n - 1))
    else:  # LEAF_ICODE
        if all_matched:
            if i >= rend:
                if rend:
                    st.last_touch = n
                return True
            j, col2 = _skip_ws(s, i, col)
            if col2 - col >= 4:
                st.icode_last = st.last_touch = n
                return True
        st.opaque.append((st.opaque_start, st.icode_last))
    st.leaf = LEAF_NONE
    return False


def _open_blocks(st: _State, s: str, n: int, i: int, col: int) -> None:
    """The blocks that line ``n`` opens from ``(i, col)`` (after its continued containers): block
    quotes and list items (any number, nested on the one line), then at most one leaf."""
    ns = len(s)
    stack = st.stack
    thematic: list[int] | None = None  # per marker character, where the line's tail of it starts
    while True:
        j, col2 = _skip_ws(s, i, col)
        if j >= ns:  # blank (rest of line)
            if st.leaf == LEAF_PARA:
                st.leaf = LEAF_NONE
            return
        indent = col2 - col
        if indent >= 4:
            if st.leaf == LEAF_PARA:
                st.para_char = j  # paragraph continuation
            else:
                st.leaf = LEAF_ICODE
                st.opaque_start = st.icode_last = n
            return
        ch = s[j]
        if ch == ">":
            st.quotes.append(len(stack))
            stack.append(_Container("quote", 0, stack[-1].item if stack else -1, True))
            st.leaf = LEAF_NONE
            i, col = j + 1, col2 + 1
            if i < ns:
                if s[i] == " ":
                    i += 1
                    col += 1
                elif s[i] == "\t":
                    i, col = _consume_to(s, i, col, col + 1)
            continue
        if ch == "#":
            if _ATX.match(s, j):
                _open_atx(st, s, n, j)
                return
        elif ch in "`~":
            if _open_fence(st, s, n, j, ch):
                return
        elif ch == "<":
            if _open_html(st, s, n, j):
                return
        elif ch in "*-_=":
            if st.leaf == LEAF_PARA and ch != "*" and st.para_depth == len(stack):
                if ch != "_" and _SETEXT.match(s, j):
                    _open_setext(st, n, ch)
                    return
            if ch != "=":
                # a thematic break: the rest of the line is this character (3+) and blanks;
                # where the line's tail of only it and blanks starts is found once per line and
                # character (not a match from every bullet to the end of the line)
                if thematic is None:
                    thematic = [-1, -1, -1]
                t = "*-_".index(ch)
                tail = thematic[t]
                if tail < 0:
                    tail = thematic[t] = len(s.rstrip(ch + " \t"))
                if j >= tail and s.count(ch, j) >= 3:
                    st.leaf = LEAF_NONE
                    return
        # list items
        if ch in "-+*":
            m = _BULLET.match(s, j)
        elif "0" <= ch <= "9":
            m = _ORDERED.match(s, j)
        else:
            m = None
        if m is not None:
            nxt = _open_item(st, s, n, j, col2, m)
            if nxt is None:
                return
            i, col = nxt
            continue
        # paragraph text
        st.para_char = j
        if st.leaf != LEAF_PARA:
            if ch == "[" and "]:" in s and _is_link_ref_def(s, j):
                st.leaf = LEAF_NONE  # a link reference definition is no paragraph
                return
            st.leaf = LEAF_PARA
            st.para_depth = len(stack)
        return


def _open_atx(st: _State, s: str, n: int, j: int) -> None:
    level = len(s) - j - len(s[j:].lstrip("#"))
    ts, te = _atx_text(s, j + level)
    if not st.stack:
        st.boundaries.append(n)
        if st.parts is not None and n > st.base:  # a new chunk starts here
            st.base = n
            st.res = res = ScanResult()
            st.parts.append((n, res))
            st.items = res.items
            st.headings = res.headings
    st.headings.append(Heading(n - st.base, level, ts, te))
    st.leaf = LEAF_NONE


def _open_fence(st: _State, s: str, n: int, j: int, ch: str) -> bool:
    m = _FENCE.match(s, j)
    if m is None or (ch == "`" and "`" in m.group(2)):
        return False
    st.leaf = LEAF_FENCE
    st.fence_char = ch
    st.fence_len = len(m.group(1))
    st.opaque_start = n
    return True


def _open_html(st: _State, s: str, n: int, j: int) -> bool:
    kind = _html_start(s, j, st.leaf == LEAF_PARA)
    if not kind:
        return False
    st.opaque_start = n
    if kind <= 5 and _html_ends(kind, s[j:]):
        st.opaque.append((n, n))
        st.leaf = LEAF_NONE
    else:
        st.leaf = LEAF_HTML
        st.html_kind = kind
    return True


def _open_setext(st: _State, n: int, ch: str) -> None:
    # the heading's line is the paragraph's last line, its text that line's text
    h = n - 1
    te = len(st.lines[h].rstrip(" \t"))
    pc = st.para_char
    st.headings.append(Heading(h - st.base, 1 if ch == "=" else 2, pc, max(pc, te), True))
    st.leaf = LEAF_NONE


def _open_item(
    st: _State, s: str, n: int, j: int, col2: int, m: re.Match
) -> tuple[int, int] | None:
    """A list item marker ``m`` at ``j``: open the item and return where its content starts, or
    None when the line is done (an empty item, or continuation text of the open paragraph)."""
    ns = len(s)
    me = m.end()
    number = None
    if s[j] in "-+*":
        bullet = s[j]
    else:
        number = int(m.group(1))
        bullet = s[me - 1]
    mcol = col2 + (me - j)
    k, kcol = _skip_ws(s, me, mcol)
    empty = k >= ns
    if st.leaf == LEAF_PARA and (empty or (number is not None and number != 1)):
        st.para_char = j  # cannot interrupt a paragraph: continuation text
        return None
    spaces = kcol - mcol
    if empty:
        content_col = mcol + 1
        content_char = ns
    elif spaces >= 5:
        content_col = mcol + 1
        content_char, _ = _consume_to(s, me, mcol, content_col)
    else:
        content_col = kcol
        content_char = k
    stack = st.stack
    if stack:
        top = stack[-1]
        parent = top.item
        in_quote = top.quoted
    else:
        parent = -1
        in_quote = False
    items = st.items
    idx = len(items)
    ln = n - st.base
    items.append(
        Item(
            ln, col2, j, bullet, number, me, content_char, content_col, parent, in_quote, ln, empty
        )
    )
    stack.append(_Container("item", content_col, idx, in_quote, empty))
    st.leaf = LEAF_NONE
    if empty:
        return None
    return _consume_to(s, me, mcol, content_col)


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


def _is_link_ref_def(s: str, j: int) -> bool:
    """Is ``s[j:]`` (which starts with ``[``) a complete one-line link reference definition?

    ``[label]: destination "title"`` as markdown-it's reference rule reads it. A definition spread
    over several lines is not recognised (see the module docstring).
    """
    n = len(s)
    k = j + 1
    while k < n:  # the label: no unescaped brackets, not blank
        c = s[k]
        if c == "[":
            return False
        if c == "]":
            break
        k += 2 if c == "\\" else 1
    if k >= n - 1 or s[k + 1] != ":" or not s[j + 1 : k].strip():
        return False
    p = k + 2
    while p < n and s[p] in " \t":
        p += 1
    if p >= n:
        return False  # the destination would be on the next line
    start = p
    if s[p] == "<":
        p += 1
        while p < n:
            c = s[p]
            if c == ">":
                break
            if c == "<":
                return False
            p += 2 if c == "\\" else 1
        if p >= n:
            return False
        url = s[start + 1 : p]
        p += 1
    else:
        level = 0
        while p < n:
            c = s[p]
            if c <= " " or c == "\x7f":
                break
            if c == "\\" and p + 1 < n:
                if s[p + 1] == " ":
                    break
                p += 2
                continue
            if c == "(":
                level += 1
                if level > 32:
                    return False
            elif c == ")":
                if level == 0:
                    break
                level -= 1
            p += 1
        if p == start or level:
            return False
        url = s[start:p]
    if _BAD_PROTOCOL.match(url) and not _GOOD_DATA.match(url):
        return False
    dest_end = p
    while p < n and s[p] in " \t":
        p += 1
    if p >= n:
        return True
    close = s[p]
    if p == dest_end or close not in "\"'(":
        return False
    if close == "(":
        close = ")"
    p += 1
    while p < n:  # the title must end on this line
        c = s[p]
        if c == close:
            break
        if c == "(" and close == ")":
            return False
        p += 2 if c == "\\" else 1
    if p >= n:
        return False
    return not s[p + 1 :].strip(" \t")


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


def _ends_lazy(s: str, i: int, col: int, st: _State, matched: int) -> bool:
    """Does a line that continues only ``stack[:matched]`` end the open paragraph?

    Otherwise it is a lazy continuation line. ``(i, col)`` is the position after the matched
    container prefixes. This follows markdown-it, which decides in the paragraph rule (block
    indent: the content column of the innermost item) or, when block quotes lie between the first
    unmatched container and the paragraph, in the outermost such quote's rule (block indent: the
    content column of the container around it). A quote nested in that one checks the line again,
    having lost its indentation (markdown-it marks lazy lines with an indent of -1).
    """
    j, col2 = _skip_ws(s, i, col)
    if j >= len(s):
        return True
    indent = col2 - col
    depth = len(st.stack)
    quotes = st.quotes
    k = bisect_left(quotes, matched)
    q1 = quotes[k] if k < len(quotes) else -1  # the outermost unmatched block quote
    nested_quote = k + 1 < len(quotes)
    if q1 == matched:
        # the quote's own rule decides, at the indentation of the matched containers
        if indent >= 4:
            return nested_quote and _block_start(s, j, True)
        return _block_start(s, j, True)
    # the block indent is an item's content column, which this line does not reach, so no
    # "indented code" limit applies; but a list item cannot start 4+ columns right of the
    # indentation of the deciding item's own list
    h = q1 - 1 if q1 >= 0 else depth - 1
    any_item = not (matched == h and indent >= 4)
    if _block_start(s, j, any_item):
        return True
    return nested_quote and _block_start(s, j, True)


def _block_start(s: str, j: int, items: bool) -> bool:
    """Does ``s[j:]`` start a block that ends a paragraph (list items only if ``items``)?

    For lazy lines: any list item counts, even an empty one or an ordered one not starting at 1.
    """
    ch = s[j]
    if ch == ">":
        return True
    if ch == "#":
        return _ATX.match(s, j) is not None
    if ch in "`~":
        m = _FENCE.match(s, j)
        return m is not None and not (ch == "`" and "`" in m.group(2))
    if ch == "<":
        return _html_start(s, j, True) != 0
    if ch in "*-_" and _THEMATIC.match(s, j):
        return True
    if not items:
        return False
    if ch in "-+*":
        return _BULLET.match(s, j) is not None
    if "0" <= ch <= "9":
        return _ORDERED.match(s, j) is not None
    return False
