"""The task fields a run reads and writes (docs/language.md §11) — pure, no I/O:

* ``**Model**`` and ``**Effort**``: the per-task model and effort that fill the runner's
  ``{model}`` and ``{effort}`` placeholders, else the droid's own ``model`` (unless ``inherit``)
  and ``reasoningEffort`` / ``effort`` (:func:`model_and_effort`);
* ``**Last Run**``: the run record written when a run ends — ``<start> · <duration> · <outcome>
  · log: <path>`` and, when the droid's ``stream-json`` output carries them, ``· session <id>``,
  ``· $<cost>``, ``· <n> turns`` (:class:`RunRecord`, :func:`parse_last_run`);
* completion of their values (:func:`value_context`) and their hover text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from taskdroid.core.droid_vocab import EFFORT_LEVELS
from taskdroid.core.model import Task

__all__ = [
    "EFFORT",
    "EFFORT_VALUES",
    "LAST_RUN",
    "MODEL",
    "RUN_FIELD_HELP",
    "RUN_OUTCOMES",
    "RunRecord",
    "ValueContext",
    "clean_cost",
    "clean_model",
    "clean_session",
    "clean_turns",
    "format_cost",
    "model_and_effort",
    "parse_last_run",
    "run_outcome",
    "value_context",
]

LAST_RUN = "Last Run"
MODEL = "Model"
EFFORT = "Effort"
#: what a Last Run says of how the run ended
RUN_OUTCOMES = ("completed", "blocked", "cancelled")
#: the values completion offers after ``**Effort**:`` (Claude Code's effort levels, which include
#: Factory's ``low`` / ``medium`` / ``high``)
EFFORT_VALUES: tuple[str, ...] = EFFORT_LEVELS

#: one-line meaning of each field (hover, completion documentation)
RUN_FIELD_HELP: dict[str, str] = {
    LAST_RUN: "the record of the task's last droid run, written by taskdroid when a run ends: "
    "`start · duration · outcome · log: path` (and `session`, `$cost`, `turns` when the droid "
    "reports them)",
    MODEL: "the model a run of this task uses: fills `{model}` in `runner.command` (else the "
    "droid's own `model`, unless `inherit`)",
    EFFORT: "the reasoning effort a run of this task uses (`low`, `medium`, `high`, `xhigh`, "
    "`max`): fills `{effort}` in `runner.command` (else the droid's `reasoningEffort` / `effort`)",
}

_START = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d$")
_TURNS = re.compile(r"^(\d{1,9}) turns?$")
_COST = re.compile(r"^\$(\d{1,12}(?:\.\d{1,12})?)$")
#: a model id: ``claude-sonnet-4-5-20250929``, ``sonnet``, ``custom:my-model``, ``gpt-5.1[1m]``
_MODEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+\[\]-]{0,199}$")
_EFFORT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
_SESSION = re.compile(r"[^A-Za-z0-9._:@/+=-]")
SEPARATOR = " · "


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One ``**Last Run**`` value."""

    start: str  #: ``YYYY-MM-DD HH:MM``
    duration: str  #: as :func:`taskdroid.run.record.format_duration` writes it
    outcome: str  #: one of :data:`RUN_OUTCOMES`
    log: str | None = None  #: the log file, relative to the workspace (POSIX separators)
    session: str | None = None
    cost: float | None = None  #: US dollars
    turns: int | None = None

    def format(self) -> str:
        parts = [self.start, self.duration, self.outcome]
        if self.log:
            parts.append(f"log: {self.log}")
        if self.session:
            parts.append(f"session {self.session}")
        if self.cost is not None:
            parts.append(f"${format_cost(self.cost)}")
        if self.turns is not None:
            parts.append(f"{self.turns} turns")
        return SEPARATOR.join(parts)


def format_cost(cost: float) -> str:
    """Dollars with two decimals, up to four when a cent is too coarse (``0.0123``)."""
    text = f"{cost:.4f}"
    while text.endswith("0") and len(text.split(".")[1]) > 2:
        text = text[:-1]
    return text


def run_outcome(outcome: str) -> str:
    """The Last Run outcome of a run's outcome (:data:`taskdroid.run.record.Outcome`): a
    timeout or a droid that could not start is ``blocked``."""
    if outcome in RUN_OUTCOMES:
        return outcome
    return "blocked"


