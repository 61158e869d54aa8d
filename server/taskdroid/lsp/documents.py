"""Documents: text sync, start-up indexing, and keeping the index current.

* Open documents live in ``server.docs`` (incremental sync, applied in code points on LSP lines)
  and win over the disk. Each edit schedules a debounced analysis of that document.
* After ``initialized`` every task and droid file of each workspace folder is indexed in the
  background: discovery and reading run in a thread, parsing runs on the loop in time slices,
  with ``$/progress`` when the client supports it and the workspace is large.
* ``workspace/didChangeWatchedFiles`` (registered dynamically where the client allows) keeps the
  index current. Clients that cannot watch files get a poll of the disk instead
  (``pollIntervalMs``).
* ``workspace/didChangeConfiguration`` re-reads the settings (:mod:`taskdroid.lsp.config`) and
  rebuilds the index of each project whose settings changed.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from taskdroid.lsp import deferred, diagnostics, projects
from taskdroid.lsp.config import load_project_settings
from taskdroid.lsp.convert import LineIndex
from taskdroid.lsp.deferred import config as core_config
from taskdroid.lsp.deferred import discovery, globs
from taskdroid.lsp.deferred import workspace as core_ws
from taskdroid.lsp.server import OpenDocument, Project, TaskdroidServer, new_token

if TYPE_CHECKING:
    from taskdroid.core.config import LoadedSettings

log = logging.getLogger("taskdroid.lsp.documents")

#: files read per batch while indexing; parsing yields to the loop after each slice
_BATCH = 32
_SLICE_SECONDS = 0.02
PROJECT_FILE = ".taskdroid.toml"


def register(server: TaskdroidServer) -> None:
    openings = server.add_feature(projects.Openings())

    async def open_for(path: str) -> None:
        await openings.ensure(server, path, lambda planned: open_project(server, planned, True))

    server.project_opener = open_for

    @server.feature(types.INITIALIZED)
    def initialized(ls: TaskdroidServer, params: types.InitializedParams) -> None:
        if ls.started:  # a second `initialized` must not rebuild the index under open documents
            log.warning("ignoring a second `initialized` notification")
            return
        ls.started = True
        ls.spawn(startup(ls), name="startup")

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: TaskdroidServer, params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        path = ls.path_of(item.uri)
        old = ls.docs.get(item.uri)
        if old is not None and old.path:
            ls.open_paths.pop(old.path, None)
        ls.docs[item.uri] = OpenDocument(item.uri, path, item.version, item.text, item.language_id)
        if path is not None:
            ls.open_paths[path] = item.uri
        ls.schedule(item.uri, 0, lambda: analyse_opened(ls, item.uri))

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: TaskdroidServer, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        doc = ls.docs.get(uri)
        if doc is None:
            log.warning("didChange for a document that is not open: %s", uri)
            return
        lines = apply_changes(ls, doc.lines, params.content_changes)
        doc.set_text(lines.text, params.text_document.version, lines)
        delay = diagnostics.push_delay(ls, uri)
        ls.schedule(uri, delay, lambda: analyse_opened(ls, uri))

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: TaskdroidServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        doc = ls.docs.pop(uri, None)
        ls.cancel_pending(uri)
        if doc is None or doc.path is None:
            return
        if ls.open_paths.get(doc.path) == uri:
            del ls.open_paths[doc.path]
        path = doc.path
        ls.schedule(uri, 0, lambda: after_close(ls, uri, path))

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    async def did_change_watched_files(
        ls: TaskdroidServer, params: types.DidChangeWatchedFilesParams
    ) -> None:
        events = []
        for ev in params.changes:
            path = ls.path_of(ev.uri)
            if path is not None:
                events.append((path, int(ev.type)))
        await apply_file_events(ls, events)

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    async def did_change_workspace_folders(
        ls: TaskdroidServer, params: types.DidChangeWorkspaceFoldersParams
    ) -> None:
        await ls.wait_ready()
        for f in params.event.removed or []:
            path = ls.path_of(f.uri)
            gone = projects.plan_folder(path) if path is not None else None
            for project in list(ls.projects):
                if gone is not None and project.root == gone.root:
                    ls.projects.remove(project)
                    diagnostics.forget_project(ls, project)
                    for doc in ls.docs.values():  # now in another project: sync again
                        if doc.path is not None and project.contains(doc.path):
                            doc.synced = -1
        for f in params.event.added or []:
            path = ls.path_of(f.uri)
            planned = projects.plan_folder(path, f.uri) if path is not None else None
            if planned is None or any(p.root == planned.root for p in ls.projects):
                continue
            await open_project(ls, planned, from_file=False)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(
        ls: TaskdroidServer, params: types.DidChangeConfigurationParams
    ) -> None:
        settings = params.settings
        if isinstance(settings, Mapping) and settings:
            ls.pushed_settings = dict(settings)
        await ls.wait_ready()
        await reload_settings(ls)


async def analyse_opened(server: TaskdroidServer, uri: str) -> None:
    """Analyse an open document once its project exists and is indexed (a file outside every
    project gets its own first: :mod:`taskdroid.lsp.projects`)."""
    doc = server.docs.get(uri)
    if doc is not None and doc.path is not None:
        await server.ensure_project(doc.path)
    diagnostics.analyse_open(server, uri)


# -- text sync -------------------------------------------------------------------------------------


def apply_changes(
    server: TaskdroidServer,
    lines: LineIndex,
    changes: Sequence[types.TextDocumentContentChangeEvent],
) -> LineIndex:
    """Apply content changes (incremental or whole) in the negotiated encoding."""
    for change in changes:
        rng = getattr(change, "range", None)
        if rng is None:
            lines = LineIndex(change.text)
            continue
        lines = lines.apply(server.conv.to_core_range(lines, rng), change.text)
    return lines


async def after_close(server: TaskdroidServer, uri: str, path: str) -> None:
    """A closed document falls back to the file on disk, or leaves the index when it is not a
    workspace file (outside every folder, excluded, not matched by the globs, deleted)."""
    project = server.project_for(path)
    if project is None or path in server.open_paths:
        return
    kind = _disk_kind(project, path)
    text = None
    if kind is not None:
        try:
            text = await asyncio.get_running_loop().run_in_executor(None, core_ws.read_text, path)
        except core_ws.ReadError:
            text = None
    if path in server.open_paths:  # reopened meanwhile
        return
    if kind is not None and text is not None:
        project.ws.set_text(path, text, kind)
        if kind == "droid":
            project.droid_texts[path] = text
    else:
        _forget(project, path)
    diagnostics.analyse(server, project, {path}, origin=None)


def _disk_kind(project: Project, path: str) -> str | None:
    """The kind start-up indexing gives this file (by the globs, relative to the root), or None
    when indexing would not pick it up."""
    ws = project.ws
    if project.root is None:
        return None
    rel = ws.relpath(path)
    if rel is None or _excluded(project, path):
        return None
    return discovery.classify_path(rel, ws.settings)


def _forget(project: Project, path: str) -> None:
    ws = project.ws
    if path in ws.task_docs or path in ws.droid_docs:  # (removing bumps the core's versions)
        ws.remove(path)
    ws.req_docs.pop(path, None)
    project.droid_texts.pop(path, None)
    project.ref_cache.pop(path, None)


# -- start-up --------------------------------------------------------------------------------------


async def startup(server: TaskdroidServer) -> None:
    """After ``initialized``: settings, watcher registration, indexing, first diagnostics.

    The cyclic garbage collector is off until the first analysis is done: indexing allocates
    millions of long-lived objects (no garbage cycles), and collecting the young generations
    over and over while they pile up cost 10-20% of the CPU time of the start (measured on a
    200,000-task workspace); they are frozen right after."""
    gc.disable()
    try:
        await _startup(server)
    finally:
        _freeze_heap()
        gc.enable()


async def _startup(server: TaskdroidServer) -> None:
    try:
        deferred.load_for_indexing()
        if server.deferred_problems:
            server.show_problems(server.deferred_problems)
        server.spawn(register_dynamic(server), name="register capabilities")
        server.fallback = await new_project(server, None, None)
        todo = projects.plan_folders(server.folders)
        from_file = False
        while True:  # the workspace folders' projects, then those of files opened meanwhile
            made = [await _new_planned(server, planned, from_file) for planned in todo]
            server.projects.extend(made)
            await index_projects(server, made)
            todo = _unplanned_open_files(server)
            from_file = True
            if not todo:
                break
    except Exception:
        log.exception("start-up failed")
        if server.fallback is None:
            try:
                server.fallback = await new_project(server, None, None)
            except Exception:
                log.exception("cannot create the fallback project")
    finally:
        server.ready_event.set()
    _freeze_heap()
    try:
        await diagnostics.analyse_all_async(server)
    except Exception:
        log.exception("first analysis failed")
    if server.options.poll_interval > 0 and not server.client.watch_files:
        server.spawn(poll_loop(server), name="poll")
    await deferred.warm_up()


def _freeze_heap() -> None:
    """Move the freshly built index out of the cyclic GC's sight: its millions of objects are
    long-lived, and full collections over them cost 100 ms+ pauses in the middle of typing.
    (Objects freed later are still reclaimed by reference counting.)"""
    gc.freeze()


def _unplanned_open_files(server: TaskdroidServer) -> list[projects.Planned]:
    out: dict[str, projects.Planned] = {}
    for doc in list(server.docs.values()):
        if doc.path is not None:
            planned = projects.plan_file(server, doc.path)
            if planned is not None:
                out.setdefault(planned.root, planned)
    return list(out.values())


async def _new_planned(
    server: TaskdroidServer, planned: projects.Planned, from_file: bool
) -> Project:
    limit = projects.MAX_LOOSE_DIRS if planned.bounded else None
    project = await new_project(server, planned.uri, planned.root, walk_limit=limit)
    project.from_file = from_file
    return project


async def open_project(server: TaskdroidServer, planned: projects.Planned, from_file: bool) -> None:
    """Create, index and analyse a project found after start-up (an opened file's, an added
    workspace folder's). Open documents inside it leave the fallback project."""
    project = await _new_planned(server, planned, from_file)
    await index_projects(server, [project])
    if any(p.root == project.root for p in server.projects):
        return
    server.projects.append(project)
    fallback = server.fallback
    for doc in server.docs.values():
        if doc.path is not None and server.project_for(doc.path) is project:
            if fallback is not None:
                _forget(fallback, doc.path)
            doc.synced = -1
    _freeze_heap()
    analyse_project_all(server, project)


async def new_project(
    server: TaskdroidServer, uri: str | None, path: str | None, walk_limit: int | None = None
) -> Project:
    project = Project(root=path, uri=uri, ws=core_ws.Workspace(None), walk_limit=walk_limit)
    loaded = await load_project_settings(server, project)
    server.show_problems(loaded.problems)
    project.loaded = loaded
    project.ws = _workspace_for(project, loaded)
    return project


def _workspace_for(project: Project, loaded: LoadedSettings):
    ws = core_ws.Workspace(project.root, loaded.settings)
    ws.walk_limit = project.walk_limit
    if loaded.project_file is not None and loaded.project_diagnostics:
        ws.extra_diagnostics[core_ws.norm(loaded.project_file)] = list(loaded.project_diagnostics)
    return ws


async def rebuild_project(
    server: TaskdroidServer, project: Project, loaded: LoadedSettings
) -> None:
    """New settings: a fresh index of the project (globs, aliases, tools may all have changed)."""
    project.loaded = loaded
    project.ws = _workspace_for(project, loaded)
    project.droid_texts.clear()
    project.ref_cache.clear()
    project.droid_sig = ()
    project.cycle_paths = set()
    project.indexed = False
    if project.root is not None:
        await index_projects(server, [project])
        _freeze_heap()
    for doc in server.docs.values():
        doc.synced = -1
    analyse_project_all(server, project)
    diagnostics.request_refresh(server)


def analyse_project_all(server: TaskdroidServer, project: Project) -> None:
    for uri, doc in server.docs.items():
        if doc.path is not None and server.project_for(doc.path) is project:
            server.sync(uri)
    diagnostics.analyse_project(server, project)


async def register_dynamic(server: TaskdroidServer) -> None:
    """Watch task, droid and settings files (and creations/deletions of any file, for TD031), and
    ask for configuration change notifications — where the client allows dynamic registration."""
    registrations = []
    if server.client.watch_files:
        kinds = types.WatchKind.Create | types.WatchKind.Delete
        registrations.append(
            types.Registration(
                id=new_token(),
                method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                register_options=types.DidChangeWatchedFilesRegistrationOptions(
                    watchers=[
                        types.FileSystemWatcher(glob_pattern="**/*.md"),
                        types.FileSystemWatcher(glob_pattern=f"**/{PROJECT_FILE}"),
                        types.FileSystemWatcher(glob_pattern="**/*", kind=kinds),
                    ]
                ),
            )
        )
    if server.client.configuration_registration:
        registrations.append(
            types.Registration(
                id=new_token(),
                method=types.WORKSPACE_DID_CHANGE_CONFIGURATION,
                register_options=types.DidChangeConfigurationRegistrationOptions(
                    section="taskdroid"
                ),
            )
        )
    if not registrations:
        return
    try:
        await asyncio.wait_for(
            server.client_register_capability_async(
                types.RegistrationParams(registrations=registrations)
            ),
            5.0,
        )
    except Exception as e:
        log.warning("client/registerCapability failed: %s", e)


# -- indexing --------------------------------------------------------------------------------------


def _scan(
    root: str, settings: Any, max_dirs: int | None = None
) -> list[tuple[str, str, tuple[int, int] | None]]:
    """(path, kind, (mtime_ns, size)) of every task and droid file under ``root`` (in a thread;
    ``max_dirs``: a bounded walk, see :mod:`taskdroid.lsp.projects`)."""
    norm = core_ws.norm
    found = discovery.discover(Path(root), settings, max_dirs=max_dirs)
    if found.truncated:
        log.info("%s has no project marker: indexed its first %s folders only", root, max_dirs)
    out = []
    kinds = (("droid", found.droid_files), ("task", found.task_files))
    for kind, files in (*kinds, ("requirements", found.requirement_files)):
        for f in files:
            p = norm(f)
            try:
                st = os.stat(p)
                sig = (st.st_mtime_ns, st.st_size)
            except OSError:
                sig = None
            out.append((p, kind, sig))
    proj = os.path.join(root, PROJECT_FILE)
    try:
        st = os.stat(proj)
        out.append((norm(proj), "config", (st.st_mtime_ns, st.st_size)))
    except OSError:
        pass
    return out


def _read_many(paths: list[str]) -> list[tuple[str | None, str | None]]:
    out: list[tuple[str | None, str | None]] = []
    for p in paths:
        try:
            out.append((core_ws.read_text(p), None))
        except core_ws.ReadError as e:
            out.append((None, str(e)))
        except Exception as e:  # pragma: no cover - read_text wraps OSError
            out.append((None, str(e)))
    return out


async def index_projects(server: TaskdroidServer, projects: list[Project]) -> None:
    loop = asyncio.get_running_loop()
    plan: list[tuple[Project, list[tuple[str, str]]]] = []
    for project in projects:
        if project.root is None:
            continue
        try:
            scanned = await loop.run_in_executor(
                None, _scan, project.root, project.ws.settings, project.walk_limit
            )
        except Exception:
            log.exception("cannot scan %s", project.root)
            scanned = []
        project.snapshot = {p: sig for p, _k, sig in scanned if sig is not None}
        plan.append((project, [(p, k) for p, k, _ in scanned if k != "config"]))
    total = sum(len(files) for _, files in plan)
    progress = None
    if total and total >= server.options.progress_threshold and server.client.work_done_progress:
        progress = await _begin_progress(server, total)
    done = 0
    try:
        for project, files in plan:
            ws = project.ws
            for i in range(0, len(files), _BATCH):
                batch = files[i : i + _BATCH]
                texts = await loop.run_in_executor(None, _read_many, [p for p, _ in batch])
                slice_start = time.monotonic()
                for (path, kind), (text, error) in zip(batch, texts, strict=True):
                    done += 1
                    if path in server.open_paths:
                        continue  # the open document wins; it is synced separately
                    if text is None:
                        log.info("skipping %s: %s", path, error)
                        continue
                    try:
                        ws.set_text(path, text, kind)
                    except Exception:
                        log.exception("cannot analyse %s", path)
                        continue
                    if kind == "droid":
                        project.droid_texts[path] = text
                    if time.monotonic() - slice_start > _SLICE_SECONDS:
                        await asyncio.sleep(0)
                        slice_start = time.monotonic()
                if progress is not None:
                    _report_progress(server, progress, done, total)
                await asyncio.sleep(0)
            project.indexed = True
            try:
                lint_nested_project_files(project)
            except Exception:
                log.exception("cannot lint nested project files of %s", project.root)
    finally:
        if progress is not None:
            try:
                server.work_done_progress.end(
                    progress, types.WorkDoneProgressEnd(message=f"{total} files")
                )
            except Exception:
                log.exception("cannot end progress")


async def _begin_progress(server: TaskdroidServer, total: int) -> str | None:
    token = new_token()
    try:
        await asyncio.wait_for(server.work_done_progress.create_async(token), 5.0)
        server.work_done_progress.begin(
            token,
            types.WorkDoneProgressBegin(
                title="taskdroid: indexing",
                message=f"0/{total} files",
                percentage=0,
                cancellable=False,
            ),
        )
    except Exception as e:
        log.warning("cannot create progress: %s", e)
        return None
    return token


def _report_progress(server: TaskdroidServer, token: str, done: int, total: int) -> None:
    try:
        server.work_done_progress.report(
            token,
            types.WorkDoneProgressReport(
                message=f"{done}/{total} files", percentage=int(done * 100 / max(total, 1))
            ),
        )
    except Exception:
        log.exception("cannot report progress")


def lint_nested_project_files(project: Project) -> set[str]:
    """CF001 for the ``.taskdroid.toml`` of nested projects (as ``taskdroid check`` reports them).

    Only the root's file is applied (docs/language.md §10); a runner set in any project file is still a
    mistake worth showing. Returns the project files whose diagnostics were (re)computed."""
    norm = core_ws.norm
    ws = project.ws
    if project.root is None:
        return set()
    root_file = norm(os.path.join(project.root, PROJECT_FILE))
    seen: set[str] = set()
    out: set[str] = set()
    for path in (*ws.task_docs, *ws.droid_docs):
        proj = ws.project_root(path)
        if proj is None or proj in seen:
            continue
        seen.add(proj)
        f = norm(os.path.join(proj, PROJECT_FILE))
        if f == root_file:
            continue
        out.add(f)
        diags = core_config.project_file_diagnostics(Path(f)) if os.path.isfile(f) else []
        if diags:
            ws.extra_diagnostics[f] = diags
        else:
            ws.extra_diagnostics.pop(f, None)
    return out


# -- file events -----------------------------------------------------------------------------------

CREATED, CHANGED, DELETED = 1, 2, 3


def _excluded(project: Project, path: str) -> bool:
    """Inside a skipped folder (.git, node_modules, virtual environments, ``exclude``)?"""
    rel = project.ws.relpath(path)
    if rel is None:
        return False
    parts = rel.split("/")
    if any(p in discovery.SKIPPED_DIRS for p in parts[:-1]):
        return True
    rx = globs.compile_globs(tuple(project.ws.settings.exclude))
    if rx is not None:
        for i in range(1, len(parts) + 1):
            if rx.match("/".join(parts[:i])):
                return True
    if project.root is not None:
        folder = os.path.dirname(path)
        while folder.startswith(project.root) and folder != project.root:
            if os.path.exists(os.path.join(folder, "pyvenv.cfg")):
                return True
            folder = os.path.dirname(folder)
    return False


async def apply_file_events(server: TaskdroidServer, events: list[tuple[str, int]]) -> None:
    """Bring the index in line with files created, changed or deleted on disk."""
    await server.wait_ready()
    loop = asyncio.get_running_loop()
    changed: dict[int, tuple[Project, set[str]]] = {}
    existence: dict[int, Project] = {}
    reload_config = False
    nested: set[int] = set()
    for path, typ in events:
        if os.path.basename(path) == PROJECT_FILE:
            if any(p.root == os.path.dirname(path) for p in server.projects):
                reload_config = True
            else:
                project = server.project_for(path)
                if project is not None and project.root is not None:
                    project.ws.invalidate_project_roots()  # a project marker appeared or went
                    nested.add(id(project))
                    changed.setdefault(id(project), (project, set()))
            continue
        project = server.project_for(path)
        if project is None or project.root is None or not project.contains(path):
            continue
        if path in server.open_paths:
            continue  # open documents win over the disk
        if _excluded(project, path):
            continue
        ws = project.ws
        bucket = changed.setdefault(id(project), (project, set()))[1]
        ws.invalidate_files([path])
        if typ == DELETED:
            gone = [p for p in (*ws.task_docs, *ws.droid_docs, *ws.req_docs) if p == path]
            prefix = path.rstrip(os.sep) + os.sep
            gone.extend(p for p in (*ws.task_docs, *ws.droid_docs) if p.startswith(prefix))
            for p in gone:
                if p in server.open_paths:
                    continue
                _forget(project, p)
                bucket.add(p)
            if not gone:
                existence[id(project)] = project
            continue
        kind = _disk_kind(project, path)
        if kind is None:
            if typ == CREATED:
                existence[id(project)] = project
            continue
        try:
            text = await loop.run_in_executor(None, core_ws.read_text, path)
        except core_ws.ReadError:
            if path in ws.task_docs or path in ws.droid_docs:
                _forget(project, path)
                bucket.add(path)
            continue
        if path in server.open_paths:
            continue
        try:
            ws.set_text(path, text, kind)
        except Exception:
            log.exception("cannot analyse %s", path)
            continue
        if kind == "droid":
            project.droid_texts[path] = text
        if typ == CREATED:
            existence[id(project)] = project
        bucket.add(path)
    for key in nested:
        project, bucket = changed[key]
        bucket.update(lint_nested_project_files(project))
    for key, project in existence.items():
        # a file appeared or disappeared: Files entries (TD031) and references may resolve now
        project.ws.invalidate_files()
        bucket = changed.setdefault(key, (project, set()))[1]
        bucket.update(project.ws.task_docs)
    for project, paths in changed.values():
        if paths:
            queue_paths(server, project, paths)
    if reload_config:
        server.spawn(reload_settings(server), name="reload settings")


def queue_paths(server: TaskdroidServer, project: Project, paths: set[str]) -> None:
    """Analyse ``paths`` (and what depends on them) after the debounce delay, batching bursts."""
    key = f"files:{project.root}"
    pending = server.file_queue.setdefault(key, set())
    pending.update(paths)

    def run() -> None:
        batch = server.file_queue.pop(key, set())
        if batch:
            diagnostics.analyse(server, project, batch, origin=None)

    server.schedule(key, server.options.debounce, run)


# -- settings --------------------------------------------------------------------------------------


async def reload_settings(server: TaskdroidServer) -> None:
    """Re-read the settings of every project; re-index the ones whose settings changed."""
    for project in server.all_projects():
        loaded = await load_project_settings(server, project)
        if not loaded.problems:
            server.forget_shown_problems()  # fixed: show them again should they come back
        server.show_problems(loaded.problems)
        old = project.loaded
        same = (
            old is not None
            and old.settings == loaded.settings
            and old.project_diagnostics == loaded.project_diagnostics
            and old.project_file == loaded.project_file
        )
        if same:
            project.loaded = loaded
            continue
        await rebuild_project(server, project, loaded)


# -- polling (clients that cannot watch files) -----------------------------------------------------


async def poll_loop(server: TaskdroidServer) -> None:
    loop = asyncio.get_running_loop()
    interval = server.options.poll_interval
    while True:
        await asyncio.sleep(interval)
        for project in list(server.projects):
            if project.root is None or project.snapshot is None:
                continue
            try:
                scanned = await loop.run_in_executor(
                    None, _scan, project.root, project.ws.settings, project.walk_limit
                )
            except Exception:
                log.exception("poll of %s failed", project.root)
                continue
            now = {p: sig for p, _k, sig in scanned if sig is not None}
            before = project.snapshot
            project.snapshot = now
            events: list[tuple[str, int]] = []
            for p, sig in now.items():
                old = before.get(p)
                if old is None:
                    events.append((p, CREATED))
                elif old != sig:
                    events.append((p, CHANGED))
            events.extend((p, DELETED) for p in before if p not in now)
            if events:
                log.debug("poll: %d change(s) in %s", len(events), project.root)
                await apply_file_events(server, events)
