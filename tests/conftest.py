"""Test tiers and Hypothesis profiles for the whole suite.

Tiers (markers, set here by folder so that no test can forget its own):

* ``e2e`` — a real language server over stdio (tests/lsp, tests/security's server sessions);
* ``editors`` — real editors driving the server (tests/editors: Neovim, Emacs, code-server);
* ``fuzz`` — property and regression tests of the fuzzing work (tests/fuzz);
* ``slow`` — set on single tests that take more than a few seconds.

``python -m pytest -m "not editors and not slow"`` is the quick loop while working; the README's
test command (and CI) runs everything.

Hypothesis profiles, chosen with ``TASKDROID_HYPOTHESIS_PROFILE``: ``ci`` (the default when
``CI`` is set: derandomized, no example database, so a run is reproducible), ``dev`` (the default
elsewhere: random, with the local example database), ``long`` (ten times the examples of tests
that do not fix their own count, for hunting). tests/fuzz has its own knob for long runs,
``TASKDROID_FUZZ_EXAMPLES`` (see tests/fuzz/test_fuzz_properties.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", derandomize=True, database=None, deadline=None, print_blob=True
)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.register_profile(
    "long",
    max_examples=1000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(
    os.environ.get("TASKDROID_HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)

_TESTS = Path(__file__).resolve().parent
_BY_FOLDER = {"lsp": "e2e", "editors": "editors", "fuzz": "fuzz"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        try:
            folder = Path(str(item.path)).resolve().relative_to(_TESTS).parts[0]
        except ValueError:
            continue
        marker = _BY_FOLDER.get(folder)
        if marker is not None:
            item.add_marker(marker)
        elif "session" in item.fixturenames or "lsp_client" in item.fixturenames:
            item.add_marker("e2e")
