"""Replacing a file that others may be writing at the same time, without losing their change.

Used by every place taskdroid rewrites a task file: ``taskdroid status`` (and the runner's status
updates through :func:`taskdroid.core.writes.write_status`) and the language server's disk path for clients
without ``workspace/applyEdit`` (``lsp/editing.py``). The protocol (docs/language.md §5, "written
atomically"; issue #7, "never drop either change"):

1. :func:`read_snapshot` reads the file and remembers what it read: device, inode, size,
   modification and change times, and a SHA-256 of the bytes (taken between two ``fstat`` s
   that agree, so the snapshot is of one version);
2. the caller computes the new bytes from them;
3. :func:`replace_if_unchanged` writes the new bytes to a temporary file in the same folder
   (flushed and synced), then takes an advisory lock (``flock``) on the file — the lock every
   taskdroid process takes, so the CLI, the server and runs never interleave — checks that the
   file is still the snapshot (same inode, size, times *and* content), or the snapshot with bytes
   appended (those are appended to the new file too), and swaps the temporary file in. Any other
   change is a :class:`WriteConflict`: nothing written.

The swap is ``renameat2(RENAME_EXCHANGE)`` where the system has it (Linux ≥ 3.15 on ext4, btrfs,
xfs, tmpfs …), else ``os.replace``. After the swap taskdroid waits a moment
(:data:`SETTLE_SECONDS`, for a writer that opened the old file just before the swap) and looks
at what it displaced, through the descriptor it still holds:

* the old file, unchanged: done;
* the old file with bytes **appended** after the check (``echo … >> tasks.md`` by a droid, a log
  line): the appended bytes go into the new file too — both changes are kept, and in their
  order: the late bytes of the old file come before whatever was appended to the new file since
  (an appender that opens the file per line wrote them first), which takes another swap when the
  new file has grown (:func:`_carry_over_in_order`);
* the old file **rewritten** after the check, or (with ``RENAME_EXCHANGE``) another file that a
  program renamed over the path after the check: the swap is undone — their version is put back
  and ours dropped — and :class:`WriteConflict` is raised, so the caller re-reads and tries again
  or refuses. Appends made to our version in that moment are carried over to theirs.

Nothing is ever deleted that was not checked to be ours or the unchanged snapshot; in the (two
writers within microseconds) case where neither version can be put in place without losing the
other, the displaced version is kept next to the file as ``<name>.taskdroid-conflict-…`` and the
:class:`WriteConflict` names it.

What stays out of reach of any rename-based atomic write: a program that keeps the old file
open for longer than :data:`SETTLE_SECONDS` and writes to it after taskdroid looked (its bytes
go to a file that no longer has a name — as with any editor's atomic save), and, without
``RENAME_EXCHANGE`` (macOS, Windows, some network file systems), a program that renames its own
new version over the path in the microseconds between the check and ``os.replace``. The lock is
advisory: it orders taskdroid processes, not other programs.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import os
import stat
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

from taskdroid.core.files import MAX_FILE_BYTES, ReadError

try:  # advisory locks (POSIX)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "LOCK_TIMEOUT",
    "SETTLE_SECONDS",
    "ReadOnlyFile",
    "Snapshot",
    "WriteConflict",
    "read_snapshot",
    "replace_if_unchanged",
    "write_temp",
]

#: how long to wait after the swap for a writer that opened the old file just before it
SETTLE_SECONDS = 0.05
#: how long to wait for another taskdroid process's lock on the file
LOCK_TIMEOUT = 10.0

#: a test seam: called with (stage, path) at "checked" (the file is still the snapshot, the swap
#: comes next) and "swapped" (the new file is in place, the old one not yet looked at)
race_hook: Callable[[str, str], None] | None = None

CHANGED = "it changed on disk while taskdroid was editing it"


class WriteConflict(Exception):
    """The file changed on disk between reading it and replacing it (nothing of ours written,
    nothing of theirs lost)."""


class ReadOnlyFile(PermissionError):
    """The file's permissions do not allow writing it. A rename-based write would replace it
    all the same (it needs only the folder's write permission), so taskdroid checks first and
    refuses: a read-only task file stays as it is unless the user forces the write."""

    def __init__(self, path: str) -> None:
        super().__init__(errno.EACCES, "the file is read-only", path)

    def __str__(self) -> str:
        return "the file is read-only (its permissions do not allow writing)"


def check_writable(path: str) -> None:
    """Raise :class:`ReadOnlyFile` when ``path`` may not be written: no write permission for
    this user, or (for root, whom ``access`` always allows) no write bit set at all."""
    st = os.stat(path)
    if not st.st_mode & 0o222 or not os.access(path, os.W_OK):
        raise ReadOnlyFile(path)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What was read: the file's identity and times, and a digest of its bytes."""

    dev: int
    ino: int
    size: int
    mtime_ns: int
    ctime_ns: int
    digest: bytes

    def same_stat(self, st: os.stat_result) -> bool:
        return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns) == (
            self.dev,
            self.ino,
            self.size,
            self.mtime_ns,
            self.ctime_ns,
        )


