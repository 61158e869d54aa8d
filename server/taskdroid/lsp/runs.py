"""Droid runs in the server: ``taskdroid.runTask`` and ``taskdroid.cancelRun`` (docs/language.md §6, §7).

The engine is :mod:`taskdroid.run`; this module plugs the server into it:

* ``taskdroid.runTask {uri, taskId, droid?, force?}`` checks the run (runner configured, droid,
  dependencies, not already running — a refusal is an error response with a clear message),
  answers ``{runId}`` at once and runs the droid in a tracked background task. The server keeps
  answering requests meanwhile: the droid's output is read asynchronously.
* Progress is ``$/progress`` on a token the server creates (``window/workDoneProgress/create``,
  when the client supports it): begin with the task, report the latest line of the droid's
  output, end with the outcome. The progress is cancellable: ``window/workDoneProgress/cancel``
  stops the run like ``taskdroid.cancelRun {runId}`` does. Clients without work-done progress
  get the outcome as a ``window/showMessage``.
* Status edits: an open document is edited through the client (``workspace/applyEdit``,
  versioned, see :mod:`taskdroid.lsp.editing`), so what the user typed meanwhile is kept; a
  closed file is written on disk atomically (as ``taskdroid status`` does) and re-indexed.
* The droid may edit the task file itself. When the file is open in the editor, the buffer does
  not show that edit until the editor reloads it, so at the end of a run the server also reads the
  file on disk: when the droid changed the task's status there, that status stands, and the
  task's block in the buffer is replaced by the droid's version (the editor then holds what the
  droid wrote rather than a status of the server's own).
* ``shutdown`` stops every run first (the droids get SIGTERM, then SIGKILL), and each task is
  left with a stated status (its previous status and ``**Status**: Run cancelled …``). So do
  SIGTERM and SIGHUP of the server process (within about two seconds, then it dies of the
  signal), and the end of the server's input or an ``exit`` without ``shutdown`` (for task files
  that are not open: an open document cannot be edited once the client is gone). Whatever of a
  droid still runs when the server process ends — even by SIGKILL — is killed (see
  :mod:`taskdroid.run.supervise`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from taskdroid.core.files import ReadError, read_text
from taskdroid.core.text import Position, Range, split_lines
from taskdroid.lsp import deferred
from taskdroid.lsp.deferred import discovery, model, writes
from taskdroid.lsp.deferred import edits as core_edits
from taskdroid.lsp.deferred import run as droid_runs
from taskdroid.lsp.documents import CHANGED, apply_file_events
from taskdroid.lsp.editing import apply_status, apply_versioned
from taskdroid.lsp.server import TaskdroidServer

if TYPE_CHECKING:
    from taskdroid.core.edits import TextEdit
    from taskdroid.core.model import Status
    from taskdroid.run import Run, RunError, RunManager

log = logging.getLogger("taskdroid.lsp.runs")

RUN_TASK = "taskdroid.runTask"
CANCEL_RUN = "taskdroid.cancelRun"
#: LSP ``RequestFailed``: the request was valid but the run is refused (busy, not configured …)
REQUEST_FAILED = -32803
#: seconds the client may take to apply a status edit during a run
_EDIT_TIMEOUT = 20.0
_ARGUMENT_KINDS = frozenset({"task", "droid", "path"})


def register(server: TaskdroidServer) -> None:
    state = server.add_feature(RunsState(server))

    @server.command(RUN_TASK)
    async def run_task(ls: TaskdroidServer, *args: Any) -> dict[str, Any]:
        return await state.run_task(args)

    @server.command(CANCEL_RUN)
    async def cancel_run(ls: TaskdroidServer, *args: Any) -> dict[str, Any]:
        return state.cancel_run(args)

    server.hooks.shutdown.append(state.shutdown)
    server.hooks.exit.append(state.exit)


def runs_of(server: TaskdroidServer) -> RunsState | None:
    """The run state of ``server`` (None before :func:`register`)."""
    return server.get_feature(RunsState)


class RunsState:
    """The server's droid runs."""

    def __init__(self, server: TaskdroidServer) -> None:
        self.server = server
        self._manager: RunManager | None = None
        self.stopping = False
        #: ``exit`` came (or the client went away): open documents can no longer be edited
        self.exiting = False

    @property
    def manager(self) -> RunManager:
        if self._manager is None:
            self._manager = droid_runs.RunManager()
            # a client that terminates the server: the runs are stopped and recorded first
            droid_runs.kill_droids_on_termination("the language server was terminated")
        return self._manager

    def running(self, path: str, task_id: str) -> Run | None:
        """The run holding a task, if any (for code lenses and actions)."""
        if self._manager is None:
            return None
        return self._manager.running(path, task_id)

    # -- taskdroid.runTask --------------------------------------------------------------------
    async def run_task(self, args: Sequence[Any]) -> dict[str, Any]:
        arg = _one_object(RUN_TASK, args, "{uri, taskId, droid?, force?}")
        uri = arg.get("uri")
        task_id = arg.get("taskId")
        droid = arg.get("droid")
        force = arg.get("force", False)
        if not isinstance(uri, str) or not uri:
            raise JsonRpcInvalidParams(f"{RUN_TASK}: `uri` must be the task file's URI")
        if not isinstance(task_id, str) or not task_id.strip():
            raise JsonRpcInvalidParams(f'{RUN_TASK}: `taskId` must be a task ID such as "1.3"')
        if droid is not None and not isinstance(droid, str):
            raise JsonRpcInvalidParams(f"{RUN_TASK}: `droid` must be a droid name")
        if not isinstance(force, bool):
            raise JsonRpcInvalidParams(f"{RUN_TASK}: `force` must be true or false")
        if self.stopping:
            raise _failed("the language server is shutting down", "busy")
        ls = self.server
        path = ls.path_of(uri)
        if path is None:
            raise JsonRpcInvalidParams(f"{RUN_TASK}: {uri} is not a file")
        await ls.wait_ready()
        ls.sync(uri)
        project = ls.project_for(path)
        text = _current_text(ls, path)
        if project is None or text is None:
            raise JsonRpcInvalidParams(f"{RUN_TASK}: cannot read {path}")
        loaded = project.loaded
        if loaded is None:
            raise _failed("the settings are not loaded yet; try again", "busy")
        settings = loaded.settings
        root = project.root or _fallback_root(path)
        try:
            spec = droid_runs.prepare_run(
                workspace=root,
                task_path=path,
                text=text,
                task_id=task_id.strip(),
                runner=settings.runner,
                aliases=dict(settings.markerAliases),
                droid=droid,
                force=force,
                ws=project.ws,
            )
            hooks = LspRunHooks(ls)
            run = self.manager.submit(spec, hooks)
        except droid_runs.RunError as e:
            raise _error_for(e) from None
        run.task = asyncio.ensure_future(self._drive(run, hooks))
        log.info("run %s: droid %s on %s (%s)", run.id, spec.droid, spec.label, spec.argv[0])
        return {"runId": run.id}

    async def _drive(self, run: Run, hooks: LspRunHooks) -> None:
        try:
            await hooks.begin(run)
            await run.execute()
        except asyncio.CancelledError:
            hooks.end(run, "stopped: the language server is shutting down")
            raise
        except Exception:
            log.exception("run %s failed", run.id)
            hooks.end(run, "failed (see the server log)")

    # -- taskdroid.cancelRun ------------------------------------------------------------------
    def cancel_run(self, args: Sequence[Any]) -> dict[str, Any]:
        arg = _one_object(CANCEL_RUN, args, "{runId}")
        run_id = arg.get("runId")
        if isinstance(run_id, int) and not isinstance(run_id, bool):
            run_id = str(run_id)
        if not isinstance(run_id, str) or not run_id:
            raise JsonRpcInvalidParams(f"{CANCEL_RUN}: `runId` must be the ID runTask answered")
        manager = self.manager
        run = manager.get(run_id)
        if run is not None:
            run.cancel("cancelled from the editor")
            return {"runId": run_id, "cancelled": True}
        done = manager.finished.get(run_id)
        if done is not None:
            return {"runId": run_id, "cancelled": False, "message": f"already over: {done.message}"}
        raise JsonRpcInvalidParams(f"{CANCEL_RUN}: no run `{run_id}`")

    # -- shutdown -----------------------------------------------------------------------------
    async def shutdown(self) -> None:
        self.stopping = True
        if self._manager is None or not self._manager.runs:
            return
        log.info("stopping %d droid run(s) before shutdown", len(self._manager.runs))
        # editors wait only a little for the answer to shutdown (VS Code: 2 s)
        await self._manager.stop_all("the language server shut down", kill_after=0.8, timeout=1.8)

    def exit(self) -> None:
        """``exit``: the runs still going (an ``exit`` without ``shutdown``) are stopped as the
        server's event loop ends; no edit is sent to the client any more."""
        self.stopping = True
        self.exiting = True


