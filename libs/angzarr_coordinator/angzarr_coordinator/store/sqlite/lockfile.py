"""An exclusive ``flock`` on ``<db>.lock``: one process writes a SQLite store at a time."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from angzarr_coordinator.store.base import StoreLocked, StoreUnavailable


class ProcessLock:
    """Holds ``flock(LOCK_EX)`` on a lock file until ``release``.

    ``flock`` locks belong to the open file description, so a second open in the same process is
    refused too. The kernel drops the lock when the holder dies (even by ``kill -9``), so a stale file
    never blocks a restart.
    """

    def __init__(self, path: Path, fd: int) -> None:
        self.path, self._fd = path, fd

    @classmethod
    def acquire(cls, path: Path, *, database: Path) -> ProcessLock:
        """Take the lock or raise ``StoreLocked`` naming the holder's pid when it is known;
        ``StoreUnavailable`` if the lock file cannot be created."""
        while True:
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError as exc:
                raise StoreUnavailable(
                    f"cannot create the lock file {path} for the event store {database}: {exc.strerror}; "
                    "check that the directory exists and is writable"
                ) from exc
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_pid(fd)
                os.close(fd)
                who = f"process {holder}" if holder else "another process"
                raise StoreLocked(
                    f"the event store {database} is in use by {who} (lock file {path} is held); "
                    "stop that process or use another database path"
                ) from None
            # The previous holder unlinks the file on release; if that happened between our open and
            # our flock we locked an orphaned inode, so try again on the current file.
            try:
                current = os.stat(path)
            except FileNotFoundError:
                os.close(fd)
                continue
            if current.st_ino != os.fstat(fd).st_ino:
                os.close(fd)
                continue
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            return cls(path, fd)

    def release(self) -> None:
        """Remove the lock file and drop the lock (idempotent)."""
        if self._fd < 0:
            return
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        os.close(self._fd)
        self._fd = -1


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        return int(text) if text.isdigit() else None
    except OSError:
        return None
