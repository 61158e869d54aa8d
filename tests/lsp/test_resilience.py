"""Bad input never takes the server down: unknown URIs, other schemes, non-task markdown, NUL
bytes, a 1 MB line, out-of-range positions, malformed params."""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import Future

import pytest
from lsprotocol import types
from lsputil import change_doc, close_doc, codes, diagnostics_for, open_doc, position_of
from pytest_lsp import LanguageClient

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _ident(uri: str) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=uri)


async def every_feature(client: LanguageClient, uri: str, pos: types.Position) -> dict:
    """Ask every read-side feature about ``pos``; returns the results by name."""
    ident = _ident(uri)
    out = {
        "hover": await client.text_document_hover_async(
            types.HoverParams(text_document=ident, position=pos)
        ),
        "completion": await client.text_document_completion_async(
            types.CompletionParams(text_document=ident, position=pos)
        ),
        "definition": await client.text_document_definition_async(
            types.DefinitionParams(text_document=ident, position=pos)
        ),
        "references": await client.text_document_references_async(
            types.ReferenceParams(
                text_document=ident,
                position=pos,
                context=types.ReferenceContext(include_declaration=True),
            )
        ),
        "prepare_rename": await client.text_document_prepare_rename_async(
            types.PrepareRenameParams(text_document=ident, position=pos)
        ),
        "symbols": await client.text_document_document_symbol_async(
            types.DocumentSymbolParams(text_document=ident)
        ),
        "folding": await client.text_document_folding_range_async(
            types.FoldingRangeParams(text_document=ident)
        ),
        "inlay": await client.text_document_inlay_hint_async(
            types.InlayHintParams(
                text_document=ident,
                range=types.Range(start=types.Position(line=0, character=0), end=pos),
            )
        ),
    }
    return out


async def alive(client: LanguageClient, session) -> None:
    text = session.text("tasks/tasks-main.md")
    h = await client.text_document_hover_async(
        types.HoverParams(
            text_document=_ident(session.uri("tasks/tasks-main.md")),
            position=position_of(text, "[~]", session.encoding, offset=1),
        )
    )
    assert h is not None and "in progress" in str(h.contents)


async def test_unknown_uris(client, session):
    pos = types.Position(line=3, character=4)
    for uri in (
        session.uri("tasks/does-not-exist.md"),
        "untitled:Untitled-1",
        "https://example.com/tasks.md",
        "file:///",
    ):
        got = await every_feature(client, uri, pos)
        assert all(v in (None, []) for v in got.values()), (uri, got)
        if session.pulls:
            report = await client.text_document_diagnostic_async(
                types.DocumentDiagnosticParams(text_document=_ident(uri))
            )
            assert not report.items
    await alive(client, session)


async def test_non_task_markdown(client, session):
    uri = session.uri("README.md")
    text = session.text("README.md")
    open_doc(client, uri, text)
    got = await every_feature(client, uri, types.Position(line=2, character=3))
    assert all(v in (None, []) for v in got.values()), got
    await asyncio.sleep(0.1)
    assert not client.diagnostics.get(uri)
    close_doc(client, uri)
    await alive(client, session)


async def test_nul_bytes(client, session):
    rel = "tasks/tasks-nul.md"
    uri = session.uri(rel)
    text = "# N\n\n- [/] 1.1 Bad\x00 marker\n  - **Dependencies**: 9.9\n"
    open_doc(client, uri, text)
    got = await every_feature(client, uri, types.Position(line=2, character=3))
    assert got["hover"] is None
    await asyncio.sleep(0.2)
    if session.pulls:
        assert await diagnostics_for(client, session, uri) == []
    else:
        assert not client.diagnostics.get(uri)
    change_doc(client, uri, 2, text.replace("\x00", ""))
    await diagnostics_for(client, session, uri, lambda d: codes(d) == ["TD001", "TD010"])
    close_doc(client, uri)
    await alive(client, session)


async def test_one_megabyte_line(client, session):
    rel = "tasks/tasks-long.md"
    uri = session.uri(rel)
    long_title = "🚀 long " * 150_000  # ~1.2 MB, astral characters throughout
    text = f"# L\n\n## 1. A\n\n- [ ] 1.1 {long_title}\n  - **Dependencies**: 9.9\n- [/] 1.2 x\n"
    t0 = time.monotonic()
    open_doc(client, uri, text)
    diags = await diagnostics_for(
        client, session, uri, lambda d: codes(d) == ["TD001", "TD010"], timeout=20
    )
    assert time.monotonic() - t0 < 15
    assert diags
    end = position_of(text, "\n  - **Dep", session.encoding)
    got = await every_feature(client, uri, end)
    assert got["symbols"]
    # an edit at the end of the long line, in the client's units
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(start=end, end=end), text=" ✅"
                )
            ],
        )
    )
    await diagnostics_for(
        client, session, uri, lambda d: "TD021" in codes(d), timeout=20
    )  # ✅ on a pending task
    close_doc(client, uri)
    await alive(client, session)


async def test_out_of_range_positions(client, session):
    uri = session.uri("tasks/tasks-main.md")
    for pos in (
        types.Position(line=10_000, character=0),
        types.Position(line=0, character=10_000),
        types.Position(line=10, character=2**31 - 1),
    ):
        await every_feature(client, uri, pos)
    # an incremental change with a range past the end is clamped, not fatal
    rel = "tasks/tasks-range.md"
    doc = session.uri(rel)
    open_doc(client, doc, "# R\n\n- [ ] 1.1 A\n")
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=doc, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(
                        start=types.Position(line=99, character=5),
                        end=types.Position(line=120, character=0),
                    ),
                    text="- [/] 1.2 B\n",
                )
            ],
        )
    )
    await diagnostics_for(client, session, doc, lambda d: codes(d) == ["TD001"])
    close_doc(client, doc)
    await alive(client, session)


async def send_raw(client: LanguageClient, msg_id: str, method: str, params) -> object:
    """Send a request whose params the client library would refuse to build, as raw JSON."""
    fut: Future = Future()
    client.protocol._request_futures[msg_id] = fut
    body = json.dumps({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
    data = body.encode("utf-8")
    client._server.stdin.write(b"Content-Length: %d\r\n\r\n" % len(data) + data)
    return await asyncio.wait_for(asyncio.wrap_future(fut), 5)


async def test_malformed_params_get_an_error(client, session):
    bad = {"textDocument": {"uri": 5}, "position": "here"}
    with pytest.raises(Exception, match=r"(?i)invalid params"):
        await send_raw(client, "bad-hover", types.TEXT_DOCUMENT_HOVER, bad)
    with pytest.raises(Exception, match=r"(?i)invalid params"):
        await send_raw(client, "bad-rename", types.TEXT_DOCUMENT_RENAME, {"newName": 3})
    # a notification for a document that is not open is ignored
    change_doc(client, session.uri("tasks/never-opened.md"), 3, "x")
    close_doc(client, session.uri("tasks/never-opened.md"))
    await alive(client, session)