def _stat_key(st: os.stat_result) -> tuple[int, int, int, int, int]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _digest(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _read_fd(fd: int, limit: int, start: int = 0) -> bytes:
    """All bytes of the file behind ``fd`` from offset ``start`` (at most ``limit + 1``)."""
    chunks: list[bytes] = []
    offset = start
    while offset <= limit:
        if hasattr(os, "pread"):
            chunk = os.pread(fd, 1 << 20, offset)
        else:  # pragma: no cover - Windows
            os.lseek(fd, offset, os.SEEK_SET)
            chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def _open_read(path: str) -> int:
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    return os.open(path, flags | getattr(os, "O_BINARY", 0))


def read_snapshot(path: str, limit: int | None = None) -> tuple[bytes, Snapshot]:
    """The bytes of the regular file ``path`` and a :class:`Snapshot` of them. Raises
    :class:`~taskdroid.core.files.ReadError` (not a regular file, too large, unreadable)."""
    limit = MAX_FILE_BYTES if limit is None else limit
    try:
        fd = _open_read(path)
    except OSError as e:
        raise ReadError(f"cannot read: {e.strerror or e}") from None
    try:
        for _ in range(5):
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise ReadError("not a regular file (a folder, device, pipe or socket)")
            if st.st_size > limit:
                raise ReadError(f"file is too large to edit ({st.st_size // (1024 * 1024)} MB)")
            data = _read_fd(fd, limit)
            if len(data) > limit:
                raise ReadError(f"file is too large to edit (over {limit // (1024 * 1024)} MB)")
            after = os.fstat(fd)
            if _stat_key(after) == _stat_key(st) and after.st_size == len(data):
                break  # one consistent version (else it is being written: read again)
        # a file that kept changing gets the last reading; the check before the swap refuses it
        return data, Snapshot(*_stat_key(after), _digest(data))
    except OSError as e:
        raise ReadError(f"cannot read: {e.strerror or e}") from None
    finally:
        os.close(fd)


def write_temp(folder: str, name: str, data: bytes, mode: int, owner: tuple[int, int]) -> str:
    """Write ``data`` to a new temporary file next to the target (synced to disk, the target's
    mode, and its owner when allowed); return its path."""
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".taskdroid-tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        if hasattr(os, "chown"):
            with contextlib.suppress(OSError):  # not allowed to give it away: it stays ours
                os.chown(tmp, *owner)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


# -- locking ---------------------------------------------------------------------------------------


def _flock(fd: int, deadline: float) -> None:
    if fcntl is None:  # pragma: no cover - no advisory locks here
        return
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise WriteConflict("another taskdroid process is writing it") from None
            time.sleep(0.005)
        except OSError as e:  # a file system without flock: go on unlocked
            if e.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):
                return
            raise


def _lock_current(path: str) -> int:
    """A descriptor of the file now at ``path``, locked (taskdroid's writers all take this lock;
    a file replaced while we waited is opened again)."""
    deadline = time.monotonic() + LOCK_TIMEOUT
    while True:
        try:
            fd = _open_read(path)
        except FileNotFoundError:
            raise WriteConflict("it was deleted or moved while taskdroid was editing it") from None
        try:
            _flock(fd, deadline)
            held = os.fstat(fd)
            now = os.stat(path)
        except BaseException:
            os.close(fd)
            raise
        if (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino):
            return fd
        os.close(fd)  # replaced while we waited for the lock: lock the new one


