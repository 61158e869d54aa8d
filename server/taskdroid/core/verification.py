"""Verified completion (docs/language.md §11 "Verified completion") — the pure part: a task's
``**Verify**`` command and what a run checks after its droid exits 0.

* :func:`verify_command` reads the command of a task's ``**Verify**`` field: its first backticked
  span (a CommonMark code span: a run of backticks closed by a run of the same length), split like
  a shell line with :func:`shlex.split` — never given to a shell, so ``;``, ``|``, ``$(…)`` and
  ``>`` are plain characters of an argument.
* :func:`run_checks` decides, from the task and the user's ``runner.verify`` and
  ``runner.requireChanges``, what the run checks: the command to run (only with
  ``runner.verify = true``; the field alone is reported as "not run"), and the task's Files
  entries whose content must change (``runner.requireChanges = true``).

Running the command and hashing the files are the runner's (``run/verify.py``).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from taskdroid.core.checks.task_local import file_entries
from taskdroid.core.model import Field, Task
from taskdroid.core.plan import normalise_file_entry

__all__ = [
    "VERIFY_FIELD",
    "VERIFY_OFF_NOTE",
    "RunChecks",
    "VerifyCommand",
    "VerifyFieldError",
    "first_code_span",
    "run_checks",
    "verify_command",
    "verify_field",
]

VERIFY_FIELD = "Verify"
#: what a run says when the task has a Verify field and the user did not enable runner.verify
VERIFY_OFF_NOTE = "Verify not run: runner.verify is off"

_BACKTICKS = re.compile(r"`+")


class VerifyFieldError(ValueError):
    """A ``**Verify**`` field whose command cannot be run; ``str()`` says why."""


@dataclass(frozen=True, slots=True)
class VerifyCommand:
    #: the command as written in the code span
    text: str
    #: ``text`` split like a shell line (never run through one)
    argv: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RunChecks:
    """What a run checks after its droid exits 0 without blocking the task."""

    #: the task's Verify command, to run (``runner.verify`` is on and the task has one)
    verify: VerifyCommand | None = None
    #: the task has a Verify field that is not run because ``runner.verify`` is off
    verify_off: bool = False
    #: ``runner.requireChanges`` is on: the task's Files entries (normalised, relative to the
    #: workspace; empty when it names none that is a path)
    require_changes: tuple[str, ...] | None = None


def first_code_span(value: str) -> str | None:
    """The content of the first code span of ``value`` (CommonMark: a run of n backticks up to the
    next run of exactly n; line endings become spaces; one space is stripped from each end when
    both are spaces and the content is not all spaces), or None when there is none."""
    pos = 0
    while True:
        m = _BACKTICKS.search(value, pos)
        if m is None:
            return None
        if m.start() > 0 and value[m.start() - 1] == "\\":  # an escaped backtick opens nothing
            pos = m.start() + 1
            continue
        n = len(m.group(0))
        close = _BACKTICKS.search(value, m.end())
        while close is not None and len(close.group(0)) != n:
            close = _BACKTICKS.search(value, close.end())
        if close is None:
            pos = m.end()  # this run stays literal; a later run may open a span
            continue
        content = value[m.end() : close.start()].replace("\r\n", " ").replace("\n", " ")
        if len(content) >= 2 and content[0] == " " and content[-1] == " " and content.strip(" "):
            content = content[1:-1]
        return content


def verify_field(task: Task) -> Field | None:
    """The task's first ``**Verify**`` field."""
    found = task.fields_named(VERIFY_FIELD)
    return found[0] if found else None


def verify_command(task: Task) -> VerifyCommand | None:
    """The task's Verify command; None when it has no Verify field. Raises
    :class:`VerifyFieldError` when the field holds no usable command."""
    f = verify_field(task)
    if f is None:
        return None
    text = first_code_span(f.value)
    if text is None or not text.strip():
        raise VerifyFieldError(
            "its **Verify** field holds no command: write it as the first backticked span, "
            "e.g. **Verify**: `pytest -q tests/test_auth.py`"
        )
    try:
        argv = shlex.split(text)
    except ValueError as e:
        raise VerifyFieldError(
            f"its **Verify** command `{text}` cannot be split like a shell line ({e})"
        ) from None
    if not argv:
        raise VerifyFieldError(f"its **Verify** command `{text}` is empty")
    if any("\x00" in a for a in argv):
        raise VerifyFieldError("its **Verify** command holds a NUL character")
    return VerifyCommand(text, tuple(argv))


def files_to_change(task: Task) -> tuple[str, ...]:
    """The task's Files entries that name a path, normalised (no line suffix, no ``./``),
    relative to the workspace, in order, each once."""
    out: dict[str, None] = {}
    for f in task.fields_named("Files"):
        for entry, _span in file_entries(f):
            norm = normalise_file_entry(entry)
            if norm is not None:
                out[norm] = None
    return tuple(out)


def run_checks(task: Task, *, verify: bool, require_changes: bool) -> RunChecks:
    """What a run of ``task`` checks, under the user's ``runner.verify`` and
    ``runner.requireChanges``. Raises :class:`VerifyFieldError` when ``verify`` is on and the
    task's Verify field holds no usable command (the run is refused before the droid starts)."""
    command = verify_command(task) if verify else None
    off = not verify and verify_field(task) is not None
    changes = files_to_change(task) if require_changes else None
    return RunChecks(command, off, changes)
