"""Item 21's other side: a handler that is up but slow to finish the connection handshake (a loaded
machine) is reached, not reported unreachable.

Found by the audit: the business channels gave every connection attempt 100 ms to complete its HTTP/2
handshake (gRPC reads ``grpc.min_reconnect_backoff_ms`` as that timeout), so under load a healthy
handler got UNAVAILABLE "handler ... is unreachable". A Unix-socket relay in front of the real handler
process holds each new connection for half a second before passing bytes through.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from pathlib import Path

from coord_support import CoordinatorHarness, bank_topology, command

from angzarr_coordinator.topology import Limits

HANDSHAKE_DELAY = 0.5


class SlowRelay:
    """Accepts on ``socket``; each connection waits ``delay`` seconds, then is piped to ``target``."""

    def __init__(self, socket: Path, target: Path, delay: float) -> None:
        self.socket, self.target, self.delay = socket, target, delay
        self.connections = 0
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="slow-relay")
        self.thread.start()
        self.server = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)

    async def _start(self) -> asyncio.AbstractServer:
        return await asyncio.start_unix_server(self._relay, path=str(self.socket))

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        await asyncio.sleep(self.delay)
        up_reader, up_writer = await asyncio.open_unix_connection(str(self.target))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            with contextlib.suppress(ConnectionError, OSError):
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def close(self) -> None:
        async def stop() -> None:
            self.server.close()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def test_a_handler_slow_to_accept_connections_is_reached(tmp_path, bank_service):
    relay = SlowRelay(tmp_path / "slow.sock", bank_service.socket, HANDSHAKE_DELAY)
    harness = CoordinatorHarness(
        tmp_path / "events.db", bank_topology(str(relay.socket)), tmp_path / "c.sock",
        limits=Limits(handler_timeout=10.0),
    )
    try:
        root = uuid.uuid4()
        first = harness.commands.HandleCommand(command("deposit", root=root, amount=2))
        assert [p.header.sequence for p in first.events.pages] == [0]
        second = harness.commands.HandleCommand(command("deposit", root=root, sequence=1, amount=3))
        assert [p.header.sequence for p in second.events.pages] == [1]
        assert relay.connections >= 1  # the commands really went through the slow relay
    finally:
        harness.close()
        relay.close()
