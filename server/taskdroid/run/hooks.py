"""How a run reads its task file, writes status edits and shows progress: :class:`RunHooks`,
a protocol. The CLI's terminal hooks write to disk atomically; the server's hooks edit open
documents through the client. Both satisfy it structurally (neither inherits from it); a class
may also inherit from it to get the defaults below."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from taskdroid.core.files import ReadError, read_text
from taskdroid.core.model import Status
from taskdroid.run.runspec import RunSpec

__all__ = ["HookedRun", "RunHooks", "read_task_file"]


class HookedRun(Protocol):
    """What every run handed to the hooks has: a :class:`taskdroid.run.job.Run` (a protocol so
    that this module, which the run imports, need not import it)."""

    @property
    def spec(self) -> RunSpec: ...


#: the run the hooks are given — :class:`taskdroid.run.job.Run` (``RunHooks[Run]``)
R = TypeVar("R", bound=HookedRun, contravariant=True)


async def read_task_file(run: HookedRun) -> str | None:
    """The task file's text on disk (None when it cannot be read)."""
    try:
        return read_text(run.spec.task_path)
    except ReadError:
        return None


class RunHooks(Protocol[R]):
    """``progress`` gets ``kind`` ``queued`` (waiting for a slot), ``started`` (the droid runs),
    ``output`` (the latest meaningful line) and ``finished`` (the outcome message)."""

    async def read_text(self, run: R) -> str | None:
        """The task file's current text (None when it cannot be read)."""
        return await read_task_file(run)

    async def set_status(
        self,
        run: R,
        status: Status,
        *,
        note: str | None = None,
        extra_fields: Sequence[tuple[str, str]] = (),
    ) -> bool:
        """Apply the status edit of docs/language.md §5 to the task; True when it was applied."""
        raise NotImplementedError

    def progress(self, run: R, kind: str, message: str) -> None:
        """Show how the run goes."""

    async def kept(self, run: R, status: Status | None) -> None:
        """The droid set the task's status itself (``status``) and the run leaves it so."""
