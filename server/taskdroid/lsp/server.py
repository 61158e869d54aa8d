"""The taskdroid language server: state, start-up and the shared plumbing of the features.

Only pygls and lsprotocol are imported before ``initialize`` is answered; the core (pydantic
settings, the task parser, the workspace index) loads when the workspace is indexed, after
``initialized``. Everything runs on the asyncio loop: the core :class:`Workspace` is touched from
one thread only, and CPU-heavy analysis is debounced per document (an asyncio task per uri,
cancelled when a newer edit supersedes it) and indexing is time-sliced.

Feature modules (``documents``, ``diagnostics``, ``hover``, ``completion``, ``navigation``,
``symbols``, ``inlay``, ``config``) each register their handlers with ``register(server)``;
editing features (code actions, commands, code lens) plug in the same way later.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import sys
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.capabilities import get_capability
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.protocol.language_server import LanguageServerProtocol, lsp_method
from pygls.uris import from_fs_path, to_fs_path

from taskdroid import __version__
from taskdroid.core.paths import is_inside
from taskdroid.lsp.convert import EMPTY_LINES, Converter, LineIndex, encoding_of, json_converter

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
    """One workspace folder (or the fallback for files outside every folder) and its index."""

    root: str | None
    uri: str | None
    ws: Workspace
    loaded: LoadedSettings | None = None
    #: droid file texts (task files keep theirs in the TaskDocument)
    droid_texts: dict[str, str] = field(default_factory=dict)
    #: (name, path) of every resolvable droid at the last analysis
    droid_sig: tuple = ()
    #: files holding a dependency cycle at the last analysis
    cycle_paths: set[str] = field(default_factory=set)
    #: path → (doc, referenced paths), see core.query.referenced_paths
    ref_cache: dict[str, tuple[Any, set[str]]] = field(default_factory=dict)
    #: path → (mtime_ns, size) of indexed files at the last index/poll
    snapshot: dict[str, tuple[int, int]] | None = None
    indexed: bool = False

    def contains(self, path: str) -> bool:
        if self.root is None:
            return True
        return path == self.root or path.startswith(self.root.rstrip(os.sep) + os.sep)


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


class TaskdroidProtocol(LanguageServerProtocol):
    """pygls' protocol with two changes.

    * The server keeps its own document store (``TaskdroidServer.docs``) with LSP line breaks
      (pygls splits on form feed and U+2028 too, which would put incremental edits on the wrong
      line), so the built-in didOpen/didChange/didClose only hand over to our handlers.
    * A request whose params do not match the protocol gets an ``InvalidParams`` error response
      instead of no response at all.
    """

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams):
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_OPEN)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams):
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams):
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CLOSE)) is not None:
            yield handler, (params,), None

    #: the id of an ``initialize`` request answered before pygls was loaded (see fastinit.py):
    #: pygls' own answer to it is not sent again
    preanswered_id: int | str | None = None

    def _send_response(self, msg_id, result=None, error=None):
        if self.preanswered_id is not None and msg_id == self.preanswered_id:
            self.preanswered_id = None
            if error is not None:
                log.error("initialize failed after it was answered early: %s", error)
            return
        super()._send_response(msg_id, result, error)

    def _execute_handler(self, msg_id, handler, callback, args=None, kwargs=None):
        # pygls keeps the Future of a notification run through a generator or coroutine handler
        # (didOpen/didChange/didClose, commands' inner handlers) in _request_futures under a
        # fresh id for good: ~2 KB per notification. Drop it once it is done.
        super()._execute_handler(msg_id, handler, callback, args, kwargs)
        futures = self._request_futures
        fut = futures.get(msg_id)
        if fut is not None:

            def forget(f, key=msg_id) -> None:
                if futures.get(key) is f:
                    del futures[key]

            fut.add_done_callback(forget)

    def structure_message(self, data: dict[str, Any]):
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if isinstance(data, dict) and "id" in data and "method" in data:
                cause = exc.__cause__
                detail = str(cause).splitlines()[0] if cause is not None else ""
                message = f"invalid params for {data.get('method')}" + (
                    f": {detail}" if detail else ""
                )
                self._send_response(
                    data["id"], None, JsonRpcInvalidParams(message).to_response_error()
                )
            raise


class TaskdroidServer(LanguageServer):
    def start_io(self, stdin: Any = None, stdout: Any = None) -> None:
        """Serve on stdio with taskdroid's own message loop (lsp/transport.py: resynchronises
        after broken framing, keeps the LSP life cycle) instead of pygls'."""
        from taskdroid.lsp.transport import serve_stdio

        serve_stdio(self, stdin, stdout)

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
        #: called in ``initialize``, before the capabilities are computed (register features here)
        self.init_hooks: list[Callable[[TaskdroidServer, types.InitializeParams], None]] = []
        from taskdroid.lsp.diagnostics import DiagnosticsState

        self.diag = DiagnosticsState()

    # -- capabilities --------------------------------------------------------------------------
    def capability(self, path: str, default: Any = None) -> Any:
        try:
            return get_capability(self.client_capabilities, path, default)
        except Exception:
            return default

    @property
    def push_diagnostics(self) -> bool:
        return self.diagnostic_mode == "push"

    def markdown_supported(self, path: str) -> bool:
        formats = self.capability(path, None)
        if formats is None:
            return False
        return types.MarkupKind.Markdown in formats or "markdown" in formats

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
        """Is ``path`` (after resolving links and ``..``) inside one of the workspace folders?
        Files outside them are never written to disk by the server."""
        return any(p.root is not None and is_inside(path, p.root) for p in self.projects)

    def project_for(self, path: str) -> Project | None:
        best = None
        for p in self.projects:
            if p.root is not None and p.contains(path):
                if best is None or len(p.root) > len(best.root or ""):
                    best = p
        if best is not None:
            return best
        return self.fallback

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
            from taskdroid.core.workspace import read_text

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


