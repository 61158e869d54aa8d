"""Droid suggestion and fit (docs/language.md §11 "Droid suggestion and fit") — pure, no I/O.

**What a droid can do.** :func:`capabilities` reads a droid's front matter: whether its tools can
edit files and run commands, and why (the reason shown by TD026 and by completion). A droid with
no ``tools`` key inherits every tool; ``tools: read-only`` (a Factory category) or a list with no
edit tool cannot edit; a Claude Code agent with ``permissionMode: plan`` cannot edit either, nor
one whose ``disallowedTools`` takes away every edit tool it would have.

**Which droid fits a task.** :class:`DroidRanker` is a BM25F index of the droids of a workspace:
each droid is a document of three weighted fields (its name, its description, its tools and what
they can do), built once per change of the workspace's droids
(:meth:`taskdroid.core.workspace.Workspace.droid_ranker`). Everything that does not depend on
the task (term frequencies, length normalisation, saturation, IDF) is computed then, so ranking a
task costs one dictionary look-up per droid and query term. A task is a query of weighted terms
(:func:`task_terms`): its title, the values of its fields, and its Files — the path's folders and
file name, and the extension with the words it stands for (``.sql`` → sql, database).

Terms come from :func:`tokenize`: lower case, camelCase / kebab-case / snake_case and paths split,
stop words dropped, a light stemmer (``migrations`` → ``migration``, ``testing`` → ``test``).
No network, no model: plain text retrieval, explainable — :meth:`DroidRanker.rank` returns each
droid's score with the matching words behind it, and :func:`reason` turns them into the text
completion and the quick fix show ("description mentions migrations, schema; has Execute").
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from taskdroid.core.checks.task_local import file_entries
from taskdroid.core.droid_vocab import TOOL_CATEGORIES

if TYPE_CHECKING:
    from taskdroid.core.droids import DroidDocument
    from taskdroid.core.model import Task

__all__ = [
    "EDIT_TOOLS",
    "EXECUTE_TOOLS",
    "Capabilities",
    "DroidRanker",
    "Match",
    "Suggestion",
    "capabilities",
    "reason",
    "stem",
    "suggest",
    "task_terms",
    "tokenize",
]

#: tools that change files: Factory (Create, Edit, MultiEdit, ApplyPatch) and Claude Code (Edit,
#: Write, MultiEdit, NotebookEdit)
EDIT_TOOLS: frozenset[str] = frozenset(
    {"Edit", "Create", "MultiEdit", "ApplyPatch", "Write", "NotebookEdit"}
)
#: the tools that edit any file, per kind of droid file (NotebookEdit edits notebooks only)
_FILE_EDIT_TOOLS: dict[str, frozenset[str]] = {
    "factory": frozenset({"Create", "Edit", "MultiEdit", "ApplyPatch"}),
    "claude": frozenset({"Edit", "Write", "MultiEdit"}),
    "other": frozenset({"Create", "Edit", "MultiEdit", "ApplyPatch", "Write"}),
}
#: tools that run commands: Factory's Execute, Claude Code's Bash and PowerShell
EXECUTE_TOOLS: frozenset[str] = frozenset({"Execute", "Bash", "PowerShell"})
#: an MCP tool whose own name says it writes (``mcp__fs__write_file``)
_MCP_WRITE = re.compile(r"(?:^|_)(?:write|edit|create|patch|replace|move|delete|update)(?:_|$)")
_WITH_PATTERN = re.compile(r"^([A-Za-z_][\w-]*)\s*\(")


# -- capabilities ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a droid's tools allow. ``can_edit`` is None when taskdroid cannot tell (a tool it does
    not know, an invalid ``tools`` value)."""

    can_edit: bool | None
    can_execute: bool | None
    #: why it cannot edit ("`tools: read-only`", "its tools (Read, Grep) include no edit tool")
    why_not: str = ""
    #: the tool that runs commands, for the reason text ("Execute", "Bash"), or "" when none/all
    execute_tool: str = ""
    #: no ``tools`` key: every tool
    inherits_all: bool = False


