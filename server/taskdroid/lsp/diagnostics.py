"""Diagnostics: push (``publishDiagnostics``) or pull (``textDocument/diagnostic``,
``workspace/diagnostic``), chosen per client.

The mode (server option ``diagnosticMode``, default ``auto``):

* **pull** when the client can pull *and* can be asked to re-pull
  (``workspace.diagnostics.refreshSupport``, as VS Code can): the server computes, caches by
  path with the document version and a result id, answers pulls (``unchanged`` when the client
  already has the result) and sends ``workspace/diagnostic/refresh`` when a change in one file
  changed the diagnostics of another;
* **push** otherwise — also for clients that can pull but cannot be told to re-pull (Neovim
  0.11), since cross-file changes (a droid deleted, a dependency target added in another file)
  would otherwise stay stale in their other buffers. ``diagnosticMode: "pull"`` forces pull.

Latency (docs/architecture.md, "Latency as users get it"): a pull is answered at once with the diagnostics of the document's
current version (a debounced analysis still waiting is done there and then); the push debounce
adapts to the cost of the analysis (see :func:`push_delay`). The first ``workspace/diagnostic``
answer waits for the first analysis of the whole workspace (reporting work-done progress on the
request's token), so it covers every file; later answers report unchanged files by result id.
``workspace/diagnostic/refresh`` is sent once when that first analysis is done and at most every
:data:`REFRESH_INTERVAL` seconds after that.

Cross-file effects: after any change the set of affected files is computed (files whose
cross-file references name a changed file, every task file when the set of droids changed,
every droid file when a droid file changed (DR007), files on old and new dependency cycles), and
only those are recomputed; only results that differ are sent.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import time

from lsprotocol import types

from taskdroid.lsp.deferred import query
from taskdroid.lsp.deferred import requirements as rq
from taskdroid.lsp.projects import Openings
from taskdroid.lsp.server import DiagnosticsState, Entry, Project, TaskdroidServer

log = logging.getLogger("taskdroid.lsp.diagnostics")

_EMPTY_RESULT_ID = "empty"
_MAX_TOMBSTONES = 2000
#: the least time between two ``workspace/diagnostic/refresh`` requests (seconds)
REFRESH_INTERVAL = 0.25
#: an analysis this cheap (seconds of the loop thread's CPU time) is never debounced
CHEAP_ANALYSIS = 0.02
#: test-only: every file analysis burns this much more CPU time (milliseconds), to make an
#: expensive analysis and the races of start-up reproducible in tests (tests/lsp/test_latency.py,
#: test_debounce.py); never set it otherwise
SLOW_ANALYSIS_ENV = "TASKDROID_TEST_SLOW_ANALYSIS_MS"


def _slow_analysis() -> float:
    try:
        return max(0.0, float(os.environ.get(SLOW_ANALYSIS_ENV, "0"))) / 1000
    except ValueError:
        return 0.0


_SLOW = _slow_analysis()


def _burn(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


__all__ = ["DiagnosticsState", "Entry"]


def register(server: TaskdroidServer) -> None:
    server.hooks.initialize.append(choose_mode)


def diagnostic_mode(wanted: str, can_pull: bool, can_refresh: bool) -> str:
    """``push`` or ``pull``: the server option ``diagnosticMode`` (``auto``, ``push``, ``pull``)
    against what the client can do."""
    if wanted == "push" or not can_pull:
        return "push"
    if wanted == "pull":
        return "pull"
    return "pull" if can_refresh else "push"


def choose_mode(server: TaskdroidServer, params: types.InitializeParams) -> None:
    mode = diagnostic_mode(
        server.options.diagnostic_mode,
        server.client.pull_diagnostics,
        server.client.workspace_refresh,
    )
    server.diagnostic_mode = mode
    if mode == "pull":
        _register_pull(server)


def _register_pull(server: TaskdroidServer) -> None:
    @server.feature(
        types.TEXT_DOCUMENT_DIAGNOSTIC,
        types.DiagnosticOptions(
            identifier="taskdroid", inter_file_dependencies=True, workspace_diagnostics=True
        ),
    )
    async def document_diagnostic(
        ls: TaskdroidServer, params: types.DocumentDiagnosticParams
    ) -> types.DocumentDiagnosticReport:
        uri = params.text_document.uri
        await ls.wait_ready()
        try:
            await settle(ls, uri)
        except Exception:
            log.exception("analysis of %s failed", uri)
        path = ls.path_of(uri)
        entry = ls.diag.entries.get(path) if path is not None else None
        if entry is None:
            if params.previous_result_id == _EMPTY_RESULT_ID:
                return types.RelatedUnchangedDocumentDiagnosticReport(result_id=_EMPTY_RESULT_ID)
            return types.RelatedFullDocumentDiagnosticReport(items=[], result_id=_EMPTY_RESULT_ID)
        if params.previous_result_id == entry.result_id:
            return types.RelatedUnchangedDocumentDiagnosticReport(result_id=entry.result_id)
        return types.RelatedFullDocumentDiagnosticReport(
            items=entry.items, result_id=entry.result_id
        )

    @server.feature(types.WORKSPACE_DIAGNOSTIC)
    async def workspace_diagnostic(
        ls: TaskdroidServer, params: types.WorkspaceDiagnosticParams
    ) -> types.WorkspaceDiagnosticReport:
        await ls.wait_ready()
        await _wait_complete(ls, params.work_done_token)
        for uri in list(ls.docs):
            try:
                await settle(ls, uri)
            except Exception:
                log.exception("analysis of %s failed", uri)
        previous = {p.uri: p.value for p in params.previous_result_ids or []}
        items: list[
            types.WorkspaceFullDocumentDiagnosticReport
            | types.WorkspaceUnchangedDocumentDiagnosticReport
        ] = []
        for entry in ls.diag.entries.values():
            if previous.get(entry.uri) == entry.result_id:
                items.append(
                    types.WorkspaceUnchangedDocumentDiagnosticReport(
                        uri=entry.uri, version=entry.version, result_id=entry.result_id
                    )
                )
            else:
                items.append(
                    types.WorkspaceFullDocumentDiagnosticReport(
                        uri=entry.uri,
                        version=entry.version,
                        items=entry.items,
                        result_id=entry.result_id,
                    )
                )
        for uri, rid in ls.diag.tombstones.items():
            if previous.get(uri) == rid:
                items.append(
                    types.WorkspaceUnchangedDocumentDiagnosticReport(
                        uri=uri, version=None, result_id=rid
                    )
                )
            else:
                items.append(
                    types.WorkspaceFullDocumentDiagnosticReport(
                        uri=uri, version=None, items=[], result_id=rid
                    )
                )
        return types.WorkspaceDiagnosticReport(items=items)


def _complete_event(server: TaskdroidServer) -> asyncio.Event:
    if server.diag.complete is None:
        server.diag.complete = asyncio.Event()
    return server.diag.complete


async def _wait_complete(server: TaskdroidServer, token: types.ProgressToken | None) -> None:
    """Wait for the first analysis of the whole workspace, with progress on ``token``."""
    done = _complete_event(server)
    if done.is_set():
        return
    if token is None:
        await done.wait()
        return
    progress = server.work_done_progress
    try:
        progress.begin(
            token, types.WorkDoneProgressBegin(title="taskdroid: analysing", percentage=0)
        )
    except Exception:
        log.exception("cannot begin progress")
    try:
        while not done.is_set():
            try:
                await asyncio.wait_for(done.wait(), 0.5)
            except TimeoutError:
                n, total = server.diag.progress
                try:
                    progress.report(
                        token,
                        types.WorkDoneProgressReport(
                            message=f"{n}/{total} files",
                            percentage=int(n * 100 / max(total, 1)),
                        ),
                    )
                except Exception:
                    log.exception("cannot report progress")
    finally:
        try:
            progress.end(token, types.WorkDoneProgressEnd())
        except Exception:
            log.exception("cannot end progress")


def analyse_open(server: TaskdroidServer, uri: str) -> None:
    """Bring the diagnostics of the open document ``uri`` (and of what depends on it) up to
    date, then run the ``after_analysis`` hooks."""
    doc = server.docs.get(uri)
    if doc is None or doc.path is None:
        return
    project = server.project_for(doc.path)
    if project is None:
        return
    start, wall = time.thread_time(), time.monotonic()
    paused = gc.isenabled()
    if paused:  # (a large new text allocates a lot of objects, and no garbage cycles)
        gc.disable()
    try:
        server.sync(uri)
        if doc.unanalysed:
            doc.unanalysed = False
            analyse(server, project, {doc.path}, origin=doc.path)
        else:
            # unchanged in the core (or not a task/droid file): make sure the cache has this
            # version
            refresh_paths(server, project, {doc.path}, origin=doc.path)
    finally:
        if paused:
            gc.enable()
    doc.analysis_cost = time.thread_time() - start
    doc.analysis_wall = time.monotonic() - wall
    server.after_analysis(uri)


def push_delay(server: TaskdroidServer, uri: str) -> float:
    """How long to wait before analysing an edited document.

    The debounce of an expensive analysis lasts twice what the last analysis of the document
    cost (at most ``debounceMs``), and applies only while edits keep arriving: when the previous
    edit came within that time. No wait when the last analysis was cheap, or when the edit
    follows a pause at least as long as the debounce (an edit after each result, or typing
    slower than the analysis, is analysed at once). The debounce is twice the analysis' wall
    time when that is longer than its CPU time (a busy machine): edits that queued up behind a
    slow analysis then still count as arriving, rather than each looking like one after a pause
    and getting an analysis of its own. Call on each edit."""
    doc = server.docs.get(uri)
    limit = server.options.debounce
    if doc is None or limit <= 0:
        return 0.0
    now = time.monotonic()
    previous, doc.last_edit = doc.last_edit, now
    delay = min(limit, 2 * max(doc.analysis_cost, doc.analysis_wall))
    if doc.analysis_cost <= CHEAP_ANALYSIS or now - previous >= delay:
        return 0.0
    return delay


async def settle(server: TaskdroidServer, uri: str) -> None:
    """Make sure the cache holds the diagnostics of the open document's current version: an
    analysis still waiting for its debounce is done now instead (once the document's project
    exists: one found for a file outside every project is indexed first)."""
    doc = server.docs.get(uri)
    if doc is None or doc.path is None:
        return
    await server.ensure_project(doc.path)
    if server.docs.get(uri) is not doc:
        return
    entry = server.diag.entries.get(doc.path)
    if doc.synced != doc.version or entry is None or entry.version != doc.version:
        server.cancel_pending(uri)
        analyse_open(server, uri)


# -- computing -------------------------------------------------------------------------------------


def affected_paths(server: TaskdroidServer, project: Project, changed: set[str]) -> set[str]:
    """``changed`` plus every file whose diagnostics may depend on them."""
    ws = project.ws
    out = set(changed)
    cache = project.ref_cache
    for p, doc in ws.task_docs.items():
        cached = cache.get(p)
        if cached is None or cached[0] is not doc:
            cached = cache[p] = (doc, query.referenced_paths(ws, doc))
        if not cached[1].isdisjoint(changed):
            out.add(p)
    sig = tuple(sorted((name, d.path) for name, d in ws.droid_index().items()))
    if sig != project.droid_sig:
        project.droid_sig = sig
        out.update(ws.task_docs)
        out.update(ws.droid_docs)
    elif any(p not in ws.task_docs for p in changed):
        out.update(ws.droid_docs)  # DR007 may have changed
    out |= rq.neighbours(ws, changed)  # docs/language.md §13: tasks.md ↔ requirements.md/spec.md
    cycles = cycle_paths(project)
    out |= cycles | project.cycle_paths
    project.cycle_paths = cycles
    return out


def cycle_paths(project: Project) -> set[str]:
    """Task files holding a task on a dependency cycle."""
    return {path for path, _task_id in project.ws.dependency_graph().scc_of}


def analyse(
    server: TaskdroidServer,
    project: Project,
    changed: set[str],
    *,
    origin: str | None = None,
) -> None:
    """Recompute the diagnostics of ``changed`` and of the files that depend on them."""
    refresh_paths(server, project, affected_paths(server, project, changed), origin=origin)


def analyse_project(server: TaskdroidServer, project: Project) -> None:
    refresh_paths(server, project, _project_paths(server, project))
    request_refresh(server)


def _project_paths(server: TaskdroidServer, project: Project) -> set[str]:
    """Every file of ``project`` to (re)analyse; records its droid names and cycles."""
    ws = project.ws
    project.droid_sig = tuple(sorted((n, d.path) for n, d in ws.droid_index().items()))
    project.droid_count = len(ws.droid_docs)
    project.cycle_paths = cycle_paths(project)
    paths = set(ws.all_paths())
    paths.update(
        p for p in server.diag.entries if server.project_for(p) is project and p not in paths
    )
    return paths


def _analyse_unindexed_open(server: TaskdroidServer) -> None:
    openings = server.get_feature(Openings)
    for uri in list(server.docs):
        doc = server.docs[uri]
        if openings is not None and doc.path is not None and openings.covers(doc.path):
            continue  # its project is being indexed; the document is analysed after that
        if doc.path is not None and doc.path not in server.diag.entries:
            project = server.project_for(doc.path)
            if project is not None:
                refresh_paths(server, project, {doc.path})


#: loop turns given to waiting requests between the open documents and the rest (see below)
_ANSWER_TURNS = 4


async def analyse_all_async(server: TaskdroidServer, slice_seconds: float = 0.02) -> None:
    """The first analysis after indexing: every file of every project, open documents first —
    what the user looks at — then every other file, yielding to the event loop between slices so
    requests are answered meanwhile. A workspace pull waits for the end of it; one refresh
    request is sent then."""
    done: set[str] = set()
    state = server.diag
    complete = _complete_event(server)
    try:
        for uri in list(server.docs):
            doc = server.docs.get(uri)
            project = server.project_for(doc.path) if doc is not None and doc.path else None
            if doc is None or doc.path is None or project is None:
                continue
            try:
                server.sync(uri)
                doc.unanalysed = False  # the whole workspace is analysed right after
                refresh_paths(server, project, {doc.path}, origin=doc.path)
                done.add(doc.path)
                server.cancel_pending(uri)  # the didOpen analysis waiting for the index: done
                server.after_analysis(uri)
            except Exception:
                log.exception("analysis of %s failed", uri)
        # let the requests that waited for the open documents go out before the rest of the
        # workspace: a pull that waited for the index needs a few loop turns (its handler
        # wakes, finishes, its response is sent), and each slice below can take 20 ms or more
        # (the first droid file's checks load pydantic's validation: ~30 ms)
        for _ in range(_ANSWER_TURNS):
            await asyncio.sleep(0)
        loop = asyncio.get_running_loop()
        plan: list[tuple[Project, list[str]]] = []
        for project in server.all_projects():
            try:
                plan.append((project, sorted(_project_paths(server, project) - done)))
            except Exception:
                log.exception("analysis of %s failed", project.root)
        state.progress = (0, sum(len(paths) for _, paths in plan))
        n = 0
        for project, paths in plan:
            start = loop.time()
            for path in paths:
                try:
                    refresh_paths(server, project, {path}, refresh=False)
                except Exception:
                    log.exception("analysis of %s failed", path)
                n += 1
                if loop.time() - start > slice_seconds:
                    state.progress = (n, state.progress[1])
                    await asyncio.sleep(0)
                    start = loop.time()
            # files indexed or changed while this ran: a result may depend on them
            _recheck_droids(server, project)
        _analyse_unindexed_open(server)
    finally:
        complete.set()
    request_refresh(server)


def _recheck_droids(server: TaskdroidServer, project: Project) -> None:
    """Droid files analysed before another droid file of the same name arrived (DR007 on the
    first of two): analyse every droid file again when the set of droids changed meanwhile."""
    ws = project.ws
    sig = tuple(sorted((n, d.path) for n, d in ws.droid_index().items()))
    if sig != project.droid_sig or len(ws.droid_docs) != project.droid_count:
        project.droid_sig = sig
        project.droid_count = len(ws.droid_docs)
        refresh_paths(server, project, set(ws.droid_docs) | set(ws.task_docs), refresh=False)


def forget_project(server: TaskdroidServer, project: Project) -> None:
    """A workspace folder was removed: clear the diagnostics of its files."""
    for path in list(project.ws.all_paths()):
        if server.project_for(path) is not project:
            _drop(server, path)
    request_refresh(server)


def _drop(server: TaskdroidServer, path: str) -> None:
    entry = server.diag.entries.pop(path, None)
    if entry is None:
        return
    if server.push_diagnostics:
        _publish(server, entry.uri, [], None)
    else:
        tomb = server.diag.tombstones
        tomb[entry.uri] = server.diag.new_id()
        if len(tomb) > _MAX_TOMBSTONES:
            tomb.pop(next(iter(tomb)))


def refresh_paths(
    server: TaskdroidServer,
    project: Project,
    paths: set[str],
    *,
    origin: str | None = None,
    refresh: bool = True,
) -> None:
    """Recompute and cache the diagnostics of ``paths``; publish (push) or ask the client to
    re-pull (pull) when a result other than ``origin``'s changed."""
    ws = project.ws
    state = server.diag
    others_changed = False
    for path in sorted(paths):
        if _SLOW:
            _burn(_SLOW)
        indexed = path in ws.task_docs or path in ws.droid_docs or path in ws.extra_diagnostics
        indexed = indexed or path in ws.req_docs
        if not indexed:
            if path in state.entries:
                _drop(server, path)
                others_changed = others_changed or path != origin
            continue
        uri = server.uri_of(path)
        doc_uri = server.open_paths.get(path)
        open_doc = server.docs.get(doc_uri) if doc_uri is not None else None
        version = open_doc.synced if open_doc is not None and open_doc.synced != -1 else None
        try:
            core = ws.diagnostics(path)
            lines = server.core_lines(project, path)
            items = server.conv.diagnostics(core, lines, uri, server.other_file)
        except Exception:
            log.exception("diagnostics of %s failed", path)
            items = []
        state.tombstones.pop(uri, None)
        entry = state.entries.get(path)
        if entry is not None and entry.uri == uri and entry.items == items:
            if entry.version != version:
                entry.version = version
                if server.push_diagnostics and open_doc is not None:
                    _publish(server, uri, items, version)
            continue
        if entry is not None and entry.uri != uri:
            if server.push_diagnostics:
                _publish(server, entry.uri, [], None)
            else:
                state.tombstones[entry.uri] = state.new_id()
        state.entries[path] = Entry(uri, version, state.new_id(), items)
        if server.push_diagnostics:
            if entry is None and not items and open_doc is None:
                continue  # nothing was ever published for this clean, closed file
            _publish(server, uri, items, version)
        elif path != origin:
            others_changed = True
    if others_changed and refresh:
        request_refresh(server)
    server.run_hooks(server.hooks.files_analyzed, server, project, paths)


def _publish(
    server: TaskdroidServer, uri: str, items: list[types.Diagnostic], version: int | None
) -> None:
    try:
        server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=items, version=version)
        )
    except Exception:
        log.exception("cannot publish diagnostics for %s", uri)


def request_refresh(server: TaskdroidServer) -> None:
    """Ask a pulling client to pull again: not before the first analysis of the workspace is
    done (its end sends one), and at most once every :data:`REFRESH_INTERVAL` seconds."""
    if server.push_diagnostics or not server.client.workspace_refresh:
        return
    state = server.diag
    if state.refresh_handle is not None:
        return  # one is on its way
    complete = state.complete
    if complete is None or not complete.is_set():
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    wait = max(0.0, state.last_refresh + REFRESH_INTERVAL - loop.time())

    def send() -> None:
        state.refresh_handle = None
        state.last_refresh = loop.time()
        state.refreshes += 1
        try:
            server.workspace_diagnostic_refresh(None)
        except Exception:
            log.exception("cannot request a diagnostic refresh")

    state.refresh_handle = loop.call_later(wait, send) if wait > 0 else loop.call_soon(send)
