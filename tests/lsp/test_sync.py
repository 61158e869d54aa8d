"""Incremental sync in each client's encoding: edits after emoji, CJK and combining characters,
several changes in one notification, CRLF, and characters pygls would count as line breaks."""

from __future__ import annotations

import pytest
from lsprotocol import types
from lsputil import close_doc, codes, diagnostics_for, open_doc, position_of, range_of
from pytest_lsp import LanguageClient

pytestmark = pytest.mark.asyncio(loop_scope="session")


def edits(client: LanguageClient, uri: str, version: int, *changes: tuple[types.Range, str]):
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[
                types.TextDocumentContentChangePartial(range=r, text=t) for r, t in changes
            ],
        )
    )


async def hover_text(client, uri, pos) -> str:
    h = await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=pos)
    )
    return "" if h is None else str(h.contents.value)


async def test_edit_after_emoji(client, session):
    enc = session.encoding
    rel = "tasks/tasks-sync.md"
    uri = session.uri(rel)
    text = (
        "# S\n\n## 1. A\n\n- [x] 1.1 Done ✅\n- [ ] 1.2 🚀 日本語 cafe\u0301 🎉 (depends on 9.9)\n"
    )
    open_doc(client, uri, text)
    d = await diagnostics_for(client, session, uri, lambda d: codes(d) == ["TD010"])
    assert d[0].range == range_of(text, "9.9", enc)
    # replace `9.9` by `1.1`, addressed in the client's units after the astral characters
    edits(client, uri, 2, (range_of(text, "9.9", enc), "1.1"))
    text = text.replace("9.9", "1.1")
    await diagnostics_for(client, session, uri, lambda d: d == [])
    assert "Done" in await hover_text(client, uri, position_of(text, "1.1)", enc, offset=1))
    # two changes in one notification: the second's range refers to the text after the first
    r1 = range_of(text, "🚀", enc)
    edits(client, uri, 3, (r1, "🌟🌟"), (types.Range(start=r1.start, end=r1.start), "[/] "))
    text = text.replace("🚀", "[/] 🌟🌟")
    await diagnostics_for(client, session, uri, lambda d: d == [])
    # the marker change is recognised exactly where we put it
    edits(client, uri, 4, (range_of(text, "[ ]", enc), "[/]"))
    text = text.replace("- [ ]", "- [/]")
    d = await diagnostics_for(client, session, uri, lambda d: codes(d) == ["TD001"])
    assert d[0].range == range_of(text, "[/] 1.2", enc).__class__(
        start=position_of(text, "[/] 1.2", enc), end=position_of(text, "[/] 1.2", enc, offset=3)
    )
    close_doc(client, uri)


async def test_crlf_and_unicode_line_separators(client, session):
    """Lines end only at CR LF, CR, LF: a form feed or U+2028 inside a line does not shift the
    lines below (pygls' own document store would)."""
    rel = "tasks/tasks-crlf.md"
    uri = session.uri(rel)
    text = (
        "# C\r\n\r\nNote: a\x0cb and c\u2028d.\r\n\r\n- [ ] 1.1 A\r\n  - **Dependencies**: 9.9\r\n"
    )
    open_doc(client, uri, text)
    d = await diagnostics_for(client, session, uri, lambda d: codes(d) == ["TD010"])
    assert d[0].range.start.line == 5
    # edit on the line after the separators, in client units
    start = types.Position(line=5, character=0)
    edits(client, uri, 2, (types.Range(start=start, end=start), "  - **Droid**: nobody\r\n"))
    d = await diagnostics_for(client, session, uri, lambda d: codes(d) == ["TD010", "TD020"])
    by = {x.code: x for x in d}
    assert by["TD020"].range.start.line == 5 and by["TD010"].range.start.line == 6
    close_doc(client, uri)
