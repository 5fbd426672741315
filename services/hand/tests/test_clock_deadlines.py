"""The action clock (spec poker §6 "Timeouts") with a fake time source.

The coordinator is stood in for by a small in-memory stub behind the real ``QueryClient`` and
``CommandHandlerClient``: it serves each hand's committed history and runs commands on the real
``Hand`` aggregate with the same fake "now", so the aggregate itself accepts or refuses each
``TimeOutPlayer`` exactly as it would in production.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import deque

import grpc
import pytest
from hand_harness import CID, HAND_ROOT, P1, P2, T0, HandUnderTest, deal_cards, hu_blinds, hu_hand

from angzarr_client import Router
from angzarr_client.client import CommandHandlerClient, QueryClient
from angzarr_client.errors import CommandRejectedError
from angzarr_client.ids import proto_to_uuid, uuid_to_proto
from angzarr_client.proto.angzarr import command_handler_pb2, process_manager_pb2, types_pb2
from angzarr_client.retry import NoRetry
from angzarr_client.testing import build_event_book, rpc_error
from angzarr_client.typeurl import unpack
from hand.clock import ActionClock, Outcome, PendingTurn, Verdict, pending_turn, verdict
from hand.flow import HandFlow
from poker_contracts import hand_pb2 as pb
from poker_contracts import player_pb2
from poker_contracts.poker_types_pb2 import CALL, CHECK, FIVE_CARD_DRAW, FOLD

R = HAND_ROOT.bytes


class FakeTime:
    def __init__(self, start: dt.datetime) -> None:
        self.value = start

    def __call__(self) -> dt.datetime:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += dt.timedelta(seconds=seconds)


class FakeCoordinator:
    """Hands by root; queries return their history, commands run on the real aggregate at ``time()``."""

    def __init__(self, time: FakeTime) -> None:
        self.time = time
        self.hands: dict[bytes, HandUnderTest] = {}
        self.commands: list[types_pb2.CommandBook] = []
        self.down = False
        self.lock = threading.Lock()

    def _check_up(self) -> None:
        if self.down:
            raise rpc_error(grpc.StatusCode.UNAVAILABLE, "coordinator is down")

    # EventQueryService
    def GetEventBook(self, request, timeout=None, metadata=None):
        self._check_up()
        root = proto_to_uuid(request.cover.root).bytes
        hut = self.hands.get(root)
        if hut is None:
            return types_pb2.EventBook()
        return build_event_book(hut.history, domain="hand", root=proto_to_uuid(request.cover.root),
                                correlation_id=hut.correlation_id)

    def GetAggregateRoots(self, request, timeout=None, metadata=None):
        self._check_up()
        other = types_pb2.AggregateRoot(domain="player", root=uuid_to_proto(b"\x07" * 16))
        return [other] + [types_pb2.AggregateRoot(domain="hand", root=uuid_to_proto(root)) for root in self.hands]

    # CommandHandlerCoordinatorService
    def HandleCommand(self, request, timeout=None, metadata=None):
        self._check_up()
        book = request.command
        with self.lock:
            self.commands.append(book)
        hut = self.hands[proto_to_uuid(book.cover.root).bytes]
        command = unpack(book.pages[0].command, pb.TimeOutPlayer)
        try:
            hut.send(command, correlation_id=book.cover.correlation_id, at=self.time())
        except CommandRejectedError as exc:
            raise rpc_error(grpc.StatusCode.FAILED_PRECONDITION, str(exc)) from None
        return command_handler_pb2.CommandResponse()


@pytest.fixture
def time() -> FakeTime:
    return FakeTime(T0)


@pytest.fixture
def coordinator(time) -> FakeCoordinator:
    return FakeCoordinator(time)


@pytest.fixture
def clock(coordinator, time) -> ActionClock:
    return ActionClock(QueryClient.from_stub(coordinator, retry=NoRetry()),
                       CommandHandlerClient.from_stub(coordinator, retry=NoRetry()), now=time)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def started(hut: HandUnderTest, coordinator: FakeCoordinator) -> HandUnderTest:
    coordinator.hands[R] = hut
    return hut


def timed_out(hut: HandUnderTest) -> list[pb.PlayerTimedOut]:
    return [e for e in hut.history if isinstance(e, pb.PlayerTimedOut)]


# -- pure decisions -----------------------------------------------------------------------------------


def test_a_hand_waiting_on_a_bet_has_a_pending_turn():
    turn = pending_turn(R, hu_blinds().state)
    assert turn == PendingTurn(hand_root=R, correlation_id=CID, player_root=P1, position=0,
                               turn_started_at=T0, deadline=at(30))


def test_hands_not_waiting_on_a_player_have_no_pending_turn(he21):
    assert pending_turn(R, hu_hand().state) is None  # blinds
    assert pending_turn(R, he21.state) is None  # showdown
    hut = hu_blinds()
    hut.act(P1, CALL)
    hut.act(P2, CHECK)
    assert pending_turn(R, hut.state) is None  # dealing


def test_a_draw_is_a_pending_turn():
    hut = hu_blinds(variant=FIVE_CARD_DRAW)
    hut.act(P1, CALL)
    hut.now = at(4)
    hut.act(P2, CHECK)
    turn = pending_turn(R, hut.state)
    assert (turn.player_root, turn.deadline) == (P2, at(34))


def test_verdicts():
    turn = pending_turn(R, hu_blinds().state)
    other = PendingTurn(R, CID, P2, 1, at(5), at(35))
    assert verdict(turn, None, at(100)) is Verdict.FORGET
    assert verdict(turn, turn, at(29)) is Verdict.RESCHEDULE
    assert verdict(turn, turn, at(30)) is Verdict.FIRE
    assert verdict(turn, other, at(100)) is Verdict.RESCHEDULE


# -- firing against committed state ---------------------------------------------------------------------


def test_a_due_deadline_times_the_player_out(clock, coordinator, time):
    """HE38 through the clock: P1 owes 5, so the hand records FOLD."""
    hut = started(hu_blinds(), coordinator)
    clock.turn_started(R, hut.state)
    assert clock.deadlines() == {R: at(30)}
    time.value = at(29.9)
    assert clock.run_due() == {}
    time.value = at(30)
    assert clock.run_due() == {R: Outcome.TIMED_OUT}
    assert [e.default_action for e in timed_out(hut)] == [FOLD]
    (sent,) = coordinator.commands
    assert (sent.cover.domain, sent.cover.correlation_id) == ("hand", CID)
    assert unpack(sent.pages[0].command, pb.TimeOutPlayer).player_root == P1
    assert sent.pages[0].header.sequence == 3  # the next sequence of the committed history
    assert clock.deadlines() == {}  # the fold ended the hand's betting: nothing pending


def test_after_a_timeout_the_clock_follows_the_next_turn_without_a_hint(clock, coordinator, time):
    """HE39: P1 called at t1; P2 then times out with CHECK (nothing owed)."""
    hut = started(hu_blinds(), coordinator)
    hut.now = at(10)
    hut.act(P1, CALL)
    clock.turn_started(R, hut.state)
    assert clock.deadlines() == {R: at(40)}
    time.value = at(40)
    assert clock.run_due() == {R: Outcome.TIMED_OUT}
    assert [e.default_action for e in timed_out(hut)] == [CHECK]
    assert hut.state.status == "dealing"
    assert clock.deadlines() == {}


def test_a_stale_deadline_is_rescheduled_from_the_committed_turn(clock, coordinator, time):
    hut = started(hu_blinds(), coordinator)
    clock.turn_started(R, hut.state)
    hut.now = at(20)
    hut.act(P1, CALL)  # P1 acted in time; the hint for P2's turn was lost
    time.value = at(31)
    assert clock.run_due() == {R: Outcome.RESCHEDULED}
    assert coordinator.commands == []
    assert clock.deadlines() == {R: at(50)}
    time.value = at(50)
    assert clock.run_due() == {R: Outcome.TIMED_OUT}
    assert [e.player_root for e in timed_out(hut)] == [P2]


def test_a_hand_with_nothing_pending_is_forgotten(clock, coordinator, time):
    hut = started(hu_blinds(), coordinator)
    clock.turn_started(R, hut.state)
    hut.act(P1, FOLD)
    time.value = at(30)
    assert clock.run_due() == {R: Outcome.FORGOTTEN}
    assert clock.deadlines() == {} and coordinator.commands == []


def test_an_early_deadline_against_a_later_committed_one_waits(clock, coordinator, time):
    hut = started(hu_blinds(), coordinator)
    turn = pending_turn(R, hut.state)
    clock.schedule(turn, due=at(10))  # e.g. a hint computed with a shorter timeout
    time.value = at(10)
    assert clock.run_due() == {R: Outcome.RESCHEDULED}
    assert clock.deadlines() == {R: at(30)}
    assert coordinator.commands == []


def test_not_expired_is_retried_once_a_second_later(clock, coordinator, time):
    """Our clock runs ahead of the aggregate's: the aggregate refuses, the clock retries once 1 s later."""
    hut = started(hu_blinds(), coordinator)
    clock.turn_started(R, hut.state)
    time.value = at(30)
    coordinator.time = FakeTime(at(29.5))  # the aggregate's "now" lags half a second
    assert clock.run_due() == {R: Outcome.RETRYING}
    assert clock.deadlines() == {R: at(31)}
    time.value = at(31)
    coordinator.time = FakeTime(at(30.5))
    assert clock.run_due() == {R: Outcome.TIMED_OUT}
    assert len(coordinator.commands) == 2 and len(timed_out(hut)) == 1


