"""Invoking a droid on a task (SPEC §7): the engine shared by ``taskdroid run`` and the server.

No pygls here. Two halves:

**Preparing a run** (pure but for a look at ``PATH`` and the log folder): :func:`prepare_run`
refuses what must not run — no runner configured (the message names ``runner.command`` and shows
the ``droid exec`` and ``claude -p`` setups), a task file outside the workspace, a task that names
no droid or a droid missing from the index, a droid name that could be read as an option or a
path, a completed task or unfinished dependencies (unless ``force``) — and builds the argv from the
user's ``runner.command`` template: placeholders ``{prompt}``, ``{droid}``, ``{taskId}``,
``{taskFile}``, ``{workspace}`` are filled in one pass (a value is never scanned again, so a task
title holding ``{workspace}`` or ``$(…)`` stays literal text), the prompt is one argv element, the
program (the first element) is taken literally and found on ``PATH``, and no shell is involved.

**Running it** on asyncio (:class:`RunManager`, :class:`Run`):

* the droid starts in the workspace, in a session of its own, so that stopping it reaches its
  whole process group: SIGTERM, then SIGKILL after a grace period (on cancel, on
  ``runner.timeoutSeconds``, and for anything the droid left running after it exited). Its
  environment carries ``TASKDROID_RUN_ID``, which everything it starts inherits: on Linux the
  processes that left the group (``setsid``, a double fork) are found by it in ``/proc`` and
  stopped with the rest. The droid's exit is seen when the droid exits, even while a child it left
  holds its output open; a zombie nobody reaps does not count as running;
* a guardian process (one per taskdroid process) kills the droids of live runs when the taskdroid
  process dies without stopping them — SIGKILL, a crash; SIGTERM and SIGHUP of the server stop
  the runs and record them first (:func:`kill_droids_on_termination`); a run whose asyncio task
  is cancelled (the event loop closing) kills its droid and tries briefly to record the cancel;
* stdout and stderr are read in chunks and cut into lines of bounded length; the lines go to a
  log file (bounded too) ``<logDir>/<task-file-stem>-<id>-<timestamp>.log``, and the latest
  meaningful line of each chunk — for ``stream-json`` output the message text, never raw JSON —
  is reported as progress, at most every :data:`PROGRESS_INTERVAL` seconds (so a flood of short
  lines costs about what copying it does, and a progress bar redrawn with ``\\r`` shows too);
* at most ``runner.maxParallel`` runs of one manager run at once; the others say they are queued;
* one run per task: a registry in the manager, and a lock file next to the logs so that the
  editor's server and a terminal do not run the same task either;
* the outcome goes back into the task file (SPEC §7): the task is looked up again by ID in the
  current text; a status the droid changed itself stands; else exit 0 ⇒ completed, non-zero ⇒
  blocked with ``**Error**`` (exit code or signal, and last stderr line) and ``**Attempted**``,
  timeout ⇒ blocked with a timeout error, cancel ⇒ the previous status with ``**Status**: Run
  cancelled``; a task (or file) that is gone or unreadable is reported, never written. Status
  edits of one task file are made one at a time, across taskdroid processes too (an advisory
  lock next to the logs), so two runs finishing together both record.

Reading the task file, writing status edits and showing progress are :class:`RunHooks`: the CLI
writes to disk atomically, the server edits open documents through the client.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import socket
import sys
import textwrap
import threading
import time
import uuid
import weakref
from collections import OrderedDict, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from taskdroid.core.document import Located, TaskDocument, normalize_id
from taskdroid.core.edits import find_task, format_timestamp
from taskdroid.core.model import Status
from taskdroid.core.settings import DEFAULT_ALIASES, RunnerSettings
from taskdroid.core.text import split_lines

if TYPE_CHECKING:
    from taskdroid.core.workspace import Workspace

__all__ = [
    "ARGV_PLACEHOLDERS",
    "EXAMPLE_COMMANDS",
    "PROMPT_PLACEHOLDERS",
    "Run",
    "RunError",
    "RunHooks",
    "RunManager",
    "RunResult",
    "RunSpec",
    "build_argv",
    "build_prompt",
    "check_droid_name",
    "clean_line",
    "field_block",
    "fill",
    "not_configured_message",
    "prepare_run",
    "summarize_line",
    "unfinished_dependencies",
]

log = logging.getLogger("taskdroid.runner")

#: the two setups the docs and the "no runner" message show
EXAMPLE_COMMANDS: dict[str, list[str]] = {
    "droid exec": ["droid", "exec", "--auto", "low", "{prompt}"],
    "claude -p": ["claude", "-p", "{prompt}"],
}
ARGV_PLACEHOLDERS = ("prompt", "droid", "taskId", "taskFile", "workspace")
PROMPT_PLACEHOLDERS = ("droid", "taskId", "taskFile", "workspace", "title", "fields")

#: a line longer than this (bytes) is cut; the rest up to its newline is dropped
MAX_LINE_BYTES = 256 * 1024
#: the log file stops growing here (the output is still read, so the droid never blocks)
MAX_LOG_BYTES = 64 * 1024 * 1024
#: the field block in the prompt is cut here (characters); one argv element must stay < 128 KiB
MAX_FIELDS_CHARS = 16_000
#: progress messages are cut here (characters)
MAX_MESSAGE_CHARS = 200
#: seconds between two progress reports of output lines
PROGRESS_INTERVAL = 0.2
#: seconds between SIGTERM and SIGKILL
DEFAULT_GRACE = 5.0
_READ_CHUNK = 64 * 1024


class RunError(Exception):
    """A run that cannot start; ``str()`` is the message for the user. ``kind`` is one of
    ``not-configured``, ``runner``, ``task``, ``droid``, ``busy``, ``dependencies``,
    ``completed``, ``path``."""

    def __init__(self, message: str, kind: str = "task") -> None:
        super().__init__(message)
        self.kind = kind


# -- building the command --------------------------------------------------------------------------


def not_configured_message() -> str:
    """What to configure when no runner is set (SPEC §7): names ``runner.command``, shows the
    ``droid exec`` and ``claude -p`` setups and where user settings live."""
    factory = json.dumps(EXAMPLE_COMMANDS["droid exec"])
    claude = json.dumps(EXAMPLE_COMMANDS["claude -p"])
    return (
        "no droid runner is configured: set `runner.command` in your user settings — "
        "~/.config/taskdroid/config.toml (`[runner]` table), the editor setting "
        "`taskdroid.runner.command`, the TASKDROID_RUNNER environment variable or --runner; "
        "never in the project's .taskdroid.toml. "
        f"For Factory's droid exec: command = {factory}; "
        f"for Claude Code: command = {claude}."
    )


_PLACEHOLDER = re.compile(r"\{([A-Za-z]+)\}")


def fill(template: str, values: Mapping[str, str]) -> str:
    """Replace ``{name}`` for each name in ``values`` in one pass (values are not scanned again;
    unknown ``{…}`` stay as written)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def build_prompt(
    template: str,
    *,
    droid: str,
    task_id: str,
    task_file: str,
    workspace: str,
    title: str,
    fields: str,
) -> str:
    """The prompt of ``runner.prompt`` for one task."""
    values = {
        "droid": droid,
        "taskId": task_id,
        "taskFile": task_file,
        "workspace": workspace,
        "title": title,
        "fields": fields,
    }
    return fill(template, values)


def build_argv(
    command: Sequence[str],
    prompt: str,
    *,
    droid: str,
    task_id: str,
    task_file: str,
    workspace: str,
) -> list[str]:
    """The argv of ``runner.command``: placeholders filled in every element but the program
    (taken literally); the prompt is one element. A template without ``{prompt}`` gets the
    prompt appended as its last argument."""
    if not command:
        raise RunError(not_configured_message(), "not-configured")
    program = command[0]
    if _PLACEHOLDER.search(program):
        raise RunError(
            f"runner.command: the program (first element, `{program}`) cannot use placeholders; "
            "name the program itself and pass {prompt}, {droid}, … as arguments",
            "runner",
        )
    values = {
        "prompt": prompt,
        "droid": droid,
        "taskId": task_id,
        "taskFile": task_file,
        "workspace": workspace,
    }
    argv = [program, *(fill(a, values) for a in command[1:])]
    templates: list[str | None] = list(command[1:])
    if not any("{prompt}" in a for a in command[1:]):
        argv.append(prompt)
        templates.append(None)  # the prompt, appended
    argv = [a.replace("\x00", "") for a in argv]  # a NUL cannot be passed (nor meant)
    check_no_injected_option(program, templates, argv[1:])
    return argv


def check_no_injected_option(
    program: str, templates: Sequence[str | None], args: Sequence[str]
) -> None:
    """Refuse an argument that a placeholder made start with ``-`` (a task titled
    ``--dangerously-skip-permissions`` in a prompt that starts with ``{title}``): the program
    would read it as an option. Arguments after a literal ``--`` element are operands, and an
    element written with a leading ``-`` (``--droid={droid}``) is the user's own option.
    ``templates`` holds None for the prompt appended to a template without ``{prompt}``."""
    for n, (template, value) in enumerate(zip(templates, args, strict=True), start=1):
        if template == "--":
            return
        if value.startswith("-") and not (template or "").startswith("-"):
            shown = _short(value.splitlines()[0], 60)
            where = "the prompt, appended" if template is None else f"`{template}`"
            raise RunError(
                f"runner.command: argument {n} ({where}) becomes `{shown}` for this task, which "
                f"starts with `-`: `{os.path.basename(program)}` would read it as an option. "
                "Put a literal \"--\" element before it in runner.command (if the program "
                "accepts `--`), or make the value start with text: pass the task through "
                "{prompt} with a runner.prompt that starts with words, not with a placeholder "
                "such as {title}",
                "runner",
            )


