"""The long abuse run of issue #7: 10,000 rapid incremental edits to one task file, one per
``didChange``, with requests interleaved (a fifth of them cancelled), against ``taskdroid lsp``.

    python bench/abuse_lsp.py                      # 10,000 edits, VS Code-like client (pull)
    python bench/abuse_lsp.py --kind neovim        # push diagnostics, UTF-8
    python bench/abuse_lsp.py --edits 50000 --debounce 200
    python bench/abuse_lsp.py --transport          # the server on taskdroid.lsp.transport's loop

Prints the server's RSS every 1,000 edits and the edit rate, then checks that every request was
answered and that the final diagnostics equal ``taskdroid check`` of the client's text. Exits 1
when a check fails or the RSS grew by more than ``--limit-mb`` after the first 1,000 edits (the
in-suite version is tests/lsp/test_abuse.py::test_memory_flat_over_10000_edits).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "lsp"))

from abuseutil import REQUEST_CANCELLED, TRANSPORT_COMMAND, ClientText  # noqa: E402
from abuseutil import random_change as _random_change  # noqa: E402
from lsprotocol import types  # noqa: E402
from lsputil import BASE_OPTIONS  # noqa: E402
from test_abuse import (  # noqa: E402
    STORM_FILE,
    change_doc,
    make_workspace,
    open_doc,
    oracle_diagnostics,
    request_params,
    running,
    server_keys,
    storm_text,
    uri_of,
)

METHODS = [
    types.TEXT_DOCUMENT_HOVER,
    types.TEXT_DOCUMENT_COMPLETION,
    types.TEXT_DOCUMENT_DOCUMENT_SYMBOL,
    types.TEXT_DOCUMENT_CODE_LENS,
    types.TEXT_DOCUMENT_INLAY_HINT,
    types.TEXT_DOCUMENT_FOLDING_RANGE,
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.TEXT_DOCUMENT_DEFINITION,
]


async def run(args: argparse.Namespace) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="abuse-lsp-"))
    root = make_workspace(tmp)
    rng = random.Random(args.seed)
    options = dict(BASE_OPTIONS)
    if args.debounce is None:
        options.pop("debounceMs", None)  # the default: what a user gets
    else:
        options["debounceMs"] = args.debounce
    command = TRANSPORT_COMMAND if args.transport else None
    failures = []
    async with running(args.kind, root, options, command) as c:
        uri = uri_of(root, STORM_FILE)
        doc = ClientText(storm_text(), c.encoding)
        open_doc(c, uri, doc.text)
        methods = [*METHODS]
        if c.pulls:
            methods.append(types.TEXT_DOCUMENT_DIAGNOSTIC)
        futs: list[tuple[asyncio.Future, bool]] = []
        rows: list[tuple[int, float, float]] = []
        requests = cancelled = 0
        t0 = time.monotonic()
        start_rss = c.rss_kb()
        for i in range(1, args.edits + 1):
            change_doc(c, uri, i + 1, [_random_change(doc, rng, max_len=12_000)])
            if rng.random() < args.request_rate:
                method = rng.choice(methods)
                fut = c.request(method, request_params(method, uri, doc, rng))
                cancel = rng.random() < 0.2
                if cancel:
                    c.cancel(fut.msg_id)  # type: ignore[attr-defined]
                futs.append((fut, cancel))
            await c.maybe_drain()
            if i % 250 == 0:
                answers = await c.answer_all([f for f, _ in futs], timeout=120)
                for (_f, cancel), ans in zip(futs, answers, strict=True):
                    requests += 1
                    if ans.error is None:
                        continue
                    if cancel and ans.error.get("code") == REQUEST_CANCELLED:
                        cancelled += 1
                    else:
                        failures.append(f"edit {i}: {ans.error}")
                futs = []
            if i % 1000 == 0:
                await c.diagnostics(uri, i + 1)
                rows.append((i, time.monotonic() - t0, c.rss_kb() / 1024))
                print(f"{i:>7} edits  {rows[-1][1]:6.1f} s  RSS {rows[-1][2]:7.1f} MB", flush=True)
        await c.answer_all([f for f, _ in futs], timeout=120)
        final = await c.diagnostics(uri, args.edits + 1)
        elapsed = time.monotonic() - t0
        if server_keys(final, doc.text, c.encoding) != oracle_diagnostics(tmp, doc.text, "bench"):
            failures.append("final diagnostics differ from `taskdroid check`")
    print()
    print(
        f"client {args.kind}, debounce {args.debounce} ms, {'transport' if command else 'taskdroid lsp'}"
    )
    print(f"{args.edits} edits in {elapsed:.1f} s: {args.edits / elapsed:.0f} edits/s")
    print(f"{requests} requests answered ({cancelled} cancelled)")
    print(f"RSS: {start_rss / 1024:.1f} MB at open", end="")
    if rows:
        warm = next((r for r in rows if r[0] >= 1000), rows[0])
        growth = rows[-1][2] - warm[2]
        print(f", {warm[2]:.1f} MB after {warm[0]} edits, {rows[-1][2]:.1f} MB after {rows[-1][0]}")
        print(
            f"growth after warm-up: {growth:+.1f} MB ({growth * 1024 / max(1, rows[-1][0] - warm[0]):.2f} KB/edit)"
        )
        if growth > args.limit_mb:
            failures.append(f"RSS grew by {growth:.1f} MB (limit {args.limit_mb} MB)")
    else:
        print()
    for f in failures[:20]:
        print("FAIL:", f)
    return 1 if failures else 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--edits", type=int, default=10_000)
    p.add_argument("--kind", default="vscode", choices=["vscode", "neovim", "push", "emacs"])
    p.add_argument(
        "--debounce", type=int, default=None, help="debounceMs (default: the server's default)"
    )
    p.add_argument("--request-rate", type=float, default=0.05, help="requests per edit")
    p.add_argument("--limit-mb", type=float, default=48.0)
    p.add_argument("--seed", default="bench")
    p.add_argument("--transport", action="store_true", help="serve with taskdroid.lsp.transport")
    return asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
