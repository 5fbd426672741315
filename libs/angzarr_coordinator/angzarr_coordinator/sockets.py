"""Client-endpoint sockets of standalone mode (spec/coordinator.md §10.3).

The socket directory is created 0700 and must belong to us and not be writable by anyone else: a
socket in a directory another user controls could be swapped for theirs. Sockets are 0600. A socket
file left by a crashed process is removed only when nothing answers on it; if something does, another
process is serving there and startup fails rather than stealing its address.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
from pathlib import Path

_FIX = "set ANGZARR_UDS_BASE to a directory of your own"


class SocketSetupError(Exception):
    """The socket directory or a socket path cannot be used safely; the message says what to do."""


def prepare_socket_dir(path: Path | str) -> Path:
    """Create ``path`` (0700) if missing and check it is safe to serve sockets from.

    Raises ``SocketSetupError`` if it is not a directory, belongs to another user or is writable by
    group or others.
    """
    base = Path(path)
    try:
        base.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = base.stat()
    except OSError as e:
        raise SocketSetupError(f"cannot create socket directory {base}: {e.strerror or e}; {_FIX}") from None
    if not stat.S_ISDIR(st.st_mode):
        raise SocketSetupError(f"socket directory {base} exists and is not a directory; {_FIX}")
    if st.st_uid != os.geteuid():
        raise SocketSetupError(
            f"socket directory {base} belongs to uid {st.st_uid}, not to you (uid {os.geteuid()}); {_FIX}"
        )
    if st.st_mode & 0o022:
        raise SocketSetupError(
            f"socket directory {base} is writable by others (mode {stat.S_IMODE(st.st_mode):04o}); "
            f"run 'chmod 700 {base}' or {_FIX}"
        )
    return base


def socket_answers(path: Path | str, timeout: float = 1.0) -> bool:
    """True if a process accepts connections on the Unix socket ``path``."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(timeout)
    try:
        probe.connect(str(path))
    except OSError:
        return False
    else:
        return True
    finally:
        probe.close()


def claim_socket_path(path: Path | str) -> Path:
    """Make ``path`` free for binding: absent, or a stale socket (removed).

    Raises ``SocketSetupError`` if a process answers on it or the path is not a socket.
    """
    target = Path(path)
    try:
        st = target.lstat()
    except FileNotFoundError:
        return target
    if not stat.S_ISSOCK(st.st_mode):
        raise SocketSetupError(f"{target} exists and is not a socket; remove it or {_FIX}")
    if socket_answers(target):
        raise SocketSetupError(
            f"another process is serving on {target} (is a standalone already running?); stop it or {_FIX}"
        )
    with contextlib.suppress(FileNotFoundError):
        target.unlink()
    return target


def secure_socket(path: Path | str) -> None:
    """Restrict a bound socket to its owner (0600)."""
    os.chmod(path, 0o600)


def remove_socket(path: Path | str) -> None:
    """Remove a socket file if it is there (shutdown)."""
    with contextlib.suppress(FileNotFoundError):
        Path(path).unlink()
