"""Scale benchmark: taskdroid's language server on one huge task file and on a large workspace.

    python bench/bench_scale.py                                   # both scenarios (~3-5 min)
    python bench/bench_scale.py --tasks-file 50000 --files 2000x100
    python bench/bench_scale.py --tasks-file 50000 --files 0      # only the big file
    python bench/bench_scale.py --tasks-file 0 --files 2000x100   # only the big workspace

Scenarios (issue 17), both with the settings a user gets (no server options) and a pulling client
(VS Code's capabilities, as in bench/bench_lsp.py):

* **big file** (``--tasks-file N``): one generated file of N tasks (50,000 ≈ 11 MB) in a workspace
  with its droids and source stubs. The server is spawned, ``initialize``/``initialized`` sent,
  and the file opened at once: open → diagnostics (the pull answered), then one-character edits in
  task titles → fresh diagnostics (each pulled), then the server's resident memory. Budgets:
  open ≤ 5 s, edit ≤ 150 ms, RSS ≤ 500 MiB.
* **big workspace** (``--files FxT``): F task files of T tasks each (2000x100 ≈ 200,000 tasks,
  in folders of 20 files). The server is spawned and a ``workspace/diagnostic`` pull sent right
  after ``initialized``: spawn → that answer (it covers every file), then the server's memory, then
  one file opened (already indexed) → diagnostics, and edits in it → diagnostics. Budgets: complete
  workspace diagnostics ≤ 20 s, RSS ≤ 1 GiB, open ≤ 150 ms, edit ≤ 50 ms.

Besides wall-clock time, every measurement reports the server's CPU time over it (all its
threads, from /proc/PID/task/*/schedstat, Linux), which moves much less with the load of a
shared machine. Memory: VmRSS now and VmHWM (peak) from /proc/PID/status.
Generated files go to a temporary folder (``--keep DIR`` keeps them in DIR and reuses them).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_lsp as bl  # noqa: E402  (the client, the workspace maker, the server command)


def cpu_seconds(pid: int) -> float:
    """CPU time of every thread of ``pid`` so far (seconds)."""
    total = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                continue
    except OSError:
        return 0.0
    return total / 1e9


def memory_mib(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of ``pid`` in MiB."""
    rss = hwm = 0.0
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1]) / 1024
                elif line.startswith("VmHWM:"):
                    hwm = int(line.split()[1]) / 1024
    except OSError:
        pass
    return rss, hwm


class Meter:
    """Wall and server CPU time of one measurement."""

    def __init__(self, pid: int):
        self.pid = pid
        self.t0 = time.perf_counter()
        self.c0 = cpu_seconds(pid)

    def stop(self, t_end: float | None = None) -> tuple[float, float]:
        t = t_end if t_end is not None else time.perf_counter()
        return t - self.t0, cpu_seconds(self.pid) - self.c0


def fmt(s: float) -> str:
    return f"{s * 1000:.0f} ms" if s < 1 else f"{s:.2f} s"


def summary(label: str, walls: list[float], cpus: list[float], budget: float) -> str:
    w, c = statistics.median(walls), statistics.median(cpus)
    verdict = "met" if w <= budget else f"**missed** ({w / budget:.1f}×)"
    extra = ""
    if len(walls) >= 5:
        ws = sorted(walls)
        extra = f" (p90 {fmt(ws[min(len(ws) - 1, round(0.9 * (len(ws) - 1)))])})"
    return f"| {label} | ≤ {fmt(budget)} | {fmt(w)}{extra} ·{len(walls)} | {fmt(c)} | {verdict} |"


def mem_row(label: str, rss: float, hwm: float, budget_mib: float) -> str:
    verdict = "met" if hwm <= budget_mib else f"**missed** ({hwm / budget_mib:.1f}×)"
    return f"| {label} | ≤ {budget_mib:.0f} MiB | {rss:.0f} MiB now, {hwm:.0f} MiB peak | | {verdict} |"


def title_edit(lines: list[str], i: int) -> tuple[dict, str]:
    """Insert one character in the middle of the title on line ``i`` (updates ``lines``)."""
    line = lines[i]
    m = re.match(r"^- \[[^\]]*\] \d+\.\d+ ", line)
    assert m, line
    col = m.end() + (len(line) - m.end()) // 2
    while col < len(line) and line[col] != " ":
        col += 1
    lines[i] = line[:col] + "z" + line[col:]
    ch = bl.u16(line[:col])
    return {"start": {"line": i, "character": ch}, "end": {"line": i, "character": ch}}, "z"


async def pull(c: bl.Client, uri: str, prev: str | None) -> tuple[float, dict]:
    params: dict = {"textDocument": {"uri": uri}, "identifier": "taskdroid"}
    if prev:
        params["previousResultId"] = prev
    return await c.request("textDocument/diagnostic", params)