# -- swapping --------------------------------------------------------------------------------------

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_renameat2: Callable[..., int] | bool | None = None  # None: not looked up yet; False: none


def _lookup_renameat2():
    global _renameat2
    if _renameat2 is None:
        _renameat2 = False
        if os.name == "posix" and os.uname().sysname == "Linux":
            try:
                libc = ctypes.CDLL(None, use_errno=True)
                fn = libc.renameat2
                fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
                fn.argtypes += [ctypes.c_uint]
                fn.restype = ctypes.c_int
                _renameat2 = fn
            except (OSError, AttributeError):  # an old C library, or not glibc/musl
                _renameat2 = False
    return _renameat2 or None


def _exchange(a: str, b: str) -> bool:
    """Atomically swap the files at ``a`` and ``b``; False when the system cannot."""
    fn = _lookup_renameat2()
    if fn is None:
        return False
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False  # this file system cannot exchange: os.replace then
    raise OSError(err, os.strerror(err), b)


def _hook(stage: str, path: str) -> None:
    if race_hook is not None:
        race_hook(stage, path)


def _append(path: str, data: bytes, *, sync: bool = True) -> None:
    """Append ``data`` to the file at ``path`` (one ``write`` with ``O_APPEND``). ``sync=False``
    leaves the flush to the caller (who syncs after the swap that must follow at once: a line
    appended to the file being replaced in between would land in the displaced file)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | getattr(os, "O_BINARY", 0))
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)


def _appended(now: bytes, before: Snapshot) -> bytes | None:
    """The bytes appended to the snapshot's content, or None when ``now`` is not an append."""
    if len(now) >= before.size and _digest(now[: before.size]) == before.digest:
        return now[before.size :]
    return None


