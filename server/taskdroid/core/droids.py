"""Droid definition files (docs/language.md §3): the front matter model, parsing and the file-local checks.

:class:`DroidFrontMatter` is the single source of the rules: the checker validates with it,
``taskdroid schema`` prints its JSON Schema, and hover shows its field descriptions
(:data:`KEY_RULES`).

Deviations from docs/language.md §4 that keep noise low on real files:

* a description over 500 characters in a ``.claude/agents`` file is a DR004 *hint* (Claude Code
  documents long descriptions with ``<example>`` blocks); in Factory droids it stays an error;
* the known Claude Code tools include those Claude Code documents beyond the documented list
  (``ExitPlanMode``, ``Skill``, ``TaskCreate``, ``AskUserQuestion``, … — :data:`CLAUDE_CODE_MORE_TOOLS`);
* a tool of the *other* tool's vocabulary (``Bash`` in a Factory droid, ``Execute`` in a Claude
  Code agent) is a DR005 naming the equivalent.
"""

from __future__ import annotations

import bisect
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import ErrorDetails

from taskdroid.core.diagnostics import Diagnostic, Related, Severity, diag
from taskdroid.core.droid_vocab import (
    CLAUDE_CODE_MORE_TOOLS,
    CLAUDE_CODE_TOOLS,
    COLORS,
    DATE_PATTERN,
    DESCRIPTION_MAX,
    EFFORT_LEVELS,
    ENUMERATED_VALUES,
    FACTORY_SUBAGENT_NOOP,
    FACTORY_TOOLS,
    MEMORY_SCOPES,
    MODEL_PATTERN,
    NAME_PATTERN,
    PERMISSION_MODES,
    REASONING_EFFORTS_UNDOCUMENTED,
    SCHEMA_ID,
    TOOL_CATEGORIES,
    VERSION_PATTERN,
    Color,
    EffortLevel,
    Flavor,
    IsolationMode,
    Location,
    MemoryScope,
    PermissionMode,
    ReasoningEffort,
)
from taskdroid.core.frontmatter import FrontMatter, parse_front_matter
from taskdroid.core.settings import Settings
from taskdroid.core.suggest import closest
from taskdroid.core.text import Position, Range, split_lines

__all__ = [
    "CLAUDE_CODE_MORE_TOOLS",
    "CLAUDE_CODE_TOOLS",
    "COLORS",
    "DESCRIPTION_MAX",
    "EFFORT_LEVELS",
    "ENUMERATED_VALUES",
    "FACTORY_TOOLS",
    "KEY_RULES",
    "KNOWN_KEYS",
    "NAME_PATTERN",
    "PERMISSION_MODES",
    "SCHEMA_ID",
    "TOOL_CATEGORIES",
    "DroidDocument",
    "DroidFrontMatter",
    "Flavor",
    "droid_json_schema",
    "duplicate_droid_diagnostics",
    "flavor_of",
    "looks_like_droid",
    "parse_droid",
    "split_tools",
    "tool_base_name",
]

#: a tool of one vocabulary → the other tool's name for it
_FACTORY_NAME_OF = {"Bash": "Execute", "Write": "Create", "WebFetch": "FetchUrl"}
_CLAUDE_NAME_OF = {
    "Execute": "Bash",
    "Create": "Write",
    "FetchUrl": "WebFetch",
    "ApplyPatch": "Edit",
}

_ALL_CLAUDE = frozenset(CLAUDE_CODE_TOOLS + CLAUDE_CODE_MORE_TOOLS)
_ALL_FACTORY = frozenset(FACTORY_TOOLS)


# -- the model -------------------------------------------------------------------------------------


def _check_date(value: Any) -> str:
    """An ISO date: a ``YYYY-MM-DD`` string, or a date YAML already parsed (unquoted)."""
    if isinstance(value, datetime):
        raise ValueError("a date with a time")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and re.match(DATE_PATTERN, value):
        try:
            date.fromisoformat(value)
        except ValueError:
            raise ValueError("not a calendar date") from None
        return value
    raise ValueError("not a YYYY-MM-DD date")


def _check_version(value: Any) -> str:
    """A version: a string like ``v2``, ``2.1`` or ``1.0.0``, or a YAML number read as its text."""
    if isinstance(value, bool):
        raise ValueError("a yes/no value")
    if isinstance(value, int | float):
        value = str(value)
    if isinstance(value, str) and re.match(VERSION_PATTERN, value.strip()):
        return value
    raise ValueError("not a version")


