"""The one converter between core models (code points) and lsprotocol types.

Core positions count code points on lines split only at ``\\r\\n``, ``\\r`` and ``\\n`` (as LSP
does). The client counts in the negotiated position encoding (UTF-16 by default, UTF-8 or UTF-32
when it prefers them). Every range that leaves the server goes through :class:`Converter`, and
every position that arrives is turned into code points here — never by indexing a Python string
with a client column.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Iterable
from itertools import accumulate
from operator import add
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.protocol import default_converter

from taskdroid.core.text import (
    UTF8,
    UTF16,
    UTF32,
    Position,
    Range,
    split_lines,
    units_to_column,
)
from taskdroid.lsp.deferred import report

if TYPE_CHECKING:
    from taskdroid.core.diagnostics import Diagnostic

_LINE_BREAK = re.compile(r"\r\n|\r|\n")

__all__ = [
    "ChunkPieces",
    "Converter",
    "LineIndex",
    "RawJSON",
    "encoding_of",
    "json_converter",
    "markup",
    "plain_text",
]


class LineIndex:
    """The lines of a text (LSP line breaks only).

    Built lazily: line starts come from one C-speed split on first use, or are handed over by
    :meth:`apply`. An edit that keeps the number of lines (typing in a line) does not copy the
    line starts of a large document: the new index shares them and records "lines from ``f`` on
    start ``d`` later" (at most :data:`_MAX_SHIFTS` of those, then the starts are rebuilt once).
    """

    __slots__ = ("_cr", "_lines", "_shifts", "_starts", "text")

    def __init__(
        self,
        text: str,
        starts: list[int] | None = None,
        cr: bool | None = None,
        shifts: tuple[tuple[int, int], ...] = (),
    ) -> None:
        self.text = text
        self._starts = starts
        self._shifts = shifts  #: (first line, delta) still to add to ``_starts``
        self._lines: list[str] | None = None
        self._cr = cr  #: does the text hold a "\r" (None: not checked yet)

    @property
    def has_cr(self) -> bool:
        if self._cr is None:
            self._cr = "\r" in self.text
        return self._cr

    def _line_starts(self) -> list[int]:
        if self._starts is None:
            text = self.text
            if not self.has_cr:
                self._lines = text.split("\n")
                acc = accumulate(map(len, self._lines), initial=0)
                self._starts = [a + i for i, a in enumerate(acc)][: len(self._lines)]
            else:
                starts = [0]
                starts.extend(m.end() for m in _LINE_BREAK.finditer(text))
                self._starts = starts
        elif self._shifts:
            # (shared with older versions: never changed in place)
            adds = [0] * len(self._starts)
            for first, delta in self._shifts:
                adds[first] += delta
            self._starts = list(map(add, self._starts, accumulate(adds)))
            self._shifts = ()
        return self._starts

    def _start(self, i: int) -> int:
        """Where line ``i`` (in range) starts, without rebuilding shared starts."""
        if self._starts is None or not self._shifts:
            return self._line_starts()[i]
        start = self._starts[i]
        for first, delta in self._shifts:
            if i >= first:
                start += delta
        return start

    def __len__(self) -> int:
        if self._starts is not None:
            return len(self._starts)
        return len(self._line_starts())

    def line(self, i: int) -> str:
        """Line ``i`` without its line break ("" when out of range)."""
        n = len(self)
        if i < 0 or i >= n:
            return ""
        if self._lines is not None:
            return self._lines[i]
        start = self._start(i)
        end = self._start(i + 1) if i + 1 < n else len(self.text)
        s = self.text[start:end]
        if s.endswith("\n"):
            return s[:-2] if s.endswith("\r\n") else s[:-1]
        return s[:-1] if s.endswith("\r") else s

    def lines(self) -> list[str]:
        if self._lines is None:
            self._line_starts()
            if self._lines is None:
                self._lines = [self.line(i) for i in range(len(self))]
        return self._lines

    def offset(self, pos: Position) -> int:
        """Offset in ``text`` of a code-point position, clamped to the line."""
        n = len(self)
        if pos.line < 0:
            return 0
        if pos.line >= n:
            return len(self.text)
        return self._start(pos.line) + min(max(pos.character, 0), len(self.line(pos.line)))

    def apply(self, rng: Range, new: str) -> LineIndex:
        """The text with ``rng`` (code points, clamped) replaced by ``new``, as a new index."""
        a = self.offset(rng.start)
        b = self.offset(rng.end)
        if b < a:
            a, b = b, a
        old = self.text
        text = "".join((old[:a], new, old[b:]))  # (one copy fewer than a + b + c)
        if self._starts is None or self.has_cr or "\r" in new:
            return LineIndex(text)
        n = len(self)
        la = max(0, min(rng.start.line, n - 1))
        lb = max(0, min(rng.end.line, n - 1))
        la, lb = min(la, lb), max(la, lb)
        delta = len(new) - (b - a)
        if la == lb and "\n" not in new:
            # typing within one line: share the starts, shift the lines after it
            if not delta or la + 1 >= n:
                return LineIndex(text, self._starts, False, self._shifts)
            shifts = (*self._shifts, (la + 1, delta))
            if len(shifts) > _MAX_SHIFTS:
                return LineIndex(text, [*self._line_starts()], False, ((la + 1, delta),))
            return LineIndex(text, self._starts, False, shifts)
        starts = self._line_starts()
        inserted = [a + m.end() for m in _NEWLINE.finditer(new)]
        tail = starts[lb + 1 :]
        return LineIndex(text, [*starts[: la + 1], *inserted, *[s + delta for s in tail]], cr=False)


#: edits in a line recorded on a LineIndex before its line starts are rebuilt
_MAX_SHIFTS = 64
_NEWLINE = re.compile("\n")


EMPTY_LINES = LineIndex("")

#: below this length the core's per-character conversion is as fast as encoding
_FAST_MIN = 128
_SURROGATE = re.compile("[\ud800-\udfff]")


def to_units(line: str, column: int, encoding: str) -> int:
    """:func:`taskdroid.core.text.column_to_units` at C speed (encoding the prefix counts exactly
    what the reference counts, lone surrogates included)."""
    column = max(0, min(column, len(line)))
    if encoding == UTF32 or column == 0:
        return column
    prefix = line[:column]
    if prefix.isascii():
        return column
    if encoding == UTF8:
        return len(prefix.encode("utf-8", "surrogatepass"))
    return len(prefix.encode("utf-16-le", "surrogatepass")) // 2


def to_column(line: str, units: int, encoding: str) -> int:
    """:func:`taskdroid.core.text.units_to_column`, at C speed on long lines (a unit offset inside
    a character maps to the end of that character)."""
    if units <= 0:
        return 0
    if encoding == UTF32 or line.isascii():
        return min(units, len(line))
    if len(line) < _FAST_MIN or _SURROGATE.search(line):
        return units_to_column(line, units, encoding)
    if encoding == UTF8:
        b = line.encode("utf-8")
        if units >= len(b):
            return len(line)
        while units < len(b) and (b[units] & 0xC0) == 0x80:
            units += 1  # inside a multi-byte character: to its end
        return len(b[:units].decode("utf-8"))
    b = line.encode("utf-16-le")
    n = 2 * units
    if n >= len(b):
        return len(line)
    if 0xDC <= b[n + 1] <= 0xDF:
        n += 2  # between the two halves of a surrogate pair: to the end of the character
    return len(b[:n].decode("utf-16-le"))


def encoding_of(value: Any) -> str:
    """The core encoding name for a negotiated ``PositionEncodingKind`` (UTF-16 by default)."""
    v = getattr(value, "value", value)
    if v in (UTF8, UTF16, UTF32):
        return v
    return UTF16


class Converter:
    """Core ↔ LSP conversion in one position encoding."""

    def __init__(self, encoding: str = UTF16) -> None:
        self.encoding = encoding

    # -- positions -----------------------------------------------------------------------------
    def position(self, lines: LineIndex, pos: Position) -> types.Position:
        line = max(pos.line, 0)
        return types.Position(
            line=line,
            character=to_units(lines.line(line), pos.character, self.encoding),
        )

    def range(self, lines: LineIndex, rng: Range) -> types.Range:
        return types.Range(start=self.position(lines, rng.start), end=self.position(lines, rng.end))

    def range_json(self, lines: LineIndex, rng: Range) -> dict[str, dict[str, int]]:
        """A range as the JSON the protocol sends (for large results: no attrs objects)."""
        s, e = rng.start, rng.end
        enc = self.encoding
        return {
            "start": {"line": s.line, "character": to_units(lines.line(s.line), s.character, enc)},
            "end": {"line": e.line, "character": to_units(lines.line(e.line), e.character, enc)},
        }

    def to_core(self, lines: LineIndex, pos: types.Position) -> Position:
        """A client position in code points, clamped into the document (never mutates ``pos``)."""
        line = max(int(pos.line), 0)
        if line >= len(lines):
            last = len(lines) - 1
            return Position(last, len(lines.line(last)))
        return Position(line, to_column(lines.line(line), int(pos.character), self.encoding))

    def to_core_range(self, lines: LineIndex, rng: types.Range) -> Range:
        return Range(self.to_core(lines, rng.start), self.to_core(lines, rng.end))

    def location(self, uri: str, lines: LineIndex, rng: Range) -> types.Location:
        return types.Location(uri=uri, range=self.range(lines, rng))

    def text_edit(self, lines: LineIndex, rng: Range, new_text: str) -> types.TextEdit:
        return types.TextEdit(range=self.range(lines, rng), new_text=new_text)

    # -- diagnostics ---------------------------------------------------------------------------
    def diagnostic(
        self,
        d: Diagnostic,
        lines: LineIndex,
        uri: str,
        other: Callable[[str], tuple[str, LineIndex]],
    ) -> types.Diagnostic:
        """A core diagnostic as LSP. ``other(path)`` gives the uri and lines of another file (for
        related information)."""
        related = None
        if d.related:
            related = []
            for r in d.related:
                if r.path is None:
                    ruri, rlines = uri, lines
                else:
                    ruri, rlines = other(r.path)
                related.append(
                    types.DiagnosticRelatedInformation(
                        location=types.Location(uri=ruri, range=self.range(rlines, r.range)),
                        message=r.message,
                    )
                )
        return types.Diagnostic(
            range=self.range(lines, d.range),
            message=d.message,
            severity=types.DiagnosticSeverity(int(d.severity)),
            code=d.code,
            code_description=types.CodeDescription(href=report.anchor(d.code)),
            source="taskdroid",
            related_information=related,
            data=_jsonable(d.data) if d.data else None,
        )

    def diagnostics(
        self,
        diags: Iterable[Diagnostic],
        lines: LineIndex,
        uri: str,
        other: Callable[[str], tuple[str, LineIndex]],
    ) -> list[types.Diagnostic]:
        return [self.diagnostic(d, lines, uri, other) for d in diags]


class ChunkLines:
    """Line access for one chunk of a task document, by absolute line (what Converter needs), so
    per-chunk caches (symbols, code lens) convert positions without splitting the whole text."""

    __slots__ = ("base", "lines")

    def __init__(self, chunk) -> None:
        self.base = chunk.line
        self.lines = split_lines(chunk.text)

    def line(self, i: int) -> str:
        i -= self.base
        return self.lines[i] if 0 <= i < len(self.lines) else ""


class ChunkPieces:
    """Pieces computed per chunk of a task document (symbols, lenses…), kept only for the chunks
    of the latest version of each document.

    A piece is keyed by ``(id(chunk.parse), chunk.line, *extra)`` and holds the parse (so the id
    stays valid). Each pass over a whole document goes through :meth:`get`, which keeps the pieces
    of the chunks it used and drops that document's others: typing in a large file still
    re-computes only the chunk it touched, but old versions do not pile up (a cache keyed by chunk
    alone kept every edited version's parse alive, tens of kilobytes per keystroke)."""

    __slots__ = ("_docs", "max_docs")

    def __init__(self, max_docs: int = 256) -> None:
        self._docs: OrderedDict[str, dict[tuple, tuple[object, Any]]] = OrderedDict()
        self.max_docs = max_docs

    def get(
        self, doc_key: str, chunks: Iterable[Any], extra: tuple, compute: Callable[[Any], Any]
    ) -> list[Any]:
        """``compute(chunk)`` for each chunk, from the cache where the chunk is unchanged."""
        old = self._docs.pop(doc_key, None) or {}
        new: dict[tuple, tuple[object, Any]] = {}
        out = []
        for chunk in chunks:
            key = (id(chunk.parse), chunk.line, *extra)
            hit = new.get(key) or old.get(key)
            if hit is None or hit[0] is not chunk.parse:
                hit = (chunk.parse, compute(chunk))
            new[key] = hit
            out.append(hit[1])
        self._docs[doc_key] = new
        while len(self._docs) > self.max_docs:
            self._docs.popitem(last=False)
        return out

    def forget(self, doc_key: str) -> None:
        self._docs.pop(doc_key, None)

    def __len__(self) -> int:
        return sum(len(d) for d in self._docs.values())


class RawJSON:
    """A result that is already protocol JSON: sent as it is (see ``json_converter``), skipping
    the per-object conversion that costs hundreds of milliseconds on ten thousand symbols."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def json_converter():
    """pygls' converter, which also passes :class:`RawJSON` results through untouched."""
    conv = default_converter()
    conv.register_unstructure_hook(RawJSON, lambda raw: raw.value)
    return conv


_MD_CODE = re.compile(r"`([^`]*)`")
_MD_STRONG = re.compile(r"\*\*([^*]+)\*\*")


def plain_text(markdown: str) -> str:
    """A markdown snippet of ours as plain text (for clients without markdown support)."""
    return _MD_STRONG.sub(r"\1", _MD_CODE.sub(r"\1", markdown))


def markup(text: str, markdown: bool) -> types.MarkupContent:
    if markdown:
        return types.MarkupContent(kind=types.MarkupKind.Markdown, value=text)
    return types.MarkupContent(kind=types.MarkupKind.PlainText, value=plain_text(text))


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return str(value)
