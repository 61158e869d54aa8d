"""The language server's kernel: server state, hooks, feature objects and shared plumbing.

Everything runs on the asyncio loop: the core :class:`Workspace` is touched from one thread only,
the analysis of an open document is scheduled per document (an asyncio task per uri, cancelled
when a newer edit supersedes it) and indexing is time-sliced.

The kernel is this module, :mod:`~taskdroid.lsp.config` (settings), :mod:`~taskdroid.lsp.diagnostics`
(analysis, push and pull) and :mod:`~taskdroid.lsp.documents` (text sync, indexing, file events),
imported in that order; none of them imports a feature module. Features (hover, completion,
navigation, symbols, inlay hints, code lens, code actions, commands, runs) import the kernel and
plug in through explicit seams:

* ``register(server)`` adds their LSP handlers (see :mod:`taskdroid.lsp.main`);
* :class:`Hooks` — ``server.hooks.initialize`` (before the capabilities are computed),
  ``after_analysis`` (an open document's diagnostics are current), ``shutdown`` (awaited before
  the server's own shutdown work) and ``exit``;
* feature objects — per-server state lives on an object the feature adds with
  ``server.add_feature(obj)`` and finds again with ``server.get_feature(Type)``, never in module
  globals shared by every server of a process;
* ``server.client`` — the client's capabilities, resolved once at ``initialize``
  (:class:`~taskdroid.lsp.capabilities.ResolvedClientCapabilities`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.uris import from_fs_path, to_fs_path

from taskdroid import __version__
from taskdroid.core.files import read_text
from taskdroid.core.paths import is_inside, under
from taskdroid.lsp.capabilities import ResolvedClientCapabilities
from taskdroid.lsp.convert import EMPTY_LINES, Converter, LineIndex, encoding_of, json_converter
from taskdroid.lsp.pygls_compat import CompatServer, TaskdroidProtocol

if TYPE_CHECKING:
    from taskdroid.core.config import LoadedSettings
    from taskdroid.core.document import TaskDocument
    from taskdroid.core.droids import DroidDocument
    from taskdroid.core.workspace import Workspace

log = logging.getLogger("taskdroid.lsp")

#: server options read from ``initializationOptions`` (not taskdroid settings)
SERVER_OPTION_KEYS = (
    "debounceMs",
    "diagnosticMode",
    "pollIntervalMs",
    "indexProgressThreshold",
)
DEFAULT_DEBOUNCE_MS = 200
DEFAULT_POLL_MS = 3000
DEFAULT_PROGRESS_THRESHOLD = 100


@dataclass(slots=True)
class ServerOptions:
    debounce: float = DEFAULT_DEBOUNCE_MS / 1000
    #: "auto", "push" or "pull"
    diagnostic_mode: str = "auto"
    #: seconds between polls of the disk when the client cannot watch files (0: never)
    poll_interval: float = DEFAULT_POLL_MS / 1000
    progress_threshold: int = DEFAULT_PROGRESS_THRESHOLD


@dataclass(eq=False)
class OpenDocument:
    """A document the client has open (its text wins over the disk)."""

    uri: str
    path: str | None
    version: int | None
    text: str
    language_id: str = ""
    #: version last given to the core workspace (-1: never)
    synced: int | None = -1
    #: the core saw a new text whose cross-file effects are not analysed yet (a request may
    #: sync the document before its debounced analysis runs)
    unanalysed: bool = False
    #: CPU seconds the last analysis of this document took, and when it was last edited
    #: (monotonic)
    analysis_cost: float = 0.0
    last_edit: float = float("-inf")
    #: wall seconds the last analysis of this document took (more than its CPU time on a busy
    #: machine)
    analysis_wall: float = 0.0
    _lines: LineIndex | None = None

    @property
    def lines(self) -> LineIndex:
        if self._lines is None or self._lines.text is not self.text:
            self._lines = LineIndex(self.text)
        return self._lines

    def set_text(self, text: str, version: int | None, lines: LineIndex | None = None) -> None:
        self.text = text
        self.version = version
        self._lines = lines if lines is not None and lines.text is text else None


@dataclass(eq=False)
class Project:
    """One project (a workspace folder's, or one found above an opened file — see
    :mod:`taskdroid.lsp.projects`; or the fallback for files in no project) and its index."""

    root: str | None
    uri: str | None
    ws: Workspace
    loaded: LoadedSettings | None = None
    #: droid file texts (task files keep theirs in the TaskDocument)
    droid_texts: dict[str, str] = field(default_factory=dict)
    #: (name, path) of every resolvable droid, and the number of droid files, at the last analysis
    droid_sig: tuple = ()
    droid_count: int = 0
    #: files holding a dependency cycle at the last analysis
    cycle_paths: set[str] = field(default_factory=set)
    #: path → (doc, referenced paths), see core.query.referenced_paths
    ref_cache: dict[str, tuple[Any, set[str]]] = field(default_factory=dict)
    #: path → (mtime_ns, size) of indexed files at the last index/poll
    snapshot: dict[str, tuple[int, int]] | None = None
    indexed: bool = False
    #: no project marker: its walks visit at most this many folders (None: no bound)
    walk_limit: int | None = None
    #: found above an opened file, not from a workspace folder: the server never writes its
    #: closed files (see inside_workspace)
    from_file: bool = False

    def contains(self, path: str) -> bool:
        if self.root is None:
            return True
        return under(path, self.root)


@dataclass(slots=True)
class DocContext:
    """What a feature handler needs about one document."""

    uri: str
    path: str
    project: Project
    kind: str | None  #: "task", "droid" or None
    lines: LineIndex
    task_doc: TaskDocument | None = None
    droid_doc: DroidDocument | None = None


@dataclass(slots=True)
class Entry:
    """Diagnostics of one file, as last computed."""

    uri: str
    version: int | None
    result_id: str
    items: list[types.Diagnostic]


class DiagnosticsState:
    """Cached diagnostics by path, with the uri and document version they were computed for
    (see :mod:`taskdroid.lsp.diagnostics`)."""

    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}
        #: uri → result id of files that left the index (reported empty to pulling clients)
        self.tombstones: dict[str, str] = {}
        self._session = uuid.uuid4().hex[:8]
        self._n = 0
        #: the first analysis of the whole workspace is done (a workspace pull waits for it)
        self.complete: asyncio.Event | None = None
        #: (files analysed, files to analyse) of that first analysis
        self.progress: tuple[int, int] = (0, 0)
        #: the refresh request on its way, when it was last sent, how many were sent
        self.refresh_handle: asyncio.Handle | None = None
        self.last_refresh = float("-inf")
        self.refreshes = 0

    def new_id(self) -> str:
        self._n += 1
        return f"{self._session}-{self._n}"


InitializeHook = Callable[["TaskdroidServer", types.InitializeParams], None]
AfterAnalysisHook = Callable[["TaskdroidServer", str], None]
FilesAnalyzedHook = Callable[["TaskdroidServer", "Project", set[str]], None]


@dataclass
class Hooks:
    """Where features plug into the server's life cycle (called in registration order; a hook
    that raises is logged and the others still run)."""

    #: in ``initialize``, before the capabilities are computed (register features here)
    initialize: list[InitializeHook] = field(default_factory=list)
    #: after the diagnostics of an open document (uri) were brought up to date
    after_analysis: list[AfterAnalysisHook] = field(default_factory=list)
    #: after the diagnostics of files (paths, open or not) of a project were recomputed
    files_analyzed: list[FilesAnalyzedHook] = field(default_factory=list)
    #: awaited on ``shutdown``, before the server cancels its background tasks
    shutdown: list[Callable[[], Awaitable[None] | None]] = field(default_factory=list)
    #: on ``exit`` (the client is gone or going: nothing more can be sent to it)
    exit: list[Callable[[], None]] = field(default_factory=list)


F = TypeVar("F")


class TaskdroidServer(CompatServer):
    def __init__(self, args: Any = None) -> None:
        super().__init__(
            name="taskdroid",
            version=__version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            protocol_cls=TaskdroidProtocol,
            converter_factory=json_converter,
        )
        self.args = args
        self.options = ServerOptions()
        self.init_options: dict[str, Any] = {}
        #: settings pushed by the client (didChangeConfiguration) when it cannot be asked
        self.pushed_settings: dict[str, Any] | None = None
        self.conv = Converter()
        #: open documents by uri
        self.docs: dict[str, OpenDocument] = {}
        #: path → uri of the open document with that path
        self.open_paths: dict[str, str] = {}
        self.projects: list[Project] = []
        self.fallback: Project | None = None
        self.folders: list[tuple[str, str]] = []  #: (uri, path) of the workspace folders
        #: creates and indexes the project of a file outside every project (lsp.documents)
        self.project_opener: Callable[[str], Awaitable[None]] | None = None
        self.diagnostic_mode = "push"
        #: `initialized` has started indexing (a second one is ignored)
        self.started = False
        self._ready: asyncio.Event | None = None
        self._pending: dict[str, asyncio.Task] = {}
        #: paths waiting for a batched analysis, by queue key (see documents.queue_paths)
        self.file_queue: dict[str, set[str]] = {}
        self._tasks: set[asyncio.Task] = set()
        self._line_cache: dict[str, LineIndex] = {}
        self._shown_problems: set[str] = set()
        #: problems found before the client could be told (shown after ``initialized``)
        self.deferred_problems: list[str] = []
        self.hooks = Hooks()
        #: what the client can do (resolved at ``initialize``)
        self.client = ResolvedClientCapabilities()
        self.diag = DiagnosticsState()
        self._features: dict[type, Any] = {}
        self._lens_refresh_pending = False

    # -- client refreshes --------------------------------------------------------------------------
    def request_code_lens_refresh(self) -> None:
        """Ask the client to refresh its code lenses (``workspace/codeLens/refresh``) when it can;
        however many features ask during one event loop turn, one request is sent."""
        if not self.client.code_lens_refresh or self._lens_refresh_pending:
            return
        self._lens_refresh_pending = True

        def send() -> None:
            self._lens_refresh_pending = False
            try:
                self.workspace_code_lens_refresh(None)
            except Exception:
                log.exception("cannot request a code lens refresh")

        try:
            asyncio.get_running_loop().call_soon(send)
        except RuntimeError:
            send()

    # -- feature objects -----------------------------------------------------------------------
    def add_feature(self, feature: F) -> F:
        """Keep ``feature`` (a feature's per-server state) under its type."""
        self._features[type(feature)] = feature
        return feature

    def get_feature(self, kind: type[F]) -> F | None:
        """The feature object of type ``kind`` added to this server, or None."""
        return self._features.get(kind)

    def run_hooks(self, hooks: list[Callable[..., Any]], *args: Any) -> None:
        for hook in hooks:
            try:
                hook(*args)
            except Exception:
                log.exception("hook %s failed", getattr(hook, "__qualname__", hook))

    def after_analysis(self, uri: str) -> None:
        """The diagnostics of the open document ``uri`` are current: tell the features."""
        self.run_hooks(self.hooks.after_analysis, self, uri)

    @property
    def push_diagnostics(self) -> bool:
        return self.diagnostic_mode == "push"

    # -- tasks ---------------------------------------------------------------------------------
    def spawn(self, coro: Coroutine[Any, Any, Any], name: str | None = None) -> asyncio.Task:
        """Run ``coro`` in the background; exceptions are logged, never lost."""
        task = asyncio.ensure_future(coro)
        if name:
            task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("background task %s failed", task.get_name(), exc_info=exc)

    def schedule(
        self, key: str, delay: float, fn: Callable[[], Awaitable[None] | None]
    ) -> asyncio.Task:
        """Run ``fn`` after ``delay`` seconds once the index is ready; a newer call with the same
        key cancels this one (debounce)."""
        old = self._pending.get(key)
        if old is not None and not old.done():
            old.cancel()

        async def run() -> None:
            await self.wait_ready()
            if delay > 0:
                await asyncio.sleep(delay)
            if self._pending.get(key) is task:
                del self._pending[key]
            result = fn()
            if asyncio.iscoroutine(result):
                await result

        task = self.spawn(run(), name=f"analyse {key}")
        self._pending[key] = task
        return task

    def pending(self, key: str) -> asyncio.Task | None:
        t = self._pending.get(key)
        return t if t is not None and not t.done() else None

    def cancel_pending(self, key: str) -> None:
        t = self._pending.pop(key, None)
        if t is not None and not t.done():
            t.cancel()

    @property
    def ready_event(self) -> asyncio.Event:
        if self._ready is None:
            self._ready = asyncio.Event()
        return self._ready

    @property
    def is_ready(self) -> bool:
        return self._ready is not None and self._ready.is_set()

    async def wait_ready(self) -> None:
        if not self.ready_event.is_set():
            await self.ready_event.wait()

    # -- paths and projects --------------------------------------------------------------------
    @staticmethod
    def path_of(uri: str) -> str | None:
        try:
            if not uri.startswith("file:"):
                return None
            p = to_fs_path(uri)
        except Exception:
            return None
        if not p:
            return None
        return os.path.normpath(os.path.abspath(p))

    def uri_of(self, path: str) -> str:
        uri = self.open_paths.get(path)
        if uri is not None:
            return uri
        return from_fs_path(path) or ("file://" + path)

    def inside_workspace(self, path: str) -> bool:
        """Is ``path`` (after resolving links and ``..``) inside one of the workspace folders (or
        the project a workspace folder stands for)? Files outside them are never written to disk
        by the server — not even those of a project found above an opened file."""
        return any(
            p.root is not None and not p.from_file and is_inside(path, p.root)
            for p in self.projects
        )

    def project_for(self, path: str) -> Project | None:
        best = None
        for p in self.projects:
            if p.root is not None and p.contains(path):
                if best is None or len(p.root) > len(best.root or ""):
                    best = p
        if best is not None:
            return best
        return self.fallback

    async def ensure_project(self, path: str) -> None:
        """Make sure the project of ``path`` exists and is indexed (a file outside every project
        gets its own, see :mod:`taskdroid.lsp.projects`); errors are logged."""
        if self.project_opener is None:
            return
        try:
            await self.project_opener(path)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("cannot open the project of %s", path)

    def all_projects(self) -> list[Project]:
        out = list(self.projects)
        if self.fallback is not None:
            out.append(self.fallback)
        return out

    def kind_of(self, project: Project, path: str) -> str | None:
        ws = project.ws
        if path in ws.task_docs:
            return "task"
        if path in ws.droid_docs:
            return "droid"
        try:
            return ws.classify(path)
        except Exception:
            log.exception("cannot classify %s", path)
            return None

    # -- texts ---------------------------------------------------------------------------------
    def text_of(self, path: str) -> str | None:
        uri = self.open_paths.get(path)
        if uri is not None and uri in self.docs:
            return self.docs[uri].text
        project = self.project_for(path)
        if project is not None:
            doc = project.ws.task_docs.get(path)
            if doc is not None:
                return doc.text
            text = project.droid_texts.get(path)
            if text is not None:
                return text
        try:
            return read_text(path)
        except Exception:
            return None

    def lines_of(self, path: str) -> LineIndex:
        text = self.text_of(path)
        if text is None:
            return EMPTY_LINES
        cached = self._line_cache.get(path)
        if cached is not None and cached.text is text:
            return cached
        li = LineIndex(text)
        if len(self._line_cache) > 512:
            self._line_cache.clear()
        self._line_cache[path] = li
        return li

    def core_lines(self, project: Project, path: str) -> LineIndex:
        """The lines of the text the core analysed for ``path`` (may lag an open document)."""
        doc = project.ws.task_docs.get(path)
        text = doc.text if doc is not None else project.droid_texts.get(path)
        if text is None:
            return self.lines_of(path)
        uri = self.open_paths.get(path)
        open_doc = self.docs.get(uri) if uri is not None else None
        if open_doc is not None and open_doc.text is text:
            return open_doc.lines
        key = "\0core:" + path
        cached = self._line_cache.get(key)
        if cached is not None and cached.text is text:
            return cached
        li = LineIndex(text)
        if len(self._line_cache) > 512:
            self._line_cache.clear()
        self._line_cache[key] = li
        return li

    def other_file(self, path: str) -> tuple[str, LineIndex]:
        return self.uri_of(path), self.lines_of(path)

    # -- syncing open documents into the core ----------------------------------------------------
    def sync(self, uri: str) -> str | None:
        """Give an open document's current text to the core workspace. Returns its path when the
        core's view changed."""
        doc = self.docs.get(uri)
        if doc is None or doc.path is None or doc.synced == doc.version:
            return None
        project = self.project_for(doc.path)
        if project is None:
            return None
        doc.synced = doc.version
        kind = self.kind_of(project, doc.path)
        if kind is None:
            return None
        ws = project.ws
        if "\x00" in doc.text:
            # binary content: not analysable (as `taskdroid check` says); forget the file
            if doc.path in ws.task_docs or doc.path in ws.droid_docs:
                ws.remove(doc.path)
                project.droid_texts.pop(doc.path, None)
                doc.unanalysed = True
                return doc.path
            return None
        indexed = ws.task_docs.get(doc.path) if kind == "task" else None
        known = indexed.text if indexed is not None else project.droid_texts.get(doc.path)
        if known is not None and known == doc.text:
            # opened as it is on disk (already indexed): nothing to re-derive (the cost of an
            # open must not grow with the workspace)
            return None
        try:
            ws.set_text(doc.path, doc.text, kind)
        except Exception:
            log.exception("cannot analyse %s", doc.path)
            return None
        if kind == "droid":
            project.droid_texts[doc.path] = doc.text
        doc.unanalysed = True
        return doc.path

    def context(self, uri: str) -> DocContext | None:
        """The document behind ``uri`` (open, or an indexed file), synced, with its models."""
        path = self.path_of(uri)
        if path is None or not self.is_ready:
            return None
        self.sync(uri)
        project = self.project_for(path)
        if project is None:
            return None
        ws = project.ws
        task_doc = ws.task_docs.get(path)
        droid_doc = ws.droid_docs.get(path)
        kind = "task" if task_doc is not None else "droid" if droid_doc is not None else None
        doc = self.docs.get(uri)
        lines = doc.lines if doc is not None else self.lines_of(path)
        return DocContext(uri, path, project, kind, lines, task_doc, droid_doc)

    # -- messages ------------------------------------------------------------------------------
    def forget_shown_problems(self) -> None:
        self._shown_problems.clear()

    def show_problems(self, problems: list[str]) -> None:
        new = [p for p in problems if p not in self._shown_problems]
        if not new:
            return
        self._shown_problems.update(new)
        for p in new:
            log.warning("settings: %s", p)
        text = "taskdroid: " + ("\n".join(new) if len(new) > 1 else new[0])
        try:
            self.window_show_message(
                types.ShowMessageParams(type=types.MessageType.Warning, message=text)
            )
        except Exception:
            log.exception("cannot show a message")

    def report_server_error(self, error: Exception, source: Any) -> None:
        # Log; never pop up messages for request errors (the client already gets the response)
        # nor for transport hiccups. Errors we answer on purpose (bad arguments, a refused run)
        # are not server errors.
        if _expected_error(error):
            log.info("request refused: %s", error)
            return
        log.error("server error (%s): %s", getattr(source, "__name__", source), error)


def _expected_error(error: BaseException | None) -> bool:
    """InvalidParams and RequestFailed are answers, not faults."""
    code = getattr(error, "code", None)
    return isinstance(error, JsonRpcException) and code in (-32602, -32803)


class _QuietExpectedErrors(logging.Filter):
    """Drop pygls's traceback for request errors we raise on purpose (see _expected_error)."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not _expected_error(exc)


def safe(default: Any = None) -> Callable:
    """Wrap an async feature handler: an exception is logged and answered with ``default`` (an
    empty result) instead of reaching the client as an internal error. Protocol errors raised on
    purpose (``JsonRpcException``) and cancellation pass through."""

    def deco(fn: Callable) -> Callable:
        @functools.wraps(fn)
        async def wrapper(ls: TaskdroidServer, params: Any) -> Any:
            try:
                return await fn(ls, params)
            except (asyncio.CancelledError, JsonRpcException):
                raise
            except Exception:
                log.exception("%s failed", fn.__name__)
                return default() if callable(default) else default

        return wrapper

    return deco


def register_lifecycle(server: TaskdroidServer) -> None:
    """``initialize``, ``shutdown`` and ``exit``: the server's own work, then the hooks."""

    @server.feature(types.INITIALIZE)
    def initialize(ls: TaskdroidServer, params: types.InitializeParams) -> None:
        ls.client = ResolvedClientCapabilities.resolve(
            params.capabilities, ls.workspace.position_encoding
        )
        ls.conv = Converter(encoding_of(ls.workspace.position_encoding))
        folders: list[tuple[str, str]] = []
        for f in params.workspace_folders or []:
            p = ls.path_of(f.uri)
            if p is not None:
                folders.append((f.uri, p))
        if not folders:
            uri = params.root_uri
            if uri is None and params.root_path:
                uri = from_fs_path(params.root_path)
            p = ls.path_of(uri) if uri else None
            if uri and p is not None:
                folders.append((uri, p))
        ls.folders = folders
        ls.run_hooks(ls.hooks.initialize, ls, params)

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: TaskdroidServer, params: Any) -> None:
        for hook in ls.hooks.shutdown:
            try:
                result = hook()
                if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
                    await result
            except Exception:
                log.exception("shutdown hook %s failed", getattr(hook, "__qualname__", hook))
        for task in list(ls._tasks):
            task.cancel()

    @server.feature(types.EXIT)
    def exit_(ls: TaskdroidServer, params: Any) -> None:
        ls.run_hooks(ls.hooks.exit)


def new_token() -> str:
    return f"taskdroid-{uuid.uuid4()}"


__all__ = [
    "DocContext",
    "Hooks",
    "OpenDocument",
    "Project",
    "ServerOptions",
    "TaskdroidProtocol",
    "TaskdroidServer",
    "encoding_of",
]