_VERSION_SCHEMA = {"anyOf": [{"type": "string", "pattern": VERSION_PATTERN}, {"type": "number"}]}
Version = Annotated[Any, BeforeValidator(_check_version), WithJsonSchema(_VERSION_SCHEMA)]
_DATE_SCHEMA = {"type": "string", "format": "date", "pattern": DATE_PATTERN}
IsoDate = Annotated[Any, BeforeValidator(_check_date), WithJsonSchema(_DATE_SCHEMA)]
_Strings = list[str]
_StringsOrCsv = list[str] | str


class DroidFrontMatter(BaseModel):
    """Front matter of a Factory droid (``.factory/droids/*.md``) or a Claude Code subagent
    (``.claude/agents/*.md``). Keys not listed here are allowed but hinted."""

    model_config = ConfigDict(
        extra="allow",
        strict=True,
        title="Droid front matter",
        protected_namespaces=(),
        regex_engine="python-re",
        # built on the first droid file that is validated, not at import (see core/settings.py)
        defer_build=True,
    )

    name: str = Field(
        pattern=NAME_PATTERN,
        description="Required. The droid's identifier: lowercase letters, digits, `-` and `_`, "
        "starting with a letter or digit; equals the file name without `.md`.",
    )
    description: str | None = Field(
        default=None,
        max_length=DESCRIPTION_MAX,
        description="What the droid does and when to use it (Claude Code requires it, Factory "
        f"shows it); at most {DESCRIPTION_MAX} characters.",
    )
    model: Annotated[str, Field(pattern=MODEL_PATTERN)] | None = Field(
        default=None,
        description="Model to run: `inherit` (the session's model) or a model id such as "
        "`claude-sonnet-4-5-20250929`, `sonnet`, or `custom:…`.",
    )
    reasoningEffort: ReasoningEffort | None = Field(
        default=None, description="Factory reasoning effort: `low`, `medium` or `high`."
    )
    tools: _StringsOrCsv | None = Field(
        default=None,
        description="Tools the droid may use: a list, a comma-separated string, or a Factory "
        "category (`read-only`, `edit`, `execute`, `web`, `mcp`); known tool names, `mcp__…` ids "
        "or `taskdroid.extraTools`; each at most once.",
    )
    mcpServers: list[str | dict[str, Any]] | None = Field(
        default=None, description="MCP servers the droid may use (names; Claude Code also "
        "accepts inline `{name: config}` entries).",
    )  # fmt: skip
    version: Version | None = Field(
        default=None,
        description="Version of the droid, informational (no agent CLI reads it): `v2`, `2`, "
        "`2.1` or a semantic version such as `1.0.0`.",
    )
    createdAt: IsoDate | None = Field(default=None, description="Creation date, `YYYY-MM-DD`.")
    updatedAt: IsoDate | None = Field(
        default=None, description="Last update, `YYYY-MM-DD`; not earlier than `createdAt`."
    )
    location: Location | None = Field(
        default=None, description="Where the droid lives: `project` or `personal`."
    )
    tags: _Strings | None = Field(default=None, description="Free-form tags, a list of strings.")
    color: Color | None = Field(
        default=None,
        description="Display color of the Claude Code subagent: " + ", ".join(
            f"`{c}`" for c in COLORS
        ) + ".",
    )
    disallowedTools: _StringsOrCsv | None = Field(
        default=None,
        description="Claude Code: tools to deny, a list or a comma-separated string.",
    )
    permissionMode: PermissionMode | None = Field(
        default=None,
        description="Claude Code permission mode: "
        + ", ".join(f"`{m}`" for m in PERMISSION_MODES)
        + ".",
    )
    maxTurns: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="Claude Code: most agentic turns before the subagent stops."
    )
    skills: _StringsOrCsv | None = Field(
        default=None, description="Claude Code: skills to preload, a list of skill names."
    )
    hooks: Any = Field(
        default=None,
        description="Claude Code: lifecycle hooks of the subagent (`PreToolUse`, `PostToolUse`, "
        "`Stop`, …), a mapping; anything else (`hooks: []`) makes Claude Code drop the agent.",
        json_schema_extra={"type": "object", "minProperties": 1},
    )
    memory: MemoryScope | None = Field(
        default=None,
        description="Claude Code: persistent memory scope, "
        + ", ".join(f"`{m}`" for m in MEMORY_SCOPES)
        + ".",
    )
    background: bool | Literal["true", "false"] | None = Field(
        default=None, description="Claude Code: `true` to always run as a background task."
    )
    isolation: IsolationMode | None = Field(
        default=None, description="Claude Code: `worktree` to run in a temporary git worktree."
    )
    effort: EffortLevel | int | None = Field(
        default=None,
        description="Claude Code effort level: "
        + ", ".join(f"`{e}`" for e in EFFORT_LEVELS)
        + ", or an integer.",
    )
    initialPrompt: str | None = Field(
        default=None,
        description="Claude Code: a prompt the subagent starts with when it runs as the main "
        "agent.",
    )


