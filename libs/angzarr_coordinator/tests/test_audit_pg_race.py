"""Checklist item 15: two coordinators on one PostgreSQL database racing COMMUTATIVE commands lose no update.

Each coordinator has its own ``PostgresEventStore`` (its own pool), cache and locks, like two replicas;
clients split between them send deposits to one aggregate with stale expectations over gRPC, through the
real handler process. Skipped, like the other PostgreSQL tests, when no server is reachable (see the
repository's ``conftest.py``).
"""

from __future__ import annotations

import asyncio
import threading
import urllib.parse
import uuid
from pathlib import Path

import grpc
import pytest
from coord_support import (
    CLIENT_OPTIONS,
    CoordinatorHarness,
    aggregate_query,
    bank_topology,
    command,
    struct_of,
)

from angzarr_client.proto.angzarr import command_handler_pb2_grpc
from angzarr_coordinator.store.postgres import PostgresEventStore
from angzarr_coordinator.topology import Limits

pytestmark = pytest.mark.postgres


class PostgresCoordinator(CoordinatorHarness):
    """``CoordinatorHarness`` with a ``PostgresEventStore`` of its own on ``dsn``."""

    def __init__(self, dsn: str, topology, socket: Path) -> None:
        self.dsn = dsn
        super().__init__(Path("/nonexistent"), topology, socket, limits=Limits(handler_timeout=10.0))

    async def _open_store(self) -> PostgresEventStore:
        store = PostgresEventStore(self.dsn, pool_size=8)
        await store.open()
        return store


def _admin(dsn: str, sql: str) -> None:
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    failure: list[BaseException] = []

    def beside() -> None:  # outside any running event loop
        try:
            asyncio.run(run())
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=beside)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


@pytest.fixture
def replicas(postgres_dsn, tmp_path, bank_service):
    """Two coordinators on one fresh PostgreSQL database."""
    name = f"angzarr_audit_{uuid.uuid4().hex[:12]}"
    _admin(postgres_dsn, f"CREATE DATABASE {name}")
    dsn = urllib.parse.urlunsplit(urllib.parse.urlsplit(postgres_dsn)._replace(path="/" + name))
    topology = bank_topology(str(bank_service.socket))
    started: list[PostgresCoordinator] = []
    try:
        started.append(PostgresCoordinator(dsn, topology, tmp_path / "a.sock"))
        started.append(PostgresCoordinator(dsn, topology, tmp_path / "b.sock"))
        yield started
    finally:
        for harness in started:
            harness.close()
        _admin(postgres_dsn, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def _deposits(target: str, root: uuid.UUID, amounts: list[float], *, retry: bool) -> list[float]:
    """Send the deposits concurrently (stale expectation 0); return the amounts that were accepted."""
    async with grpc.aio.insecure_channel(target, options=CLIENT_OPTIONS) as channel:
        stub = command_handler_pb2_grpc.CommandHandlerCoordinatorServiceStub(channel)

        async def one(amount: float) -> float | None:
            while True:
                try:
                    await stub.HandleCommand(command(root=root, sequence=0, amount=amount), timeout=60)
                    return amount
                except grpc.aio.AioRpcError as err:
                    # The only acceptable failure: the attempt bound was reached under contention.
                    assert err.code() == grpc.StatusCode.ABORTED, (err.code(), err.details())
                    assert err.details().startswith("Sequence conflict:")
                    if not retry:
                        return None

        if retry:  # one client sending one deposit after the other
            results = [await one(a) for a in amounts]
        else:  # every deposit at once
            results = await asyncio.gather(*(one(a) for a in amounts))
    return [a for a in results if a is not None]


def _assert_nothing_lost(harness: CoordinatorHarness, root: uuid.UUID, accepted: list[float]) -> None:
    book = harness.queries.GetEventBook(aggregate_query("bank", root))
    assert [p.header.sequence for p in book.pages] == list(range(len(accepted)))
    assert sorted(struct_of(p.event)["amount"] for p in book.pages) == sorted(accepted)
    # Each decision saw every earlier deposit: the running balance is the prefix sum.
    running = 0.0
    for page in book.pages:
        event = struct_of(page.event)
        running += event["amount"]
        assert event["balance"] == running


async def test_two_coordinators_on_one_postgresql_lose_no_commutative_update(replicas):
    a, b = replicas
    root = uuid.uuid4()
    amounts = [float(i + 1) for i in range(32)]
    accepted = await asyncio.gather(
        _deposits(f"unix:{a.socket}", root, amounts[:16], retry=False),
        _deposits(f"unix:{b.socket}", root, amounts[16:], retry=False),
    )
    accepted = accepted[0] + accepted[1]
    assert accepted
    _assert_nothing_lost(a, root, accepted)
    _assert_nothing_lost(b, root, accepted)  # the other replica reads the same history


async def test_two_coordinators_with_retrying_clients_apply_every_increment_once(replicas):
    a, b = replicas
    root = uuid.uuid4()
    per_client, clients = 20, 16
    targets = [f"unix:{a.socket}", f"unix:{b.socket}"] * (clients // 2)
    results = await asyncio.gather(
        *(_deposits(t, root, [1.0] * per_client, retry=True) for t in targets)
    )
    assert sum(len(r) for r in results) == per_client * clients
    _assert_nothing_lost(a, root, [1.0] * per_client * clients)
