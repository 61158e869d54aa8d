"""Invoking a droid on a task (docs/language.md §7): the engine shared by ``taskdroid run`` and the server.

No pygls here; this package may import :mod:`taskdroid.core`, never :mod:`taskdroid.lsp` or
:mod:`taskdroid.cli` (and ``core`` imports nothing from here). The modules, in the order a run
goes through them:

* :mod:`~taskdroid.run.spec` — :func:`prepare_run`: the checks, the argv and prompt templates,
  the program lookup; gives a :class:`RunSpec` (defined in :mod:`~taskdroid.run.runspec`, below
  the others, which all read it);
* :mod:`~taskdroid.run.manager` — :class:`RunManager`: one run per task, ``maxParallel`` slots;
* :mod:`~taskdroid.run.lock` — :class:`TaskLock` (one run per task across processes) and the edit
  lock of a task file;
* :mod:`~taskdroid.run.job` — :class:`Run`: drives one run with its collaborators;
* :mod:`~taskdroid.run.supervise` — the droid's processes: start, signals, stop, sweep, the
  per-manager process groups and guardian process;
* :mod:`~taskdroid.run.guardian` — the guardian's program (standard library only);
* :mod:`~taskdroid.run.output` — reading stdout/stderr, line cutting, ``stream-json`` summaries;
* :mod:`~taskdroid.run.logfile` — the log folder and log files;
* :mod:`~taskdroid.run.record` — the outcome written into the task file; :class:`RunResult`;
* :mod:`~taskdroid.run.hooks` — :class:`RunHooks`, the protocol of the CLI's and the server's
  hooks (reading the task file, status edits, progress), generic in the run they are given
  (``RunHooks[Run]``) so that it need not import :mod:`~taskdroid.run.job`;
* :mod:`~taskdroid.run.process` — the only process-wide state: the ``atexit`` and SIGTERM/SIGHUP
  handlers, installed when a manager starts its first run or when the server asks, never at
  import.
"""

from taskdroid.run.errors import RunError
from taskdroid.run.hooks import RunHooks
from taskdroid.run.job import Run
from taskdroid.run.lock import TaskLock
from taskdroid.run.logfile import find_log
from taskdroid.run.manager import RunManager
from taskdroid.run.output import clean_line, log_tail, summarize_line
from taskdroid.run.process import kill_droids_on_termination
from taskdroid.run.queue import QueueScope, QueueSummary, TaskQueue
from taskdroid.run.record import RunResult, format_duration
from taskdroid.run.spec import (
    ARGV_PLACEHOLDERS,
    EXAMPLE_COMMANDS,
    PROMPT_PLACEHOLDERS,
    RunSpec,
    build_argv,
    build_prompt,
    check_droid_name,
    field_block,
    fill,
    locate_task,
    not_configured_message,
    prepare_run,
    resolve_program,
    unfinished_dependencies,
)

__all__ = [
    "ARGV_PLACEHOLDERS",
    "EXAMPLE_COMMANDS",
    "PROMPT_PLACEHOLDERS",
    "QueueScope",
    "QueueSummary",
    "Run",
    "RunError",
    "RunHooks",
    "RunManager",
    "RunResult",
    "RunSpec",
    "TaskLock",
    "TaskQueue",
    "build_argv",
    "build_prompt",
    "check_droid_name",
    "clean_line",
    "field_block",
    "fill",
    "find_log",
    "format_duration",
    "kill_droids_on_termination",
    "locate_task",
    "log_tail",
    "not_configured_message",
    "prepare_run",
    "resolve_program",
    "summarize_line",
    "unfinished_dependencies",
]