def _search_path(value: str) -> str:
    """``PATH`` without its empty and relative entries: those mean the current directory (or a
    folder below it), which for a run is the workspace — the repository would choose the
    program."""
    return os.pathsep.join(e for e in value.split(os.pathsep) if e and os.path.isabs(e))


def resolve_program(
    program: str, env: Mapping[str, str] | None = None, workspace: str | None = None
) -> str:
    """The absolute path of the runner's program: a name is looked up on ``PATH`` (its absolute
    entries only); an absolute path (``~`` expanded) must be an executable file. A relative path
    (``./x``) is refused: it would resolve inside the workspace, which the repository controls.
    So is a name found inside ``workspace`` (an entry of ``PATH`` below it): only a program the
    user names by its absolute path may live in the workspace."""
    prog = os.path.expanduser(program)
    if os.sep in prog or (os.altsep and os.altsep in prog):
        if not os.path.isabs(prog):
            raise RunError(
                f"runner.command: `{program}` is a relative path; use a program name on PATH or "
                "an absolute path",
                "runner",
            )
        if not (os.path.isfile(prog) and os.access(prog, os.X_OK)):
            raise RunError(f"runner.command: `{program}` is not an executable file", "runner")
        return prog
    path = _search_path((env if env is not None else os.environ).get("PATH") or "")
    found = shutil.which(prog, path=path) if path else None
    if found is None:
        raise RunError(
            f"runner.command: the program `{program}` was not found on PATH (install it, or use "
            "its absolute path; empty and relative PATH entries are not searched)",
            "runner",
        )
    found = os.path.abspath(found)
    if workspace is not None:
        root = os.path.abspath(workspace)
        if _inside(found, root) or _inside(os.path.realpath(found), os.path.realpath(root)):
            raise RunError(
                f"runner.command: the program `{program}` was found on PATH at {found}, inside "
                "the workspace — a repository must not choose the program a run starts. If you "
                "trust that copy, put its absolute path in runner.command; else install the "
                "program outside the workspace",
                "runner",
            )
    return found


_DROID_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


def check_droid_name(name: str) -> str:
    """A droid name safe to pass as an argument and to name files: letters, digits, ``_``, ``-``
    and ``.`` (no ``..``), starting with a letter or digit — so never an option or a path."""
    if not _DROID_NAME.fullmatch(name or "") or ".." in name:
        raise RunError(
            f"`{name}` is not a valid droid name (letters, digits, `-`, `_` and `.`, starting "
            "with a letter or digit)",
            "droid",
        )
    return name


def field_block(text: str, loc: Located) -> str:
    """The task's field items (with their nested notes) as written, dedented."""
    lines = split_lines(text)
    out: list[str] = []
    for f in sorted(loc.task.fields, key=lambda f: f.line):
        start = loc.chunk.line + f.line
        end = loc.chunk.line + max(f.end_line, f.line)
        out.extend(line.rstrip() for line in lines[start : end + 1])
    block = textwrap.dedent("\n".join(out)).strip("\n")
    if len(block) > MAX_FIELDS_CHARS:
        block = block[:MAX_FIELDS_CHARS].rstrip() + "\n… (fields cut; read them in the task file)"
    return block


def locate_task(
    text: str, task_id: str, aliases: Mapping[str, str] | None = None, path: str = ""
) -> tuple[TaskDocument, Located | None]:
    """Parse ``text`` and find the task with ``task_id`` (None when it is not there)."""
    doc = TaskDocument.parse(path, text, dict(aliases if aliases is not None else DEFAULT_ALIASES))
    return doc, find_task(doc, task_id)


def unfinished_dependencies(ws: Workspace | None, doc: TaskDocument, loc: Located) -> list[str]:
    """The dependencies of a task that are not completed, each as ``1.1 (pending)`` — across
    files when ``ws`` is given; a reference to a missing task counts as unfinished."""
    if ws is None:
        from taskdroid.core.workspace import Workspace

        ws = Workspace(None)
    out: list[str] = []
    for ref in loc.task.refs:
        target, problem = ws.resolve_ref(doc, ref)
        if target is None:
            if problem:
                out.append(f"{ref.text} (does not exist)")
            continue
        status = target[1].task.status
        if status is not Status.COMPLETED:
            out.append(f"{ref.text} ({status.label if status else 'malformed marker'})")
    return list(dict.fromkeys(out))


# -- output lines ----------------------------------------------------------------------------------

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


#: characters of a line looked at for what to show (the message is far shorter)
_SHOWN_SCAN_CHARS = 4096


def clean_line(text: str, limit: int | None = None) -> str:
    """A line fit to show: the last ``\\r`` segment (progress bars), no ANSI escapes or control
    characters, tabs as spaces, trimmed; only its first ``limit`` characters when given."""
    if "\r" in text:
        parts = [p for p in text.split("\r") if p.strip()]
        text = parts[-1] if parts else ""
    if limit is not None and len(text) > limit:
        text = text.lstrip()[:limit]
    text = _ANSI.sub("", text)
    text = _CONTROL.sub("", text.replace("\t", " "))
    return text.strip()


def _short(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


#: stream-json events that carry nothing worth showing
_QUIET_EVENTS = frozenset(
    {
        "system",
        "init",
        "user",
        "tool_result",
        "token_usage_update",
        "working_state_changed",
        "session_title_updated",
        "settings_updated",
        "ping",
        "heartbeat",
        "stream_event",
    }
)
_TOOL_ARG_KEYS = ("file_path", "path", "command", "pattern", "query", "url", "description")


def _tool_summary(name: Any, args: Any) -> str:
    label = str(name or "tool")
    if isinstance(args, Mapping):
        for key in _TOOL_ARG_KEYS:
            v = args.get(key)
            if isinstance(v, str) and v.strip():
                return f"{label}: {v.strip()}"
    return label


def _content_text(value: Any) -> str | None:
    """Text of a message's content: a string, a ``{text}`` object, or a list of content blocks
    (text blocks joined; tool calls when there is no text)."""
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, Mapping):
        for key in ("text", "content"):
            if key in value:
                return _content_text(value[key])
        return None
    if isinstance(value, list):
        texts: list[str] = []
        tools: list[str] = []
        for block in value:
            if isinstance(block, str):
                texts.append(block)
            elif isinstance(block, Mapping):
                kind = block.get("type")
                if kind in ("tool_use", "tool_call", "server_tool_use"):
                    tools.append(_tool_summary(block.get("name"), block.get("input")))
                elif kind in ("thinking", "redacted_thinking", "tool_result", "image"):
                    continue
                elif isinstance(block.get("text"), str):
                    texts.append(block["text"])
        text = " ".join(t for t in texts if t.strip())
        if text:
            return text
        return tools[-1] if tools else None
    return None


def summarize_event(event: Mapping[str, Any]) -> str | None:
    """The text worth showing of one ``stream-json`` event (Claude Code's ``-p --output-format
    stream-json``, Factory's ``droid exec -o stream-json`` and similar), or None."""
    kind = str(event.get("type") or event.get("event") or "")
    if kind in _QUIET_EVENTS:
        return None
    if kind == "error" or event.get("is_error") is True:
        detail = _content_text(event.get("message")) or _content_text(event.get("error"))
        detail = detail or _content_text(event.get("result"))
        return f"error: {detail}" if detail else "error"
    if kind in ("tool_call", "tool_use") or "toolName" in event:
        name = event.get("toolName") or event.get("name") or event.get("tool")
        args = event.get("parameters") or event.get("input") or event.get("arguments")
        return _tool_summary(name, args)
    message = event.get("message")
    if isinstance(message, Mapping):
        text = _content_text(message.get("content"))
        if text:
            return text
    for key in ("text", "finalText", "result", "content", "message", "delta", "output"):
        if key in event:
            text = _content_text(event[key])
            if text:
                return text
    return None


def summarize_line(line: str) -> str | None:
    """The latest-line text of one output line: the message of a JSON event (None when the event
    carries nothing to show), else the cleaned line (None when empty)."""
    stripped = line.strip()
    if stripped.startswith("{"):
        try:
            event = json.loads(stripped)
        except ValueError:
            event = None
        if isinstance(event, Mapping):
            text = summarize_event(event)
            return _short(clean_line(text)) if text else None
        if event is None and stripped.startswith('{"'):
            return None  # JSON cut at the line limit, or not JSON after all: no raw JSON shown
    text = clean_line(line, _SHOWN_SCAN_CHARS)
    return _short(text) if text else None


