"""Debounced analysis: superseded analyses are cancelled, a request that syncs a document before
its analysis runs does not lose cross-file effects, and a forced pull mode without refresh."""

from __future__ import annotations

import asyncio

from lsprotocol import types
from lsputil import change_doc, codes, custom_session, diagnostics_for, open_doc, position_of

from taskdroid.lsp.diagnostics import SLOW_ANALYSIS_ENV

OTHER = "tasks/tasks-other.md"


async def test_superseded_analyses_are_cancelled(tmp_path_factory):
    """An expensive analysis (slowed down here) is debounced while edits keep arriving: the
    first edit after a pause is analysed at once, the burst after it only at its end."""
    async with custom_session(
        tmp_path_factory,
        "neovim",
        options={"debounceMs": 1000},
        env={SLOW_ANALYSIS_ENV: "150"},
    ) as (client, session):
        rel = "tasks/tasks-typing.md"
        uri = session.uri(rel)
        text = "# T\n\n## 1. A\n\n- [ ] 1.1 A\n  - **Dependencies**: 9.9\n- [ ] 1.2 B\n"
        open_doc(client, uri, text, 1)
        await diagnostics_for(client, session, uri, lambda d: codes(d) == ["TD010"])
        start = len(client.published)
        for v in range(2, 12):  # ten quick keystrokes
            change_doc(client, uri, v, text.replace("9.9", "8." + "3" * (v - 1)))
            await asyncio.sleep(0.01)
        change_doc(client, uri, 12, text.replace("9.9", "1.2"))
        await diagnostics_for(client, session, uri, lambda d: d == [])
        await asyncio.sleep(0.3)
        versions = [p.version for p in client.published[start:] if p.uri == uri]
        # the first edit after the pause at once; most of the burst was superseded (a loaded
        # machine may stretch the client's 10 ms pauses past a debounce now and then)
        assert versions[-1] == 12 and len(versions) <= 6 and versions == sorted(versions)


async def test_cheap_analysis_is_not_debounced(tmp_path_factory):
    """With the default options an edit whose analysis takes a few milliseconds is analysed
    without a debounce: every keystroke of a burst gets its own diagnostics (a 200 ms debounce
    would publish only the last)."""
    async with custom_session(tmp_path_factory, "neovim", defaults=True) as (client, session):
        rel = "tasks/tasks-typing.md"
        uri = session.uri(rel)
        text = "# T\n\n## 1. A\n\n- [ ] 1.1 A\n  - **Dependencies**: 9.9\n- [ ] 1.2 B\n"
        open_doc(client, uri, text, 1)
        await diagnostics_for(client, session, uri, lambda d: codes(d) == ["TD010"])
        start = len(client.published)
        for v in range(2, 6):
            change_doc(client, uri, v, text.replace("9.9", "8." + "3" * (v - 1)))
        await diagnostics_for(client, session, uri, lambda d: client.published[-1].version == 5)
        versions = [p.version for p in client.published[start:] if p.uri == uri]
        assert versions == [2, 3, 4, 5]


async def test_request_before_analysis_keeps_cross_file_effects(tmp_path_factory):
    """Hover syncs the edited document at once; the debounced analysis that follows must still
    update the other file that depends on it."""
    async with custom_session(tmp_path_factory, "vscode", options={"debounceMs": 300}) as (
        client,
        session,
    ):
        main = session.uri("tasks/tasks-main.md")
        text = session.text("tasks/tasks-main.md")
        other = session.uri(OTHER)
        # tasks-other.md#2.2 depends on tasks-main.md#1.2: renumber 1.2 → TD010 over there
        before = await diagnostics_for(client, session, other, lambda d: codes(d) == ["TD020"])
        assert before
        open_doc(client, main, text, 1)
        change_doc(client, main, 2, text.replace("1.2 Build", "1.7 Build"))
        h = await client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=main),
                position=position_of(text, "1.2 Build", session.encoding),
            )
        )
        assert h is not None and "1.7" in str(h.contents.value)
        await diagnostics_for(client, session, other, lambda d: codes(d) == ["TD010", "TD020"])


async def test_forced_pull_without_refresh(tmp_path_factory):
    """``diagnosticMode: "pull"`` on a client that can pull but not refresh (Neovim 0.11)."""
    async with custom_session(tmp_path_factory, "neovim", options={"diagnosticMode": "pull"}) as (
        client,
        session,
    ):
        assert session.pulls
        main = session.uri("tasks/tasks-main.md")
        d = await diagnostics_for(client, session, main, lambda d: codes(d) == ["TD010"])
        assert d[0].code_description.href.endswith("#td010-unknown-dependency")
        await asyncio.sleep(0.1)
        assert client.published == []  # nothing pushed in pull mode
        assert client.diagnostic_refresh_count == 0  # never asked: the client cannot refresh