async def edits(c: bl.Client, uri: str, text: str, n: int, rng: random.Random, prev: str | None):
    lines = text.split("\n")
    pool = [i for i, ln in enumerate(lines) if re.match(r"^- \[[^\]]*\] \d+\.\d+ ", ln)]
    pool = pool[len(pool) // 10 : len(pool) - len(pool) // 10] or pool
    walls, cpus = [], []
    version = 1
    for _ in range(n):
        rng_, ins = title_edit(lines, rng.choice(pool))
        version += 1
        m = Meter(c.proc.pid)
        c.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": version},
             "contentChanges": [{"range": rng_, "text": ins}]},
        )  # fmt: skip
        _dt, res = await pull(c, uri, prev)
        prev = res.get("resultId") or prev
        w, cpu = m.stop()
        walls.append(w)
        cpus.append(cpu)
        await asyncio.sleep(0.3)  # a pause between edits: no debounce applies (docs/language.md §C)
    return walls, cpus


PROFILE: list[str] = []  #: --profile DIR: run the server under cProfile, one file per scenario


async def spawn(ws_root: Path, tmp: Path) -> bl.Client:
    kind = bl.server_kinds(sys.executable)["taskdroid-pull"]
    argv = kind.argv
    if PROFILE:
        out = Path(PROFILE[0]) / f"{ws_root.name}.prof"
        argv = [argv[0], "-m", "cProfile", "-o", str(out), *argv[1:]]
    c = bl.Client(kind.label, argv, env=bl.env_for(tmp), cwd=ws_root, config=kind.config)
    await c.start()
    await c.request("initialize", bl.initialize_params(ws_root, True, kind.init_options))
    c.notify("initialized", {})
    return c


async def big_file(n: int, base: Path, tmp: Path, n_edits: int, rng: random.Random) -> list[str]:
    ws_root = base / f"ws-{n}"
    task_path = ws_root / "tasks" / f"tasks-{n}.md"
    if not task_path.exists():
        bl.make_workspace(base, n)  # (also writes links.md and a new text: unused here)
    text = task_path.read_text(encoding="utf-8")
    uri = bl.uri_of(task_path)
    size = len(text.encode("utf-8")) / 1e6
    rows = [f"#### One file of {n:,} tasks ({size:.1f} MB)", "", HEADER, SEP]
    c = await spawn(ws_root, tmp)
    try:
        m = Meter(c.proc.pid)
        c.notify("textDocument/didOpen",
                 {"textDocument": {"uri": uri, "languageId": "markdown", "version": 1, "text": text}})  # fmt: skip
        _dt, res = await pull(c, uri, None)
        w, cpu = m.stop()
        n_items = len(res.get("items", []))
        rows.append(
            summary(
                f"didOpen right after start-up → diagnostics ({n_items} items)", [w], [cpu], 5.0
            )
        )
        print(f"  open: {fmt(w)} (cpu {fmt(cpu)}), {n_items} diagnostics", flush=True)
        # let the start-up's whole-workspace analysis finish before timing edits
        await c.request(
            "workspace/diagnostic", {"identifier": "taskdroid", "previousResultIds": []}
        )
        await asyncio.sleep(0.5)
        walls, cpus = await edits(c, uri, text, n_edits, rng, res.get("resultId"))
        rows.append(summary("one-character edit → fresh diagnostics", walls, cpus, 0.150))
        print(
            f"  edit: median {fmt(statistics.median(walls))} (cpu {fmt(statistics.median(cpus))})",
            flush=True,
        )
        rss, hwm = memory_mib(c.proc.pid)
        rows.append(mem_row("server memory after the edits", rss, hwm, 500))
        print(f"  memory: {rss:.0f} MiB now, {hwm:.0f} MiB peak", flush=True)
    finally:
        await c.stop()
    return rows


def make_many(base: Path, files: int, tasks: int) -> Path:
    root = base / f"ws-{files}x{tasks}"
    done = root / ".complete"
    if done.exists():
        return root
    gen = bl._gen()
    (root / ".git").mkdir(parents=True, exist_ok=True)
    gen.write_droids(root)
    gen.write_source_files(root)
    for i in range(files):
        folder = root / "tasks" / f"area-{i // 20:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"tasks-{i:04d}.md").write_text(gen.generate(tasks, seed=1 + i), encoding="utf-8")
    done.write_text("")
    return root


