"""How fast the VS Code Tasks view follows an edit (docs/language.md §15, issue 13: "the view updates within
100 ms of an analysis on a 1,000-task workspace").

    python bench/bench_outline.py                 # 1,000 tasks, 20 edits
    python bench/bench_outline.py --tasks 10000 --edits 10

A client like the extension (pull diagnostics, the experimental capability ``taskdroidOutline``)
opens a generated task file (bench/gen_tasks.py) and toggles one task's marker per edit. Per edit it
measures, as the extension does it: ``didChange`` → ``taskdroid/outlineChanged {uris}`` (the
server's analysis, the notification sent at its end) → ``taskdroid.outline {uri}`` answered (what the
view then shows). Prints the medians and maxima; "after the analysis" is notification → answer.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "lsp"))

import lsputil  # noqa: E402
from lsprotocol import types  # noqa: E402
from lsputil import CONFIG, capabilities, change_doc, open_doc  # noqa: E402
from pygls.uris import from_fs_path  # noqa: E402


async def run(n_tasks: int, edits: int) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="bench-outline-"))
    ws = tmp / "ws"
    (ws / "tasks").mkdir(parents=True)
    (ws / ".git").mkdir()
    path = ws / "tasks" / f"tasks-{n_tasks}.md"
    subprocess.run(
        [sys.executable, str(HERE / "gen_tasks.py"), "--tasks", str(n_tasks), "-o", str(path),
         "--droids", str(ws), "--source-files", str(ws)],
        check=True, capture_output=True,
    )  # fmt: skip
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    pending = [i for i, ln in enumerate(lines) if ln.startswith("- [ ] ")][:edits]
    uri = from_fs_path(str(path))

    client = await CONFIG.start()
    notified: asyncio.Queue[float] = asyncio.Queue()

    @client.feature("taskdroid/outlineChanged")
    def changed(params) -> None:
        uris = params["uris"] if isinstance(params, dict) else params.uris
        if uri in uris:
            notified.put_nowait(time.perf_counter())

    caps = capabilities("vscode")
    caps.experimental = {"taskdroidOutline": True}
    lsputil.capabilities = lambda _n: caps
    await lsputil.start_session(client, "vscode", ws)

    async def outline(arg: dict) -> dict:
        return await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="taskdroid.outline", arguments=[arg])
        )

    open_doc(client, uri, text)
    first = await outline({})
    total = sum(f["total"] for f in first["files"])
    while not notified.empty():
        notified.get_nowait()
    await asyncio.sleep(0.5)
    while not notified.empty():
        notified.get_nowait()

    after, whole, request = [], [], []
    version = 1
    for line in pending:
        lines[line] = lines[line].replace("- [ ] ", "- [x] ", 1)
        version += 1
        t0 = time.perf_counter()
        change_doc(client, uri, version, "\n".join(lines))
        t_note = await asyncio.wait_for(notified.get(), 10)
        answer = await outline({"uri": uri})
        t_end = time.perf_counter()
        assert answer["files"][0]["uri"] == uri
        after.append(t_end - t_note)
        whole.append(t_end - t0)
        t1 = time.perf_counter()
        await outline({})
        request.append(time.perf_counter() - t1)
        await asyncio.sleep(0.05)
        while not notified.empty():
            notified.get_nowait()
    await asyncio.wait_for(client.shutdown_session(), 10)
    await client.stop()

    def ms(xs: list[float]) -> str:
        return f"median {statistics.median(xs) * 1000:.1f} ms, max {max(xs) * 1000:.1f} ms"

    print(f"{total} tasks, {len(pending)} edits (one marker toggled per edit)")
    print(f"  analysis done (notification) -> outline of the file answered: {ms(after)}")
    print(f"  didChange -> outline of the file answered:                  {ms(whole)}")
    print(f"  taskdroid.outline {{}} (whole workspace):                     {ms(request)}")
    return 0 if statistics.median(after) < 0.1 else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", type=int, default=1000)
    ap.add_argument("--edits", type=int, default=20)
    args = ap.parse_args()
    return asyncio.run(run(args.tasks, args.edits))


if __name__ == "__main__":
    sys.exit(main())