KNOWN_KEYS: tuple[str, ...] = tuple(DroidFrontMatter.model_fields)
#: one-line rule per key (hover text), from the model's field descriptions
KEY_RULES: dict[str, str] = {
    k: f.description or "" for k, f in DroidFrontMatter.model_fields.items()
}

#: what a value of each key must look like (DR004 messages)
_EXPECTED: dict[str, str] = {
    "name": "a lowercase name of letters, digits, `-` and `_` (e.g. `code-reviewer`)",
    "description": f"text of at most {DESCRIPTION_MAX} characters",
    "model": "`inherit` or a model id such as `claude-sonnet-4-5-20250929`, `sonnet` or "
    "`custom:my-model`",
    "reasoningEffort": "`low`, `medium` or `high`",
    "tools": "a list of tool names, a comma-separated string of them, or a category "
    "(`read-only`, `edit`, `execute`, `web`, `mcp`)",
    "mcpServers": "a list of MCP server names",
    "version": "a version such as `v2`, `2.1` or `1.0.0`",
    "createdAt": "a date written `YYYY-MM-DD`",
    "updatedAt": "a date written `YYYY-MM-DD`",
    "location": "`project` or `personal`",
    "tags": "a list of strings",
    "color": "one of " + ", ".join(f"`{c}`" for c in COLORS),
    "disallowedTools": "a list of tool names or a comma-separated string",
    "permissionMode": "one of " + ", ".join(f"`{m}`" for m in PERMISSION_MODES),
    "maxTurns": "a whole number of at least 1",
    "skills": "a list of skill names",
    "hooks": "a mapping of hook events (such as `PreToolUse:`) to hooks",
    "memory": "`user`, `project` or `local`",
    "background": "`true` or `false`",
    "initialPrompt": "text",
    "isolation": "`worktree`",
    "effort": "one of " + ", ".join(f"`{e}`" for e in EFFORT_LEVELS) + ", or an integer",
}
_EXPECTED_ITEM: dict[str, str] = {
    "tools": "a tool name",
    "disallowedTools": "a tool name",
    "tags": "text",
    "skills": "a skill name",
    "mcpServers": "an MCP server name",
}

#: keys of other formats that mean a droid key
_KEY_ALIASES = {
    "allowed-tools": "tools",
    "allowedtools": "tools",
    "allowed_tools": "tools",
    "disallowed-tools": "disallowedTools",
    "model_name": "model",
    "reasoning_effort": "reasoningEffort",
    "reasoning-effort": "reasoningEffort",
    "created_at": "createdAt",
    "updated_at": "updatedAt",
    "mcp_servers": "mcpServers",
    "max_turns": "maxTurns",
    "permission_mode": "permissionMode",
}


