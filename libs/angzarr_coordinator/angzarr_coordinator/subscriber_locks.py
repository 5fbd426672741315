"""Which replica delivers (spec/coordinator.md §6.3): among sidecars of one service, the one holding the
PostgreSQL session advisory locks ``angzarr.sub.<name>`` of its subscribers runs their tailers and
outbox dispatchers; the others serve commands and queries and wait (standby).

The locks live on one dedicated connection: they are released when it closes, so a replica that dies
or loses its connection lets a standby take over. A holder that loses the connection cannot know whether
another replica has taken over meanwhile, so it must stop delivering (the sidecar shuts down and is
restarted by its orchestrator).
"""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
import structlog

log = structlog.get_logger("angzarr.subscriber_locks")

LOCK_PREFIX = "angzarr.sub."
_TRY = "SELECT pg_try_advisory_lock(hashtextextended($1, 0))"


class SubscriberLocks:
    """The advisory locks of ``subscribers`` on a connection to ``dsn``."""

    def __init__(self, dsn: str, subscribers: list[str], *, poll: float = 1.0) -> None:
        self.dsn = dsn
        self.names = [LOCK_PREFIX + s for s in subscribers]
        self.poll = poll
        self._conn: asyncpg.Connection | None = None
        self._held: set[str] = set()

    @property
    def held(self) -> bool:
        return bool(self.names) and self._held == set(self.names)

    async def acquire(self) -> None:
        """Wait until every lock is held (reconnecting while the database is unreachable)."""
        waiting_logged = False
        while not self.held:
            try:
                if self._conn is None or self._conn.is_closed():
                    self._held.clear()
                    self._conn = await asyncpg.connect(self.dsn)
                for name in self.names:
                    if name not in self._held and await self._conn.fetchval(_TRY, name):
                        self._held.add(name)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
                log.warning("subscriber_locks_unavailable", error=str(e))
                await self._drop()
            if not self.held:
                if not waiting_logged:
                    log.info("delivery_standby", waiting_for=sorted(set(self.names) - self._held))
                    waiting_logged = True
                await asyncio.sleep(self.poll)

    async def alive(self) -> bool:
        """Whether the connection holding the locks still answers."""
        if self._conn is None or self._conn.is_closed():
            return False
        try:
            await asyncio.wait_for(self._conn.fetchval("SELECT 1"), 5.0)
            return True
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return False

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        self._held.clear()
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close(timeout=5)

    async def release(self) -> None:
        """Close the connection: every lock is released at once."""
        await self._drop()