def _base(entry: str) -> str:
    m = _WITH_PATTERN.match(entry.strip())
    return m.group(1) if m else entry.strip()


def _shown(entries: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(entries[:limit])
    return shown + (", …" if len(entries) > limit else "")


def capabilities(droid: DroidDocument, extra_tools: Iterable[str] = ()) -> Capabilities:
    """What ``droid`` can do to a task's files (docs/language.md §11). ``extra_tools`` are the
    user's ``taskdroid.extraTools``: tools whose effect taskdroid cannot know."""
    fm = droid.front_matter
    if fm.get("permissionMode") == "plan":
        return Capabilities(False, False, "`permissionMode: plan` (read-only planning)")
    disallowed = _disallowed(fm.get("disallowedTools"))
    if "tools" not in fm or fm.get("tools") is None:
        if disallowed and disallowed >= _FILE_EDIT_TOOLS[droid.flavor]:
            return Capabilities(False, None, "`disallowedTools` takes away every edit tool")
        return Capabilities(True, True, "", "", inherits_all=True)
    raw = fm.get("tools")
    if not isinstance(raw, list | str):
        return Capabilities(None, None)
    entries = [e for e in droid.tools if e not in disallowed and _base(e) not in disallowed]
    extra = set(extra_tools)
    if "*" in entries:
        return Capabilities(True, True, "", "", inherits_all=True)
    can_edit = False
    unknown = False
    execute = ""
    for e in entries:
        base = _base(e)
        if (
            base in EDIT_TOOLS
            or e == "edit"
            or (base.startswith("mcp__") and _MCP_WRITE.search(base.rsplit("__", 1)[-1].lower()))
        ):
            can_edit = True
        elif e in extra or base in extra:
            unknown = True
        if base in EXECUTE_TOOLS or e == "execute":
            execute = execute or base
    if can_edit:
        return Capabilities(True, bool(execute), "", execute)
    if unknown:
        return Capabilities(None, bool(execute), "", execute)
    if [e.strip() for e in entries] == ["read-only"]:
        why = "`tools: read-only`"
    elif not entries:
        why = "it has no tools" if not droid.tools else "`disallowedTools` takes away its tools"
    else:
        cats = [e for e in entries if e in TOOL_CATEGORIES]
        kind = "tool categories" if len(cats) == len(entries) else "tools"
        why = f"its {kind} ({_shown(entries)}) include no edit tool"
    return Capabilities(False, bool(execute), why, execute)


def _disallowed(value: object) -> frozenset[str]:
    if isinstance(value, str):
        items: list[object] = [v for v in value.split(",")]
    elif isinstance(value, list):
        items = value
    else:
        return frozenset()
    return frozenset(_base(v) for v in items if isinstance(v, str) and v.strip())


# -- terms ----------------------------------------------------------------------------------------

_STOP = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "has",
    "have", "if", "in", "into", "is", "it", "its", "not", "of", "on", "or", "so", "than", "that",
    "the", "their", "then", "there", "these", "this", "to", "was", "were", "when", "which", "while",
    "will", "with", "within", "without", "you", "your", "all", "any", "each", "every", "other",
    "only", "also", "use", "uses", "used", "using", "via", "per", "new", "add", "should", "must",
    "may", "make", "makes", "task", "tasks", "file", "files", "todo", "etc", "md",
))  # fmt: skip
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*|\d+")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
#: what a file extension says about the work (the extension itself is a term too)
_EXTENSION_WORDS: dict[str, str] = {
    "py": "python",
    "ts": "typescript",
    "tsx": "typescript react frontend component",
    "js": "javascript",
    "jsx": "javascript react frontend component",
    "vue": "vue frontend component",
    "svelte": "svelte frontend component",
    "css": "css style frontend",
    "scss": "css style frontend",
    "html": "html frontend",
    "sql": "sql database",
    "prisma": "prisma database schema",
    "md": "documentation docs",
    "mdx": "documentation docs",
    "rst": "documentation docs",
    "go": "go golang",
    "rs": "rust",
    "java": "java",
    "kt": "kotlin",
    "rb": "ruby",
    "sh": "shell script",
    "yml": "yaml config",
    "yaml": "yaml config",
    "toml": "config",
    "json": "json",
    "tf": "terraform infrastructure",
    "dockerfile": "docker container",
}
_TEST_PATH = re.compile(r"(?:^|[/._-])(?:tests?|specs?|__tests__)(?:[/._-]|$)", re.I)


