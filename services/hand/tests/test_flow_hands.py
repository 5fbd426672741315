"""``hand-flow`` (spec poker §6) driving whole hands against the real ``Hand`` aggregate.

A small in-memory loop stands in for the coordinator: each command's new hand events are delivered to
the process manager (through its router, with the process state it emitted so far) as one trigger
book; the PM's hand commands go back to the aggregate, and its ``RequestAction`` commands are answered
by a scripted bot. Every command the PM sends is recorded and checked against the decision table.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Callable

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from hand_harness import HAND_ROOT, P1, P2, A, B, C, HandUnderTest, cards, deal_cards
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from angzarr_client import Router, pack, unpack
from angzarr_client.ids import correlation_root
from angzarr_client.proto.angzarr import process_manager_pb2, types_pb2
from angzarr_client.testing import build_event_book, uuid_for
from angzarr_client.typeurl import type_name_from_url
from hand.flow import HandFlow, HandReplicas
from hand.state import rebuild
from poker_contracts import hand_pb2 as pb
from poker_contracts import player_pb2
from poker_contracts.poker_types_pb2 import (
    ALL_IN,
    BET,
    CALL,
    CHECK,
    DRAW,
    FIVE_CARD_DRAW,
    FLOP,
    FOLD,
    OMAHA,
    PREFLOP,
    RAISE,
    RIVER,
    TEXAS_HOLDEM,
    TURN,
)

Bot = Callable[[bytes, player_pb2.RequestAction], object]


def check_or_call(player: bytes, request: player_pb2.RequestAction):
    """Stand pat in the draw; otherwise check when possible, else call."""
    if request.is_draw:
        return pb.RequestDraw(player_root=player)
    action = CHECK if request.amount_to_call == 0 else CALL
    return pb.PlayerAction(player_root=player, action=action)


class Listener:
    def __init__(self) -> None:
        self.turns: list[tuple[bytes, int, str]] = []

    def turn_started(self, hand_root: bytes, state: pb.HandState) -> None:
        self.turns.append((hand_root, state.action_on_position, state.status))


class FlowLoop:
    """The hand, the PM and a bot, wired the way the coordinator wires them."""

    def __init__(self, hut: HandUnderTest, bot: Bot = check_or_call) -> None:
        self.hut = hut
        self.bot = bot
        self.listener = Listener()
        self.router = Router("hand-flow").with_handler(HandFlow(turn_listener=self.listener)).build()
        self.process = types_pb2.EventBook()
        self.delivered = 0
        self.log: list[tuple] = []  # (domain, command name, details)
        self.requests: list[tuple[bytes, player_pb2.RequestAction]] = []
        self.books: list[types_pb2.CommandBook] = []

    def replicas(self) -> HandReplicas:
        return HandFlow(self.process).state

    def deliver(self) -> list[types_pb2.CommandBook]:
        """Deliver the hand's undelivered events as one trigger book; return the PM's commands."""
        events = self.hut.history[self.delivered:]
        trigger = build_event_book(events, domain="hand", root=HAND_ROOT, start_sequence=self.delivered,
                                   correlation_id=self.hut.correlation_id)
        self.delivered = len(self.hut.history)
        request = process_manager_pb2.ProcessManagerHandleRequest(trigger=trigger, process_state=self.process)
        response = self.router.dispatch(request)
        assert [p.header.sequence for p in response.process_events.pages] == list(
            range(len(self.process.pages), len(self.process.pages) + len(events))
        )
        self.process.cover.CopyFrom(response.process_events.cover)
        self.process.pages.extend(response.process_events.pages)
        # The replica is the aggregate's own state, until the hand is complete and it is dropped.
        replicas = self.replicas().hands
        if self.hut.state.status == "complete":
            assert HAND_ROOT.bytes not in replicas
        else:
            assert replicas[HAND_ROOT.bytes] == self.hut.state
        return list(response.commands)

    def send(self, command) -> None:
        self.hut.now += dt.timedelta(seconds=1)
        self.hut.send(command)

    def run(self, first_command, *, limit: int = 200) -> None:
        """Send ``first_command`` to the hand, then let the PM and the bot play until quiet."""
        self.send(first_command)
        queue = deque(self.deliver())
        while queue:
            limit -= 1
            assert limit > 0, "the flow does not terminate"
            book = queue.popleft()
            self.books.append(book)
            assert book.cover.correlation_id == self.hut.correlation_id
            (page,) = book.pages
            name = type_name_from_url(page.command.type_url).rsplit(".", 1)[-1]
            if book.cover.domain == "player":
                request = unpack(page.command, player_pb2.RequestAction)
                player = book.cover.root.value
                self.requests.append((player, request))
                self.log.append(("player", name, player))
                self.send(self.bot(player, request))
            else:
                assert book.cover.domain == "hand" and book.cover.root.value == HAND_ROOT.bytes
                command = unpack(page.command, getattr(pb, name))
                self.log.append(("hand", name, _details(command)))
                self.send(command)
            queue.extend(self.deliver())


def _details(command) -> tuple:
    if isinstance(command, pb.PostBlind):
        return (command.player_root, command.blind_type, command.amount)
    if isinstance(command, pb.DealCommunityCards):
        return (command.count,)
    if isinstance(command, pb.RevealCards):
        return (command.player_root, command.muck)
    if isinstance(command, pb.AwardPot):
        return (len(command.awards),)
    return ()


def new_hand(players, **kw) -> tuple[HandUnderTest, pb.DealCards]:
    return HandUnderTest(), deal_cards(players, **kw)


def heads_up(p1_stack=500, p2_stack=500, **kw):
    return new_hand([(P1, 0, p1_stack), (P2, 1, p2_stack)], **kw)


def fields(request: player_pb2.RequestAction) -> tuple:
    return (request.amount_to_call, request.min_raise, request.max_raise, request.pot_size, request.phase,
            request.is_draw)


# -- whole hands ------------------------------------------------------------------------------------


def test_a_heads_up_hand_checked_down_to_showdown():
    hut, deal = heads_up()
    loop = FlowLoop(hut)
    loop.run(deal)
    assert loop.log == [
        ("hand", "PostBlind", (P1, "small", 5)),
        ("hand", "PostBlind", (P2, "big", 10)),
        ("player", "RequestAction", P1),          # preflop, the button/SB acts first
        ("player", "RequestAction", P2),          # P1 called; the BB may check
        ("hand", "DealCommunityCards", (3,)),
        ("player", "RequestAction", P2),          # flop: the BB acts first after the button
        ("player", "RequestAction", P1),
        ("hand", "DealCommunityCards", (1,)),
        ("player", "RequestAction", P2),
        ("player", "RequestAction", P1),
        ("hand", "DealCommunityCards", (1,)),
        ("player", "RequestAction", P2),
        ("player", "RequestAction", P1),
        ("hand", "RevealCards", (P2, False)),     # show order: clockwise after the button
        ("hand", "RevealCards", (P1, False)),
        ("hand", "AwardPot", (0,)),
    ]
    assert [fields(r) for _, r in loop.requests] == [
        (5, 20, 500, 15, PREFLOP, False),
        (0, 20, 500, 20, PREFLOP, False),       # max = all-in level: 10 in front + 490 behind
        (0, 10, 490, 20, FLOP, False),
        (0, 10, 490, 20, FLOP, False),
        (0, 10, 490, 20, TURN, False),
        (0, 10, 490, 20, TURN, False),
        (0, 10, 490, 20, RIVER, False),
        (0, 10, 490, 20, RIVER, False),
    ]
    assert hut.state.status == "complete"
    assert loop.replicas().hands == {}
    # P1's wheel beats P2's ace-high.
    assert {p.player_root: p.stack for p in hut.state.players} == {P1: 510, P2: 490}


def test_request_action_carries_the_players_cards_the_board_and_the_deadline():
    hut, deal = heads_up()
    loop = FlowLoop(hut)
    loop.run(deal)
    player, first = loop.requests[0]
    assert player == P1
    assert (first.hand_root, first.table_root) == (HAND_ROOT.bytes, hut.state.table_root)
    assert cards(first.hole_cards) == "3s 4c" and list(first.community_cards) == []
    assert first.timeout_seconds == 30
    # The deal, the small and the big blind happen 1, 2 and 3 s after T0 (one second per command here).
    assert first.deadline == _ts(3 + 30)
    player, flop = loop.requests[2]
    assert player == P2 and cards(flop.hole_cards) == "6c 7h" and cards(flop.community_cards) == "5c Kd Ad"


def _ts(seconds: int) -> Timestamp:
    from hand_harness import T0

    stamp = Timestamp()
    stamp.FromDatetime(T0 + dt.timedelta(seconds=seconds))
    return stamp


def test_a_fold_ends_the_hand_with_an_uncontested_award():
    hut, deal = heads_up()
    loop = FlowLoop(hut, bot=lambda player, request: pb.PlayerAction(player_root=player, action=FOLD))
    loop.run(deal)
    assert loop.log[-2:] == [("player", "RequestAction", P1), ("hand", "AwardPot", (0,))]
    assert [p.stack for p in hut.state.players] == [495, 505]
    assert hut.state.status == "complete"


def test_all_in_players_are_run_out_without_action_requests():
    """HE20/HE21: P1 all-in for 100, P2 calls; the board is dealt street by street, then showdown."""
    hut, deal = heads_up(p1_stack=100)

    def bot(player, request):
        return pb.PlayerAction(player_root=player, action=ALL_IN if player == P1 else CALL)

    loop = FlowLoop(hut, bot=bot)
    loop.run(deal)
    assert loop.log[2:] == [
        ("player", "RequestAction", P1),
        ("player", "RequestAction", P2),
        ("hand", "DealCommunityCards", (3,)),
        ("hand", "DealCommunityCards", (1,)),
        ("hand", "DealCommunityCards", (1,)),
        ("hand", "RevealCards", (P2, False)),
        ("hand", "RevealCards", (P1, False)),
        ("hand", "AwardPot", (0,)),
    ]
    # P2 faces the all-in: call 90, no raise possible (nobody else can act).
    assert fields(loop.requests[1][1]) == (90, 0, 0, 110, PREFLOP, False)
    assert {p.player_root: p.stack for p in hut.state.players} == {P1: 200, P2: 400}


def test_a_five_card_draw_hand_requests_draws_then_the_draw_betting_round():
    hut, deal = heads_up(variant=FIVE_CARD_DRAW)
    loop = FlowLoop(hut)
    loop.run(deal)
    draws = [(player, fields(r)) for player, r in loop.requests if r.is_draw]
    # Drawing starts with the first live player after the button; every amount is 0, phase DRAW.
    assert draws == [(P2, (0, 0, 0, 20, DRAW, True)), (P1, (0, 0, 0, 20, DRAW, True))]
    betting = [(player, r.phase) for player, r in loop.requests if not r.is_draw]
    assert betting == [(P1, PREFLOP), (P2, PREFLOP), (P2, DRAW), (P1, DRAW)]
    assert not any(entry[1] == "DealCommunityCards" for entry in loop.log)
    assert loop.log[-3:] == [("hand", "RevealCards", (P2, False)), ("hand", "RevealCards", (P1, False)),
                             ("hand", "AwardPot", (0,))]
    assert hut.state.status == "complete"


def test_pot_limit_caps_the_maximum_raise_at_pot_max():
    """HE32: Omaha HU+B, P1 to act: pot_max = 10 + 15 + 5 = 30."""
    hut, deal = heads_up(variant=OMAHA)
    loop = FlowLoop(hut, bot=lambda player, request: pb.PlayerAction(player_root=player, action=FOLD))
    loop.run(deal)
    assert fields(loop.requests[0][1]) == (5, 20, 30, 15, PREFLOP, False)
    assert len(loop.requests[0][1].hole_cards) == 4


def test_a_short_stack_may_only_raise_to_its_all_in_level():
    """P1 has 15: after the small blind the all-in level is 15, below min_to 20."""
    hut, deal = heads_up(p1_stack=15)
    loop = FlowLoop(hut, bot=lambda player, request: pb.PlayerAction(player_root=player, action=FOLD))
    loop.run(deal)
    assert fields(loop.requests[0][1]) == (5, 15, 15, 15, PREFLOP, False)


def test_a_short_all_in_does_not_reopen_the_raise_for_who_already_acted():
    """HE27: C raises to 30, A folds, B goes all-in for 45 (a 15 increment): C may only call or fold."""
    hut, deal = new_hand([(A, 0, 1000), (B, 2, 45), (C, 5, 1000)], dealer=5)
    script = {C: [pb.PlayerAction(player_root=C, action=RAISE, amount=30),
                  pb.PlayerAction(player_root=C, action=CALL)],
              A: [pb.PlayerAction(player_root=A, action=FOLD)],
              B: [pb.PlayerAction(player_root=B, action=ALL_IN)]}
    loop = FlowLoop(hut, bot=lambda player, request: script[player].pop(0) if script[player]
                    else check_or_call(player, request))
    loop.run(deal)
    (c_first, c_second) = [r for player, r in loop.requests if player == C][:2]
    assert fields(c_first) == (10, 20, 1000, 15, PREFLOP, False)
    assert fields(c_second) == (15, 0, 0, 80, PREFLOP, False)
    assert hut.state.status == "complete"


def test_the_turn_listener_hears_every_request_action():
    hut, deal = heads_up()
    loop = FlowLoop(hut)
    loop.run(deal)
    assert len(loop.listener.turns) == len(loop.requests)
    assert all(root == HAND_ROOT.bytes and status == "betting" for root, _, status in loop.listener.turns)
    assert [position for _, position, _ in loop.listener.turns] == [0, 1, 1, 0, 1, 0, 1, 0]


def test_a_timeout_moves_the_hand_on_like_the_default_action():
    """HE38 through the flow: P1 times out (FOLD owed), the pot goes to P2."""
    hut, deal = heads_up()
    loop = FlowLoop(hut, bot=lambda player, request: pb.TimeOutPlayer(player_root=player))
    hut.now -= dt.timedelta(seconds=100)  # every turn is long expired by the time the bot answers

    def late_send(command):
        hut.now += dt.timedelta(seconds=40)
        hut.send(command)

    loop.send = late_send
    loop.run(deal)
    names = [type(e).__name__ for e in hut.history]
    assert names[3:6] == ["PlayerTimedOut", "ActionTaken", "BettingRoundComplete"]
    assert loop.log[-2:] == [("player", "RequestAction", P1), ("hand", "AwardPot", (0,))]


# -- books and process events ------------------------------------------------------------------------


def test_each_hand_event_is_recorded_as_a_hand_flow_event():
    hut, deal = heads_up()
    loop = FlowLoop(hut)
    loop.run(deal)
    flow_events = [unpack(p.event, pb.HandFlowEvent) for p in loop.process.pages]
    assert len(flow_events) == len(hut.history)
    assert all(e.hand_root == HAND_ROOT.bytes for e in flow_events)
    assert [type_name_from_url(e.event.type_url) for e in flow_events] == [
        type(e).DESCRIPTOR.full_name for e in hut.history
    ]
    assert loop.process.cover.domain == "hand-flow"
    assert loop.process.cover.root.value == correlation_root(hut.correlation_id).bytes


def test_a_multi_page_book_is_decided_once_on_its_last_page():
    """The river check closes the round and starts the showdown in one book: one RevealCards."""
    hut, deal = heads_up()
    loop = FlowLoop(hut)
    loop.run(deal)
    last_check = max(i for i, e in enumerate(hut.history) if isinstance(e, pb.ActionTaken))
    assert [type(e).__name__ for e in hut.history[last_check:last_check + 3]] == [
        "ActionTaken", "BettingRoundComplete", "ShowdownStarted"
    ]
    reveals = [entry for entry in loop.log if entry[1] == "RevealCards"]
    assert reveals == [("hand", "RevealCards", (P2, False)), ("hand", "RevealCards", (P1, False))]


def test_commands_carry_provenance_of_the_last_page_of_the_trigger():
    hut, deal = heads_up()
    loop = FlowLoop(hut)
    loop.run(deal)
    for book in loop.books:
        deferred = book.pages[0].header.angzarr_deferred
        assert deferred.source.domain == "hand" and deferred.source.root.value == HAND_ROOT.bytes
    sources = [b.pages[0].header.angzarr_deferred.source_seq for b in loop.books]
    assert sources == sorted(sources) and len(set(sources)) == len(sources)


def test_two_hands_under_one_correlation_id_keep_separate_replicas():
    hut, deal = heads_up()
    loop = FlowLoop(hut)
    loop.send(deal)
    loop.deliver()
    second = HandUnderTest()
    second.send(deal_cards([(A, 2, 300), (B, 4, 300)], dealer=4, hand_number=2))
    other_root = b"\x01" * 16
    flow = HandFlow(loop.process)
    flow.emit(pb.HandFlowEvent(hand_root=other_root, event=pack(second.history[0])))
    assert flow.state.hands[HAND_ROOT.bytes] == rebuild(hut.history)
    assert flow.state.hands[other_root] == rebuild(second.history)
    assert flow.state.hands[other_root].hand_number == 2


@pytest.mark.parametrize("events", [[pb.PlayerTimedOut()], [pb.HandComplete()]])
def test_books_without_a_pending_decision_yield_no_commands(events):
    trigger = build_event_book(events, domain="hand", root=HAND_ROOT, correlation_id="c")
    router = Router("hand-flow").with_handler(HandFlow()).build()
    response = router.dispatch(process_manager_pb2.ProcessManagerHandleRequest(trigger=trigger))
    assert list(response.commands) == []
    assert len(response.process_events.pages) == 1


# -- property: the flow plays any hand to the end, and its requests describe legal actions ----------------

SEATS = st.lists(st.integers(min_value=0, max_value=9), min_size=2, max_size=6, unique=True)


def legal_answer(data, player: bytes, request: player_pb2.RequestAction):
    """An action the request says is legal, drawn by hypothesis; sometimes a timeout."""
    if data.draw(st.integers(min_value=0, max_value=19), label="timeout?") == 0:
        return pb.TimeOutPlayer(player_root=player)
    if request.is_draw:
        indices = data.draw(st.lists(st.integers(min_value=0, max_value=4), max_size=5, unique=True), label="draw")
        return pb.RequestDraw(player_root=player, card_indices=indices)
    choices = ["fold", "check_call"] + (["raise"] if request.max_raise > 0 else [])
    choice = data.draw(st.sampled_from(choices), label="action")
    if choice == "fold":
        return pb.PlayerAction(player_root=player, action=FOLD)
    if choice == "check_call":
        return pb.PlayerAction(player_root=player, action=CHECK if request.amount_to_call == 0 else CALL)
    assert 0 < request.min_raise <= request.max_raise
    # The bounds themselves are where a wrong field shows: try them as often as values between.
    amount = data.draw(st.sampled_from([request.min_raise, request.max_raise]) | st.integers(
        min_value=request.min_raise, max_value=request.max_raise), label="to")
    kind = BET if request.amount_to_call == 0 and request.phase != PREFLOP else RAISE
    return pb.PlayerAction(player_root=player, action=kind, amount=amount)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    variant=st.sampled_from([TEXAS_HOLDEM, OMAHA, FIVE_CARD_DRAW]),
    seats=SEATS,
    small_blind=st.integers(min_value=1, max_value=20),
)
def test_any_hand_runs_to_completion_with_only_accepted_commands(data, variant, seats, small_blind):
    seats = seats[:5] if variant == FIVE_CARD_DRAW else seats
    if len(seats) < 2:
        seats = [0, 1]
    big_blind = small_blind * 2
    stacks = data.draw(st.lists(st.integers(min_value=1, max_value=60 * big_blind), min_size=len(seats),
                                max_size=len(seats)), label="stacks")
    players = [(uuid_for(f"prop player {s}").bytes, s, stack) for s, stack in zip(seats, stacks, strict=True)]
    dealer = data.draw(st.sampled_from(seats), label="dealer")
    hut, deal = new_hand(players, variant=variant, dealer=dealer, sb=small_blind, bb=big_blind)

    def answer(player, request):
        reply = legal_answer(data, player, request)
        if isinstance(reply, pb.TimeOutPlayer):
            hut.now += dt.timedelta(seconds=request.timeout_seconds)
        return reply

    loop = FlowLoop(hut, bot=answer)
    loop.run(deal, limit=1000)  # HandUnderTest.send fails the test on any rejection
    assert hut.state.status == "complete"
    assert loop.replicas().hands == {}
    assert sum(p.stack for p in hut.state.players) == sum(stacks)
    for _, request in loop.requests:
        assert request.hand_root == HAND_ROOT.bytes
        if request.is_draw:
            assert (request.amount_to_call, request.min_raise, request.max_raise, request.phase) == (0, 0, 0, DRAW)