def parse_last_run(value: str) -> RunRecord | None:
    """A ``**Last Run**`` value read back (None when it does not start with a start time,
    a duration and an outcome). Parts it does not know are skipped."""
    parts = [p.strip() for p in value.strip().strip("`").split("·")]
    if len(parts) < 3 or not _START.match(parts[0]) or not parts[1]:
        return None
    start, duration, outcome = parts[0], parts[1], parts[2]
    log: str | None = None
    session: str | None = None
    cost: float | None = None
    turns: int | None = None
    for part in parts[3:]:
        if part.startswith("log:"):
            log = part[4:].strip().strip("`") or None
        elif part.startswith("session "):
            session = part[8:].strip() or None
        elif m := _COST.match(part):
            cost = float(m.group(1))
        elif m := _TURNS.match(part):
            turns = int(m.group(1))
    return RunRecord(start, duration, outcome, log, session, cost, turns)


def clean_session(value: Any) -> str | None:
    """A session id fit for the record (one word, no separator), or None."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    text = _SESSION.sub("", str(value))[:120]
    return text or None


def clean_cost(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    cost = float(value)
    return cost if math.isfinite(cost) and 0 <= cost < 1e9 else None


def clean_turns(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 10**9:
        return None
    return value


# -- model and effort --------------------------------------------------------------------------


def _field_word(task: Task, key: str) -> str:
    f = task.field(key)
    if f is None:
        return ""
    return f.value.strip().strip("*").strip().strip("`").strip()


def clean_model(value: str) -> str | None:
    """``value`` when it is a model id (one word of letters, digits and ``._:/@+[]-``)."""
    return value if _MODEL.match(value) else None


def model_and_effort(
    task: Task, front_matter: Mapping[str, Any] | None
) -> tuple[str, str, list[str]]:
    """The ``{model}`` and ``{effort}`` of a run of ``task`` (empty when there is none) and the
    problems of the task's own fields (a value that is not one word is not passed on).

    The task's ``**Model**`` / ``**Effort**`` win; else the droid's ``model`` (``inherit`` means
    "the session's model": none is passed) and its ``reasoningEffort`` (Factory), else its
    ``effort`` (Claude Code)."""
    problems: list[str] = []
    fm = front_matter or {}
    model = _field_word(task, MODEL)
    if model and clean_model(model) is None:
        problems.append(f"**Model** `{model}` is not a model id (one word, such as `sonnet`)")
        model = ""
    if not model:
        own = fm.get("model")
        if isinstance(own, str) and own.strip() and own.strip() != "inherit":
            model = clean_model(own.strip()) or ""
    effort = _field_word(task, EFFORT).lower()
    if effort and not _EFFORT.match(effort):
        problems.append(f"**Effort** `{effort}` is not an effort level (such as `high`)")
        effort = ""
    if not effort:
        for key in ("reasoningEffort", "effort"):
            own = fm.get(key)
            if own is False:  # YAML reads a bare `off` as false
                own = "off"
            if isinstance(own, int) and not isinstance(own, bool):
                own = str(own)
            if isinstance(own, str) and _EFFORT.match(own.strip()):
                effort = own.strip()
                break
    return model, effort, problems


# -- completion --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ValueContext:
    """Completion of a Model or Effort value: the key, and the columns of the word replaced."""

    key: str
    start: int
    end: int
    prefix: str


_VALUE_AT = re.compile(
    r"^[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+\*\*(Model|Effort)(?::\*\*|\*\*:)[ \t]*(\S*)$", re.I
)


def value_context(line: str, col: int) -> ValueContext | None:
    """What to complete at column ``col`` of ``line`` after ``**Model**:`` or ``**Effort**:``."""
    col = min(max(col, 0), len(line))
    m = _VALUE_AT.match(line[:col])
    if m is None:
        return None
    key = MODEL if m.group(1).lower() == "model" else EFFORT
    word = m.group(2)
    rest = re.match(r"\S*", line[col:])
    end = col + (rest.end() if rest else 0)
    return ValueContext(key, col - len(word), end, word)
