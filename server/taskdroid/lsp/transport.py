"""The stdio transport: pygls' message loop, made to survive a misbehaving client.

pygls 2.1 reads headers with ``readline`` and accepts only an exact ``Content-Length: N\\r\\n``
line. One framing error leaves it deaf for good: after a ``Content-Length`` that is too short,
too long, zero, negative or lowercase, or a body sent without headers, the rest of that body has
no line break, so it swallows the next header line, and every later message the same way (the
process lives on, answering nothing). A ``Content-Length`` beyond the memory of the machine kills
the process (``OverflowError`` from the read), and a large one makes it wait for bytes that never
come. It also runs ``json.loads`` with an ``object_hook`` that structures *every* nested object
holding a ``"jsonrpc"`` key as a message of its own.

This loop frames messages itself:

* it reads what stdin has (``read1``) in a thread and splits the bytes into messages with one
  regular expression for the header block (any case, ``\\n`` or ``\\r\\n`` line ends, other
  headers allowed), so it finds the next message whatever came before it;
* a declared length that does not hold is worked around: the body runs to the next header block
  (a header block — raw line breaks — cannot occur inside JSON), so a message with a wrong length
  is still read when its bytes are valid JSON, and the next message is never lost;
* lengths above :data:`MAX_CONTENT_LENGTH` are ignored; text before a header that is a JSON
  object (a message sent without headers) is still handled;
* what cannot be read gets a JSON-RPC error: ``-32700`` (parse error) for bytes that are not
  JSON, ``-32600`` (invalid request) for JSON that is not a message (an array, a string, a request
  without ``"jsonrpc": "2.0"``) — with the request's id when it has one;
* only the top-level object is structured, after parsing;
* the life cycle is kept (see :class:`Dispatcher`): a second ``initialize`` is refused, a second
  ``initialized`` ignored, and a request after ``shutdown`` refused (``-32600``), not dropped
  without an answer.

Messages are then handed to the protocol exactly as pygls does (``structure_message`` then
``handle_message``), one at a time, with a turn of the event loop after each (so a request sees
the document as it was when the request arrived, as with pygls' own loop).
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

log = logging.getLogger("taskdroid.lsp.transport")

#: larger declared bodies are taken for garbage (a task file is far smaller)
MAX_CONTENT_LENGTH = 256 * 1024 * 1024
#: bytes read from stdin at a time
CHUNK = 1 << 16
#: chunks read ahead of the loop (the pipe applies back-pressure beyond that)
_QUEUE_CHUNKS = 8
#: garbage kept while waiting for a header (the tail may be the start of one)
_KEEP_TAIL = 256

PARSE_ERROR = -32700
INVALID_REQUEST = -32600

_HEADER = re.compile(
    rb"(?i)content-length[ \t]*:[ \t]*([+-]?[0-9]{1,20})[ \t]*\r?\n"
    rb"(?:[A-Za-z0-9][A-Za-z0-9_-]*[ \t]*:[^\r\n]*\r?\n)*"
    rb"\r?\n"
)
_HEADER_LINE = re.compile(rb"[A-Za-z0-9][A-Za-z0-9_-]*[ \t]*:[^\r\n]*")
#: a run of garbage this long without a header is dropped (but for a tail that may start one)
_MAX_GARBAGE = 4 * CHUNK


@dataclass(slots=True)
class FrameError:
    """Bytes that are not a message (``code``: the JSON-RPC error to answer, or None)."""

    code: int | None
    message: str
    msg_id: Any = None


class FrameReader:
    """Splits a byte stream into JSON messages, resynchronising after framing errors.

    :meth:`feed` the bytes read, then iterate :meth:`pop`: parsed JSON values (any type) and
    :class:`FrameError` items, in stream order."""

    def __init__(self, max_length: int = MAX_CONTENT_LENGTH) -> None:
        self.buf = bytearray()
        self.max_length = max_length
        #: where the search for the next header inside a pending body goes on
        self._scan_from = 0

    def feed(self, data: bytes) -> None:
        self.buf += data

    def pop(self, eof: bool = False) -> Iterator[Any]:
        buf = self.buf
        while buf:
            m = _HEADER.search(buf)
            if m is None:
                if eof:
                    yield from _salvage(bytes(buf))
                    buf.clear()
                elif len(buf) > _MAX_GARBAGE:
                    # a long run without any header: keep only what may start one
                    yield from _salvage(bytes(buf[:-_KEEP_TAIL]))
                    del buf[:-_KEEP_TAIL]
                return
            if m.start() > 0:
                yield from _salvage(bytes(buf[: m.start()]))
                del buf[: m.start()]
                self._scan_from = 0
                continue
            start = m.end()
            length = int(m.group(1))
            if length > self.max_length:
                yield FrameError(None, f"Content-Length {length} is too large; skipped")
                del buf[:start]
                self._scan_from = 0
                continue
            length = max(length, 0)
            end = start + length
            if len(buf) < end:
                # incomplete: unless the declared length is wrong (a header already follows)
                nxt = _HEADER.search(buf, max(start, self._scan_from - _KEEP_TAIL))
                if nxt is None:
                    self._scan_from = len(buf)
                    if eof:
                        yield _parse(bytes(buf[start:]))
                        buf.clear()
                    return
                yield _parse(bytes(buf[start : nxt.start()]))
                del buf[: nxt.start()]
                self._scan_from = 0
                continue
            body = bytes(buf[start:end])
            value = _parse(body)
            if not isinstance(value, FrameError):
                del buf[:end]
                self._scan_from = 0
                yield value
                continue
            # the declared length cut the body short or long: read up to the next header
            nxt = _HEADER.search(buf, start)
            stop = nxt.start() if nxt is not None else len(buf)
            value = _parse(bytes(buf[start:stop])) if stop != end else value
            if isinstance(value, FrameError) and nxt is None and not eof:
                self._scan_from = len(buf)
                return  # the rest of the body may still be on its way
            del buf[:stop]
            self._scan_from = 0
            yield value


def _parse(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as e:
        return FrameError(PARSE_ERROR, f"Parse error: {e}")


def _salvage(garbage: bytes) -> Iterator[Any]:
    """Bytes outside any frame: a JSON object sent without headers is still a message; header
    lines (a ``Content-Type`` before ``Content-Length``) and white space are nothing."""
    text = garbage.strip()
    if not text or all(_HEADER_LINE.fullmatch(line.strip()) for line in text.splitlines()):
        return
    if text.startswith((b"{", b"[")):
        value = _parse(text)
        if not isinstance(value, FrameError):
            yield value
            return
    yield FrameError(None, f"{len(garbage)} bytes outside any message; skipped")


def check_message(value: Any) -> FrameError | None:
    """Why ``value`` (parsed JSON) is not a JSON-RPC 2.0 message pygls can take, or None."""
    if not isinstance(value, dict):
        kind = "a batch (array)" if isinstance(value, list) else f"a {type(value).__name__}"
        return FrameError(INVALID_REQUEST, f"Invalid Request: {kind}, not a JSON-RPC message")
    msg_id = value.get("id")
    valid_id = msg_id is None or (isinstance(msg_id, str | int) and not isinstance(msg_id, bool))
    has_method = "method" in value
    if value.get("jsonrpc") != "2.0":
        if has_method and "id" in value:
            return FrameError(
                INVALID_REQUEST,
                'Invalid Request: "jsonrpc" must be "2.0"',
                msg_id if valid_id else None,
            )
        return FrameError(None, 'a message without "jsonrpc": "2.0"; ignored')
    if has_method and not isinstance(value["method"], str):
        if "id" in value:
            return FrameError(
                INVALID_REQUEST,
                'Invalid Request: "method" must be a string',
                msg_id if valid_id else None,
            )
        return FrameError(None, "a notification whose method is not a string; ignored")
    return None


# -- the loop --------------------------------------------------------------------------------------


def serve_stdio(server: Any, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
    """Serve ``server`` (a ``pygls_compat.CompatServer``) on stdio until ``exit`` or end of
    input — what ``LanguageServer.start_io`` does, with this module's framing."""
    stop = server.attach_stdout(stdout or sys.stdout.buffer)
    try:
        asyncio.run(serve(server.protocol, stdin or sys.stdin.buffer, stop))
    except BrokenPipeError:
        log.error("the client closed the connection; shutting down")
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.shutdown()


