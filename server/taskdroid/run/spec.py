"""Preparing a run (docs/language.md §7): the argv and prompt templates, the program lookup, the checks
that refuse what must not run, and :class:`RunSpec` — everything a run needs, decided before any
process starts. Pure but for a look at ``PATH`` and the log folder.

:func:`prepare_run` refuses what must not run — no runner configured (the message names
``runner.command`` and shows the ``droid exec`` and ``claude -p`` setups), a task file outside
the workspace, a task that names no droid or a droid missing from the index, a droid name that
could be read as an option or a path, a completed task or unfinished dependencies (unless
``force``) — and builds the argv from the user's ``runner.command`` template: placeholders
``{prompt}``, ``{droid}``, ``{taskId}``, ``{taskFile}``, ``{workspace}``, ``{model}`` and
``{effort}`` are filled in one pass (a value is never scanned again, so a task title holding
``{workspace}`` or ``$(…)`` stays literal text), an argument that is exactly an empty placeholder
is dropped with the option before it (``["-m", "{model}"]`` when there is no model; see
:func:`build_argv`), the prompt is one argv element, an argument a placeholder made start with
``-`` is refused (it would be an option), the program (the first element) is taken literally
and found on the absolute entries of ``PATH`` — never inside the workspace — and no shell is
involved.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import textwrap
from collections.abc import Mapping, Sequence

from taskdroid.core.document import Located, TaskDocument
from taskdroid.core.edits import find_task, unknown_task_message
from taskdroid.core.model import Status
from taskdroid.core.runfields import model_and_effort
from taskdroid.core.settings import DEFAULT_ALIASES, RunnerSettings
from taskdroid.core.text import split_lines
from taskdroid.core.verification import VerifyFieldError, run_checks
from taskdroid.core.workspace import Workspace
from taskdroid.run.errors import RunError, inside
from taskdroid.run.logfile import resolve_log_dir
from taskdroid.run.output import short
from taskdroid.run.runspec import RunSpec, new_run_id

__all__ = [
    "ARGV_PLACEHOLDERS",
    "EXAMPLE_COMMANDS",
    "PROMPT_PLACEHOLDERS",
    "RunSpec",
    "build_argv",
    "build_prompt",
    "check_droid_name",
    "check_no_injected_option",
    "field_block",
    "fill",
    "locate_task",
    "new_run_id",
    "not_configured_message",
    "prepare_run",
    "resolve_program",
    "unfinished_dependencies",
]

#: the two setups the docs and the "no runner" message show
EXAMPLE_COMMANDS: dict[str, list[str]] = {
    "droid exec": ["droid", "exec", "--auto", "low", "{prompt}"],
    "claude -p": ["claude", "-p", "{prompt}"],
}
ARGV_PLACEHOLDERS = ("prompt", "droid", "taskId", "taskFile", "workspace", "model", "effort")
PROMPT_PLACEHOLDERS = ("droid", "taskId", "taskFile", "workspace", "title", "fields")
#: the field block in the prompt is cut here (characters); one argv element must stay < 128 KiB
MAX_FIELDS_CHARS = 16_000


def not_configured_message() -> str:
    """What to configure when no runner is set (docs/language.md §7): names ``runner.command``, shows the
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
    model: str = "",
    effort: str = "",
) -> list[str]:
    """The argv of ``runner.command``: placeholders filled in every element but the program
    (taken literally); the prompt is one element. A template without ``{prompt}`` gets the
    prompt appended as its last argument.

    An element that is exactly a placeholder whose value is empty (``{model}`` when the task
    and its droid name no model) is dropped, together with the element before it when that
    one starts with ``-`` and holds no placeholder (``["--model", "{model}"]`` disappears); a
    literal ``--`` stays."""
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
        "model": model,
        "effort": effort,
    }
    argv = [program]
    templates: list[str | None] = []
    for a in command[1:]:
        whole = _PLACEHOLDER.fullmatch(a)
        if whole is not None and values.get(whole.group(1)) == "":
            flag = templates[-1] if templates else None
            if flag is not None and flag.startswith("-") and flag != "--":
                if not _PLACEHOLDER.search(flag):
                    argv.pop()
                    templates.pop()
            continue
        argv.append(fill(a, values))
        templates.append(a)
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
            shown = short(value.splitlines()[0], 60)
            where = "the prompt, appended" if template is None else f"`{template}`"
            raise RunError(
                f"runner.command: argument {n} ({where}) becomes `{shown}` for this task, which "
                f"starts with `-`: `{os.path.basename(program)}` would read it as an option. "
                'Put a literal "--" element before it in runner.command (if the program '
                "accepts `--`), or make the value start with text: pass the task through "
                "{prompt} with a runner.prompt that starts with words, not with a placeholder "
                "such as {title}",
                "runner",
            )


def search_path(value: str) -> str:
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
    path = search_path((env if env is not None else os.environ).get("PATH") or "")
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
        if inside(found, root) or inside(os.path.realpath(found), os.path.realpath(root)):
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
    """Check that the task may run and build its command (docs/language.md §7). Raises :class:`RunError`.

    ``text`` is the current text of the task file (the open buffer, or the disk). ``droid``
    overrides the task's ``**Droid**`` (and need not be in the index); without it the task's
    droid must resolve in ``ws``. ``force`` runs a completed task, or one whose dependencies are
    not completed.
    """
    if not runner.command:
        raise RunError(not_configured_message(), "not-configured")
    root = os.path.normpath(os.path.abspath(os.fspath(workspace)))
    path = os.path.normpath(os.path.abspath(os.fspath(task_path)))
    if not inside(os.path.realpath(path), os.path.realpath(root)) or path == root:
        raise RunError(
            f"{path} is outside the workspace {root}; runs only work on task files inside it",
            "path",
        )
    rel = os.path.relpath(path, root).replace(os.sep, "/")
    if rel.startswith("-"):
        rel = "./" + rel
    doc, loc = locate_task(text, task_id, aliases, path)
    if loc is None:
        raise RunError(f"{rel}: {unknown_task_message(doc, task_id)}", "task")
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
    try:
        checks = run_checks(task, verify=runner.verify, require_changes=runner.requireChanges)
    except VerifyFieldError as e:
        raise RunError(f"task {shown_id}: {e} (runner.verify is on)", "verify") from None
    program = resolve_program(runner.command[0], env, root)
    resolved = ws.resolve_droid(name) if ws is not None else None
    model, effort, problems = model_and_effort(
        task, resolved.front_matter if resolved is not None else None
    )
    wanted = " ".join(runner.command[1:])
    if problems and ("{model}" in wanted or "{effort}" in wanted):
        raise RunError(f"task {shown_id}: {'; '.join(problems)}", "task")
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
        runner.command,
        prompt,
        droid=name,
        task_id=shown_id,
        task_file=rel,
        workspace=root,
        model=model,
        effort=effort,
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
        checks=checks,
        model=model,
        effort=effort,
    )
