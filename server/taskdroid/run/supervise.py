"""The droid's processes: starting them, signals, stopping, and the bookkeeping that makes sure
nothing of a run outlives it.

A droid runs in a process group of its own (a new session), and everything it starts inherits
its environment, which carries :data:`RUN_ID_ENV`. Stopping a run signals the group, and then
every process of this user whose environment carries the run's ID (read from
``/proc/<pid>/environ`` on Linux): that reaches what left the group (``setsid``, a double fork)
too. Each run manager keeps the groups of its live droids (:class:`LiveGroups`, killed when the
interpreter exits) and a guardian process (:class:`GuardianProcess`, the program is
:mod:`taskdroid.run.guardian`) that kills them when the taskdroid process dies in any way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from taskdroid.run.guardian import RUN_ID_ENV
from taskdroid.run.lock import pid_alive
from taskdroid.run.logfile import LogWriter
from taskdroid.run.runspec import RunSpec

__all__ = ["RUN_ID_ENV", "GuardianProcess", "LiveGroups", "Supervisor", "start_process"]

log = logging.getLogger("taskdroid.runner")

POSIX = os.name == "posix"
SIGKILL: int = getattr(signal, "SIGKILL", signal.SIGTERM)
#: /proc is there (Linux): process groups can be listed and escaped processes found
PROCFS = POSIX and os.path.isdir("/proc/self")
#: the guardian's program (run by path: it must not depend on how taskdroid is installed)
GUARDIAN_PROGRAM = Path(__file__).with_name("guardian.py")
_SAFE_RUN_ID = re.compile(r"[A-Za-z0-9._-]{1,100}")


# -- processes -------------------------------------------------------------------------------------


def proc_pids() -> list[int]:
    try:
        return [int(n) for n in os.listdir("/proc") if n.isdigit()]
    except OSError:
        return []


def proc_state(pid: int) -> tuple[str, int] | None:
    """(state letter, process group) of a process, from ``/proc/<pid>/stat``; None when gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    fields = data.rpartition(b")")[2].split()  # the command name may hold spaces and parentheses
    try:
        return fields[0].decode("ascii", "replace"), int(fields[2])
    except (IndexError, ValueError):
        return None


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    if PROCFS:
        state = proc_state(pid)
        return state is not None and state[0] not in ("Z", "X")
    return pid_alive(pid)


