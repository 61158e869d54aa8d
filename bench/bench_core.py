"""Core benchmarks: `taskdroid check` and `taskdroid plan` on large files, and re-analysis after a
one-character edit.

    python bench/bench_core.py            # 1,000 and 10,000 tasks, prints a markdown table
    python bench/bench_core.py --quick    # fewer repetitions

Budgets (issue "Core"): check of a 10,000-task file ≤ 1.5 s; re-analysis after a one-character
edit ≤ 60 ms (10,000 tasks) and ≤ 15 ms (1,000 tasks). `taskdroid plan --format json` of the same
file: within the budget of `check` (issue "Plans and queued runs"). Files come from bench/gen_tasks.py (seeded).
Each workspace holds one generated file plus its droids and source stubs, so the only expected
diagnostics are the deliberate TD001s.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _gen():
    spec = importlib.util.spec_from_file_location("gen_tasks", HERE / "gen_tasks.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["gen_tasks"] = mod
    spec.loader.exec_module(mod)
    return mod


def make_workspace(base: Path, n: int, seed: int = 1) -> Path:
    ws = base / f"ws-{n}"
    (ws / "tasks").mkdir(parents=True, exist_ok=True)
    (ws / ".git").mkdir(exist_ok=True)
    cmd = [sys.executable, str(HERE / "gen_tasks.py"), "--tasks", str(n), "--seed", str(seed),
           "-o", str(ws / "tasks" / f"tasks-{n}.md"), "--droids", str(ws), "--source-files", str(ws)]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True)
    return ws


def bench_cli(ws: Path, n: int, reps: int) -> tuple[float, list[float], str]:
    times = []
    out = ""
    for _ in range(reps):
        t = time.perf_counter()
        p = subprocess.run(
            [sys.executable, "-m", "taskdroid", "check", "--no-personal", "--format", "json", f"tasks/tasks-{n}.md"],
            cwd=ws, capture_output=True, text=True,
        )  # fmt: skip
        times.append(time.perf_counter() - t)
        out = p.stdout
    import json

    codes = sorted({d["code"] for d in json.loads(out)})
    return (
        statistics.median(times),
        times,
        f"{len(json.loads(out))} diagnostics ({', '.join(codes)})",
    )


def bench_plan(ws: Path, n: int, reps: int) -> tuple[float, str]:
    """Median wall time of ``taskdroid plan --format json`` on the generated file, and a summary."""
    import json

    times = []
    out = ""
    for _ in range(reps):
        t = time.perf_counter()
        p = subprocess.run(
            [sys.executable, "-m", "taskdroid", "plan", "--format", "json", f"tasks/tasks-{n}.md"],
            cwd=ws, capture_output=True, text=True,
        )  # fmt: skip
        times.append(time.perf_counter() - t)
        out = p.stdout
    plan = json.loads(out)
    planned = sum(len(w) for w in plan["waves"])
    what = (
        f"{planned} planned in {len(plan['waves'])} waves, {len(plan['conflicts'])} conflicts, "
        f"{len(plan['unplannable'])} unplannable"
    )
    return statistics.median(times), what


def bench_edit(ws: Path, n: int, reps: int) -> tuple[float, float, float]:
    """Median / p90 / max ms of set_task_text + diagnostics after inserting one character."""
    from taskdroid.core.files import read_text
    from taskdroid.core.workspace import Workspace

    w = Workspace(ws, personal=False)
    for p in (ws / ".factory" / "droids").glob("*.md"):
        w.set_droid_text(str(p), read_text(p))
    path = str(ws / "tasks" / f"tasks-{n}.md")
    text = read_text(path)
    w.set_task_text(path, text)
    w.diagnostics(path)
    # the collector settings of `taskdroid lsp` (cli.main's threshold, lsp.documents' freeze of
    # the index after start-up): what the server does per keystroke
    gc.set_threshold(50_000, 20, 20)
    gc.freeze()
    rng = random.Random(5)
    times = []
    for _ in range(reps):
        # type one character in the middle of a task's title (a task line, not its fields)
        start = text.find("\n- [", rng.randrange(len(text) - 2000)) + 1
        end = text.find("\n", start)
        pos = (start + end) // 2
        text = text[:pos] + "z" + text[pos:]
        t = time.perf_counter()
        w.set_task_text(path, text)
        w.diagnostics(path)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.9)], times[-1]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    reps_cli = 3 if args.quick else 7
    reps_edit = 30 if args.quick else 200
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for n in (1000, 10000):
            ws = make_workspace(Path(tmp), n)
            med, _all, what = bench_cli(ws, n, reps_cli)
            pmed, pwhat = bench_plan(ws, n, reps_cli)
            em, ep90, emax = bench_edit(ws, n, reps_edit)
            size = (ws / "tasks" / f"tasks-{n}.md").stat().st_size
            rows.append((n, size, med, pmed, em, ep90, emax, what, pwhat))
    print()
    print(
        "| tasks | file | `taskdroid check` (median, wall) | `taskdroid plan` (median, wall) | one-char edit → diagnostics (median / p90 / max) | result | plan |"
    )
    print("|---|---|---|---|---|---|---|")
    for n, size, med, pmed, em, ep90, emax, what, pwhat in rows:
        print(
            f"| {n:,} | {size / 1024:.0f} KB | {med * 1000:.0f} ms | {pmed * 1000:.0f} ms | {em:.1f} / {ep90:.1f} / {emax:.1f} ms | {what} | {pwhat} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