def test_a_second_not_expired_refusal_gives_the_turn_up(clock, coordinator, time):
    hut = started(hu_blinds(), coordinator)
    clock.turn_started(R, hut.state)
    coordinator.time = FakeTime(at(0))  # the aggregate's clock is far behind
    time.value = at(30)
    assert clock.run_due() == {R: Outcome.RETRYING}
    time.value = at(31)
    assert clock.run_due() == {R: Outcome.REFUSED}
    assert clock.deadlines() == {}
    time.value = at(100)
    assert clock.run_due() == {}
    assert len(coordinator.commands) == 2 and timed_out(hut) == []


def test_an_unreachable_coordinator_is_retried_later(clock, coordinator, time):
    hut = started(hu_blinds(), coordinator)
    clock.turn_started(R, hut.state)
    coordinator.down = True
    time.value = at(30)
    assert clock.run_due() == {R: Outcome.UNREACHABLE}
    assert clock.deadlines() == {R: at(31)}
    coordinator.down = False
    time.value = at(31)
    assert clock.run_due() == {R: Outcome.TIMED_OUT}
    assert len(timed_out(hut)) == 1


def test_a_hint_for_the_scheduled_turn_keeps_its_retry_state(clock, coordinator, time):
    hut = started(hu_blinds(), coordinator)
    clock.turn_started(R, hut.state)
    coordinator.time = FakeTime(at(0))
    time.value = at(30)
    clock.run_due()
    clock.turn_started(R, hut.state)  # a redelivered hint for the same turn
    assert clock.deadlines() == {R: at(31)}


