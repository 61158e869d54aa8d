"""Cold open: a task file opened right after start-up → its diagnostics, wall clock and server CPU.

    python bench/bench_cold.py                         # 1,000 tasks, 9 sessions, pull
    python bench/bench_cold.py --tasks 1000,10000 --sessions 5
    python bench/bench_cold.py --compare OLD/server    # alternate sessions with another
                                                       # checkout's sources (its server/ folder)

Each session spawns ``python -m taskdroid lsp`` in the workspace of ``bench_lsp.py`` (the task
file, its droids, the source files), answers ``initialize``, then sends ``initialized`` and at
once ``didOpen`` of the task file and a ``textDocument/diagnostic`` pull, as
``bench_lsp.py``'s "server just started" row does. It reports medians of the wall clock from
``didOpen`` to the answer and of the server's CPU time over the same interval (every thread,
from /proc/PID/task/*/schedstat, Linux; as in ``bench_scale.py``), which moves much less with
the load of a shared machine than the wall clock. With ``--compare``, sessions alternate
between this checkout and the other one (``PYTHONPATH`` set to it), so both see the same load.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_lsp as bl  # noqa: E402
from bench_scale import Meter  # noqa: E402


async def session(ws: bl.Workspace, tmp: Path, pythonpath: str | None) -> tuple[float, float, int]:
    kind = bl.server_kinds(sys.executable)["taskdroid-pull"]
    env = bl.env_for(tmp)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    c = bl.Client(kind.label, kind.argv, env=env, cwd=ws.root, config=kind.config)
    await c.start()
    try:
        await c.request("initialize", bl.initialize_params(ws.root, True, kind.init_options))
        assert c.proc is not None
        m = Meter(c.proc.pid)
        c.notify("initialized", {})
        doc = {"uri": ws.task_uri, "languageId": "markdown", "version": 1, "text": ws.text}
        c.notify("textDocument/didOpen", {"textDocument": doc})
        _dt, res = await bl.pull_diagnostics(c, kind, ws.task_uri, None)
        wall, cpu = m.stop()
        return wall, cpu, len(res.get("items", []))
    finally:
        await c.stop()


async def amain(args: argparse.Namespace) -> int:
    variants: list[tuple[str, str | None]] = [("this checkout", None)]
    if args.compare:
        variants.append((args.compare, str(Path(args.compare).resolve())))
    print(f"load at start: {bl.load()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp_s:
        tmp = Path(tmp_s)
        for n in (int(x) for x in args.tasks.split(",")):
            ws = bl.make_workspace(tmp, n)
            for _name, pp in variants:  # warm-up: bytecode caches, page cache
                await session(ws, tmp, pp)
            results: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in variants}
            n_items = 0
            for _ in range(args.sessions):
                for name, pp in variants:
                    wall, cpu, n_items = await session(ws, tmp, pp)
                    results[name].append((wall, cpu))
            for name, rows in results.items():
                walls = [w for w, _ in rows]
                cpus = [c for _, c in rows]
                print(
                    f"{n} tasks, {name}: didOpen → diagnostics ({n_items} items) median wall "
                    f"{statistics.median(walls) * 1000:.0f} ms (min {min(walls) * 1000:.0f}), "
                    f"server CPU {statistics.median(cpus) * 1000:.0f} ms "
                    f"(min {min(cpus) * 1000:.0f}) ·{len(rows)}",
                    flush=True,
                )
    print(f"load at end: {bl.load()}", flush=True)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tasks", default="1000", help="comma-separated sizes (default 1000)")
    ap.add_argument("--sessions", type=int, default=9, help="sessions per size (and variant)")
    ap.add_argument("--compare", metavar="DIR", help="another checkout's server/ folder")
    os.environ.pop("PYTHONPATH", None)
    return asyncio.run(amain(ap.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
