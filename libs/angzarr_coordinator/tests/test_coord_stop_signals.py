"""``StopSignals``: the first SIGTERM/SIGINT asks for a graceful stop, a later one hurries it."""

from __future__ import annotations

import asyncio
import os
import signal

from angzarr_coordinator.stop_signals import StopSignals


class _Log:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def info(self, event: str) -> None:
        self.lines.append(("info", event))

    def warning(self, event: str) -> None:
        self.lines.append(("warning", event))


async def test_the_first_signal_requests_the_stop_and_a_second_hurries_it():
    log = _Log()
    stops = StopSignals(log)
    with stops.handled():
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(stops.requested.wait(), 10)
        assert not stops.hurried.is_set()
        os.kill(os.getpid(), signal.SIGINT)
        await asyncio.wait_for(stops.hurried.wait(), 10)
    assert log.lines == [("info", "shutdown_requested"), ("warning", "shutdown_hurried")]


async def test_leaving_the_block_gives_the_signals_back():
    stops = StopSignals(_Log())
    with stops.handled():
        pass
    loop = asyncio.get_running_loop()
    assert not loop.remove_signal_handler(signal.SIGTERM)
    assert not loop.remove_signal_handler(signal.SIGINT)
