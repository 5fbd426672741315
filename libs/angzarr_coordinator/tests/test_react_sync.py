"""SIMPLE and CASCADE sync modes over real gRPC, a real store and real handler processes (§3.5)."""

from __future__ import annotations

import uuid

from coord_support import struct_of
from react_support import events_of, order, reserve, wait_until

from angzarr_client.proto.angzarr import types_pb2

SIMPLE, CASCADE = types_pb2.SYNC_MODE_SIMPLE, types_pb2.SYNC_MODE_CASCADE


def test_simple_returns_one_projection_per_listening_projector(harness):
    root = uuid.uuid4()
    response = harness.commands.HandleCommand(order("place", root=root, sync_mode=SIMPLE))
    assert [p.projector for p in response.projections] == ["order-view"]
    assert response.projections[0].sequence == 0
    assert struct_of(response.projections[0].projection) == {"count": 1.0}
    assert list(response.cascade_errors) == [] and list(response.cascade_books) == []


def test_simple_projector_failure_is_ok_with_a_cascade_error_and_the_log_redelivers(harness, shop, tmp_path):
    root = uuid.uuid4()
    flag = tmp_path / "heal"
    response = harness.commands.HandleCommand(
        order("place", root=root, sync_mode=SIMPLE, project_fail=f"poison_until:{flag}"))
    assert response.events.pages[0].header.sequence == 0  # committed
    [error] = response.cascade_errors
    assert (error.component_name, error.component_type, error.source_domain) == ("order-view", "projector", "order")
    assert error.error_message.startswith("FAILED_PRECONDITION: ")
    # the tailer tried too and dead-lettered the poison commit; heal and replay it from the dead letter
    letters = wait_until(lambda: [r for r in harness.dead_letters() if r.subscriber == "order-view"])
    assert letters[0].letter.event_processing_failed.error.startswith("FAILED_PRECONDITION")
    assert shop.view("order", root) == []


def test_cascade_returns_downstream_commits_depth_first_and_no_projections_of_them_as_books(harness, shop):
    origin, stock_a, stock_b = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    response = harness.commands.HandleCommand(order(
        "place", root=origin, sync_mode=CASCADE,
        saga=[reserve(stock_a, 2), reserve(stock_b, 3)]))
    books = [(b.cover.domain, uuid.UUID(bytes=b.cover.root.value), [p.header.sequence for p in b.pages])
             for b in response.cascade_books]
    assert books == [("stock", stock_a, [0]), ("stock", stock_b, [0])]
    # the projector saw the origin and the stock commits; projections are projector output only
    assert sorted((p.cover.domain, p.sequence) for p in response.projections) == [
        ("order", 0), ("stock", 0), ("stock", 0)]
    assert list(response.cascade_errors) == []
    # saga commands carry angzarr_deferred{trigger cover, trigger's last sequence}
    [call] = [c for c in shop.stock.calls("aggregate", stock_a)]
    assert (call["header"], call["deferred_domain"], call["deferred_seq"]) == ("angzarr_deferred", "order", 0)


def test_a_reaction_run_synchronously_is_not_rerun_by_the_tailer(harness, shop):
    origin, stock = uuid.uuid4(), uuid.uuid4()
    harness.commands.HandleCommand(order("place", root=origin, sync_mode=CASCADE, saga=[reserve(stock, 1)]))
    # a later ASYNC commit on the same aggregate: once the tailer has handled it, it has passed the first
    later = harness.commands.HandleCommand(order("note", root=origin))
    assert later.events.pages[0].header.sequence == 1
    wait_until(lambda: [1] in [c["seqs"] for c in shop.order.calls("saga", origin)],
               message="the tailer reached the later commit")
    # the synchronous reaction called the saga twice (its command targets a root the first map did not
    # state, so the map is recomputed); the tailer called it for the later commit only
    calls = shop.order.calls("saga", origin)
    assert [c["seqs"] for c in calls] == [[0], [0], [1]]
    assert f"stock/{stock.hex}" not in calls[0]["dest"] and calls[1]["dest"][f"stock/{stock.hex}"] == 0
    assert calls[1]["dest"]["stock"] == 0
    assert len(shop.stock.calls("aggregate", stock)) == 1
    assert [e["seq"] for e in events_of(harness, "stock", stock)] == [0]


def test_a_projector_sees_each_aggregate_in_order_and_gap_free_while_requests_and_the_tailer_interleave(
        harness, shop):
    import threading

    roots = [uuid.uuid4() for _ in range(3)]
    per_client = 15

    def client(n: int) -> None:
        for i in range(per_client):
            mode = SIMPLE if (n + i) % 2 else types_pb2.SYNC_MODE_ASYNC
            harness.commands.HandleCommand(order("note", root=roots[(n + i) % len(roots)], c=n, i=i, sync_mode=mode))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    total = 6 * per_client
    wait_until(lambda: sum(len(shop.view("order", r)) for r in roots) == total, message="every event projected")
    for root in roots:
        delivered = [s for c in shop.order.calls("projector", root) for s in c["seqs"]]
        count = len(shop.view("order", root))
        assert delivered == list(range(count))  # in order, no gap, nothing sent twice


def test_a_fact_injected_under_cascade_returns_the_downstream_commits(harness):
    from coord_support import struct_any

    origin, stock = uuid.uuid4(), uuid.uuid4()
    book = types_pb2.EventBook(cover=types_pb2.Cover(domain="order", root=types_pb2.UUID(value=origin.bytes)))
    page = book.pages.add()
    page.header.external_deferred.external_id = f"import-{origin.hex}"
    page.event.CopyFrom(struct_any(kind="imported", saga=[reserve(stock, 1)]))
    response = harness.commands.HandleEvent(types_pb2.EventRequest(events=book, sync_mode=CASCADE))
    assert [(b.cover.domain, uuid.UUID(bytes=b.cover.root.value)) for b in response.cascade_books] == [
        ("stock", stock)]
    assert [p.projector for p in response.projections] == ["order-view", "order-view"]
    assert [e["kind"] for e in events_of(harness, "stock", stock)] == ["reserve"]