def _keep(tmp: str, folder: str, name: str) -> str:
    """Keep the file at ``tmp`` as a visible conflict copy next to the target."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    copy = os.path.join(folder, f"{name}.taskdroid-conflict-{stamp}-{os.getpid()}")
    os.rename(tmp, copy)
    return copy


def replace_if_unchanged(
    path: str,
    data: bytes,
    before: Snapshot,
    *,
    write_temp: Callable[[str, str, bytes, int, tuple[int, int]], str] = write_temp,
    force: bool = False,
) -> None:
    """Replace the file ``path`` (a real path, not a link) with ``data`` when it still is
    ``before``; see the module docstring. Raises :class:`WriteConflict` (nothing of ours
    written), :class:`ReadOnlyFile` (the file's permissions forbid writing; ``force`` writes it
    anyway, keeping its mode) or ``OSError``."""
    folder, name = os.path.split(path)
    folder = folder or "."
    if not force:
        check_writable(path)
    st = os.stat(path)
    tmp = write_temp(folder, name, data, stat.S_IMODE(st.st_mode), (st.st_uid, st.st_gid))
    fd_new = fd_old = -1
    try:
        fd_new = _open_read(tmp)
        _flock(fd_new, time.monotonic() + LOCK_TIMEOUT)  # nobody else knows it: at once
        fd_old = _lock_current(path)
        limit = max(MAX_FILE_BYTES, before.size) * 2
        before, tail = _check(fd_old, before, limit)
        if tail:  # appended since it was read: keep those bytes after ours (synced below)
            _append(tmp, tail, sync=False)
            data += tail
        _hook("checked", path)
        exchanged = _exchange(tmp, path)
        if not exchanged:
            os.replace(tmp, path)
        if tail:
            os.fsync(fd_new)
        _hook("swapped", path)
        if SETTLE_SECONDS:
            time.sleep(SETTLE_SECONDS)
        _after_swap(path, tmp, folder, name, data, before, fd_old, fd_new, exchanged, limit)
    except BaseException:
        with contextlib.suppress(OSError):
            if os.path.lexists(tmp) and fd_new >= 0 and _same_inode(tmp, fd_new):
                os.unlink(tmp)  # our temporary file, never swapped in
        raise
    finally:
        for fd in (fd_old, fd_new):  # closing releases the locks
            if fd >= 0:
                os.close(fd)


def _check(fd: int, before: Snapshot, limit: int) -> tuple[Snapshot, bytes]:
    """The file behind ``fd`` is still ``before``, or ``before`` with bytes appended: the
    snapshot of what it is now, and the appended bytes. Raises :class:`WriteConflict`."""
    for _ in range(5):
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) != (before.dev, before.ino):
            raise WriteConflict(CHANGED)
        if before.same_stat(st):
            now = _read_fd(fd, limit)
            if _digest(now) != before.digest:
                raise WriteConflict(CHANGED)  # rewritten, same size and times (a coarse clock)
            return before, b""
        now = _read_fd(fd, limit)
        if _stat_key(os.fstat(fd)) != _stat_key(st):
            continue  # being written right now: look again
        tail = _appended(now, before)
        if tail is None:
            raise WriteConflict(CHANGED)
        return Snapshot(*_stat_key(st), _digest(now)), tail
    raise WriteConflict(CHANGED)


def _same_inode(path: str, fd: int) -> bool:
    a, b = os.lstat(path), os.fstat(fd)
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _after_swap(
    path: str,
    tmp: str,
    folder: str,
    name: str,
    data: bytes,
    before: Snapshot,
    fd_old: int,
    fd_new: int,
    exchanged: bool,
    limit: int,
) -> None:
    """Look at what the swap displaced; keep every change (module docstring)."""
    if exchanged and not _same_inode(tmp, fd_old):
        # another program renamed its own version over the path between the check and the
        # swap: put it back, carry over what was appended to ours meanwhile, drop ours
        _swap_back(path, tmp, folder, name, data, fd_new, limit)
    old = _read_fd(fd_old, limit)
    if _digest(old) == before.digest and len(old) == before.size:
        extra: bytes | None = b""
    else:
        extra = _appended(old, before)
    if extra is not None:  # unchanged, or appended after the check: carry it over, in order
        if exchanged:
            os.unlink(tmp)
        _carry_over_in_order(path, folder, name, data, fd_new, fd_old, before, old, limit)
        return
    # rewritten after the check: their version wins, ours is dropped
    if exchanged:
        _swap_back(path, tmp, folder, name, data, fd_new, limit)
    # without exchange their file has no name any more: write its bytes back
    ours = _read_fd(fd_new, limit)
    if ours != data and not ours.startswith(data):
        copy = write_temp(folder, name, old, stat.S_IMODE(os.fstat(fd_old).st_mode), (-1, -1))
        raise WriteConflict(f"{CHANGED}; the other version is kept as {_keep(copy, folder, name)}")
    back = write_temp(
        folder, name, old + ours[len(data) :], stat.S_IMODE(os.fstat(fd_old).st_mode), (-1, -1)
    )
    os.replace(back, path)
    raise WriteConflict(CHANGED)


def _swap_back(
    path: str, tmp: str, folder: str, name: str, data: bytes, fd_new: int, limit: int
) -> None:
    """Undo the exchange — the other version back at the path, ours at ``tmp`` — and drop ours
    (bytes appended to it while it was in place are appended to theirs). Always raises
    :class:`WriteConflict`."""
    _exchange(tmp, path)
    if not _same_inode(tmp, fd_new):  # yet another file came in between: keep it, say where
        raise WriteConflict(f"{CHANGED}; a version is kept as {_keep(tmp, folder, name)}")
    ours = _read_fd(fd_new, limit)
    if ours != data:
        if not ours.startswith(data):  # ours was rewritten in place too: keep it, say where
            raise WriteConflict(f"{CHANGED}; a version is kept as {_keep(tmp, folder, name)}")
        _append(path, ours[len(data) :])
    os.unlink(tmp)
    raise WriteConflict(CHANGED)


#: how many times bytes appended late to a displaced file are merged into place before the
#: merge gives up and appends them at the end (nothing lost; see _carry_over_in_order)
MERGE_ROUNDS = 20


def _carry_over_in_order(
    path: str,
    folder: str,
    name: str,
    data: bytes,
    fd_new: int,
    fd_old: int,
    before: Snapshot,
    old: bytes,
    limit: int,
) -> None:
    """Bytes appended to the displaced file after the check (``old`` beyond ``before``) go into
    the new file *before* the bytes appended to the new file meanwhile, so that every appended
    line keeps its order (issue #15).

    An appender that opens the file for each line (``echo … >> tasks.md``) and opened the old
    file just before the swap writes its line there; its next line goes to the new file. So the
    order is: our ``data``, the late bytes of the old file, then what the new file got since. When
    the new file has grown, that merge is written as a new version and swapped in the same way
    (the file it displaces is watched for late bytes again, round after round: each round's window
    is a few microseconds, so this ends at once in practice); when it has not, the late bytes are
    still merged by a swap, never appended, so that a line appended in the same instant cannot
    pass them. After :data:`MERGE_ROUNDS` rounds, or when the new file was rewritten in place by
    another program, late bytes are appended at the end: nothing is ever lost. A last look at every
    displaced file carries over bytes a slow writer put there even later (at the end)."""
    late = old[before.size :]
    cur_fd, base = fd_new, data
    displaced: list[tuple[int, int, bytes]] = [(fd_old, before.size, before.digest)]
    consumed = [len(old)]  # bytes of each displaced file carried over so far
    owned: list[int] = []
    try:
        for _ in range(MERGE_ROUNDS):
            if not late:
                break
            st = os.fstat(cur_fd)
            # base and the late bytes first (synced); the new file's own tail is read and added
            # right before the swap, so that the window for a line to slip past is microseconds
            tmp = write_temp(
                folder, name, base + late, stat.S_IMODE(st.st_mode), (st.st_uid, st.st_gid)
            )
            try:
                fd_tmp = _open_read(tmp)
                owned.append(fd_tmp)
                _flock(fd_tmp, time.monotonic() + LOCK_TIMEOUT)  # nobody else knows it: at once
                tail = _read_fd(cur_fd, limit, start=len(base))
                if tail:
                    _append(tmp, tail, sync=False)
                exchanged = _exchange(tmp, path)
                if not exchanged:
                    os.replace(tmp, path)
                os.fsync(fd_tmp)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
            if exchanged and not _same_inode(tmp, cur_fd):
                # another program renamed its own version over the path meanwhile: theirs goes
                # back in place, ours (with every appended byte) is kept beside it
                _exchange(tmp, path)
                raise WriteConflict(f"{CHANGED}; a version is kept as {_keep(tmp, folder, name)}")
            cur = _read_fd(cur_fd, limit)
            if not cur.startswith(base):
                # the new file was rewritten in place meanwhile: that version goes back in place,
                # the late bytes after it (their order against its own is not known)
                if exchanged:
                    _exchange(tmp, path)
                    os.unlink(tmp)
                    _append(path, late)
                else:
                    back = write_temp(folder, name, cur + late, stat.S_IMODE(st.st_mode), (-1, -1))
                    os.replace(back, path)
                late = b""
                break
            if exchanged:
                os.unlink(tmp)
            merged = base + late + tail
            displaced.append((cur_fd, len(base) + len(tail), _digest(base + tail)))
            consumed.append(len(base) + len(tail))
            cur_fd, base = fd_tmp, merged
            if SETTLE_SECONDS:
                time.sleep(SETTLE_SECONDS)
            now = _read_fd(displaced[-1][0], limit)
            late = _late_bytes(now, displaced[-1])
            consumed[-1] = len(now)
        if late:  # out of rounds: at the end
            _append(path, late)
        for i, entry in enumerate(displaced):  # a last look: later bytes at the end
            now = _read_fd(entry[0], limit)
            if len(now) > consumed[i] and _late_bytes(now, entry):
                _append(path, now[consumed[i] :])
    finally:
        for fd in owned:  # closing releases the locks
            os.close(fd)


def _late_bytes(now: bytes, entry: tuple[int, int, bytes]) -> bytes:
    """What was appended to a displaced file (``entry``: its descriptor, and the size and digest
    of what it held when it was displaced); ``b""`` when nothing was, or it was rewritten."""
    _fd, size, digest = entry
    if len(now) > size and _digest(now[:size]) == digest:
        return now[size:]
    return b""
