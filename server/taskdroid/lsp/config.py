"""Configuration (docs/language.md §10) in the server.

Settings come from the core loader (defaults, ``.taskdroid.toml``, the user file, the editor, the
environment, ``--config``/``--runner``). The editor part is ``initializationOptions`` merged with
the ``workspace/configuration`` section ``taskdroid`` (later wins), re-read on
``workspace/didChangeConfiguration`` (handled in :mod:`taskdroid.lsp.documents`, which rebuilds
the index). Clients that cannot answer ``workspace/configuration`` send their settings in
``didChangeConfiguration`` instead; those are used as they come.

``initializationOptions`` may also carry server options that are not settings (``debounceMs``,
``diagnosticMode``, ``pollIntervalMs``, ``indexProgressThreshold``). An invalid value of any kind
is reported with ``window/showMessage`` and its default is used.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from taskdroid.lsp.deferred import config as core_config
from taskdroid.lsp.deferred import settings as core_settings
from taskdroid.lsp.server import SERVER_OPTION_KEYS, Project, ServerOptions, TaskdroidServer

if TYPE_CHECKING:
    from taskdroid.core.config import LoadedSettings

log = logging.getLogger("taskdroid.lsp.config")

SECTION = "taskdroid"
_CONFIG_TIMEOUT = 5.0


def register(server: TaskdroidServer) -> None:
    server.hooks.initialize.append(read_init_options)


# -- server options ----------------------------------------------------------------------------


def read_init_options(server: TaskdroidServer, params: types.InitializeParams) -> None:
    raw = params.initialization_options
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        server.deferred_problems.append(
            f"initializationOptions: expected an object, got {type(raw).__name__}; ignored"
        )
        raw = {}
    server.init_options = dict(raw)
    options, problems = parse_server_options(raw)
    server.options = options
    server.deferred_problems.extend(problems)


def parse_server_options(raw: Mapping[str, Any]) -> tuple[ServerOptions, list[str]]:
    opts = ServerOptions()
    problems: list[str] = []

    def number(key: str, lo: float, hi: float) -> float | None:
        if key not in raw or raw[key] is None:
            return None
        v = raw[key]
        if isinstance(v, bool) or not isinstance(v, int | float) or not lo <= v <= hi:
            problems.append(
                f"initializationOptions: {key}: expected a number from {lo:g} to {hi:g}, got "
                f"{v!r}; using the default"
            )
            return None
        return float(v)

    if (v := number("debounceMs", 0, 10_000)) is not None:
        opts.debounce = v / 1000
    if (v := number("pollIntervalMs", 0, 3_600_000)) is not None:
        opts.poll_interval = v / 1000
    if (v := number("indexProgressThreshold", 0, 10_000_000)) is not None:
        opts.progress_threshold = int(v)
    mode = raw.get("diagnosticMode")
    if mode is not None:
        if mode in ("auto", "push", "pull"):
            opts.diagnostic_mode = mode
        else:
            problems.append(
                f"initializationOptions: diagnosticMode: expected auto, push or pull, got "
                f"{mode!r}; using auto"
            )
    return opts, problems


def _strip_server_options(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in SERVER_OPTION_KEYS}


# -- settings ----------------------------------------------------------------------------------


def _deep_merge(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for k, v in b.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = v
    return out


async def fetch_client_settings(server: TaskdroidServer, project: Project) -> Any:
    """The ``taskdroid`` section from the client (``workspace/configuration``), or what it pushed
    with ``didChangeConfiguration`` when it cannot be asked."""
    if server.client.configuration:
        try:
            result = await asyncio.wait_for(
                server.workspace_configuration_async(
                    types.ConfigurationParams(
                        items=[types.ConfigurationItem(section=SECTION, scope_uri=project.uri)]
                    )
                ),
                _CONFIG_TIMEOUT,
            )
        except Exception as e:  # a client that fails or never answers: keep going without
            log.warning("workspace/configuration failed: %s", e)
            return None
        return result[0] if result else None
    return server.pushed_settings


async def load_project_settings(server: TaskdroidServer, project: Project) -> LoadedSettings:
    settings_from_dict = core_config.settings_from_dict
    problems: list[str] = []
    init = _strip_server_options(server.init_options)
    init_nested, p1 = settings_from_dict(init, "initializationOptions") if init else ({}, [])
    problems.extend(p1)
    client = await fetch_client_settings(server, project)
    client_nested: dict[str, Any] = {}
    if client is not None:
        if isinstance(client, Mapping):
            client_nested, p2 = settings_from_dict(
                _strip_server_options(client), "editor settings (taskdroid)"
            )
            problems.extend(p2)
        else:
            problems.append(
                f"editor settings (taskdroid): expected an object, got {type(client).__name__}; "
                "ignored"
            )
    merged = _deep_merge(init_nested, client_nested)
    args = server.args
    config_file = getattr(args, "config", None)
    cfg_path = Path(config_file) if config_file else None
    if cfg_path is not None and not cfg_path.is_file():
        problems.append(f"--config {config_file}: no such file; ignored")
        cfg_path = None
    try:
        loaded = core_config.load_settings(
            Path(project.root) if project.root else None,
            lsp=merged,
            runner_override=getattr(args, "runner", None),
            config_file=cfg_path,
        )
    except Exception as e:  # never let a settings problem stop the server
        log.exception("cannot load settings")
        loaded = core_config.LoadedSettings(
            core_settings.Settings(), [f"settings: {e}; using the defaults"]
        )
    loaded.problems[:0] = problems
    return loaded
