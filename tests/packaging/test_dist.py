"""The package is ready to publish: ``python -m build`` makes a wheel and an sdist, ``twine check``
accepts both (metadata, the README as long description), and they hold what an install needs.

taskdroid is not on PyPI yet (README, "Install"); this keeps it ready to be. ``build`` and
``twine`` come with the ``lint`` extra (``pip install -e ".[test,lint]"``, what CI installs);
without them the test skips. The build's isolated environment fetches setuptools from the index.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    for module in ("build", "twine"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed (pip install -e '.[lint]')")
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", str(out), str(ROOT)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


def test_twine_check_accepts_the_wheel_and_the_sdist(dist: Path):
    files = sorted(dist.iterdir())
    assert sorted(f.suffix for f in files) == [".gz", ".whl"], files
    proc = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, files)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("PASSED") == 2, proc.stdout


def test_the_wheel_holds_the_package_and_its_metadata(dist: Path):
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        meta_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        meta = z.read(meta_name).decode()
        entry = z.read(meta_name.replace("METADATA", "entry_points.txt")).decode()
    assert {"taskdroid/cli/__init__.py", "taskdroid/lsp/server.py", "taskdroid/py.typed"} <= names
    assert not any(n.startswith(("tests/", "bench/", "client-vscode/")) for n in names)
    assert "taskdroid = taskdroid.cli:main" in entry
    assert "Requires-Python: >=3.11" in meta
    assert "Project-URL: Repository," in meta
    assert "Classifier: Programming Language :: Python :: 3.11" in meta
    assert "License-Expression: MIT" in meta


def test_the_sdist_builds_the_same_package(dist: Path):
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as t:
        names = {n.split("/", 1)[1] for n in t.getnames() if "/" in n}
    assert {"pyproject.toml", "README.md", "LICENSE", "server/taskdroid/cli/__init__.py"} <= names