# -- log files and locks ---------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _safe_name(text: str, default: str) -> str:
    out = _UNSAFE.sub("_", text).strip("._-")[:60]
    return out or default


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def resolve_log_dir(workspace: str, log_dir: str) -> Path:
    """``runner.logDir``: relative to the workspace (and then it must stay inside it, symbolic
    links resolved) or absolute (``~`` expanded). Created when missing; a folder created inside
    the workspace gets a ``.gitignore`` so logs are not committed."""
    p = Path(os.path.expanduser(log_dir))
    relative = not p.is_absolute()
    if relative:
        p = Path(workspace) / p
        if not _inside(os.path.realpath(p), os.path.realpath(workspace)):
            raise RunError(
                f"runner.logDir `{log_dir}` leads outside the workspace (through `..` or a "
                "symbolic link); use a folder inside it or an absolute path",
                "path",
            )
    existed = p.is_dir()
    try:
        p.mkdir(parents=True, exist_ok=True)
        if relative and not existed:
            with contextlib.suppress(OSError):
                (p / ".gitignore").write_text("*\n", encoding="utf-8")
    except OSError as e:
        raise RunError(f"runner.logDir: cannot create {p}: {e.strerror or e}", "path") from None
    return p


def _open_log(folder: Path, stem: str, task_id: str, when: datetime) -> tuple[Path, IO[bytes]]:
    """A new log file ``<stem>-<id>-<timestamp>.log`` (never an existing file or link)."""
    base = f"{_safe_name(stem, 'tasks')}-{_safe_name(task_id, 'task')}-{when:%Y%m%d-%H%M%S}"
    for n in range(1, 1000):
        path = folder / (f"{base}.log" if n == 1 else f"{base}-{n}.log")
        try:
            return path, open(path, "xb")  # closed by the run
        except FileExistsError:
            continue
    raise OSError(f"too many log files named {base}*.log")


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


class TaskLock:
    """A lock file per task (``<stem>-<id>-<hash>.lock`` in the log folder), so that two
    processes — the editor's server and a terminal — never run the same task at once. A lock
    whose process is gone (same host) is stale and taken over."""

    def __init__(self, path: Path, run_id: str) -> None:
        self.path = path
        self.run_id = run_id

    @staticmethod
    def path_for(folder: Path, task_path: str, task_id: str) -> Path:
        digest = hashlib.sha1(
            f"{os.path.realpath(task_path)}#{normalize_id(task_id)}".encode()
        ).hexdigest()[:10]
        stem = _safe_name(Path(task_path).stem, "tasks")
        return folder / f"{stem}-{_safe_name(task_id, 'task')}-{digest}.lock"

    @classmethod
    def acquire(cls, folder: Path, task_path: str, task_id: str, run_id: str) -> TaskLock:
        path = cls.path_for(folder, task_path, task_id)
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "runId": run_id,
            "started": datetime.now().isoformat(timespec="seconds"),
        }
        for _ in range(3):
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                holder = cls._holder(path)
                if holder is None:
                    with contextlib.suppress(OSError):
                        path.unlink()
                    continue
                raise RunError(
                    f"task {task_id} is already running in another taskdroid process (pid "
                    f"{holder.get('pid')}, since {holder.get('started', '?')}); wait for it or "
                    "cancel it there",
                    "busy",
                ) from None
            except OSError as e:
                raise RunError(
                    f"cannot create the run lock {path}: {e.strerror or e}", "path"
                ) from None
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(info, fh)
            return cls(path, run_id)
        raise RunError(f"cannot take the run lock {path}", "busy")

    @staticmethod
    def _holder(path: Path) -> dict | None:
        """The live holder of an existing lock, or None when the lock is stale."""
        if path.is_symlink() or not path.is_file():
            return None  # not a lock taskdroid wrote (a link or pipe planted there): replaced
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            age = time.time() - path.stat().st_mtime
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {"pid": "?"} if _young(path) else None
        if not isinstance(data, dict):
            return None
        pid = data.get("pid")
        if data.get("host") == socket.gethostname():
            return data if isinstance(pid, int) and _pid_alive(pid) else None
        return data if age < 24 * 3600 else None

    def release(self) -> None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if isinstance(data, dict) and data.get("runId") == self.run_id:
            with contextlib.suppress(OSError):
                self.path.unlink()


def _young(path: Path) -> bool:
    """A lock file being written right now (unreadable for a moment) is young."""
    try:
        return time.time() - path.stat().st_mtime < 10
    except OSError:
        return False


# -- the run spec ----------------------------------------------------------------------------------


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

    @property
    def key(self) -> tuple[str, str]:
        return (self.task_path, normalize_id(self.task_id))

    @property
    def label(self) -> str:
        return f"{self.task_file} {self.task_id}"


def new_run_id() -> str:
    return f"run-{uuid.uuid4().hex[:8]}"


def prepare_run(
    *,
    workspace: str | os.PathLike,
    task_path: str | os.PathLike,
    text: str,
    task_id: str,
    runner: RunnerSettings,
    aliases: Mapping[str, str] | None = None,
    droid: str | None = None,
    force: bool = False,
    ws: Workspace | None = None,
    env: Mapping[str, str] | None = None,
    run_id: str | None = None,
) -> RunSpec:
    """Check that the task may run and build its command (SPEC §7). Raises :class:`RunError`.

    ``text`` is the current text of the task file (the open buffer, or the disk). ``droid``
    overrides the task's ``**Droid**`` (and need not be in the index); without it the task's
    droid must resolve in ``ws``. ``force`` runs a completed task, or one whose dependencies are
    not completed.
    """
    if not runner.command:
        raise RunError(not_configured_message(), "not-configured")
    root = os.path.normpath(os.path.abspath(os.fspath(workspace)))
    path = os.path.normpath(os.path.abspath(os.fspath(task_path)))
    if not _inside(os.path.realpath(path), os.path.realpath(root)) or path == root:
        raise RunError(
            f"{path} is outside the workspace {root}; runs only work on task files inside it",
            "path",
        )
    rel = os.path.relpath(path, root).replace(os.sep, "/")
    if rel.startswith("-"):
        rel = "./" + rel
    doc, loc = locate_task(text, task_id, aliases, path)
    if loc is None:
        from taskdroid.core.edits import _unknown_task_message

        raise RunError(f"{rel}: {_unknown_task_message(doc, task_id)}", "task")
    task = loc.task
    shown_id = task.id or task_id
    if task.status is Status.COMPLETED and not force:
        raise RunError(
            f"task {shown_id} is already completed; run it again with force", "completed"
        )
    if droid is not None and droid.strip():
        name = check_droid_name(droid.strip())
    else:
        named = task.droid
        if not named:
            raise RunError(
                f"task {shown_id} names no droid: add a `**Droid**: <name>` field to it, or "
                "choose one (`--droid NAME`, or the `droid` argument of taskdroid.runTask)",
                "droid",
            )
        name = check_droid_name(named)
        if ws is not None and ws.resolve_droid(name) is None:
            raise RunError(
                f"task {shown_id} names the droid `{name}`, which is not in the index (no droid "
                "file with that name in .factory/droids, .claude/agents, droids/ or your personal "
                "droid folders); create it, fix the name, or choose a droid explicitly",
                "droid",
            )
    if not force:
        waiting = unfinished_dependencies(ws, doc, loc)
        if waiting:
            raise RunError(
                f"task {shown_id} depends on {', '.join(waiting)}, not completed yet; finish "
                "those first, or run it anyway with force",
                "dependencies",
            )
    program = resolve_program(runner.command[0], env, root)
    prompt = build_prompt(
        runner.prompt,
        droid=name,
        task_id=shown_id,
        task_file=rel,
        workspace=root,
        title=task.title,
        fields=field_block(text, loc),
    )
    argv = build_argv(
        runner.command, prompt, droid=name, task_id=shown_id, task_file=rel, workspace=root
    )
    argv[0] = program
    return RunSpec(
        run_id=run_id or new_run_id(),
        workspace=root,
        task_path=path,
        task_file=rel,
        task_id=shown_id,
        title=task.title,
        droid=name,
        argv=tuple(argv),
        prompt=prompt,
        timeout=float(runner.timeoutSeconds),
        max_parallel=int(runner.maxParallel),
        log_dir=resolve_log_dir(root, runner.logDir),
        aliases=dict(aliases if aliases is not None else DEFAULT_ALIASES),
        env=dict(env) if env is not None else None,
    )


# -- hooks and results -----------------------------------------------------------------------------


class RunHooks:
    """How a run reads its task file, writes status edits and shows progress.

    ``progress`` gets ``kind`` ``queued`` (waiting for a slot), ``started`` (the droid runs),
    ``output`` (the latest meaningful line) and ``finished`` (the outcome message).
    """

    async def read_text(self, run: Run) -> str | None:
        from taskdroid.core.workspace import ReadError, read_text

        try:
            return read_text(run.spec.task_path)
        except ReadError:
            return None

    async def set_status(
        self,
        run: Run,
        status: Status,
        *,
        note: str | None = None,
        extra_fields: Sequence[tuple[str, str]] = (),
    ) -> bool:
        """Apply the status edit of SPEC §5 to the task; True when it was applied."""
        raise NotImplementedError

    def progress(self, run: Run, kind: str, message: str) -> None:
        pass

    async def kept(self, run: Run, status: Status | None) -> None:
        """The droid set the task's status itself (``status``) and the run leaves it so."""