# -- hooks -----------------------------------------------------------------------------------------


async def open_progress(
    ls: TaskdroidServer, token: str, what: str, on_cancel: Callable[[], object]
) -> bool:
    """Create the work-done progress ``token`` with the client; ``on_cancel()`` runs when the user
    cancels it there. False (logged, nothing shown) when the client does not take it in time."""
    try:
        await asyncio.wait_for(ls.work_done_progress.create_async(token), 5.0)
    except asyncio.CancelledError:
        raise
    except Exception as e:
        log.warning("%s: no progress (%s)", what, e)
        return False
    future = ls.work_done_progress.tokens.get(token)
    if future is not None:

        def cancelled(f: Any) -> None:
            if f.cancelled():
                on_cancel()

        future.add_done_callback(cancelled)
    return True


class LspRunHooks:
    """Reading, editing and progress for a run in the server."""

    def __init__(self, server: TaskdroidServer) -> None:
        self.server = server
        self.token: str | None = None
        self.ended = False
        #: the task's status in the file on disk when the run started (open documents only)
        self._disk_status: Status | str | None = _UNKNOWN
        #: the text on disk in which the droid changed the task's status itself
        self._droid_text: str | None = None

    async def read_text(self, run: Run) -> str | None:
        """The open buffer, else the file on disk. For an open document at the end of a run,
        the file on disk when the droid changed the task's status there (see the module doc)."""
        ls = self.server
        path = run.spec.task_path
        text = _current_text(ls, path)
        uri = ls.open_paths.get(path)
        if uri is None or uri not in ls.docs:
            return text
        disk, status = await asyncio.get_running_loop().run_in_executor(
            None, _disk_status, run, path
        )
        if run.state in ("queued", "starting"):
            self._disk_status = status
        elif (
            disk is not None
            and self._disk_status is not _UNKNOWN
            and status is not _UNKNOWN
            and status != self._disk_status
            and status is not _in_progress()
        ):
            self._droid_text = disk
            return disk
        return text

    async def kept(self, run: Run, status: Status | None) -> None:
        """The droid set the status itself: an open buffer gets the droid's version of the task
        when the droid wrote it on disk."""
        ls = self.server
        disk = self._droid_text
        uri = ls.open_paths.get(run.spec.task_path)
        if disk is None or uri is None or uri not in ls.docs or _runs_exiting(ls):
            return
        block = _task_block(run, disk)
        if block is None:
            return

        def make_edits(text: str) -> list[TextEdit]:
            found = _task_lines(run, text)
            if found is None:
                return []
            start, end = found
            lines = split_lines(text)
            if "\n".join(lines[start : end + 1]) == "\n".join(split_lines(block)):
                return []
            rng = Range(Position(start, 0), Position(end, len(lines[end])))
            return [core_edits.TextEdit(rng, block)]

        await asyncio.wait_for(
            apply_versioned(
                ls, uri, make_edits, label=f"taskdroid: {run.spec.task_id} as the droid left it"
            ),
            _EDIT_TIMEOUT,
        )

    async def set_status(
        self,
        run: Run,
        status: Status,
        *,
        note: str | None = None,
        extra_fields: Sequence[tuple[str, str]] = (),
    ) -> bool:
        ls = self.server
        path = run.spec.task_path
        uri = ls.open_paths.get(path)
        if uri is not None and uri in ls.docs:
            if _runs_exiting(ls):
                raise RuntimeError(f"the editor is gone; {run.spec.task_file} is open there")
            return bool(
                await asyncio.wait_for(
                    apply_status(
                        ls,
                        uri,
                        run.spec.task_id,
                        status,
                        note=note,
                        extra_fields=tuple(extra_fields),
                    ),
                    _EDIT_TIMEOUT,
                )
            )
        write_status = deferred.loaded(writes).write_status  # loaded here, not in the worker
        written = await asyncio.get_running_loop().run_in_executor(
            None,
            lambda: write_status(
                path,
                run.spec.task_id,
                status,
                note=note,
                extra_fields=tuple(extra_fields),
                aliases=dict(run.spec.aliases),
            ),
        )
        if written:
            try:
                await apply_file_events(ls, [(path, CHANGED)])
            except Exception:
                log.exception("cannot re-index %s", path)
        return written

    # -- progress -----------------------------------------------------------------------------
    async def begin(self, run: Run) -> None:
        ls = self.server
        spec = run.spec
        self._log(types.MessageType.Info, f"run {run.id}: droid {spec.droid} on {spec.label}")
        if not ls.client.work_done_progress:
            return
        token = f"taskdroid-{run.id}"
        if not await open_progress(
            ls, token, f"run {run.id}", lambda: run.cancel("cancelled from the editor")
        ):
            return
        self.token = token
        ls.work_done_progress.begin(
            token,
            types.WorkDoneProgressBegin(
                title=f"Running droid {spec.droid}: task {spec.task_id}",
                message=f"{spec.task_file} {spec.task_id} {spec.title}".strip(),
                cancellable=True,
            ),
        )

    def progress(self, run: Run, kind: str, message: str) -> None:
        if kind == "finished":
            self.end(run, message)
            return
        if kind == "started":
            message = f"running ({message})"
        if self.token is not None and not self.ended:
            self.server.work_done_progress.report(
                self.token, types.WorkDoneProgressReport(message=message)
            )

    def end(self, run: Run, message: str) -> None:
        if self.ended:
            return
        self.ended = True
        ls = self.server
        spec = run.spec
        result = run.result
        ok = result is not None and result.outcome in ("completed", "kept")
        text = f"{spec.task_file} {spec.task_id}: {message}"
        self._log(
            types.MessageType.Info if ok else types.MessageType.Warning, f"run {run.id}: {text}"
        )
        if self.token is not None:
            try:
                ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))
            except Exception:
                log.exception("cannot end the progress of run %s", run.id)
            ls.work_done_progress.tokens.pop(self.token, None)
            return
        try:
            ls.window_show_message(
                types.ShowMessageParams(
                    type=types.MessageType.Info if ok else types.MessageType.Warning,
                    message=f"taskdroid: {text}",
                )
            )
        except Exception:
            log.exception("cannot show the outcome of run %s", run.id)

    def _log(self, kind: types.MessageType, message: str) -> None:
        try:
            self.server.window_log_message(types.LogMessageParams(type=kind, message=message))
        except Exception:
            log.debug("cannot log to the client", exc_info=True)


