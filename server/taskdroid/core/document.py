"""A parsed task file, split into independently parsed chunks, updated incrementally.

A *chunk* runs from one chunk boundary (an ATX heading at document level, see blocks.py) to the
next. The parse of a chunk depends only on its text (and the marker aliases), so chunk parses are
cached by text, and a new version of a document re-scans only from the chunk before the first
change up to the first unchanged chunk after it whose heading is still a boundary. Whole-file checks
then run over the cached chunk models, which is cheap.
"""

from __future__ import annotations

import bisect
import re
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import accumulate

from taskdroid.core.blocks import _is_front_matter_open, scan_chunks
from taskdroid.core.checks.task_local import check_chunk
from taskdroid.core.diagnostics import Diagnostic, diag
from taskdroid.core.doc_index import IdTable, build_table, chunk_facts
from taskdroid.core.doc_index import normalize_id as normalize_id
from taskdroid.core.model import ChunkParse, Section, Task
from taskdroid.core.taskparse import build_chunk
from taskdroid.core.text import Range, split_lines

#: the chunk parse cache (by text) keeps at most this many entries and this much chunk text: a
#: budget in characters, because one chunk can be a whole file edited thousands of times (each
#: version's parse would otherwise stay alive); live documents hold their own parses anyway
#: Text longer than this (in characters) is not analysed: the document gets one TD090 diagnostic
#: instead (an open 70 MB buffer blocked the server for 14 s and grew it to 2.9 GB). The same
#: number as the disk-read limit ``files.MAX_FILE_BYTES`` (16 MiB), so every file that
#: ``taskdroid check`` can read is analysed in full (a 50,000-task file is about 11 MB).
MAX_DOCUMENT_CHARS = 16 * 1024 * 1024

_CACHE_MAX = 50_000
_CACHE_MAX_CHARS = 1_000_000
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_cache: OrderedDict[tuple, ChunkParse] = OrderedDict()
_cache_chars = 0


def _cached_parse(
    text: str,
    lines: list[str],
    first: int,
    end: int,
    scan_res,
    aliases: Mapping[str, str],
    parse_key: tuple,
) -> ChunkParse:
    """The parse of the chunk ``text`` (``lines[first:end]``, scanned as ``scan_res``), from the
    cache when the same text was parsed before."""
    key = (parse_key, text)
    hit = _cache.get(key)
    if hit is not None:
        _cache.move_to_end(key)
        return hit
    global _cache_chars
    parsed = build_chunk(lines[first:end], scan_res, aliases)
    parsed.local_diagnostics = check_chunk(parsed)
    _cache[key] = parsed
    _cache_chars += len(text)
    while len(_cache) > 1 and (len(_cache) > _CACHE_MAX or _cache_chars > _CACHE_MAX_CHARS):
        (_pk, old_text), _ = _cache.popitem(last=False)
        _cache_chars -= len(old_text)
    if len(_cache) == 1:  # (also heals the count after a plain ``_cache.clear()``)
        _cache_chars = len(text)
    return parsed


def clear_cache() -> None:
    """Forget every cached chunk parse (tests and benchmarks of a cold parse)."""
    global _cache_chars
    _cache.clear()
    _cache_chars = 0


@dataclass(slots=True)
class PlacedChunk:
    parse: ChunkParse
    source: str  #: the whole document text (shared: a chunk keeps no copy of its own text)
    offset: int  #: code-point offset of the chunk in the document text
    length: int  #: its length in code points
    line: int  #: absolute line of the chunk's first line
    breaks: int  #: line breaks in ``text`` (the next chunk starts at ``line + breaks``)

    @property
    def text(self) -> str:
        """The chunk's text (a new slice of the document text on each call)."""
        return self.source[self.offset : self.offset + self.length]


@dataclass(slots=True)
class Located:
    """A task together with where its chunk sits in the document."""

    task: Task
    chunk: PlacedChunk

    @property
    def line(self) -> int:
        return self.chunk.line + self.task.line

    @property
    def offset(self) -> int:
        return self.chunk.line


