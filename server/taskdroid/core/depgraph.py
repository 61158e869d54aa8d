"""The dependency graph's cycles: strongly connected components of task references.

Below :mod:`taskdroid.core.workspace` (which builds the graph) and the checks and the plan (which
read it), so that none of them imports another to get at it.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

__all__ = ["DependencyGraph", "TaskKey", "strongly_connected"]

#: a task in the workspace: (path, normalised task ID)
TaskKey = tuple[str, str]

N = TypeVar("N", bound=Hashable)


@dataclass
class DependencyGraph:
    """The dependency cycles of the workspace's tasks."""

    #: (path, normalised id) -> SCC number, only for nodes on a cycle
    scc_of: dict[TaskKey, int] = field(default_factory=dict)
    #: SCC number -> members in a stable order
    members: dict[int, list[TaskKey]] = field(default_factory=dict)


def strongly_connected(adj: Mapping[N, Sequence[N]]) -> list[list[N]]:
    """Strongly connected components of a graph given as node -> successors (iterative
    Tarjan)."""
    index: dict[N, int] = {}
    low: dict[N, int] = {}
    on_stack: set[N] = set()
    stack: list[N] = []
    out: list[list[N]] = []
    counter = 0
    for root in adj:
        if root in index:
            continue
        work = [(root, iter(adj.get(root, ())))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(adj.get(w, ()))))
                    advanced = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                u = work[-1][0]
                low[u] = min(low[u], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(comp)
    return out
