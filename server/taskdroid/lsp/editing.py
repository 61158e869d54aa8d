"""Sending text edits to the client (docs/language.md §5): versioned, recomputed and retried once.

Every edit the server makes to a document — a status change from a command, a code lens or a
droid run — goes through :func:`apply_versioned`:

1. the edits are computed by the caller's ``make_edits(text)`` from the document **as it is now**
   (the open document's text, else the file on disk), never from positions remembered earlier;
2. they are sent with ``workspace/applyEdit`` as a ``TextDocumentEdit`` whose
   ``OptionalVersionedTextDocumentIdentifier`` carries the open document's version (``null`` when
   the document is not open), so a client whose document moved on rejects the edit instead of
   applying it at the wrong place;
3. when the client rejects it and the document has changed since (its ``didChange`` arrives
   before the answer), the edits are computed again from the new text and sent once more.

Clients without ``documentChanges`` get a plain ``changes`` map (not versioned). A client that
cannot apply edits at all (no ``workspace.applyEdit``) gets a closed file written on disk
atomically (and re-indexed), never losing what another program writes at the same time
(:func:`_replace_file`, core/fsio.py); an open document then cannot be edited — its buffer
wins over the disk, and the disk is not touched.

:func:`apply_status` is the status change of docs/language.md §5 on top of it; the runner uses it too.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lsprotocol import types

from taskdroid.core.files import ReadError, read_text
from taskdroid.lsp import deferred
from taskdroid.lsp.convert import LineIndex
from taskdroid.lsp.deferred import edits as core_edits
from taskdroid.lsp.deferred import fsio, writes
from taskdroid.lsp.documents import CHANGED, apply_file_events

if TYPE_CHECKING:
    from taskdroid.core.edits import TextEdit
    from taskdroid.core.model import Status
    from taskdroid.lsp.server import TaskdroidServer

log = logging.getLogger("taskdroid.lsp.editing")

__all__ = [
    "MakeEdits",
    "apply_status",
    "apply_versioned",
    "can_create_files",
    "document_changes",
    "to_workspace_edit",
]

#: ``make_edits(text)`` → the core edits (code points) to make in ``text``; may raise EditError
MakeEdits = Callable[[str], Sequence["TextEdit"]]

#: how long to wait for the ``didChange`` that explains a rejected edit
_CHANGE_WAIT = 1.0
#: how long the client may take to answer ``workspace/applyEdit``
_APPLY_TIMEOUT = 60.0


# -- client capabilities ---------------------------------------------------------------------------


def document_changes(server: TaskdroidServer) -> bool:
    """Can the client take versioned ``documentChanges``?"""
    return server.client.document_changes


def can_create_files(server: TaskdroidServer) -> bool:
    """Can the client apply a ``CreateFile`` resource operation?"""
    return server.client.resource_create


def to_workspace_edit(
    server: TaskdroidServer,
    uri: str,
    lines: LineIndex,
    version: int | None,
    edits: Sequence[TextEdit],
) -> types.WorkspaceEdit:
    """Core edits (code points on ``lines``) as a WorkspaceEdit in the client's units: a
    versioned ``TextDocumentEdit`` when the client takes document changes, else ``changes``."""
    text_edits = [server.conv.text_edit(lines, e.range, e.new_text) for e in edits]
    if not document_changes(server):
        return types.WorkspaceEdit(changes={uri: text_edits})
    return types.WorkspaceEdit(
        document_changes=[
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(
                    uri=uri, version=version
                ),
                edits=text_edits,
            )
        ]
    )


# -- applying --------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Snapshot:
    text: str
    version: int | None
    lines: LineIndex
    open: bool
    path: str | None


async def apply_versioned(
    server: TaskdroidServer,
    uri: str,
    make_edits: MakeEdits,
    *,
    label: str | None = None,
) -> bool:
    """Compute edits from the current text of ``uri`` and have the client apply them.

    ``make_edits(text)`` returns core :class:`~taskdroid.core.edits.TextEdit` s (code points,
    absolute lines) for ``text``; it is called again with the new text when the client rejects
    the first edit because the document changed in between, and that second edit is the last
    try.

    Returns True when the edit was applied (or there was nothing to change), False when the
    client refused it twice, refused it without the document changing, could not be reached, or
    cannot apply edits to an open document. Raises :class:`~taskdroid.core.edits.EditError` when
    ``make_edits`` does (unknown task …) or the document cannot be read.
    """
    first: _Snapshot | None = None
    for _attempt in range(2):
        snap = await _snapshot(server, uri)
        if first is not None and _same(first, snap):
            return False  # refused, and not because the document changed: do not insist
        edits = list(make_edits(snap.text))
        if not edits:
            return True
        if await _send(server, uri, snap, edits, label):
            return True
        first = snap
        if snap.open:
            await _wait_for_change(server, uri, snap)
    return False


def _same(a: _Snapshot, b: _Snapshot) -> bool:
    return a.open == b.open and a.version == b.version and a.text == b.text


async def _snapshot(server: TaskdroidServer, uri: str) -> _Snapshot:
    path = server.path_of(uri)
    doc = server.docs.get(uri)
    if doc is not None:
        return _Snapshot(doc.text, doc.version, doc.lines, True, path)
    if path is None:
        raise core_edits.EditError(f"cannot edit {uri}: not a file")
    try:
        text = await asyncio.get_running_loop().run_in_executor(None, read_text, path)
    except ReadError as e:
        raise core_edits.EditError(f"cannot read {path}: {e}") from None
    return _Snapshot(text, None, LineIndex(text), False, path)


async def _send(
    server: TaskdroidServer,
    uri: str,
    snap: _Snapshot,
    edits: list[TextEdit],
    label: str | None,
) -> bool:
    if not server.client.apply_edit:
        if snap.open or snap.path is None:
            log.warning("the client cannot apply edits; %s is open, not edited", uri)
            return False
        return await _write_disk(server, snap, edits)
    edit = to_workspace_edit(server, uri, snap.lines, snap.version, edits)
    try:
        result = await asyncio.wait_for(
            server.workspace_apply_edit_async(
                types.ApplyWorkspaceEditParams(edit=edit, label=label)
            ),
            _APPLY_TIMEOUT,
        )
    except asyncio.CancelledError:
        raise
    except Exception as e:
        log.warning("workspace/applyEdit for %s failed: %s", uri, e)
        return False
    if result is not None and result.applied:
        return True
    reason = getattr(result, "failure_reason", None)
    log.info("the client did not apply the edit to %s (version %s): %s", uri, snap.version, reason)
    return False


async def _wait_for_change(server: TaskdroidServer, uri: str, snap: _Snapshot) -> None:
    """Give the ``didChange`` that made the client reject a versioned edit time to arrive (it is
    normally processed before the answer already)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _CHANGE_WAIT
    while loop.time() < deadline:
        doc = server.docs.get(uri)
        if doc is None or doc.version != snap.version or doc.text is not snap.text:
            return
        await asyncio.sleep(0.01)