def stem(word: str) -> str:
    """A light stemmer: plural ``s``/``es``/``ies``, ``ing``, ``ed`` and ``er`` endings
    (``migrations`` → ``migration``, ``testing`` → ``test``, ``writer`` → ``write``)."""
    w = word
    if len(w) <= 3:
        return w
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith(("sses", "xes", "ches", "shes")):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    for suffix in ("ing", "ed", "er"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: -len(suffix)]
            if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz":
                w = w[:-1]  # running → run, mapped → map
            elif suffix != "er" and w.endswith(("at", "bl", "iz", "ir", "it")):
                w += "e"  # migrated → migrate, created → create
            break
    if w.endswith("e") and len(w) > 4:
        w = w[:-1]  # migrate / migration meet below
    if w.endswith("ation") and len(w) > 7:
        w = w[:-5]  # migration → migr, validation → valid
    elif w.endswith("at") and len(w) > 5:
        w = w[:-2]  # migrat(e) → migr
    return w


def tokenize(text: str) -> list[tuple[str, str]]:
    """``(term, word as written in lower case)`` of each word of ``text``: camelCase, kebab-case,
    snake_case and paths split, stop words and one-letter words dropped."""
    out: list[tuple[str, str]] = []
    for m in _WORD.finditer(text):
        for part in _CAMEL.findall(m.group()):
            w = part.lower()
            if len(w) < 2 or w in _STOP or w.isdigit():
                continue
            out.append((stem(w), w))
    return out


def path_terms(path: str) -> list[tuple[str, str]]:
    """The terms of a Files entry: its folders and file name, its extension and the words the
    extension stands for, and ``test`` for a test file."""
    p = path.strip().strip("`").replace("\\", "/")
    out = tokenize(p)
    base = p.rsplit("/", 1)[-1]
    ext = base.rsplit(".", 1)[-1].lower() if "." in base.strip(".") else base.lower()
    for w in _EXTENSION_WORDS.get(ext, "").split():
        out.append((stem(w), w))
    if _TEST_PATH.search(p):
        out.append((stem("test"), "test"))
    return out


#: query weights: the title says most, the Files say what changes, the other fields add detail
TITLE_WEIGHT = 2.0
FILES_WEIGHT = 1.5
FIELD_WEIGHT = 1.0
#: fields whose values say nothing about the work
_SKIP_FIELDS = frozenset(
    {
        "Droid", "Dependencies", "Completed", "In Progress", "Started", "Attempted", "Status",
        "Priority", "Last Run", "Model", "Effort", "Progress",
    }
)  # fmt: skip


def task_terms(task: Task, files: Iterable[str] = ()) -> dict[str, float]:
    """The weighted query terms of a task: its title, its fields' values (and nested items) other
    than Droid, Dependencies, timestamps and the like, and ``files`` (its Files entries)."""
    q: dict[str, float] = {}

    def add(pairs: list[tuple[str, str]], weight: float) -> None:
        for term, _w in pairs:
            q[term] = q.get(term, 0.0) + weight

    add(tokenize(task.title), TITLE_WEIGHT)
    for f in task.fields:
        key = f.canonical or f.key
        if key in _SKIP_FIELDS or key == "Files":
            continue
        add(tokenize(f.value), FIELD_WEIGHT)
        for text, _span in f.items:
            add(tokenize(text), FIELD_WEIGHT)
    for path in files:
        add(path_terms(path), FILES_WEIGHT)
    return q


