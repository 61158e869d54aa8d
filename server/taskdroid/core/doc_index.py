"""What the whole-file checks and ID look-ups need of a task document, kept up to date per edit.

An edit re-parses only the chunks it touched (document.py); the checks over a whole file
(TD003 duplicate IDs, TD005/TD022/TD030 in checks/task_file.py) and the look-up of a task by ID
must not then walk every task of the file again. So:

* every chunk parse carries its :class:`ChunkFacts` (computed once, on first use: the chunk's
  task IDs, the statuses it uses, its completed tasks with and without a timestamp …), so a
  whole-file check only adds up per-chunk facts;
* every document version has an :class:`IdTable` (normalised ID -> the chunk parses holding a
  task with it, and the set of IDs used more than once). A new version made by
  ``TaskDocument.update`` (core/document.py) takes the table of the version it came from over
  and applies only the chunks that left and the chunks that came; the old version, if it is
  asked again, builds its own from scratch.

The results are the same as a walk over every task (tests/core/test_incremental_checks.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from taskdroid.core.checks.task_local import has_date
from taskdroid.core.model import ChunkParse, Status


def normalize_id(task_id: str) -> str:
    return task_id.rstrip(".")


@dataclass(slots=True, frozen=True)
class ChunkFacts:
    """Per-chunk inputs of the whole-file checks (task indexes into ``parse.tasks``)."""

    ids: tuple[tuple[str, int], ...]  #: (normalised ID, task index) of each task with an ID
    canonical: frozenset[Status]  #: statuses written with their canonical marker
    aliased: tuple[int, ...]  #: tasks whose marker is an alias
    completed_missing: tuple[int, ...]  #: completed tasks without a Completed field
    completed_stamped: int  #: completed tasks with an empty or dated Completed field
    priority_sections: tuple[int, ...]  #: sections with a priority word
    ref_paths: frozenset[str]  #: the file parts of cross-file references, as written


#: the number of times facts were computed (tests: an edit computes them for new chunks only)
stats = {"facts": 0, "tables": 0}


def chunk_facts(parse: ChunkParse) -> ChunkFacts:
    facts = parse.facts
    if facts is not None:
        return facts
    stats["facts"] += 1
    ids = []
    canonical: set[Status] = set()
    aliased = []
    missing = []
    stamped = 0
    ref_paths: set[str] = set()
    for i, t in enumerate(parse.tasks):
        if t.id:
            ids.append((normalize_id(t.id), i))
        if t.inline_refs or t.fields:
            ref_paths.update(r.path for r in t.refs if r.path)
        status = t.status
        if status is None:
            continue
        if t.marker_kind == "canonical":
            canonical.add(status)
        elif t.marker_kind == "alias":
            aliased.append(i)
        if status is Status.COMPLETED:
            stamp = t.field("Completed")
            if stamp is None:
                missing.append(i)
            elif not stamp.value.strip() or has_date(stamp.value):
                stamped += 1
            # else: a note, not a timestamp (docs/language.md §A4): neither counted nor reported
    prios = tuple(i for i, s in enumerate(parse.sections) if s.priority is not None)
    facts = ChunkFacts(
        tuple(ids),
        frozenset(canonical),
        tuple(aliased),
        tuple(missing),
        stamped,
        prios,
        frozenset(ref_paths),
    )
    parse.facts = facts
    return facts


class IdTable:
    """Normalised ID -> the chunk parse (or parses, once per task) of one document holding it."""

    __slots__ = ("dups", "where")

    def __init__(self) -> None:
        self.where: dict[str, ChunkParse | list[ChunkParse]] = {}
        self.dups: set[str] = set()  #: IDs of more than one task

    def add(self, parse: ChunkParse) -> None:
        where = self.where
        for key, _i in chunk_facts(parse).ids:
            v = where.get(key)
            if v is None:
                where[key] = parse
            elif isinstance(v, list):
                v.append(parse)
            else:
                where[key] = [v, parse]
                self.dups.add(key)

    def remove(self, parse: ChunkParse) -> None:
        where = self.where
        for key, _i in chunk_facts(parse).ids:
            v = where[key]
            if not isinstance(v, list):
                del where[key]
                continue
            for j, p in enumerate(v):
                if p is parse:
                    del v[j]
                    break
            if len(v) == 1:
                where[key] = v[0]
                self.dups.discard(key)


def build_table(parses: Iterable[ChunkParse]) -> IdTable:
    stats["tables"] += 1
    table = IdTable()
    for p in parses:
        table.add(p)
    return table
