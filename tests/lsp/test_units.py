"""Unit tests of server pieces that need no client: error containment, server options, mode
choice, fuzzy matching."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from taskdroid.lsp.config import parse_server_options
from taskdroid.lsp.diagnostics import choose_mode
from taskdroid.lsp.server import TaskdroidServer, safe
from taskdroid.lsp.symbols import fuzzy_match


def test_safe_logs_and_answers_empty(caplog):
    @safe(default=list)
    async def broken(ls, params):
        raise ValueError("boom")

    @safe()
    async def refuses(ls, params):
        raise JsonRpcInvalidParams("bad")

    assert asyncio.run(broken(None, None)) == []
    assert "broken failed" in caplog.text and "boom" in caplog.text
    with pytest.raises(JsonRpcInvalidParams):
        asyncio.run(refuses(None, None))


def test_server_options():
    opts, problems = parse_server_options(
        {"debounceMs": 0, "pollIntervalMs": 250, "diagnosticMode": "push"}
    )
    assert (opts.debounce, opts.poll_interval, opts.diagnostic_mode) == (0, 0.25, "push")
    assert problems == []
    opts, problems = parse_server_options(
        {"debounceMs": -1, "pollIntervalMs": True, "diagnosticMode": 3}
    )
    assert opts.debounce == 0.2 and opts.poll_interval == 3 and opts.diagnostic_mode == "auto"
    assert len(problems) == 3 and all("default" in p or "auto" in p for p in problems)


class _Caps(TaskdroidServer):
    def __init__(self, caps: types.ClientCapabilities, mode: str = "auto") -> None:
        super().__init__()
        self._caps = caps
        self.options.diagnostic_mode = mode

    @property
    def client_capabilities(self) -> types.ClientCapabilities:  # type: ignore[override]
        return self._caps


PULL = types.TextDocumentClientCapabilities(diagnostic=types.DiagnosticClientCapabilities())
REFRESH = types.WorkspaceClientCapabilities(
    diagnostics=types.DiagnosticWorkspaceClientCapabilities(refresh_support=True)
)


@pytest.mark.parametrize(
    ("caps", "mode", "expected"),
    [
        (types.ClientCapabilities(), "auto", "push"),
        (types.ClientCapabilities(text_document=PULL), "auto", "push"),  # cannot re-pull
        (types.ClientCapabilities(text_document=PULL, workspace=REFRESH), "auto", "pull"),
        (types.ClientCapabilities(text_document=PULL), "pull", "pull"),
        (types.ClientCapabilities(text_document=PULL, workspace=REFRESH), "push", "push"),
        (types.ClientCapabilities(), "pull", "push"),  # cannot pull at all
    ],
)
def test_diagnostic_mode(caps, mode, expected):
    server = _Caps(caps, mode)
    choose_mode(server, types.InitializeParams(capabilities=caps))
    assert server.diagnostic_mode == expected
    registered = types.TEXT_DOCUMENT_DIAGNOSTIC in server.protocol.fm.features
    assert registered == (expected == "pull")


def test_fuzzy_match():
    assert fuzzy_match("tref", "Implement token refresh")
    assert fuzzy_match("", "anything")
    assert fuzzy_match("1.3 tok", "1.3 Implement token refresh")
    assert not fuzzy_match("zz", "Implement token refresh")