def group_alive(pgid: int) -> bool:
    """Whether process group ``pgid`` still has a member that is not a zombie (a zombie stays
    around where the init process does not reap orphans, as in some containers)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    if not PROCFS:
        return True
    for pid in proc_pids():
        state = proc_state(pid)
        if state is not None and state[1] == pgid and state[0] not in ("Z", "X"):
            return True
    return False


def marked_pids(run_ids: Sequence[str]) -> list[int]:
    """Live processes of this user whose environment carries one of ``run_ids`` (Linux; elsewhere
    none are found). This process is never one of them."""
    if not PROCFS or not run_ids:
        return []
    needles = [f"\0{RUN_ID_ENV}={r}\0".encode() for r in run_ids]
    me, uid = os.getpid(), os.getuid()
    found = []
    for pid in proc_pids():
        if pid == me:
            continue
        try:
            if os.stat(f"/proc/{pid}").st_uid != uid:
                continue
            with open(f"/proc/{pid}/environ", "rb") as fh:
                env = b"\0" + fh.read() + b"\0"  # a zombie's is empty
        except OSError:
            continue
        if any(n in env for n in needles):
            found.append(pid)
    return found


def signal_pids(pids: Sequence[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, sig)


def kill_marked(run_ids: Sequence[str], rounds: int = 4) -> None:
    """SIGKILL every process carrying one of ``run_ids``, again until none is left (a process
    may fork between the scan and the signal)."""
    for _ in range(rounds):
        pids = marked_pids(run_ids)
        if not pids:
            return
        signal_pids(pids, SIGKILL)


async def exit_of(proc: asyncio.subprocess.Process) -> int:
    """The droid's exit status as soon as it exits. (``Process.wait()`` also waits for its pipes
    to close, which a child the droid left running can hold open for ever.)"""
    waiter = asyncio.ensure_future(proc.wait())
    try:
        while proc.returncode is None and not waiter.done():
            await asyncio.wait({waiter}, timeout=0.05)
        return proc.returncode if proc.returncode is not None else waiter.result()
    finally:
        waiter.cancel()


async def start_process(argv: Sequence[str], **options: Any) -> asyncio.subprocess.Process:
    """The one place where taskdroid starts a process (the droid, and the guardian): an argv
    list, never a shell."""
    return await asyncio.create_subprocess_exec(*argv, **options)


# -- per-manager bookkeeping -----------------------------------------------------------------------


class LiveGroups:
    """The process groups of a manager's droids still running → their run ID (killed, with the
    processes carrying their run IDs, when the interpreter exits or the process is terminated)."""

    def __init__(self) -> None:
        self._groups: dict[int, str] = {}

    def add(self, pgid: int, run_id: str) -> None:
        self._groups[pgid] = run_id

    def pop(self, pgid: int) -> str | None:
        return self._groups.pop(pgid, None)

    def __len__(self) -> int:
        return len(self._groups)

    def kill_all(self) -> None:
        groups = dict(self._groups)
        self._groups.clear()
        for pgid in groups:
            with contextlib.suppress(OSError):
                os.killpg(pgid, SIGKILL)
        kill_marked(list(groups.values()))


class GuardianProcess:
    """The guardian process of a run manager (:mod:`taskdroid.run.guardian`), running while it
    has runs (POSIX, with a Python interpreter as ``sys.executable``)."""

    def __init__(self) -> None:
        self._proc: asyncio.subprocess.Process | None = None
        self._retired: asyncio.subprocess.Process | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._start_lock: asyncio.Lock | None = None
        self._live: dict[str, int] = {}
        self._disabled = not POSIX or getattr(sys, "frozen", False) or not sys.executable
        self._disabled = self._disabled or not GUARDIAN_PROGRAM.is_file()

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.returncode is None else None

    @staticmethod
    def argv() -> list[str]:
        """``-I``: no current directory, ``PYTHONPATH`` or user site on ``sys.path``; ``-S``: no
        ``site``; the program by its path (it needs only the standard library)."""
        return [sys.executable, "-I", "-S", str(GUARDIAN_PROGRAM)]

    async def ensure(self) -> None:
        """A guardian running (started when there is none) on this event loop."""
        if self._disabled:
            return
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._start_lock is None:
            self._proc = self._retired = None  # a loop that is gone: its guardian ends with us
            self._loop, self._start_lock = loop, asyncio.Lock()
        async with self._start_lock:
            proc = self._proc
            if proc is not None and proc.returncode is None:
                return
            try:
                proc = await start_process(
                    self.argv(),
                    cwd="/",  # outside the workspace
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.DEVNULL,
                    start_new_session=True,  # not reached by the terminal's Ctrl-C
                )
            except (OSError, ValueError) as e:
                log.warning("no run guardian (%s): droids may outlive a killed taskdroid", e)
                self._disabled = True
                return
            self._proc = proc
            self._write("".join(f"+ {r} {g}\n" for r, g in self._live.items()))

    def track(self, run_id: str, pgid: int) -> None:
        if _SAFE_RUN_ID.fullmatch(run_id):
            self._live[run_id] = pgid
            self._write(f"+ {run_id} {pgid}\n")

    def untrack(self, run_id: str) -> None:
        """The run's processes are gone. With no run left, the guardian ends (its input closed,
        nothing listed): no helper process stays around between runs."""
        if self._live.pop(run_id, None) is None:
            return
        self._write(f"- {run_id}\n")
        if not self._live and self._proc is not None:
            self._retired, self._proc = self._proc, None
            if self._retired.stdin is not None:
                with contextlib.suppress(Exception):
                    self._retired.stdin.close()

    async def settle(self) -> None:
        """Wait (briefly) for a guardian that was told to end, so that it is reaped."""
        proc, self._retired = self._retired, None
        if proc is not None and self._loop is asyncio.get_running_loop():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(proc.wait(), 2.0)

    def _write(self, text: str) -> None:
        proc = self._proc
        if not text or proc is None or proc.returncode is not None or proc.stdin is None:
            return
        try:
            proc.stdin.write(text.encode())
        except Exception as e:  # gone: tracking is best effort
            log.debug("run guardian: %s", e)


# -- one run's processes ---------------------------------------------------------------------------


class Supervisor:
    """The processes of one run: starts the droid, waits for its exit, a cancel or the timeout,
    and stops it — SIGTERM to the group and what left it, SIGKILL after the grace period — and
    whatever it left running after it exited."""

    def __init__(
        self,
        run_id: str,
        *,
        grace: float,
        groups: LiveGroups,
        guardian: GuardianProcess,
        log: LogWriter,
    ) -> None:
        self.run_id = run_id
        self.grace = grace
        self.groups = groups
        self.guardian = guardian
        self.log = log
        self.pid: int | None = None
        #: stop without waiting for the grace period
        self.kill_now = asyncio.Event()

    async def start(
        self, spec: RunSpec, *, argv: Sequence[str] | None = None, combined: bool = False
    ) -> asyncio.subprocess.Process:
        """Start the droid (or ``argv``: the run's Verify command) in the workspace, in a session
        of its own, its environment marked with the run ID; ``combined``: stderr into stdout.
        Raises ``OSError``/``ValueError`` (nothing is left tracked then)."""
        await self.guardian.ensure()
        self.guardian.track(self.run_id, 0)
        env = dict(spec.env if spec.env is not None else os.environ)
        env.update(
            {
                RUN_ID_ENV: spec.run_id,
                "TASKDROID_TASK_ID": spec.task_id,
                "TASKDROID_TASK_FILE": spec.task_file,
                "TASKDROID_WORKSPACE": spec.workspace,
                "TASKDROID_DROID": spec.droid,
            }
        )
        try:
            proc = await start_process(
                spec.argv if argv is None else argv,
                cwd=spec.workspace,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT if combined else asyncio.subprocess.PIPE,
                env=env,
                start_new_session=POSIX,
            )
        except BaseException:
            self.guardian.untrack(self.run_id)
            raise
        self.pid = proc.pid
        if POSIX:
            self.groups.add(proc.pid, self.run_id)
            self.guardian.track(self.run_id, proc.pid)
        return proc

    async def wait(
        self, proc: asyncio.subprocess.Process, cancel: asyncio.Event, timeout: float
    ) -> Literal["exited", "cancelled", "timeout"]:
        """``exited``, ``cancelled`` or ``timeout``."""
        waiter = asyncio.ensure_future(exit_of(proc))
        cancelled = asyncio.ensure_future(cancel.wait())
        try:
            done, _ = await asyncio.wait(
                {waiter, cancelled}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            cancelled.cancel()
            waiter.cancel()
        if waiter in done:
            return "exited"
        return "cancelled" if cancelled in done else "timeout"

    def release(self, proc: asyncio.subprocess.Process) -> None:
        """The run is over: kill what is left if the droid still runs (the run was interrupted),
        and forget its group."""
        if proc.returncode is None:
            self.hard_kill()
        self.groups.pop(proc.pid)
        self.guardian.untrack(self.run_id)

    def signal(self, proc: asyncio.subprocess.Process, sig: int) -> bool:
        """Send ``sig`` to the droid's process group; False when nothing is left of it."""
        if POSIX:
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                return False
            except PermissionError:
                return True
            return True
        if proc.returncode is not None:  # pragma: no cover - Windows
            return False
        try:  # pragma: no cover - Windows
            proc.kill() if sig == getattr(signal, "SIGKILL", None) else proc.terminate()
        except ProcessLookupError:  # pragma: no cover
            return False
        return True  # pragma: no cover

    async def stop(self, proc: asyncio.subprocess.Process) -> None:
        """SIGTERM the group and what left it; SIGKILL the droid after the grace period (or at
        once after :attr:`kill_now`); then SIGKILL whatever of the run ignored SIGTERM."""
        deadline = time.monotonic() + self.grace
        self.signal(proc, signal.SIGTERM)
        signal_pids(marked_pids([self.run_id]), signal.SIGTERM)
        waiter = asyncio.ensure_future(exit_of(proc))
        kill_now = asyncio.ensure_future(self.kill_now.wait())
        try:
            done, _ = await asyncio.wait(
                {waiter, kill_now}, timeout=self.grace, return_when=asyncio.FIRST_COMPLETED
            )
            if waiter not in done:
                self.log.footer("# the droid did not stop on SIGTERM: SIGKILL\n")
                self.signal(proc, SIGKILL)
                await asyncio.wait({waiter}, timeout=10.0)  # stuck in the kernel: go on
        finally:
            kill_now.cancel()
            waiter.cancel()
        if POSIX:
            self.signal(proc, SIGKILL)
            await self.sweep_escaped(deadline)

    async def sweep_group(self, proc: asyncio.subprocess.Process) -> None:
        """After the droid exited: stop what it left running, in its process group or escaped
        from it — SIGTERM, then SIGKILL after the grace period."""
        if not POSIX:
            return
        group = group_alive(proc.pid)
        escaped = marked_pids([self.run_id])
        if not group and not escaped:
            return
        self.log.footer("# the droid exited but left processes running: SIGTERM, then SIGKILL\n")
        if group:
            self.signal(proc, signal.SIGTERM)
        signal_pids(escaped, signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        while time.monotonic() < deadline and not self.kill_now.is_set():
            await asyncio.sleep(0.05)
            if not group_alive(proc.pid) and not any(alive(p) for p in escaped):
                break
        self.signal(proc, SIGKILL)
        await self.sweep_escaped(time.monotonic())

    async def sweep_escaped(self, deadline: float) -> None:
        """The processes of the run outside its (now killed) process group — a daemon that
        called ``setsid`` — already sent SIGTERM: SIGKILL those still alive at ``deadline``."""
        pids = marked_pids([self.run_id])
        if not pids:
            return
        self.log.footer(f"# stopping {len(pids)} process(es) the droid left outside its group\n")
        while time.monotonic() < deadline and not self.kill_now.is_set():
            await asyncio.sleep(0.05)
            pids = [p for p in pids if alive(p)]
            if not pids:
                break
        kill_marked([self.run_id])

    def hard_kill(self) -> None:
        """SIGKILL everything of the run now (no waiting)."""
        pid = self.pid
        if pid is not None and POSIX:
            if self.groups.pop(pid) is not None:
                with contextlib.suppress(OSError):
                    os.killpg(pid, SIGKILL)
            kill_marked([self.run_id])
        self.guardian.untrack(self.run_id)
