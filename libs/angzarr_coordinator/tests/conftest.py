"""Fixtures for coordinator tests (see ``coord_support`` for the harness and request builders).

``bank_service`` (session): the scripted bank handler process on a Unix socket.
``coordinator``: a ``CoordinatorHarness`` (real ``Coordinator``, temporary ``SqliteEventStore`` file,
``grpc.aio`` on a Unix socket) over the bank topology. Test modules import helpers with
``from coord_support import ...`` (this directory is put on ``sys.path`` here).
``shop`` (per module): the shop handler processes of ``react_support``; ``harness``: a coordinator
over the shop topology with delivery started (``react_support.delivering_harness``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from coord_support import (  # noqa: E402
    BankService,
    CoordinatorHarness,
    bank_topology,
    start_bank_service,
)
from react_support import Shop, delivering_harness  # noqa: E402


@pytest.fixture(scope="session")
def bank_service(tmp_path_factory) -> BankService:
    service = start_bank_service(tmp_path_factory.mktemp("bank"))
    yield service
    service.process.terminate()
    service.process.wait(10)


@pytest.fixture
def coordinator(tmp_path, bank_service) -> CoordinatorHarness:
    harness = CoordinatorHarness(tmp_path / "events.db", bank_topology(str(bank_service.socket)), tmp_path / "c.sock")
    yield harness
    harness.close()


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Shop:
    shop = Shop(tmp_path_factory.mktemp("shop"))
    yield shop
    shop.stop()


@pytest.fixture
def harness(tmp_path, shop) -> CoordinatorHarness:
    h = delivering_harness(tmp_path, shop)
    yield h
    h.close()
