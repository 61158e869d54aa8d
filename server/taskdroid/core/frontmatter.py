"""YAML front matter: find it, parse it safely, and remember where every top-level key lives.

The front matter starts on line 0 with ``---`` (trailing spaces allowed, a BOM before it
tolerated) and ends at the next line that is ``---`` or ``...``. Its YAML is composed with
PyYAML's safe loader into nodes with marks; the nodes are converted to plain Python values here,
under a node budget (alias re-visits count, so an alias bomb is an error, not a memory blow-up),
a nesting limit and a size cap.

Positions are 0-based lines of the whole file and code-point columns. PyYAML marks are relative to
the YAML text, which starts on line 1 of the file; they are mapped through the mark's character
index, so characters PyYAML counts as line breaks but LSP does not (U+0085, U+2028) cannot shift
lines.

Problems are DR002 diagnostics (docs/language.md §4):

* hard faults (syntax errors, not a mapping, never closed, too big, too many nodes) leave
  :attr:`FrontMatter.data` ``None``;
* soft faults leave the data usable and report a DR002 *error* at the place: a duplicate key (the
  later occurrence is reported and ignored, the first one is kept), an unknown ``!tag`` (the value
  is read as its text), a merge (``<<``) of something that is not a mapping;
* the special case: when the only fault is an unquoted ``: `` inside a one-line plain value of a
  top-level key (``description: Use this when: you need X``), the value is read as a string and a
  DR002 *warning* with a "quote" fix is reported on it.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from taskdroid.core.diagnostics import Diagnostic, Related, Severity, diag
from taskdroid.core.text import Position, Range, split_lines

__all__ = [
    "MAX_DEPTH",
    "MAX_FRONT_MATTER_BYTES",
    "MAX_NODES",
    "FrontMatter",
    "find_front_matter",
    "parse_front_matter",
    "quote_yaml_string",
]

#: front matter larger than this (UTF-8 bytes) is not parsed
MAX_FRONT_MATTER_BYTES = 256 * 1024
#: nodes visited while converting, alias re-visits included
MAX_NODES = 10_000
#: nesting of collections
MAX_DEPTH = 64
#: re-parses tried by the "quote the value" special case
_MAX_QUOTE_PASSES = 32

_BOM = "\ufeff"
_MERGE_TAG = "tag:yaml.org,2002:merge"
#: tags of the lists and mappings safe YAML builds (others are reported and read as plain ones)
_COLLECTION_TAGS = frozenset(
    f"tag:yaml.org,2002:{t}" for t in ("seq", "map", "omap", "pairs", "set")
)


@dataclass(slots=True)
class FrontMatter:
    """The front matter of a markdown text (see the module docstring)."""

    #: the text starts with a ``---`` line
    present: bool = False
    #: a closing ``---`` / ``...`` line was found
    closed: bool = False
    #: the top-level mapping; ``None`` when absent, never closed or not readable YAML
    data: dict[str, Any] | None = None
    #: the opening ``---``
    open_range: Range | None = None
    #: from the opening ``---`` to the end of the closing line
    range: Range | None = None
    #: line of the closing ``---`` / ``...``
    end_line: int | None = None
    #: first line after the front matter (0 when there is none)
    body_start_line: int = 0
    key_ranges: dict[str, Range] = field(default_factory=dict)
    value_ranges: dict[str, Range] = field(default_factory=dict)
    #: for list values: the range of each item
    item_ranges: dict[str, list[Range]] = field(default_factory=dict)
    #: keys whose one-line value was read as a string by the DR002 special case
    quoted_keys: frozenset[str] = frozenset()
    diagnostics: list[Diagnostic] = field(default_factory=list)


# -- locating --------------------------------------------------------------------------------------


def _is_delimiter(line: str, marks: tuple[str, ...]) -> bool:
    return line.rstrip(" \t") in marks


def find_front_matter(lines: list[str]) -> tuple[bool, int | None]:
    """``(present, closing line)`` for the lines of a text (``None``: never closed)."""
    if not lines:
        return False, None
    first = lines[0][1:] if lines[0].startswith(_BOM) else lines[0]
    if not _is_delimiter(first, ("---",)):
        return False, None
    for i in range(1, len(lines)):
        if _is_delimiter(lines[i], ("---", "...")):
            return True, i
    return True, None


# -- quoting ---------------------------------------------------------------------------------------

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0"}


def _escape_char(ch: str) -> str:
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    o = ord(ch)
    printable = (0x20 <= o <= 0x7E) or o == 0x85 or (0xA0 <= o <= 0xD7FF) or (0xE000 <= o <= 0xFFFD)
    printable = printable or 0x10000 <= o <= 0x10FFFF
    if printable and o not in (0x85, 0x2028, 0x2029, 0xFEFF):
        return ch
    if o <= 0xFF:
        return f"\\x{o:02x}"
    if o <= 0xFFFF:
        return f"\\u{o:04x}"
    return f"\\U{o:08x}"


def quote_yaml_string(value: str) -> str:
    """``value`` as a YAML double-quoted scalar that reads back as exactly ``value``."""
    return '"' + "".join(_escape_char(ch) for ch in value) + '"'


# -- the loader ------------------------------------------------------------------------------------


class _AliasNode(Node):
    """An alias occurrence: the anchored node, with the marks of the ``*alias`` itself."""

    id = "alias"

    def __init__(self, target: Node, start_mark: Any, end_mark: Any) -> None:
        super().__init__(target.tag, target.value, start_mark, end_mark)
        self.target = target


class _Loader(yaml.SafeLoader):
    """Safe loader whose composer keeps where each alias occurs."""

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(AliasEvent):
            event = self.peek_event()
            if event.anchor in self.anchors:
                self.get_event()
                return _AliasNode(self.anchors[event.anchor], event.start_mark, event.end_mark)
        return super().compose_node(parent, index)


def _compose(yaml_text: str) -> Node | None:
    loader = _Loader(yaml_text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


# -- positions -------------------------------------------------------------------------------------


class _Positions:
    """Maps offsets in the YAML text to file positions (the YAML starts on file line 1)."""

    def __init__(self, yaml_text: str, first_line: int = 1) -> None:
        self.text = yaml_text
        self.first_line = first_line
        self.starts = [0] + [i + 1 for i, ch in enumerate(yaml_text) if ch == "\n"]

    def at(self, index: int) -> Position:
        index = max(0, min(index, len(self.text)))
        line = bisect.bisect_right(self.starts, index) - 1
        return Position(self.first_line + line, index - self.starts[line])

    def range(self, start: int, end: int) -> Range:
        return Range(self.at(start), self.at(max(start, end)))

    def node_range(self, node: Node) -> Range:
        start = node.start_mark.index
        return self.range(start, self._node_end(node, start))

    def _node_end(self, node: Node, start: int) -> int:
        """End offset of a node, without trailing blank lines, comments and line breaks."""
        cur = node
        for _ in range(MAX_DEPTH):
            if isinstance(cur, _AliasNode) or not isinstance(cur, SequenceNode | MappingNode):
                break
            if cur.flow_style or not cur.value:
                break
            last = cur.value[-1]
            cur = last[1] if isinstance(cur, MappingNode) else last
        end = cur.end_mark.index
        if end < start:  # the last item is an alias to an earlier anchor
            end = node.end_mark.index
        while end > start and self.text[end - 1] in " \t\n":
            end -= 1
        return end


class _QuotedPositions(_Positions):
    """Positions in the YAML text with some values quoted (the DR002 special case), reported
    where they are in the original text: offsets after a quoted value move back by what the
    quotes added (text can follow it on the same line: after U+2028, a line break for YAML)."""

    def __init__(self, quoted_text: str, original: _Positions, quoted: list) -> None:
        super().__init__(quoted_text)
        self.original = original
        #: (start, end in the quoted text, start, end in the original), in order
        self.segments: list[tuple[int, int, int, int]] = []
        for q in quoted:
            qs = self.starts[q.line] + q.start
            os_ = original.starts[q.line] + q.start
            width = len(quote_yaml_string(q.value))
            self.segments.append((qs, qs + width, os_, os_ + (q.end - q.start)))
        self.segments.sort()

    def at(self, index: int) -> Position:
        index = max(0, min(index, len(self.text)))
        delta = 0
        for qs, qe, os_, oe in self.segments:
            if index >= qe:
                delta = oe - qe
            elif index >= qs:
                return self.original.at(os_ + min(index - qs, oe - os_))
            else:
                break
        return self.original.at(index + delta)


def _mark_range(pos: _Positions, mark: Any) -> Range:
    """A one-character range at a mark (the last character of the line when at its end)."""
    index = getattr(mark, "index", 0) if mark is not None else 0
    start = pos.at(index)
    line_text = split_lines(pos.text)[start.line - pos.first_line] if pos.text else ""
    if start.character < len(line_text):
        return Range(start, Position(start.line, start.character + 1))
    if line_text:
        return Range(Position(start.line, len(line_text) - 1), Position(start.line, len(line_text)))
    return Range(start, start)


# -- converting nodes to values --------------------------------------------------------------------


class _Fatal(Exception):
    """A hard fault found while converting: the front matter is not usable."""

    def __init__(self, message: str, node: Node) -> None:
        super().__init__(message)
        self.message = message
        self.node = node


@dataclass(slots=True)
class _Soft:
    message: str
    node: Node
    related: Node | None = None


_SCALAR_FUNCS: dict[str, Callable[..., Any]] = {
    tag: f for tag, f in SafeConstructor.yaml_constructors.items() if tag is not None
}
_CONSTRUCTOR = SafeConstructor()


class _Converter:
    """Node → plain value, with a node budget and a depth limit."""

    def __init__(self, max_nodes: int = MAX_NODES, max_depth: int = MAX_DEPTH) -> None:
        self.max_nodes = max_nodes
        self.max_depth = max_depth
        self.visits = 0
        self.soft: list[_Soft] = []
        self._seen_soft: set[tuple[int, str]] = set()
        self._open: set[int] = set()  # collections being converted (to catch self-reference)

    def visit(self, node: Node, depth: int) -> None:
        self.visits += 1
        if self.visits > self.max_nodes:
            raise _Fatal(
                f"front matter expands to more than {self.max_nodes:,} values "
                "(aliases referring to aliases?); taskdroid does not read it",
                node,
            )
        if depth > self.max_depth:
            raise _Fatal(f"front matter is nested more than {self.max_depth} levels deep", node)

    def report(self, message: str, node: Node, related: Node | None = None) -> None:
        key = (node.start_mark.index, message)
        if key not in self._seen_soft:
            self._seen_soft.add(key)
            self.soft.append(_Soft(message, node, related))

    def value(self, node: Node, depth: int = 0) -> Any:
        self.visit(node, depth)
        if isinstance(node, _AliasNode):
            if id(node.target) in self._open:
                raise _Fatal("an alias refers to the list or mapping that contains it", node)
            return self.value(node.target, depth)
        if isinstance(node, ScalarNode):
            return self.scalar(node)
        if node.tag not in _COLLECTION_TAGS:  # e.g. !!python/object/apply: reported, not built
            self.report(
                f"unknown YAML tag `{node.tag}` — taskdroid reads only plain lists and mappings",
                node,
            )
        self._open.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return [self.value(item, depth + 1) for item in node.value]
            if isinstance(node, MappingNode):
                return self.mapping(node, depth)
            return None
        finally:
            self._open.discard(id(node))

    def scalar(self, node: ScalarNode) -> Any:
        func = _SCALAR_FUNCS.get(node.tag)
        if func is None:
            self.report(
                f"unknown YAML tag `{node.tag}` — quote the value if the `!` is part of the text",
                node,
            )
            return node.value
        try:
            return func(_CONSTRUCTOR, node)
        except Exception:  # e.g. a timestamp like 2025-13-45: keep the text
            return node.value

    def pairs(self, node: MappingNode, depth: int) -> list[tuple[Node, Node]]:
        """The mapping's key/value nodes with ``<<`` merges flattened (explicit keys first)."""
        own: list[tuple[Node, Node]] = []
        merged: list[tuple[Node, Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag != _MERGE_TAG:
                own.append((key_node, value_node))
                continue
            self.visit(value_node, depth + 1)
            target = value_node.target if isinstance(value_node, _AliasNode) else value_node
            sources = target.value if isinstance(target, SequenceNode) else [target]
            for src in sources:
                src = src.target if isinstance(src, _AliasNode) else src
                if isinstance(src, MappingNode):
                    merged.extend(self.pairs(src, depth + 1))
                else:
                    self.report("`<<` (merge) needs a mapping or a list of mappings", key_node)
        return own + merged

    def key(self, node: Node, depth: int) -> Any:
        value = self.value(node, depth + 1)
        if isinstance(value, list | dict):
            raise _Fatal("a key must be a plain value, not a list or a mapping", node)
        return value

    def mapping(self, node: MappingNode, depth: int) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        first: dict[Any, Node] = {}
        n_own = sum(1 for k, _ in node.value if k.tag != _MERGE_TAG)
        for i, (key_node, value_node) in enumerate(self.pairs(node, depth)):
            k = self.key(key_node, depth)
            if k in out:
                if i < n_own and first[k] is not key_node:
                    self.report(
                        f"duplicate key `{k}` — this later one is ignored", key_node, first[k]
                    )
                continue
            first[k] = key_node
            out[k] = self.value(value_node, depth + 1)
        return out


# -- parsing ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Mark:
    index: int


def _yaml_problem(exc: Exception) -> tuple[str, Any]:
    """A readable message and the mark of a PyYAML error."""
    if isinstance(exc, yaml.MarkedYAMLError):
        parts = [p for p in (exc.context, exc.problem) if p]
        text = "; ".join(parts) if parts else "syntax error"
        mark = exc.problem_mark or exc.context_mark
        return f"front matter is not valid YAML: {text}", mark
    if isinstance(exc, yaml.reader.ReaderError):
        ch = exc.character
        code = ord(ch) if isinstance(ch, str) else ch
        what = f"#x{code:04x}" if isinstance(code, int) else repr(ch)
        msg = f"front matter contains a character YAML does not allow ({what})"
        return msg, _Mark(exc.position)
    return f"front matter is not valid YAML: {exc}", None


_TOP_KEY_LINE = re.compile(
    r"^(?P<key>[A-Za-z0-9_][\w.-]*)[ \t]*:[ \t]+(?P<value>[^ \t].*?)[ \t]*$", re.DOTALL
)
_NOT_PLAIN_START = tuple("\"'[]{}|>&*!%@`#,")
_MAPPING_INDICATOR = re.compile(r":(?:[ \t]|$)")
_COMMENT = re.compile(r"[ \t]#")


@dataclass(slots=True)
class _QuoteCandidate:
    line: int  # line in the YAML text
    key: str
    value: str
    start: int  # column of the value
    end: int


def _quote_candidate(lines: list[str], i: int) -> _QuoteCandidate | None:
    """Line ``i`` of the YAML text when it is ``key: plain one-line value with: inside``."""
    m = _TOP_KEY_LINE.match(lines[i])
    if not m:
        return None
    value = m.group("value")
    if value.startswith(_NOT_PLAIN_START) or value[:2] in ("- ", "? ", ": "):
        return None
    comment = _COMMENT.search(value)
    if comment:
        value = value[: comment.start()].rstrip(" \t")
    if not _MAPPING_INDICATOR.search(value):
        return None
    for nxt in lines[i + 1 :]:  # a continuation line would make it a multi-line scalar
        if nxt.strip(" \t"):
            if nxt[0] in " \t":
                return None
            break
    start = m.start("value")
    return _QuoteCandidate(i, m.group("key"), value, start, start + len(value))


@dataclass(slots=True)
class _Parsed:
    root: Node | None
    yaml_text: str
    quoted: list[_QuoteCandidate]


def _compose_with_quoting(yaml_text: str) -> _Parsed:
    """Compose; on a "mapping values are not allowed" error on a quotable line, quote and retry.

    Raises the *first* error when quoting does not make the YAML valid.
    """
    lines = yaml_text.split("\n")
    quoted: dict[int, _QuoteCandidate] = {}
    first_error: Exception | None = None
    text = yaml_text
    for _ in range(_MAX_QUOTE_PASSES):
        try:
            return _Parsed(_compose(text), text, sorted(quoted.values(), key=lambda q: q.line))
        except (yaml.YAMLError, RecursionError) as exc:
            if first_error is None:
                first_error = exc
            cand = _candidate_for(exc, text, lines, quoted)
            if cand is None:
                break
            quoted[cand.line] = cand
            line = lines[cand.line]
            lines[cand.line] = line[: cand.start] + quote_yaml_string(cand.value) + line[cand.end :]
            text = "\n".join(lines)
    assert first_error is not None
    raise first_error


def _candidate_for(
    exc: Exception, text: str, lines: list[str], quoted: dict[int, _QuoteCandidate]
) -> _QuoteCandidate | None:
    if not isinstance(exc, yaml.scanner.ScannerError) or exc.problem_mark is None:
        return None
    if exc.problem != "mapping values are not allowed here":
        return None
    where = _Positions(text, first_line=0).at(exc.problem_mark.index)
    line = where.line
    if line in quoted or not 0 <= line < len(lines):
        return None
    cand = _quote_candidate(lines, line)
    if cand is None or not cand.start <= where.character <= cand.end:
        return None
    return cand


def _kind(node: Node) -> str:
    if isinstance(node, SequenceNode):
        return "a list"
    if isinstance(node, ScalarNode):
        return "a single value" if node.value else "nothing"
    return "something else"


def parse_front_matter(text: str) -> FrontMatter:
    """Split off and parse the front matter of ``text``. Never raises on bad input."""
    lines = split_lines(text)
    present, end = find_front_matter(lines)
    fm = FrontMatter(present=present)
    if not present:
        return fm
    first_len = len(lines[0].rstrip(" \t"))
    bom = 1 if lines[0].startswith(_BOM) else 0
    fm.open_range = Range.of(0, bom, max(first_len, bom))
    if end is None:
        fm.body_start_line = len(lines)
        fm.diagnostics.append(
            diag(
                "DR002",
                fm.open_range,
                "front matter is never closed — add a `---` line after the last key",
            )
        )
        return fm
    fm.closed = True
    fm.end_line = end
    fm.body_start_line = end + 1
    fm.range = Range(Position(0, 0), Position(end, len(lines[end])))
    yaml_text = "\n".join(lines[1:end])
    if _too_big(yaml_text):
        fm.diagnostics.append(
            diag(
                "DR002",
                fm.open_range,
                f"front matter is larger than {MAX_FRONT_MATTER_BYTES // 1024} KB; "
                "taskdroid does not read it",
            )
        )
        return fm
    _read_yaml(fm, yaml_text)
    return fm


def _too_big(yaml_text: str) -> bool:
    if len(yaml_text) * 4 <= MAX_FRONT_MATTER_BYTES:
        return False
    return len(yaml_text.encode("utf-8", "surrogatepass")) > MAX_FRONT_MATTER_BYTES


def _read_yaml(fm: FrontMatter, yaml_text: str) -> None:
    pos = _Positions(yaml_text)
    try:
        parsed = _compose_with_quoting(yaml_text)
    except RecursionError:
        fm.diagnostics.append(
            diag("DR002", fm.open_range or Range.of(0, 0, 0), "front matter is nested too deeply")
        )
        return
    except yaml.YAMLError as exc:
        message, mark = _yaml_problem(exc)
        fm.diagnostics.append(diag("DR002", _mark_range(pos, mark), message))
        return
    root = parsed.root
    if root is None:
        fm.data = {}
        return
    if not isinstance(root, MappingNode):
        fm.diagnostics.append(
            diag(
                "DR002",
                pos.node_range(root),
                f"front matter must be a mapping of `key: value` lines, found {_kind(root)}",
            )
        )
        return
    parsed_pos = _QuotedPositions(parsed.yaml_text, pos, parsed.quoted) if parsed.quoted else pos
    converter = _Converter()
    try:
        _read_mapping(fm, root, converter, parsed_pos)
    except _Fatal as exc:
        fm.data = None
        fm.key_ranges, fm.value_ranges, fm.item_ranges = {}, {}, {}
        fm.diagnostics.append(diag("DR002", parsed_pos.node_range(exc.node), exc.message))
        return
    except RecursionError:
        fm.data = None
        fm.diagnostics.append(
            diag("DR002", fm.open_range or Range.of(0, 0, 0), "front matter is nested too deeply")
        )
        return
    for soft in converter.soft:
        related: tuple[Related, ...] = ()
        if soft.related is not None:
            related = (Related(None, parsed_pos.node_range(soft.related), "first occurrence"),)
        fm.diagnostics.append(
            diag("DR002", parsed_pos.node_range(soft.node), soft.message, related=related)
        )
    _apply_quoted(fm, parsed.quoted, pos)


def _key_text(key: Any, node: Node) -> str:
    if isinstance(key, str):
        return key
    target = node.target if isinstance(node, _AliasNode) else node
    return target.value if isinstance(target, ScalarNode) else str(key)


def _read_mapping(
    fm: FrontMatter, root: MappingNode, converter: _Converter, pos: _Positions
) -> None:
    data: dict[str, Any] = {}
    first: dict[str, Node] = {}
    n_own = sum(1 for k, _ in root.value if k.tag != _MERGE_TAG)
    merge_key = next((k for k, _ in root.value if k.tag == _MERGE_TAG), None)
    converter.visit(root, 0)
    for i, (key_node, value_node) in enumerate(converter.pairs(root, 0)):
        key = _key_text(converter.key(key_node, 0), key_node)
        if key in data:
            if i < n_own:
                converter.report(
                    f"duplicate key `{key}` — this later one is ignored", key_node, first[key]
                )
            continue
        first[key] = key_node
        data[key] = converter.value(value_node, 1)
        shown_key = key_node if i < n_own or merge_key is None else merge_key
        fm.key_ranges[key] = pos.node_range(shown_key)
        fm.value_ranges[key] = pos.node_range(value_node)
        target = value_node.target if isinstance(value_node, _AliasNode) else value_node
        if isinstance(target, SequenceNode):
            fm.item_ranges[key] = [pos.node_range(item) for item in target.value]
    fm.data = data


def _apply_quoted(fm: FrontMatter, quoted: list[_QuoteCandidate], pos: _Positions) -> None:
    """Ranges from the original text, and the DR002 warnings, for values read as strings."""
    keys: set[str] = set()
    for q in quoted:
        file_line = pos.first_line + q.line
        rng = Range.of(file_line, q.start, q.end)
        replacement = quote_yaml_string(q.value)
        if fm.data is not None and fm.data.get(q.key) == q.value:
            fm.value_ranges[q.key] = rng
            keys.add(q.key)
        fm.diagnostics.append(
            diag(
                "DR002",
                rng,
                f"`{q.key}` has an unquoted `: ` inside its value, which YAML reads as a nested "
                "key — quote the value (it is read as text here)",
                severity=Severity.WARNING,
                data={
                    "fix": "quote",
                    "key": q.key,
                    "value": q.value,
                    "replacement": replacement,
                    "range": [file_line, q.start, file_line, q.end],
                },
            )
        )
    fm.quoted_keys = frozenset(keys)
