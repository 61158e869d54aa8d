"""The task dependency graph as Mermaid or Graphviz DOT text (docs/language.md §9 ``taskdroid graph``).

Nodes are the tasks of the selected files that have an ID or name a dependency, grouped by file
(a Mermaid ``subgraph`` / a DOT ``cluster``), styled by status. Edges run **from a dependency to
the task that depends on it** (``A --> B``: B depends on A, so A comes first); edges on a
dependency cycle are drawn red. A dependency in a file outside the selection is drawn in its own
file group (dashed: "external"); a reference that resolves to nothing is a dashed red "missing"
node. Node IDs are generated (``n<file>_<id>``), so they are always safe for both languages, and
labels are escaped.

The Mermaid text is what goes inside a fenced ```` ```mermaid ```` block; GitHub renders it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from taskdroid.core.document import Located, TaskDocument, normalize_id
from taskdroid.core.inline import plain_title
from taskdroid.core.model import Task
from taskdroid.core.ready import select_task_docs

if TYPE_CHECKING:
    from taskdroid.core.workspace import Workspace

__all__ = ["GraphFormat", "mermaid_quote", "render_graph"]

GraphFormat = Literal["mermaid", "dot"]

_MAX_LABEL = 60
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9_]")

#: status class → (fill, stroke, text colour) — readable on GitHub's light and dark themes
_STYLE: dict[str, tuple[str, str, str]] = {
    "pending": ("#f6f8fa", "#6e7781", "#24292f"),
    "in_progress": ("#ddf4ff", "#0969da", "#0a3069"),
    "completed": ("#dafbe1", "#1a7f37", "#116329"),
    "blocked": ("#ffebe9", "#cf222e", "#82071e"),
    "cancelled": ("#eaeef2", "#8c959f", "#57606a"),
    "unknown": ("#fff8c5", "#9a6700", "#4d2d00"),
    "missing": ("#ffffff", "#cf222e", "#82071e"),
}
_CYCLE_COLOUR = "#cf222e"


@dataclass(slots=True)
class _Node:
    key: str  #: generated, safe node ID
    label: str
    cls: str  #: status class (a key of _STYLE)
    group: int  #: file index, or -1 for missing nodes
    external: bool = False


@dataclass(slots=True)
class _Graph:
    files: list[tuple[str, bool]] = field(default_factory=list)  #: (label, external)
    nodes: dict[tuple, _Node] = field(default_factory=dict)
    edges: list[tuple[str, str, bool]] = field(default_factory=list)  #: (from, to, on a cycle)


def _status_class(task: Task) -> str:
    return task.status.value if task.status is not None else "unknown"


def _label(task: Task) -> str:
    title = plain_title(task.title)
    if len(title) > _MAX_LABEL:
        title = title[: _MAX_LABEL - 1].rstrip() + "…"
    text = f"{task.id} {title}" if task.id else title
    return text.strip() or "(untitled task)"


class _Builder:
    def __init__(self, ws: Workspace, show: Callable[[str], str]) -> None:
        self.ws = ws
        self.show = show
        self.g = _Graph()
        self.file_index: dict[str, int] = {}
        self.keys: set[str] = set()
        self.selected: set[str] = set()
        self.scc = ws.dependency_graph().scc_of

    def file(self, path: str) -> int:
        i = self.file_index.get(path)
        if i is None:
            i = len(self.g.files)
            self.file_index[path] = i
            self.g.files.append((self.show(path), path not in self.selected))
        return i

    def node(self, doc: TaskDocument, loc: Located) -> _Node:
        key = (doc.path, loc.line)
        hit = self.g.nodes.get(key)
        if hit is not None:
            return hit
        fi = self.file(doc.path)
        task = loc.task
        base = f"n{fi}_" + (_UNSAFE_ID.sub("_", task.id) if task.id else f"L{loc.line + 1}")
        nid = base if base not in self.keys else f"{base}_L{loc.line + 1}"
        self.keys.add(nid)
        node = _Node(nid, _label(task), _status_class(task), fi, doc.path not in self.selected)
        self.g.nodes[key] = node
        return node

    def missing(self, text: str) -> _Node:
        key = ("missing", text)
        hit = self.g.nodes.get(key)
        if hit is None:
            nid = f"missing{len(self.keys)}"
            self.keys.add(nid)
            hit = _Node(nid, f"? {text}", "missing", -1)
            self.g.nodes[key] = hit
        return hit

    def on_cycle(self, a: tuple[str, str | None], b: tuple[str, str | None]) -> bool:
        if a[1] is None or b[1] is None:
            return False
        sa, sb = self._scc(a[0], a[1]), self._scc(b[0], b[1])
        return sa is not None and sa == sb

    def _scc(self, path: str, task_id: str) -> int | None:
        hit = self.scc.get((path, task_id))
        return hit if hit is not None else self.scc.get((path, normalize_id(task_id)))

    def build(self, docs: list[TaskDocument]) -> _Graph:
        self.selected = {d.path for d in docs}
        for doc in docs:
            self.file(doc.path)
        shown: list[tuple[TaskDocument, Located]] = [
            (doc, loc)
            for doc in docs
            for loc in doc.located_tasks()
            if loc.task.id or loc.task.refs
        ]
        for doc, loc in shown:  # nodes in document order first, then what they reference
            self.node(doc, loc)
        seen_edges: set[tuple[str, str]] = set()
        for doc, loc in shown:
            task = loc.task
            me = self.node(doc, loc)
            for ref in task.refs:
                target, problem = self.ws.resolve_ref(doc, ref)
                if target is None:
                    if not problem:
                        continue  # a reference to a whole file
                    dep = self.missing(ref.text)
                    cycle = False
                else:
                    tdoc, tloc = target
                    dep = self.node(tdoc, tloc)
                    cycle = self.on_cycle((tdoc.path, tloc.task.id), (doc.path, task.id))
                if (dep.key, me.key) in seen_edges:
                    continue
                seen_edges.add((dep.key, me.key))
                self.g.edges.append((dep.key, me.key, cycle))
        return self.g


def _default_show(ws: Workspace) -> Callable[[str], str]:
    def show(path: str) -> str:
        rel = ws.relpath(path)
        return rel if rel is not None else path.replace(os.sep, "/")

    return show


def render_graph(
    ws: Workspace,
    paths: list[str] | None = None,
    fmt: GraphFormat = "mermaid",
    *,
    show_path: Callable[[str], str] | None = None,
) -> str:
    """The dependency graph of the task files under ``paths`` (default: every indexed task file)
    as ``mermaid`` (``flowchart LR``) or ``dot`` text, ending in a newline. ``show_path`` turns a
    file path into its group label (default: relative to the workspace root)."""
    if fmt not in ("mermaid", "dot"):
        raise ValueError(f"unknown graph format {fmt!r} (expected mermaid or dot)")
    g = _Builder(ws, show_path or _default_show(ws)).build(select_task_docs(ws, paths))
    return _mermaid(g) if fmt == "mermaid" else _dot(g)


# -- Mermaid ---------------------------------------------------------------------------------------

_MERMAID_ESCAPES = {
    '"': "#quot;",
    "#": "#35;",
    "[": "#91;",
    "]": "#93;",
    "<": "#lt;",
    ">": "#gt;",
    "`": "#96;",
    "{": "#123;",
    "}": "#125;",
    "|": "#124;",
}


def mermaid_quote(text: str) -> str:
    """A quoted Mermaid label: entity codes for the characters Mermaid would interpret."""
    return '"' + "".join(_MERMAID_ESCAPES.get(ch, ch) for ch in text) + '"'


def _mermaid(g: _Graph) -> str:
    out = [
        "flowchart LR",
        "    %% taskdroid dependency graph — an edge A --> B means B depends on A (A comes first)",
    ]
    by_group: dict[int, list[_Node]] = {}
    for n in g.nodes.values():
        by_group.setdefault(n.group, []).append(n)
    for fi, (label, _external) in enumerate(g.files):
        members = by_group.get(fi, [])
        if not members:
            continue
        out.append(f"    subgraph f{fi}[{mermaid_quote(label)}]")
        out.extend(f"        {n.key}[{mermaid_quote(n.label)}]" for n in members)
        out.append("    end")
    for n in by_group.get(-1, []):
        out.append(f"    {n.key}[{mermaid_quote(n.label)}]")
    cycle_links = []
    for i, (a, b, cycle) in enumerate(g.edges):
        out.append(f"    {a} --> {b}")
        if cycle:
            cycle_links.append(str(i))
    used = {n.cls for n in g.nodes.values()}
    for cls, (fill, stroke, color) in _STYLE.items():
        if cls not in used:
            continue
        dash = ",stroke-dasharray:4 3" if cls == "missing" else ""
        out.append(f"    classDef {cls} fill:{fill},stroke:{stroke},color:{color}{dash}")
    by_cls: dict[str, list[str]] = {}
    for n in g.nodes.values():
        by_cls.setdefault(n.cls, []).append(n.key)
    for cls, keys in by_cls.items():
        out.append(f"    class {','.join(keys)} {cls}")
    externals = [fi for fi, (_l, ext) in enumerate(g.files) if ext and fi in by_group]
    for fi in externals:
        out.append(f"    style f{fi} stroke-dasharray:4 3")
    if cycle_links:
        out.append(f"    linkStyle {','.join(cycle_links)} stroke:{_CYCLE_COLOUR},stroke-width:2px")
    if not g.nodes:
        out.append("    %% no tasks with IDs or dependencies")
    return "\n".join(out) + "\n"


# -- DOT -------------------------------------------------------------------------------------------


def _dq(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _dot(g: _Graph) -> str:
    out = [
        "// taskdroid dependency graph — an edge A -> B means B depends on A (A comes first)",
        "digraph tasks {",
        "    rankdir=LR;",
        '    node [shape=box, style="rounded,filled", fontname="Helvetica"];',
        '    edge [color="#57606a"];',
    ]

    def node_line(n: _Node, indent: str) -> str:
        fill, stroke, color = _STYLE[n.cls]
        style = '"rounded,filled,dashed"' if n.cls == "missing" else '"rounded,filled"'
        return (
            f"{indent}{n.key} [label={_dq(n.label)}, fillcolor={_dq(fill)}, "
            f"color={_dq(stroke)}, fontcolor={_dq(color)}, style={style}, "
            f"tooltip={_dq(n.cls.replace('_', ' '))}];"
        )

    by_group: dict[int, list[_Node]] = {}
    for n in g.nodes.values():
        by_group.setdefault(n.group, []).append(n)
    for fi, (label, external) in enumerate(g.files):
        members = by_group.get(fi, [])
        if not members:
            continue
        out.append(f"    subgraph cluster_{fi} {{")
        out.append(f"        label={_dq(label)};")
        out.append('        style="rounded,dashed";' if external else '        style="rounded";')
        out.extend(node_line(n, "        ") for n in members)
        out.append("    }")
    out.extend(node_line(n, "    ") for n in by_group.get(-1, []))
    for a, b, cycle in g.edges:
        attrs = f' [color="{_CYCLE_COLOUR}", penwidth=2]' if cycle else ""
        out.append(f"    {a} -> {b}{attrs};")
    out.append("}")
    return "\n".join(out) + "\n"