async def serve(protocol: Any, stdin: BinaryIO, stop: threading.Event | None = None) -> None:
    """Read messages from ``stdin`` and hand them to ``protocol`` until end of input."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes] = asyncio.Queue(_QUEUE_CHUNKS)
    first, read = _reader(stdin)
    thread = threading.Thread(
        target=_pump, args=(first, read, loop, queue), name="taskdroid-stdin", daemon=True
    )
    thread.start()
    frames = FrameReader()
    dispatch = Dispatcher(protocol)
    while stop is None or not stop.is_set():
        data = await queue.get()
        frames.feed(data)
        for value in frames.pop(eof=not data):
            dispatch(value)
            await asyncio.sleep(0)
        if not data:
            return


def _reader(stdin: BinaryIO) -> tuple[bytes, Callable[[int], bytes]]:
    """(bytes already read ahead, a blocking read of what is available).

    The reading thread is a daemon (a client may never close stdin after ``exit``), so it reads
    the file descriptor with ``os.read``: a daemon thread blocked inside a buffered stream holds
    the stream's lock, and the interpreter aborts when it closes that stream at exit. What the
    buffered stream already holds (read ahead by ``readline``) is taken first, with the
    descriptor briefly non-blocking."""
    try:
        fd = stdin.fileno()
    except (AttributeError, OSError, ValueError):
        return b"", getattr(stdin, "read1", None) or stdin.read
    ahead = bytearray()
    read1 = getattr(stdin, "read1", None)
    if read1 is not None:
        try:
            blocking = os.get_blocking(fd)
            os.set_blocking(fd, False)
        except OSError:
            return b"", read1
        try:
            while True:
                try:
                    data = read1(CHUNK)
                except BlockingIOError:
                    break
                if not data:
                    break
                ahead += data
        finally:
            os.set_blocking(fd, blocking)
    return bytes(ahead), functools.partial(os.read, fd)


def _pump(
    first: bytes,
    read: Callable[[int], bytes],
    loop: asyncio.AbstractEventLoop,
    queue: asyncio.Queue[bytes],
) -> None:
    data = first
    while True:
        if not data:
            try:
                data = read(CHUNK)
            except Exception as e:  # a closed or broken stdin is the end of input
                log.warning("cannot read stdin: %s", e)
                data = b""
        try:
            asyncio.run_coroutine_threadsafe(queue.put(data or b""), loop).result()
        except BaseException:  # the loop is gone (closed, or the put cancelled at exit)
            return
        if not data:
            return
        data = b""


class Dispatcher:
    """Hands parsed values to the protocol, answering what is not a message, and keeps the life
    cycle in order where pygls does not: a second ``initialize`` is refused (pygls would
    re-initialize: new encoding, no folders) and a second ``initialized`` ignored (it would index
    the workspace again from scratch and forget the open documents' texts); a request after
    ``shutdown`` is refused rather than dropped without an answer."""

    def __init__(self, protocol: Any) -> None:
        self.protocol = protocol
        self.seen: set[str] = set()

    def __call__(self, value: Any) -> None:
        problem = value if isinstance(value, FrameError) else check_message(value)
        if problem is None:
            problem = self._out_of_order(value)
        if problem is not None:
            log.warning("%s", problem.message)
            if problem.code is not None:
                _send_error(self.protocol, problem)
            return
        try:
            message = self.protocol.structure_message(value)
        except Exception as e:  # answered by TaskdroidProtocol when it was a request
            log.warning("cannot read a %r message: %s", value.get("method"), e)
            return
        method = value.get("method")
        if method in ("initialize", "initialized"):
            self.seen.add(method)
        try:
            self.protocol.handle_message(message)
        except Exception:
            log.exception("cannot handle a %r message", method)

    def _out_of_order(self, value: dict[str, Any]) -> FrameError | None:
        method = value.get("method")
        if method is None:
            return None
        is_request = "id" in value
        if method == "initialize" and "initialize" in self.seen:
            if is_request:
                return FrameError(INVALID_REQUEST, "initialize may only be sent once", value["id"])
            return FrameError(None, "a second initialize; ignored")
        if method == "initialized" and "initialized" in self.seen:
            return FrameError(None, "a second initialized notification; ignored")
        if is_request and method != "exit" and getattr(self.protocol, "shut_down", False):
            # pygls drops requests after shutdown without a word; LSP wants them refused
            return FrameError(
                INVALID_REQUEST, f"the server is shutting down: {method}", value["id"]
            )
        return None


def dispatch(protocol: Any, value: Any) -> None:
    """Hand one parsed value to ``protocol`` (no life-cycle state: see :class:`Dispatcher`)."""
    Dispatcher(protocol)(value)


def _send_error(protocol: Any, problem: FrameError) -> None:
    try:
        protocol.send_raw(
            {
                "jsonrpc": "2.0",
                "id": problem.msg_id,
                "error": {"code": problem.code, "message": problem.message},
            }
        )
    except Exception:
        log.exception("cannot answer a malformed message")