async def big_workspace(
    files: int, tasks: int, base: Path, tmp: Path, n_edits: int, rng: random.Random
) -> list[str]:
    root = make_many(base, files, tasks)
    rows = [f"#### {files:,} task files × {tasks} tasks ({files * tasks:,} tasks)", "", HEADER, SEP]
    c = await spawn(root, tmp)
    try:
        m = Meter(c.proc.pid)
        m.t0 = c.t_spawn
        _dt, res = await c.request(
            "workspace/diagnostic", {"identifier": "taskdroid", "previousResultIds": []}
        )
        w, cpu = m.stop()
        reports = res.get("items", [])
        n_diag = sum(len(r.get("items", [])) for r in reports)
        rows.append(summary(f"spawn → complete workspace diagnostics ({len(reports)} files, {n_diag} items)",
                            [w], [cpu + 0.0], 20.0))  # fmt: skip
        print(f"  workspace: {fmt(w)} (cpu {fmt(cpu)}), {len(reports)} files", flush=True)
        rss, hwm = memory_mib(c.proc.pid)
        rows.append(mem_row("server memory after it", rss, hwm, 1024))
        print(f"  memory: {rss:.0f} MiB now, {hwm:.0f} MiB peak", flush=True)
        await asyncio.sleep(0.5)
        path = root / "tasks" / f"area-{files // 40:03d}" / f"tasks-{(files // 40) * 20 + 7:04d}.md"
        text = path.read_text(encoding="utf-8")
        uri = bl.uri_of(path)
        m = Meter(c.proc.pid)
        c.notify("textDocument/didOpen",
                 {"textDocument": {"uri": uri, "languageId": "markdown", "version": 1, "text": text}})  # fmt: skip
        _dt, res = await pull(c, uri, None)
        w, cpu = m.stop()
        rows.append(summary("didOpen of one of its files → diagnostics", [w], [cpu], 0.150))
        print(f"  open: {fmt(w)} (cpu {fmt(cpu)})", flush=True)
        await asyncio.sleep(0.3)
        walls, cpus = await edits(c, uri, text, n_edits, rng, res.get("resultId"))
        rows.append(summary("one-character edit in it → fresh diagnostics", walls, cpus, 0.050))
        print(
            f"  edit: median {fmt(statistics.median(walls))} (cpu {fmt(statistics.median(cpus))})",
            flush=True,
        )
    finally:
        await c.stop()
    return rows


async def warm_up(base: Path, tmp: Path) -> None:
    """Start the server once on a small workspace and let it load every module: the servers of
    the scenarios then start from compiled bytecode (in ``tmp``, see bench_lsp.env_for), as an
    installed server does, instead of compiling taskdroid's sources on their clock."""
    root = base / "warm-up"
    (root / ".git").mkdir(parents=True, exist_ok=True)
    (root / "tasks-warm.md").write_text(bl._gen().generate(20, seed=1), encoding="utf-8")
    saved = PROFILE[:]
    PROFILE.clear()
    c = await spawn(root, tmp)
    try:
        await c.request(
            "workspace/diagnostic", {"identifier": "taskdroid", "previousResultIds": []}
        )
        await asyncio.sleep(1.0)  # the server's own warm-up after the first analysis
    finally:
        await c.stop()
        PROFILE.extend(saved)


HEADER = "| measurement | budget | wall (median) | server CPU (median) | verdict |"
SEP = "|---|---|---|---|---|"


async def amain(args) -> int:
    rng = random.Random(args.seed)
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
        PROFILE.append(str(Path(args.profile).resolve()))
    out: list[str] = []
    keep = Path(args.keep) if args.keep else None
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        base = keep or tmp / "ws"
        base.mkdir(parents=True, exist_ok=True)
        print(
            f"machine: {bl.machine()}\nsource: {bl.source_state()}\nload: {bl.load()}", flush=True
        )
        load_start = bl.load()
        await warm_up(base, tmp)
        if args.tasks_file:
            print(f"big file: {args.tasks_file} tasks", flush=True)
            out += await big_file(args.tasks_file, base, tmp, args.edits, rng) + [""]
        if args.files and args.files != "0":
            f, t = (int(x) for x in args.files.lower().split("x"))
            print(f"big workspace: {f} files x {t} tasks", flush=True)
            out += await big_workspace(f, t, base, tmp, args.edits, rng) + [""]
        if keep is None:
            shutil.rmtree(base, ignore_errors=True)
    print()
    print(f"Command: `python bench/bench_scale.py {' '.join(sys.argv[1:])}`, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, taskdroid {bl.source_state()}, "
          f"load average at start {load_start}, at end {bl.load()}.")  # fmt: skip
    print()
    print("\n".join(out))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--tasks-file", type=int, default=50000, help="tasks in the big file (0: skip)")
    ap.add_argument(
        "--files", default="2000x100", help="FILESxTASKS for the big workspace (0: skip)"
    )
    ap.add_argument("--edits", type=int, default=10, help="one-character edits per scenario")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument(
        "--profile", metavar="DIR", help="run the server under cProfile (DIR/ws-*.prof)"
    )
    ap.add_argument("--keep", metavar="DIR", help="generate the workspaces in DIR and reuse them")
    return asyncio.run(amain(ap.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
