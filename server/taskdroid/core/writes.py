"""Writing edits to task files on disk: the one path every taskdroid writer takes.

``taskdroid status``, ``taskdroid check --fix``, the runner's status updates and the language
server's writes to closed files all come here, so that they share the guarantees of
:mod:`taskdroid.core.fsio`: atomic replacement, bytes appended by another program meanwhile kept,
any other concurrent change winning over ours, a BOM and the line endings kept, and a read-only
file left alone (:class:`~taskdroid.core.fsio.ReadOnlyFile`) unless the caller forces it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence

from taskdroid.core import fsio
from taskdroid.core.edits import apply_edits, status_edits
from taskdroid.core.files import decode_text
from taskdroid.core.fsio import ReadOnlyFile, Snapshot, WriteConflict
from taskdroid.core.model import Status

__all__ = [
    "BOM",
    "ReadOnlyFile",
    "WriteConflict",
    "read_text_snapshot",
    "rewrite_file",
    "write_atomically",
    "write_status",
]

BOM = b"\xef\xbb\xbf"


def read_text_snapshot(path: str) -> tuple[str, bytes, Snapshot]:
    """The decoded text of ``path``, its BOM (``b""`` when none) and the snapshot it was read
    from. Raises :class:`~taskdroid.core.files.ReadError`."""
    data, before = fsio.read_snapshot(path)
    return decode_text(data), (BOM if data.startswith(BOM) else b""), before


def write_atomically(path: str, data: bytes, before: Snapshot, *, force: bool = False) -> None:
    """Replace ``path`` with ``data`` when it is still ``before`` (appends kept). Raises
    :class:`WriteConflict`, :class:`ReadOnlyFile` (unless ``force``) or ``OSError``."""
    # fsio.write_temp is looked up at call time: tests replace it to inject races
    fsio.replace_if_unchanged(path, data, before, write_temp=fsio.write_temp, force=force)


def rewrite_file(
    path: str,
    change: Callable[[str], str | None],
    *,
    attempts: int = 3,
    force: bool = False,
) -> bool:
    """Apply ``change`` (current text → new text, or None for "nothing to do") to the file
    ``path`` (a symlink's target is written, the link kept) and write the result atomically;
    when another program changed the file meanwhile, read it again and recompute. True when the
    file has the change (or needed none), False when it kept changing. Raises
    :class:`~taskdroid.core.files.ReadError`, :class:`ReadOnlyFile` and ``OSError``."""
    target = os.path.realpath(path)
    for _ in range(attempts):
        text, bom, before = read_text_snapshot(target)
        new = change(text)
        if new is None or new == text:
            return True
        try:
            write_atomically(target, bom + new.encode("utf-8"), before, force=force)
        except WriteConflict:
            continue
        return True
    return False


def write_status(
    path: str,
    task_id: str,
    status: Status | str,
    *,
    note: str | None = None,
    extra_fields: Sequence[tuple[str, str]] = (),
    aliases: Mapping[str, str] | None = None,
    attempts: int = 3,
    force: bool = False,
) -> bool:
    """The status edit of docs/language.md §5 written to disk as ``taskdroid status`` writes it
    (see :func:`rewrite_file`). Raises ``ReadError``, ``EditError``, :class:`ReadOnlyFile`."""

    def change(text: str) -> str | None:
        edits = status_edits(
            text, None, task_id, status, note=note, extra_fields=extra_fields, aliases=aliases
        )
        return apply_edits(text, edits) if edits else None

    return rewrite_file(path, change, attempts=attempts, force=force)
