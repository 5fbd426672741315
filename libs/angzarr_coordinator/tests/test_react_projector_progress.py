"""Projector progress (§6.6): what the delivery remembers and what it stores.

Standalone (one process owns the store): the delivery remembers the sequence it delivered per aggregate
and writes the progress in the background; the store must still catch up. A sidecar (replicas may
deliver too) reads the stored progress before every delivery, so a progress another process stored is
honoured. Real coordinator over a Unix socket, SQLite file, real shop handler processes.
"""

from __future__ import annotations

import uuid

import pytest
from coord_support import CoordinatorHarness
from react_support import REACT_LIMITS, Shop, order, shop_topology, wait_until

from angzarr_coordinator.store.base import AggregateKey, Progress


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    shop = Shop(tmp_path_factory.mktemp("shop-progress"))
    yield shop
    shop.stop()


def _harness(tmp_path, shop, sidecar_domain: str | None = None) -> CoordinatorHarness:
    h = CoordinatorHarness(tmp_path / "events.db", shop_topology(shop), tmp_path / "c.sock", limits=REACT_LIMITS,
                           sidecar_domain=sidecar_domain)
    h.run(h.coordinator.start_delivery())
    return h


def test_progress_reaches_the_store_and_each_commit_is_projected_once(tmp_path, shop):
    harness = _harness(tmp_path, shop)
    try:
        root = uuid.uuid4()
        harness.commands.HandleCommand(order("place", root=root))
        for i in range(4):
            harness.commands.HandleCommand(order("note", root=root, i=i))
        wait_until(lambda: len(shop.view("order", root)) == 5, message="five projected events")
        key = AggregateKey("order", root)
        wait_until(lambda: harness.run(harness.store.get_progress("order-view", key)) == 4,
                   message="the stored progress of the last delivered sequence")
        assert [c["seqs"] for c in shop.order.calls("projector", root)] == [[0], [1], [2], [3], [4]]
    finally:
        harness.close()


def test_a_sidecar_honours_a_progress_stored_by_another_process(tmp_path, shop):
    harness = _harness(tmp_path, shop, sidecar_domain="order")
    try:
        root = uuid.uuid4()
        harness.commands.HandleCommand(order("place", root=root))
        wait_until(lambda: shop.view("order", root) == [(0, "place")], message="the first delivery")
        reactions = harness.coordinator.reactions
        harness.run(reactions.stop())
        for i in range(2):
            harness.commands.HandleCommand(order("note", root=root, i=i))
        # Another replica delivered both notes and stored its progress.
        harness.run(harness.store.set_progress(Progress("order-view", AggregateKey("order", root), 2)))
        harness.run(reactions.start())
        third = uuid.uuid4()  # a later commit elsewhere shows the tailer has gone past the notes
        harness.commands.HandleCommand(order("place", root=third))
        wait_until(lambda: shop.view("order", third) == [(0, "place")], message="the later commit")
        assert [c["seqs"] for c in shop.order.calls("projector", root)] == [[0]]
    finally:
        harness.close()
