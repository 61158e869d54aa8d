"""No run offered that must fail (docs/language.md §7, §8): what the run lenses and actions of a
task file offer, given the droids of the index and whether a runner is configured.

* A task naming a droid that is not in the index (TD020) gets no run lens and no run action —
  the TD020 quick fixes (the droid it likely means, create the droid) are what helps there.
* With no ``runner.command`` configured, a task with a known droid and a section with ready tasks
  get a ``Configure runner…`` lens (and action) instead of a run: the ``taskdroid.configureRunner``
  command. VS Code's extension handles it itself (it opens the ``taskdroid.runner.command``
  setting); for other editors the server answers it — a ``window/showMessage`` saying where
  ``runner.command`` goes (the user config file, the editor's settings or initializationOptions)
  and, when the client can show documents, the user config file opened (created with a commented
  ``[runner]`` example when it does not exist yet).
* A :class:`RunGate` is what the lenses depend on besides the text: the task lenses' cache key
  includes it, and when it changes (a droid file added or removed, the runner set or unset) the
  server asks clients that support it to refresh their code lenses
  (``workspace/codeLens/refresh``, after the analysis that follows the change).
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from taskdroid.lsp.deferred import config as core_config
from taskdroid.lsp.deferred import run as droid_runs
from taskdroid.lsp.server import TaskdroidServer

if TYPE_CHECKING:
    from taskdroid.lsp.server import Project

log = logging.getLogger("taskdroid.lsp.runlens")

RUN_TASK = "taskdroid.runTask"
CONFIGURE_RUNNER = "taskdroid.configureRunner"
CONFIGURE_TITLE = "Configure runner…"


@dataclass(frozen=True, slots=True)
class RunGate:
    """What a run lens of a project depends on besides the task file's text."""

    configured: bool
    droids: frozenset[str]

    def task_command(self, uri: str, task_id: str, droid: str) -> tuple[str, str, list]:
        """(title, command, arguments) of the run lens of a task naming ``droid`` (a known one)."""
        if not self.configured:
            return CONFIGURE_TITLE, CONFIGURE_RUNNER, [{"uri": uri}]
        return f"▶ Run {droid}", RUN_TASK, [{"uri": uri, "taskId": task_id}]


class RunLensFeature:
    """Per server: the droid names of each project's current index (by the index's identity),
    and the gate each project's lenses were last computed with."""

    def __init__(self) -> None:
        self.names: dict[int, tuple[object, frozenset[str]]] = {}
        self.seen: dict[int, RunGate] = {}


def register(server: TaskdroidServer) -> None:
    server.add_feature(RunLensFeature())
    server.hooks.files_analyzed.append(_files_analyzed)

    @server.command(CONFIGURE_RUNNER)
    async def configure_runner(ls: TaskdroidServer, *args: Any) -> dict[str, Any]:
        return await _configure_runner(ls, args)


def gate(server: TaskdroidServer, project: Project) -> RunGate:
    """The run gate of ``project`` now."""
    ws = project.ws
    index = ws.droid_index()
    feature = server.get_feature(RunLensFeature)
    names: frozenset[str] | None = None
    if feature is not None:
        hit = feature.names.get(id(project))
        if hit is not None and hit[0] is index:
            names = hit[1]
    if names is None:
        names = frozenset(index)
        if feature is not None:
            feature.names[id(project)] = (index, names)
    return RunGate(bool(ws.settings.runner.command), names)


# -- refresh -----------------------------------------------------------------------------------------


def _files_analyzed(server: TaskdroidServer, project: Project, paths: set[str]) -> None:
    """Ask for a code lens refresh when a project's gate changed (a ``files_analyzed`` hook)."""
    feature = server.get_feature(RunLensFeature)
    if feature is None:
        return
    now = gate(server, project)
    before = feature.seen.get(id(project))
    feature.seen[id(project)] = now
    if before is not None and before != now:
        server.request_code_lens_refresh()


# -- taskdroid.configureRunner -------------------------------------------------------------------------

_TEMPLATE = """\
# taskdroid user settings (docs/language.md §10). The droid runner is set here, or in your
# editor's settings — never in a project's .taskdroid.toml.
#
# [runner]
# # Factory's droid exec:
# command = {factory}
# # or Claude Code:
# # command = {claude}
"""


async def _configure_runner(ls: TaskdroidServer, args: Any) -> dict[str, Any]:
    if len(args) > 1 or (args and args[0] is not None and not isinstance(args[0], dict)):
        raise JsonRpcInvalidParams(f"{CONFIGURE_RUNNER} takes one optional object argument")
    path = core_config.default_user_config_path()
    examples = droid_runs.EXAMPLE_COMMANDS
    factory = _toml_list(examples["droid exec"])
    claude = _toml_list(examples["claude -p"])
    where = str(path) if path is not None else "~/.config/taskdroid/config.toml"
    message = (
        "taskdroid: set `runner.command` to run droids — in your user config file "
        f"{where} (a `[runner]` table: command = {factory} for Factory's droid exec, or "
        f"{claude} for Claude Code), in your editor's `taskdroid.runner.command` setting, or in "
        'the initializationOptions your editor sends ({"runner": {"command": [...]}}). '
        "A project's .taskdroid.toml cannot set it."
    )
    created = False
    shown = False
    if path is not None and ls.client.show_document:
        try:
            created = await asyncio.get_running_loop().run_in_executor(
                None, _ensure_file, path, _TEMPLATE.format(factory=factory, claude=claude)
            )
            result = await asyncio.wait_for(
                ls.window_show_document_async(
                    types.ShowDocumentParams(uri=ls.uri_of(str(path)), take_focus=True)
                ),
                5,
            )
            shown = bool(getattr(result, "success", False))
        except Exception as e:
            log.info("cannot show %s: %s", path, e)
    ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Info, message=message))
    return {"path": where, "created": created, "shown": shown, "message": message}


def _toml_list(argv: list[str]) -> str:
    return (
        "[" + ", ".join('"' + a.replace("\\", "\\\\").replace('"', '\\"') + '"' for a in argv) + "]"
    )


def _ensure_file(path: Path, text: str) -> bool:
    """Create ``path`` with ``text`` unless it exists; True when created."""
    if path.exists():
        return False
    os.makedirs(path.parent, exist_ok=True)
    try:
        with open(path, "x", encoding="utf-8") as fh:
            fh.write(text)
    except FileExistsError:
        return False
    return True
