"""Text, lines and positions.

Everything in the core works in *code points*: a position is ``(line, column)`` where the column
counts Python ``str`` characters. Lines end only at ``\\n``, ``\\r\\n`` or ``\\r`` (as in LSP),
never at the other characters ``str.splitlines`` knows (form feed, U+2028, ...). Conversion to a
client's UTF-16 or UTF-8 units happens once, at the edge (see :func:`column_to_units`).
"""

from __future__ import annotations

import re
from typing import NamedTuple

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class Position(NamedTuple):
    line: int
    character: int


class Range(NamedTuple):
    """A range in code points; ``end`` is exclusive."""

    start: Position
    end: Position

    @classmethod
    def of(cls, line: int, start: int, end: int, end_line: int | None = None) -> Range:
        return cls(Position(line, start), Position(line if end_line is None else end_line, end))

    def shifted(self, lines: int) -> Range:
        if not lines:
            return self
        return Range(
            Position(self.start.line + lines, self.start.character),
            Position(self.end.line + lines, self.end.character),
        )

    def contains(self, pos: Position) -> bool:
        return self.start <= pos <= self.end


class Span(NamedTuple):
    """A single-line token: ``line`` and a half-open column interval in code points."""

    line: int
    start: int
    end: int

    @property
    def range(self) -> Range:
        return Range(Position(self.line, self.start), Position(self.line, self.end))

    def shifted(self, lines: int) -> Span:
        return Span(self.line + lines, self.start, self.end) if lines else self

    def contains(self, line: int, col: int) -> bool:
        return line == self.line and self.start <= col <= self.end


def split_lines(text: str) -> list[str]:
    """Split like LSP: only ``\\r\\n``, ``\\r`` and ``\\n`` end a line. Line endings are dropped.

    A text ending in a line break has a final empty line, as an editor shows it.
    """
    if "\r" not in text:
        return text.split("\n")
    return _LINE_BREAK.split(text)


def split_lines_keepends(text: str) -> list[str]:
    """Split like :func:`split_lines` but keep each line's ending (the last line may have none)."""
    if not text:
        return []
    out: list[str] = []
    pos = 0
    for m in _LINE_BREAK.finditer(text):
        out.append(text[pos : m.end()])
        pos = m.end()
    if pos < len(text):
        out.append(text[pos:])
    return out


def line_ending(line_with_end: str) -> str:
    if line_with_end.endswith("\r\n"):
        return "\r\n"
    if line_with_end.endswith(("\n", "\r")):
        return line_with_end[-1]
    return ""


def dominant_eol(text: str) -> str:
    crlf = text.count("\r\n")
    lf = text.count("\n") - crlf
    cr = text.count("\r") - crlf
    if crlf >= lf and crlf >= cr and crlf:
        return "\r\n"
    if cr > lf:
        return "\r"
    return "\n"


def line_starts(text: str) -> list[int]:
    """Offsets (code points) at which each line starts."""
    starts = [0]
    for m in _LINE_BREAK.finditer(text):
        starts.append(m.end())
    return starts


def offset_at(text: str, starts: list[int], pos: Position) -> int:
    """Offset of a code-point position, clamped into the text."""
    if pos.line < 0:
        return 0
    if pos.line >= len(starts):
        return len(text)
    start = starts[pos.line]
    end = starts[pos.line + 1] if pos.line + 1 < len(starts) else len(text)
    # do not run past the line ending
    line_end = end
    while line_end > start and text[line_end - 1] in "\r\n":
        line_end -= 1
    return min(start + max(pos.character, 0), line_end)


# -- encodings ------------------------------------------------------------------------------------

UTF8 = "utf-8"
UTF16 = "utf-16"
UTF32 = "utf-32"


def _units(ch: str, encoding: str) -> int:
    o = ord(ch)
    if encoding == UTF16:
        return 2 if o > 0xFFFF else 1
    if encoding == UTF8:
        if o < 0x80:
            return 1
        if o < 0x800:
            return 2
        if o < 0x10000:
            return 3
        return 4
    return 1


def column_to_units(line: str, column: int, encoding: str) -> int:
    """Convert a code-point column on ``line`` to the client's units (clamped to the line)."""
    column = max(0, min(column, len(line)))
    if encoding == UTF32 or line.isascii():
        return column
    prefix = line[:column]
    if encoding == UTF8:
        return len(prefix.encode("utf-8", "surrogatepass"))
    return column + sum(1 for ch in prefix if ord(ch) > 0xFFFF)


def units_to_column(line: str, units: int, encoding: str) -> int:
    """Convert a client column (in ``encoding`` units) to code points, clamped to the line.

    A unit offset that falls inside a character maps to the end of that character.
    """
    if units <= 0:
        return 0
    if encoding == UTF32 or line.isascii():
        return min(units, len(line))
    count = 0
    for i, ch in enumerate(line):
        if count >= units:
            return i
        count += _units(ch, encoding)
    return len(line)
