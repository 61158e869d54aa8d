"""Helpers of the editing tests (code actions, commands, code lens): a client-side oracle that
applies LSP edits in the client's position encoding, and an open document that tracks its
version."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lsprotocol import types
from lsputil import change_doc, close_doc, diagnostics_for, open_doc
from pytest_lsp import LanguageClient

_BREAK = re.compile(r"\r\n|\r|\n")


def _line_starts(text: str) -> list[int]:
    return [0, *(m.end() for m in _BREAK.finditer(text))]


def _offset(text: str, starts: list[int], pos: types.Position, encoding: str) -> int:
    """Offset in ``text`` of a client position (units of ``encoding``)."""
    if pos.line >= len(starts):
        return len(text)
    start = starts[pos.line]
    end = starts[pos.line + 1] if pos.line + 1 < len(starts) else len(text)
    line = _BREAK.sub("", text[start:end])
    units = 0
    for i, ch in enumerate(line):
        if units >= pos.character:
            return start + i
        if encoding == "utf-8":
            units += len(ch.encode("utf-8"))
        elif encoding == "utf-16":
            units += 2 if ord(ch) > 0xFFFF else 1
        else:
            units += 1
    return start + len(line)


def apply_text_edits(text: str, edits, encoding: str) -> str:
    starts = _line_starts(text)
    spans = []
    for i, e in enumerate(edits):
        a = _offset(text, starts, e.range.start, encoding)
        b = _offset(text, starts, e.range.end, encoding)
        spans.append((a, b, i, e.new_text))
    spans.sort()
    out, pos = [], 0
    for a, b, _i, new in spans:
        assert a >= pos, "overlapping edits"
        out.append(text[pos:a])
        out.append(new)
        pos = b
    out.append(text[pos:])
    return "".join(out)


def edits_of(edit: types.WorkspaceEdit) -> dict[str, tuple[int | None, list]]:
    """uri → (version or None, text edits) of a WorkspaceEdit (``changes`` or document changes)."""
    out: dict[str, tuple[int | None, list]] = {}
    for uri, edits in (edit.changes or {}).items():
        out[uri] = (None, list(edits))
    for change in edit.document_changes or []:
        if isinstance(change, types.TextDocumentEdit):
            out[change.text_document.uri] = (change.text_document.version, list(change.edits))
    return out


def apply_workspace_edit(texts: dict[str, str], edit: types.WorkspaceEdit, encoding: str) -> dict:
    """Apply ``edit`` to ``texts`` (uri → text; created files start empty); returns new texts."""
    texts = dict(texts)
    for change in edit.document_changes or []:
        if isinstance(change, types.CreateFile):
            assert change.uri not in texts or not texts[change.uri], "creates an existing file"
            texts[change.uri] = ""
        elif isinstance(change, types.TextDocumentEdit):
            uri = change.text_document.uri
            texts[uri] = apply_text_edits(texts[uri], change.edits, encoding)
    for uri, edits in (edit.changes or {}).items():
        texts[uri] = apply_text_edits(texts[uri], edits, encoding)
    return texts


@dataclass
class Doc:
    """A document the test client has open."""

    client: LanguageClient
    uri: str
    text: str
    version: int = 1

    @classmethod
    def open(cls, client: LanguageClient, uri: str, text: str) -> Doc:
        open_doc(client, uri, text)
        return cls(client, uri, text)

    def change(self, text: str) -> None:
        self.version += 1
        self.text = text
        change_doc(self.client, self.uri, self.version, text)

    def close(self) -> None:
        close_doc(self.client, self.uri)

    def ident(self) -> types.TextDocumentIdentifier:
        return types.TextDocumentIdentifier(uri=self.uri)


async def wait_code(client, session, doc: Doc, code: str) -> types.Diagnostic:
    diags = await diagnostics_for(
        client, session, doc.uri, lambda ds: any(str(d.code) == code for d in ds)
    )
    return next(d for d in diags if str(d.code) == code)


async def wait_gone(client, session, doc: Doc, code: str) -> list[types.Diagnostic]:
    return await diagnostics_for(
        client, session, doc.uri, lambda ds: all(str(d.code) != code for d in ds)
    )


async def code_actions(
    client, doc: Doc, rng: types.Range, diags=(), only=None
) -> list[types.CodeAction | types.Command]:
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=doc.ident(),
            range=rng,
            context=types.CodeActionContext(diagnostics=list(diags), only=only),
        )
    )
    return list(result or [])


def titled(actions, title: str):
    found = [a for a in actions if a.title == title]
    assert found, f"no action {title!r} in {[a.title for a in actions]}"
    return found[0]


async def edit_of(client, session, action: types.CodeAction) -> types.WorkspaceEdit:
    """The action's edit, resolved when the server deferred it (only for clients that resolve)."""
    if action.edit is not None:
        return action.edit
    assert action.data is not None, f"{action.title!r} has neither an edit nor data"
    caps = session.caps.text_document.code_action if session.caps.text_document else None
    assert caps is not None and caps.resolve_support is not None
    assert "edit" in caps.resolve_support.properties
    resolved = await client.code_action_resolve_async(action)
    assert resolved.edit is not None
    return resolved.edit
