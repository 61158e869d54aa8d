"""The start-up seam: the one place that decides what the language server loads late.

A client waits for the answer to ``initialize`` before it sends anything else, and importing
pygls and lsprotocol is most of a Python language server's start. The core (pydantic settings,
PyYAML, the parser, the workspace index) would add about as much again, so the server modules
bind the core modules they use *here*, as lazily loaded modules::

    from taskdroid.lsp.deferred import query, workspace

at module level, like any import. Such a module is loaded on its first attribute access (an
``importlib.util.LazyLoader``). The server then loads them in a fixed order, on the event loop
thread:

* :func:`load_for_indexing` when indexing starts (after ``initialized``): what indexing and the
  first analysis use;
* :func:`warm_up` after the first analysis, one module per loop turn: what features use on
  first use (hover, rename, status changes, runs), so that the first request does not pay it.

Besides the core: ``taskdroid.run`` (bound as ``run``), :mod:`taskdroid.lsp.arguments` (the
commands' pydantic models) and ``importlib.metadata`` (only the pygls version check uses it).

What :data:`INDEXING` loads should stay cheap to load, since a document opened right after
start-up waits for it: its pydantic models build their validators on first use, and a project
without settings, or a droid file whose diagnostics nobody has read yet, validates nothing, so
neither a validator is built nor ``importlib.metadata`` imported (pydantic imports it for its
plugin look-up on the first validation) before the first diagnostics.

No other module of ``taskdroid.lsp`` imports anything lazily or inside a function to keep start-up
fast (tests/test_architecture.py allows imports inside functions only in the seams it lists); a
module not bound here is imported at start-up, and ``test_the_core_is_loaded_after_start_up`` in
``tests/lsp/test_units.py`` checks that creating the server loads none of the heavy core.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import logging
import sys
from types import ModuleType
from typing import TYPE_CHECKING

log = logging.getLogger("taskdroid.lsp.deferred")


def _lazy(name: str) -> ModuleType:
    """``name`` as a module that is executed on first attribute access."""
    module = sys.modules.get(name)
    if module is not None:
        return module
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:  # pragma: no cover - a packaging error
        raise ImportError(f"no module named {name!r}")
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    if parent in sys.modules:
        setattr(sys.modules[parent], child, module)
    return module


#: loaded when indexing starts, in this order
INDEXING = (
    "taskdroid.core.settings",
    "taskdroid.core.config",
    "taskdroid.core.discovery",
    "taskdroid.core.globs",
    "taskdroid.core.workspace",
)
#: loaded after the first analysis, one per event loop turn
WARM_UP = (
    "taskdroid.core.query",
    "taskdroid.core.edits",
    "taskdroid.core.ready",
    "taskdroid.core.droids",
    "taskdroid.core.model",
    "taskdroid.core.fsio",
    "taskdroid.core.writes",
    "taskdroid.core.fixes",
    "taskdroid.core.taskview",
    "taskdroid.core.plan",
    "taskdroid.run",
    "taskdroid.core.report",
    "taskdroid.lsp.arguments",
    "taskdroid.core.requirement_views",
    "taskdroid.core.runfields",
    "taskdroid.core.droid_rank",
)

if TYPE_CHECKING:
    from importlib import metadata

    from taskdroid import run
    from taskdroid.core import (
        config,
        discovery,
        droid_rank,
        droids,
        edits,
        fixes,
        fsio,
        globs,
        model,
        plan,
        query,
        ready,
        report,
        requirement_views,
        requirements,
        runfields,
        settings,
        taskview,
        workspace,
        writes,
    )
    from taskdroid.lsp import arguments
else:
    settings = _lazy("taskdroid.core.settings")
    config = _lazy("taskdroid.core.config")
    discovery = _lazy("taskdroid.core.discovery")
    globs = _lazy("taskdroid.core.globs")
    workspace = _lazy("taskdroid.core.workspace")
    query = _lazy("taskdroid.core.query")
    edits = _lazy("taskdroid.core.edits")
    ready = _lazy("taskdroid.core.ready")
    droids = _lazy("taskdroid.core.droids")
    model = _lazy("taskdroid.core.model")
    fsio = _lazy("taskdroid.core.fsio")
    writes = _lazy("taskdroid.core.writes")
    fixes = _lazy("taskdroid.core.fixes")
    taskview = _lazy("taskdroid.core.taskview")
    plan = _lazy("taskdroid.core.plan")
    run = _lazy("taskdroid.run")
    report = _lazy("taskdroid.core.report")
    #: the pydantic models of the commands' arguments (pydantic is not loaded at start-up)
    arguments = _lazy("taskdroid.lsp.arguments")
    #: importlib.metadata takes as long as a core module; only the pygls version check uses it
    metadata = _lazy("importlib.metadata")
    requirements = _lazy("taskdroid.core.requirements")
    requirement_views = _lazy("taskdroid.core.requirement_views")
    runfields = _lazy("taskdroid.core.runfields")
    droid_rank = _lazy("taskdroid.core.droid_rank")


def _load(name: str) -> None:
    module = importlib.import_module(name)
    getattr(module, "__name__", None)  # a lazy module executes on its first attribute access


def loaded(module: ModuleType) -> ModuleType:
    """``module``, executed now if it is still lazy. Call it on the loop thread before a worker
    thread uses the module: ``LazyLoader`` is not safe to trigger from two threads at once
    before Python 3.12."""
    getattr(module, "__name__", None)
    return module


def load_for_indexing() -> None:
    """Load what indexing needs, on the loop thread (worker threads then find it loaded:
    ``LazyLoader`` is not safe to trigger from two threads at once before Python 3.12)."""
    for name in INDEXING:
        _load(name)


async def warm_up() -> None:
    for name in WARM_UP:
        await asyncio.sleep(0)
        try:
            _load(name)
        except Exception:  # an import error shows up again, with context, where it is used
            log.exception("cannot import %s", name)