def test_a_hint_for_a_new_turn_replaces_the_deadline(clock, coordinator):
    hut = started(hu_blinds(), coordinator)
    clock.turn_started(R, hut.state)
    hut.now = at(12)
    hut.act(P1, CALL)
    clock.turn_started(R, hut.state)
    assert clock.deadlines() == {R: at(42)}
    assert clock.next_due() == at(42)


def test_a_time_out_under_the_hand_correlation_id_even_when_the_hint_had_none(clock, coordinator, time):
    hut = started(hu_blinds(), coordinator)
    replica = hut.state
    replica.correlation_id = ""
    clock.turn_started(R, replica)
    time.value = at(30)
    assert clock.run_due() == {R: Outcome.TIMED_OUT}
    assert coordinator.commands[0].cover.correlation_id == CID


# -- start-up scan and the background thread -------------------------------------------------------------


def test_the_start_up_scan_schedules_every_hand_waiting_on_a_player(clock, coordinator):
    waiting = hu_blinds()
    other_root = b"\x02" * 16
    coordinator.hands = {R: waiting, other_root: hu_hand()}
    assert clock.scan() == 1
    assert clock.deadlines() == {R: at(30)}
    assert clock.scanned.is_set()


def test_the_scan_raises_while_the_coordinator_is_down(clock, coordinator):
    from angzarr_client.errors import GRPCError

    coordinator.down = True
    with pytest.raises(GRPCError):
        clock.scan()
    assert not clock.scanned.is_set()