# -- the index -------------------------------------------------------------------------------------

#: droid field weights (BM25F): a word in the name says most
NAME_WEIGHT = 3.0
DESCRIPTION_WEIGHT = 1.0
TOOLS_WEIGHT = 0.7
K1 = 1.2
B = 0.75
_FIELDS = ("name", "description", "tools")
_WEIGHTS = {"name": NAME_WEIGHT, "description": DESCRIPTION_WEIGHT, "tools": TOOLS_WEIGHT}


@dataclass(frozen=True, slots=True)
class Match:
    """One droid ranked for a task: its score and the query terms that matched, best first, each
    with the droid field it matched in and the word as the droid writes it."""

    name: str
    score: float
    terms: tuple[tuple[str, str, str], ...]  #: (term, field, word)
    caps: Capabilities


@dataclass(slots=True)
class _Entry:
    name: str
    caps: Capabilities
    #: term -> its precomputed BM25F weight (idf × saturated weighted frequency)
    weight: dict[str, float] = field(default_factory=dict)
    #: term -> (the field that gave it most, the word as written there)
    where: dict[str, tuple[str, str]] = field(default_factory=dict)


def _droid_fields(d: DroidDocument, caps: Capabilities) -> dict[str, list[tuple[str, str]]]:
    tools_text = " ".join(_base(t) for t in d.tools if not t.startswith("mcp__"))
    tools = tokenize(tools_text)
    if caps.inherits_all or caps.can_edit:
        tools += [(stem(w), w) for w in ("edit", "write")]
    if caps.inherits_all or caps.can_execute:
        tools += [(stem(w), w) for w in ("execute", "run", "command")]
    return {
        "name": tokenize(d.name or ""),
        "description": tokenize(d.description or ""),
        "tools": tools,
    }


class DroidRanker:
    """A BM25F index over droids (built once per change of the workspace's droids)."""

    def __init__(self, droids: Iterable[DroidDocument], extra_tools: Iterable[str] = ()) -> None:
        extra = tuple(extra_tools)
        docs: list[tuple[str, Capabilities, dict[str, list[tuple[str, str]]]]] = []
        for d in droids:
            if not d.name:
                continue
            caps = capabilities(d, extra)
            docs.append((d.name, caps, _droid_fields(d, caps)))
        n = len(docs)
        avg = {
            f: (sum(len(fs[f]) for _n, _c, fs in docs) / n if n else 0.0) or 1.0 for f in _FIELDS
        }
        df: dict[str, int] = {}
        for _n, _c, fs in docs:
            for term in {t for f in _FIELDS for t, _w in fs[f]}:
                df[term] = df.get(term, 0) + 1
        self.entries: list[_Entry] = []
        #: name -> what the droid's tools can do
        self.caps: dict[str, Capabilities] = {name: caps for name, caps, _fs in docs}
        for name, caps, fs in docs:
            entry = _Entry(name, caps)
            tf: dict[str, float] = {}
            best: dict[str, tuple[float, str, str]] = {}
            for f in _FIELDS:
                terms = fs[f]
                norm = 1.0 - B + B * len(terms) / avg[f]
                counts: dict[str, int] = {}
                words: dict[str, str] = {}
                for t, w in terms:
                    counts[t] = counts.get(t, 0) + 1
                    words.setdefault(t, w)
                for t, c in counts.items():
                    part = _WEIGHTS[f] * c / norm
                    tf[t] = tf.get(t, 0.0) + part
                    if t not in best or part > best[t][0]:
                        best[t] = (part, f, words[t])
            for t, x in tf.items():
                idf = math.log(1.0 + (n - df[t] + 0.5) / (df[t] + 0.5))
                entry.weight[t] = idf * x * (K1 + 1.0) / (x + K1)
                entry.where[t] = (best[t][1], best[t][2])
            self.entries.append(entry)
        self._by_name = {e.name: e for e in self.entries}

    def __len__(self) -> int:
        return len(self.entries)

    def rank(self, query: dict[str, float], explain: int = 3) -> list[Match]:
        """Every droid, best first (ties by name); a droid no query term matches scores 0. The
        first ``explain`` carry the matching terms (best first) for :func:`reason`; the others'
        ``terms`` are empty (working them out for every droid costs more than the ranking)."""
        items = list(query.items())
        scored: list[tuple[float, str, _Entry]] = []
        for e in self.entries:
            weight = e.weight
            score = 0.0
            for term, qw in items:
                w = weight.get(term)
                if w:
                    score += qw * w
            scored.append((score, e.name, e))
        scored.sort(key=lambda x: (-x[0], x[1]))
        return [
            Match(name, score, _terms(e, items) if i < explain and score > 0 else (), e.caps)
            for i, (score, name, e) in enumerate(scored)
        ]

    def explained(self, m: Match, query: dict[str, float]) -> Match:
        """``m`` with its matching terms (for a match ``rank`` did not explain)."""
        if m.terms or m.score <= 0:
            return m
        e = self._by_name.get(m.name)
        return replace(m, terms=_terms(e, list(query.items()))) if e is not None else m


