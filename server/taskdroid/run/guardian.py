"""taskdroid run guardian: kills the droids of a taskdroid process that died.

A separate Python process, one per run manager while it has runs, started by
:class:`taskdroid.run.supervise.GuardianProcess` as ``python -I -S <this file>`` with ``/`` as
its current directory: nothing of the workspace (or ``PYTHONPATH``, or ``site``) can be imported
into it, and it needs only the standard library — this module must import nothing else.

It reads lines from its standard input: ``+ RUN_ID PGID`` (a run started, its droid leads
process group ``PGID``) and ``- RUN_ID`` (the run's processes are gone). At the end of its input —
taskdroid closed the pipe, or died in any way, SIGKILL included — it SIGKILLs the process groups
still listed and every process whose environment carries one of their run IDs
(``TASKDROID_RUN_ID``, read from ``/proc/<pid>/environ``: that reaches processes that left the
group). It ignores SIGINT (the terminal's Ctrl-C), SIGHUP and SIGPIPE.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterable

#: the environment variable that marks every process of a run
RUN_ID_ENV = "TASKDROID_RUN_ID"


def read_live(lines: Iterable[bytes]) -> dict[bytes, int]:
    """The runs still listed when the input ends: run ID → process group."""
    live: dict[bytes, int] = {}
    for line in lines:
        parts = line.split()
        if len(parts) == 3 and parts[0] == b"+" and parts[2].isdigit():
            live[parts[1]] = int(parts[2])
        elif len(parts) == 2 and parts[0] == b"-":
            live.pop(parts[1], None)
    return live


def marked(needles: list[bytes], me: int) -> list[int] | None:
    """Processes whose environment holds one of ``needles`` (None when ``/proc`` is unreadable)."""
    try:
        names = [n for n in os.listdir("/proc") if n.isdigit() and int(n) != me]
    except OSError:
        return None
    found = []
    for n in names:
        try:
            with open(f"/proc/{n}/environ", "rb") as fh:
                env = b"\0" + fh.read() + b"\0"
        except OSError:
            continue
        if any(x in env for x in needles):
            found.append(int(n))
    return found


def kill_runs(live: dict[bytes, int]) -> None:
    for pgid in live.values():
        if pgid > 1:
            with contextlib.suppress(OSError):
                os.killpg(pgid, signal.SIGKILL)
    needles = [b"\0%s=%s\0" % (RUN_ID_ENV.encode(), r) for r in live]
    me = os.getpid()
    for _ in range(4 if needles else 0):  # again: a process may fork between scan and signal
        found = marked(needles, me)
        if not found:
            break
        for pid in found:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def main() -> None:
    for s in (signal.SIGINT, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(s, signal.SIG_IGN)
    kill_runs(read_live(sys.stdin.buffer))


if __name__ == "__main__":
    main()