def test_the_background_thread_scans_once_the_coordinator_answers_and_fires_past_deadlines(coordinator, time):
    hut = started(hu_blinds(), coordinator)
    time.value = at(3600)  # the service restarted long after the deadline
    coordinator.down = True
    done = threading.Event()
    original = coordinator.HandleCommand

    def handle(request, timeout=None, metadata=None):
        try:
            return original(request, timeout, metadata)
        finally:
            done.set()

    coordinator.HandleCommand = handle
    clock = ActionClock(QueryClient.from_stub(coordinator, retry=NoRetry()),
                        CommandHandlerClient.from_stub(coordinator, retry=NoRetry()), now=time)
    clock.start()
    try:
        coordinator.down = False  # the scan keeps retrying until now
        assert done.wait(timeout=30), "the clock never sent TimeOutPlayer"
    finally:
        clock.stop()
    assert clock.scanned.is_set()
    assert [e.player_root for e in timed_out(hut)] == [P1]


def test_default_clients_are_created_lazily_from_the_hand_endpoint(monkeypatch):
    monkeypatch.setenv("ANGZARR_MODE", "standalone")
    monkeypatch.setenv("ANGZARR_UDS_BASE", "/nonexistent-angzarr-test")
    clock = ActionClock(now=lambda: T0)  # building it does no I/O
    assert clock._query is None
    query = clock._query_client()
    assert query.endpoint.endswith("/nonexistent-angzarr-test/ch-hand.sock")
    clock.close()


# -- with the process manager: a silent player is timed out turn after turn (spec §8 "Timeout run") ------


def test_a_silent_player_is_timed_out_on_every_turn_and_the_hand_completes(clock, coordinator, time):



    hut = HandUnderTest(now=time.value)
    coordinator.hands[R] = hut
    router = Router("hand-flow").with_handler(HandFlow(turn_listener=clock)).build()
    process = types_pb2.EventBook()
    delivered = 0

    def deliver() -> list[types_pb2.CommandBook]:
        nonlocal delivered
        trigger = build_event_book(hut.history[delivered:], domain="hand", root=HAND_ROOT,
                                   start_sequence=delivered, correlation_id=CID)
        delivered = len(hut.history)
        reply = router.dispatch(process_manager_pb2.ProcessManagerHandleRequest(trigger=trigger,
                                                                                process_state=process))
        process.cover.CopyFrom(reply.process_events.cover)
        process.pages.extend(reply.process_events.pages)
        return list(reply.commands)

    def send(command) -> list[types_pb2.CommandBook]:
        time.advance(1)
        hut.now = time.value
        hut.send(command)
        return deliver()

    pending = deque(send(deal_cards([(P1, 0, 500), (P2, 1, 500)])))
    outcomes = []
    while hut.state.status != "complete":
        while pending:
            book = pending.popleft()
            if book.cover.domain == "player":
                request = unpack(book.pages[0].command, player_pb2.RequestAction)
                if book.cover.root.value == P1:  # P1 answers at once: check or call
                    action = CHECK if request.amount_to_call == 0 else CALL
                    pending.extend(send(pb.PlayerAction(player_root=P1, action=action)))
                continue  # P2 never answers
            name = book.pages[0].command.type_url.rsplit(".", 1)[-1]
            pending.extend(send(unpack(book.pages[0].command, getattr(pb, name))))
        if hut.state.status == "complete":
            break
        due = clock.next_due()
        assert due is not None, "a hand waiting on a silent player has no deadline"
        assert due == pending_turn(R, hut.state).deadline
        time.value = due
        outcomes.extend(clock.run_due().values())
        pending.extend(deliver())
    # P2 timed out once per betting round (checking every time, as nothing was owed), and never P1.
    assert [(e.player_root, e.default_action) for e in timed_out(hut)] == [(P2, CHECK)] * 4
    assert outcomes == [Outcome.TIMED_OUT] * 4
    # P1's last turn (answered in time) left a deadline behind: when it comes, the committed hand says
    # nothing is pending, and the clock forgets the hand without sending anything.
    sent = len(coordinator.commands)
    time.value = max(clock.deadlines().values())
    assert list(clock.run_due().values()) == [Outcome.FORGOTTEN]
    assert clock.deadlines() == {} and len(coordinator.commands) == sent
