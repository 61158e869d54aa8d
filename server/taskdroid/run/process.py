"""Process-wide handlers of the run package — the only state of it that is not per manager,
because what it reacts to (the interpreter exiting, SIGTERM/SIGHUP of this process) is
process-wide.

Nothing is installed at import:

* :func:`register` — called by a :class:`~taskdroid.run.manager.RunManager` when it starts its
  first run — adds the manager to the registry and installs, once per process, an ``atexit``
  handler that SIGKILLs the droids still running in any registered manager (their groups and the
  processes carrying their run IDs);
* :func:`kill_droids_on_termination` — called explicitly by the language server — installs
  SIGTERM and SIGHUP handlers that stop the runs of every registered manager and record them
  before the process dies of the signal.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import signal
import threading
import weakref
from collections.abc import Mapping
from types import FrameType
from typing import Protocol

from taskdroid.run.supervise import LiveGroups

__all__ = [
    "INTERRUPT_RECORD_SECONDS",
    "TERMINATION_BUDGET",
    "RegisteredManager",
    "kill_droids_on_termination",
    "register",
]

log = logging.getLogger("taskdroid.runner")

#: seconds a terminated taskdroid process takes to stop its runs and record them
TERMINATION_BUDGET = 2.0
#: seconds an interrupted run (its asyncio task cancelled) may take to record the cancel
INTERRUPT_RECORD_SECONDS = 1.5
_POSIX = os.name == "posix"


class RegisteredManager(Protocol):
    """What the handlers use of a :class:`~taskdroid.run.manager.RunManager` (a protocol so that
    this module, which the manager imports, need not import it)."""

    @property
    def groups(self) -> LiveGroups: ...

    @property
    def runs(self) -> Mapping[str, object]: ...

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None: ...

    async def stop_all(
        self,
        reason: str = ...,
        *,
        kill_after: float | None = ...,
        timeout: float | None = ...,
    ) -> None: ...


class _ProcessState:
    """PROCESS-WIDE: the managers of this process, and whether the handlers are installed."""

    def __init__(self) -> None:
        self.managers: weakref.WeakSet[RegisteredManager] = weakref.WeakSet()
        self.atexit_installed = False
        self.termination_reason = "taskdroid was terminated"
        self.terminating: int | None = None
        self.background: set[asyncio.Future] = set()


_STATE = _ProcessState()


def register(manager: RegisteredManager) -> None:
    """``manager`` starts runs: its droids are killed at interpreter exit, and stopped by the
    termination handlers (when installed)."""
    _STATE.managers.add(manager)
    if not _STATE.atexit_installed and _POSIX:
        atexit.register(kill_all_droids)
        _STATE.atexit_installed = True


def kill_all_droids() -> None:
    """SIGKILL the droids of every registered manager (no waiting, nothing recorded)."""
    for manager in list(_STATE.managers):
        manager.groups.kill_all()


def kill_droids_on_termination(reason: str | None = None) -> None:
    """On SIGTERM and SIGHUP of this process, stop its runs as ``shutdown`` does — the droids
    stopped, each task back to its previous status with ``**Status**: Run cancelled … (reason)``
    — within :data:`TERMINATION_BUDGET` seconds, then die of the signal; a second signal, or the
    budget running out, kills the droids at once. Only where no other handler is installed, and
    only from the main thread (elsewhere this does nothing)."""
    if reason:
        _STATE.termination_reason = reason
    if not _POSIX:
        return
    for sig in (signal.SIGTERM, signal.SIGHUP):
        try:
            if signal.getsignal(sig) is signal.SIG_DFL:
                signal.signal(sig, _on_termination)
        except ValueError:  # not the main thread
            return


def _on_termination(signum: int, frame: FrameType | None) -> None:
    if _STATE.terminating is not None:
        _die(signum)
    _STATE.terminating = signum
    live = [
        m for m in list(_STATE.managers) if m.runs and m.loop is not None and m.loop.is_running()
    ]
    if not live:
        _die(signum)
    timer = threading.Timer(
        TERMINATION_BUDGET + INTERRUPT_RECORD_SECONDS + 1.0, _die_from_thread, (signum,)
    )
    timer.daemon = True
    timer.start()
    reason = f"{_STATE.termination_reason} ({signal.Signals(signum).name})"
    for manager in live:
        loop = manager.loop
        assert loop is not None

        def stop(manager: RegisteredManager = manager) -> None:
            task = asyncio.ensure_future(_stop_then_die(manager, reason, signum))
            _STATE.background.add(task)
            task.add_done_callback(_STATE.background.discard)

        loop.call_soon_threadsafe(stop)


async def _stop_then_die(manager: RegisteredManager, reason: str, signum: int) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TERMINATION_BUDGET + INTERRUPT_RECORD_SECONDS
    try:
        await manager.stop_all(
            reason, kill_after=TERMINATION_BUDGET / 3, timeout=TERMINATION_BUDGET * 0.8
        )
    except BaseException:  # dying anyway
        log.exception("stopping the runs failed")
    # runs cut short by stop_all's timeout still try to record the cancel, briefly
    while any(m.runs for m in list(_STATE.managers)) and loop.time() < deadline:
        await asyncio.sleep(0.02)
    _die(signum)


def _die(signum: int) -> None:
    kill_all_droids()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _die_from_thread(signum: int) -> None:
    kill_all_droids()
    os._exit(128 + signum)
