"""Distributed-mode fixtures: a throwaway PostgreSQL database and the poker topology as local processes
(``distributed_system.py``); the end-to-end checks are the standalone ones (``tests/e2e/poker_checks.py``)."""

from __future__ import annotations

import asyncio
import sys
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "e2e"))
pytest.register_assert_rewrite("poker_checks")

from distributed_system import DistributedSystem  # noqa: E402


def _admin(dsn: str, sql: str) -> None:
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


@pytest.fixture
def database_url(postgres_dsn: str) -> Iterator[str]:
    """A PostgreSQL database of this test's own (dropped afterwards): the sidecars' shared store."""
    name = f"angzarr_dist_{uuid.uuid4().hex[:12]}"
    _admin(postgres_dsn, f"CREATE DATABASE {name}")
    try:
        yield urllib.parse.urlunsplit(urllib.parse.urlsplit(postgres_dsn)._replace(path="/" + name))
    finally:
        _admin(postgres_dsn, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def start_distributed(database_url: str, tmp_path: Path) -> Iterator[Callable[[], DistributedSystem]]:
    """Start the distributed poker system; it is stopped at teardown whatever happened."""
    started: list[DistributedSystem] = []

    def start(socket_dir: Path | None = None) -> DistributedSystem:
        system = DistributedSystem(database_url, tmp_path / "run", socket_dir=socket_dir)
        started.append(system)
        system.start()
        return system

    yield start
    for system in started:
        system.stop()
