"""What a run needs, decided before any process starts: :class:`RunSpec` (made by
:func:`taskdroid.run.spec.prepare_run`). Below the run's other modules, which all read it."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from taskdroid.core.document import normalize_id
from taskdroid.core.settings import DEFAULT_ALIASES
from taskdroid.core.verification import RunChecks

__all__ = ["RunSpec", "new_run_id"]


@dataclass(frozen=True, slots=True)
class RunSpec:
    """Everything a run needs, checked by :func:`prepare_run`."""

    run_id: str
    workspace: str  #: absolute
    task_path: str  #: absolute, normalised
    task_file: str  #: relative to the workspace, POSIX separators
    task_id: str  #: as written in the file
    title: str
    droid: str
    argv: tuple[str, ...]
    prompt: str
    timeout: float
    max_parallel: int
    log_dir: Path
    aliases: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_ALIASES))
    env: Mapping[str, str] | None = None
    #: what is checked after the droid exits 0 (docs/language.md §11 "Verified completion")
    checks: RunChecks = field(default_factory=RunChecks)
    #: the ``{model}`` and ``{effort}`` of the run (empty when none; docs/language.md §11)
    model: str = ""
    effort: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.task_path, normalize_id(self.task_id))

    @property
    def label(self) -> str:
        return f"{self.task_file} {self.task_id}"


def new_run_id() -> str:
    return f"run-{uuid.uuid4().hex[:8]}"