def droid_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of droid front matter, from :class:`DroidFrontMatter`."""
    schema = DroidFrontMatter.model_json_schema()
    properties = {}
    for key, prop in schema.get("properties", {}).items():
        prop = {
            k: v for k, v in prop.items() if k != "title" and not (k == "default" and v is None)
        }
        properties[key] = prop
    out: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Droid front matter",
        "description": "YAML front matter of a Factory droid (.factory/droids/*.md) or a Claude "
        "Code subagent (.claude/agents/*.md). Other keys are allowed; taskdroid hints them.",
        "type": "object",
        "properties": properties,
        "required": list(schema.get("required", [])),
        "additionalProperties": True,
    }
    if "$defs" in schema:
        out["$defs"] = schema["$defs"]
    return out


# -- the document ----------------------------------------------------------------------------------


@dataclass(slots=True)
class DroidDocument:
    path: str
    flavor: Flavor
    name: str | None = None
    #: the range of the name's value
    name_range: Range | None = None
    description: str | None = None
    model: str | None = None
    #: tool entries as written (``Bash(git diff:*)`` kept whole), from a list or a string
    tools: list[str] = field(default_factory=list)
    version: str | None = None
    front_matter: dict[str, Any] = field(default_factory=dict)
    key_ranges: dict[str, Range] = field(default_factory=dict)
    value_ranges: dict[str, Range] = field(default_factory=dict)
    #: list items, and the entries of a comma-separated ``tools`` string
    item_ranges: dict[str, list[Range]] = field(default_factory=dict)
    front_matter_range: Range | None = None
    body_start_line: int = 0
    #: the diagnostics found while parsing; :attr:`diagnostics` adds the front matter checks
    found: list[Diagnostic] = field(default_factory=list)
    #: the front matter checks, not run yet: they validate with pydantic, whose first use in a
    #: process costs ~30 ms (it imports importlib.metadata to look for plugins), and a task
    #: file's first diagnostics need only the droids' names, tools and other fields, which
    #: :func:`parse_droid` fills at once
    pending: _Checker | None = field(default=None, repr=False, compare=False)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        """The file-local diagnostics, sorted (the front matter checks run on the first read)."""
        checker = self.pending
        if checker is not None:
            # a new list, assigned whole: a concurrent reader never sees a partial one
            self.found = checker.check(self.found)
            self.pending = None
        return self.found


def flavor_of(path: str) -> Flavor:
    """``factory`` under ``.factory/droids``, ``claude`` under ``.claude/agents``, else ``other``."""
    p = "/" + path.replace("\\", "/")
    f = p.rfind("/.factory/droids/")
    c = p.rfind("/.claude/agents/")
    if f < 0 and c < 0:
        return "other"
    return "factory" if f > c else "claude"


def _stem(path: str) -> str:
    base = re.split(r"[\\/]", path)[-1]
    root, ext = os.path.splitext(base)
    return root if ext.lower() == ".md" else base


def looks_like_droid(text: str) -> bool:
    """Front matter that is a mapping with ``name`` and ``description`` (classification by
    content)."""
    try:
        data = parse_front_matter(text).data
    except Exception:  # pragma: no cover - parse_front_matter does not raise
        return False
    return isinstance(data, dict) and "name" in data and "description" in data


def parse_droid(text: str, path: str, settings: Settings) -> DroidDocument:
    """Parse a droid file and produce its file-local diagnostics. Never raises on bad input."""
    doc = DroidDocument(path=path, flavor=flavor_of(path))
    fm = parse_front_matter(text)
    lines = split_lines(text)
    doc.found.extend(fm.diagnostics)
    if not fm.present:
        # docs/language.md §A5/§A10: the whole first line, and DR001 alone
        end = len(lines[0]) if lines else 0
        doc.found.append(
            diag(
                "DR001",
                Range.of(0, 0, end),
                "droid file has no front matter — start it with a `---` line, `name:` and "
                "`description:` keys, and another `---` line",
                data={"fix": "add-front-matter", "name": _suggested_name(path)},
            )
        )
        return doc
    doc.front_matter_range = fm.range
    doc.body_start_line = fm.body_start_line
    if fm.closed and not _has_body(lines, fm.body_start_line):
        doc.found.append(
            diag(
                "DR010",
                Range.of(fm.end_line or 0, 0, len(lines[fm.end_line or 0])),
                "droid has no prompt after the front matter — the body is the droid's instructions",
            )
        )
    if fm.data is not None:
        checker = _Checker(doc, fm, lines, settings)
        checker.fill()
        doc.pending = checker
    doc.found.sort(key=Diagnostic.sort_key)
    return doc


def _has_body(lines: list[str], start: int) -> bool:
    return any(line.strip() for line in lines[start:])


def _suggested_name(path: str) -> str:
    stem = _stem(path).lower()
    name = re.sub(r"[^a-z0-9_-]+", "-", stem).strip("-_")
    return name or "my-droid"


# -- values in messages ----------------------------------------------------------------------------


def _short(text: str, limit: int = 40) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _found(value: Any) -> str:
    """How a value reads in a message: "the number `2.0`", "a list", …"""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return f"`{'true' if value else 'false'}` (a yes/no value)"
    if isinstance(value, int | float):
        return f"the number `{value}`"
    if isinstance(value, str):
        return f"`{_short(value)}`"
    if isinstance(value, datetime):
        return f"a date with a time (`{value.isoformat(sep=' ')}`)"
    if isinstance(value, date):
        return f"the date `{value.isoformat()}`"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping (nested keys)"
    return f"a {type(value).__name__} value"


# -- the checks ------------------------------------------------------------------------------------

_TOOL_WITH_PATTERN = re.compile(r"^([A-Za-z_][\w-]*)\s*\((.*)\)$", re.DOTALL)


def tool_base_name(entry: str) -> str:
    """``Bash(git diff:*)`` → ``Bash``; other entries unchanged (stripped)."""
    entry = entry.strip()
    m = _TOOL_WITH_PATTERN.match(entry)
    return m.group(1) if m else entry


def split_tools(value: str) -> list[tuple[str, int]]:
    """Comma-separated entries of a string with their offsets; commas inside ``(…)`` do not
    split. Empty entries are dropped."""
    out: list[tuple[str, int]] = []
    depth, start = 0, 0
    for i, ch in enumerate(value + ","):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif ch == "," and (depth == 0 or i == len(value)):
            piece = value[start:i]
            stripped = piece.strip()
            if stripped:
                out.append((stripped, start + len(piece) - len(piece.lstrip())))
            start = i + 1
    return out


class _Checker:
    """File-local checks on parsed front matter (DR003–DR006, DR008, DR009, DR011, DR012)."""

    def __init__(
        self, doc: DroidDocument, fm: FrontMatter, lines: list[str], settings: Settings
    ) -> None:
        self.doc = doc
        self.fm = fm
        self.lines = lines
        self.settings = settings
        self.data: dict[str, Any] = fm.data or {}
        self.invalid: set[str] = set()
        self.out: list[Diagnostic] = []

    # helpers
    def add(self, d: Diagnostic) -> None:
        self.out.append(d)

    def value_range(self, key: str) -> Range:
        rng = self.fm.value_ranges.get(key)
        if rng is None or rng.start == rng.end:
            return self.fm.key_ranges.get(key, self.fm.open_range or Range.of(0, 0, 3))
        return rng

    def item_range(self, key: str, index: int) -> Range:
        items = self.doc.item_ranges.get(key) or []
        return items[index] if 0 <= index < len(items) else self.value_range(key)

    def fill(self) -> None:
        """The document's fields (what task files and features read), at parse time."""
        doc, data = self.doc, self.data
        doc.front_matter = data
        doc.key_ranges = dict(self.fm.key_ranges)
        doc.value_ranges = dict(self.fm.value_ranges)
        doc.item_ranges = {k: list(v) for k, v in self.fm.item_ranges.items()}
        self.collect_tools()
        self.fill_fields()

    def check(self, found: list[Diagnostic]) -> list[Diagnostic]:
        """``found`` and the diagnostics of the checks, sorted, as a new list (run once)."""
        self.out = list(found)
        self.validate()
        self.check_required()
        self.check_name_matches_file()
        self.check_unknown_keys()
        self.check_tools()
        self.check_dates()
        self.out.sort(key=Diagnostic.sort_key)
        return self.out

    # tools
    def collect_tools(self) -> None:
        value = self.data.get("tools")
        if isinstance(value, list):
            self.doc.tools = [v.strip() for v in value if isinstance(v, str) and v.strip()]
        elif isinstance(value, str):
            entries = split_tools(value)
            self.doc.tools = [e for e, _ in entries]
            ranges = self._string_entry_ranges("tools", value, entries)
            if ranges is not None:
                self.doc.item_ranges["tools"] = ranges

    def _string_entry_ranges(
        self, key: str, value: str, entries: list[tuple[str, int]]
    ) -> list[Range] | None:
        """Ranges of the entries of a comma-separated string value, found in the source."""
        rng = self.fm.value_ranges.get(key)
        if rng is None:
            return None
        raw = self._source(rng)
        starts = [0] + [i + 1 for i, ch in enumerate(raw) if ch == "\n"]
        out: list[Range] = []
        pos = 0
        for entry, _ in entries:
            at = raw.find(entry, pos)
            if at < 0:
                return None
            out.append(
                Range(self._pos_in(rng, starts, at), self._pos_in(rng, starts, at + len(entry)))
            )
            pos = at + len(entry)
        return out

    def _source(self, rng: Range) -> str:
        lines = self.lines[rng.start.line : rng.end.line + 1]
        if not lines:
            return ""
        if len(lines) == 1:
            return lines[0][rng.start.character : rng.end.character]
        lines[0] = lines[0][rng.start.character :]
        lines[-1] = lines[-1][: rng.end.character]
        return "\n".join(lines)

    @staticmethod
    def _pos_in(rng: Range, starts: list[int], offset: int) -> Position:
        line = bisect.bisect_right(starts, offset) - 1
        col = offset - starts[line] + (rng.start.character if line == 0 else 0)
        return Position(rng.start.line + line, col)

    # DR004
    def validate(self) -> None:
        known = {k: v for k, v in self.data.items() if k in KNOWN_KEYS}
        effort = known.get("reasoningEffort")
        if effort is False or effort in REASONING_EFFORTS_UNDOCUMENTED:
            del known["reasoningEffort"]
            shown = "off" if effort is False else effort
            self.add(
                diag(
                    "DR004",
                    self.value_range("reasoningEffort"),
                    f"reasoningEffort: `{shown}` is taken by the Factory CLI but droid files "
                    "document only `low`, `medium` and `high`",
                    severity=Severity.HINT,
                )
            )
        self.check_hooks()
        try:
            DroidFrontMatter.model_validate(known)
        except ValidationError as exc:
            self.report_validation(exc)

    def report_validation(self, exc: ValidationError) -> None:
        by_key: dict[str, list[ErrorDetails]] = {}
        for err in exc.errors(include_url=False):
            loc = err.get("loc") or ()
            if not loc or err.get("type") == "missing":
                continue
            by_key.setdefault(str(loc[0]), []).append(err)
        for key, errors in by_key.items():
            self.invalid.add(key)
            value = self.data.get(key)
            item_errors = [e for e in errors if _item_index(e) is not None]
            if isinstance(value, list) and item_errors:
                seen: set[int] = set()
                for err in item_errors:
                    index = _item_index(err)
                    if index is None or index in seen or index >= len(value):
                        continue
                    seen.add(index)
                    self.report_item(key, index, value[index])
            else:
                self.report_value(key, value, errors)

    def report_item(self, key: str, index: int, item: Any) -> None:
        expected = _EXPECTED_ITEM.get(key, "text")
        self.add(
            diag(
                "DR004",
                self.item_range(key, index),
                f"{key}: item {index + 1} is {_found(item)}; expected {expected}",
            )
        )

    def report_value(self, key: str, value: Any, errors: list[ErrorDetails]) -> None:
        types = {e.get("type") for e in errors}
        rng = self.value_range(key)
        if key == "description" and "string_too_long" in types and isinstance(value, str):
            self.report_long_description(value, rng)
            return
        if key == "name" and "string_pattern_mismatch" in types and isinstance(value, str):
            message = (
                f"name: `{_short(value)}` is not a valid droid name — use lowercase letters, "
                "digits, `-` and `_`, starting with a letter or digit"
            )
            self.add(diag("DR004", rng, message, data={"suggestion": _suggested_name(value)}))
            return
        detail = ""
        for e in errors:
            if e.get("type") == "value_error":
                detail = f" ({(e.get('ctx') or {}).get('error', '')})"
        message = (
            f"{key}: found {_found(value)}{detail}; expected {_EXPECTED.get(key, 'another value')}"
        )
        # docs/language.md §A9/§B: version is informational (a warning); an unknown color a hint
        severity = {"version": Severity.WARNING, "color": Severity.HINT}.get(key)
        self.add(diag("DR004", rng, message, severity=severity))

    # DR013
    def check_hooks(self) -> None:
        """``hooks`` that is not a non-empty mapping makes Claude Code drop the agent without a
        word (docs/language.md §B): DR013, not DR004."""
        if "hooks" not in self.data:
            return
        value = self.data["hooks"]
        if isinstance(value, dict) and value:
            return
        self.invalid.add("hooks")
        what = "an empty mapping" if isinstance(value, dict) else _found(value)
        self.add(
            diag(
                "DR013",
                self.value_range("hooks"),
                f"hooks: found {what} — Claude Code silently drops an agent whose `hooks` is not "
                "a mapping of hook events (such as `PreToolUse:`); remove the key or fill it in",
            )
        )

    def report_long_description(self, value: str, rng: Range) -> None:
        n = len(value)
        if self.doc.flavor == "claude":
            message = (
                f"description is {n} characters long — Factory droids allow at most "
                f"{DESCRIPTION_MAX} (Claude Code accepts longer ones)"
            )
            self.add(diag("DR004", rng, message, severity=Severity.HINT))
            return
        message = (
            f"description is {n} characters long; at most {DESCRIPTION_MAX} are allowed — "
            "shorten it and move details into the prompt body"
        )
        self.add(diag("DR004", rng, message))

    # fields
    def fill_fields(self) -> None:
        doc, data = self.doc, self.data
        name = data.get("name")
        if isinstance(name, str):
            doc.name = name
            doc.name_range = self.value_range("name")
        for key in ("description", "model", "version"):
            value = data.get(key)
            if isinstance(value, str):
                setattr(doc, key, value)

    # DR003, DR011
    def check_required(self) -> None:
        opening = self.fm.open_range or Range.of(0, 0, 3)
        if "name" not in self.data:
            self.add(
                diag(
                    "DR003",
                    opening,
                    "front matter has no `name` — add `name: "
                    f"{_suggested_name(self.doc.path)}` (droids are found by name)",
                    data={"fix": "add-name", "name": _suggested_name(self.doc.path)},
                )
            )
        description = self.data.get("description", None)
        if description is None or (isinstance(description, str) and not description.strip()):
            where = self.fm.key_ranges.get("description", opening)
            what = "an empty `description`" if "description" in self.data else "no `description`"
            self.add(
                diag(
                    "DR011",
                    where,
                    f"front matter has {what} — say what the droid does and when to use it "
                    "(Claude Code requires one, Factory shows it)",
                    data={"fix": "add-description"},
                )
            )

    # DR006
    def check_name_matches_file(self) -> None:
        doc = self.doc
        if doc.name is None or "name" in self.invalid or not doc.path:
            return
        stem = _stem(doc.path)
        if doc.name == stem:
            return
        base = re.split(r"[\\/]", doc.path)[-1]
        self.add(
            diag(
                "DR006",
                doc.name_range or self.value_range("name"),
                f"name `{_short(doc.name)}` differs from the file name `{base}` — rename one so "
                "that they match",
                data={"expected": stem, "name": doc.name},
            )
        )

    # DR008
    def check_unknown_keys(self) -> None:
        for key, rng in self.fm.key_ranges.items():
            if key in KNOWN_KEYS:
                continue
            suggestion = _suggest_key(key)
            if suggestion:
                message = f"`{_short(key)}` is not a droid front matter key — did you mean `{suggestion}`?"
            else:
                message = f"`{_short(key)}` is not a droid front matter key taskdroid knows"
            data = {"suggestion": suggestion} if suggestion else None
            self.add(diag("DR008", rng, message, data=data))

    # DR005, DR012
    def check_tools(self) -> None:
        if "tools" in self.invalid and not isinstance(self.data.get("tools"), list):
            return
        value = self.data.get("tools")
        if isinstance(value, list):
            entries = [(i, v.strip()) for i, v in enumerate(value) if isinstance(v, str)]
        elif isinstance(value, str):
            entries = list(enumerate(e for e, _ in split_tools(value)))
        else:
            return
        severity = Severity.HINT if self.doc.flavor == "claude" else Severity.WARNING
        first: dict[str, int] = {}
        noop = self.doc.flavor == "factory"
        for index, entry in entries:
            if not entry:
                continue
            rng = self.item_range("tools", index)
            if entry in first:
                self.add(
                    diag(
                        "DR012",
                        rng,
                        f"tools: `{_short(entry)}` is listed twice",
                        related=(
                            Related(
                                None, self.item_range("tools", first[entry]), "first listed here"
                            ),
                        ),
                        data={"fix": "remove-duplicate"},
                    )
                )
                continue
            first[entry] = index
            if noop and tool_base_name(entry) in FACTORY_SUBAGENT_NOOP:
                message = (
                    f"tools: `{tool_base_name(entry)}` has no effect inside a droid run as a "
                    "subagent — only the main session can use it"
                )
                self.add(diag("DR005", rng, message, severity=Severity.HINT))
                continue
            problem = self.tool_problem(entry)
            if problem is not None:
                message, suggestion = problem
                data = {"suggestion": suggestion} if suggestion else None
                self.add(diag("DR005", rng, f"tools: {message}", severity=severity, data=data))

    def tool_problem(self, entry: str) -> tuple[str, str | None] | None:
        """``(message, suggestion)`` when a tool entry is not known, else ``None``."""
        flavor = self.doc.flavor
        extra = set(self.settings.extraTools)
        if entry in extra or entry == "*" or entry.startswith("mcp__"):
            return None
        if entry in TOOL_CATEGORIES and flavor != "claude":
            return None
        base = tool_base_name(entry)
        if base in extra:
            return None
        if flavor == "factory":
            known: frozenset[str] = _ALL_FACTORY
        elif flavor == "claude":
            known = _ALL_CLAUDE
        else:
            known = _ALL_FACTORY | _ALL_CLAUDE
        if base in known:
            return None
        if flavor == "factory" and base in _ALL_CLAUDE:
            other = _FACTORY_NAME_OF.get(base)
            if other:
                return f"`{base}` is a Claude Code tool — Factory droids call it `{other}`", other
            return f"`{base}` is a Claude Code tool, not a Factory droid tool", None
        if flavor == "claude" and base in TOOL_CATEGORIES:
            return f"`{base}` is a Factory tool category; Claude Code expects tool names", None
        if flavor == "claude" and base in _ALL_FACTORY:
            other = _CLAUDE_NAME_OF.get(base)
            if other:
                return f"`{base}` is a Factory droid tool — Claude Code calls it `{other}`", other
            return f"`{base}` is a Factory droid tool, not a Claude Code tool", None
        candidates = sorted(known | extra) + (list(TOOL_CATEGORIES) if flavor != "claude" else [])
        suggestion = closest(base, candidates)
        text = f"`{_short(entry)}` is not a known tool"
        if suggestion:
            case = " (tool names are case-sensitive)" if suggestion.lower() == base.lower() else ""
            return f"{text} — did you mean `{suggestion}`?{case}", suggestion
        return f"{text} (if it is yours, add it to `taskdroid.extraTools`)", None

    # DR009
    def check_dates(self) -> None:
        if {"createdAt", "updatedAt"} & self.invalid:
            return
        created = _as_date(self.data.get("createdAt"))
        updated = _as_date(self.data.get("updatedAt"))
        if created is None or updated is None or updated >= created:
            return
        self.add(
            diag(
                "DR009",
                self.value_range("updatedAt"),
                f"updatedAt {updated.isoformat()} is earlier than createdAt {created.isoformat()}",
                related=(Related(None, self.value_range("createdAt"), "createdAt"),),
            )
        )


