#!/usr/bin/env python3
"""Put taskdroid and its dependencies into ``bundled/libs`` for one platform (a platform ``.vsix``).

usage: python3 scripts/bundle-server.py --target linux-x64 [--python 3.11,3.12,3.13,3.14]

The repository's own taskdroid is built into a wheel (``pip wheel``); then, for each CPython
version, ``pip install --target`` installs that wheel and its dependencies as binary wheels for the
target platform (``--platform``, ``--python-version``, ``--only-binary=:all:``). The first version's
tree is the bundle; the other versions add only their compiled modules (``pydantic_core``'s
``_pydantic_core.cpython-312-….so`` and the like: the ABI tag is in the file name, so one tree
serves every version). The versions must resolve to the same distributions, or the script fails.
``bundled/tool/taskdroid_bundled.py`` runs the result (see src/discovery.ts for when).

Needs Python 3.11+ with pip, and the package index (PyPI or its mirror) — only at packaging time.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CLIENT = Path(__file__).resolve().parent.parent
REPO = CLIENT.parent
OUT = CLIENT / "bundled" / "libs"
MARKER = "taskdroid-bundle.json"

#: vsce --target → pip --platform tags (pip widens manylinux/macosx tags to older compatible ones)
PLATFORMS = {
    "linux-x64": ["manylinux_2_28_x86_64", "manylinux2014_x86_64"],
    "linux-arm64": ["manylinux_2_28_aarch64", "manylinux2014_aarch64"],
    "alpine-x64": ["musllinux_1_2_x86_64"],
    "alpine-arm64": ["musllinux_1_2_aarch64"],
    "darwin-x64": ["macosx_10_12_x86_64"],
    "darwin-arm64": ["macosx_11_0_arm64"],
    "win32-x64": ["win_amd64"],
    "win32-arm64": ["win_arm64"],
}
PYTHONS = ["3.11", "3.12", "3.13", "3.14"]


def pip(*args: str) -> None:
    cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args]
    proc = subprocess.run(cmd, cwd=REPO, stdin=subprocess.DEVNULL, check=False)
    if proc.returncode != 0:
        sys.exit(f"bundle-server: failed: {' '.join(cmd)}")


def dists(tree: Path) -> set[str]:
    return {p.name for p in tree.glob("*.dist-info")}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--target", required=True, choices=sorted(PLATFORMS))
    ap.add_argument("--python", default=",".join(PYTHONS), help="CPython versions (comma-separated)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    versions = [v.strip() for v in args.python.split(",") if v.strip()]
    platform_args = [a for tag in PLATFORMS[args.target] for a in ("--platform", tag)]

    with tempfile.TemporaryDirectory(prefix="taskdroid-bundle-") as tmp_name:
        tmp = Path(tmp_name)
        pip("wheel", "--no-deps", "-w", str(tmp / "wheel"), str(REPO))
        wheels = list((tmp / "wheel").glob("taskdroid-*.whl"))
        if len(wheels) != 1:
            sys.exit(f"bundle-server: expected one taskdroid wheel, found {wheels}")
        trees: list[Path] = []
        for version in versions:
            tree = tmp / f"py{version}"
            pip(
                "install",
                "--target", str(tree),
                "--only-binary=:all:",
                "--implementation", "cp",
                "--python-version", version,
                *platform_args,
                "--no-compile",
                str(wheels[0]),
            )  # fmt: skip
            trees.append(tree)

        base = trees[0]
        for tree in trees[1:]:
            if dists(tree) != dists(base):
                sys.exit(
                    f"bundle-server: Python {tree.name[2:]} resolves other distributions than "
                    f"{base.name[2:]}: {sorted(dists(tree) ^ dists(base))}"
                )
            for src in tree.rglob("*"):
                dest = base / src.relative_to(tree)
                if src.is_file() and not dest.exists():
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(src, dest)
        # console scripts carry this machine's interpreter path; caches are rebuilt where it runs
        shutil.rmtree(base / "bin", ignore_errors=True)
        for cache in list(base.rglob("__pycache__")):
            shutil.rmtree(cache, ignore_errors=True)
        (base / MARKER).write_text(
            json.dumps(
                {
                    "target": args.target,
                    "python": versions,
                    "distributions": sorted(p.removesuffix(".dist-info") for p in dists(base)),
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
        shutil.rmtree(args.out, ignore_errors=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(base, args.out)
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(
        f"bundle-server: {args.out} for {args.target}, Python {', '.join(versions)} "
        f"({size / 1e6:.1f} MB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