# -- helpers ---------------------------------------------------------------------------------------


def _one_object(command: str, args: Sequence[Any], shape: str) -> dict[str, Any]:
    if len(args) != 1 or not isinstance(args[0], dict):
        raise JsonRpcInvalidParams(f"{command} takes one object argument {shape}")
    return args[0]


def _current_text(server: TaskdroidServer, path: str) -> str | None:
    """The open buffer's text, else the file on disk (never the index, which may lag the disk)."""
    uri = server.open_paths.get(path)
    if uri is not None and uri in server.docs:
        return server.docs[uri].text
    try:
        return read_text(path)
    except ReadError:
        return None


_UNKNOWN = "unknown"


def _in_progress() -> Status:
    return model.Status.IN_PROGRESS


def _runs_exiting(server: TaskdroidServer) -> bool:
    state = runs_of(server)
    return state is not None and state.exiting


def _disk_status(run: Run, path: str) -> tuple[str | None, Status | str | None]:
    """The file on disk and the task's status there (``_UNKNOWN`` when unreadable or absent)."""
    try:
        text = read_text(path)
    except ReadError:
        return None, _UNKNOWN
    _, loc = droid_runs.locate_task(text, run.spec.task_id, run.spec.aliases, path)
    return text, (loc.task.status if loc is not None else _UNKNOWN)


def _task_lines(run: Run, text: str) -> tuple[int, int] | None:
    """First and last line of the task's block (its item, fields, notes and subtasks)."""
    _, loc = droid_runs.locate_task(text, run.spec.task_id, run.spec.aliases, run.spec.task_path)
    if loc is None:
        return None
    return loc.line, loc.chunk.line + max(loc.task.end_line, loc.task.line)


def _task_block(run: Run, text: str) -> str | None:
    found = _task_lines(run, text)
    if found is None:
        return None
    start, end = found
    eol = "\r\n" if "\r\n" in text else "\n"
    return eol.join(split_lines(text)[start : end + 1])


def _fallback_root(path: str) -> str:
    return str(discovery.find_root(Path(path)))


def _failed(message: str, kind: str) -> JsonRpcException:
    return JsonRpcException(message, code=REQUEST_FAILED, data={"kind": kind})


def _error_for(e: RunError) -> JsonRpcException:
    """Argument problems (unknown task, droid, path) are InvalidParams; refusals of a valid
    request (not configured, busy, dependencies, completed, runner) are RequestFailed."""
    if e.kind in _ARGUMENT_KINDS:
        return JsonRpcInvalidParams(str(e), data={"kind": e.kind})
    return _failed(str(e), e.kind)
