"""``taskdroid run``: one task, or a queue of ready tasks (docs/language.md §7), with live progress in
the terminal."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from taskdroid.core.files import ReadError, read_text
from taskdroid.core.paths import display_path, norm

if TYPE_CHECKING:
    from taskdroid.core.model import Status
    from taskdroid.run import Run
from taskdroid.cli.common import (
    EXIT_ERRORS,
    EXIT_INTERRUPTED,
    EXIT_OK,
    UsageError,
    _say,
    _task_targets,
    build_workspace,
    resolve_root,
)

# -- run -------------------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    import asyncio

    from taskdroid.run import RunError, prepare_run

    if args.ready or args.all:
        return cmd_run_queue(args)
    if len(args.targets) != 2:
        raise UsageError(
            "run: give FILE TASK_ID (one task), or --ready / --all [PATH …] (every ready task)"
            + (f"; got {len(args.targets)} argument{'s' if len(args.targets) != 1 else ''}")
        )
    args.file, args.task_id = args.targets
    path = norm(args.file)
    shown = display_path(path)
    if not os.path.isfile(path):
        raise UsageError(f"{shown}: no such file")
    root = resolve_root(args.root)
    ws, _problems = build_workspace(root, args)
    try:
        text = read_text(path)
    except ReadError as e:
        raise UsageError(f"{shown}: {e}") from None
    try:
        spec = prepare_run(
            workspace=root,
            task_path=path,
            text=text,
            task_id=args.task_id,
            runner=ws.settings.runner,
            aliases=dict(ws.settings.markerAliases),
            droid=args.droid,
            force=args.force,
            ws=ws,
        )
    except RunError as e:
        raise UsageError(str(e)) from None
    return asyncio.run(_run_in_terminal(spec, shown))


async def _run_in_terminal(spec, shown: str) -> int:
    """One run with live progress; SIGINT/SIGTERM cancel it (a second one kills the droid)."""
    import asyncio
    import signal

    from taskdroid.core.model import Status
    from taskdroid.run import RunError, RunManager

    hooks = _TerminalHooks(sys.stdout, shown)
    try:
        run = RunManager().submit(spec, hooks)
    except RunError as e:
        raise UsageError(str(e)) from None
    loop = asyncio.get_running_loop()
    interrupted = False

    def on_signal() -> None:
        nonlocal interrupted
        if interrupted:
            hooks.line("stopping now (SIGKILL)")
            run.kill()
            return
        interrupted = True
        hooks.line("interrupted: stopping the droid (press Ctrl-C again to kill it at once)")
        run.cancel("interrupted")

    installed = []
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):  # a closed terminal, too: no orphan droid
        sig = getattr(signal, name, None)
        if sig is None:
            continue
        try:
            loop.add_signal_handler(sig, on_signal)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not on this platform
            pass
    ticker = asyncio.ensure_future(hooks.tick(run)) if hooks.tty else None
    try:
        result = await run.execute()
    finally:
        if ticker is not None:
            ticker.cancel()
        for sig in installed:
            loop.remove_signal_handler(sig)
    hooks.finished(run, result)
    if interrupted or result.outcome == "cancelled":
        return EXIT_INTERRUPTED
    return EXIT_OK if result.final_status is Status.COMPLETED else EXIT_ERRORS


class _TerminalHooks:
    """Progress on a terminal: a status line redrawn in place (elapsed time, latest line) on a
    TTY, plain lines otherwise; status edits written to disk atomically."""

    def __init__(self, out, shown: str) -> None:
        self.out = out
        self.shown = shown
        try:
            self.tty = bool(out.isatty())
        except (AttributeError, ValueError):
            self.tty = False
        self.latest = ""
        self._drawn = False

    async def read_text(self, run: Run) -> str | None:
        from taskdroid.run.hooks import read_task_file

        return await read_task_file(run)

    async def set_status(
        self,
        run: Run,
        status: Status,
        *,
        note: str | None = None,
        extra_fields: Sequence[tuple[str, str]] = (),
    ) -> bool:
        from taskdroid.core.writes import write_status

        return write_status(
            run.spec.task_path,
            run.spec.task_id,
            status,
            note=note,
            extra_fields=extra_fields,
            aliases=dict(run.spec.aliases),
        )

    async def kept(self, run: Run, status: Status | None) -> None:
        """The droid set the status itself: nothing to add (the outcome line says so)."""

    def progress(self, run: Run, kind: str, message: str) -> None:
        spec = run.spec
        if kind == "started":
            log_file = run.log_display()
            self.line(
                f"running droid {spec.droid} on {self.shown} {spec.task_id} “{spec.title}” "
                f"(pid {run.pid}){f'; log: {log_file}' if log_file else ''}"
            )
        elif kind == "queued":
            self.line(message)
        elif kind == "output":
            self.latest = message
            if self.tty:
                self._draw(run)
            else:
                self.line(f"[{_clock(run.elapsed)}] {message}")

    async def tick(self, run) -> None:
        import asyncio

        while True:
            await asyncio.sleep(0.5)
            if run.state in ("running", "stopping"):
                self._draw(run)

    def _draw(self, run) -> None:
        import shutil

        width = max(20, shutil.get_terminal_size((80, 24)).columns - 1)
        text = f"[{_clock(run.elapsed)}] {run.spec.droid} · {run.spec.task_id} · {self.latest}"
        if len(text) > width:
            text = text[: width - 1] + "…"
        self._write("\r\x1b[2K" + text)
        self._drawn = True

    def _clear(self) -> None:
        if self._drawn:
            self._write("\r\x1b[2K")
            self._drawn = False

    def _write(self, text: str) -> None:
        try:
            self.out.write(text)
            self.out.flush()
        except UnicodeEncodeError:
            enc = getattr(self.out, "encoding", None) or "ascii"
            self.out.write(text.encode(enc, "replace").decode(enc))
            self.out.flush()
        except (OSError, ValueError):
            pass

    def line(self, text: str) -> None:
        self._clear()
        self._write(text + "\n")

    def finished(self, run, result) -> None:
        self._clear()
        self.line(f"{self.shown}: {result.message}")
        log_file = run.log_display()
        if log_file:
            self.line(f"log: {log_file}")


class _QueueTerminalHooks(_TerminalHooks):
    """The terminal hooks of one run of ``taskdroid run --ready/--all``: plain lines (runs go in
    parallel, so no line is redrawn in place), each naming its task."""

    def __init__(self, out, shown: str) -> None:
        super().__init__(out, shown)
        self.tty = False

    def progress(self, run: Run, kind: str, message: str) -> None:
        if kind == "output":
            self.line(f"[{_clock(run.elapsed)}] {run.spec.task_id}: {message}")
        elif kind == "finished":
            self.line(f"{self.shown}: {message}")
        else:
            super().progress(run, kind, message)


def cmd_run_queue(args: argparse.Namespace) -> int:
    """``taskdroid run --ready|--all [PATH…]`` (docs/language.md §7, queued runs)."""
    import asyncio

    if args.force:
        raise UsageError("run: --force runs one task (FILE TASK_ID); it cannot be used with --ready or --all")
    root = resolve_root(args.root)
    ws, problems = build_workspace(root, args)
    paths = _task_targets(ws, args.targets, problems)
    return asyncio.run(_run_queue_in_terminal(args, root, ws, paths))


async def _run_queue_in_terminal(args: argparse.Namespace, root: Path, ws, paths) -> int:
    import asyncio
    import signal

    from taskdroid.run import RunError, RunManager
    from taskdroid.run.queue import QueueScope, TaskQueue

    out = sys.stdout
    stats: dict[str, tuple[int, int] | None] = {p: _stat(p) for p in ws.task_docs}

    async def refresh(changed: Sequence[str]):
        """Re-read the task files that changed on disk (a run's outcome, a droid's own edits)."""
        for p in list(ws.task_docs):
            st = _stat(p)
            if st != stats.get(p) or p in changed:
                stats[p] = st
                try:
                    ws.set_task_text(p, read_text(p))
                except ReadError as e:
                    print(f"taskdroid: {display_path(p)}: {e}", file=sys.stderr)
        return ws

    def text_of(path: str) -> str | None:
        try:
            return read_text(path)
        except ReadError:
            return None

    shown_lines: list[str] = []

    def on_update(q: TaskQueue) -> None:
        text = q.progress_text()
        if not shown_lines or shown_lines[-1] != text:
            shown_lines.append(text)
            hooks_line(f"== {text}")

    def hooks_line(text: str) -> None:
        _TerminalHooks(out, "").line(text)

    queue = TaskQueue(
        RunManager(),
        [QueueScope(str(root), paths, refresh, text_of)],
        follow=bool(args.all),
        droid=args.droid,
        make_hooks=lambda spec: _QueueTerminalHooks(out, display_path(spec.task_path)),
        on_update=on_update,
    )
    try:
        await queue.prepare()
    except RunError as e:
        raise UsageError(str(e)) from None
    if not queue.waiting:
        _say("no ready tasks with a droid" + ("" if args.droid else " (use --droid NAME to run the tasks that name none)"))
        return EXIT_OK
    loop = asyncio.get_running_loop()
    interrupted = False

    def on_signal() -> None:
        nonlocal interrupted
        if interrupted:
            hooks_line("stopping now (SIGKILL)")
            queue.kill()
            return
        interrupted = True
        hooks_line("interrupted: stopping every droid (press Ctrl-C again to kill them at once)")
        queue.cancel("interrupted")

    installed = []
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is None:
            continue
        try:
            loop.add_signal_handler(sig, on_signal)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):
            pass
    try:
        summary = await queue.run()
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
    hooks_line(f"summary: {summary.counts()}")
    for line in summary.lines(display_path):
        _say(f"  {line}")
    if interrupted or summary.cancelled:
        return EXIT_INTERRUPTED
    return EXIT_OK if summary.ok else EXIT_ERRORS


def _stat(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def _clock(seconds: float) -> str:
    s = int(seconds)
    return (
        f"{s // 60:02d}:{s % 60:02d}"
        if s < 3600
        else f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
    )
