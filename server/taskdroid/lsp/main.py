"""The composition root: which modules make up the language server, and its entry point.

:func:`create_server` builds the kernel (:mod:`~taskdroid.lsp.server`, ``config``,
``diagnostics``, ``documents``) and registers the features in :data:`FEATURES`; each feature
module has a ``register(server)`` that adds its handlers, hooks and feature object. Adding an LSP
feature is adding its module here (see docs/architecture.md).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from taskdroid.lsp import (
    actions,
    codelens,
    commands,
    completion,
    config,
    diagnostics,
    documents,
    hover,
    inlay,
    navigation,
    runlens,
    runs,
    symbols,
)
from taskdroid.lsp.server import TaskdroidServer, _QuietExpectedErrors, register_lifecycle

#: the kernel's own handlers, registered first
KERNEL = (config, diagnostics, documents)
#: the features, in the order their handlers and hooks are registered
FEATURES = (
    hover,
    completion,
    navigation,
    symbols,
    inlay,
    runs,
    runlens,
    commands,
    actions,
    codelens,
)


def create_server(args: Any = None) -> TaskdroidServer:
    server = TaskdroidServer(args)
    register_lifecycle(server)
    for module in (*KERNEL, *FEATURES):
        module.register(server)
    return server


def _setup_logging(level_name: str | None, log_file: str | None) -> None:
    level = getattr(logging, str(level_name or "WARNING").upper(), None)
    if not isinstance(level, int):
        level = logging.WARNING
    handler: logging.Handler
    if log_file:
        handler = logging.FileHandler(log_file, encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(level)
    # pygls logs every message it sends at INFO: keep it quiet unless debugging
    logging.getLogger("pygls").setLevel(level if level <= logging.DEBUG else logging.WARNING)
    logging.getLogger("pygls.protocol.json_rpc").addFilter(_QuietExpectedErrors())


def run(args: Any) -> int:
    """``taskdroid lsp``: serve on stdio, or on TCP with ``--tcp HOST:PORT``."""
    try:
        _setup_logging(getattr(args, "log_level", None), getattr(args, "log_file", None))
    except OSError as e:
        print(f"taskdroid: --log-file: {e}", file=sys.stderr)
        return 2
    tcp = getattr(args, "tcp", None)
    host = port = None
    if tcp:
        host, _, port_text = str(tcp).rpartition(":")
        try:
            port = int(port_text)
        except ValueError:
            print(f"taskdroid: --tcp {tcp}: expected HOST:PORT", file=sys.stderr)
            return 2
        host = host or "127.0.0.1"
    server = create_server(args)
    if tcp:
        server.start_tcp(host or "127.0.0.1", int(port or 0))
    else:
        server.start_io(None, None)
    return 0
