"""CASCADE error modes, bounds, and CASCADE versus ASYNC (spec/coordinator.md §3.5, §6.6)."""

from __future__ import annotations

import uuid

import pytest
from react_support import (
    REACT_LIMITS,
    delivering_harness,
    event_kinds,
    events_of,
    order,
    reserve,
    wait_until,
)

from angzarr_client.proto.angzarr import types_pb2
from angzarr_coordinator.topology import Limits

CASCADE = types_pb2.SYNC_MODE_CASCADE
FAIL_FAST, CONTINUE = types_pb2.CASCADE_ERROR_FAIL_FAST, types_pb2.CASCADE_ERROR_CONTINUE
COMPENSATE, DEAD_LETTER = types_pb2.CASCADE_ERROR_COMPENSATE, types_pb2.CASCADE_ERROR_DEAD_LETTER


def book_keys(response):
    return [(b.cover.domain, uuid.UUID(bytes=b.cover.root.value)) for b in response.cascade_books]


def test_fail_fast_rejected_saga_command_is_ok_with_its_error_and_leaves_the_rest_to_the_log(harness):
    origin, stock, later = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    response = harness.commands.HandleCommand(order(
        "place", root=origin, sync_mode=CASCADE, cascade_error_mode=FAIL_FAST,
        saga=[reserve(stock, 20)], pm=[{"domain": "stock", "op": "add", "root": str(later)}]))
    assert [p.header.sequence for p in response.events.pages] == [0]  # the origin commit
    [error] = response.cascade_errors
    assert (error.component_name, error.component_type, error.source_domain) == ("order-saga", "command", "stock")
    assert error.error_message.startswith("FAILED_PRECONDITION: insufficient stock")
    # the rejected reaction was compensated at its source; the process manager did not run synchronously
    assert ("stock", later) not in book_keys(response) and all(b.cover.domain != "fulfil" for b in response.cascade_books)
    assert event_kinds(harness, "order", origin) == ["place", "compensated"]
    # ... and runs from the log
    wait_until(lambda: event_kinds(harness, "stock", later) == ["add"], message="the PM's command from the log")


def test_continue_runs_every_reaction_and_reports_each_failure(harness):
    origin, stock, later = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    response = harness.commands.HandleCommand(order(
        "place", root=origin, sync_mode=CASCADE, cascade_error_mode=CONTINUE,
        saga=[reserve(stock, 20)], pm=[{"domain": "stock", "op": "add", "root": str(later)}]))
    assert [e.component_type for e in response.cascade_errors] == ["command"]
    keys = book_keys(response)
    assert ("stock", later) in keys and any(d == "fulfil" for d, _ in keys)
    assert event_kinds(harness, "stock", later) == ["add"]
    assert event_kinds(harness, "stock", stock) == []


def test_compensate_notifies_sources_of_earlier_successes_newest_first(harness):
    origin, first, second, failing = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    response = harness.commands.HandleCommand(order(
        "place", root=origin, sync_mode=CASCADE, cascade_error_mode=COMPENSATE,
        saga=[reserve(first, 1), reserve(second, 2), reserve(failing, 20)]))
    errors = [(e.component_type, e.component_name, e.source_domain) for e in response.cascade_errors]
    assert errors == [("command", "order-saga", "stock"), ("compensation", "order-saga", "order"),
                      ("compensation", "order-saga", "order")]
    assert all(e.error_message.startswith("cascade compensated: FAILED_PRECONDITION")
               for e in response.cascade_errors[1:])
    events = events_of(harness, "order", origin)
    assert [e["kind"] for e in events] == ["place", "compensated", "compensated", "compensated"]
    # the failed reaction's own notice, then the successes newest first (qty 2, then qty 1)
    assert events[1]["reason"].startswith("FAILED_PRECONDITION: insufficient stock")
    assert all(e["reason"].startswith("cascade compensated:") for e in events[2:])
    assert event_kinds(harness, "stock", first) == ["reserve"] and event_kinds(harness, "stock", second) == ["reserve"]
    # the notices went through the outbox (durable), newest first
    from angzarr_coordinator.store.base import AggregateKey

    notices = harness.run(harness.store.find_reaction("saga:order-saga#compensated", AggregateKey("order", origin), 0))
    assert [e.status for e in notices.entries] == ["done", "done"]
    assert [e.entry.reaction_id for e in notices.entries] == [
        f"saga:order-saga;order;{origin.hex};0;{i};compensated;rejected" for i in (1, 0)]


def test_dead_letter_mode_reports_each_error_with_its_dead_letter(harness):
    origin, stock = uuid.uuid4(), uuid.uuid4()
    response = harness.commands.HandleCommand(order(
        "place", root=origin, sync_mode=CASCADE, cascade_error_mode=DEAD_LETTER, saga=[reserve(stock, 20)]))
    [error] = response.cascade_errors
    message, _, letter_id = error.error_message.rpartition("; dead letter ")
    assert message.startswith("FAILED_PRECONDITION: insufficient stock")
    [letter] = [r for r in harness.dead_letters() if r.id == int(letter_id)]
    assert letter.letter.rejected_command.cover.domain == "stock"
    assert letter.letter.rejected_command.pages[0].header.WhichOneof("sequence_type") == "angzarr_deferred"


@pytest.mark.parametrize("mode", [FAIL_FAST, CONTINUE, COMPENSATE, DEAD_LETTER])
def test_every_mode_keeps_the_response_ok_with_the_origin_commit(harness, mode):
    origin = uuid.uuid4()
    response = harness.commands.HandleCommand(order(
        "place", root=origin, sync_mode=CASCADE, cascade_error_mode=mode, saga_fail="internal"))
    assert response.events.cover.domain == "order" and [p.header.sequence for p in response.events.pages] == [0]
    assert [(e.component_type, e.component_name) for e in response.cascade_errors][0] == ("saga", "order-saga")
    assert response.cascade_errors[0].error_message.startswith("INTERNAL: saga failed on purpose")