def _item_index(err: ErrorDetails) -> int | None:
    for part in (err.get("loc") or ())[1:]:
        if isinstance(part, int):
            return part
    return None


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value) if re.match(DATE_PATTERN, value) else None
        except ValueError:
            return None
    return None


def _normal_key(key: str) -> str:
    return re.sub(r"[-_\s]", "", key).lower()


def _suggest_key(key: str) -> str | None:
    if key in _KEY_ALIASES:
        return _KEY_ALIASES[key]
    lowered = key.lower()
    if lowered in _KEY_ALIASES:
        return _KEY_ALIASES[lowered]
    normal = _normal_key(key)
    for known in KNOWN_KEYS:
        if _normal_key(known) == normal:
            return known
    return closest(key, KNOWN_KEYS)


# -- DR007 -----------------------------------------------------------------------------------------


def _tool_group(flavor: Flavor) -> str:
    return "claude" if flavor == "claude" else "factory"


def duplicate_droid_diagnostics(
    docs: Sequence[DroidDocument], is_project: Callable[[str], bool] | None = None
) -> dict[str, list[Diagnostic]]:
    """DR007: project droid files of the same tool sharing a name, per path.

    Factory group: ``.factory/droids`` and other ``droids/`` folders; Claude group:
    ``.claude/agents``. A Factory droid and a Claude Code agent may share a name, and personal
    droids (``is_project(path)`` false) never clash.
    """
    groups: dict[tuple[str, str], list[DroidDocument]] = {}
    seen: set[str] = set()
    for doc in docs:
        if doc.name is None or doc.name_range is None or doc.path in seen:
            continue
        if is_project is not None and not is_project(doc.path):
            continue
        seen.add(doc.path)
        groups.setdefault((_tool_group(doc.flavor), doc.name), []).append(doc)
    out: dict[str, list[Diagnostic]] = {}
    for (group, name), members in groups.items():
        if len(members) < 2:
            continue
        tool = "Claude Code agent" if group == "claude" else "Factory droid"
        for doc in members:
            others = [o for o in members if o is not doc]
            assert doc.name_range is not None
            related = tuple(
                Related(o.path, o.name_range, f"also named `{name}`")
                for o in others
                if o.name_range is not None
            )
            where = ", ".join(o.path for o in others)
            out.setdefault(doc.path, []).append(
                diag(
                    "DR007",
                    doc.name_range,
                    f"another {tool} is also named `{name}` ({where}) — a reference to it "
                    "cannot tell them apart; rename one",
                    related=related,
                )
            )
    return out