async def _write_disk(server: TaskdroidServer, snap: _Snapshot, edits: list[TextEdit]) -> bool:
    """Write a closed file whose text is still ``snap.text`` (a client without applyEdit).

    Only a file inside one of the workspace folders is written (after resolving links and
    ``..``), and never one whose permissions make it read-only: both raise ``EditError`` with a
    message for the user."""
    assert snap.path is not None
    path = snap.path
    if not server.inside_workspace(path):
        raise core_edits.EditError(f"cannot edit {path}: it is outside the workspace folders")
    new_text = core_edits.apply_edits(snap.text, edits)
    loop = asyncio.get_running_loop()
    deferred.loaded(writes)  # here, not first in the worker thread
    try:
        written = await loop.run_in_executor(None, _replace_file, path, snap.text, new_text)
    except fsio.ReadOnlyFile as e:
        raise core_edits.EditError(f"cannot edit {path}: {e}") from None
    except OSError as e:
        log.warning("cannot write %s: %s", path, e)
        return False
    if written:
        await apply_file_events(server, [(path, CHANGED)])
    return written


def _replace_file(path: str, expected: str, new_text: str) -> bool:
    """Atomically replace ``path`` when it still holds ``expected`` (a BOM is kept) — or
    ``expected`` with text appended since (a droid's ``echo … >> tasks.md``), which is kept
    after ``new_text``.

    The file is checked again, under the lock every taskdroid writer takes, right before the
    swap and looked at after it (core/fsio.py): a change made by another program in between is
    never lost — bytes it appended are kept, any other change wins and this write is dropped
    (False; the caller recomputes from the new text). Raises ``ReadOnlyFile``."""
    target = os.path.realpath(path)
    try:
        now, bom, before = writes.read_text_snapshot(target)
        if now != expected:
            if not now.startswith(expected):
                return False
            new_text += now[len(expected) :]
    except ReadError as e:
        log.warning("cannot read %s again before writing it: %s", path, e)
        return False
    try:
        writes.write_atomically(target, bom + new_text.encode("utf-8"), before)
    except writes.WriteConflict as e:
        log.info("%s not written: %s", path, e)
        return False
    return True


# -- status changes --------------------------------------------------------------------------------


async def apply_status(
    server: TaskdroidServer,
    uri: str,
    task_id: str,
    status: Status,
    *,
    note: str | None = None,
    extra_fields: Sequence[tuple[str, str]] = (),
) -> bool:
    """Set the status of task ``task_id`` in ``uri`` (docs/language.md §5) through :func:`apply_versioned`.

    The task is found by ID in the document as it is when the edit is computed (and again on the
    retry). ``status`` is a :class:`~taskdroid.core.model.Status` (or its name); ``note`` is the
    blocked/cancelled reason; ``extra_fields`` are more ``(key, value)`` fields written in the
    same edit (e.g. the runner's ``("Error", …)``, ``("Attempted", …)``).

    Returns True when applied or already so, False when the client did not apply the edit.
    Raises :class:`~taskdroid.core.edits.EditError` for an unknown task or status, or a document
    that cannot be read.
    """
    new_status = core_edits.parse_status(status)
    await server.wait_ready()
    path = server.path_of(uri)
    project = server.project_for(path) if path is not None else None
    aliases: dict[str, str] | None = (
        dict(project.ws.settings.markerAliases) if project is not None else None
    )

    def make_edits(text: str) -> list[TextEdit]:
        doc = None
        if project is not None and path is not None:
            core = project.ws.task_docs.get(path)
            if core is not None and core.text == text:
                doc = core
        return core_edits.status_edits(
            text,
            doc,
            task_id,
            new_status,
            note=note,
            extra_fields=extra_fields,
            aliases=aliases,
        )

    label = f"taskdroid: {task_id} → {new_status.label}"
    return await apply_versioned(server, uri, make_edits, label=label)