@dataclass(slots=True)
class RunResult:
    #: ``completed``, ``blocked`` (non-zero exit), ``timeout``, ``cancelled``, ``error`` (could
    #: not start), ``kept`` (the droid set the status itself) or ``gone`` (the task disappeared)
    outcome: str
    message: str
    exit_code: int | None = None
    #: the task's status at the end (None when unknown)
    final_status: Status | None = None
    #: the ``**Error**`` written, if any
    error: str | None = None
    log_path: Path | None = None
    duration: float = 0.0
    #: the outcome could not be written into the task file
    not_recorded: bool = False


def format_duration(seconds: float) -> str:
    if 0 <= seconds < 10 and seconds != int(seconds):
        return f"{seconds:.1f} s"
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    m, s = divmod(seconds, 60)
    if m < 60:
        return f"{m} min {s} s" if s else f"{m} min"
    h, m = divmod(m, 60)
    return f"{h} h {m} min" if m else f"{h} h"


# -- processes -------------------------------------------------------------------------------------
#
# A droid runs in a process group of its own, and everything it starts inherits its environment,
# which carries ``TASKDROID_RUN_ID``. Stopping a run signals the group, and then every process of
# this user whose environment carries the run's ID (read from ``/proc/<pid>/environ`` on Linux):
# that reaches what left the group (``setsid``, a double fork) too. A small guardian process,
# running while the taskdroid process has runs, knows the groups and run IDs of the live runs:
# when the taskdroid process dies in any way — SIGKILL included — its end of the guardian's pipe
# closes and the guardian kills them.

_POSIX = os.name == "posix"
_SIGKILL = getattr(signal, "SIGKILL", signal.SIGTERM)
#: /proc is there (Linux): process groups can be listed and escaped processes found
_PROCFS = _POSIX and os.path.isdir("/proc/self")
#: the environment variable that marks every process of a run
RUN_ID_ENV = "TASKDROID_RUN_ID"
#: process groups of droids still running → their run ID (killed at interpreter exit)
_LIVE_GROUPS: dict[int, str] = {}


def _proc_pids() -> list[int]:
    try:
        return [int(n) for n in os.listdir("/proc") if n.isdigit()]
    except OSError:
        return []


def _proc_state(pid: int) -> tuple[str, int] | None:
    """(state letter, process group) of a process, from ``/proc/<pid>/stat``; None when gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    fields = data.rpartition(b")")[2].split()  # the command name may hold spaces and parentheses
    try:
        return fields[0].decode("ascii", "replace"), int(fields[2])
    except (IndexError, ValueError):
        return None


def _group_alive(pgid: int) -> bool:
    """Whether process group ``pgid`` still has a member that is not a zombie (a zombie stays
    around where the init process does not reap orphans, as in some containers)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    if not _PROCFS:
        return True
    for pid in _proc_pids():
        state = _proc_state(pid)
        if state is not None and state[1] == pgid and state[0] not in ("Z", "X"):
            return True
    return False


def _marked_pids(run_ids: Sequence[str]) -> list[int]:
    """Live processes of this user whose environment carries one of ``run_ids`` (Linux; elsewhere
    none are found). This process is never one of them."""
    if not _PROCFS or not run_ids:
        return []
    needles = [f"\0{RUN_ID_ENV}={r}\0".encode() for r in run_ids]
    me, uid = os.getpid(), os.getuid()
    found = []
    for pid in _proc_pids():
        if pid == me:
            continue
        try:
            if os.stat(f"/proc/{pid}").st_uid != uid:
                continue
            with open(f"/proc/{pid}/environ", "rb") as fh:
                env = b"\0" + fh.read() + b"\0"  # a zombie's is empty
        except OSError:
            continue
        if any(n in env for n in needles):
            found.append(pid)
    return found


