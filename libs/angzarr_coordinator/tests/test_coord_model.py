"""A model-based test of the command pipeline: random interleavings of commands (every merge strategy
with right and stale sequences), rejections, no-ops, echoes, snapshots of every retention, facts
(some repeated) and cache loss, checked over gRPC against a plain Python model after every step."""

from __future__ import annotations

import uuid

import grpc
from coord_support import (
    BankService,
    CoordinatorHarness,
    aggregate_query,
    bank_topology,
    command,
    cover,
    struct_any,
    struct_of,
)
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from angzarr_client.proto.angzarr import command_handler_pb2, types_pb2

ROOTS = [uuid.UUID(int=i + 1) for i in range(3)]
STRATEGIES = [types_pb2.MERGE_COMMUTATIVE, types_pb2.MERGE_STRICT, types_pb2.MERGE_AGGREGATE_HANDLES,
              types_pb2.MERGE_MANUAL]


class PipelineModel(RuleBasedStateMachine):
    harness: CoordinatorHarness  # set by the test before the machine runs
    service: BankService

    @initialize()
    def fresh_domain(self):
        # Each run uses its own domain-free namespace: new roots per run keep runs independent.
        self.roots = [uuid.uuid4() for _ in ROOTS]
        self.next = {r: 0 for r in self.roots}
        self.balance = {r: 0.0 for r in self.roots}
        self.facts: dict[tuple[uuid.UUID, str], int] = {}
        self.dead_letters = len(self.harness.dead_letters())

    def send(self, request):
        try:
            return self.harness.commands.HandleCommand(request, timeout=20), None
        except grpc.RpcError as err:
            return None, err

    @rule(i=st.integers(0, 2), amount=st.integers(1, 9), strategy=st.sampled_from(STRATEGIES),
          stale=st.booleans(), snapshot=st.sampled_from([None, 0, 1, 2]))
    def deposit(self, i, amount, strategy, stale, snapshot):
        root = self.roots[i]
        expected = self.next[root] - 1 if stale and self.next[root] > 0 else self.next[root]
        tag = uuid.uuid4().hex
        fields = {"amount": amount, "tag": tag}
        if snapshot is not None:
            fields["snapshot"] = snapshot
        response, err = self.send(command(root=root, sequence=expected, merge=strategy, **fields))
        mismatch = expected != self.next[root]
        if mismatch and strategy == types_pb2.MERGE_STRICT:
            assert err is not None and err.code() == grpc.StatusCode.FAILED_PRECONDITION
            return
        if mismatch and strategy == types_pb2.MERGE_MANUAL:
            assert err is not None and err.code() == grpc.StatusCode.ABORTED
            self.dead_letters += 1
            return
        assert err is None, err
        assert [p.header.sequence for p in response.events.pages] == [self.next[root]]
        self.shown_exactly_the_history(tag, root)
        self.balance[root] += amount
        self.next[root] += 1
        assert struct_of(response.events.pages[0].event)["balance"] == self.balance[root]

    def shown_exactly_the_history(self, tag: str, root: uuid.UUID) -> None:
        """The handler got a snapshot (if any) and exactly the pages after it, from cache or store."""
        seen = self.service.calls(tag)[-1]
        first = 0 if seen["snapshot_sequence"] is None else seen["snapshot_sequence"] + 1
        assert seen["page_sequences"] == list(range(first, self.next[root]))
        assert seen["next_sequence"] == self.next[root]

    @rule(i=st.integers(0, 2), amount=st.integers(1, 20))
    def withdraw(self, i, amount):
        root = self.roots[i]
        response, err = self.send(command("withdraw", root=root, sequence=self.next[root], amount=amount))
        if amount > self.balance[root]:
            assert err is not None and err.code() == grpc.StatusCode.FAILED_PRECONDITION
            return
        assert err is None, err
        self.balance[root] -= amount
        self.next[root] += 1

    @rule(i=st.integers(0, 2), op=st.sampled_from(["empty_events", "nothing", "notification", "snapshot_only"]))
    def no_op(self, i, op):
        root = self.roots[i]
        response, err = self.send(command(op, root=root, sequence=self.next[root]))
        assert err is None and list(response.events.pages) == [] and response.events.next_sequence == self.next[root]

    @rule(i=st.integers(0, 2), amount=st.integers(1, 9))
    def echo(self, i, amount):
        root = self.roots[i]
        response, err = self.send(command("echo", root=root, sequence=self.next[root], amount=amount))
        assert err is None, err
        assert [p.header.sequence for p in response.events.pages] == [self.next[root]]
        self.balance[root] += amount
        self.next[root] += 1

    @rule(i=st.integers(0, 2), key=st.sampled_from(["a", "b", "c"]), pages=st.integers(1, 3))
    def fact(self, i, key, pages):
        root = self.roots[i]
        book = types_pb2.EventBook(cover=cover("bank", root))
        for n in range(pages):
            page = book.pages.add()
            page.event.CopyFrom(struct_any(event="noted", n=n))
            if n == 0:
                page.header.external_deferred.external_id = key
        response = self.harness.commands.HandleEvent(types_pb2.EventRequest(events=book))
        if (root, key) in self.facts:
            assert response.already_processed
            assert response.events.pages[0].header.sequence == self.facts[(root, key)]
            return
        assert not response.already_processed
        assert [p.header.sequence for p in response.events.pages] == list(range(self.next[root], self.next[root] + pages))
        self.facts[(root, key)] = self.next[root]
        self.next[root] += pages

    @rule()
    def lose_the_cache(self):
        async def clear():
            for coordinator in self.harness.coordinators:
                for root in self.roots:
                    from angzarr_coordinator.store.base import AggregateKey

                    coordinator.cache.discard(AggregateKey("bank", root))

        self.harness.run(clear())

    @invariant()
    def store_matches_the_model(self):
        for root in self.roots:
            book = self.harness.queries.GetEventBook(aggregate_query("bank", root))
            assert [p.header.sequence for p in book.pages] == list(range(self.next[root]))
            assert book.next_sequence == self.next[root]
            tag = uuid.uuid4().hex
            speculative = self.harness.commands.HandleSyncSpeculative(
                command_handler_pb2.SpeculateCommandHandlerRequest(
                    command=command(root=root, amount=0.5, tag=tag).command
                )
            )
            assert speculative.events.pages[0].header.sequence == self.next[root]
            assert struct_of(speculative.events.pages[0].event)["balance"] == self.balance[root] + 0.5
            # What the handler was shown: a snapshot (if any) and exactly the pages after it.
            seen = self.service.calls(tag)[0]
            first = 0 if seen["snapshot_sequence"] is None else seen["snapshot_sequence"] + 1
            assert seen["page_sequences"] == list(range(first, self.next[root]))
            assert seen["next_sequence"] == self.next[root]
        assert len(self.harness.dead_letters()) == self.dead_letters


def test_pipeline_matches_its_model(tmp_path, bank_service):
    harness = CoordinatorHarness(tmp_path / "m.db", bank_topology(str(bank_service.socket)), tmp_path / "m.sock")
    try:
        PipelineModel.harness = harness
        PipelineModel.service = bank_service
        runner = PipelineModel.TestCase
        runner.settings = settings(
            max_examples=15, stateful_step_count=20, deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        runner().runTest()
    finally:
        harness.close()
