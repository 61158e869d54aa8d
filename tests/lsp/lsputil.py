"""Helpers of the pytest-lsp end-to-end tests: client capability sets, sessions, positions.

The server runs over stdio, driven by four kinds of client:

* ``vscode`` — modern VS Code (vscode-languageclient ≥ 8): pull diagnostics with refresh,
  UTF-16, dynamic registration of file watchers and configuration;
* ``neovim`` — Neovim 0.11's capabilities: UTF-8, can pull but cannot be told to re-pull (so the
  server pushes), no dynamic file watching (the server polls — disabled in most tests);
* ``push`` — a minimal client: push diagnostics only, UTF-16 by default, no configuration
  requests, no progress, no dynamic registration, plain-text hovers;
* ``emacs`` — Emacs 29 (eglot-like): UTF-32 first, push diagnostics, dynamic file watching.

Each (module, client) pair gets its own copy of ``fixtures/ws`` and its own server.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.protocol import default_converter
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

FIXTURES = Path(__file__).parent / "fixtures"
WS_FIXTURE = FIXTURES / "ws"
CLIENTS = ["vscode", "neovim", "push", "emacs"]

#: a private HOME and XDG config folder: no personal droids, no user config file
_HOME = tempfile.mkdtemp(prefix="taskdroid-lsp-home-")
atexit.register(shutil.rmtree, _HOME, ignore_errors=True)
SERVER_ENV = {
    **os.environ,
    "HOME": _HOME,
    "XDG_CONFIG_HOME": os.path.join(_HOME, ".config"),
    "PYTHONUNBUFFERED": "1",
}
SERVER_ENV.pop("TASKDROID_RUNNER", None)
SERVER_COMMAND = [sys.executable, "-m", "taskdroid", "lsp"]


def make_client() -> LanguageClient:
    """pytest-lsp's test client, recording every publishDiagnostics (with its version) too."""
    client = LanguageClient(converter_factory=default_converter)
    features = {
        k: v
        for k, v in DEFAULT_CLIENT_FEATURES.items()
        if k != types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS
    }
    register_lsp_features(client, features)
    client.published = []  # type: ignore[attr-defined]

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def publish(client: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
        client.diagnostics[params.uri] = params.diagnostics
        client.published.append(params)  # type: ignore[attr-defined]

    return client


CONFIG = ClientServerConfig(
    server_command=SERVER_COMMAND, server_env=SERVER_ENV, client_factory=make_client
)

BASE_OPTIONS: dict[str, Any] = {"debounceMs": 0, "pollIntervalMs": 0, "indexProgressThreshold": 0}


def capabilities(name: str) -> types.ClientCapabilities:
    if name == "vscode":
        caps = client_capabilities("visual-studio-code")
        caps.general = types.GeneralClientCapabilities(
            position_encodings=[types.PositionEncodingKind.Utf16]
        )
        assert caps.text_document is not None and caps.workspace is not None
        caps.text_document.diagnostic = types.DiagnosticClientCapabilities(
            dynamic_registration=True, related_document_support=False
        )
        caps.text_document.inlay_hint = types.InlayHintClientCapabilities(dynamic_registration=True)
        caps.workspace.diagnostics = types.DiagnosticWorkspaceClientCapabilities(
            refresh_support=True
        )
        caps.workspace.inlay_hint = types.InlayHintWorkspaceClientCapabilities(refresh_support=True)
        return caps
    if name == "neovim":
        return client_capabilities("neovim@v0.11")
    if name == "emacs":
        return client_capabilities("emacs")
    if name == "push":
        return types.ClientCapabilities(
            text_document=types.TextDocumentClientCapabilities(
                synchronization=types.TextDocumentSyncClientCapabilities(did_save=True),
                publish_diagnostics=types.PublishDiagnosticsClientCapabilities(
                    version_support=True
                ),
                hover=types.HoverClientCapabilities(content_format=[types.MarkupKind.PlainText]),
                completion=types.CompletionClientCapabilities(),
                rename=types.RenameClientCapabilities(prepare_support=True),
            ),
            workspace=types.WorkspaceClientCapabilities(apply_edit=True),
        )
    raise ValueError(name)


@dataclass
class Session:
    """What a test needs to know about its client and workspace."""

    name: str
    root: Path
    caps: types.ClientCapabilities
    result: types.InitializeResult
    applied: list[types.ApplyWorkspaceEditParams] = field(default_factory=list)
    registrations: list[types.Registration] = field(default_factory=list)

    @property
    def encoding(self) -> str:
        enc = self.result.capabilities.position_encoding
        return getattr(enc, "value", enc) or "utf-16"

    @property
    def pulls(self) -> bool:
        return self.result.capabilities.diagnostic_provider is not None

    def uri(self, rel: str) -> str:
        return from_fs_path(str(self.root / rel))

    def path(self, rel: str) -> Path:
        return self.root / rel

    def text(self, rel: str) -> str:
        return (self.root / rel).read_text(encoding="utf-8")


def copy_workspace(
    tmp_path_factory: pytest.TempPathFactory, name: str, src: Path = WS_FIXTURE
) -> Path:
    root = tmp_path_factory.mktemp(f"ws-{name}") / "ws"
    shutil.copytree(src, root)
    return root


async def start_session(
    lsp_client: LanguageClient,
    name: str,
    root: Path,
    options: dict[str, Any] | None = None,
    configuration: dict[str, Any] | None = None,
    wait: bool = True,
    base_options: bool = True,
) -> Session:
    applied: list[types.ApplyWorkspaceEditParams] = []
    registrations: list[types.Registration] = []
    #: a test may answer workspace/applyEdit itself (e.g. reject it after changing the document)
    lsp_client.apply_hook = None  # type: ignore[attr-defined]
    lsp_client.code_lens_refreshes = 0  # type: ignore[attr-defined]

    @lsp_client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        applied.append(params)
        hook = lsp_client.apply_hook  # type: ignore[attr-defined]
        if hook is not None:
            return hook(params)
        return types.ApplyWorkspaceEditResult(applied=True)

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: types.RegistrationParams) -> None:
        registrations.extend(params.registrations)

    @lsp_client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
    def code_lens_refresh(params: None) -> None:
        lsp_client.code_lens_refreshes += 1  # type: ignore[attr-defined]

    if configuration is not None:
        lsp_client.set_configuration(configuration, section="taskdroid")
    caps = capabilities(name)
    result = await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=caps,
            workspace_folders=[types.WorkspaceFolder(uri=from_fs_path(str(root)), name="ws")],
            initialization_options={**(BASE_OPTIONS if base_options else {}), **(options or {})},
        )
    )
    session = Session(name, root, caps, result, applied, registrations)
    if wait:
        await wait_ready(lsp_client)
    return session


