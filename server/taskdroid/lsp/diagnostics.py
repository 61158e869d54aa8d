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

Cross-file effects: after any change the set of affected files is computed (files whose
cross-file references name a changed file, every task file when the set of droids changed,
every droid file when a droid file changed (DR007), files on old and new dependency cycles), and
only those are recomputed; only results that differ are sent.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass

from lsprotocol import types

from taskdroid.lsp.server import Project, TaskdroidServer

log = logging.getLogger("taskdroid.lsp.diagnostics")

_EMPTY_RESULT_ID = "empty"
_MAX_TOMBSTONES = 2000


@dataclass(slots=True)
class Entry:
    uri: str
    version: int | None
    result_id: str
    items: list[types.Diagnostic]


class DiagnosticsState:
    """Cached diagnostics by path, with the uri and document version they were computed for."""

    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}
        #: uri → result id of files that left the index (reported empty to pulling clients)
        self.tombstones: dict[str, str] = {}
        self._session = uuid.uuid4().hex[:8]
        self._n = 0
        self.refresh_pending = False

    def new_id(self) -> str:
        self._n += 1
        return f"{self._session}-{self._n}"


def register(server: TaskdroidServer) -> None:
    server.init_hooks.append(choose_mode)


def choose_mode(server: TaskdroidServer, params: types.InitializeParams) -> None:
    from taskdroid.lsp.fastinit import diagnostic_mode

    mode = diagnostic_mode(
        server.options.diagnostic_mode,
        server.capability("text_document.diagnostic", None) is not None,
        bool(server.capability("workspace.diagnostics.refresh_support", False)),
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
        except asyncio.CancelledError:
            raise
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
        for uri in list(ls.docs):
            try:
                await settle(ls, uri)
            except asyncio.CancelledError:
                raise
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


async def settle(server: TaskdroidServer, uri: str) -> None:
    """Wait for the pending analysis of an open document, then make sure the cache holds the
    diagnostics of its current version."""
    from taskdroid.lsp import documents

    for _ in range(100):
        task = server.pending(uri)
        if task is None:
            break
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise
            # the analysis was superseded by a newer edit: wait for that one
    doc = server.docs.get(uri)
    if doc is None or doc.path is None:
        return
    entry = server.diag.entries.get(doc.path)
    if doc.synced != doc.version or entry is None or entry.version != doc.version:
        server.cancel_pending(uri)
        documents.analyse_open(server, uri)


# -- computing -------------------------------------------------------------------------------------


def affected_paths(server: TaskdroidServer, project: Project, changed: set[str]) -> set[str]:
    """``changed`` plus every file whose diagnostics may depend on them."""
    from taskdroid.core.query import referenced_paths

    ws = project.ws
    out = set(changed)
    for p, doc in ws.task_docs.items():
        if p in out:
            continue
        cached = project.ref_cache.get(p)
        if cached is None or cached[0] is not doc:
            refs = referenced_paths(ws, doc)
            project.ref_cache[p] = (doc, refs)
        else:
            refs = cached[1]
        if refs & changed:
            out.add(p)
    sig = tuple(sorted((name, d.path) for name, d in ws.droid_index().items()))
    if sig != project.droid_sig:
        project.droid_sig = sig
        out.update(ws.task_docs)
        out.update(ws.droid_docs)
    elif any(p not in ws.task_docs for p in changed):
        out.update(ws.droid_docs)  # DR007 may have changed
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
    project.cycle_paths = cycle_paths(project)
    paths = set(ws.all_paths())
    paths.update(
        p for p in server.diag.entries if server.project_for(p) is project and p not in paths
    )
    return paths


def _analyse_unindexed_open(server: TaskdroidServer) -> None:
    for uri in list(server.docs):
        doc = server.docs[uri]
        if doc.path is not None and doc.path not in server.diag.entries:
            project = server.project_for(doc.path)
            if project is not None:
                refresh_paths(server, project, {doc.path})


async def analyse_all_async(server: TaskdroidServer, slice_seconds: float = 0.02) -> None:
    """The first analysis after indexing: every file of every project, open documents first —
    what the user looks at, and what a pulling client is waiting for — then every other file,
    yielding to the event loop between slices so requests are answered meanwhile."""
    from taskdroid.lsp import codelens

    done: set[str] = set()
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
            codelens.after_analysis(server, uri)
        except Exception:
            log.exception("analysis of %s failed", uri)
    await asyncio.sleep(0)
    loop = asyncio.get_running_loop()
    for project in server.all_projects():
        try:
            paths = sorted(_project_paths(server, project) - done)
        except Exception:
            log.exception("analysis of %s failed", project.root)
            continue
        start = loop.time()
        for path in paths:
            try:
                refresh_paths(server, project, {path})
            except Exception:
                log.exception("analysis of %s failed", path)
            if loop.time() - start > slice_seconds:
                await asyncio.sleep(0)
                start = loop.time()
    request_refresh(server)
    _analyse_unindexed_open(server)


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
    server: TaskdroidServer, project: Project, paths: set[str], *, origin: str | None = None
) -> None:
    """Recompute and cache the diagnostics of ``paths``; publish (push) or ask the client to
    re-pull (pull) when a result other than ``origin``'s changed."""
    ws = project.ws
    state = server.diag
    others_changed = False
    for path in sorted(paths):
        indexed = path in ws.task_docs or path in ws.droid_docs or path in ws.extra_diagnostics
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
    if others_changed:
        request_refresh(server)
    from taskdroid.lsp.commands import outline_changed

    outline_changed(server, project, paths)


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
    """Ask a pulling client to pull again (coalesced: at most one request per loop turn)."""
    if server.push_diagnostics or not server.capability(
        "workspace.diagnostics.refresh_support", False
    ):
        return
    state = server.diag
    if state.refresh_pending:
        return
    state.refresh_pending = True

    def send() -> None:
        state.refresh_pending = False
        try:
            server.workspace_diagnostic_refresh(None)
        except Exception:
            log.exception("cannot request a diagnostic refresh")

    try:
        asyncio.get_running_loop().call_soon(send)
    except RuntimeError:
        send()