def _scan_region(
    text: str, doc_start: bool, aliases: Mapping[str, str], parse_key: tuple
) -> list[tuple[int, ChunkParse, int]]:
    """Scan ``text`` and split it at boundaries. Returns (chunk length, parse, n_lines) in order
    (no chunk text is kept: only the parse cache holds the texts it was asked for last)."""
    lines = split_lines(text)
    parts = scan_chunks(lines, doc_start=doc_start)
    n = len(lines)
    firsts = [p[0] for p in parts]
    starts = _offsets_of_lines(text, lines, firsts) if len(parts) > 1 else [0]
    out: list[tuple[int, ChunkParse, int]] = []
    for k, (first, res) in enumerate(parts):
        last = k + 1 == len(parts)
        end = n if last else firsts[k + 1]
        chunk_text = text[starts[k] :] if last else text[starts[k] : starts[k + 1]]
        parse = _cached_parse(chunk_text, lines, first, end, res, aliases, parse_key)
        out.append((len(chunk_text), parse, end - first - (1 if last else 0)))
    return out


def _offsets_of_lines(text: str, lines: list[str], wanted: list[int]) -> list[int]:
    """Character offsets of the given (sorted) line numbers."""
    if "\r" not in text:
        acc = list(accumulate(map(len, lines), initial=0))
        return [acc[w] + w for w in wanted]
    starts = [0]
    starts.extend(m.end() for m in _LINE_BREAK.finditer(text))
    return [starts[w] for w in wanted]