async def wait_ready(client: LanguageClient) -> None:
    """Every handler waits for the index, so any answered request means it is ready."""
    await asyncio.wait_for(client.workspace_symbol_async(types.WorkspaceSymbolParams(query="")), 20)


# -- helpers ---------------------------------------------------------------------------------------


def units(text: str, encoding: str) -> int:
    """Length of ``text`` in the client's units (an oracle independent of the server)."""
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-16":
        return len(text.encode("utf-16-le")) // 2
    return len(text)


def position_of(
    text: str, needle: str, encoding: str, occurrence: int = 0, offset: int = 0
) -> types.Position:
    """The client position of the ``occurrence``-th ``needle`` in ``text`` (plus ``offset`` code
    points)."""
    idx = -1
    for _ in range(occurrence + 1):
        idx = text.index(needle, idx + 1)
    idx += offset
    line = text.count("\n", 0, idx)
    line_start = text.rfind("\n", 0, idx) + 1
    return types.Position(line=line, character=units(text[line_start:idx], encoding))


def range_of(text: str, needle: str, encoding: str, occurrence: int = 0) -> types.Range:
    start = position_of(text, needle, encoding, occurrence)
    end = position_of(text, needle, encoding, occurrence, len(needle))
    return types.Range(start=start, end=end)


async def diagnostics_for(
    client: LanguageClient,
    session: Session,
    uri: str,
    predicate=lambda diags: True,
    timeout: float = 8.0,
) -> list[types.Diagnostic]:
    """The diagnostics of ``uri`` once ``predicate`` holds: pulled (pull clients) or the last
    published (push clients; nothing published yet counts as none)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: list[types.Diagnostic] | None = None
    while True:
        if session.pulls:
            report = await client.text_document_diagnostic_async(
                types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=uri))
            )
            last = list(getattr(report, "items", None) or [])
        else:  # never published: none (the server does not publish empty lists for clean files)
            got = client.diagnostics.get(uri)
            last = list(got) if got is not None else []
        if last is not None and predicate(last):
            return last
        if loop.time() > deadline:
            raise AssertionError(f"diagnostics of {uri} never matched; last: {last!r}")
        await asyncio.sleep(0.03)


def codes(diags) -> list[str]:
    return sorted(str(d.code) for d in diags)


def open_doc(client: LanguageClient, uri: str, text: str, version: int = 1) -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="markdown", version=version, text=text
            )
        )
    )


def change_doc(client: LanguageClient, uri: str, version: int, text: str) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


def edit_doc(client: LanguageClient, uri: str, version: int, rng: types.Range, text: str) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangePartial(range=rng, text=text)],
        )
    )


def close_doc(client: LanguageClient, uri: str) -> None:
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )


def file_event(client: LanguageClient, uri: str, kind: types.FileChangeType) -> None:
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(changes=[types.FileEvent(uri=uri, type=kind)])
    )


@contextlib.asynccontextmanager
async def custom_session(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    *,
    options: dict[str, Any] | None = None,
    configuration: dict[str, Any] | None = None,
    files: dict[str, str] | None = None,
    src: Path = WS_FIXTURE,
    wait: bool = True,
    env: dict[str, str] | None = None,
    defaults: bool = False,
):
    """A server of its own for one test (custom options, settings, files or environment).
    ``defaults``: the server options a user gets (no ``BASE_OPTIONS``)."""
    root = copy_workspace(tmp_path_factory, name, src)
    for rel, text in (files or {}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    config = CONFIG
    if env:
        config = ClientServerConfig(
            server_command=SERVER_COMMAND,
            server_env={**SERVER_ENV, **env},
            client_factory=make_client,
        )
    client = await config.start()
    try:
        session = await start_session(
            client, name, root, options, configuration, wait=wait, base_options=not defaults
        )
        yield client, session
    finally:
        try:
            await asyncio.wait_for(client.shutdown_session(), 10)
        finally:
            await client.stop()
