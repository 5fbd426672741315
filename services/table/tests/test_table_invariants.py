"""Chip conservation at the table (M3, spec poker §1) under random command sequences; rebuild == live."""

from __future__ import annotations

import datetime as dt

from hypothesis import event, given, settings
from hypothesis import strategies as st

from angzarr_client import CommandRejectedError, decode_event, pack
from angzarr_client.testing import build_event_book, uuid_for
from poker_contracts import table_pb2 as pb
from poker_contracts.poker_types_pb2 import TEXAS_HOLDEM
from poker_rules.roots import poker_root
from table import Table

T_ROOT = poker_root("table", "property")
PLAYERS = [uuid_for(f"player {n}").bytes for n in range(7)]
FIXED = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
MAX_PLAYERS = 6

players = st.sampled_from(PLAYERS)
# Weighted so that most runs seat several players and play a few hands.
actions = st.sampled_from(["join"] * 4 + ["start"] * 3 + ["end"] * 3 + ["leave", "sit_out", "sit_in"])


def end_hand_for(table: Table, data: st.DataObject) -> pb.EndHand:
    """Final stacks that usually redistribute the participants' chips, and sometimes do not balance."""
    participants = list(table.state.hand_players)
    total = sum(p.stack for p in participants)
    finals, left = [], total
    for _ in participants[:-1]:
        stack = data.draw(st.integers(min_value=0, max_value=left))
        finals.append(stack)
        left -= stack
    finals.append(left + data.draw(st.sampled_from([0, 0, 0, 1])))
    hand = table.state.current_hand_root or PLAYERS[0]
    return pb.EndHand(hand_root=hand, final_stacks=[
        pb.SeatSnapshot(position=p.position, player_root=p.player_root, stack=s) for p, s in zip(participants, finals)
    ])


def command_for(action: str, table: Table, data: st.DataObject):
    player = data.draw(players)
    if action == "join":
        return pb.JoinTable(player_root=player, preferred_seat=data.draw(st.sampled_from([-1, -1, 0, 3, MAX_PLAYERS - 1])),
                            buy_in_amount=data.draw(st.integers(150, 1100)))
    if action == "leave":
        return pb.LeaveTable(player_root=player)
    if action == "start":
        return pb.StartHand()
    if action == "end":
        return end_hand_for(table, data)
    return pb.PlayerSatOut(player_root=player) if action == "sit_out" else pb.PlayerSatIn(player_root=player)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_chips_are_conserved_and_rebuild_equals_live_state(data):
    live = Table(build_event_book([], domain="table", root=T_ROOT))
    live.clock = lambda: FIXED
    live.create(pb.CreateTable(table_name="P", game_variant=TEXAS_HOLDEM, small_blind=1, big_blind=10,
                               max_players=MAX_PLAYERS))
    bought_in = cashed_out = 0
    for action in data.draw(st.lists(actions, min_size=10, max_size=50)):
        before = len(live.new_events)
        try:
            live.dispatch(pack(command_for(action, live, data)))
        except CommandRejectedError:
            assert len(live.new_events) == before, "a rejection emits nothing"
            continue
        for page in live.new_events[before:]:
            if (joined := decode_event(page, pb.PlayerJoined)) is not None:
                bought_in += joined.buy_in_amount
            elif (left := decode_event(page, pb.PlayerLeft)) is not None:
                cashed_out += left.chips_cashed_out
        state = live.state
        assert sum(s.stack.amount for s in state.seats) + cashed_out == bought_in
        assert all(s.stack.amount >= 0 for s in state.seats)
        assert len({s.position for s in state.seats}) == len({s.player_root for s in state.seats}) == len(state.seats)
        assert all(0 <= s.position < MAX_PLAYERS for s in state.seats)
        assert (state.status == "in_hand") == bool(state.current_hand_root) == bool(state.hand_players)

    event(f"hands started: {min(live.state.hand_count, 3)}{'+' if live.state.hand_count >= 3 else ''}")
    pages = list(live.new_events)
    rebuilt = Table(build_event_book(pages, domain="table", root=T_ROOT))
    assert rebuilt.state == live.state
    # A snapshot at any point plus the events after it gives the same state too.
    cut = data.draw(st.integers(min_value=0, max_value=len(pages) - 1))
    at_cut = Table(build_event_book(pages[: cut + 1], domain="table", root=T_ROOT)).state
    resumed = Table(build_event_book(pages[cut + 1:], domain="table", root=T_ROOT, start_sequence=cut + 1,
                                     snapshot=(cut, at_cut)))
    assert resumed.state == live.state