def _signal_pids(pids: Sequence[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, sig)


def _kill_marked(run_ids: Sequence[str], rounds: int = 4) -> None:
    """SIGKILL every process carrying one of ``run_ids``, again until none is left (a process
    may fork between the scan and the signal)."""
    for _ in range(rounds):
        pids = _marked_pids(run_ids)
        if not pids:
            return
        _signal_pids(pids, _SIGKILL)


def _kill_live_groups() -> None:
    groups = dict(_LIVE_GROUPS)
    _LIVE_GROUPS.clear()
    for pgid in groups:
        with contextlib.suppress(OSError):
            os.killpg(pgid, _SIGKILL)
    _kill_marked(list(groups.values()))


if _POSIX:
    atexit.register(_kill_live_groups)


#: the guardian: reads ``+ RUN_ID PGID`` and ``- RUN_ID`` lines; at end of input (the taskdroid
#: process is gone, however it ended) it kills the groups and the marked processes still listed
_GUARDIAN_SOURCE = r"""# taskdroid run guardian
import os, signal, sys
for s in (signal.SIGINT, signal.SIGHUP, signal.SIGPIPE):
    signal.signal(s, signal.SIG_IGN)
live = {}
for line in sys.stdin.buffer:
    parts = line.split()
    if len(parts) == 3 and parts[0] == b"+" and parts[2].isdigit():
        live[parts[1]] = int(parts[2])
    elif len(parts) == 2 and parts[0] == b"-":
        live.pop(parts[1], None)
for pgid in live.values():
    if pgid > 1:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except OSError:
            pass
needles = [b"\0%s=%s\0" % (MARK, r) for r in live]
me = os.getpid()
for _ in range(4 if needles else 0):
    try:
        names = [n for n in os.listdir("/proc") if n.isdigit() and int(n) != me]
    except OSError:
        break
    found = []
    for n in names:
        try:
            with open("/proc/%s/environ" % n, "rb") as fh:
                env = b"\0" + fh.read() + b"\0"
        except OSError:
            continue
        if any(x in env for x in needles):
            found.append(int(n))
    if not found:
        break
    for pid in found:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
""".replace("MARK", repr(RUN_ID_ENV.encode()))

_SAFE_RUN_ID = re.compile(r"[A-Za-z0-9._-]{1,100}")


async def _start_process(argv: Sequence[str], **options: Any) -> asyncio.subprocess.Process:
    """The one place where taskdroid starts a process (the droid, and the guardian): an argv
    list, never a shell."""
    return await asyncio.create_subprocess_exec(*argv, **options)


class _Guardian:
    """The guardian process of this taskdroid process, running while there are runs (POSIX,
    with a Python interpreter as ``sys.executable``)."""

    def __init__(self) -> None:
        self._proc: asyncio.subprocess.Process | None = None
        self._retired: asyncio.subprocess.Process | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._start_lock: asyncio.Lock | None = None
        self._live: dict[str, int] = {}
        self._disabled = not _POSIX or getattr(sys, "frozen", False) or not sys.executable

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.returncode is None else None

    async def ensure(self) -> None:
        """A guardian running (started when there is none) on this event loop."""
        if self._disabled:
            return
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._start_lock is None:
            self._proc = self._retired = None  # a loop that is gone: its guardian ends with us
            self._loop, self._start_lock = loop, asyncio.Lock()
        async with self._start_lock:
            proc = self._proc
            if proc is not None and proc.returncode is None:
                return
            try:
                proc = await _start_process(
                    [sys.executable, "-I", "-S", "-c", _GUARDIAN_SOURCE],
                    # -I: no current directory (the workspace), PYTHONPATH or user site on
                    # sys.path; -S: no site module; and a cwd outside the workspace
                    cwd="/" if _POSIX else None,
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.DEVNULL,
                    start_new_session=True,  # not reached by the terminal's Ctrl-C
                )
            except (OSError, ValueError) as e:
                log.warning("no run guardian (%s): droids may outlive a killed taskdroid", e)
                self._disabled = True
                return
            self._proc = proc
            self._write("".join(f"+ {r} {g}\n" for r, g in self._live.items()))

    def track(self, run_id: str, pgid: int) -> None:
        if _SAFE_RUN_ID.fullmatch(run_id):
            self._live[run_id] = pgid
            self._write(f"+ {run_id} {pgid}\n")

    def untrack(self, run_id: str) -> None:
        """The run's processes are gone. With no run left, the guardian ends (its input closed,
        nothing listed): no helper process stays around between runs."""
        if self._live.pop(run_id, None) is None:
            return
        self._write(f"- {run_id}\n")
        if not self._live and self._proc is not None:
            self._retired, self._proc = self._proc, None
            with contextlib.suppress(Exception):
                self._retired.stdin.close()  # type: ignore[union-attr]

    async def settle(self) -> None:
        """Wait (briefly) for a guardian that was told to end, so that it is reaped."""
        proc, self._retired = self._retired, None
        if proc is not None and self._loop is asyncio.get_running_loop():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(proc.wait(), 2.0)

    def _write(self, text: str) -> None:
        proc = self._proc
        if not text or proc is None or proc.returncode is not None or proc.stdin is None:
            return
        try:
            proc.stdin.write(text.encode())
        except Exception as e:  # gone: tracking is best effort
            log.debug("run guardian: %s", e)


_GUARDIAN = _Guardian()


# -- termination of the taskdroid process ----------------------------------------------------------

#: run managers of this process (for the termination handler)
_MANAGERS: weakref.WeakSet[RunManager] = weakref.WeakSet()
#: seconds a terminated taskdroid process takes to stop its runs and record them
TERMINATION_BUDGET = 2.0
_termination_reason = "taskdroid was terminated"
_terminating: int | None = None
_BACKGROUND: set[asyncio.Future] = set()


def kill_droids_on_termination(reason: str | None = None) -> None:
    """On SIGTERM and SIGHUP of this process, stop its runs as ``shutdown`` does — the droids
    stopped, each task back to its previous status with ``**Status**: Run cancelled … (reason)``
    — within :data:`TERMINATION_BUDGET` seconds, then die of the signal; a second signal, or the
    budget running out, kills the droids at once. Only where no other handler is installed, and
    only from the main thread (elsewhere this does nothing)."""
    global _termination_reason
    if reason:
        _termination_reason = reason
    if not _POSIX:
        return
    for sig in (signal.SIGTERM, signal.SIGHUP):
        try:
            if signal.getsignal(sig) is signal.SIG_DFL:
                signal.signal(sig, _on_termination)
        except ValueError:  # not the main thread
            return


def _on_termination(signum: int, frame: Any) -> None:
    global _terminating
    if _terminating is not None:
        _die(signum)
    _terminating = signum
    live = [m for m in list(_MANAGERS) if m.runs and m.loop is not None and m.loop.is_running()]
    if not live:
        _die(signum)
    timer = threading.Timer(
        TERMINATION_BUDGET + INTERRUPT_RECORD_SECONDS + 1.0, _die_from_thread, (signum,)
    )
    timer.daemon = True
    timer.start()
    name = signal.Signals(signum).name
    reason = f"{_termination_reason} ({name})"
    for manager in live:
        loop = manager.loop
        assert loop is not None

        def stop(manager: RunManager = manager) -> None:
            task = asyncio.ensure_future(_stop_then_die(manager, reason, signum))
            _BACKGROUND.add(task)
            task.add_done_callback(_BACKGROUND.discard)

        loop.call_soon_threadsafe(stop)


async def _stop_then_die(manager: RunManager, reason: str, signum: int) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TERMINATION_BUDGET + INTERRUPT_RECORD_SECONDS
    try:
        await manager.stop_all(
            reason, kill_after=TERMINATION_BUDGET / 3, timeout=TERMINATION_BUDGET * 0.8
        )
    except BaseException:  # dying anyway
        log.exception("stopping the runs failed")
    # runs cut short by stop_all's timeout still try to record the cancel, briefly
    while any(m.runs for m in list(_MANAGERS)) and loop.time() < deadline:
        await asyncio.sleep(0.02)
    _die(signum)


def _die(signum: int) -> None:
    _kill_live_groups()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _die_from_thread(signum: int) -> None:
    _kill_live_groups()
    os._exit(128 + signum)


class _Slots:
    """At most ``limit`` holders at once, first come first served (the limit is per request, so a
    changed ``runner.maxParallel`` applies to the next runs)."""

    def __init__(self) -> None:
        self.active = 0
        self._waiters: deque[tuple[asyncio.Future, int]] = deque()

    @property
    def waiting(self) -> int:
        return sum(1 for f, _ in self._waiters if not f.done())

    def try_acquire(self, limit: int) -> bool:
        if self.active < limit and not self.waiting:
            self.active += 1
            return True
        return False

    def enqueue(self, limit: int) -> asyncio.Future:
        fut = asyncio.get_running_loop().create_future()
        self._waiters.append((fut, limit))
        return fut

    def withdraw(self, fut: asyncio.Future) -> None:
        """Give up a place in the queue (a granted slot is released)."""
        if fut.done() and not fut.cancelled():
            self.release()
        else:
            fut.cancel()

    def release(self) -> None:
        self.active = max(0, self.active - 1)
        self._wake()

    def _wake(self) -> None:
        while self._waiters:
            fut, limit = self._waiters[0]
            if fut.done():
                self._waiters.popleft()
                continue
            if self.active >= limit:
                return
            self._waiters.popleft()
            self.active += 1
            fut.set_result(None)


# -- a run -----------------------------------------------------------------------------------------


class _Stream:
    """One output stream cut into lines: the line being read (at most :data:`MAX_LINE_BYTES`)
    and whether the rest of an over-long line is being skipped."""

    __slots__ = ("buf", "name", "prefix", "skipping")

    def __init__(self, name: str) -> None:
        self.name = name
        self.buf = bytearray()
        self.skipping = False
        self.prefix = b"[stderr] " if name == "stderr" else b""


#: lines looked at, from the end of a chunk of output, for the latest meaningful one
_LOOK_BACK = 32
#: seconds an interrupted run (its asyncio task cancelled) may take to record the cancel
INTERRUPT_RECORD_SECONDS = 1.5
#: seconds a run waits for another to finish editing the same task file
EDIT_LOCK_WAIT = 10.0
_CUT_MARK = " …[line cut]".encode()


def _alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    if _PROCFS:
        state = _proc_state(pid)
        return state is not None and state[0] not in ("Z", "X")
    return _pid_alive(pid)


async def _exit_of(proc: asyncio.subprocess.Process) -> int:
    """The droid's exit status as soon as it exits. (``Process.wait()`` also waits for its pipes
    to close, which a child the droid left running can hold open for ever.)"""
    waiter = asyncio.ensure_future(proc.wait())
    try:
        while proc.returncode is None and not waiter.done():
            await asyncio.wait({waiter}, timeout=0.05)
        return proc.returncode if proc.returncode is not None else waiter.result()
    finally:
        waiter.cancel()


def _size_text(n: int) -> str:
    mib = 1024 * 1024
    return f"{n // mib} MiB" if n % mib == 0 else f"{n // 1024} KiB"


def _read_problem(path: str) -> str:
    from taskdroid.core.workspace import ReadError, read_text

    try:
        read_text(path)
    except ReadError as e:
        return str(e)
    return "it changed while being read"


#: the key of the lock file that serialises status edits of one task file (never a task ID)
_EDIT_KEY = "edits"


@contextlib.asynccontextmanager
async def _edit_lock(spec: RunSpec, run_id: str):
    """Status edits of one task file, one at a time among taskdroid processes and the runs of one
    process: a lock file next to the logs (a :class:`TaskLock` on the file rather than on a
    task), waited for without blocking the event loop. Best effort: when it cannot be had (a
    folder that cannot be written, :data:`EDIT_LOCK_WAIT` seconds passed) the edit goes ahead
    without it — the writers still refuse to replace a file that changed since they read it."""
    lock = None
    deadline = time.monotonic() + EDIT_LOCK_WAIT
    while True:
        try:
            lock = TaskLock.acquire(spec.log_dir, spec.task_path, _EDIT_KEY, run_id)
            break
        except RunError as e:
            if e.kind != "busy" or time.monotonic() > deadline:
                log.warning("%s: status edit without the edit lock (%s)", spec.label, e)
                break
            await asyncio.sleep(0.01)
    try:
        yield
    finally:
        if lock is not None:
            lock.release()


class Run:
    """One droid run; :meth:`execute` drives it, :meth:`cancel` stops it."""

    def __init__(
        self,
        spec: RunSpec,
        hooks: RunHooks,
        manager: RunManager,
        lock: TaskLock | None,
        *,
        grace: float = DEFAULT_GRACE,
    ) -> None:
        self.spec = spec
        self.id = spec.run_id
        self.hooks = hooks
        self.manager = manager
        self.lock = lock
        self.grace = grace
        #: ``queued``, ``starting``, ``running``, ``stopping``, ``finished``
        self.state = "queued"
        self.latest = ""
        self.last_stderr = ""
        self.pid: int | None = None
        self.previous: Status | None = None
        self.cancel_reason: str | None = None
        self.cancel_note: str | None = None
        self.result: RunResult | None = None
        self.task: asyncio.Task | None = None
        self.log_path: Path | None = None
        self.created = time.monotonic()
        self.started: float | None = None
        self._cancel = asyncio.Event()
        self._kill_now = asyncio.Event()
        self._log: IO[bytes] | None = None
        self._log_bytes = 0
        self._log_full = False
        self._reported = ""
        self._last_report = 0.0
        self._report_handle: asyncio.TimerHandle | None = None
        self._slot_held = False
        #: the task was marked in progress (so there is something to restore)
        self._marked = False
        #: the outcome is being written
        self._recording = False

    # -- control ------------------------------------------------------------------------------
    @property
    def elapsed(self) -> float:
        return time.monotonic() - (self.started if self.started is not None else self.created)

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self, reason: str = "cancelled", *, note: str | None = None) -> bool:
        """Stop the run (SIGTERM, SIGKILL after the grace period); False when already over.
        ``note`` is written after the ``Run cancelled`` timestamp in the task."""
        if self.result is not None or self.state == "finished":
            return False
        if self.cancel_reason is None:
            self.cancel_reason = reason
            self.cancel_note = note
        self._cancel.set()
        return True

    def kill(self) -> None:
        """Stop the run without waiting for the grace period."""
        self.cancel("killed")
        self._kill_now.set()

    # -- the run ------------------------------------------------------------------------------
    async def execute(self) -> RunResult:
        try:
            result = await self._execute()
        except asyncio.CancelledError:
            await self._interrupted()
            raise
        except Exception as e:  # a bug: never leave the droid running
            log.exception("run %s failed", self.id)
            self._hard_kill()
            result = RunResult("error", f"internal error: {e}", log_path=self.log_path)
        result.duration = self.elapsed if self.started is not None else 0.0
        self.result = result
        self._finish()
        self._emit("finished", result.message)
        await _GUARDIAN.settle()
        return result

    async def _interrupted(self) -> None:
        """The asyncio task driving the run was cancelled (the process is going down): kill the
        droid at once and, when the task was marked in progress and its outcome is not being
        written yet, try for :data:`INTERRUPT_RECORD_SECONDS` to write it back as cancelled."""
        self._hard_kill()
        result = None
        if self._marked and not self._recording:
            if self.cancel_reason is None:
                self.cancel_reason = "interrupted"
                self.cancel_note = "taskdroid stopped during the run"
            try:
                result = await asyncio.wait_for(
                    self._record("cancelled", None, None), INTERRUPT_RECORD_SECONDS
                )
            except BaseException as e:  # the original cancellation is raised below
                log.warning("run %s: the cancel was not recorded (%s)", self.id, type(e).__name__)
        if result is None:
            result = RunResult(
                "cancelled", "stopped: the run was interrupted", log_path=self.log_path,
                not_recorded=self._marked,
            )  # fmt: skip
        result.duration = self.elapsed if self.started is not None else 0.0
        self.result = result
        self._finish()
        self._emit("finished", result.message)
        with contextlib.suppress(BaseException):
            await _GUARDIAN.settle()

    def _finish(self) -> None:
        self.state = "finished"
        if self._report_handle is not None:
            self._report_handle.cancel()
            self._report_handle = None
        if self._slot_held:
            self._slot_held = False
            self.manager._slots.release()
        self._close_log()
        if self.lock is not None:
            self.lock.release()
        self.manager._forget(self)

    async def _execute(self) -> RunResult:
        if not await self._acquire_slot():
            return RunResult(
                "cancelled",
                f"cancelled before it started ({self.cancel_reason or 'cancelled'}); the task "
                "was not changed",
            )
        self.state = "starting"
        spec = self.spec
        text = await self.hooks.read_text(self)
        loc = self._locate(text)
        if loc is None:
            return RunResult("gone", f"task {spec.task_id} is no longer in {spec.task_file}")
        if self.cancelled:
            return RunResult(
                "cancelled", f"cancelled before it started ({self.cancel_reason})",
                final_status=loc.task.status,
            )  # fmt: skip
        self.previous = loc.task.status
        problem = await self._set_status(Status.IN_PROGRESS)
        if problem is not None:
            return RunResult(
                "error",
                f"could not mark task {spec.task_id} in progress ({problem}); the droid was not "
                "started",
                final_status=loc.task.status,
            )
        self._marked = True
        if self.cancelled:
            return await self._record("cancelled", None, None)
        self.started = time.monotonic()
        start_error = None
        proc = None
        try:
            self._open_log()
        except OSError as e:  # run anyway, without a log
            log.warning("run %s: cannot create a log file in %s: %s", self.id, spec.log_dir, e)
        await _GUARDIAN.ensure()
        _GUARDIAN.track(self.id, 0)
        try:
            proc = await self._spawn()
        except (OSError, ValueError) as e:
            start_error = f"could not start `{spec.argv[0]}`: {getattr(e, 'strerror', None) or e}"
            self._log_text(f"# {start_error}\n")
        if proc is None:
            _GUARDIAN.untrack(self.id)
            return await self._record("error", None, start_error)
        self.pid = proc.pid
        self.state = "running"
        self._emit("started", f"{Path(spec.argv[0]).name}, pid {proc.pid}")
        pumps = [
            asyncio.ensure_future(self._pump(proc.stdout, "stdout")),
            asyncio.ensure_future(self._pump(proc.stderr, "stderr")),
        ]
        try:
            kind = await self._wait(proc)
            if kind == "exited":
                await self._sweep_group(proc)
            else:
                self.state = "stopping"
                self._emit("output", "stopping the droid…")
                await self._stop(proc)
            await self._drain(pumps, proc)
            self._flush_latest()
        finally:
            for p in pumps:
                p.cancel()
            if proc.returncode is None:  # interrupted (the asyncio task was cancelled)
                self._hard_kill()
            _LIVE_GROUPS.pop(proc.pid, None)
            _GUARDIAN.untrack(self.id)
        rc = proc.returncode
        self._log_footer(f"# exit code {rc} after {format_duration(self.elapsed)} ({kind})\n")
        return await self._record(kind, rc, None)

    async def _acquire_slot(self) -> bool:
        slots = self.manager._slots
        limit = self.spec.max_parallel
        if slots.try_acquire(limit):
            self._slot_held = True
            return True
        busy = slots.active
        self._emit(
            "queued",
            f"queued: {busy} run{'s' if busy != 1 else ''} already running "
            f"(runner.maxParallel = {limit}); waiting for a free slot",
        )
        fut = slots.enqueue(limit)
        cancel = asyncio.ensure_future(self._cancel.wait())
        try:
            await asyncio.wait({fut, cancel}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            slots.withdraw(fut)
            raise
        finally:
            cancel.cancel()
        if self.cancelled:
            slots.withdraw(fut)
            return False
        self._slot_held = True
        return True

    async def _spawn(self) -> asyncio.subprocess.Process:
        spec = self.spec
        env = dict(spec.env if spec.env is not None else os.environ)
        env.update(
            {
                RUN_ID_ENV: spec.run_id,
                "TASKDROID_TASK_ID": spec.task_id,
                "TASKDROID_TASK_FILE": spec.task_file,
                "TASKDROID_WORKSPACE": spec.workspace,
                "TASKDROID_DROID": spec.droid,
            }
        )
        proc = await _start_process(
            spec.argv,
            cwd=spec.workspace,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            start_new_session=_POSIX,
        )
        if _POSIX:
            _LIVE_GROUPS[proc.pid] = self.id
            _GUARDIAN.track(self.id, proc.pid)
        return proc

    async def _wait(self, proc: asyncio.subprocess.Process) -> str:
        """``exited``, ``cancelled`` or ``timeout``."""
        waiter = asyncio.ensure_future(_exit_of(proc))
        cancel = asyncio.ensure_future(self._cancel.wait())
        try:
            done, _ = await asyncio.wait(
                {waiter, cancel}, timeout=self.spec.timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            cancel.cancel()
            waiter.cancel()
        if waiter in done:
            return "exited"
        return "cancelled" if cancel in done else "timeout"

    # -- stopping -----------------------------------------------------------------------------
    def _signal(self, proc: asyncio.subprocess.Process, sig: int) -> bool:
        """Send ``sig`` to the droid's process group; False when nothing is left of it."""
        if _POSIX:
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                return False
            except PermissionError:
                return True
            return True
        if proc.returncode is not None:  # pragma: no cover - Windows
            return False
        try:  # pragma: no cover - Windows
            proc.kill() if sig == getattr(signal, "SIGKILL", None) else proc.terminate()
        except ProcessLookupError:  # pragma: no cover
            return False
        return True  # pragma: no cover

    async def _stop(self, proc: asyncio.subprocess.Process) -> None:
        """SIGTERM the group and what left it; SIGKILL the droid after the grace period (or at
        once after :meth:`kill`); then SIGKILL whatever of the run ignored SIGTERM."""
        deadline = time.monotonic() + self.grace
        self._signal(proc, signal.SIGTERM)
        _signal_pids(_marked_pids([self.id]), signal.SIGTERM)
        waiter = asyncio.ensure_future(_exit_of(proc))
        kill_now = asyncio.ensure_future(self._kill_now.wait())
        try:
            done, _ = await asyncio.wait(
                {waiter, kill_now}, timeout=self.grace, return_when=asyncio.FIRST_COMPLETED
            )
            if waiter not in done:
                self._log_footer("# the droid did not stop on SIGTERM: SIGKILL\n")
                self._signal(proc, _SIGKILL)
                await asyncio.wait({waiter}, timeout=10.0)  # stuck in the kernel: go on
        finally:
            kill_now.cancel()
            waiter.cancel()
        if _POSIX:
            self._signal(proc, _SIGKILL)
            await self._sweep_escaped(deadline)

    async def _sweep_group(self, proc: asyncio.subprocess.Process) -> None:
        """After the droid exited: stop what it left running, in its process group or escaped
        from it — SIGTERM, then SIGKILL after the grace period."""
        if not _POSIX:
            return
        group = _group_alive(proc.pid)
        escaped = _marked_pids([self.id])
        if not group and not escaped:
            return
        self._log_footer("# the droid exited but left processes running: SIGTERM, then SIGKILL\n")
        if group:
            self._signal(proc, signal.SIGTERM)
        _signal_pids(escaped, signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        while time.monotonic() < deadline and not self._kill_now.is_set():
            await asyncio.sleep(0.05)
            if not _group_alive(proc.pid) and not any(_alive(p) for p in escaped):
                break
        self._signal(proc, _SIGKILL)
        await self._sweep_escaped(time.monotonic())

    async def _sweep_escaped(self, deadline: float) -> None:
        """The processes of the run outside its (now killed) process group — a daemon that
        called ``setsid`` — already sent SIGTERM: SIGKILL those still alive at ``deadline``."""
        pids = _marked_pids([self.id])
        if not pids:
            return
        self._log_footer(f"# stopping {len(pids)} process(es) the droid left outside its group\n")
        while time.monotonic() < deadline and not self._kill_now.is_set():
            await asyncio.sleep(0.05)
            pids = [p for p in pids if _alive(p)]
            if not pids:
                break
        _kill_marked([self.id])

    def _hard_kill(self) -> None:
        """SIGKILL everything of the run now (no waiting)."""
        pid = self.pid
        if pid is not None and _POSIX:
            if _LIVE_GROUPS.pop(pid, None) is not None:
                with contextlib.suppress(OSError):
                    os.killpg(pid, _SIGKILL)
            _kill_marked([self.id])
        _GUARDIAN.untrack(self.id)

    async def _drain(
        self, pumps: list[asyncio.Future], proc: asyncio.subprocess.Process | None = None
    ) -> None:
        """Let the readers reach the end of the output (a process that escaped the group may hold
        the pipes open: it is not waited for long)."""
        _, pending = await asyncio.wait(pumps, timeout=2.0)
        for p in pending:
            p.cancel()
        if pending and proc is not None:  # close our ends: the holder gets SIGPIPE, not us
            transport = getattr(proc, "_transport", None)
            with contextlib.suppress(Exception):
                transport.close()  # type: ignore[union-attr]

    # -- output -------------------------------------------------------------------------------
    async def _pump(self, stream: asyncio.StreamReader | None, name: str) -> None:
        """Read ``stream`` to its end in chunks. The log gets the lines (each cut at
        :data:`MAX_LINE_BYTES`, the file at :data:`MAX_LOG_BYTES`); progress and the last
        stderr line look only at the last lines of each chunk, so that a flood of short lines
        costs little more than copying it."""
        if stream is None:
            return
        st = _Stream(name)
        chunks = 0
        while True:
            chunk = await stream.read(_READ_CHUNK)
            if not chunk:
                break
            self._feed(st, chunk)
            if self._log is not None and not self._log_full:
                with contextlib.suppress(OSError):
                    self._log.flush()
            chunks += 1
            if chunks % 8 == 0:
                await asyncio.sleep(0)  # a flood of output must not starve the loop
        if st.buf and not st.skipping:
            self._line(st, bytes(st.buf), cut=False)
            st.buf.clear()

    def _feed(self, st: _Stream, chunk: bytes) -> None:
        limit = MAX_LINE_BYTES
        first = chunk.find(b"\n")
        if first < 0:
            self._partial(st, chunk)
            return
        if st.skipping:  # the end of a line already cut
            st.skipping = False
        else:
            room = limit - len(st.buf)
            st.buf += chunk[:first][:room]
            self._line(st, bytes(st.buf), cut=first > room)
        st.buf.clear()
        last = chunk.rfind(b"\n")
        if last > first:
            body = chunk[first + 1 : last]
            if len(body) <= limit:
                self._lines(st, body)
            else:  # only with a line limit below the chunk size
                for line in body.split(b"\n"):
                    self._line(st, line[:limit], cut=len(line) > limit)
        if last + 1 < len(chunk):
            self._partial(st, chunk[last + 1 :])

    def _partial(self, st: _Stream, data: bytes) -> None:
        """Bytes of a line whose end has not come yet."""
        if st.skipping:
            if data.count(b"\r") >= 2:  # a progress bar redrawn with \r, never a newline
                self._carriage(st, data)
            return
        room = MAX_LINE_BYTES - len(st.buf)
        if len(data) > room:
            st.buf += data[:room]
            self._line(st, bytes(st.buf), cut=True)
            st.buf.clear()
            st.skipping = True
            return
        st.buf += data
        if b"\r" in data:
            self._carriage(st, st.buf)

    def _carriage(self, st: _Stream, window: bytes | bytearray) -> None:
        """Progress from the last complete ``\\r`` segment of a line still being written."""
        end = window.rfind(b"\r")
        if end <= 0:
            return
        start = window.rfind(b"\r", 0, end) + 1
        self._note(st, bytes(window[start:end]).decode("utf-8", "replace"), stderr=False)

    def _line(self, st: _Stream, data: bytes, cut: bool) -> None:
        """One line (without its newline)."""
        if data.endswith(b"\r"):
            data = data[:-1]
        self._log_write(st.prefix + data + (_CUT_MARK if cut else b"") + b"\n")
        self._note(st, data.decode("utf-8", "replace"))

    def _lines(self, st: _Stream, body: bytes) -> None:
        """Complete lines, each shorter than the limit, separated by newlines."""
        if self._log is not None and not self._log_full:
            data = body.replace(b"\r\n", b"\n") if b"\r" in body else body
            if st.prefix:
                data = st.prefix + data.replace(b"\n", b"\n" + st.prefix)
            self._log_write(data + b"\n")
        want_stderr = st.name == "stderr"
        want_summary = True
        end = len(body)
        for _ in range(_LOOK_BACK):
            start = body.rfind(b"\n", 0, end) + 1
            text = body[start:end].decode("utf-8", "replace")
            if want_summary:
                summary = summarize_line(text)
                if summary:
                    self.latest = summary
                    want_summary = False
                    self._report_soon()
            if want_stderr and self._stderr_line(text):
                want_stderr = False
            if start == 0 or not (want_summary or want_stderr):
                break
            end = start - 1

    def _note(self, st: _Stream, text: str, *, stderr: bool = True) -> None:
        if stderr and st.name == "stderr":
            self._stderr_line(text)
        summary = summarize_line(text)
        if summary:
            self.latest = summary
            self._report_soon()

    def _stderr_line(self, text: str) -> bool:
        shown = clean_line(text, _SHOWN_SCAN_CHARS)
        if shown and not shown.lstrip().startswith('{"'):
            self.last_stderr = _short(shown, 300)
            return True
        return False

    def _report_soon(self) -> None:
        if self._report_handle is not None:
            return
        wait = PROGRESS_INTERVAL - (time.monotonic() - self._last_report)
        if wait <= 0:
            self._report_latest()
        else:
            self._report_handle = asyncio.get_running_loop().call_later(wait, self._report_latest)

    def _report_latest(self) -> None:
        self._report_handle = None
        if self.state in ("finished",) or self.latest == self._reported:
            return
        self._reported = self.latest
        self._last_report = time.monotonic()
        self._emit("output", self.latest)

    def _flush_latest(self) -> None:
        """Report the latest line now if a report of it is still pending."""
        if self._report_handle is not None:
            self._report_handle.cancel()
            self._report_latest()

    def _emit(self, kind: str, message: str) -> None:
        try:
            self.hooks.progress(self, kind, message)
        except Exception:
            log.exception("progress hook failed")

    # -- the log ------------------------------------------------------------------------------
    def _open_log(self) -> None:
        spec = self.spec
        when = datetime.now()
        self.log_path, self._log = _open_log(
            spec.log_dir, Path(spec.task_path).stem, spec.task_id, when
        )
        shown = [a if a != spec.prompt else "<prompt>" for a in spec.argv]
        head = [
            f"# taskdroid run {spec.run_id}",
            f"# task: {spec.task_file} {spec.task_id} {spec.title}",
            f"# droid: {spec.droid}",
            f"# command: {json.dumps(shown, ensure_ascii=False)}",
            f"# cwd: {spec.workspace}",
            f"# started: {when.isoformat(timespec='seconds')}",
            "# prompt:",
            *(f"#   {line}" for line in spec.prompt.splitlines()),
            "",
        ]
        self._log_text("\n".join(head))

    def _log_text(self, text: str) -> None:
        self._log_write(text.encode("utf-8", "replace"))

    def _log_write(self, data: bytes) -> None:
        """Append to the log; past :data:`MAX_LOG_BYTES` the log ends (at a line end) with a
        note, and the output is still read."""
        if self._log is None or self._log_full:
            return
        try:
            room = MAX_LOG_BYTES - self._log_bytes
            if len(data) > room:
                head = data[:room]
                head = head[: head.rfind(b"\n") + 1]
                self._log.write(head)
                self._log_bytes += len(head)
                self._log.write(
                    b"\n# taskdroid: log cut at %s; the output was still read\n"
                    % _size_text(MAX_LOG_BYTES).encode()
                )
                self._log_full = True
                return
            self._log.write(data)
            self._log_bytes += len(data)
        except OSError:  # the disk is full, say: the run goes on without its log
            self._log_full = True

    def _log_footer(self, text: str) -> None:
        """A line of taskdroid's own, written even after the log was cut."""
        if self._log is None:
            return
        with contextlib.suppress(OSError):
            self._log.write(text.encode("utf-8", "replace"))

    def _close_log(self) -> None:
        if self._log is not None:
            with contextlib.suppress(OSError):
                self._log.close()
            self._log = None

    def log_display(self) -> str:
        if self.log_path is None:
            return ""
        p = str(self.log_path)
        if _inside(p, self.spec.workspace):
            return os.path.relpath(p, self.spec.workspace).replace(os.sep, "/")
        return p

    # -- the outcome --------------------------------------------------------------------------
    def _locate(self, text: str | None) -> Located | None:
        if text is None:
            return None
        _, loc = locate_task(text, self.spec.task_id, self.spec.aliases, self.spec.task_path)
        return loc

    async def _set_status(
        self, status: Status, extra_fields: Sequence[tuple[str, str]] = ()
    ) -> str | None:
        """Apply a status edit through the hooks, holding the edit lock of the task file (see
        :func:`_edit_lock`); None when done, else what went wrong."""
        async with _edit_lock(self.spec, self.id):
            return await self._apply(status, extra_fields)

    async def _apply(
        self, status: Status, extra_fields: Sequence[tuple[str, str]] = ()
    ) -> str | None:
        try:
            ok = await self.hooks.set_status(self, status, extra_fields=extra_fields)
        except Exception as e:
            log.warning("run %s: status edit failed: %s", self.id, e)
            return str(e) or type(e).__name__
        return None if ok else "the edit was not applied"

    def _error_text(self, kind: str, rc: int | None, start_error: str | None) -> str:
        where = self.log_display()
        suffix = f" (log: {where})" if where else ""
        if start_error is not None:
            return start_error + suffix
        if kind == "timeout":
            return (
                f"timed out after {format_duration(self.spec.timeout)} (runner.timeoutSeconds); "
                f"the droid was stopped{suffix}"
            )
        if rc is not None and rc < 0:
            try:
                name = signal.Signals(-rc).name
            except ValueError:
                name = str(-rc)
            head = f"killed by signal {name}"
        else:
            head = f"exit code {rc}"
        if self.last_stderr:
            head += f": {self.last_stderr}"
        return head + suffix

    async def _record(self, kind: str, rc: int | None, start_error: str | None) -> RunResult:
        """Write the outcome into the task (SPEC §7): the task is looked up again, its status
        decided and the edit written while holding the task file's edit lock."""
        self._recording = True
        async with _edit_lock(self.spec, self.id):
            return await self._record_locked(kind, rc, start_error)

    async def _record_locked(self, kind: str, rc: int | None, start_error: str | None) -> RunResult:
        spec = self.spec
        outcome = {"exited": "completed" if rc == 0 else "blocked"}.get(kind, kind)
        text = await self.hooks.read_text(self)
        loc = self._locate(text)
        duration = format_duration(self.elapsed)
        if rc is not None and rc < 0:
            try:
                exit_text = f"killed by signal {signal.Signals(-rc).name}"
            except ValueError:
                exit_text = f"killed by signal {-rc}"
        else:
            exit_text = f"exit code {rc}" if rc is not None else "not started"
        if kind in ("cancelled", "timeout"):
            exit_text = "stopped" if kind == "cancelled" else "timed out"
        if loc is None:
            if text is None:
                why = await asyncio.get_running_loop().run_in_executor(
                    None, _read_problem, spec.task_path
                )
                gone = f"{spec.task_file} cannot be read any more ({why})"
            else:
                gone = f"task {spec.task_id} is no longer in {spec.task_file}"
            return RunResult(
                "gone",
                f"{exit_text} after {duration}; {gone}: the outcome was not recorded",
                exit_code=rc,
                log_path=self.log_path,
                not_recorded=True,
            )
        current = loc.task.status
        if current is not Status.IN_PROGRESS:
            shown = current.label if current is not None else "a malformed marker"
            kept = getattr(self.hooks, "kept", None)
            if kept is not None:
                try:
                    await kept(self, current)
                except Exception:
                    log.exception("run %s: the kept-status hook failed", self.id)
            return RunResult(
                "kept",
                f"{exit_text} after {duration}; the droid set task {spec.task_id} to {shown} "
                "itself — kept",
                exit_code=rc,
                final_status=current,
                log_path=self.log_path,
            )
        now = format_timestamp(datetime.now())
        error = None
        if kind == "cancelled":
            target = self.previous if self.previous is not None else Status.PENDING
            note = f" ({self.cancel_note})" if self.cancel_note else ""
            extra: list[tuple[str, str]] = [("Status", f"Run cancelled {now}{note}")]
            message = f"cancelled after {duration}; task {spec.task_id} back to {target.label}"
        elif outcome == "completed":
            target, extra = Status.COMPLETED, []
            message = f"completed: exit code 0 after {duration}; task {spec.task_id} marked done"
        else:
            target = Status.BLOCKED
            error = self._error_text(kind, rc, start_error)
            extra = [("Error", error), ("Attempted", now)]
            what = "timed out" if kind == "timeout" else "failed"
            message = f"{what} after {duration}: {error}; task {spec.task_id} marked blocked"
        problem = await self._apply(target, extra)
        result = RunResult(
            outcome,
            message,
            exit_code=rc,
            final_status=target if problem is None else current,
            error=error,
            log_path=self.log_path,
        )
        if problem is not None:
            result.not_recorded = True
            result.message += f" — but the task file was not updated ({problem})"
        return result


# -- the manager -----------------------------------------------------------------------------------


#: environment variable: seconds between SIGTERM and SIGKILL when a droid is stopped
GRACE_ENV = "TASKDROID_RUN_GRACE"


def grace_from_env(env: Mapping[str, str] | None = None) -> float:
    """:data:`GRACE_ENV` when it is a number of seconds from 0 to 600, else the default."""
    raw = (os.environ if env is None else env).get(GRACE_ENV, "").strip()
    if raw:
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if 0 <= value <= 600:
            return value
        log.warning(
            "%s=%r is not a number of seconds (0-600); using %s", GRACE_ENV, raw, DEFAULT_GRACE
        )
    return DEFAULT_GRACE


class RunManager:
    """The runs of one process: one per task, at most ``maxParallel`` at once. ``grace`` is the
    time between SIGTERM and SIGKILL (default: :data:`GRACE_ENV`, else 5 s)."""

    def __init__(self, *, grace: float | None = None) -> None:
        self.grace = grace_from_env() if grace is None else grace
        self.runs: dict[str, Run] = {}
        self._by_task: dict[tuple[str, str], Run] = {}
        self._slots = _Slots()
        #: results of finished runs by run ID (the latest 64)
        self.finished: OrderedDict[str, RunResult] = OrderedDict()
        #: the event loop of the runs (for the termination handler)
        self.loop: asyncio.AbstractEventLoop | None = None
        _MANAGERS.add(self)

    def running(self, task_path: str, task_id: str) -> Run | None:
        key = (os.path.normpath(os.path.abspath(task_path)), normalize_id(task_id))
        return self._by_task.get(key)

    def submit(self, spec: RunSpec, hooks: RunHooks) -> Run:
        """Register a run (refusing a task that is already running, here or in another process);
        the caller drives it with :meth:`Run.execute` (or use :meth:`start`)."""
        other = self._by_task.get(spec.key)
        if other is not None:
            raise RunError(
                f"task {spec.task_id} is already running (run {other.id}, {other.state} for "
                f"{format_duration(other.elapsed)}); cancel it first",
                "busy",
            )
        lock = TaskLock.acquire(spec.log_dir, spec.task_path, spec.task_id, spec.run_id)
        with contextlib.suppress(RuntimeError):
            self.loop = asyncio.get_running_loop()
        run = Run(spec, hooks, self, lock, grace=self.grace)
        self.runs[run.id] = run
        self._by_task[spec.key] = run
        return run

    def start(self, spec: RunSpec, hooks: RunHooks) -> Run:
        """:meth:`submit`, then execute the run in a background asyncio task (``run.task``)."""
        run = self.submit(spec, hooks)
        run.task = asyncio.ensure_future(run.execute())
        run.task.add_done_callback(_consume)
        return run

    def _forget(self, run: Run) -> None:
        self.runs.pop(run.id, None)
        if self._by_task.get(run.spec.key) is run:
            del self._by_task[run.spec.key]
        if run.result is not None:
            self.finished[run.id] = run.result
            while len(self.finished) > 64:
                self.finished.popitem(last=False)

    def get(self, run_id: str) -> Run | None:
        return self.runs.get(run_id)

    async def stop_all(
        self,
        reason: str = "cancelled",
        *,
        kill_after: float | None = None,
        timeout: float | None = None,
    ) -> None:
        """Cancel every run (SIGTERM to each droid), SIGKILL the droids still running after
        ``kill_after`` seconds (default: the grace period), and wait ``timeout`` seconds in all
        (default: a little more) for the runs to record their outcome; runs still going then are
        cancelled."""
        runs = list(self.runs.values())
        for run in runs:
            run.cancel(reason, note=reason)
        tasks = [r.task for r in runs if r.task is not None and not r.task.done()]
        if not tasks:
            return
        loop = asyncio.get_running_loop()
        first = self.grace if kill_after is None else kill_after
        total = first + 2.0 if timeout is None else timeout
        deadline = loop.time() + total
        _, pending = await asyncio.wait(tasks, timeout=min(first, total))
        if pending:
            for run in runs:
                run.kill()
            _, pending = await asyncio.wait(pending, timeout=max(0.1, deadline - loop.time()))
            for t in pending:
                t.cancel()


def _consume(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("droid run failed", exc_info=task.exception())
