"""pytest-lsp fixtures: one server per client kind for the whole run, each on its own copy of
``fixtures/ws`` (see lsputil for the four client kinds)."""

from __future__ import annotations

import pytest
import pytest_lsp
from lsputil import CLIENTS, CONFIG, Session, copy_workspace, start_session
from pytest_lsp import LanguageClient


@pytest_lsp.fixture(params=CLIENTS, scope="session", config=CONFIG)
async def client(request, lsp_client: LanguageClient, tmp_path_factory):
    root = copy_workspace(tmp_path_factory, request.param)
    lsp_client.session = await start_session(lsp_client, request.param, root)  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def session(client: LanguageClient) -> Session:
    return client.session  # type: ignore[attr-defined]
