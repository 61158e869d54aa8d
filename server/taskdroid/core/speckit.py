"""spec-kit's task order: the ``[P]`` label and ``Phase`` headings (docs/language.md §11).

In a file where some tasks carry spec-kit's ``[P]`` ("can run in parallel") label, a task
without it waits for the task before it (its previous sibling), and every task under a
``Phase …`` heading waits for every task of the previous phase ("phases complete in order").
These *implicit* edges count for ``ready`` (``taskdroid next``, the queue) and for plan waves.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Literal

from taskdroid.core.document import Located, TaskDocument
from taskdroid.core.model import Status

__all__ = [
    "ImplicitKind",
    "has_parallel_label",
    "implicit_edges",
    "implicit_predecessors",
    "is_phase_heading",
    "uses_parallel_labels",
]

ImplicitKind = Literal["sequence", "phase"]

#: spec-kit's ``[P]`` among the bracketed labels that open a title (``[P] [US1] …``)
_P_LABEL = re.compile(r"^\s*(?:\[[^\[\]\s]{1,16}\]\s*)*?\[P\](?=\s|\[|$)")
#: a spec-kit phase heading: ``Phase 1: Setup``, ``Phase 3 - …`` (a leading number allowed)
_PHASE = re.compile(r"^\s*(?:\d+(?:\.\d+)*\.?\s+)?phase\b", re.IGNORECASE)


def has_parallel_label(title: str) -> bool:
    """Does a task title carry spec-kit's ``[P]`` label (``[P] Create …``, ``[US1] [P] …``)?"""
    return _P_LABEL.match(title) is not None


def is_phase_heading(text: str) -> bool:
    """Is a heading's text a spec-kit phase (``Phase 2: Foundational``)?"""
    return _PHASE.match(text.lstrip("#").strip().strip("*_")) is not None


def uses_parallel_labels(doc: TaskDocument) -> bool:
    """Does some task of ``doc`` carry ``[P]`` (the files where the implicit order applies)?"""
    return any(
        has_parallel_label(task.title) for chunk in doc.chunks for task in chunk.parse.tasks
    )


def _waits(loc: Located) -> bool:
    return loc.task.status in (Status.PENDING, Status.IN_PROGRESS)


def _phases(doc: TaskDocument) -> tuple[list[Located], list[int], int]:
    """The tasks in document order, the phase of each (-1: none) and the number of phases."""
    order: list[Located] = []
    phase_of: list[int] = []
    count = 0
    stack: list[tuple[int, int]] = []  # (heading level, phase index or -1)

    def heading(level: int, text: str) -> None:
        nonlocal count
        while stack and stack[-1][0] >= level:
            stack.pop()
        if is_phase_heading(text):
            stack.append((level, count))
            count += 1
        else:
            stack.append((level, stack[-1][1] if stack else -1))

    for chunk in doc.chunks:
        heads = chunk.parse.headings
        hi = 0
        for task in chunk.parse.tasks:
            while hi < len(heads) and heads[hi][0] <= task.line:
                _line, level, text = heads[hi]
                hi += 1
                heading(level, text)
            order.append(Located(task, chunk))
            phase_of.append(stack[-1][1] if stack else -1)
        for _line, level, text in heads[hi:]:  # headings after the chunk's last task
            heading(level, text)
    return order, phase_of, count


def implicit_edges(doc: TaskDocument) -> Iterator[tuple[Located, Located, ImplicitKind]]:
    """The implicit edges ``(first, waiting, kind)`` of ``doc`` into pending or in-progress tasks
    (the others wait for nothing); none in a file without ``[P]`` labels. Cancelled tasks give
    none."""
    if not uses_parallel_labels(doc):
        return
    order, phase_of, count = _phases(doc)
    phases: list[list[Located]] = [[] for _ in range(count)]
    last: dict[tuple[int, int], Located] = {}
    chunk_no = {id(c): i for i, c in enumerate(doc.chunks)}
    for i, loc in enumerate(order):
        task = loc.task
        if task.status is Status.CANCELLED:
            continue
        if phase_of[i] >= 0:
            phases[phase_of[i]].append(loc)
        key = (chunk_no[id(loc.chunk)], task.parent) if task.parent >= 0 else (-1, -1)
        prev = last.get(key)
        last[key] = loc
        if prev is not None and _waits(loc) and not has_parallel_label(task.title):
            yield prev, loc, "sequence"
    before: list[Located] = []
    for members in phases:
        if not members:
            continue
        if before:
            for loc in members:
                if _waits(loc):
                    for b in before:
                        yield b, loc, "phase"
        before = members


def implicit_predecessors(doc: TaskDocument) -> dict[int, list[Located]]:
    """For each waiting task, keyed by its line in the document, the tasks its implicit edges
    make it wait for."""
    out: dict[int, list[Located]] = {}
    for first, waiting, _kind in implicit_edges(doc):
        out.setdefault(waiting.line, []).append(first)
    return out
