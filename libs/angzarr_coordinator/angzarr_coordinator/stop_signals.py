"""SIGTERM/SIGINT for ``angzarr standalone`` and ``angzarr sidecar``: the first signal asks for a graceful
shutdown, a second one hurries it (the drain is cut short and what still runs is killed)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["StopSignals"]

_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopSignals:
    """``requested`` is set by the first signal, ``hurried`` by any later one; ``log`` says which."""

    def __init__(self, log: Any) -> None:
        self.requested = asyncio.Event()
        self.hurried = asyncio.Event()
        self._log = log
        self._count = 0

    def receive(self) -> None:
        """One shutdown signal (or a request that counts as one)."""
        self._count += 1
        if self._count == 1:
            self._log.info("shutdown_requested")
            self.requested.set()
        else:
            self._log.warning("shutdown_hurried")
            self.hurried.set()

    @contextmanager
    def handled(self) -> Iterator[None]:
        """SIGTERM and SIGINT call ``receive`` on the running loop while the block runs.

        Raises:
            RuntimeError: no running event loop.
        """
        loop = asyncio.get_running_loop()
        for sig in _SIGNALS:
            loop.add_signal_handler(sig, self.receive)
        try:
            yield
        finally:
            for sig in _SIGNALS:
                loop.remove_signal_handler(sig)