class TaskDocument:
    """An immutable parsed version of one task file's text."""

    __slots__ = (
        "_ids",
        "_line_index",
        "_placement",
        "chunks",
        "delta",
        "n_lines",
        "parse_key",
        "path",
        "text",
    )

    def __init__(self, path: str, text: str, chunks: list[PlacedChunk], parse_key: tuple) -> None:
        self.path = path
        self.text = text
        self.chunks = chunks
        self.parse_key = parse_key
        self.n_lines = (chunks[-1].line + chunks[-1].breaks + 1) if chunks else 1
        self._line_index: list[int] | None = None
        #: the ID table (core/doc_index.py), handed from version to version by :meth:`update`
        self._ids: IdTable | None = None
        self._placement: dict[int, PlacedChunk] | None = None
        #: set by :meth:`update`: (id of the version it came from, the chunk parses that left,
        #: the chunk parses that came in their place)
        self.delta: tuple[int, tuple[ChunkParse, ...], tuple[ChunkParse, ...]] | None = None

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def parse(
        cls, path: str, text: str, aliases: Mapping[str, str], parse_key: tuple | None = None
    ) -> TaskDocument:
        pk = parse_key if parse_key is not None else tuple(sorted(aliases.items()))
        if len(text) > MAX_DOCUMENT_CHARS:
            return cls._too_large(path, text, pk)
        placed = _place(_scan_region(text, True, aliases, pk), text, 0, 0)
        return cls(path, text, placed, pk)

    @classmethod
    def _too_large(cls, path: str, text: str, pk: tuple) -> TaskDocument:
        """A document over :data:`MAX_DOCUMENT_CHARS`: no tasks, one diagnostic."""
        breaks = text.count("\n") + text.count("\r") - text.count("\r\n")
        parse = ChunkParse(breaks + 1, [], [], [], [], None, [too_large_diagnostic(text)])
        return cls(path, text, [PlacedChunk(parse, text, 0, len(text), 0, breaks)], pk)

    def update(self, text: str, aliases: Mapping[str, str]) -> TaskDocument:
        """A new version for ``text``, re-parsing only what changed."""
        pk = tuple(sorted(aliases.items()))
        old = self.chunks
        if pk != self.parse_key or len(old) < 3 or len(text) > MAX_DOCUMENT_CHARS:
            return TaskDocument.parse(self.path, text, aliases, pk)
        if text == self.text:
            return self
        if _front_matter_key(text) != _front_matter_key(self.text):
            # front matter opened, closed or moved its end: it changes how everything before
            # the edit reads (found by the fuzzer: closing `---` typed at the end of a file)
            return TaskDocument.parse(self.path, text, aliases, pk)
        # first chunk whose text changed
        m = 0
        while m < len(old) and text.startswith(old[m].text, old[m].offset):
            m += 1
        if m == len(old) and len(text) == len(self.text):
            same = TaskDocument(self.path, text, _resource(old, text), pk)
            self._hand_over(same, [], [])
            same.delta = (id(self), (), ())
            return same
        head = max(0, m - 1)  # re-scan from the chunk before: its end boundary may have moved
        delta = len(text) - len(self.text)
        region_start = old[head].offset
        # unchanged tail chunks
        t = len(old)
        while t - 1 > head:
            c = old[t - 1]
            new_off = c.offset + delta
            if new_off < region_start or not text.startswith(c.text, new_off):
                break
            if t == len(old) and new_off + c.length != len(text):
                break
            t -= 1
        # scan [region_start, start of old[k]] + old[k] and check old[k] starts at a boundary
        k = t
        while True:
            if k >= len(old):
                region = _scan_region(text[region_start:], head == 0, aliases, pk)
                tail: list[PlacedChunk] = []
                break
            end = old[k].offset + delta + old[k].length
            region = _scan_region(text[region_start:end], head == 0, aliases, pk)
            total = sum(r[0] for r in region)
            last_len = region[-1][0]
            if (
                total - last_len == old[k].offset + delta - region_start
                and last_len == old[k].length
            ):  # (the region ends with old[k]'s text, so its last chunk is that text)
                tail = old[k + 1 :]
                break
            k += 1
        new_chunks = _resource(old[:head], text)
        line = (old[head - 1].line + old[head - 1].breaks) if head else 0
        off = region_start
        came = _place(region, text, off, line)
        gone = old[head : len(old) - len(tail)]
        new_chunks.extend(came)
        last = new_chunks[-1]
        line = last.line + last.breaks
        off = last.offset + last.length
        for c in tail:
            new_chunks.append(PlacedChunk(c.parse, text, off, c.length, line, c.breaks))
            off += c.length
            line += c.breaks
        new = TaskDocument(self.path, text, new_chunks, pk)
        self._hand_over(new, gone, came)
        new.delta = (id(self), tuple(c.parse for c in gone), tuple(c.parse for c in came))
        return new

    # -- access ---------------------------------------------------------------------------------
    def located_tasks(self) -> Iterator[Located]:
        for c in self.chunks:
            for t in c.parse.tasks:
                yield Located(t, c)

    def sections(self) -> Iterator[tuple[Section, PlacedChunk]]:
        for c in self.chunks:
            for s in c.parse.sections:
                yield s, c

    def chunk_at_line(self, line: int) -> PlacedChunk | None:
        if self._line_index is None:
            self._line_index = [c.line for c in self.chunks]

        i = bisect.bisect_right(self._line_index, line) - 1
        if i < 0:
            return None
        return self.chunks[i]

    # -- IDs (core/doc_index.py) ----------------------------------------------------------------
    def id_table(self) -> IdTable:
        """The ID table of this version (built on first use, or handed over by :meth:`update`)."""
        table = self._ids
        if table is None:
            table = self._ids = build_table(c.parse for c in self.chunks)
        return table

    def _hand_over(
        self, new: TaskDocument, gone: list[PlacedChunk], came: list[PlacedChunk]
    ) -> None:
        """Give this version's ID table, updated for the chunks that left (``gone``) and came
        (``came``), to ``new`` (whose chunks are these minus ``gone`` plus ``came``)."""
        table = self._ids
        if table is None:
            return
        self._ids = None
        for c in gone:
            table.remove(c.parse)
        for c in came:
            table.add(c.parse)
        new._ids = table

    def first_with(self, key: str) -> Located | None:
        """The first task (in document order) whose normalised ID is ``key``."""
        v = self.id_table().where.get(key)
        if v is None:
            return None
        placement = self.placement()
        parse = min(v, key=lambda p: placement[id(p)].line) if isinstance(v, list) else v
        for k, i in chunk_facts(parse).ids:
            if k == key:
                return Located(parse.tasks[i], placement[id(parse)])
        return None  # pragma: no cover - the table and the facts agree

    def duplicates(self) -> list[list[Located]]:
        """The tasks of every ID used more than once, in document order (first one first)."""
        table = self.id_table()
        if not table.dups:
            return []
        found: dict[str, list[Located]] = {k: [] for k in table.dups}
        holders = {id(p) for k in table.dups for p in table.where[k]}  # type: ignore[union-attr]
        for c in self.chunks:
            if id(c.parse) not in holders:
                continue
            for key, i in chunk_facts(c.parse).ids:
                hits = found.get(key)
                if hits is not None:
                    hits.append(Located(c.parse.tasks[i], c))
        return [v for v in found.values() if len(v) > 1]

    def placement(self) -> dict[int, PlacedChunk]:
        """id(chunk parse) -> where it is placed first in this version."""
        if self._placement is None:
            placement: dict[int, PlacedChunk] = {}
            for c in self.chunks:
                placement.setdefault(id(c.parse), c)
            self._placement = placement
        return self._placement

    def task_at_line(self, line: int) -> Located | None:
        """The innermost task whose block contains ``line``."""
        c = self.chunk_at_line(line)
        if c is None:
            return None
        rel = line - c.line
        best = None
        for t in c.parse.tasks:
            if t.line <= rel <= max(t.end_line, t.line):
                best = t
            elif t.line > rel:
                break
        return Located(best, c) if best else None

    def find_task(self, task_id: str) -> Located | None:
        want = normalize_id(task_id)
        for loc in self.located_tasks():
            if loc.task.id and normalize_id(loc.task.id) == want:
                return loc
        return None

    @property
    def task_count(self) -> int:
        return sum(len(c.parse.tasks) for c in self.chunks)


