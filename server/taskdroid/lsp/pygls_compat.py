"""Every place taskdroid reaches into pygls beyond its public API, with why.

pygls 2.1 is used through its public API everywhere else (``LanguageServer``, ``@feature``,
``@command``, the generated ``workspace_*``/``window_*`` requests). What it does not let a server
change is overridden here, and only here, against the pygls versions in :data:`PYGLS_RANGE`
(``pyproject.toml`` allows exactly those; ``tests/lsp/test_units.py`` checks the installed
version against it). When pygls moves on, this is the one module to re-read:

1. :class:`TaskdroidProtocol` — the protocol subclass:

   * ``didOpen``/``didChange``/``didClose`` only hand over to taskdroid's handlers. The server
     keeps its own document store with LSP line breaks; pygls' store splits lines on form feed
     and U+2028 too, which would put incremental edits on the wrong line (and cost a second copy
     of every open document).
   * ``_execute_handler``: pygls keeps the future of every notification handled by a generator
     or coroutine (didOpen/didChange/didClose, commands) in ``_request_futures`` for good, about
     2 KB per notification; it is dropped once done.
   * ``structure_message``: a request whose params do not match the protocol gets an
     ``InvalidParams`` error response; pygls logs it and answers nothing, so the client waits
     forever.

2. :class:`CompatServer` — ``start_io`` runs taskdroid's own stdio loop
   (:mod:`taskdroid.lsp.transport`), which survives broken framing; pygls' loop goes deaf for
   good after one bad header. The loop uses pygls' internals only through three members
   defined here: ``CompatServer.attach_stdout`` (pygls' writer and the stop event its
   ``shutdown()`` sets), ``TaskdroidProtocol.send_raw`` (an error answer to bytes that are not a
   message) and ``TaskdroidProtocol.shut_down`` (requests after ``shutdown`` are refused).
"""

from __future__ import annotations

import logging
import threading
from typing import Any, BinaryIO

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer
from pygls.protocol.language_server import LanguageServerProtocol, lsp_method

from taskdroid.lsp.deferred import metadata
from taskdroid.lsp.transport import serve_stdio

log = logging.getLogger("taskdroid.lsp.pygls_compat")

#: the pygls versions these overrides were written for and tested with (inclusive, exclusive)
PYGLS_RANGE = ((2, 1), (2, 2))


def pygls_version() -> tuple[int, ...]:
    out = []
    for part in metadata.version("pygls").split(".")[:3]:
        digits = "".join(c for c in part if c.isdigit())
        out.append(int(digits or 0))
    return tuple(out)


def pygls_supported(v: tuple[int, ...] | None = None) -> bool:
    v = pygls_version() if v is None else v
    lo, hi = PYGLS_RANGE
    return lo <= v[: len(lo)] and v[: len(hi)] < hi


class TaskdroidProtocol(LanguageServerProtocol):
    """pygls' protocol with the changes listed in the module docstring (1)."""

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

    def _execute_handler(self, msg_id, handler, callback, args=None, kwargs=None):
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

    def send_raw(self, data: dict[str, Any]) -> None:
        """Send one JSON-RPC message as it is (an error answer to bytes that are no message)."""
        self._send_data(data)

    @property
    def shut_down(self) -> bool:
        """Has the client sent ``shutdown``?"""
        return bool(self._shutdown)


class CompatServer(LanguageServer):
    """A pygls ``LanguageServer`` served by taskdroid's stdio loop (see (2) above)."""

    def start_io(self, stdin: Any = None, stdout: Any = None) -> None:
        serve_stdio(self, stdin, stdout)

    def attach_stdout(self, stdout: BinaryIO) -> threading.Event:
        """Give the protocol pygls' stdout writer; returns the event ``shutdown()`` sets."""
        stop = threading.Event()
        self._stop_event = stop
        self.protocol.set_writer(StdoutWriter(stdout))
        return stop
