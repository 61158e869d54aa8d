"""Reading task and droid files: bounded, never blocking, UTF-8 only.

Every reader of a file's text (the workspace index, the CLI, the language server for closed
files, the runner, the writers of :mod:`taskdroid.core.writes`) comes through here.
"""

from __future__ import annotations

import os
import stat
from typing import BinaryIO

__all__ = ["MAX_FILE_BYTES", "ReadError", "decode_text", "read_tail", "read_text"]

MAX_FILE_BYTES = 16 * 1024 * 1024


class ReadError(Exception):
    """A file that cannot be analysed (missing, unreadable, binary, not UTF-8, too large)."""


def _open_regular(path: str | os.PathLike) -> tuple[BinaryIO, os.stat_result]:
    """``path`` opened for reading without blocking, and its ``fstat``, checked *after* opening:
    a FIFO, a device or a socket — for instance a symbolic link in a repository to
    ``/dev/stdin`` or a named pipe, named by a cross-file dependency — is refused instead of
    hanging the reader."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_BINARY", 0))
    except OSError as e:
        raise ReadError(f"cannot read: {e.strerror or e}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ReadError("not a regular file (a folder, device, pipe or socket)")
        return os.fdopen(fd, "rb"), st
    except OSError as e:
        os.close(fd)
        raise ReadError(f"cannot read: {e.strerror or e}") from None
    except ReadError:
        os.close(fd)
        raise


def read_text(path: str | os.PathLike) -> str:
    """The text of a regular file of at most :data:`MAX_FILE_BYTES` (UTF-8, a BOM dropped),
    opened as :func:`_open_regular` opens it (never blocking on a pipe or device)."""
    fh, st = _open_regular(path)
    with fh:
        if st.st_size > MAX_FILE_BYTES:
            raise ReadError(
                f"file is too large to analyse ({st.st_size // (1024 * 1024)} MB; limit "
                f"{MAX_FILE_BYTES // (1024 * 1024)} MB)"
            )
        try:
            data = fh.read(MAX_FILE_BYTES + 1)
        except OSError as e:
            raise ReadError(f"cannot read: {e.strerror or e}") from None
    if len(data) > MAX_FILE_BYTES:
        raise ReadError(f"file is too large to analyse (over {MAX_FILE_BYTES // (1024 * 1024)} MB)")
    return decode_text(data)


def read_tail(path: str | os.PathLike, max_bytes: int) -> tuple[bytes, bool]:
    """The last ``max_bytes`` of a regular file, opened as :func:`read_text` opens it (never
    blocking on a pipe or device), and whether the file holds more before them."""
    fh, st = _open_regular(path)
    with fh:
        start = max(0, st.st_size - max_bytes)
        try:
            fh.seek(start)
            return fh.read(max_bytes), start > 0
        except OSError as e:
            raise ReadError(f"cannot read: {e.strerror or e}") from None


def decode_text(data: bytes) -> str:
    if b"\x00" in data:
        raise ReadError("binary file (contains NUL bytes), not markdown")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ReadError(f"not UTF-8 text (invalid byte at offset {e.start})") from None
    return text[1:] if text.startswith("\ufeff") else text