def _place(
    region: list[tuple[int, ChunkParse, int]], source: str, offset: int, line: int
) -> list[PlacedChunk]:
    out = []
    for length, parse, breaks in region:
        out.append(PlacedChunk(parse, source, offset, length, line, breaks))
        offset += length
        line += breaks
    return out


def _resource(chunks: list[PlacedChunk], source: str) -> list[PlacedChunk]:
    """``chunks`` (unchanged, at the same place) reading from a new version's text."""
    return [PlacedChunk(c.parse, source, c.offset, c.length, c.line, c.breaks) for c in chunks]


_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_FRONT_MATTER_CLOSE = re.compile(r"(?:\r\n|\r|\n)(?:---|\.\.\.)[ \t]*(?=\r\n|\r|\n|\Z)")


def _front_matter_key(text: str) -> int | None:
    """Where the front matter that opens ``text`` ends (-1: never closed; None: there is none),
    as :func:`taskdroid.core.blocks.scan` reads it."""
    first = _LINE_BREAK.search(text)
    if first is None or not _is_front_matter_open(text[: first.start()]):
        return None
    close = _FRONT_MATTER_CLOSE.search(text, first.start())
    return close.end() if close else -1


def too_large_diagnostic(text: str) -> Diagnostic:
    """The one diagnostic of a file over :data:`MAX_DOCUMENT_CHARS` (TD090, on its first line)."""
    mib = 1024 * 1024
    return diag(
        "TD090",
        Range.of(0, 0, 0),
        f"file is too large to analyse ({len(text) // mib} MiB of text; the limit is "
        f"{MAX_DOCUMENT_CHARS // mib} MiB) — taskdroid skips its contents",
    )