def test_the_depth_bound_stops_recursion_and_says_so(tmp_path, shop):
    h = delivering_harness(tmp_path, shop, Limits(handler_timeout=5.0, cascade_max_depth=1))
    try:
        origin, nested, stock = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        response = h.commands.HandleCommand(order(
            "place", root=origin, sync_mode=CASCADE,
            saga=[{"domain": "order", "op": "place", "root": str(nested), "saga": [reserve(stock, 1)]}]))
        assert book_keys(response) == [("order", nested)]
        [error] = [e for e in response.cascade_errors if e.component_type == "cascade"]
        assert "cascade depth 1 reached" in error.error_message and error.source_domain == "order"
        wait_until(lambda: event_kinds(h, "stock", stock) == ["reserve"], message="the nested reaction from the log")
    finally:
        h.close()


def chain(root, stock, nested, nested_stock, extra):
    return dict(root=root, saga=[reserve(stock, 2), {"domain": "order", "op": "place", "root": str(nested),
                                                    "saga": [reserve(nested_stock, 3)]}],
                pm=[{"domain": "stock", "op": "add", "root": str(extra)}])


def test_cascade_and_async_end_in_the_same_state_and_nothing_runs_twice(harness, shop):
    ids = {mode: [uuid.uuid4() for _ in range(5)] for mode in ("cascade", "async")}
    cid = {"cascade": str(uuid.uuid4()), "async": str(uuid.uuid4())}
    harness.commands.HandleCommand(order("place", sync_mode=CASCADE, correlation_id=cid["cascade"],
                                         **chain(*ids["cascade"])))
    harness.commands.HandleCommand(order("place", correlation_id=cid["async"], **chain(*ids["async"])))

    def state(mode):
        root, stock, nested, nested_stock, extra = ids[mode]
        return [event_kinds(harness, "order", root), event_kinds(harness, "stock", stock), event_kinds(harness, "order", nested),
                event_kinds(harness, "stock", nested_stock), event_kinds(harness, "stock", extra)]

    expected = [["place"], ["reserve"], ["place"], ["reserve"], ["add"]]
    assert state("cascade") == expected  # all of it before the response
    wait_until(lambda: state("async") == expected, message="the asynchronous chain")
    # let the tailers pass everything, then check that the cascade's reactions ran exactly once
    wait_until(lambda: all(t.checkpoint >= harness.run(harness.store.watermark())
                           for t in harness.coordinator.reactions.tailers.values()), message="tailers caught up")
    root, stock, nested, nested_stock, extra = ids["cascade"]
    for svc, target in ((shop.stock, stock), (shop.order, nested), (shop.stock, nested_stock), (shop.stock, extra)):
        assert len(svc.calls("aggregate", target)) == 1
    assert len(shop.flow.calls("pm", root)) == 1
    assert state("cascade") == expected


def test_a_rejected_pm_command_under_cascade_returns_the_pm_compensation_in_cascade_books(harness):
    cid, origin, stock = str(uuid.uuid4()), uuid.uuid4(), uuid.uuid4()
    response = harness.commands.HandleCommand(order(
        "place", root=origin, correlation_id=cid, sync_mode=CASCADE, cascade_error_mode=CONTINUE,
        pm=[reserve(stock, 20)]))
    pm_books = [[p.header.sequence for p in b.pages] for b in response.cascade_books if b.cover.domain == "fulfil"]
    assert pm_books == [[0], [1]]  # the PM's step, then its compensation after the rejection notice
    assert event_kinds(harness, "fulfil", uuid.UUID(cid)) == ["pm_step", "pm_compensated"]
    [error] = response.cascade_errors
    assert (error.component_name, error.component_type) == ("fulfil", "command")


def test_cascade_reaction_commands_wait_for_the_earlier_reaction_of_the_same_aggregate(harness, shop, tmp_path):
    origin, stock = uuid.uuid4(), uuid.uuid4()
    never = tmp_path / "never"
    # ASYNC: the saga's command keeps failing (transient) until its retries are exhausted
    harness.commands.HandleCommand(order("place", root=origin, saga=[
        {"domain": "stock", "op": "crash", "root": str(stock), "until": str(never)}]))
    # CASCADE on the same trigger aggregate: its reaction command must not overtake the earlier one
    response = harness.commands.HandleCommand(order(
        "note", root=origin, sync_mode=CASCADE, cascade_error_mode=CONTINUE, saga=[reserve(stock, 1)]))
    wait_until(lambda: event_kinds(harness, "stock", stock) == ["reserve"], message="the later reaction")
    ops = [c["op"] for c in shop.stock.calls("aggregate", stock)]
    assert ops == ["crash"] * REACT_LIMITS.dispatch_max_attempts + ["reserve"]
    assert [b.cover.domain for b in response.cascade_books] == ["stock"]


def test_a_saga_cascading_into_its_own_trigger_aggregate_does_not_wait_for_itself(harness):
    origin, stock = uuid.uuid4(), uuid.uuid4()
    response = harness.commands.HandleCommand(order(
        "place", root=origin, sync_mode=CASCADE,
        saga=[{"domain": "order", "op": "note", "root": str(origin), "saga": [reserve(stock, 1)]}]))
    assert [(b.cover.domain, [p.header.sequence for p in b.pages]) for b in response.cascade_books] == [
        ("order", [1]), ("stock", [0])]
    assert list(response.cascade_errors) == []