def _register_lifecycle(server: TaskdroidServer) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(ls: TaskdroidServer, params: types.InitializeParams) -> None:
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
        for hook in ls.init_hooks:
            try:
                hook(ls, params)
            except Exception:
                log.exception("initialize hook %s failed", getattr(hook, "__name__", hook))

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: TaskdroidServer, params: Any) -> None:
        for task in list(ls._tasks):
            task.cancel()


def create_server(args: Any = None) -> TaskdroidServer:
    server = TaskdroidServer(args)
    _register_lifecycle(server)
    from taskdroid.lsp import (
        completion,
        config,
        diagnostics,
        documents,
        hover,
        inlay,
        navigation,
        symbols,
    )

    for module in (config, documents, diagnostics, hover, completion, navigation, symbols, inlay):
        module.register(server)
    __import__("taskdroid.lsp.runs", fromlist=["register"]).register(server)  # droid runs (§7)
    for name in ("commands", "actions", "codelens"):  # editing: §5, §6, code actions and lenses
        __import__(f"taskdroid.lsp.{name}", fromlist=["register"]).register(server)
    return server


# -- entry point -----------------------------------------------------------------------------------


def _setup_logging(level_name: str | None, log_file: str | None) -> None:
    level = getattr(logging, str(level_name or "WARNING").upper(), None)
    if not isinstance(level, int):
        level = logging.WARNING
    handler: logging.Handler
    if log_file:
        handler = logging.FileHandler(log_file, encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(level)
    # pygls logs every message it sends at INFO: keep it quiet unless debugging
    logging.getLogger("pygls").setLevel(level if level <= logging.DEBUG else logging.WARNING)
    logging.getLogger("pygls.protocol.json_rpc").addFilter(_QuietExpectedErrors())


def run(args: Any, stdin: Any = None, preanswered_id: int | str | None = None) -> int:
    """``taskdroid lsp``: serve on stdio, or on TCP with ``--tcp HOST:PORT``. ``stdin`` and
    ``preanswered_id`` come from :mod:`taskdroid.lsp.fastinit` when ``initialize`` was answered
    before this module was loaded."""
    try:
        _setup_logging(getattr(args, "log_level", None), getattr(args, "log_file", None))
    except OSError as e:
        print(f"taskdroid: --log-file: {e}", file=sys.stderr)
        return 2
    tcp = getattr(args, "tcp", None)
    host = port = None
    if tcp:
        host, _, port_text = str(tcp).rpartition(":")
        try:
            port = int(port_text)
        except ValueError:
            print(f"taskdroid: --tcp {tcp}: expected HOST:PORT", file=sys.stderr)
            return 2
        host = host or "127.0.0.1"
    server = create_server(args)
    if tcp:
        server.start_tcp(host or "127.0.0.1", int(port or 0))
    else:
        server.protocol.preanswered_id = preanswered_id
        server.start_io(stdin, None)
    return 0


def new_token() -> str:
    return f"taskdroid-{uuid.uuid4()}"


__all__ = [
    "DocContext",
    "OpenDocument",
    "Project",
    "ServerOptions",
    "TaskdroidServer",
    "create_server",
    "encoding_of",
    "run",
]