def _terms(e: _Entry, items: list[tuple[str, float]]) -> tuple[tuple[str, str, str], ...]:
    hits = sorted(
        ((qw * e.weight[t], t) for t, qw in items if t in e.weight), key=lambda h: (-h[0], h[1])
    )
    return tuple((t, *e.where[t]) for _s, t in hits)


# -- the reason ------------------------------------------------------------------------------------

_FIELD_VERB = {"name": "name matches", "description": "description mentions", "tools": "tools"}


def reason(m: Match, needs_edit: bool = False, limit: int = 3) -> str:
    """Why ``m`` fits: the best matching words by droid field, then what its tools can do
    ("description mentions migrations, schema; has Execute")."""
    parts: list[str] = []
    by_field: dict[str, list[str]] = {}
    for _term, fld, word in m.terms[:limit]:
        if fld == "tools":
            continue  # said by the capability part
        words = by_field.setdefault(fld, [])
        if word not in words:
            words.append(word)
    for fld in ("name", "description"):
        if fld in by_field:
            parts.append(f"{_FIELD_VERB[fld]} {', '.join(by_field[fld])}")
    caps = m.caps
    if caps.inherits_all:
        parts.append("all tools")
    else:
        if caps.can_edit is False:
            parts.append("read-only" if needs_edit else "cannot edit")
        elif caps.can_edit and needs_edit:
            parts.append("can edit")
        if caps.execute_tool:
            parts.append(f"has {caps.execute_tool}")
    return "; ".join(parts) if parts else "no matching words"


# -- suggestions for a task ------------------------------------------------------------------------

#: how many droids completion lists first and the quick fix offers
TOP = 3


@dataclass(frozen=True, slots=True)
class Suggestion:
    name: str
    score: float
    reason: str


def task_files(task: Task) -> list[str]:
    """The entries of a task's Files fields."""
    return [p for f in task.fields if f.canonical == "Files" for p, _span in file_entries(f)]


def suggest(ranker: DroidRanker, task: Task, limit: int = TOP) -> list[Suggestion]:
    """The droids that fit ``task`` best (at most ``limit``, each with a score above 0), with the
    reason; a droid that cannot edit comes after those that can when the task's Files must
    change."""
    files = task_files(task)
    needs_edit = bool(files)
    query = task_terms(task, files)
    matches = [m for m in ranker.rank(query, explain=0) if m.score > 0]
    if needs_edit:
        matches.sort(key=lambda m: m.caps.can_edit is False)  # stable: score order otherwise
    return [
        Suggestion(m.name, m.score, reason(ranker.explained(m, query), needs_edit))
        for m in matches[:limit]
    ]
