"""The droid's output: lines cut to a bounded length, cleaned for showing (ANSI escapes, ``\\r``
progress bars), ``stream-json`` events summarised to their message text (never raw JSON), the
droid's final ``result`` event read for the run record (session, cost, turns: :class:`StreamMeta`),
and the reader that streams stdout and stderr into the log and the progress reports.

stdout and stderr are read in chunks and cut into lines of bounded length
(:data:`MAX_LINE_BYTES`); complete lines go to the log in one write, and only the last lines of a
chunk are looked at for the latest meaningful line and the last stderr line — so a flood of short
lines costs about what copying it does. The latest line is reported at most every
:data:`PROGRESS_INTERVAL` seconds, and a progress bar redrawn with ``\\r`` shows too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from taskdroid.core.files import read_tail
from taskdroid.core.runfields import clean_cost, clean_session, clean_turns
from taskdroid.run.logfile import LogWriter

__all__ = [
    "MAX_LINE_BYTES",
    "MAX_MESSAGE_CHARS",
    "PROGRESS_INTERVAL",
    "OutputReader",
    "ProgressReporter",
    "StreamMeta",
    "clean_line",
    "log_tail",
    "result_meta",
    "short",
    "summarize_event",
    "summarize_line",
]

#: a line longer than this (bytes) is cut; the rest up to its newline is dropped
MAX_LINE_BYTES = 256 * 1024
#: progress messages are cut here (characters)
MAX_MESSAGE_CHARS = 200
#: seconds between two progress reports of output lines
PROGRESS_INTERVAL = 0.2
_READ_CHUNK = 64 * 1024
#: lines looked at, from the end of a chunk of output, for the latest meaningful one
_LOOK_BACK = 32
_CUT_MARK = " …[line cut]".encode()

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


#: characters of a line looked at for what to show (the message is far shorter)
_SHOWN_SCAN_CHARS = 4096


def clean_line(text: str, limit: int | None = None) -> str:
    """A line fit to show: the last ``\\r`` segment (progress bars), no ANSI escapes or control
    characters, tabs as spaces, trimmed; only its first ``limit`` characters when given."""
    if "\r" in text:
        parts = [p for p in text.split("\r") if p.strip()]
        text = parts[-1] if parts else ""
    if limit is not None and len(text) > limit:
        text = text.lstrip()[:limit]
    text = _ANSI.sub("", text)
    text = _CONTROL.sub("", text.replace("\t", " "))
    return text.strip()


def short(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


#: stream-json events that carry nothing worth showing
_QUIET_EVENTS = frozenset(
    {
        "system",
        "init",
        "user",
        "tool_result",
        "token_usage_update",
        "working_state_changed",
        "session_title_updated",
        "settings_updated",
        "ping",
        "heartbeat",
        "stream_event",
    }
)
_TOOL_ARG_KEYS = ("file_path", "path", "command", "pattern", "query", "url", "description")


def _tool_summary(name: Any, args: Any) -> str:
    label = str(name or "tool")
    if isinstance(args, Mapping):
        for key in _TOOL_ARG_KEYS:
            v = args.get(key)
            if isinstance(v, str) and v.strip():
                return f"{label}: {v.strip()}"
    return label


def _content_text(value: Any) -> str | None:
    """Text of a message's content: a string, a ``{text}`` object, or a list of content blocks
    (text blocks joined; tool calls when there is no text)."""
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, Mapping):
        for key in ("text", "content"):
            if key in value:
                return _content_text(value[key])
        return None
    if isinstance(value, list):
        texts: list[str] = []
        tools: list[str] = []
        for block in value:
            if isinstance(block, str):
                texts.append(block)
            elif isinstance(block, Mapping):
                kind = block.get("type")
                if kind in ("tool_use", "tool_call", "server_tool_use"):
                    tools.append(_tool_summary(block.get("name"), block.get("input")))
                elif kind in ("thinking", "redacted_thinking", "tool_result", "image"):
                    continue
                elif isinstance(block.get("text"), str):
                    texts.append(block["text"])
        text = " ".join(t for t in texts if t.strip())
        if text:
            return text
        return tools[-1] if tools else None
    return None


def summarize_event(event: Mapping[str, Any]) -> str | None:
    """The text worth showing of one ``stream-json`` event (Claude Code's ``-p --output-format
    stream-json``, Factory's ``droid exec -o stream-json`` and similar), or None."""
    kind = str(event.get("type") or event.get("event") or "")
    if kind in _QUIET_EVENTS:
        return None
    if kind == "error" or event.get("is_error") is True:
        detail = _content_text(event.get("message")) or _content_text(event.get("error"))
        detail = detail or _content_text(event.get("result"))
        return f"error: {detail}" if detail else "error"
    if kind in ("tool_call", "tool_use") or "toolName" in event:
        name = event.get("toolName") or event.get("name") or event.get("tool")
        args = event.get("parameters") or event.get("input") or event.get("arguments")
        return _tool_summary(name, args)
    message = event.get("message")
    if isinstance(message, Mapping):
        text = _content_text(message.get("content"))
        if text:
            return text
    for key in ("text", "finalText", "result", "content", "message", "delta", "output"):
        if key in event:
            text = _content_text(event[key])
            if text:
                return text
    return None


def summarize_line(line: str) -> str | None:
    """The latest-line text of one output line: the message of a JSON event (None when the event
    carries nothing to show), else the cleaned line (None when empty)."""
    stripped = line.strip()
    if stripped.startswith("{"):
        try:
            event = json.loads(stripped)
        except ValueError:
            event = None
        if isinstance(event, Mapping):
            text = summarize_event(event)
            return short(clean_line(text)) if text else None
        if event is None and stripped.startswith('{"'):
            return None  # JSON cut at the line limit, or not JSON after all: no raw JSON shown
    text = clean_line(line, _SHOWN_SCAN_CHARS)
    return short(text) if text else None


def log_tail(path: str | os.PathLike, lines: int = 10, max_bytes: int = 64 * 1024) -> list[str]:
    """The last ``lines`` lines of a run's log as a person reads them: a ``stream-json`` event
    as its message (events with nothing to show left out, never raw JSON), other lines cleaned
    (ANSI escapes, ``\\r`` progress). At most ``max_bytes`` are read from the end. Raises
    :class:`~taskdroid.core.files.ReadError`."""
    data, cut = read_tail(path, max_bytes)
    text = data.decode("utf-8", "replace").replace("\r\n", "\n")
    raw = text.split("\n")
    if cut and raw:
        raw = raw[1:]  # the first line read is only the end of a line
    out: list[str] = []
    for line in reversed(raw):
        prefix = ""
        if line.startswith("[stderr] "):
            prefix, line = "[stderr] ", line[len("[stderr] ") :]
        shown = summarize_line(line) if line.lstrip().startswith("{") else clean_line(line, 500)
        if shown:
            out.append(prefix + shown)
            if len(out) >= lines:
                break
    out.reverse()
    return out


# -- the final result event -----------------------------------------------------------------------

#: a line that may hold the final event: Claude Code's ``result``, Factory's ``completion``
_RESULT_EVENT = re.compile(rb'"type"\s*:\s*"(?:result|completion)"')


@dataclass(frozen=True, slots=True)
class StreamMeta:
    """What the droid's final ``stream-json`` event says of its session (docs/language.md §11,
    run record); each part None when the event does not carry it."""

    session: str | None = None
    cost: float | None = None
    turns: int | None = None


def result_meta(event: Mapping[str, Any]) -> StreamMeta | None:
    """The session id, cost and turns of a final ``result`` event (Claude Code's ``-p
    --output-format stream-json``: ``session_id``, ``total_cost_usd``, ``num_turns``; Factory's
    ``completion`` event names them ``session_id`` / ``sessionId`` and ``numTurns``), or None for
    any other event."""
    if event.get("type") not in ("result", "completion"):
        return None
    session = clean_session(event.get("session_id", event.get("sessionId")))
    cost = clean_cost(event.get("total_cost_usd"))
    turns = clean_turns(event.get("num_turns", event.get("numTurns")))
    return StreamMeta(session, cost, turns)


# -- progress --------------------------------------------------------------------------------------


class ProgressReporter:
    """The latest meaningful line of the output, reported through ``emit("output", line)`` at
    most every :data:`PROGRESS_INTERVAL` seconds (the last one is never lost: :meth:`flush`)."""

    def __init__(self, emit: Callable[[str, str], None]) -> None:
        self._emit = emit
        self.latest = ""
        self._reported = ""
        self._last_report = 0.0
        self._handle: asyncio.TimerHandle | None = None
        self._closed = False

    def update(self, text: str) -> None:
        self.latest = text
        if self._handle is not None:
            return
        wait = PROGRESS_INTERVAL - (time.monotonic() - self._last_report)
        if wait <= 0:
            self._report()
        else:
            self._handle = asyncio.get_running_loop().call_later(wait, self._report)

    def _report(self) -> None:
        self._handle = None
        if self._closed or self.latest == self._reported:
            return
        self._reported = self.latest
        self._last_report = time.monotonic()
        self._emit("output", self.latest)

    def flush(self) -> None:
        """Report the latest line now if a report of it is still pending."""
        if self._handle is not None:
            self._handle.cancel()
            self._report()

    def close(self) -> None:
        """No more reports (the run is over)."""
        self._closed = True
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


# -- reading the output ----------------------------------------------------------------------------


class _Stream:
    """One output stream cut into lines: the line being read (at most :data:`MAX_LINE_BYTES`)
    and whether the rest of an over-long line is being skipped."""

    __slots__ = ("buf", "name", "prefix", "skipping")

    def __init__(self, name: str) -> None:
        self.name = name
        self.buf = bytearray()
        self.skipping = False
        self.prefix = b"[stderr] " if name == "stderr" else b""


class OutputReader:
    """Reads the droid's stdout and stderr to their end: lines to ``log``, the latest meaningful
    line to ``progress``, the last stderr line kept for the ``**Error**`` field."""

    def __init__(self, log: LogWriter, progress: ProgressReporter) -> None:
        self.log = log
        self.progress = progress
        self.last_stderr = ""
        #: the last final ``result`` event on stdout (None until one came)
        self.meta: StreamMeta | None = None

    async def pump(self, stream: asyncio.StreamReader | None, name: str) -> None:
        """Read ``stream`` to its end in chunks. The log gets the lines (each cut at
        :data:`MAX_LINE_BYTES`, the file at its own limit); progress and the last stderr line
        look only at the last lines of each chunk, so that a flood of short lines costs little
        more than copying it."""
        if stream is None:
            return
        st = _Stream(name)
        chunks = 0
        while True:
            chunk = await stream.read(_READ_CHUNK)
            if not chunk:
                break
            self._feed(st, chunk)
            self.log.flush()
            chunks += 1
            if chunks % 8 == 0:
                await asyncio.sleep(0)  # a flood of output must not starve the loop
        if st.buf and not st.skipping:
            self._line(st, bytes(st.buf), cut=False)
            st.buf.clear()

    def _feed(self, st: _Stream, chunk: bytes) -> None:
        limit = MAX_LINE_BYTES
        first = chunk.find(b"\n")
        if first < 0:
            self._partial(st, chunk)
            return
        if st.skipping:  # the end of a line already cut
            st.skipping = False
        else:
            room = limit - len(st.buf)
            st.buf += chunk[:first][:room]
            self._line(st, bytes(st.buf), cut=first > room)
        st.buf.clear()
        last = chunk.rfind(b"\n")
        if last > first:
            body = chunk[first + 1 : last]
            if len(body) <= limit:
                self._lines(st, body)
            else:  # only with a line limit below the chunk size
                for line in body.split(b"\n"):
                    self._line(st, line[:limit], cut=len(line) > limit)
        if last + 1 < len(chunk):
            self._partial(st, chunk[last + 1 :])

    def _partial(self, st: _Stream, data: bytes) -> None:
        """Bytes of a line whose end has not come yet."""
        if st.skipping:
            if data.count(b"\r") >= 2:  # a progress bar redrawn with \r, never a newline
                self._carriage(st, data)
            return
        room = MAX_LINE_BYTES - len(st.buf)
        if len(data) > room:
            st.buf += data[:room]
            self._line(st, bytes(st.buf), cut=True)
            st.buf.clear()
            st.skipping = True
            return
        st.buf += data
        if b"\r" in data:
            self._carriage(st, st.buf)

    def _carriage(self, st: _Stream, window: bytes | bytearray) -> None:
        """Progress from the last complete ``\\r`` segment of a line still being written."""
        end = window.rfind(b"\r")
        if end <= 0:
            return
        start = window.rfind(b"\r", 0, end) + 1
        self._note(st, bytes(window[start:end]).decode("utf-8", "replace"), stderr=False)

    def _line(self, st: _Stream, data: bytes, cut: bool) -> None:
        """One line (without its newline)."""
        if data.endswith(b"\r"):
            data = data[:-1]
        self.log.write(st.prefix + data + (_CUT_MARK if cut else b"") + b"\n")
        if not cut and not st.prefix and _RESULT_EVENT.search(data):
            self._result(data)
        self._note(st, data.decode("utf-8", "replace"))

    def _lines(self, st: _Stream, body: bytes) -> None:
        """Complete lines, each shorter than the limit, separated by newlines."""
        if self.log.accepting:
            data = body.replace(b"\r\n", b"\n") if b"\r" in body else body
            if st.prefix:
                data = st.prefix + data.replace(b"\n", b"\n" + st.prefix)
            self.log.write(data + b"\n")
        if not st.prefix and _RESULT_EVENT.search(body):
            for line in body.split(b"\n"):
                if _RESULT_EVENT.search(line):
                    self._result(line)
        want_stderr = st.name == "stderr"
        want_summary = True
        end = len(body)
        for _ in range(_LOOK_BACK):
            start = body.rfind(b"\n", 0, end) + 1
            text = body[start:end].decode("utf-8", "replace")
            if want_summary:
                summary = summarize_line(text)
                if summary:
                    want_summary = False
                    self.progress.update(summary)
            if want_stderr and self._stderr_line(text):
                want_stderr = False
            if start == 0 or not (want_summary or want_stderr):
                break
            end = start - 1

    def _result(self, line: bytes) -> None:
        """Keep what a final ``result`` event on stdout says (session, cost, turns)."""
        try:
            event = json.loads(line)
        except ValueError:
            return
        if isinstance(event, Mapping):
            meta = result_meta(event)
            if meta is not None:
                self.meta = meta

    def _note(self, st: _Stream, text: str, *, stderr: bool = True) -> None:
        if stderr and st.name == "stderr":
            self._stderr_line(text)
        summary = summarize_line(text)
        if summary:
            self.progress.update(summary)

    def _stderr_line(self, text: str) -> bool:
        shown = clean_line(text, _SHOWN_SCAN_CHARS)
        if shown and not shown.lstrip().startswith('{"'):
            self.last_stderr = short(shown, 300)
            return True
        return False


async def drain(pumps: Sequence[asyncio.Future], transport: Any = None) -> None:
    """Let the readers reach the end of the output (a process that escaped the group may hold
    the pipes open: it is not waited for long; then ``transport`` — the process's pipes — is
    closed: the holder gets SIGPIPE, not us)."""
    _, pending = await asyncio.wait(pumps, timeout=2.0)
    for p in pending:
        p.cancel()
    if pending and transport is not None:
        with contextlib.suppress(Exception):
            transport.close()
