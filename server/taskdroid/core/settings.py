"""Settings (docs/language.md §10): one pydantic model, the names users write in TOML and editor settings."""

from __future__ import annotations

import shlex
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from taskdroid.core.diagnostics import CODES, Severity

Status = Literal["pending", "in_progress", "completed", "blocked", "cancelled"]

DEFAULT_TASK_FILES = ["**/tasks/**/*.md", "**/tasks-*.md", "**/tasks.md", "**/TASKS.md"]
DEFAULT_DROID_FILES = ["**/.factory/droids/*.md", "**/droids/*.md", "**/.claude/agents/*.md"]
DEFAULT_DROID_PATHS = ["~/.factory/droids", "~/.claude/agents"]
DEFAULT_PRIORITIES = ["BLOCKER", "CRITICAL", "HIGH", "MEDIUM", "LOW"]
DEFAULT_ALIASES: dict[str, Status] = {"X": "completed", "-": "in_progress"}

DEFAULT_PROMPT = (
    "You are the droid `{droid}`. Work on task {taskId} of the task file {taskFile} "
    "(workspace: {workspace}).\n\n"
    "Task {taskId}: {title}\n{fields}\n\n"
    "Protocol: when you start, mark the task `[~]` in {taskFile}; when it is done, mark it `[x]` "
    "and add `**Completed**: YYYY-MM-DD HH:MM`; if you are blocked, mark it `[!]` and document the "
    "blocker as `**Issue**:` / `**Error**:` fields under the task. Change nothing else in the file. "
    "If the taskdroid MCP tools are available, use them instead of editing markers by hand: "
    "`set_status` (path {taskFile}, taskId {taskId}; status `completed`, or `blocked` with a "
    "`note`) — this task is already claimed for you; `claim_task` is for any other task you pick."
)


class _Model(BaseModel):
    # ``defer_build``: the validators are built on the first validation, not at import. A project
    # without settings never validates any (see :data:`DEFAULT_SETTINGS`), so the language
    # server's first diagnostics do not wait for pydantic to build schemas (nor for its plugin
    # lookup, which imports importlib.metadata and reads every installed package's entry points).
    model_config = ConfigDict(populate_by_name=True, extra="forbid", frozen=True, defer_build=True)


class DiagnosticsSettings(_Model):
    disable: list[str] = Field(default_factory=list)
    severity: dict[str, Severity] = Field(default_factory=dict)

    @field_validator("disable")
    @classmethod
    def _known_codes(cls, v: list[str]) -> list[str]:
        unknown = [c for c in v if c.upper() not in CODES]
        if unknown:
            raise ValueError(f"unknown diagnostic code(s): {', '.join(unknown)}")
        return [c.upper() for c in v]

    @field_validator("severity", mode="before")
    @classmethod
    def _severity(cls, v: object) -> object:
        if not isinstance(v, dict):
            return v
        out = {}
        for code, sev in v.items():
            if str(code).upper() not in CODES:
                raise ValueError(f"unknown diagnostic code {code!r}")
            out[str(code).upper()] = Severity.parse(sev) if isinstance(sev, str) else sev
        return out


class RunnerSettings(_Model):
    command: list[str] | None = None
    prompt: str = DEFAULT_PROMPT
    timeoutSeconds: int = Field(default=3600, ge=1)
    maxParallel: int = Field(default=2, ge=1)
    logDir: str = ".taskdroid/runs"
    #: run a task's ``**Verify**`` command after the droid (docs/language.md §11)
    verify: bool = False
    #: block a run whose droid changed none of the task's Files (docs/language.md §11)
    requireChanges: bool = False

    @field_validator("command", mode="before")
    @classmethod
    def _split(cls, v: object) -> object:
        if isinstance(v, str):
            parts = shlex.split(v)
            if not parts:
                raise ValueError("runner.command is empty")
            return parts
        if isinstance(v, list) and not v:
            raise ValueError("runner.command is empty")
        return v


class Settings(_Model):
    taskFiles: list[str] = Field(default_factory=lambda: list(DEFAULT_TASK_FILES))
    droidFiles: list[str] = Field(default_factory=lambda: list(DEFAULT_DROID_FILES))
    droidPaths: list[str] = Field(default_factory=lambda: list(DEFAULT_DROID_PATHS))
    exclude: list[str] = Field(default_factory=list)
    priorities: list[str] = Field(default_factory=lambda: list(DEFAULT_PRIORITIES))
    markerAliases: dict[str, Status] = Field(default_factory=lambda: dict(DEFAULT_ALIASES))
    extraTools: list[str] = Field(default_factory=list)
    diagnostics: DiagnosticsSettings = Field(default_factory=DiagnosticsSettings)
    runner: RunnerSettings = Field(default_factory=RunnerSettings)

    @field_validator("markerAliases")
    @classmethod
    def _alias_chars(cls, v: dict[str, Status]) -> dict[str, Status]:
        for k in v:
            if not (1 <= len(k) <= 3) or "[" in k or "]" in k:
                raise ValueError(f"marker alias {k!r} must be 1–3 characters without brackets")
        return v

    @field_validator("priorities")
    @classmethod
    def _upper(cls, v: list[str]) -> list[str]:
        return [p.strip().upper() for p in v if p.strip()]

    # -- derived views (cheap, used on hot paths) ---------------------------------------------
    @property
    def parse_key(self) -> tuple:
        """What the task parser depends on: equal keys ⇒ equal parses (used for caching)."""
        return tuple(sorted(self.markerAliases.items()))

    @property
    def disabled_codes(self) -> frozenset[str]:
        return frozenset(self.diagnostics.disable)


def _defaults() -> Settings:
    """``Settings()`` without running pydantic's validation: every default is valid as it stands
    (the validators only normalise values a user wrote), so the fields are set as pydantic would
    set them, and no field counts as set (``model_fields_set`` is empty, as for ``Settings()``);
    tests/core/test_config.py checks that this equals a validated ``Settings()``."""
    return Settings.model_construct(
        set(),
        diagnostics=DiagnosticsSettings.model_construct(set()),
        runner=RunnerSettings.model_construct(set()),
    )


#: the settings of a project without any: shared, never validated (see :func:`_defaults`)
DEFAULT_SETTINGS = _defaults()
